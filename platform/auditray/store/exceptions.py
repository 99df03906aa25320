"""Domain errors of the metadata store.

They name the rule that was broken in the auditor's words, so the CLI and the API can show the
message as it is. All derive from ``StoreError`` so a caller can catch the family at once.
"""

from __future__ import annotations


class StoreError(Exception):
    """A state change was refused because it would break a rule of the store."""


class NotFound(StoreError, LookupError):
    """The row does not exist, or belongs to another organization (tenants never see each other)."""


class AlreadyExists(StoreError):
    """A row with the same natural key (slug, email, team membership) already exists."""


class TenantMismatch(StoreError):
    """Two rows that must belong to the same organization do not."""


class EngagementFinalized(StoreError):
    """A finalized engagement is the evidence file as signed off: it, its members, datasets and runs are
    read-only (archiving after the report date, AU-C 230.A21-.A25 / ISA 230.A21-A24)."""


class InvalidTransition(StoreError, ValueError):
    """The engagement cannot move from its current state to the one asked for."""


class InvalidRunState(StoreError, ValueError):
    """A job run was asked to do something its status does not allow (e.g. finish twice)."""


class AuditChainConflict(StoreError):
    """Another writer appended to the audit trail at the same time and the database refused the fork.

    With engines from ``make_engine`` this does not happen; it means a transaction ran without the chain
    lock (for example under REPEATABLE READ on PostgreSQL). Retry the whole transaction.
    """
