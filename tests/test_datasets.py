"""Registering evidence: a validated file lands in the store whole, with its audit event, or not at all."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from auditray import audit_trail
from auditray.datasets import DuplicateDataset, dataset_files, ingest, scan
from auditray.ingest import IngestError
from auditray.settings import Settings
from auditray.store import EngagementFinalized, session_scope
from auditray.store import services as svc

ADS_GL = """Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,Entry_Date,GL_Account_Number,Amount,Amount_Credit_Debit_Indicator,Entered_By,JE_Line_Description
US01,JE-1,1,2025-03-31,2025-03-31,1000,1500.10,D,alice,Cash sale
US01,JE-1,2,2025-03-31,2025-03-31,4000,1500.10,C,alice,Cash sale
US01,JE-2,1,2025-04-01,2025-04-02,6100,0.20,D,bob,Bank fee
US01,JE-2,2,2025-04-01,2025-04-02,1000,0.20,C,bob,Bank fee
"""

BAD_GL = """Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,GL_Account_Number,Amount
US01,JE-1,1,2025-02-30,1000,12.00
US01,JE-1,2,2025-03-01,4000,twelve
"""


@pytest.fixture
def store_settings(tmp_path: Path, db_url: str, engine) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, env="test")


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_valid_ledger_is_stored_registered_and_audited(tmp_path, store_settings, engine, tenant, make_engagement):
    engagement_id = make_engagement()
    source = tmp_path / "gl.csv"
    source.write_text(ADS_GL)
    dataset = ingest(source, "gl_detail", org_id=tenant.org_id, actor=tenant.partner_email,
                     engagement_id=engagement_id, settings=store_settings)

    assert dataset.row_count == 4 and dataset.schema_version == "1.0"
    assert Path(dataset.uri).is_relative_to(store_settings.data_dir / "datasets")
    lines = scan(dataset).collect()
    assert lines["amount"].to_list() == [Decimal("1500.10"), Decimal("-1500.10"), Decimal("0.20"), Decimal("-0.20")]
    totals = dataset.profile["control_totals"]["US01"]
    assert totals["lines"] == "4" and totals["debits"] == "1500.30" and totals["credits"] == "-1500.30"
    assert dataset.profile["source_format"] == "ads"
    # Staging is empty again: the files moved, they were not copied.
    assert files_under(store_settings.data_dir / "staging") == []

    with session_scope(engine) as session:
        registered = audit_trail.events(session, org_id=tenant.org_id, action="dataset.register")
        assert [e.details["content_sha256"] for e in registered] == [dataset.content_sha256]
        assert audit_trail.verify(session).ok


def test_a_rejected_file_leaves_nothing_behind(tmp_path, store_settings, engine, tenant):
    source = tmp_path / "bad.csv"
    source.write_text(BAD_GL)
    with session_scope(engine) as session:
        events_before = len(audit_trail.events(session, limit=10_000))
    with pytest.raises(IngestError) as rejected:
        ingest(source, "gl_detail", org_id=tenant.org_id, actor=tenant.partner_email, settings=store_settings)
    message = str(rejected.value)
    assert "bad.csv" in message and "row 2" in message and "Effective_Date" in message
    assert "row 3" in message and "Amount" in message and "twelve" in message
    assert files_under(store_settings.data_dir / "datasets") == []
    assert files_under(store_settings.data_dir / "staging") == []
    with session_scope(engine) as session:
        assert svc.list_datasets(session, org_id=tenant.org_id) == []
        assert len(audit_trail.events(session, limit=10_000)) == events_before


def test_the_same_evidence_is_not_registered_twice(tmp_path, store_settings, engine, tenant, make_engagement):
    engagement_id = make_engagement()
    source = tmp_path / "gl.csv"
    source.write_text(ADS_GL)
    first = ingest(source, "gl_detail", org_id=tenant.org_id, actor=tenant.partner_email,
                   engagement_id=engagement_id, settings=store_settings)
    with pytest.raises(DuplicateDataset, match=f"already registered as dataset {first.id}"):
        ingest(source, "gl_detail", org_id=tenant.org_id, actor=tenant.partner_email,
               engagement_id=engagement_id, settings=store_settings)
    assert len(dataset_files(first.uri)) == 1
    assert [p.parent.parent.name for p in files_under(store_settings.data_dir / "datasets")] == ["gl_detail"]


def test_a_registration_refused_by_the_store_removes_the_moved_files(tmp_path, store_settings, engine, tenant,
                                                                     make_engagement):
    engagement_id = make_engagement()
    with session_scope(engine) as session:
        for state in ("fieldwork", "review", "finalized"):
            svc.transition_engagement(session, engagement_id=engagement_id, to_state=state,
                                      org_id=tenant.org_id, actor=tenant.partner_email)
    source = tmp_path / "gl.csv"
    source.write_text(ADS_GL)
    with pytest.raises(EngagementFinalized):
        ingest(source, "gl_detail", org_id=tenant.org_id, actor=tenant.partner_email,
               engagement_id=engagement_id, settings=store_settings)
    assert files_under(store_settings.data_dir / "datasets") == []
    assert files_under(store_settings.data_dir / "staging") == []


def test_stored_datasets_read_back_as_the_canonical_schema(tmp_path, store_settings, engine, tenant):
    from auditray.contract import GL_DETAIL

    source = tmp_path / "gl.csv"
    source.write_text(ADS_GL)
    dataset = ingest(source, "gl_detail", org_id=tenant.org_id, actor=tenant.partner_email, settings=store_settings)
    frame = scan(dataset).collect()
    assert frame.columns == GL_DETAIL.names
    assert frame.schema["amount"] == pl.Decimal(18, 2)
