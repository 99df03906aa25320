"""The auditor's overrides and each period's mapping, kept per client, on SQLite and PostgreSQL alike:
an override wins next period, last period's mapping is the next one's prior layer, every decision is audited."""

from __future__ import annotations

import polars as pl
import pytest
from auditray import audit_trail
from auditray.store import EngagementFinalized, NotFound, session_scope
from auditray.store import services as svc
from auditray.store.mappings import (
    MappingRejected,
    client_overrides,
    list_overrides,
    org_override_examples,
    prior_period_mappings,
    remove_override,
    set_override,
)
from auditray.tb.service import map_for_client
from sqlalchemy import Engine

from tests.store_fixtures import Tenant
from tests.tb_helpers import classifier_dir, tb_rows, trained_classifier

ACCOUNTS = [
    ("1000", "Cash - operating", "500.00", "400.00"),
    ("1500", "Zorblax holding account", "300.00", "300.00"),
    ("2000", "Accounts payable", "-200.00", "-100.00"),
    ("3000", "Common stock", "-600.00", "-600.00"),
]


@pytest.fixture
def tb_settings(monkeypatch: pytest.MonkeyPatch):
    from auditray.settings import Settings

    trained_classifier()
    return Settings(data_dir=classifier_dir())


def _run(engine: Engine, tenant: Tenant, settings, *, fiscal_year: int, client: str = "acme", **kwargs):
    return map_for_client(tb_rows(ACCOUNTS, fiscal_year=fiscal_year), db=engine, org_id=tenant.org_id, client_key=client,
                          actor=tenant.partner_email, settings=settings, **kwargs)


def test_an_override_is_stored_per_client_and_audited(engine: Engine, tenant: Tenant) -> None:
    with session_scope(engine) as session:
        set_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1500",
                     fsli="investments", reason="shares in a supplier", actor=tenant.partner_email,
                     account_name="Zorblax holding account")
    with session_scope(engine) as session:
        set_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1500",
                     fsli="other_noncurrent_assets", reason="reclassified after review", actor=tenant.partner_email)
        stored = list_overrides(session, org_id=tenant.org_id, client_key="acme")
        assert [(o.gl_account_number, o.fsli, o.account_name) for o in stored] == [
            ("1500", "other_noncurrent_assets", "Zorblax holding account")]
        assert list_overrides(session, org_id=tenant.org_id, client_key="other") == []
        events = audit_trail.events(session, org_id=tenant.org_id, action="tb.override_set")
        assert [(e.details["from_fsli"], e.details["to_fsli"]) for e in events] == [
            (None, "investments"), ("investments", "other_noncurrent_assets")]
        assert events[-1].details["reason"] == "reclassified after review"
        assert audit_trail.verify(session).ok


@pytest.mark.parametrize(("fsli", "reason", "says"), [
    ("not_a_line", "why", "not a line item"),
    ("cash_on_hand", "why", "not a line item"),
    ("cash", "  ", "must say why"),
])
def test_an_override_must_name_a_line_item_and_a_reason(engine: Engine, tenant: Tenant, fsli: str, reason: str,
                                                        says: str) -> None:
    with session_scope(engine) as session, pytest.raises(MappingRejected, match=says):
        set_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1000", fsli=fsli,
                     reason=reason, actor=tenant.partner_email)


def test_an_override_wins_next_period_and_the_prior_mapping_carries_forward(engine: Engine, tenant: Tenant,
                                                                            tb_settings) -> None:
    first = _run(engine, tenant, tb_settings, fiscal_year=2024)
    zorblax = first.mapped.filter(pl.col("gl_account_number") == "1500").row(0, named=True)
    assert zorblax["mapping_source"] != "override"
    with session_scope(engine) as session:
        set_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1500",
                     fsli="investments", reason="equity stake", actor=tenant.partner_email,
                     account_name="Zorblax holding account")
    second = _run(engine, tenant, tb_settings, fiscal_year=2025)
    rows = {r["gl_account_number"]: r for r in second.mapped.iter_rows(named=True)}
    assert (rows["1500"]["fsli"], rows["1500"]["mapping_source"]) == ("investments", "override")
    assert rows["1000"]["mapping_source"] == "prior_period" and rows["1000"]["fsli"] == "cash"
    assert "FY2024 P12" in rows["1000"]["mapping_reason"]
    with session_scope(engine) as session:
        prior = prior_period_mappings(session, org_id=tenant.org_id, client_key="acme", before=(2026, 1))
        assert {p.gl_account_number: p.fsli for p in prior}["1500"] == "investments"
        assert {p.period_label for p in prior} == {"FY2025 P12"}


