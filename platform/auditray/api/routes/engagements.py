"""Engagements: open, read, edit, move through their states, staff their teams, request client files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import select

from auditray import audit_trail
from auditray.api.deps import CurrentPrincipal, State, allowed_on, engagement_for, require
from auditray.api.errors import ApiError, ErrorResponse
from auditray.api.routes.audit import count_events
from auditray.api.schemas import (
    AuditEventOut,
    DataRequestOut,
    EngagementOut,
    EngagementStatus,
    EngagementSummary,
    EngagementUpdate,
    Id,
    Limit,
    MemberAdd,
    Offset,
    Page,
    RequestCreate,
    TeamMember,
    TransitionRequest,
)
from auditray.store import api_services
from auditray.store import services as svc
from auditray.store.auth_models import DataRequestStatus
from auditray.store.models import EngagementCreate, EngagementMember, EngagementState, Role, User

router = APIRouter(tags=["engagements"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
           409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}


@router.get("/engagements", response_model=Page[EngagementSummary], responses=_ERRORS)
def list_engagements(
    principal: CurrentPrincipal,
    state: State,
    offset: Offset = 0,
    limit: Limit = 100,
    engagement_state: Annotated[EngagementState | None, Query(alias="state")] = None,
) -> Page[EngagementSummary]:
    """The engagements you can see: the whole firm's for partners, managers and QC reviewers; your teams'
    for seniors and staff; your own for client contacts."""
    with state.read() as session:
        rows = svc.list_engagements(session, org_id=principal.org_id, state=engagement_state)
        visible = [e for e in rows if allowed_on(session, principal, e, "engagement.status")]
        page = visible[offset:offset + limit]
        return Page(items=[EngagementSummary.model_validate(e) for e in page], total=len(visible),
                    offset=offset, limit=limit)


@router.post("/engagements", response_model=EngagementOut, status_code=201, responses=_ERRORS)
def create_engagement(body: EngagementCreate, principal: CurrentPrincipal, state: State) -> EngagementOut:
    """Open an engagement in planning (partners and managers); its creator joins the team."""
    require(principal, "engagement.create")
    with state.write() as session:
        engagement = svc.create_engagement(session, body, org_id=principal.org_id, actor=principal.actor.email)
        svc.add_engagement_member(session, engagement_id=engagement.id, user_id=principal.user_id,
                                  org_id=principal.org_id, actor=principal.actor.email)
        return EngagementOut.model_validate(engagement)


@router.get("/engagements/{engagement_id}", response_model=EngagementOut, responses=_ERRORS)
def read_engagement(engagement_id: Id, principal: CurrentPrincipal, state: State) -> EngagementOut:
    with state.read() as session:
        return EngagementOut.model_validate(engagement_for(session, principal, engagement_id, "engagement.read"))


@router.patch("/engagements/{engagement_id}", response_model=EngagementOut, responses=_ERRORS)
def update_engagement(engagement_id: Id, body: EngagementUpdate, principal: CurrentPrincipal,
                      state: State) -> EngagementOut:
    """Edit the client name, engagement name or materiality (not once finalized)."""
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "engagement.update")
        changes = body.model_dump(exclude_none=True)
        try:
            engagement = api_services.update_engagement(session, engagement_id=engagement_id,
                                                        org_id=principal.org_id, actor=principal.actor.email,
                                                        changes=changes)
        except ValueError as error:
            raise ApiError(422, "validation_error", str(error)) from None
        return EngagementOut.model_validate(engagement)


@router.delete("/engagements/{engagement_id}", status_code=204, responses=_ERRORS)
def delete_engagement(engagement_id: Id, principal: CurrentPrincipal, state: State) -> None:
    """Delete an engagement opened by mistake: only in planning and before any evidence exists."""
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "engagement.delete")
        api_services.delete_engagement(session, engagement_id=engagement_id, org_id=principal.org_id,
                                       actor=principal.actor.email)


@router.post("/engagements/{engagement_id}/transition", response_model=EngagementOut, responses=_ERRORS)
def transition(engagement_id: Id, body: TransitionRequest, principal: CurrentPrincipal,
               state: State) -> EngagementOut:
    """planning -> fieldwork -> review -> finalized, or review -> fieldwork. Only a partner finalizes."""
    action = "engagement.finalize" if body.to_state == EngagementState.finalized else "engagement.transition"
    with state.write() as session:
        engagement_for(session, principal, engagement_id, action)
        engagement = svc.transition_engagement(session, engagement_id=engagement_id, to_state=body.to_state,
                                               org_id=principal.org_id, actor=principal.actor.email,
                                               reason=body.reason)
        return EngagementOut.model_validate(engagement)


@router.get("/engagements/{engagement_id}/status", response_model=EngagementStatus, responses=_ERRORS)
def engagement_status(engagement_id: Id, principal: CurrentPrincipal, state: State) -> EngagementStatus:
    """Where the engagement stands and what is still requested: the view a client contact gets."""
    with state.read() as session:
        engagement = engagement_for(session, principal, engagement_id, "engagement.status")
        requests = api_services.list_requests(session, engagement_id=engagement_id, org_id=principal.org_id)
        return EngagementStatus(engagement=EngagementSummary.model_validate(engagement),
                                requests=[DataRequestOut.model_validate(r) for r in requests],
                                open_requests=sum(r.status == DataRequestStatus.open for r in requests))


def _team(session, engagement_id: int, org_id: int) -> list[TeamMember]:
    rows = session.exec(
        select(EngagementMember, User).join(User, User.id == EngagementMember.user_id)
        .where(EngagementMember.engagement_id == engagement_id, EngagementMember.org_id == org_id)
        .order_by(EngagementMember.id)
    ).all()
    return [TeamMember(user_id=user.id, email=user.email, full_name=user.full_name, firm_role=user.role,
                       team_role=member.team_role, added_at=member.created_at) for member, user in rows]


@router.get("/engagements/{engagement_id}/team", response_model=list[TeamMember], responses=_ERRORS)
def team(engagement_id: Id, principal: CurrentPrincipal, state: State) -> list[TeamMember]:
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "engagement.read")
        return _team(session, engagement_id, principal.org_id)


@router.post("/engagements/{engagement_id}/team", response_model=list[TeamMember], status_code=201,
             responses=_ERRORS)
def add_member(engagement_id: Id, body: MemberAdd, principal: CurrentPrincipal, state: State) -> list[TeamMember]:
    """Put a user of the firm on the team (client contacts join their own engagement this way)."""
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "team.manage")
        user = svc.get_user(session, body.user_id, org_id=principal.org_id)
        team_role = body.team_role or user.role
        if (user.role == Role.client_contact) != (team_role == Role.client_contact):
            raise ApiError(422, "validation_error", "client contacts join a team only as client_contact, and "
                           "only client contacts do")
        svc.add_engagement_member(session, engagement_id=engagement_id, user_id=user.id, org_id=principal.org_id,
                                  actor=principal.actor.email, team_role=team_role)
        return _team(session, engagement_id, principal.org_id)


@router.delete("/engagements/{engagement_id}/team/{user_id}", status_code=204, responses=_ERRORS)
def remove_member(engagement_id: Id, user_id: Id, principal: CurrentPrincipal, state: State) -> None:
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "team.manage")
        api_services.remove_member(session, engagement_id=engagement_id, user_id=user_id, org_id=principal.org_id,
                                   actor=principal.actor.email)


@router.get("/engagements/{engagement_id}/history", response_model=Page[AuditEventOut], responses=_ERRORS)
def history(engagement_id: Id, principal: CurrentPrincipal, state: State, offset: Offset = 0,
            limit: Limit = 100) -> Page[AuditEventOut]:
    """The engagement's own audit-trail events (state changes, team changes), oldest first."""
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "engagement.read")
        events = audit_trail.events(session, org_id=principal.org_id, resource=("engagement", engagement_id),
                                    limit=limit, offset=offset)
        total = count_events(session, org_id=principal.org_id, action=None, resource_type="engagement",
                             resource_id=str(engagement_id), actor=None, since=None, until=None)
        return Page(items=[AuditEventOut.model_validate(e) for e in events], total=total, offset=offset, limit=limit)


