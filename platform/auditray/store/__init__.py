"""The metadata store: tenants, users, engagements, datasets and job runs, with their audit trail.

Start with ``init_db()`` (Alembic ``upgrade head``; SQLite under the data directory by default), then do
work inside ``session_scope(make_engine())`` with the functions of ``auditray.store.services``. Each
service records its audit event (``auditray.audit_trail``) in the same transaction.
"""

from auditray.store import auth_models as _auth_models  # noqa: F401  (API tables, migration 0005)
from auditray.store import findings as _findings  # noqa: F401  (findings tables and their guard, migration 0003)
from auditray.store import guards as _guards  # noqa: F401  (registers the flush-time guards)
from auditray.store import mappings as _mappings  # noqa: F401  (TB account-mapping tables, migration 0004)
from auditray.store.db import (
    current_revision,
    head_revision,
    init_db,
    make_engine,
    migrate,
    normalize_url,
    session_scope,
)
from auditray.store.exceptions import (
    AlreadyExists,
    AuditChainConflict,
    EngagementFinalized,
    InvalidRunState,
    InvalidTransition,
    NotFound,
    StoreError,
    TenantMismatch,
)
from auditray.store.models import (
    AuditEvent,
    Dataset,
    DatasetCreate,
    Engagement,
    EngagementCreate,
    EngagementMember,
    EngagementState,
    JobRun,
    JobRunCreate,
    Organization,
    OrganizationCreate,
    Role,
    RunStatus,
    User,
    UserCreate,
)
from auditray.store.types import Money, to_money, utc_now

__all__ = [
    "AlreadyExists",
    "AuditChainConflict",
    "AuditEvent",
    "Dataset",
    "DatasetCreate",
    "Engagement",
    "EngagementCreate",
    "EngagementFinalized",
    "EngagementMember",
    "EngagementState",
    "InvalidRunState",
    "InvalidTransition",
    "JobRun",
    "JobRunCreate",
    "Money",
    "NotFound",
    "Organization",
    "OrganizationCreate",
    "Role",
    "RunStatus",
    "StoreError",
    "TenantMismatch",
    "User",
    "UserCreate",
    "current_revision",
    "head_revision",
    "init_db",
    "make_engine",
    "migrate",
    "normalize_url",
    "session_scope",
    "to_money",
    "utc_now",
]