def test_each_mapping_run_lands_in_the_audit_trail_with_counts_and_hash(engine: Engine, tenant: Tenant,
                                                                        tb_settings) -> None:
    run = _run(engine, tenant, tb_settings, fiscal_year=2025)
    with session_scope(engine) as session:
        (event,) = audit_trail.events(session, org_id=tenant.org_id, action="tb.mapping_run")
        assert event.details["accounts"] == 4
        assert event.details["mapped"] + event.details["needs_review"] == 4
        assert event.details["output_sha256"] == run.recorded["output_sha256"]
        assert event.details["periods"] == ["E1 FY2025 P12"]
        assert event.details["mapper"]["classifier"]
    # Saving the same period again replaces its rows; the trail keeps both runs.
    _run(engine, tenant, tb_settings, fiscal_year=2025)
    with session_scope(engine) as session:
        assert len(audit_trail.events(session, org_id=tenant.org_id, action="tb.mapping_run")) == 2
        prior = prior_period_mappings(session, org_id=tenant.org_id, client_key="acme", before=(2026, 1))
        assert len({p.gl_account_number for p in prior}) == len(prior)


def test_retraining_uses_the_firms_overrides(engine: Engine, tenant: Tenant, tb_settings) -> None:
    with session_scope(engine) as session:
        for number, name in (("1910", "Zorblax holding account"), ("1920", "Zorblax holdings"),
                             ("1930", "Zorblax stake")):
            set_override(session, org_id=tenant.org_id, client_key="globex", gl_account_number=number,
                         fsli="investments", reason="equity stakes", actor=tenant.partner_email, account_name=name)
        assert len(org_override_examples(session, org_id=tenant.org_id)) == 3
    plain = _run(engine, tenant, tb_settings, fiscal_year=2025, client="acme", save=False)
    retrained = _run(engine, tenant, tb_settings, fiscal_year=2025, client="acme", save=False, retrain=True)

    def zorblax(run) -> dict:
        return run.mapped.filter(pl.col("gl_account_number") == "1500").row(0, named=True)

    assert zorblax(retrained)["suggested_fsli"] == "investments"
    assert zorblax(retrained)["confidence"] > zorblax(plain)["confidence"] or zorblax(plain)["suggested_fsli"] != \
        "investments"


def test_an_override_can_be_withdrawn_with_a_reason(engine: Engine, tenant: Tenant) -> None:
    with session_scope(engine) as session:
        set_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1000", fsli="cash",
                     reason="bank", actor=tenant.partner_email)
    with session_scope(engine) as session:
        remove_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1000",
                        actor=tenant.partner_email, reason="the rule does it")
        assert client_overrides(session, org_id=tenant.org_id, client_key="acme") == []
        (event,) = audit_trail.events(session, org_id=tenant.org_id, action="tb.override_remove")
        assert event.details["from_fsli"] == "cash"
    with session_scope(engine) as session, pytest.raises(NotFound):
        remove_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1000",
                        actor=tenant.partner_email, reason="again")


def test_tenants_never_see_each_others_overrides(engine: Engine, make_tenant) -> None:
    firm_a, firm_b = make_tenant("alpha"), make_tenant("beta")
    with session_scope(engine) as session:
        set_override(session, org_id=firm_a.org_id, client_key="acme", gl_account_number="1000", fsli="cash",
                     reason="bank", actor=firm_a.partner_email)
        assert client_overrides(session, org_id=firm_b.org_id, client_key="acme") == []


def test_a_finalized_engagement_takes_no_more_mapping_decisions(engine: Engine, tenant: Tenant, make_engagement
                                                                ) -> None:
    engagement_id = make_engagement()
    with session_scope(engine) as session:
        for state in ("fieldwork", "review", "finalized"):
            svc.transition_engagement(session, engagement_id=engagement_id, to_state=state, org_id=tenant.org_id,
                                      actor=tenant.partner_email)
    with session_scope(engine) as session, pytest.raises(EngagementFinalized):
        set_override(session, org_id=tenant.org_id, client_key="acme", gl_account_number="1000", fsli="cash",
                     reason="bank", actor=tenant.partner_email, engagement_id=engagement_id)
