"""Dependencies every route shares: who is calling (token or API key), rate limits, permission checks.

Authentication is the lean path every request takes: the access token's signature and expiry are
checked in memory (decoded tokens are cached), then ONE indexed query reads the token's session, the
user and the user's token version. Logout, revocation, deactivation and role changes therefore act on
the very next request, on every replica, without a cache to invalidate. That query (well under a
millisecond) runs on the event loop: a hop to the thread pool would cost more than the query itself;
the route's own work runs in the thread pool.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlmodel import Session

from auditray.api.errors import ApiError, not_found
from auditray.api.ratelimit import retry_after_header
from auditray.api.state import ApiState
from auditray.auth.keys import api_key_matches, api_key_prefix
from auditray.auth.tokens import TokenClaims, TokenError, decode_token
from auditray.permissions import Actor, EngagementResource, OrganizationResource, decide
from auditray.store.auth_models import ApiKey, AuthSession, UserCredentials
from auditray.store.models import Engagement, EngagementMember, Role, User
from auditray.store.types import utc_now

bearer_scheme = HTTPBearer(auto_error=False, description="An access token from POST /auth/login.")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="A service account's API key.")

_API_KEY_TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and how they proved it (a sign-in session or an API key)."""

    actor: Actor
    session_id: str | None = None
    api_key_id: int | None = None

    @property
    def user_id(self) -> int:
        return self.actor.user_id

    @property
    def org_id(self) -> int:
        return self.actor.org_id


async def get_state(request: Request) -> ApiState:
    return request.app.state.auditray


State = Annotated[ApiState, Depends(get_state)]


class _DecodedTokens:
    """Signature checks are pure and repeatable: cache them per token string (bounded, expiry re-checked)."""

    def __init__(self, size: int = 8192) -> None:
        self._items: OrderedDict[str, TokenClaims] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, token: str, secret) -> TokenClaims:
        with self._lock:
            claims = self._items.get(token)
            if claims is not None:
                self._items.move_to_end(token)
        if claims is None:
            claims = decode_token(token, secret=secret, expected="access")
            with self._lock:
                self._items[token] = claims
                if len(self._items) > self._size:
                    self._items.popitem(last=False)
        elif claims.expires_at < time.time():
            raise TokenError("the access token has expired")
        return claims


_SESSION_QUERY = (
    select(User.id, User.org_id, User.email, User.role, User.is_active, User.is_service_account,
           UserCredentials.token_version, AuthSession.revoked_at, AuthSession.expires_at)
    .select_from(AuthSession)
    .join(User, User.id == AuthSession.user_id)
    .outerjoin(UserCredentials, UserCredentials.user_id == User.id)
    .where(AuthSession.id == bindparam("sid"))
)

_API_KEY_QUERY = (
    select(ApiKey.id, ApiKey.key_sha256, ApiKey.revoked_at, ApiKey.expires_at, ApiKey.last_used_at,
           User.id.label("user_id"), User.org_id, User.email, User.role, User.is_active, User.is_service_account)
    .select_from(ApiKey)
    .join(User, User.id == ApiKey.user_id)
    .where(ApiKey.prefix == bindparam("prefix"))
)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def _aware(instant):
    from datetime import UTC

    return instant if instant is None or instant.tzinfo else instant.replace(tzinfo=UTC)


def principal_from_access_token(state: ApiState, token: str) -> Principal:
    cache: _DecodedTokens = state.__dict__.setdefault("_token_cache", _DecodedTokens())
    try:
        claims = cache.get(token, state.settings.secret_key)
    except TokenError as error:
        raise _unauthorized(str(error)) from None
    with state.db_read.connect() as connection:
        row = connection.execute(_SESSION_QUERY, {"sid": claims.session_id}).first()
    if row is None or row.id != claims.user_id or row.org_id != claims.org_id:
        raise _unauthorized("the access token names no valid session; sign in again")
    if row.revoked_at is not None:
        raise _unauthorized("the session has ended (signed out or revoked); sign in again")
    if _aware(row.expires_at) <= utc_now():
        raise _unauthorized("the session has expired; sign in again")
    if not row.is_active:
        raise _unauthorized("the account is deactivated")
    if (row.token_version or 0) != claims.token_version:
        raise _unauthorized("the access token was revoked; sign in again")
    actor = Actor(user_id=row.id, org_id=row.org_id, email=row.email, role=Role(row.role),
                  is_service_account=row.is_service_account)
    return Principal(actor=actor, session_id=claims.session_id)


