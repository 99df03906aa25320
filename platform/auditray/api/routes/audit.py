"""The audit trail of the caller's organization: filter, page, verify, and the head to publish."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from auditray import audit_trail
from auditray.api.deps import CurrentPrincipal, State, require
from auditray.api.errors import ApiError, ErrorResponse
from auditray.api.schemas import AuditEventOut, AuditVerification, ChainHeadOut, Limit, Offset, Page
from auditray.store.models import AuditEvent

router = APIRouter(tags=["audit trail"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}
_ACTION = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$"


def count_events(session, *, org_id: int, action: str | None, resource_type: str | None, resource_id: str | None,
           actor: str | None, since: datetime | None, until: datetime | None) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.org_id == org_id)
    if action is not None:
        query = query.where(AuditEvent.action.startswith(action[:-1], autoescape=True) if action.endswith(".*")
                            else AuditEvent.action == action)
    if resource_type is not None:
        query = query.where(AuditEvent.resource_type == resource_type)
    if resource_id is not None:
        query = query.where(AuditEvent.resource_id == resource_id)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return session.execute(query).scalar_one()


@router.get("/audit/events", response_model=Page[AuditEventOut], responses=_ERRORS)
def list_events(
    principal: CurrentPrincipal,
    state: State,
    action: Annotated[str | None, Query(max_length=64, pattern=_ACTION,
                                        description="An action (dataset.register) or a family (run.*)")] = None,
    resource_type: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$")] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=320)] = None,
    since: Annotated[datetime | None, Query(description="Inclusive, ISO 8601 with a time zone")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive, ISO 8601 with a time zone")] = None,
    newest_first: bool = False,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[AuditEventOut]:
    """Your organization's events in chain order, filtered and paged (partners, managers, QC, admins)."""
    require(principal, "audit.read")
    for name, instant in (("since", since), ("until", until)):
        if instant is not None and instant.utcoffset() is None:
            raise ApiError(422, "validation_error", f"{name} needs a time zone, e.g. 2025-01-31T00:00:00Z")
    resource = None
    if resource_type is not None:
        resource = (resource_type, resource_id)
    elif resource_id is not None:
        raise ApiError(422, "validation_error", "resource_id needs resource_type")
    with state.read() as session:
        events = audit_trail.events(session, org_id=principal.org_id, action=action, resource=resource,
                                    actor=actor, since=since, until=until, limit=limit, offset=offset,
                                    newest_first=newest_first)
        total = count_events(session, org_id=principal.org_id, action=action, resource_type=resource_type,
                       resource_id=resource_id, actor=actor, since=since, until=until)
        return Page(items=[AuditEventOut.model_validate(e) for e in events], total=total, offset=offset,
                    limit=limit)


@router.get("/audit/head", response_model=ChainHeadOut, responses=_ERRORS)
def chain_head(principal: CurrentPrincipal, state: State) -> ChainHeadOut:
    """The newest event's number and hash: keep it outside the system to detect later truncation."""
    require(principal, "audit.verify")
    with state.read() as session:
        head = audit_trail.head(session)
    if head is None:
        raise ApiError(404, "not_found", "the audit trail is empty")
    return ChainHeadOut(seq=head.seq, hash=head.hash)


@router.get("/audit/verify", response_model=AuditVerification, responses=_ERRORS)
def verify(
    principal: CurrentPrincipal,
    state: State,
    expected_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    expected_hash: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
) -> AuditVerification:
    """Re-derive every hash of the chain and name the first event edited, deleted or reordered.

    The chain is one for all tenants, so it is verified whole; a problem in another organization's event
    is reported by number only. With ``expected_seq`` and ``expected_hash`` (a head kept elsewhere) it also
    detects that the newest events were removed.
    """
    require(principal, "audit.verify")
    if (expected_seq is None) != (expected_hash is None):
        raise ApiError(422, "validation_error", "give both expected_seq and expected_hash, or neither")
    expected = audit_trail.ChainHead(seq=expected_seq, hash=expected_hash) if expected_seq else None
    with state.read() as session:
        result = audit_trail.verify(session, expected_head=expected)
        message = result.message
        if not result.ok and result.first_bad_seq is not None:
            owner = session.execute(select(AuditEvent.org_id).where(AuditEvent.seq == result.first_bad_seq)).first()
            if owner is not None and owner.org_id != principal.org_id:
                message = (f"the audit trail is broken at event {result.first_bad_seq} ({result.problem}); "
                           "that event belongs to another organization")
    return AuditVerification(ok=result.ok, count=result.count, message=message, first_bad_seq=result.first_bad_seq,
                             problem=result.problem)
