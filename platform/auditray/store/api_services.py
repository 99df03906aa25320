"""State changes the API adds to the store: file requests to the client and evidence attachments.

Same rules as ``auditray.store.services``: the caller's session, no commit, one audit event per change
in the same transaction, rows found only within their tenant, finalized engagements refused.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError
from sqlmodel import Session, select

from auditray import audit_trail
from auditray.store.auth_models import Attachment, DataRequest, DataRequestStatus
from auditray.store.exceptions import EngagementFinalized, NotFound, StoreError
from auditray.store.models import Dataset, Engagement, EngagementState
from auditray.store.services import Actor, get_engagement
from auditray.store.types import utc_now


def open_engagement(session: Session, engagement_id: int, *, org_id: int) -> Engagement:
    """The engagement, locked, unless it is finalized (then EngagementFinalized)."""
    engagement = get_engagement(session, engagement_id, org_id=org_id, for_update=True)
    if engagement.state == EngagementState.finalized:
        raise EngagementFinalized(f"engagement {engagement.id} ({engagement.name}) is finalized and read-only")
    return engagement


# --- File requests (the "prepared by client" list) ---------------------------------------------------


def create_request(session: Session, *, engagement_id: int, org_id: int, kind: str, description: str,
                   actor: Actor) -> DataRequest:
    audit_trail.lock_chain(session)
    open_engagement(session, engagement_id, org_id=org_id)
    request = DataRequest(org_id=org_id, engagement_id=engagement_id, kind=kind, description=description,
                          requested_by=audit_trail.actor_name(actor))
    session.add(request)
    session.flush()
    audit_trail.record(session, actor=actor, action="request.create", resource_type="data_request",
                       resource_id=request.id, org_id=org_id,
                       details={"engagement_id": engagement_id, "kind": kind, "description": description})
    return request


def get_request(session: Session, request_id: int, *, org_id: int, engagement_id: int) -> DataRequest:
    request = session.exec(select(DataRequest).where(DataRequest.id == request_id, DataRequest.org_id == org_id,
                                                     DataRequest.engagement_id == engagement_id)).first()
    if request is None:
        raise NotFound(f"file request {request_id} not found")
    return request


def list_requests(session: Session, *, engagement_id: int, org_id: int,
                  status: DataRequestStatus | None = None) -> list[DataRequest]:
    query = select(DataRequest).where(DataRequest.org_id == org_id, DataRequest.engagement_id == engagement_id)
    if status is not None:
        query = query.where(DataRequest.status == status)
    return list(session.exec(query.order_by(DataRequest.id)).all())


def fulfil_request(session: Session, *, request_id: int, engagement_id: int, org_id: int, dataset: Dataset,
                   actor: Actor) -> DataRequest:
    audit_trail.lock_chain(session)
    open_engagement(session, engagement_id, org_id=org_id)
    request = get_request(session, request_id, org_id=org_id, engagement_id=engagement_id)
    if request.status != DataRequestStatus.open:
        raise StoreError(f"file request {request_id} is {request.status}, not open")
    request.status, request.dataset_id = DataRequestStatus.received, dataset.id
    request.fulfilled_by, request.fulfilled_at = audit_trail.actor_name(actor), utc_now()
    session.add(request)
    session.flush()
    audit_trail.record(session, actor=actor, action="request.fulfil", resource_type="data_request",
                       resource_id=request.id, org_id=org_id,
                       details={"engagement_id": engagement_id, "dataset_id": dataset.id,
                                "content_sha256": dataset.content_sha256})
    return request


def cancel_request(session: Session, *, request_id: int, engagement_id: int, org_id: int,
                   actor: Actor) -> DataRequest:
    audit_trail.lock_chain(session)
    open_engagement(session, engagement_id, org_id=org_id)
    request = get_request(session, request_id, org_id=org_id, engagement_id=engagement_id)
    if request.status != DataRequestStatus.open:
        raise StoreError(f"file request {request_id} is {request.status}, not open")
    request.status = DataRequestStatus.cancelled
    session.add(request)
    session.flush()
    audit_trail.record(session, actor=actor, action="request.cancel", resource_type="data_request",
                       resource_id=request.id, org_id=org_id, details={"engagement_id": engagement_id})
    return request


# --- Evidence attachments ---------------------------------------------------------------------------


def attachments_dir(data_dir: Path, org_id: int) -> Path:
    return data_dir / "attachments" / f"org-{org_id}"


def store_attachment(session: Session, *, org_id: int, engagement_id: int, file_name: str,
                     content_type: str | None, stream: BinaryIO, data_dir: Path, actor: Actor,
                     max_bytes: int) -> Attachment:
    """Save the file under its SHA-256 (written to a temp name, then renamed) and register it, audited."""
    audit_trail.lock_chain(session)
    open_engagement(session, engagement_id, org_id=org_id)
    folder = attachments_dir(data_dir, org_id)
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".upload-{uuid.uuid4().hex}"
    digest, size = hashlib.sha256(), 0
    try:
        with staging.open("wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    raise StoreError(f"{file_name}: attachments are limited to {max_bytes:,} bytes")
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        final = folder / sha
        os.replace(staging, final)
    finally:
        staging.unlink(missing_ok=True)
    attachment = Attachment(org_id=org_id, engagement_id=engagement_id, file_name=Path(file_name).name[:500],
                            content_type=(content_type or None) and content_type[:200], size_bytes=size, sha256=sha,
                            uri=str(final), created_by=audit_trail.actor_name(actor))
    session.add(attachment)
    session.flush()
    audit_trail.record(session, actor=actor, action="attachment.upload", resource_type="attachment",
                       resource_id=attachment.id, org_id=org_id,
                       details={"engagement_id": engagement_id, "file_name": attachment.file_name,
                                "sha256": sha, "size_bytes": size})
    return attachment


def get_attachment(session: Session, attachment_id: int, *, org_id: int) -> Attachment:
    row = session.exec(select(Attachment).where(Attachment.id == attachment_id, Attachment.org_id == org_id)).first()
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return row


# --- Engagement edits the core services do not cover -------------------------------------------------


def update_engagement(session: Session, *, engagement_id: int, org_id: int, actor: Actor,
                      changes: dict) -> Engagement:
    """Edit names or materiality of an open engagement; the trail keeps both values of each change."""
    from auditray.store.models import EngagementCreate
    from auditray.store.types import to_money

    audit_trail.lock_chain(session)
    engagement = open_engagement(session, engagement_id, org_id=org_id)
    allowed = {"client_name", "name", "materiality", "performance_materiality"}
    unknown = set(changes) - allowed
    if unknown:
        raise StoreError(f"cannot change {', '.join(sorted(unknown))} of an engagement")
    before = {key: getattr(engagement, key) for key in changes}
    merged = {**engagement.model_dump(include={"client_name", "name", "fiscal_year", "period_start", "period_end",
                                               "materiality", "performance_materiality"}), **changes}
    try:
        EngagementCreate.model_validate(merged)  # the same consistency rules as at creation (PM <= materiality)
    except ValidationError as error:
        raise ValueError("; ".join(e["msg"] for e in error.errors())) from None
    for key, value in changes.items():
        setattr(engagement, key, to_money(value) if key.endswith("materiality") else value)
    engagement.updated_at = utc_now()
    session.add(engagement)
    session.flush()
    diff = {key: {"from": before[key], "to": getattr(engagement, key)} for key in changes
            if before[key] != getattr(engagement, key)}
    if diff:
        audit_trail.record(session, actor=actor, action="engagement.update", resource_type="engagement",
                           resource_id=engagement.id, org_id=org_id, details={"changes": diff})
    return engagement


def delete_engagement(session: Session, *, engagement_id: int, org_id: int, actor: Actor) -> None:
    """Delete an engagement opened by mistake: only in planning, with no datasets, runs or requests.

    Anything with evidence in it is kept: audit documentation is retained, not deleted (AS 1215.14).
    """
    from auditray.store.models import EngagementMember, JobRun

    audit_trail.lock_chain(session)
    engagement = get_engagement(session, engagement_id, org_id=org_id, for_update=True)
    if engagement.state != EngagementState.planning:
        raise StoreError(f"engagement {engagement_id} is in {engagement.state}; only an engagement still in "
                         "planning, with no evidence, can be deleted")
    for table, label in ((Dataset, "datasets"), (JobRun, "runs"), (DataRequest, "file requests"),
                         (Attachment, "attachments")):
        if session.exec(select(table.id).where(table.engagement_id == engagement_id)).first() is not None:
            raise StoreError(f"engagement {engagement_id} already has {label}; it is kept as evidence")
    for member in session.exec(select(EngagementMember).where(EngagementMember.engagement_id == engagement_id)):
        session.delete(member)
    session.flush()
    details = {"client_name": engagement.client_name, "name": engagement.name}
    session.delete(engagement)
    session.flush()
    audit_trail.record(session, actor=actor, action="engagement.delete", resource_type="engagement",
                       resource_id=engagement_id, org_id=org_id, details=details)


def remove_member(session: Session, *, engagement_id: int, user_id: int, org_id: int, actor: Actor) -> None:
    from auditray.store.models import EngagementMember

    audit_trail.lock_chain(session)
    open_engagement(session, engagement_id, org_id=org_id)
    member = session.exec(select(EngagementMember).where(EngagementMember.engagement_id == engagement_id,
                                                         EngagementMember.user_id == user_id,
                                                         EngagementMember.org_id == org_id)).first()
    if member is None:
        raise NotFound(f"user {user_id} is not on the team of engagement {engagement_id}")
    details = {"member_id": member.id, "user_id": user_id, "team_role": member.team_role}
    session.delete(member)
    session.flush()
    audit_trail.record(session, actor=actor, action="engagement.member_remove", resource_type="engagement",
                       resource_id=engagement_id, org_id=org_id, details=details)
