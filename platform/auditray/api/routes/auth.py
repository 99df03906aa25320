"""Sign-in, token refresh, sign-out, and the caller's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from auditray.api.deps import CurrentPrincipal, State, limit_sign_in
from auditray.api.errors import ApiError, ErrorResponse
from auditray.api.schemas import (
    LoginRequest,
    MeResponse,
    PasswordChange,
    RefreshRequest,
    TokenResponse,
    UserOut,
)
from auditray.auth import services as auth
from auditray.auth.passwords import verify_password
from auditray.auth.tokens import TokenError, decode_token
from auditray.permissions import GRANTS
from auditray.store.services import get_organization, get_user
from auditray.store.types import utc_now

router = APIRouter(tags=["auth"])
_ERRORS = {401: {"model": ErrorResponse}, 423: {"model": ErrorResponse}, 429: {"model": ErrorResponse}}


def _token_response(outcome: auth.AuthOutcome) -> TokenResponse:
    tokens = outcome.tokens
    now = utc_now()
    return TokenResponse(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                         expires_in=max(0, int((tokens.access_expires_at - now).total_seconds())),
                         refresh_expires_in=max(0, int((tokens.refresh_expires_at - now).total_seconds())))


def _refuse(state, outcome: auth.AuthOutcome) -> ApiError:
    state.metrics.logins.labels(outcome.failure or "error").inc()
    if outcome.failure == "account_locked":
        return ApiError(423, "account_locked", outcome.message, details={"retry_after_s": outcome.retry_after_s},
                        headers={"Retry-After": str(outcome.retry_after_s)})
    return ApiError(401, outcome.failure or "unauthorized", outcome.message, headers={"WWW-Authenticate": "Bearer"})


def _login(state, request: Request, email: str, password: str) -> TokenResponse:
    with state.write() as session:
        outcome = auth.login(session, email=email, password=password, secret=state.settings.secret_key,
                             policy=state.policy, client_ip=request.client.host if request.client else None,
                             user_agent=request.headers.get("user-agent"))
    # The failure count, lockout and audit event are committed before the refusal is returned.
    if not outcome.ok:
        raise _refuse(state, outcome)
    state.metrics.logins.labels("ok").inc()
    return _token_response(outcome)


@router.post("/auth/login", response_model=TokenResponse, responses=_ERRORS,
             dependencies=[Depends(limit_sign_in)])
def login(body: LoginRequest, request: Request, state: State) -> TokenResponse:
    """Sign in with email and password: an access token (1 hour) and a refresh token (7 days).

    Five failed attempts within 15 minutes lock the account for 15 minutes (423 with Retry-After).
    """
    return _login(state, request, body.email, body.password)


@router.post("/auth/token", response_model=TokenResponse, responses=_ERRORS,
             dependencies=[Depends(limit_sign_in)])
def token(
    request: Request,
    state: State,
    username: Annotated[str, Form(min_length=3, max_length=320)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
) -> TokenResponse:
    """The OAuth2 password form of /auth/login (what the interactive docs' Authorize button sends)."""
    return _login(state, request, username, password)


@router.post("/auth/refresh", response_model=TokenResponse, responses=_ERRORS,
             dependencies=[Depends(limit_sign_in)])
def refresh(body: RefreshRequest, state: State) -> TokenResponse:
    """Exchange a refresh token for a new pair. Each refresh token works once: replaying one ends the session."""
    try:
        claims = decode_token(body.refresh_token, secret=state.settings.secret_key, expected="refresh")
    except TokenError as error:
        raise ApiError(401, "invalid_token", str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    with state.write() as session:
        outcome = auth.refresh(session, claims, secret=state.settings.secret_key, policy=state.policy)
    if not outcome.ok:
        raise _refuse(state, outcome)
    return _token_response(outcome)


@router.post("/auth/logout", status_code=204, responses=_ERRORS)
def logout(principal: CurrentPrincipal, state: State) -> None:
    """End this sign-in session now: its access and refresh tokens stop working on the next request."""
    if principal.session_id is None:
        raise ApiError(400, "bad_request", "API keys do not sign in or out; an admin revokes them")
    with state.write() as session:
        user = get_user(session, principal.user_id, org_id=principal.org_id)
        auth.logout(session, session_id=principal.session_id, user=user)


@router.get("/me", response_model=MeResponse, responses=_ERRORS)
def me(principal: CurrentPrincipal, state: State) -> MeResponse:
    """Who you are, your organization, and what your role lets you do."""
    with state.read() as session:
        user = get_user(session, principal.user_id, org_id=principal.org_id)
        organization = get_organization(session, principal.org_id)
        permissions = {action: scope.value for action, grants in GRANTS.items()
                       if (scope := grants.get(principal.actor.role)) is not None}
        return MeResponse(user=UserOut.model_validate(user),
                          organization={"id": organization.id, "name": organization.name, "slug": organization.slug},
                          permissions=permissions)


@router.post("/me/password", status_code=204, responses={**_ERRORS, 422: {"model": ErrorResponse}})
def change_password(body: PasswordChange, principal: CurrentPrincipal, state: State) -> None:
    """Change your own password; every session, this one included, ends (sign in again)."""
    with state.read() as session:
        user = get_user(session, principal.user_id, org_id=principal.org_id)
        current_hash = user.password_hash
    if principal.session_id is None or not verify_password(current_hash, body.current_password):
        raise ApiError(401, "invalid_credentials", "the current password is not correct")
    with state.write() as session:
        auth.set_password(session, user_id=principal.user_id, org_id=principal.org_id,
                          password=body.new_password, actor=principal.actor.email)