# --- File requests ----------------------------------------------------------------------------------


@router.get("/engagements/{engagement_id}/requests", response_model=list[DataRequestOut], responses=_ERRORS)
def list_requests(engagement_id: Id, principal: CurrentPrincipal, state: State,
                  status: Annotated[DataRequestStatus | None, Query()] = None) -> list[DataRequestOut]:
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "request.read")
        rows = api_services.list_requests(session, engagement_id=engagement_id, org_id=principal.org_id,
                                          status=status)
        return [DataRequestOut.model_validate(r) for r in rows]


@router.post("/engagements/{engagement_id}/requests", response_model=DataRequestOut, status_code=201,
             responses=_ERRORS)
def create_request(engagement_id: Id, body: RequestCreate, principal: CurrentPrincipal,
                   state: State) -> DataRequestOut:
    """Ask the client for a file; the client contact uploads against this request."""
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "request.create")
        row = api_services.create_request(session, engagement_id=engagement_id, org_id=principal.org_id,
                                          kind=body.kind, description=body.description, actor=principal.actor.email)
        return DataRequestOut.model_validate(row)


@router.post("/engagements/{engagement_id}/requests/{request_id}/cancel", response_model=DataRequestOut,
             responses=_ERRORS)
def cancel_request(engagement_id: Id, request_id: Id, principal: CurrentPrincipal, state: State) -> DataRequestOut:
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "request.create")
        row = api_services.cancel_request(session, request_id=request_id, engagement_id=engagement_id,
                                          org_id=principal.org_id, actor=principal.actor.email)
        return DataRequestOut.model_validate(row)
