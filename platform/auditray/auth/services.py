"""Sign-in, sessions, lockout, passwords, API keys and user administration, each audited.

Like ``auditray.store.services``: every function takes the caller's session, never commits, and
records its audit event in the same transaction. Login and refresh *return* their outcome rather than
raising on failure, because a failed attempt is itself a change to keep (the failure count, the lockout,
the audit event): the caller commits, then answers 401/423.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import SecretStr
from sqlmodel import Session, col, select

from auditray import audit_trail
from auditray.auth import keys
from auditray.auth.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from auditray.auth.policy import AuthPolicy
from auditray.auth.tokens import TokenClaims, TokenPair, issue_tokens, new_token_id
from auditray.store.auth_models import ApiKey, AuthSession, UserCredentials
from auditray.store.exceptions import NotFound, StoreError
from auditray.store.models import Role, User, UserCreate
from auditray.store.services import Actor, create_user, get_user
from auditray.store.types import utc_now

DEFAULT_POLICY = AuthPolicy()
Failure = Literal["invalid_credentials", "account_locked", "invalid_token", "session_revoked", "refresh_reused"]


@dataclass(frozen=True)
class AuthOutcome:
    """A login or refresh: tokens on success, otherwise why not (and when to retry, when locked)."""

    tokens: TokenPair | None = None
    user: User | None = None
    session_id: str | None = None
    failure: Failure | None = None
    message: str = ""
    retry_after_s: int | None = None

    @property
    def ok(self) -> bool:
        return self.tokens is not None


def _aware(instant: datetime | None) -> datetime | None:
    # SQLite returns what was stored; the store always writes UTC, so a naive value is UTC.
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=UTC)


def credentials(session: Session, user: User, *, for_update: bool = False) -> UserCredentials:
    """The user's authentication state, created on first use."""
    query = select(UserCredentials).where(UserCredentials.user_id == user.id)
    if for_update:
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None:
        row = UserCredentials(user_id=user.id, org_id=user.org_id)
        session.add(row)
        session.flush()
    return row


# --- Users and passwords ----------------------------------------------------------------------------


def set_password(session: Session, *, user_id: int, org_id: int, password: str, actor: Actor) -> User:
    """Set a user's password and end their other sessions (a changed password must lock out a thief)."""
    audit_trail.lock_chain(session)
    user = get_user(session, user_id, org_id=org_id)
    if user.is_service_account:
        raise StoreError(f"{user.email} is a service account: it signs in with API keys, not a password")
    check_password_policy(password, email=user.email)
    user.password_hash = hash_password(password)
    session.add(user)
    creds = credentials(session, user, for_update=True)
    creds.token_version += 1
    creds.password_changed_at = utc_now()
    creds.failed_logins, creds.first_failed_at, creds.locked_until = 0, None, None
    session.add(creds)
    _revoke_sessions(session, user_id=user.id, reason="password changed")
    audit_trail.record(session, actor=actor, action="user.password_set", resource_type="user",
                       resource_id=user.id, org_id=org_id, details={"email": user.email})
    return user


def create_user_with_password(
    session: Session, data: UserCreate, *, org_id: int, actor: Actor, password: str | None
) -> User:
    """A new user of the organization; people get a password, service accounts get API keys later."""
    if password is not None:
        check_password_policy(password, email=data.email)
    user = create_user(session, data, org_id=org_id, actor=actor)
    if password is not None:
        set_password(session, user_id=user.id, org_id=org_id, password=password, actor=actor)
    return user


def _active_admins(session: Session, org_id: int) -> int:
    return len(session.exec(select(User.id).where(User.org_id == org_id, User.role == Role.admin,
                                                  col(User.is_active).is_(True))).all())


