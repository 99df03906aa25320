"""``auditray tb ...`` end to end: a generated engagement, a QuickBooks export and a German DATEV list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.tb_helpers import TB_DATA, classifier_dir, trained_classifier


@pytest.fixture(scope="module")
def engagement(tmp_path_factory: pytest.TempPathFactory):
    from auditray.generate import GeneratorConfig, generate_engagement

    return generate_engagement(GeneratorConfig(seed=33, n_lines=12_000, n_entities=2),
                               tmp_path_factory.mktemp("tb_cli"))


@pytest.fixture
def cli(settings, monkeypatch: pytest.MonkeyPatch):
    """Invoke ``auditray`` in-process on a fresh data directory that already holds the trained classifier
    and a firm."""
    from auditray.cli import commands  # noqa: F401  (registers every command module)
    from auditray.cli.app import app
    from auditray.store import OrganizationCreate, init_db, make_engine, session_scope
    from auditray.store import services as svc

    trained_classifier()
    shutil.copytree(classifier_dir() / "tb", settings.data_dir / "tb", dirs_exist_ok=True)
    init_db(settings.resolved_database_url)
    db = make_engine(settings.resolved_database_url)
    with session_scope(db) as session:
        svc.create_organization(session, OrganizationCreate(name="Firm LLP", slug="firm"))
    db.dispose()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def _events(settings, action: str) -> list:
    from auditray import audit_trail
    from auditray.store import make_engine, session_scope

    db = make_engine(settings.resolved_database_url)
    try:
        with session_scope(db) as session:
            return audit_trail.events(session, action=action)
    finally:
        db.dispose()


@pytest.mark.slow
def test_map_override_and_map_next_period_on_a_generated_engagement(cli, settings, engagement, tmp_path) -> None:
    prior_out, current_out = tmp_path / "prior.parquet", tmp_path / "current.parquet"
    result = cli("tb", "map", engagement.trial_balance_prior, "--out", prior_out, "--client", "acme", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["recorded"] and summary["accounts"] == pl.read_parquet(engagement.trial_balance_prior).height
    prior = pl.read_parquet(prior_out)
    assert {"fsli", "confidence", "mapping_source", "needs_review", "suggested_fsli"} <= set(prior.columns)

    result = cli("tb", "override", "acme", "1000", "cash", "--reason", "operating account, agreed to the bank letter",
                 "--name", "Cash - operating")
    assert result.exit_code == 0, result.output
    result = cli("tb", "map", engagement.trial_balance, "--out", current_out, "--client", "acme")
    assert result.exit_code == 0, result.output
    current = pl.read_parquet(current_out)
    sources = set(current["mapping_source"].to_list())
    assert "prior_period" in sources
    overridden = current.filter(pl.col("gl_account_number") == "1000")
    assert overridden.height == 2 and overridden["mapping_source"].unique().to_list() == ["override"]
    assert len(_events(settings, "tb.mapping_run")) == 2
    (override_event,) = _events(settings, "tb.override_set")
    assert override_event.details["to_fsli"] == "cash"


def test_reconcile_passes_a_complete_ledger_and_names_a_broken_account(cli, engagement, tmp_path) -> None:
    result = cli("tb", "reconcile", engagement.trial_balance, engagement.out_dir / "gl_detail")
    assert result.exit_code == 0, result.output
    assert "Reconciled." in result.output
    tampered = pl.read_parquet(engagement.trial_balance).with_columns(
        closing_balance=pl.when(pl.col("gl_account_number") == "1100").then(pl.col("closing_balance") * 2)
        .otherwise(pl.col("closing_balance")))
    tampered.write_parquet(tmp_path / "tampered.parquet")
    result = cli("tb", "reconcile", tmp_path / "tampered.parquet", engagement.out_dir / "gl_detail", "--out",
                 tmp_path / "rollforward.csv")
    assert result.exit_code == 1
    assert "1100" in result.output and "difference" in result.output and "DOES NOT BALANCE" in result.output
    assert (tmp_path / "rollforward.csv").is_file()


def test_statements_balance_and_write_every_schedule(cli, engagement, tmp_path) -> None:
    out = tmp_path / "statements"
    result = cli("tb", "statements", engagement.trial_balance, "--prior", engagement.trial_balance_prior,
                 "--materiality", "250000", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Total liabilities and equity" in result.output and "Current ratio" in result.output
    for name in ("lead_schedules.csv", "balance_sheet.csv", "income_statement.csv", "ratios.csv",
                 "fluctuations.csv", "mapped_tb.parquet"):
        assert (out / name).is_file(), name
    bs = pl.read_csv(out / "balance_sheet.csv", schema_overrides={"amount": pl.String})
    assert set(bs.filter(pl.col("line") == "difference")["amount"].to_list()) == {"0.00"}


def test_a_quickbooks_export_maps_with_the_period_given_on_the_command_line(cli, tmp_path) -> None:
    source = TB_DATA / "quickbooks_trial_balance.csv"
    result = cli("tb", "map", source, "--out", tmp_path / "qb.csv")
    assert result.exit_code == 2
    assert "--fiscal-year" in result.output
    result = cli("tb", "map", source, "--entity", "NW01", "--fiscal-year", "2025", "--period", "12",
                 "--out", tmp_path / "qb.csv")
    assert result.exit_code == 0, result.output
    mapped = pl.read_csv(tmp_path / "qb.csv")
    expected = pl.read_csv(TB_DATA / "quickbooks_labels.csv")
    joined = mapped.join(expected.select("gl_account_name", pl.col("fsli").alias("expected")), on="gl_account_name")
    assert joined.height == mapped.height == 62
    automatic = joined.filter(~pl.col("needs_review"))
    assert (automatic["fsli"] == automatic["expected"]).mean() >= 0.95


def test_a_german_datev_list_maps_through_its_column_mapping(cli, tmp_path) -> None:
    out = tmp_path / "datev.json"
    result = cli("tb", "map", TB_DATA / "datev_saldenliste.csv", "--mapping", TB_DATA / "datev_mapping.yaml",
                 "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["accounts"] == 63 and summary["entities"] == ["DE10"]
    mapped = pl.read_json(out)
    by_number = dict(zip(mapped["gl_account_number"].to_list(), mapped["fsli"].to_list(), strict=True))
    assert by_number["1800"] == "cash" and by_number["3300"] == "accounts_payable"
    assert by_number["4200"] == "revenue" and by_number["6000"] == "salaries_and_wages"


@pytest.mark.parametrize(("args", "says"), [
    (["tb", "override", "acme", "1000", "casch", "--reason", "x"], "did you mean cash"),
    (["tb", "override", "acme", "1000", "--reason", "x"], "give the line item"),
    (["tb", "map", "TB", "--out", "mapped.txt"], "write .parquet, .csv or .json"),
    (["tb", "map", "TB", "--out", "m.csv", "--retrain"], "work with --client"),
    (["tb", "statements", "TB", "--prior", "TB"], "fluctuations need"),
    (["tb", "statements", "TB", "--materiality", "lots"], "is not an amount"),
])
def test_bad_arguments_get_clear_errors(cli, engagement, tmp_path, args: list[str], says: str) -> None:
    args = [str(engagement.trial_balance) if a == "TB" else a for a in args]
    args = [str(tmp_path / a) if a.startswith(("mapped.", "m.")) else a for a in args]
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.replace("│", " ").split())


def test_chart_and_evaluate_report_what_the_mapper_stands_on(cli) -> None:
    result = cli("tb", "chart")
    assert result.exit_code == 0 and "allowance_doubtful_accounts" in result.output
    result = cli("tb", "evaluate", "--json")
    figures = json.loads(result.output)
    assert figures["automatic_accuracy"] >= 0.95 and figures["review_share"] <= 0.15


def test_the_job_entrypoint_normalizes_reconciles_and_drafts(settings, engagement, tmp_path: Path) -> None:
    from jobs.tb_normalize import main

    trained_classifier()
    shutil.copytree(classifier_dir() / "tb", settings.data_dir / "tb", dirs_exist_ok=True)
    out = tmp_path / "job"
    summary = main(["--tb", str(engagement.trial_balance), "--prior", str(engagement.trial_balance_prior),
                    "--gl", str(engagement.out_dir / "gl_detail"), "--chart", str(engagement.chart_of_accounts),
                    "--out", str(out), "--engine", "local", "--materiality", "250000", "--json"])
    assert summary["reconciliation"]["reconciled"] is True
    assert summary["statements_balance"] is True
    assert (out / "mapped_tb.parquet").is_file() and (out / "fluctuations.csv").is_file()


def test_a_quickbooks_online_report_maps_with_the_period_from_its_title(cli, tmp_path) -> None:
    report = tmp_path / "qbo_tb.csv"
    report.write_text('Acme Inc\nTrial Balance\nAs of December 31, 2025\n\n,Debit,Credit\nChecking,"12,000.00",\n'
                      'Accounts Receivable (A/R),"5,000.00",\nAccounts Payable (A/P),,"3,000.00"\n'
                      'Opening Balance Equity,,"14,000.00"\nTOTAL,"$17,000.00","$17,000.00"\n')
    result = cli("tb", "map", report, "--out", tmp_path / "mapped.csv")
    assert result.exit_code == 0, result.output
    mapped = pl.read_csv(tmp_path / "mapped.csv")
    assert dict(zip(mapped["gl_account_name"], mapped["fsli"], strict=True)) == {
        "Checking": "cash", "Accounts Receivable (A/R)": "accounts_receivable",
        "Accounts Payable (A/P)": "accounts_payable", "Opening Balance Equity": "retained_earnings"}
    assert set(mapped["fiscal_year"]) == {2025} and set(mapped["period"]) == {12}