def principal_from_api_key(state: ApiState, key: str) -> Principal:
    prefix = api_key_prefix(key.strip())
    if prefix is None:
        raise _unauthorized("the API key is malformed")
    with state.db_read.connect() as connection:
        row = connection.execute(_API_KEY_QUERY, {"prefix": prefix}).first()
    if row is None or not api_key_matches(key.strip(), row.key_sha256):
        raise _unauthorized("the API key is not valid")
    now = utc_now()
    if row.revoked_at is not None:
        raise _unauthorized("the API key was revoked")
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        raise _unauthorized("the API key has expired")
    if not row.is_active:
        raise _unauthorized("the service account is deactivated")
    last = _aware(row.last_used_at)
    if last is None or now - last > _API_KEY_TOUCH_INTERVAL:
        # Bookkeeping for the admin's "last used" column, written at most every few minutes; not an
        # audit event (it changes no evidence and would flood the trail).
        with state.write() as session:
            stored = session.get(ApiKey, row.id)
            if stored is not None:
                stored.last_used_at = now
                session.add(stored)
    actor = Actor(user_id=row.user_id, org_id=row.org_id, email=row.email, role=Role(row.role),
                  is_service_account=row.is_service_account)
    return Principal(actor=actor, api_key_id=row.id)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <access token or API key>`` or ``X-API-Key``; rate limited."""
    state: ApiState = request.app.state.auditray
    if api_key:
        principal = principal_from_api_key(state, api_key)
    elif credentials is not None and credentials.credentials:
        token = credentials.credentials
        principal = (principal_from_api_key(state, token) if token.startswith("ark_")
                     else principal_from_access_token(state, token))
    else:
        raise _unauthorized("sign in: send 'Authorization: Bearer <access token>' or 'X-API-Key: <key>'")
    wait = state.limiter.take(f"user:{principal.user_id}")
    if wait:
        state.metrics.rate_limited.labels("user").inc()
        raise ApiError(429, "rate_limited", f"too many requests; retry in {wait:.1f} s",
                       details={"retry_after_s": round(wait, 3)}, headers={"Retry-After": retry_after_header(wait)})
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def limit_sign_in(request: Request) -> None:
    """Sign-in attempts per client address: guessing is slowed before the account lockout is reached."""
    state: ApiState = request.app.state.auditray
    client = request.client.host if request.client else "unknown"
    wait = state.login_limiter.take(f"ip:{client}")
    if wait:
        state.metrics.rate_limited.labels("sign_in").inc()
        raise ApiError(429, "rate_limited", f"too many sign-in attempts; retry in {wait:.0f} s",
                       details={"retry_after_s": round(wait, 3)}, headers={"Retry-After": retry_after_header(wait)})


# --- Permission checks ------------------------------------------------------------------------------


def require(principal: Principal, action: str) -> None:
    """An organization-level action (user management, the audit trail, the corpus)."""
    decision = decide(principal.actor, action, OrganizationResource(org_id=principal.org_id))
    if not decision:
        raise ApiError(decision.status, decision.code, decision.reason)


def is_member(session: Session, engagement_id: int, user_id: int) -> bool:
    return session.exec(
        select(EngagementMember.id).where(EngagementMember.engagement_id == engagement_id,
                                          EngagementMember.user_id == user_id)
    ).first() is not None


def engagement_resource(session: Session, principal: Principal, engagement: Engagement) -> EngagementResource:
    return EngagementResource(org_id=engagement.org_id, engagement_id=engagement.id, state=engagement.state,
                              is_member=is_member(session, engagement.id, principal.user_id))


def engagement_for(session: Session, principal: Principal, engagement_id: int | None, action: str) -> Engagement:
    """The engagement if ``principal`` may do ``action`` on it; 404 when they may not even see it."""
    if engagement_id is None:
        raise not_found("engagement")
    engagement = session.get(Engagement, engagement_id)
    if engagement is None or engagement.org_id != principal.org_id:
        raise not_found(f"engagement {engagement_id}")
    decision = decide(principal.actor, action, engagement_resource(session, principal, engagement))
    if not decision:
        raise ApiError(decision.status, decision.code, decision.reason)
    return engagement


def allowed_on(session: Session, principal: Principal, engagement: Engagement, action: str) -> bool:
    return decide(principal.actor, action, engagement_resource(session, principal, engagement)).allowed
