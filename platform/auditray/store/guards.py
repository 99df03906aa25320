"""Flush-time guards: the rules hold even for code that changes rows through the ORM without a service.

Registered on every SQLAlchemy session when ``auditray.store`` is imported. They are a backstop; the
services check first so that they can say precisely what was refused. Raw SQL bypasses them (and the
audit trail's verification is what catches raw-SQL tampering with events).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from auditray.store.exceptions import EngagementFinalized, TenantMismatch
from auditray.store.models import Dataset, Engagement, EngagementMember, EngagementState, JobRun

_ENGAGEMENT_CHILDREN = (Dataset, JobRun, EngagementMember)


def _changed(session: Session, obj: Any) -> bool:
    return obj in session.new or obj in session.deleted or session.is_modified(obj, include_collections=False)


def _engagement_ids(obj: Any) -> set[int]:
    """The engagement the row belongs to now and, if it was moved, the one it belonged to before."""
    ids = {obj.engagement_id} if obj.engagement_id is not None else set()
    history = inspect(obj).attrs.engagement_id.history
    ids.update(value for value in history.deleted if value is not None)
    return ids


@event.listens_for(Session, "before_flush")
def refuse_changes_to_finalized_engagements(session: Session, _flush_context: Any, _instances: Any) -> None:
    """A finalized engagement, its team, datasets and runs are read-only; children share its tenant."""
    touched: dict[int, list[str]] = {}
    tenancy: list[tuple[Any, int]] = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Engagement):
            if obj in session.new or not _changed(session, obj):
                continue
            touched.setdefault(obj.id, []).append(f"engagement {obj.id}")
        elif isinstance(obj, _ENGAGEMENT_CHILDREN):
            if not _changed(session, obj):
                continue
            for engagement_id in _engagement_ids(obj):
                touched.setdefault(engagement_id, []).append(f"{type(obj).__name__} {obj.id or '(new)'}")
            if obj.engagement_id is not None and obj not in session.deleted:
                tenancy.append((obj, obj.engagement_id))
    if not touched:
        return
    with session.no_autoflush:
        # The committed state in the database, not the object's in-memory state: a transition to
        # finalized is itself allowed, and only later changes are refused.
        rows = session.execute(
            select(Engagement.id, Engagement.state, Engagement.org_id).where(Engagement.id.in_(list(touched)))
        ).all()
    stored = {row.id: row for row in rows}
    for engagement_id, what in touched.items():
        row = stored.get(engagement_id)
        if row is not None and row.state == EngagementState.finalized:
            raise EngagementFinalized(
                f"engagement {engagement_id} is finalized and read-only; refused change to {', '.join(what)}"
            )
    for obj, engagement_id in tenancy:
        row = stored.get(engagement_id)
        if row is not None and row.org_id != obj.org_id:
            raise TenantMismatch(
                f"{type(obj).__name__} of organization {obj.org_id} cannot belong to engagement "
                f"{engagement_id} of organization {row.org_id}"
            )
