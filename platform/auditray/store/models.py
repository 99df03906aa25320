"""The metadata store's models, layered as in the FastAPI full-stack template.

``XBase`` holds the fields a client may set, ``XCreate`` is what the API accepts, ``XPublic`` is what it
returns, and ``X`` (``table=True``) is the row. Table models are never returned by the API directly.

Every tenant-owned row carries ``org_id``; queries that serve a user always filter on it (see the
``get_*``/``list_*`` helpers in ``auditray.store.services``). IDs are integer autoincrement keys, the
same on SQLite and PostgreSQL. Timestamps are time zone-aware UTC (``UTCDateTime``) and money is exact
(``Money``: NUMERIC(18,2), TEXT on SQLite).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import JSON, Field, SQLModel

from auditray.store.types import MONEY_PRECISION, MONEY_SCALE, Money, to_money, utc_now

# Named constraints let Alembic's SQLite batch mode drop and recreate them; the names are stable across
# both backends, so migrations written once apply to either.
SQLModel.metadata.naming_convention = {
    **SQLModel.metadata.naming_convention,
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SHA256_PATTERN = r"^[0-9a-f]{64}$"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _enum(enum_cls: type[StrEnum]) -> sa.Enum:
    # VARCHAR, not a native PostgreSQL ENUM type: adding a role or a state later is a code change, not a
    # type migration, and SQLite stores the same text.
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _money_input(value: Any) -> Any:
    if isinstance(value, float):
        # ValueError, not TypeError: pydantic turns only ValueError into a validation error for the client.
        raise ValueError("money must be given as a string or Decimal, never a float")  # noqa: TRY004
    return value


# --- Organization -----------------------------------------------------------------------------------


class OrganizationBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=63, schema_extra={"pattern": SLUG_PATTERN})


class OrganizationCreate(OrganizationBase):
    pass


class Organization(OrganizationBase, table=True):
    """The tenant: an audit firm (or a firm's office) whose data no other tenant may see."""

    __tablename__ = "organizations"
    __table_args__ = (sa.UniqueConstraint("slug"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now)


class OrganizationPublic(OrganizationBase):
    id: int
    created_at: datetime


# --- User -------------------------------------------------------------------------------------------


class Role(StrEnum):
    """Firm roles; engagement teams reuse them as ``team_role``."""

    admin = "admin"
    partner = "partner"
    manager = "manager"
    senior = "senior"
    staff = "staff"
    qc_reviewer = "qc_reviewer"
    client_contact = "client_contact"


class UserBase(SQLModel):
    email: str = Field(min_length=3, max_length=320)
    full_name: str = Field(min_length=1, max_length=200)
    role: Role = Field(default=Role.staff, sa_type=_enum(Role))
    is_active: bool = True
    is_service_account: bool = False

    @field_validator("email")
    @classmethod
    def _email_is_plausible(cls, value: str) -> str:
        value = value.strip().lower()
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value


class UserCreate(UserBase):
    pass


class User(UserBase, table=True):
    """A person (or a service account) of one organization; ``email`` is unique across all tenants."""

    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("email"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    # Set by the authentication layer; None means the user cannot log in with a password yet.
    password_hash: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utc_now)


class UserPublic(UserBase):
    id: int
    org_id: int
    created_at: datetime


# --- Engagement -------------------------------------------------------------------------------------


class EngagementState(StrEnum):
    planning = "planning"
    fieldwork = "fieldwork"
    review = "review"
    finalized = "finalized"


class EngagementBase(SQLModel):
    client_name: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    fiscal_year: int = Field(ge=1900, le=2200)
    period_start: date
    period_end: date
    materiality: Decimal = Field(
        ge=0, max_digits=MONEY_PRECISION, decimal_places=MONEY_SCALE, sa_type=Money()
    )
    performance_materiality: Decimal = Field(
        ge=0, max_digits=MONEY_PRECISION, decimal_places=MONEY_SCALE, sa_type=Money()
    )

    @field_validator("materiality", "performance_materiality", mode="before")
    @classmethod
    def _money_not_float(cls, value: Any) -> Any:
        return _money_input(value)


class EngagementCreate(EngagementBase):
    @model_validator(mode="after")
    def _consistent(self) -> EngagementCreate:
        if self.period_end < self.period_start:
            raise ValueError(f"period_end {self.period_end} is before period_start {self.period_start}")
        # Performance materiality is set below overall materiality (AU-C 320.11 / ISA 320.11).
        if self.performance_materiality > self.materiality:
            raise ValueError(
                f"performance materiality {self.performance_materiality} "
                f"exceeds materiality {self.materiality}"
            )
        to_money(self.materiality)
        to_money(self.performance_materiality)
        return self


class Engagement(EngagementBase, table=True):
    """One audit of one client's period; its state moves planning -> fieldwork -> review -> finalized."""

    __tablename__ = "engagements"
    __table_args__ = (sa.CheckConstraint("period_start <= period_end", name="period_order"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    state: EngagementState = Field(default=EngagementState.planning, sa_type=_enum(EngagementState))
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now, sa_column_kwargs={"onupdate": utc_now})


class EngagementPublic(EngagementBase):
    id: int
    org_id: int
    state: EngagementState
    created_by: str
    created_at: datetime
    updated_at: datetime


class EngagementMemberBase(SQLModel):
    user_id: int
    team_role: Role


class EngagementMember(SQLModel, table=True):
    """A user on an engagement team, in a team role that may differ from their firm role."""

    __tablename__ = "engagement_members"
    __table_args__ = (sa.UniqueConstraint("engagement_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    engagement_id: int = Field(foreign_key="engagements.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    team_role: Role = Field(sa_type=_enum(Role))
    created_at: datetime = Field(default_factory=utc_now)


class EngagementMemberPublic(EngagementMemberBase):
    id: int
    org_id: int
    engagement_id: int
    created_at: datetime


# --- Dataset ----------------------------------------------------------------------------------------


class DatasetBase(SQLModel):
    engagement_id: int | None = None
    kind: str = Field(
        min_length=1, max_length=64, description="gl_detail, trial_balance, chart_of_accounts, ..."
    )
    name: str = Field(min_length=1, max_length=200)
    uri: str = Field(min_length=1, max_length=2048, description="Where the Parquet dataset lives.")
    row_count: int = Field(ge=0, sa_type=sa.BigInteger())
    schema_version: str = Field(min_length=1, max_length=16)
    content_sha256: str = Field(max_length=64, schema_extra={"pattern": SHA256_PATTERN})
    source_sha256: str | None = Field(default=None, max_length=64, schema_extra={"pattern": SHA256_PATTERN})
    source_name: str | None = Field(default=None, max_length=500)
    profile: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class DatasetCreate(DatasetBase):
    pass


class Dataset(DatasetBase, table=True):
    """Metadata of a Parquet dataset already written by ingestion; the bytes live at ``uri``."""

    __tablename__ = "datasets"
    # Ingestion looks a file up by its content hash to refuse registering the same evidence twice.
    __table_args__ = (sa.Index("ix_datasets_org_id_content_sha256", "org_id", "content_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    engagement_id: int | None = Field(default=None, foreign_key="engagements.id", index=True)
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utc_now)


class DatasetPublic(DatasetBase):
    id: int
    org_id: int
    created_by: str
    created_at: datetime


# --- JobRun -----------------------------------------------------------------------------------------


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


FINISHED_STATUSES = frozenset({RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled})


class JobRunBase(SQLModel):
    engagement_id: int | None = None
    kind: str = Field(min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    code_version: str | None = Field(default=None, max_length=64)


class JobRunCreate(JobRunBase):
    pass


class JobRun(JobRunBase, table=True):
    """One execution of an analytic (JE tests, sampling, ...): what ran, on what, with which code."""

    __tablename__ = "job_runs"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    engagement_id: int | None = Field(default=None, foreign_key="engagements.id", index=True)
    status: RunStatus = Field(default=RunStatus.queued, sa_type=_enum(RunStatus))
    progress: float = 0.0
    created_at: datetime = Field(default_factory=utc_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result_uri: str | None = Field(default=None, max_length=2048)
    error: str | None = Field(default=None, sa_type=sa.Text())
    created_by: str = Field(max_length=320)


class JobRunPublic(JobRunBase):
    id: int
    org_id: int
    status: RunStatus
    progress: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result_uri: str | None
    error: str | None
    created_by: str


# --- AuditEvent -------------------------------------------------------------------------------------


class AuditEventBase(SQLModel):
    seq: int
    at: datetime
    org_id: int | None = None
    actor: str = Field(max_length=320)
    action: str = Field(max_length=64)
    resource_type: str = Field(max_length=64)
    resource_id: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditEvent(AuditEventBase, table=True):
    """One link of the hash-chained audit trail; written only by ``auditray.audit_trail.record``.

    ``seq`` is assigned under the chain lock, not by the database, so it has no gaps by construction and
    a gap means a deletion. ``prev_hash`` and ``hash`` are unique: two events can never claim the same
    predecessor, so the database itself refuses a forked chain.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.UniqueConstraint("prev_hash"),
        sa.UniqueConstraint("hash"),
        sa.Index("ix_audit_events_org_id_seq", "org_id", "seq"),
        # The history of one engagement, dataset or run: the reviewer's most frequent question.
        sa.Index("ix_audit_events_resource", "resource_type", "resource_id", "seq"),
    )

    seq: int = Field(sa_type=sa.BigInteger(), primary_key=True, sa_column_kwargs={"autoincrement": False})
    org_id: int | None = Field(default=None, foreign_key="organizations.id")
    action: str = Field(max_length=64, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class AuditEventPublic(AuditEventBase):
    pass


__all__ = [
    "FINISHED_STATUSES",
    "AuditEvent",
    "AuditEventPublic",
    "Dataset",
    "DatasetCreate",
    "DatasetPublic",
    "Engagement",
    "EngagementCreate",
    "EngagementMember",
    "EngagementMemberPublic",
    "EngagementPublic",
    "EngagementState",
    "JobRun",
    "JobRunCreate",
    "JobRunPublic",
    "Organization",
    "OrganizationCreate",
    "OrganizationPublic",
    "Role",
    "RunStatus",
    "User",
    "UserCreate",
    "UserPublic",
]