def update_user(
    session: Session,
    *,
    user_id: int,
    org_id: int,
    actor: Actor,
    role: Role | None = None,
    full_name: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's role, name or active flag; deactivation ends their sessions at once.

    Refuses to leave the organization without an active admin: nobody could manage accounts again.
    """
    audit_trail.lock_chain(session)
    user = get_user(session, user_id, org_id=org_id)
    before = {"role": user.role, "full_name": user.full_name, "is_active": user.is_active}
    if role is not None:
        user.role = Role(role)
    if full_name is not None:
        user.full_name = full_name
    if is_active is not None:
        user.is_active = is_active
    after = {"role": user.role, "full_name": user.full_name, "is_active": user.is_active}
    if after == before:
        return user
    was_admin = before["role"] == Role.admin and before["is_active"]
    if was_admin and not (user.role == Role.admin and user.is_active):
        session.add(user)
        session.flush()
        if _active_admins(session, org_id) == 0:
            raise StoreError(f"{user.email} is the organization's last active admin; appoint another admin first")
    session.add(user)
    if before["is_active"] and not user.is_active:
        creds = credentials(session, user, for_update=True)
        creds.token_version += 1
        session.add(creds)
        _revoke_sessions(session, user_id=user.id, reason="user deactivated")
    session.flush()
    changed = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
    audit_trail.record(session, actor=actor, action="user.update", resource_type="user", resource_id=user.id,
                       org_id=org_id, details={"email": user.email, "changes": changed})
    return user


def revoke_all_sessions(session: Session, *, user_id: int, org_id: int, actor: Actor, reason: str) -> int:
    """End every session and invalidate every token of the user now; returns how many sessions ended."""
    audit_trail.lock_chain(session)
    user = get_user(session, user_id, org_id=org_id)
    creds = credentials(session, user, for_update=True)
    creds.token_version += 1
    session.add(creds)
    ended = _revoke_sessions(session, user_id=user.id, reason=reason)
    audit_trail.record(session, actor=actor, action="user.sessions_revoke", resource_type="user",
                       resource_id=user.id, org_id=org_id,
                       details={"email": user.email, "sessions": ended, "reason": reason})
    return ended


def _revoke_sessions(session: Session, *, user_id: int, reason: str) -> int:
    rows = session.exec(select(AuthSession).where(AuthSession.user_id == user_id,
                                                  col(AuthSession.revoked_at).is_(None))).all()
    now = utc_now()
    for row in rows:
        row.revoked_at, row.revoked_reason = now, reason
        session.add(row)
    session.flush()
    return len(rows)


# --- Login, refresh, logout -------------------------------------------------------------------------


def login(
    session: Session,
    *,
    email: str,
    password: str,
    secret: SecretStr | str,
    policy: AuthPolicy = DEFAULT_POLICY,
    client_ip: str | None = None,
    user_agent: str | None = None,
) -> AuthOutcome:
    """Check the password, apply the lockout rule, and open a session with a token pair."""
    invalid = AuthOutcome(failure="invalid_credentials", message="invalid email or password")
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or user.is_service_account or not user.is_active or not user.password_hash:
        verify_password(None, password)  # same cost as a real check: no account enumeration by timing
        return invalid
    audit_trail.lock_chain(session)
    creds = credentials(session, user, for_update=True)
    now = utc_now()
    locked_until = _aware(creds.locked_until)
    if locked_until is not None and locked_until > now:
        retry = int((locked_until - now).total_seconds()) + 1
        audit_trail.record(session, actor=user, action="auth.login_refused", resource_type="user",
                           resource_id=user.id, org_id=user.org_id,
                           details={"reason": "account locked", "client_ip": client_ip})
        return AuthOutcome(failure="account_locked", retry_after_s=retry,
                           message=f"too many failed sign-ins: the account is locked for {retry} more seconds")
    if not verify_password(user.password_hash, password):
        first = _aware(creds.first_failed_at)
        if first is None or now - first > policy.failure_window:
            creds.failed_logins, creds.first_failed_at = 0, now
        creds.failed_logins += 1
        locked = creds.failed_logins >= policy.max_failed_logins
        if locked:
            creds.locked_until = now + policy.lockout
            creds.failed_logins, creds.first_failed_at = 0, None
        session.add(creds)
        audit_trail.record(session, actor=user, action="auth.lockout" if locked else "auth.login_failed",
                           resource_type="user", resource_id=user.id, org_id=user.org_id,
                           details={"client_ip": client_ip, "failed_logins": policy.max_failed_logins if locked
                                    else creds.failed_logins})
        if locked:
            retry = int(policy.lockout.total_seconds())
            return AuthOutcome(failure="account_locked", retry_after_s=retry,
                               message=f"too many failed sign-ins: the account is locked for {retry} seconds")
        return invalid
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    creds.failed_logins, creds.first_failed_at, creds.locked_until = 0, None, None
    session.add(creds)
    return open_session(session, user, secret=secret, policy=policy, client_ip=client_ip, user_agent=user_agent)


def open_session(
    session: Session,
    user: User,
    *,
    secret: SecretStr | str,
    policy: AuthPolicy = DEFAULT_POLICY,
    client_ip: str | None = None,
    user_agent: str | None = None,
    how: str = "password",
) -> AuthOutcome:
    """Open a sign-in session for an already authenticated user and issue its first token pair; audited."""
    audit_trail.lock_chain(session)
    creds = credentials(session, user)
    now = utc_now()
    auth_session = AuthSession(
        id=secrets.token_hex(16), org_id=user.org_id, user_id=user.id, expires_at=now + policy.refresh_ttl,
        refresh_jti=new_token_id(), user_agent=(user_agent or "")[:200] or None, client_ip=client_ip,
    )
    session.add(auth_session)
    session.flush()
    tokens = issue_tokens(secret=secret, user_id=user.id, org_id=user.org_id, session_id=auth_session.id,
                          token_version=creds.token_version, refresh_expires_at=auth_session.expires_at,
                          access_ttl=policy.access_ttl, refresh_jti=auth_session.refresh_jti, now=now)
    audit_trail.record(session, actor=user, action="auth.login", resource_type="user", resource_id=user.id,
                       org_id=user.org_id, details={"session": auth_session.id, "client_ip": client_ip,
                                                    "method": how})
    return AuthOutcome(tokens=tokens, user=user, session_id=auth_session.id)


def refresh(
    session: Session, claims: TokenClaims, *, secret: SecretStr | str, policy: AuthPolicy = DEFAULT_POLICY
) -> AuthOutcome:
    """Exchange a refresh token for a new pair; an already used refresh token ends the whole session."""
    audit_trail.lock_chain(session)
    row = session.exec(select(AuthSession).where(AuthSession.id == claims.session_id).with_for_update()).first()
    now = utc_now()
    if row is None or row.user_id != claims.user_id or row.org_id != claims.org_id:
        return AuthOutcome(failure="invalid_token", message="the refresh token names no session")
    if row.revoked_at is not None or _aware(row.expires_at) <= now:
        return AuthOutcome(failure="session_revoked", message="the session has ended; sign in again")
    user = session.get(User, row.user_id)
    creds = credentials(session, user, for_update=True)
    if not user.is_active or creds.token_version != claims.token_version:
        return AuthOutcome(failure="session_revoked", message="the session has ended; sign in again")
    if claims.jti != row.refresh_jti:
        row.revoked_at, row.revoked_reason = now, "refresh token reused"
        session.add(row)
        audit_trail.record(session, actor=user, action="auth.refresh_reused", resource_type="user",
                           resource_id=user.id, org_id=user.org_id, details={"session": row.id})
        return AuthOutcome(failure="refresh_reused",
                           message="this refresh token was already used; the session is ended as a precaution")
    row.refresh_jti, row.refreshed_at = new_token_id(), now
    session.add(row)
    session.flush()
    tokens = issue_tokens(secret=secret, user_id=user.id, org_id=user.org_id, session_id=row.id,
                          token_version=creds.token_version, refresh_expires_at=_aware(row.expires_at),
                          access_ttl=policy.access_ttl, refresh_jti=row.refresh_jti, now=now)
    audit_trail.record(session, actor=user, action="auth.refresh", resource_type="user", resource_id=user.id,
                       org_id=user.org_id, details={"session": row.id})
    return AuthOutcome(tokens=tokens, user=user, session_id=row.id)


def logout(session: Session, *, session_id: str, user: User) -> bool:
    """End one session now: its access and refresh tokens stop working on the next request."""
    audit_trail.lock_chain(session)
    row = session.exec(select(AuthSession).where(AuthSession.id == session_id,
                                                 AuthSession.user_id == user.id).with_for_update()).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at, row.revoked_reason = utc_now(), "logout"
    session.add(row)
    audit_trail.record(session, actor=user, action="auth.logout", resource_type="user", resource_id=user.id,
                       org_id=user.org_id, details={"session": session_id})
    return True


# --- API keys ---------------------------------------------------------------------------------------


def create_api_key(
    session: Session,
    *,
    user_id: int,
    org_id: int,
    name: str,
    actor: Actor,
    expires_in: timedelta | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key for a service account; returns the row and the key, which is never shown again."""
    audit_trail.lock_chain(session)
    user = get_user(session, user_id, org_id=org_id)
    if not user.is_service_account:
        raise StoreError(f"{user.email} is not a service account: people sign in with a password")
    if not user.is_active:
        raise StoreError(f"{user.email} is inactive")
    minted = keys.new_api_key()
    row = ApiKey(org_id=org_id, user_id=user.id, name=name, prefix=minted.prefix, key_sha256=minted.sha256,
                 created_by=audit_trail.actor_name(actor),
                 expires_at=utc_now() + expires_in if expires_in else None)
    session.add(row)
    session.flush()
    audit_trail.record(session, actor=actor, action="apikey.create", resource_type="api_key", resource_id=row.id,
                       org_id=org_id, details={"user": user.email, "name": name, "prefix": row.prefix,
                                               "expires_at": row.expires_at})
    return row, minted.key


def revoke_api_key(session: Session, *, key_id: int, org_id: int, actor: Actor) -> ApiKey:
    audit_trail.lock_chain(session)
    row = session.exec(select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == org_id)).first()
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.add(row)
        audit_trail.record(session, actor=actor, action="apikey.revoke", resource_type="api_key",
                           resource_id=row.id, org_id=org_id, details={"prefix": row.prefix, "name": row.name})
    return row


def list_api_keys(session: Session, *, org_id: int, user_id: int | None = None) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.org_id == org_id)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return list(session.exec(query.order_by(ApiKey.id)).all())
