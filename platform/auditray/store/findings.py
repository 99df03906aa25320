"""Findings of analytic runs and the auditor's dispositions of them, each change in the audit trail.

A journal-entry run flags entries; the engagement team must then follow them up (AS 2401 .58-.62 require
testing the selected entries, ISA 240 .32(a) and A41-A45 likewise) and the file must show who concluded
what, when, on which evidence (AU-C 230.09 / ISA 230.9, AS 1215.06). A ``Finding`` is one flagged item of a
run (``kind='je_entry'``: one journal entry) with its risk, the tests it tripped and why; a
``FindingDisposition`` is one conclusion about it (cleared, exception, escalated) with a comment and the
evidence, appended, never edited: the finding's ``status`` is its latest disposition.

Services take the caller's session, never commit, and record their audit event in the same transaction:
``record_findings`` one event for the whole batch (with counts and the hash of the entries file, not one per
finding), ``record_disposition`` one event each. Both refuse a finalized engagement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import JSON, Field, Session, SQLModel, col

from auditray import audit_trail
from auditray.store.exceptions import EngagementFinalized, NotFound, StoreError
from auditray.store.models import Engagement, EngagementState, JobRun, _enum
from auditray.store.types import utc_now

if TYPE_CHECKING:
    import polars as pl

    from auditray.store.services import Actor

RISK_BANDS = ("low", "medium", "high")


class FindingStatus(StrEnum):
    open = "open"
    cleared = "cleared"
    exception = "exception"
    escalated = "escalated"


class Disposition(StrEnum):
    """The auditor's conclusion: explained and supported, a misstatement or control exception, or for a
    senior's or specialist's attention."""

    cleared = "cleared"
    exception = "exception"
    escalated = "escalated"


class FindingBase(SQLModel):
    engagement_id: int | None = None
    run_id: int
    kind: str = Field(max_length=32, description="What was flagged: 'je_entry' for a journal entry.")
    entity_id: str = Field(max_length=64)
    item_key: str = Field(max_length=128, description="The flagged item within the entity: the journal id.")
    risk_score: float = Field(ge=0, le=1)
    risk_band: str = Field(max_length=16)
    tests: list[str] = Field(default_factory=list, sa_type=JSON)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: FindingStatus = Field(default=FindingStatus.open, sa_type=_enum(FindingStatus))


class Finding(FindingBase, table=True):
    """One flagged item of a run, open until the team disposes of it."""

    __tablename__ = "findings"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "kind", "entity_id", "item_key"),
        # The review queue: a run's findings, riskiest first.
        sa.Index("ix_findings_run_id_risk_score", "run_id", "risk_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    engagement_id: int | None = Field(default=None, foreign_key="engagements.id", index=True)
    run_id: int = Field(foreign_key="job_runs.id", index=True)
    # The tripped test ids as ",id1,id2,": filtering by test with LIKE works the same on SQLite and PostgreSQL.
    tests_index: str = Field(default="", sa_type=sa.Text())
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class FindingPublic(FindingBase):
    id: int
    org_id: int
    created_at: datetime
    updated_at: datetime


class FindingDispositionBase(SQLModel):
    disposition: Disposition = Field(sa_type=_enum(Disposition))
    comment: str = Field(min_length=1, sa_type=sa.Text())
    evidence_uri: str | None = Field(default=None, max_length=2048)


class FindingDisposition(FindingDispositionBase, table=True):
    """One conclusion about a finding; appended, never changed (the history is the evidence)."""

    __tablename__ = "finding_dispositions"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    finding_id: int = Field(foreign_key="findings.id", index=True)
    actor: str = Field(max_length=320)
    at: datetime = Field(default_factory=utc_now)


class FindingDispositionPublic(FindingDispositionBase):
    id: int
    org_id: int
    finding_id: int
    actor: str
    at: datetime


# --- Services ---------------------------------------------------------------------------------------


def _refuse_finalized(session: Session, engagement_id: int | None, org_id: int, what: str) -> None:
    if engagement_id is None:
        return
    engagement = session.exec(
        select(Engagement).where(Engagement.id == engagement_id, Engagement.org_id == org_id).with_for_update()
    ).scalars().first()
    if engagement is None:
        raise NotFound(f"engagement {engagement_id} not found")
    if engagement.state == EngagementState.finalized:
        raise EngagementFinalized(f"engagement {engagement.id} ({engagement.name}) is finalized and read-only; "
                                  f"refused: {what}")


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and math.isnan(value):  # NaN is not JSON
        return None
    return value


DETAIL_COLUMNS = ("risk_rank", "explanations", "test_scores", "effective_date", "entry_date", "entry_time",
                  "entered_by", "approved_by", "source", "manual", "amount", "line_count", "ml_score")


def record_findings(
    session: Session,
    run_id: int,
    entries: pl.DataFrame,
    *,
    org_id: int,
    actor: Actor,
    bands: Iterable[str] = ("medium", "high"),
    kind: str = "je_entry",
    entries_sha256: str | None = None,
) -> int:
    """Store the entries of the given risk bands as open findings of ``run_id``; returns how many.

    ``entries`` has the columns of ``entries.parquet`` (entity_id, journal_id, risk_score, risk_band,
    tests, explanations, ...). One bulk insert and one audit event for the batch, naming the counts per
    band and the SHA-256 of the entries file the findings came from.
    """
    import polars as pl

    wanted = [b for b in bands]
    unknown = set(wanted) - set(RISK_BANDS)
    if unknown:
        raise ValueError(f"unknown risk bands {sorted(unknown)}; bands are {', '.join(RISK_BANDS)}")
    audit_trail.lock_chain(session)
    run = session.exec(select(JobRun).where(JobRun.id == run_id, JobRun.org_id == org_id)).scalars().first()
    if run is None:
        raise NotFound(f"run {run_id} not found")
    _refuse_finalized(session, run.engagement_id, org_id, f"findings of run {run_id}")
    selected = entries.filter(pl.col("risk_band").is_in(wanted))
    now = utc_now()
    details_columns = [c for c in DETAIL_COLUMNS if c in selected.columns]
    rows = []
    for row in selected.iter_rows(named=True):
        tests = list(row.get("tests") or [])
        rows.append({
            "org_id": org_id, "engagement_id": run.engagement_id, "run_id": run_id, "kind": kind,
            "entity_id": str(row["entity_id"]), "item_key": str(row["journal_id"]),
            "risk_score": float(row["risk_score"]), "risk_band": str(row["risk_band"]), "tests": tests,
            "tests_index": "," + ",".join(tests) + "," if tests else "",
            "details": _json_ready({c: row[c] for c in details_columns}),
            "status": FindingStatus.open.value, "created_at": now, "updated_at": now,
        })
    if rows:
        session.execute(sa.insert(Finding), rows)
    counts = {band: int(n) for band, n in selected.group_by("risk_band").len().sort("risk_band").iter_rows()}
    audit_trail.record(
        session, actor=actor, action="findings.record", resource_type="run", resource_id=run_id, org_id=org_id,
        details={"engagement_id": run.engagement_id, "kind": kind, "findings": len(rows), "by_band": counts,
                 "bands_recorded": wanted, "entries": entries.height, "entries_sha256": entries_sha256},
    )
    return len(rows)


def get_finding(session: Session, finding_id: int, *, org_id: int, for_update: bool = False) -> Finding:
    query = select(Finding).where(Finding.id == finding_id, Finding.org_id == org_id)
    if for_update:
        query = query.with_for_update()
    finding = session.exec(query).scalars().first()
    if finding is None:
        raise NotFound(f"finding {finding_id} not found")
    return finding


def list_findings(
    session: Session,
    org_id: int,
    *,
    run_id: int | None = None,
    engagement_id: int | None = None,
    band: str | None = None,
    test: str | None = None,
    status: FindingStatus | str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Finding]:
    """Findings of one organization, riskiest first, filtered by run, engagement, band, test or status."""
    if not 1 <= limit <= 10_000 or offset < 0:
        raise ValueError("limit must be 1-10000 and offset non-negative")
    query = select(Finding).where(Finding.org_id == org_id)
    if run_id is not None:
        query = query.where(Finding.run_id == run_id)
    if engagement_id is not None:
        query = query.where(Finding.engagement_id == engagement_id)
    if band is not None:
        query = query.where(Finding.risk_band == band)
    if test is not None:
        query = query.where(col(Finding.tests_index).contains(f",{test},", autoescape=True))
    if status is not None:
        query = query.where(Finding.status == FindingStatus(status))
    query = query.order_by(col(Finding.risk_score).desc(), col(Finding.id)).limit(limit).offset(offset)
    return list(session.exec(query).scalars().all())


def finding_history(session: Session, finding_id: int, *, org_id: int) -> list[FindingDisposition]:
    get_finding(session, finding_id, org_id=org_id)
    query = select(FindingDisposition).where(FindingDisposition.finding_id == finding_id,
                                             FindingDisposition.org_id == org_id)
    return list(session.exec(query.order_by(FindingDisposition.id)).scalars().all())


def record_disposition(
    session: Session,
    finding_id: int,
    disposition: Disposition | str,
    comment: str,
    evidence_uri: str | None = None,
    *,
    org_id: int,
    actor: Actor,
) -> FindingDisposition:
    """Conclude on a finding (cleared, exception or escalated) with the reason and the evidence.

    Appends to the finding's history and sets its status; a new conclusion supersedes the previous one
    without erasing it. Refused for a finalized engagement; one audit event per disposition.
    """
    try:
        outcome = Disposition(disposition)
    except ValueError:
        raise StoreError(f"{disposition!r} is not a disposition; dispositions are "
                         f"{', '.join(d.value for d in Disposition)}") from None
    if not comment or not comment.strip():
        raise StoreError("a disposition must say why: give a comment")
    audit_trail.lock_chain(session)
    finding = get_finding(session, finding_id, org_id=org_id, for_update=True)
    _refuse_finalized(session, finding.engagement_id, org_id, f"disposition of finding {finding_id}")
    previous = FindingStatus(finding.status)
    entry = FindingDisposition(org_id=org_id, finding_id=finding.id, disposition=outcome, comment=comment.strip(),
                               evidence_uri=evidence_uri, actor=audit_trail.actor_name(actor))
    finding.status = FindingStatus(outcome.value)
    finding.updated_at = utc_now()
    session.add(entry)
    session.add(finding)
    session.flush()
    audit_trail.record(
        session, actor=actor, action="finding.disposition", resource_type="finding", resource_id=finding.id,
        org_id=org_id,
        details={"run_id": finding.run_id, "engagement_id": finding.engagement_id, "kind": finding.kind,
                 "entity_id": finding.entity_id, "item_key": finding.item_key, "from": previous,
                 "to": outcome, "comment": entry.comment, "evidence_uri": evidence_uri,
                 "disposition_id": entry.id},
    )
    return entry


@event.listens_for(OrmSession, "before_flush")
def refuse_findings_of_finalized_engagements(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Backstop for ORM changes that bypass the services: a finalized engagement's findings are read-only."""
    engagement_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Finding) and obj.engagement_id is not None:
            engagement_ids.add(obj.engagement_id)
        elif isinstance(obj, FindingDisposition):
            with session.no_autoflush:
                finding = session.get(Finding, obj.finding_id)
            if finding is not None and finding.engagement_id is not None:
                engagement_ids.add(finding.engagement_id)
    if not engagement_ids:
        return
    with session.no_autoflush:
        finalized = session.execute(
            select(Engagement.id).where(col(Engagement.id).in_(engagement_ids),
                                        Engagement.state == EngagementState.finalized)
        ).scalars().all()
    if finalized:
        raise EngagementFinalized(f"engagement {finalized[0]} is finalized and read-only; refused a change to "
                                  "its findings")


__all__ = [
    "Disposition",
    "Finding",
    "FindingDisposition",
    "FindingDispositionPublic",
    "FindingPublic",
    "FindingStatus",
    "finding_history",
    "get_finding",
    "list_findings",
    "record_disposition",
    "record_findings",
]
