"""Findings of a journal-entry run and their dispositions, on SQLite and PostgreSQL.

The review file must show what was flagged, who concluded what about it, when and on which evidence
(AU-C 230.09 / ISA 230.9): findings are filed in one audited batch, every disposition is its own audit
event, the history is kept, and a finalized engagement refuses both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from auditray import audit_trail
from auditray.store import AuditEvent, EngagementFinalized, JobRunCreate, NotFound, session_scope
from auditray.store import services as svc
from auditray.store.exceptions import StoreError
from auditray.store.findings import (
    Finding,
    FindingStatus,
    finding_history,
    list_findings,
    record_disposition,
    record_findings,
)
from sqlalchemy import Engine, func
from sqlmodel import select

from tests.store_fixtures import Tenant


def entries() -> pl.DataFrame:
    """Three entries as entries.parquet holds them: one high, one medium, one low."""
    return pl.DataFrame({
        "entity_id": ["US01", "US01", "DE01"],
        "journal_id": ["2500000017", "2500000018", "2500000099"],
        "risk_rank": [1, 2, 3],
        "risk_score": [0.91, 0.47, 0.05],
        "risk_band": ["high", "medium", "low"],
        "tests": [["post_closing", "round_amount"], ["suspense_account"], []],
        "test_scores": [[1.0, 1.0], [1.0], []],
        "explanations": [["entered 2026-02-03 after the closing date 2026-01-30, effective 2025-12-15",
                          "round amount 5000.00 on a line"], ["posting to suspense account 1990"], []],
        "effective_date": [date(2025, 12, 15), date(2025, 6, 2), date(2025, 3, 3)],
        "entered_by": ["JSMITH", "AJONES", "BATCH_AP"],
        "amount": [Decimal("5000.00"), Decimal("1234.56"), Decimal("99.99")],
        "line_count": [2, 2, 3],
        "ml_score": [0.97, None, 0.5],
    }, schema_overrides={"amount": pl.Decimal(18, 2)})


@pytest.fixture
def run_id(engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]) -> tuple[int, int]:
    engagement_id = make_engagement()
    with session_scope(engine) as session:
        run = svc.start_run(session, JobRunCreate(engagement_id=engagement_id, kind="je_analysis",
                                                  parameters={"input": "gl.csv"}, code_version="test"),
                            org_id=tenant.org_id, actor=tenant.partner_email)
        return run.id, engagement_id


def _events(session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_medium_and_high_entries_are_filed_in_one_audited_batch(engine: Engine, tenant: Tenant,
                                                                run_id: tuple[int, int]) -> None:
    run, engagement_id = run_id
    with session_scope(engine) as session:
        count = record_findings(session, run, entries(), org_id=tenant.org_id, actor=tenant.partner_email,
                                entries_sha256="ab" * 32)
    assert count == 2
    with session_scope(engine) as session:
        findings = list_findings(session, tenant.org_id, run_id=run)
        assert [f.item_key for f in findings] == ["2500000017", "2500000018"]
        first = findings[0]
        assert first.engagement_id == engagement_id and first.kind == "je_entry" and first.status == "open"
        assert first.tests == ["post_closing", "round_amount"]
        assert first.details["amount"] == "5000.00" and first.details["effective_date"] == "2025-12-15"
        assert first.details["explanations"][0].startswith("entered 2026-02-03")
        events = _events(session, "findings.record")
        assert len(events) == 1
        assert events[0].details["findings"] == 2 and events[0].details["by_band"] == {"high": 1, "medium": 1}
        assert events[0].details["entries_sha256"] == "ab" * 32
        assert audit_trail.verify(session).ok


def test_findings_filter_by_band_test_and_status(engine: Engine, tenant: Tenant, run_id: tuple[int, int]) -> None:
    run, _ = run_id
    with session_scope(engine) as session:
        record_findings(session, run, entries(), org_id=tenant.org_id, actor="system", bands=("low", "medium", "high"))
    with session_scope(engine) as session:
        assert len(list_findings(session, tenant.org_id, run_id=run)) == 3
        assert [f.item_key for f in list_findings(session, tenant.org_id, band="high")] == ["2500000017"]
        assert [f.item_key for f in list_findings(session, tenant.org_id, test="suspense_account")] == ["2500000018"]
        assert list_findings(session, tenant.org_id, test="suspense") == []
        assert [f.item_key for f in list_findings(session, tenant.org_id, limit=1, offset=1)] == ["2500000018"]
        assert len(list_findings(session, tenant.org_id, status="open")) == 3
        assert list_findings(session, tenant.org_id + 1) == []


def test_each_disposition_is_audited_and_the_history_kept(engine: Engine, tenant: Tenant,
                                                          run_id: tuple[int, int]) -> None:
    run, _ = run_id
    with session_scope(engine) as session:
        record_findings(session, run, entries(), org_id=tenant.org_id, actor="system")
    with session_scope(engine) as session:
        finding = list_findings(session, tenant.org_id, band="high")[0]
        record_disposition(session, finding.id, "escalated", "Post-closing entry: ask the controller",
                           org_id=tenant.org_id, actor="senior@firm.example")
        record_disposition(session, finding.id, "cleared", "Agreed to the board-approved accrual memo",
                           "s3://evidence/memo-17.pdf", org_id=tenant.org_id, actor="manager@firm.example")
    with session_scope(engine) as session:
        stored = session.get(Finding, finding.id)
        assert stored.status == FindingStatus.cleared
        history = finding_history(session, finding.id, org_id=tenant.org_id)
        assert [(h.disposition, h.actor) for h in history] == [("escalated", "senior@firm.example"),
                                                               ("cleared", "manager@firm.example")]
        assert history[1].evidence_uri == "s3://evidence/memo-17.pdf"
        events = _events(session, "finding.disposition")
        assert [(e.details["from"], e.details["to"]) for e in events] == [("open", "escalated"),
                                                                          ("escalated", "cleared")]
        assert events[1].actor == "manager@firm.example" and events[1].resource_id == str(finding.id)
        assert audit_trail.verify(session).ok


def test_a_disposition_must_say_why_and_be_a_known_conclusion(engine: Engine, tenant: Tenant,
                                                              run_id: tuple[int, int]) -> None:
    run, _ = run_id
    with session_scope(engine) as session:
        record_findings(session, run, entries(), org_id=tenant.org_id, actor="system")
        finding_id = list_findings(session, tenant.org_id)[0].id
    with pytest.raises(StoreError, match="say why"), session_scope(engine) as session:
        record_disposition(session, finding_id, "cleared", "  ", org_id=tenant.org_id, actor="a@firm.example")
    with pytest.raises(StoreError, match="not a disposition"), session_scope(engine) as session:
        record_disposition(session, finding_id, "ignored", "fine", org_id=tenant.org_id, actor="a@firm.example")
    with pytest.raises(NotFound), session_scope(engine) as session:
        record_disposition(session, finding_id, "cleared", "fine", org_id=tenant.org_id + 1, actor="a@firm.example")


def test_a_finalized_engagement_refuses_findings_and_dispositions(engine: Engine, tenant: Tenant,
                                                                  run_id: tuple[int, int]) -> None:
    run, engagement_id = run_id
    with session_scope(engine) as session:
        record_findings(session, run, entries(), org_id=tenant.org_id, actor="system")
        finding_id = list_findings(session, tenant.org_id)[0].id
        svc.finish_run(session, run_id=run, status="succeeded", org_id=tenant.org_id, actor="system")
        for state in ("fieldwork", "review", "finalized"):
            svc.transition_engagement(session, engagement_id=engagement_id, to_state=state, org_id=tenant.org_id,
                                      actor=tenant.partner_email)
    with pytest.raises(EngagementFinalized), session_scope(engine) as session:
        record_disposition(session, finding_id, "cleared", "too late", org_id=tenant.org_id, actor="a@firm.example")
    with pytest.raises(EngagementFinalized), session_scope(engine) as session:
        record_findings(session, run, entries(), org_id=tenant.org_id, actor="system")
    with pytest.raises(EngagementFinalized), session_scope(engine) as session:
        finding = session.get(Finding, finding_id)
        finding.status = FindingStatus.cleared
        session.add(finding)
        session.flush()
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Finding)).one() == 2
        assert session.get(Finding, finding_id).status == FindingStatus.open
