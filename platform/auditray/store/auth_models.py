"""Tables behind the API: sign-in sessions, credentials state, API keys, data requests, run logs, attachments.

Every row carries ``org_id`` like the rest of the store, so a tenant's API routes filter on it. Secrets
are never stored: passwords as argon2 hashes (on ``users.password_hash``), API keys as SHA-256 of a
high-entropy key (the key itself is shown once), refresh tokens only by their random id.

- ``UserCredentials``: per user, the token version (raising it ends every session and token at once) and
  the failed-login window behind the lockout.
- ``AuthSession``: one sign-in; access and refresh tokens name it (``sid``), so logout or revocation of
  the session refuses its tokens on the very next request. ``refresh_jti`` is the one refresh token that
  may still be used; presenting an older one (a replayed, possibly stolen token) revokes the session.
- ``ApiKey``: a service account's key, looked up by its public prefix.
- ``DataRequest``: a file the engagement team asked the client for (a "prepared by client" list item);
  client contacts upload only against these.
- ``RunLogLine``: what a run reported while it worked, readable through the API on any cluster.
- ``Attachment``: evidence a reviewer attached to a disposition, stored by content hash.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from auditray.store.models import SHA256_PATTERN, _enum
from auditray.store.types import utc_now


class UserCredentials(SQLModel, table=True):
    """Authentication state of one user; created on first use (password set, login attempt)."""

    __tablename__ = "user_credentials"

    user_id: int = Field(foreign_key="users.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    org_id: int = Field(foreign_key="organizations.id", index=True)
    token_version: int = 0
    failed_logins: int = 0
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None
    password_changed_at: datetime | None = None


class AuthSession(SQLModel, table=True):
    """One sign-in (password login), alive until its refresh token expires or it is revoked."""

    __tablename__ = "auth_sessions"

    id: str = Field(primary_key=True, max_length=32)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime
    refreshed_at: datetime | None = None
    refresh_jti: str = Field(max_length=32)
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=200)
    user_agent: str | None = Field(default=None, max_length=200)
    client_ip: str | None = Field(default=None, max_length=64)


class ApiKey(SQLModel, table=True):
    """A service account's API key: ``prefix`` finds it, ``key_sha256`` proves it."""

    __tablename__ = "api_keys"
    __table_args__ = (sa.UniqueConstraint("prefix"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    key_sha256: str = Field(max_length=64, schema_extra={"pattern": SHA256_PATTERN})
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class DataRequestStatus(StrEnum):
    open = "open"
    received = "received"
    cancelled = "cancelled"


class DataRequest(SQLModel, table=True):
    """A file the team requested from the client (the PBC list); an upload against it fulfils it."""

    __tablename__ = "data_requests"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    engagement_id: int = Field(foreign_key="engagements.id", index=True)
    kind: str = Field(max_length=64)
    description: str = Field(max_length=2000)
    status: DataRequestStatus = Field(default=DataRequestStatus.open, sa_type=_enum(DataRequestStatus))
    requested_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utc_now)
    dataset_id: int | None = Field(default=None, foreign_key="datasets.id")
    fulfilled_by: str | None = Field(default=None, max_length=320)
    fulfilled_at: datetime | None = None


class RunLogLine(SQLModel, table=True):
    """One line a run logged; ordered by ``id`` within the run."""

    __tablename__ = "run_log_lines"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    run_id: int = Field(foreign_key="job_runs.id", index=True)
    at: datetime = Field(default_factory=utc_now)
    level: str = Field(default="info", max_length=16)
    message: str = Field(sa_type=sa.Text())


class Attachment(SQLModel, table=True):
    """A file of evidence (a screenshot, a confirmation) stored once per content hash and tenant."""

    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    engagement_id: int | None = Field(default=None, foreign_key="engagements.id", index=True)
    file_name: str = Field(max_length=500)
    content_type: str | None = Field(default=None, max_length=200)
    size_bytes: int = Field(sa_type=sa.BigInteger())
    sha256: str = Field(max_length=64, schema_extra={"pattern": SHA256_PATTERN})
    uri: str = Field(max_length=2048)
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utc_now)


__all__ = [
    "ApiKey",
    "Attachment",
    "AuthSession",
    "DataRequest",
    "DataRequestStatus",
    "RunLogLine",
    "UserCredentials",
]
