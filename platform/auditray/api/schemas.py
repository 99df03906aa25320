"""Request and response bodies of the API; table models are never returned directly."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from auditray.store.auth_models import DataRequestStatus
from auditray.store.models import EngagementState, Role, UserCreate

T = TypeVar("T")
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


# --- Auth -------------------------------------------------------------------------------------------


class LoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=4096)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_expires_in: int = Field(description="Seconds until the session (refresh token) expires.")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordSet(BaseModel):
    password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    is_service_account: bool
    created_at: datetime


class MeResponse(BaseModel):
    user: UserOut
    organization: dict[str, Any]
    permissions: dict[str, str] = Field(description="Action -> scope (all, team or own) this user holds.")


class UserCreateRequest(UserCreate):
    password: str | None = Field(default=None, max_length=256,
                                 description="Initial password (people); omit for service accounts.")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key itself: shown once, never stored. Keep it secret.")


class RevokeResult(BaseModel):
    sessions_ended: int


# --- Engagements ------------------------------------------------------------------------------------


class EngagementSummary(BaseModel):
    """What every user who can see an engagement may know about it (no materiality)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    client_name: str
    name: str
    fiscal_year: int
    period_start: date
    period_end: date
    state: EngagementState


class EngagementOut(EngagementSummary):
    org_id: int
    materiality: Decimal
    performance_materiality: Decimal
    created_by: str
    created_at: datetime
    updated_at: datetime


class EngagementUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_name: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    materiality: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    performance_materiality: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)

    @field_validator("materiality", "performance_materiality", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("money must be given as a string, never a float")  # noqa: TRY004 - 422, not 500
        return value


class TransitionRequest(BaseModel):
    to_state: EngagementState
    reason: str | None = Field(default=None, max_length=2000)


class MemberAdd(BaseModel):
    user_id: int = Field(ge=1, le=MAX_ID)
    team_role: Role | None = None


class TeamMember(BaseModel):
    user_id: int
    email: str
    full_name: str
    firm_role: Role
    team_role: Role
    added_at: datetime


class RequestCreate(BaseModel):
    kind: Literal["gl_detail", "trial_balance", "chart_of_accounts"]
    description: str = Field(min_length=1, max_length=2000)


class DataRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    engagement_id: int
    kind: str
    description: str
    status: DataRequestStatus
    requested_by: str
    created_at: datetime
    dataset_id: int | None
    fulfilled_by: str | None
    fulfilled_at: datetime | None


class EngagementStatus(BaseModel):
    """The client's view of its engagement: where it stands and what is still asked of it."""

    engagement: EngagementSummary
    requests: list[DataRequestOut]
    open_requests: int


# --- Datasets and runs ------------------------------------------------------------------------------


class DatasetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    engagement_id: int | None
    kind: str
    name: str
    row_count: int
    schema_version: str
    content_sha256: str
    source_sha256: str | None
    source_name: str | None
    profile: dict[str, Any] | None
    created_by: str
    created_at: datetime


class UploadResult(BaseModel):
    dataset: DatasetOut
    validation: dict[str, Any] = Field(description="How the file was read: format, column mapping, warnings.")
    request: DataRequestOut | None = None


class RunStart(BaseModel):
    kind: str = Field(min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict)


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    engagement_id: int | None
    kind: str
    parameters: dict[str, Any]
    code_version: str | None
    status: str
    progress: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    created_by: str


class RunKindOut(BaseModel):
    name: str
    title: str
    description: str
    inputs: dict[str, list[str]]
    parameters_schema: dict[str, Any]


class RunLogLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    level: str
    message: str


class ResultTable(BaseModel):
    name: str
    rows: int
    columns: dict[str, str]


class RunResults(BaseModel):
    run_id: int
    status: str
    summary: dict[str, Any]
    tables: list[ResultTable]


# --- Findings ---------------------------------------------------------------------------------------


class DispositionRequest(BaseModel):
    disposition: Literal["cleared", "exception", "escalated"]
    comment: str = Field(min_length=1, max_length=5000)
    attachment_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=20)


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    engagement_id: int | None
    file_name: str
    content_type: str | None
    size_bytes: int
    sha256: str
    created_by: str
    created_at: datetime


# --- Audit trail and evidence -----------------------------------------------------------------------


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    org_id: int | None
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    ok: bool
    count: int
    message: str
    first_bad_seq: int | None = None
    problem: str | None = None


class ChainHeadOut(BaseModel):
    seq: int
    hash: str


class PackVerificationOut(BaseModel):
    ok: bool
    message: str
    problems: list[str]
    manifest_sha256: str | None
    key_id: str | None
    trusted_key: bool | None
    run_id: int | None
    organization: str | None
    files_checked: int


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str
    key_id: str


# --- Regulation search ------------------------------------------------------------------------------


class RagSearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)
    mode: Literal["vector", "fulltext", "hybrid"] = "hybrid"
    source: str | None = Field(default=None, max_length=100)
    standard: str | None = Field(default=None, max_length=100)


class RagAskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=20)
    source: str | None = Field(default=None, max_length=100)
    standard: str | None = Field(default=None, max_length=100)


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    version: str
    run_kinds: list[str]
