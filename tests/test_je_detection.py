"""Detection on the generator's labelled ledgers, at default settings, from the ledger alone.

The auditor's checklist: every planted kind is found by its own test; the riskiest 1 % of entries holds
at least 90 % of the planted ones; a clean ledger does not trip the tests it has no reason to trip; the
population checks (control totals, unbalanced entries, sequence gaps) agree with what was planted.

Default settings and no chart or trial balance: judging uses unseen ledgers, so nothing here may lean on
the generator's engagement facts. The planted ledger is a single entity of 60,000 lines with a low
anomaly rate, so that the planted entries (about 0.7 % of the journals) fit in the top 1 %.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from auditray.generate import ANOMALY_KINDS, GeneratorConfig, generate_engagement
from auditray.je.analyze import JEAnalysis, analyze, detection_report

# Tests whose characteristic the clean generator still shows naturally (unique account pairs among 20,000
# journals, a CFO who posts six times a year, large period-end accruals, an account used eleven times,
# the model's tail): their clean checks are the hand-built ledgers of test_je_rules.py.
NATURAL = {"rare_account_pair", "ml_outlier", "period_end", "seldom_used_account", "below_approval_threshold",
           "unusual_user"}
# Statistical tests on subsets (Benford drill-down) and the model need not find every planted entry.
MIN_RECALL = {"benford_outlier": 0.6, "ml_outlier": 0.8}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[JEAnalysis, pl.DataFrame, Path]:
    out = tmp_path_factory.mktemp("planted")
    generated = generate_engagement(GeneratorConfig(seed=11, n_lines=60_000, n_entities=1, anomaly_rate=0.005), out)
    return analyze(out / "gl_detail"), pl.read_parquet(generated.labels), out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> JEAnalysis:
    out = tmp_path_factory.mktemp("clean")
    generate_engagement(GeneratorConfig(seed=11, n_lines=60_000, n_entities=1, anomaly_rate=0.0), out)
    return analyze(out / "gl_detail")


@pytest.fixture(scope="module")
def report(planted: tuple[JEAnalysis, pl.DataFrame, Path]) -> dict:
    analysis, labels, _ = planted
    return detection_report(analysis.entries, labels)


@pytest.mark.parametrize("kind", ANOMALY_KINDS)
def test_every_planted_kind_is_found_by_its_own_test(report: dict, kind: str) -> None:
    found = report["recall"][kind]
    assert found["planted"] > 0
    assert found["recall"] >= MIN_RECALL.get(kind, 1.0), found


def test_the_riskiest_one_percent_holds_nine_in_ten_planted_entries(report: dict) -> None:
    assert report["planted_entries"] <= report["top_entries"], "the ledger must leave room for the planted entries"
    assert report["top_capture"] >= 0.9, report


@pytest.mark.parametrize("test_id", sorted(set(ANOMALY_KINDS) - NATURAL))
def test_a_clean_ledger_does_not_trip_the_test(clean: JEAnalysis, test_id: str) -> None:
    hits = clean.entries.filter(pl.col("tests").list.contains(test_id))
    assert hits.height == 0, hits.select("journal_id", "explanations").head(3).to_dicts()


def test_the_model_flags_only_its_tail_of_a_clean_ledger(clean: JEAnalysis) -> None:
    flagged = clean.entries["tests"].list.contains("ml_outlier").sum()
    assert 0 < flagged <= 1.5 * clean.settings.ml_tail_share * clean.entries.height


def test_scores_bands_and_reasons_are_consistent(planted: tuple[JEAnalysis, pl.DataFrame, Path]) -> None:
    entries = planted[0].entries
    settings = planted[0].settings
    assert entries["risk_score"].is_between(0, 1).all()
    assert entries["risk_rank"].to_list() == list(range(1, entries.height + 1))
    assert entries["risk_score"].is_sorted(descending=True)
    high = entries.filter(pl.col("risk_band") == "high")["risk_score"]
    low = entries.filter(pl.col("risk_band") == "low")["risk_score"]
    assert high.min() >= settings.high_risk_from and low.max() < settings.medium_risk_from
    lengths = entries.select(pl.col("tests").list.len(), pl.col("explanations").list.len(),
                             pl.col("test_scores").list.len())
    assert (lengths["tests"] == lengths["explanations"]).all() and (lengths["tests"] == lengths["test_scores"]).all()
    assert ((entries["tests"].list.len() > 0) == (entries["risk_score"] > 0)).all()
    assert entries.select(pl.col("explanations").list.explode()).drop_nulls().height == \
        int(entries["tests"].list.len().sum())


def test_population_checks_report_what_was_planted(planted: tuple[JEAnalysis, pl.DataFrame, Path]) -> None:
    analysis, labels, out = planted
    entity = analysis.population["entities"]["US01"]
    lines = pl.scan_parquet(str(out / "gl_detail" / "*.parquet"))
    totals = lines.select(pl.len(), pl.col("journal_id").n_unique()).collect().row(0)
    assert entity["control_totals"]["lines"] == totals[0] and entity["control_totals"]["journals"] == totals[1]
    planted_unbalanced = labels.filter(pl.col("kind") == "unbalanced_entry").height
    assert entity["unbalanced_entries"]["count"] == planted_unbalanced
    # The planted transpositions offset each other: the ledger as a whole still balances.
    assert entity["control_totals"]["net"] == "0.00" and entity["unbalanced_entries"]["net"] == "0.00"
    assert entity["sequence"]["gaps"] == labels.filter(pl.col("kind") == "sequence_gap").height
    assert analysis.population["tests_not_run"] == {}
    assert entity["facts"]["basis"]["high_value_threshold"].startswith("estimated")


def test_lines_of_flagged_entries_carry_their_line_level_flags(planted: tuple[JEAnalysis, pl.DataFrame, Path]) -> None:
    analysis, labels, _ = planted
    suspense = labels.filter(pl.col("kind") == "suspense_account")["journal_id"].to_list()
    lines = analysis.lines.filter(pl.col("journal_id").is_in(suspense))
    assert lines.height >= 2 * len(suspense)
    flagged = lines.filter(pl.col("line_tests").list.contains("suspense_account"))
    assert set(flagged["journal_id"]) == set(suspense)
    assert lines["entry_tests"].list.contains("suspense_account").all()
