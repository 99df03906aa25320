"""Users, roles and API keys of the caller's organization (admins manage; partners and managers read)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, func, select

from auditray.api.deps import CurrentPrincipal, State, require
from auditray.api.errors import ErrorResponse
from auditray.api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    Id,
    Limit,
    Offset,
    Page,
    PasswordSet,
    RevokeResult,
    UserCreateRequest,
    UserOut,
    UserUpdate,
)
from auditray.auth import services as auth
from auditray.permissions import ACTIONS, GRANTS, ROLE_ORDER, permission_matrix_markdown
from auditray.store.models import Role, User, UserCreate
from auditray.store.services import get_user

router = APIRouter(tags=["users"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
           409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}


@router.get("/roles", responses=_ERRORS)
def roles(principal: CurrentPrincipal) -> dict:
    """The firm roles and the permission matrix (the same table the README shows)."""
    return {
        "roles": [role.value for role in ROLE_ORDER],
        "actions": [{"name": a.name, "resource": a.resource, "description": a.description, "changes": a.changes,
                     "grants": {role.value: scope.value for role, scope in GRANTS[a.name].items()}}
                    for a in ACTIONS],
        "matrix_markdown": permission_matrix_markdown(),
    }


@router.get("/users", response_model=Page[UserOut], responses=_ERRORS)
def list_users(
    principal: CurrentPrincipal,
    state: State,
    offset: Offset = 0,
    limit: Limit = 100,
    role: Annotated[Role | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
) -> Page[UserOut]:
    require(principal, "user.read")
    with state.read() as session:
        query = select(User).where(User.org_id == principal.org_id)
        if role is not None:
            query = query.where(User.role == role)
        if active is not None:
            query = query.where(col(User.is_active).is_(active))
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(User.id).offset(offset).limit(limit)).all()
        return Page(items=[UserOut.model_validate(u) for u in rows], total=total, offset=offset, limit=limit)


@router.post("/users", response_model=UserOut, status_code=201, responses=_ERRORS)
def create_user(body: UserCreateRequest, principal: CurrentPrincipal, state: State) -> UserOut:
    """Add a person (with an initial password) or a service account (then issue it an API key)."""
    require(principal, "user.manage")
    data = UserCreate.model_validate(body.model_dump(exclude={"password"}))
    with state.write() as session:
        user = auth.create_user_with_password(session, data, org_id=principal.org_id, actor=principal.actor.email,
                                              password=body.password)
        return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut, responses=_ERRORS)
def read_user(user_id: Id, principal: CurrentPrincipal, state: State) -> UserOut:
    if user_id != principal.user_id:
        require(principal, "user.read")
    with state.read() as session:
        return UserOut.model_validate(get_user(session, user_id, org_id=principal.org_id))


@router.patch("/users/{user_id}", response_model=UserOut, responses=_ERRORS)
def update_user(user_id: Id, body: UserUpdate, principal: CurrentPrincipal, state: State) -> UserOut:
    """Change a role, a name, or deactivate (which ends the user's sessions at once)."""
    require(principal, "user.manage")
    with state.write() as session:
        user = auth.update_user(session, user_id=user_id, org_id=principal.org_id, actor=principal.actor.email,
                                role=body.role, full_name=body.full_name, is_active=body.is_active)
        return UserOut.model_validate(user)


@router.post("/users/{user_id}/password", status_code=204, responses=_ERRORS)
def set_user_password(user_id: Id, body: PasswordSet, principal: CurrentPrincipal, state: State) -> None:
    """Reset a user's password; their sessions end."""
    require(principal, "user.manage")
    with state.write() as session:
        auth.set_password(session, user_id=user_id, org_id=principal.org_id, password=body.password,
                          actor=principal.actor.email)


@router.post("/users/{user_id}/revoke-sessions", response_model=RevokeResult, responses=_ERRORS)
def revoke_sessions(user_id: Id, principal: CurrentPrincipal, state: State) -> RevokeResult:
    """End every session of the user and invalidate all their tokens, effective on the next request."""
    require(principal, "user.manage")
    with state.write() as session:
        ended = auth.revoke_all_sessions(session, user_id=user_id, org_id=principal.org_id,
                                         actor=principal.actor.email, reason="revoked by an admin")
    return RevokeResult(sessions_ended=ended)


@router.get("/users/{user_id}/api-keys", response_model=list[ApiKeyOut], responses=_ERRORS)
def list_api_keys(user_id: Id, principal: CurrentPrincipal, state: State) -> list[ApiKeyOut]:
    require(principal, "apikey.manage")
    with state.read() as session:
        get_user(session, user_id, org_id=principal.org_id)
        return [ApiKeyOut.model_validate(k) for k in auth.list_api_keys(session, org_id=principal.org_id,
                                                                         user_id=user_id)]


@router.post("/users/{user_id}/api-keys", response_model=ApiKeyCreated, status_code=201, responses=_ERRORS)
def create_api_key(user_id: Id, body: ApiKeyCreate, principal: CurrentPrincipal, state: State) -> ApiKeyCreated:
    """Issue an API key to a service account. The key is in this response only: it is stored hashed."""
    require(principal, "apikey.manage")
    with state.write() as session:
        row, key = auth.create_api_key(
            session, user_id=user_id, org_id=principal.org_id, name=body.name, actor=principal.actor.email,
            expires_in=timedelta(days=body.expires_in_days) if body.expires_in_days else None)
        return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, responses=_ERRORS)
def revoke_api_key(key_id: Id, principal: CurrentPrincipal, state: State) -> ApiKeyOut:
    """Revoke an API key; it is refused from the next request on."""
    require(principal, "apikey.manage")
    with state.write() as session:
        return ApiKeyOut.model_validate(auth.revoke_api_key(session, key_id=key_id, org_id=principal.org_id,
                                                            actor=principal.actor.email))
