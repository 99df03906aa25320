"""Trial-balance account mappings: the auditor's overrides and each period's saved mapping, per client.

An ``AccountMappingOverride`` is an auditor's decision that a client's account number belongs on a line
item of the standard chart, with the reason; it wins over every automatic layer from then on (next period
included) and is training data for the client's classifier. A ``PeriodAccountMapping`` row is one
account's mapping as a run saved it for a period; next period's run reads the latest earlier period as its
``prior_period`` layer.

Every decision is in the audit trail: one ``tb.override_set`` / ``tb.override_remove`` event per override
(with the previous and new line item), one ``tb.mapping_run`` event per saved run (counts by source, the
review count and the hash of the decisions), so the file shows who mapped what, how and when (AU-C 230.09
/ ISA 230.9). Services take the caller's session, never commit, and refuse a finalized engagement.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from auditray import audit_trail
from auditray.store.exceptions import EngagementFinalized, NotFound, StoreError
from auditray.store.models import Engagement, EngagementState
from auditray.store.types import utc_now

if TYPE_CHECKING:
    import polars as pl

    from auditray.store.services import Actor
    from auditray.tb.mapping import Override, PriorMapping


class AccountMappingOverride(SQLModel, table=True):
    """An auditor's decision: this client account belongs on this line item, for this reason."""

    __tablename__ = "tb_mapping_overrides"
    __table_args__ = (sa.UniqueConstraint("org_id", "client_key", "gl_account_number"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    client_key: str = Field(min_length=1, max_length=200)
    gl_account_number: str = Field(min_length=1, max_length=64)
    account_name: str | None = Field(default=None, max_length=500)
    fsli: str = Field(max_length=64)
    reason: str = Field(sa_type=sa.Text())
    set_by: str = Field(max_length=320)
    set_at: datetime = Field(default_factory=utc_now)


class PeriodAccountMapping(SQLModel, table=True):
    """One account's mapping as saved for a client's entity and period."""

    __tablename__ = "tb_period_mappings"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "client_key", "entity_id", "fiscal_year", "period", "gl_account_number"),
        sa.Index("ix_tb_period_mappings_client_period", "org_id", "client_key", "fiscal_year", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    engagement_id: int | None = Field(default=None, foreign_key="engagements.id", index=True)
    client_key: str = Field(max_length=200)
    entity_id: str = Field(max_length=64)
    fiscal_year: int
    period: int
    gl_account_number: str = Field(max_length=64)
    account_name: str | None = Field(default=None, max_length=500)
    fsli: str | None = Field(default=None, max_length=64)
    sub_line: str | None = Field(default=None, max_length=64)
    suggested_fsli: str | None = Field(default=None, max_length=64)
    confidence: float = 0.0
    mapping_source: str | None = Field(default=None, max_length=32)
    needs_review: bool = False
    run_hash: str = Field(max_length=64)
    saved_by: str = Field(max_length=320)
    saved_at: datetime = Field(default_factory=utc_now)


class MappingRejected(StoreError, ValueError):
    """An override or a mapping run names something the standard chart or the store does not accept."""


def _check_engagement(session: Session, engagement_id: int | None, org_id: int) -> None:
    if engagement_id is None:
        return
    engagement = session.exec(
        select(Engagement).where(Engagement.id == engagement_id, Engagement.org_id == org_id)
    ).first()
    if engagement is None:
        raise NotFound(f"engagement {engagement_id} not found")
    if engagement.state == EngagementState.finalized:
        raise EngagementFinalized(f"engagement {engagement.id} ({engagement.name}) is finalized and read-only")


def _line_item(fsli: str) -> str:
    from auditray.tb.standard_chart import standard_chart

    chart = standard_chart()
    if fsli not in chart or not chart[fsli].is_line_item:
        raise MappingRejected(f"{fsli!r} is not a line item of the standard chart; see `auditray tb chart`")
    return fsli


# --- Overrides --------------------------------------------------------------------------------------


def set_override(
    session: Session,
    *,
    org_id: int,
    client_key: str,
    gl_account_number: str,
    fsli: str,
    reason: str,
    actor: Actor,
    account_name: str | None = None,
    engagement_id: int | None = None,
) -> AccountMappingOverride:
    """Record (or change) the auditor's mapping of one client account, with its audit event."""
    if not reason or not reason.strip():
        raise MappingRejected("an override must say why: give a reason")
    if not client_key.strip() or not str(gl_account_number).strip():
        raise MappingRejected("an override needs the client and the account number")
    _line_item(fsli)
    audit_trail.lock_chain(session)
    _check_engagement(session, engagement_id, org_id)
    existing = session.exec(
        select(AccountMappingOverride).where(
            AccountMappingOverride.org_id == org_id,
            AccountMappingOverride.client_key == client_key,
            AccountMappingOverride.gl_account_number == str(gl_account_number),
        )
    ).first()
    previous = existing.fsli if existing else None
    override = existing or AccountMappingOverride(
        org_id=org_id, client_key=client_key, gl_account_number=str(gl_account_number), fsli=fsli,
        reason=reason, set_by=audit_trail.actor_name(actor),
    )
    override.fsli = fsli
    override.reason = reason.strip()
    override.account_name = account_name if account_name is not None else override.account_name
    override.set_by = audit_trail.actor_name(actor)
    override.set_at = utc_now()
    session.add(override)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="tb.override_set",
        resource_type="tb_mapping_override",
        resource_id=override.id,
        org_id=org_id,
        details={
            "client_key": client_key,
            "gl_account_number": override.gl_account_number,
            "account_name": override.account_name,
            "from_fsli": previous,
            "to_fsli": fsli,
            "reason": override.reason,
            "engagement_id": engagement_id,
        },
    )
    return override


def remove_override(
    session: Session, *, org_id: int, client_key: str, gl_account_number: str, actor: Actor, reason: str
) -> None:
    """Withdraw an override (the automatic layers decide again), with its audit event."""
    if not reason or not reason.strip():
        raise MappingRejected("withdrawing an override must say why: give a reason")
    audit_trail.lock_chain(session)
    override = session.exec(
        select(AccountMappingOverride).where(
            AccountMappingOverride.org_id == org_id,
            AccountMappingOverride.client_key == client_key,
            AccountMappingOverride.gl_account_number == str(gl_account_number),
        )
    ).first()
    if override is None:
        raise NotFound(f"no override for account {gl_account_number} of client {client_key!r}")
    details = {"client_key": client_key, "gl_account_number": override.gl_account_number,
               "from_fsli": override.fsli, "reason": reason.strip()}
    resource_id = override.id
    session.delete(override)
    session.flush()
    audit_trail.record(session, actor=actor, action="tb.override_remove", resource_type="tb_mapping_override",
                       resource_id=resource_id, org_id=org_id, details=details)


def list_overrides(session: Session, *, org_id: int, client_key: str | None = None
                   ) -> list[AccountMappingOverride]:
    query = select(AccountMappingOverride).where(AccountMappingOverride.org_id == org_id)
    if client_key is not None:
        query = query.where(AccountMappingOverride.client_key == client_key)
    return list(session.exec(query.order_by(AccountMappingOverride.client_key,
                                            AccountMappingOverride.gl_account_number)).all())


def client_overrides(session: Session, *, org_id: int, client_key: str) -> list[Override]:
    """The client's overrides as the mapper takes them."""
    from auditray.tb.mapping import Override

    return [
        Override(gl_account_number=o.gl_account_number, fsli=o.fsli, account_name=o.account_name,
                 reason=o.reason, set_by=o.set_by)
        for o in list_overrides(session, org_id=org_id, client_key=client_key)
    ]


def org_override_examples(session: Session, *, org_id: int, client_key: str | None = None
                          ) -> list[tuple[str, str]]:
    """(account name, line item) pairs of the firm's (or one client's) overrides: classifier training data."""
    return [(o.account_name, o.fsli) for o in list_overrides(session, org_id=org_id, client_key=client_key)
            if o.account_name]


# --- Period mappings ----------------------------------------------------------------------------------


def prior_period_mappings(
    session: Session,
    *,
    org_id: int,
    client_key: str,
    before: tuple[int, int],
    entity_ids: Iterable[str] | None = None,
) -> list[PriorMapping]:
    """For each entity, the mapped accounts of its latest saved period before ``(fiscal_year, period)``."""
    from auditray.tb.mapping import PriorMapping

    year, period = before
    query = select(PeriodAccountMapping.entity_id, PeriodAccountMapping.fiscal_year,
                   PeriodAccountMapping.period).where(
        PeriodAccountMapping.org_id == org_id,
        PeriodAccountMapping.client_key == client_key,
        sa.or_(PeriodAccountMapping.fiscal_year < year,
               sa.and_(PeriodAccountMapping.fiscal_year == year, PeriodAccountMapping.period < period)),
    )
    if entity_ids is not None:
        query = query.where(col(PeriodAccountMapping.entity_id).in_(list(entity_ids)))
    latest: dict[str, tuple[int, int]] = {}
    for entity_id, fiscal_year, saved_period in session.exec(query.distinct()).all():
        if entity_id not in latest or (fiscal_year, saved_period) > latest[entity_id]:
            latest[entity_id] = (fiscal_year, saved_period)
    out: list[PriorMapping] = []
    for entity_id, (fiscal_year, saved_period) in sorted(latest.items()):
        rows = session.exec(
            select(PeriodAccountMapping).where(
                PeriodAccountMapping.org_id == org_id,
                PeriodAccountMapping.client_key == client_key,
                PeriodAccountMapping.entity_id == entity_id,
                PeriodAccountMapping.fiscal_year == fiscal_year,
                PeriodAccountMapping.period == saved_period,
                col(PeriodAccountMapping.fsli).is_not(None),
            )
        ).all()
        out.extend(
            PriorMapping(entity_id=r.entity_id, gl_account_number=r.gl_account_number, account_name=r.account_name,
                         fsli=r.fsli, period_label=f"FY{fiscal_year} P{saved_period}")
            for r in rows
        )
    return out


def save_mapping_run(
    session: Session,
    mapped: pl.DataFrame,
    *,
    org_id: int,
    client_key: str,
    actor: Actor,
    engagement_id: int | None = None,
    run_id: int | None = None,
    mapper: dict[str, Any] | None = None,
    source_name: str | None = None,
) -> dict[str, Any]:
    """Save a mapped trial balance as its periods' mappings and record one ``tb.mapping_run`` event.

    A period saved again replaces its earlier rows (the trail keeps the hash of both runs). Returns the
    event's details: counts by source, accounts to review, the decisions' hash.
    """
    from auditray.tb.mapping import mapping_hash, mapping_summary

    if not client_key.strip():
        raise MappingRejected("a saved mapping needs the client it belongs to")
    required = {"entity_id", "fiscal_year", "period", "gl_account_number", "fsli", "confidence",
                "mapping_source", "needs_review"}
    missing = required - set(mapped.columns)
    if missing:
        raise MappingRejected(f"the mapped trial balance lacks column(s) {', '.join(sorted(missing))}")
    audit_trail.lock_chain(session)
    _check_engagement(session, engagement_id, org_id)
    digest = mapping_hash(mapped)
    who = audit_trail.actor_name(actor)
    periods = sorted({(str(e), int(y), int(p)) for e, y, p in
                      mapped.select("entity_id", "fiscal_year", "period").unique().iter_rows()})
    for entity_id, fiscal_year, period in periods:
        session.execute(
            sa.delete(PeriodAccountMapping).where(
                PeriodAccountMapping.org_id == org_id,
                PeriodAccountMapping.client_key == client_key,
                PeriodAccountMapping.entity_id == entity_id,
                PeriodAccountMapping.fiscal_year == fiscal_year,
                PeriodAccountMapping.period == period,
            )
        )
    names = mapped["gl_account_name"] if "gl_account_name" in mapped.columns else None
    sub_lines = mapped["sub_line"] if "sub_line" in mapped.columns else None
    suggested = mapped["suggested_fsli"] if "suggested_fsli" in mapped.columns else None
    rows = []
    for i, row in enumerate(mapped.select("entity_id", "fiscal_year", "period", "gl_account_number", "fsli",
                                          "confidence", "mapping_source", "needs_review").iter_rows()):
        entity_id, fiscal_year, period, number, fsli, confidence, source, review = row
        rows.append({
            "org_id": org_id, "engagement_id": engagement_id, "client_key": client_key,
            "entity_id": str(entity_id), "fiscal_year": int(fiscal_year), "period": int(period),
            "gl_account_number": str(number),
            "account_name": (names[i] or None) if names is not None else None,
            "fsli": fsli, "sub_line": sub_lines[i] if sub_lines is not None else None,
            "suggested_fsli": suggested[i] if suggested is not None else None,
            "confidence": float(confidence or 0.0), "mapping_source": source, "needs_review": bool(review),
            "run_hash": digest, "saved_by": who, "saved_at": utc_now(),
        })
    if rows:
        session.execute(sa.insert(PeriodAccountMapping), rows)
    details = {
        **mapping_summary(mapped),
        "client_key": client_key,
        "periods": [f"{e} FY{y} P{p}" for e, y, p in periods],
        "output_sha256": digest,
        "engagement_id": engagement_id,
        "run_id": run_id,
        "mapper": mapper or {},
        "source_name": source_name,
    }
    audit_trail.record(session, actor=actor, action="tb.mapping_run", resource_type="tb_mapping",
                       resource_id=client_key[:64], org_id=org_id, details=details)
    return details
