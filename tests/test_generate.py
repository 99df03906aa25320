"""The synthetic engagement generator: reproducible, balanced, rolling forward, and honestly labelled."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from auditray.contract import CHART_OF_ACCOUNTS, GL_DETAIL, TRIAL_BALANCE
from auditray.contract.money import money_to_cents
from auditray.generate import (
    ANOMALY_KINDS,
    SUSPICIOUS_KEYWORDS,
    FiscalCalendar,
    GeneratorConfig,
    generate_engagement,
    us_federal_holidays,
)

SMALL = GeneratorConfig(seed=11, n_lines=20_000, export_formats=("ads_csv", "sap_csv"), monthly_trial_balances=True)


@pytest.fixture(scope="module")
def engagement(tmp_path_factory):
    return generate_engagement(SMALL, tmp_path_factory.mktemp("engagement"))


@pytest.fixture(scope="module")
def gl(engagement) -> pl.DataFrame:
    return pl.read_parquet(engagement.out_dir / "gl_detail").with_columns(cents=money_to_cents(pl.col("amount")))


@pytest.fixture(scope="module")
def meta(engagement) -> dict:
    return json.loads(engagement.engagement.read_text())


@pytest.fixture(scope="module")
def labels(engagement) -> pl.DataFrame:
    return pl.read_parquet(engagement.labels)


@pytest.fixture(scope="module")
def journals(gl) -> pl.DataFrame:
    """One row per journal with what the signature checks need."""
    return gl.group_by("entity_id", "journal_id").agg(
        pl.col("cents").sum().alias("balance"),
        pl.col("cents").clip(lower_bound=0).sum().alias("debits"),
        pl.col("cents").abs().max().alias("largest"),
        pl.col("effective_date").first(), pl.col("entry_date").first(), pl.col("entry_time").first(),
        pl.col("manual_entry").first(), pl.col("entered_by").first(), pl.col("approved_by").first(),
        pl.col("reversal_indicator").first().alias("reversal"),
        pl.col("je_header_description").first(), pl.col("je_line_description").is_null().all().alias("no_lines"),
        pl.col("gl_account_number"), pl.col("cents").alias("amounts"),
    )


def _digest(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _entity(meta: dict, entity_id: str) -> dict:
    return next(e for e in meta["entities"] if e["entity_id"] == entity_id)


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


# --- calendar ---------------------------------------------------------------------------------------------

def test_us_federal_holidays_2025_match_opm():
    assert us_federal_holidays(2025) == [
        date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 17), date(2025, 5, 26), date(2025, 6, 19),
        date(2025, 7, 4), date(2025, 9, 1), date(2025, 10, 13), date(2025, 11, 11), date(2025, 11, 27),
        date(2025, 12, 25)]


def test_us_federal_holidays_2026_observe_independence_day_on_friday():
    assert us_federal_holidays(2026) == [
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 5, 25), date(2026, 6, 19),
        date(2026, 7, 3), date(2026, 9, 7), date(2026, 10, 12), date(2026, 11, 11), date(2026, 11, 26),
        date(2026, 12, 25)]


def test_saturday_holidays_are_observed_on_friday_sunday_ones_on_monday():
    holidays_2027 = us_federal_holidays(2027)
    assert date(2027, 12, 24) in holidays_2027  # Christmas on a Saturday
    assert date(2027, 12, 31) in holidays_2027  # New Year's Day 2028 on a Saturday
    assert date(2027, 6, 18) in holidays_2027 and date(2027, 7, 5) in holidays_2027
    assert date(2022, 1, 1) not in us_federal_holidays(2022)  # observed on 2021-12-31 instead
    assert date(2021, 12, 31) in us_federal_holidays(2021)
    assert date(2023, 1, 2) in us_federal_holidays(2023)  # New Year's Day on a Sunday
    assert date(2020, 6, 19) not in us_federal_holidays(2020)  # before Juneteenth became a holiday


def test_fiscal_calendar_closing_date_and_non_calendar_years():
    calendar = FiscalCalendar(2025, closing_business_days=20)
    assert calendar.closing_date == date(2026, 1, 30)  # 20 business days, skipping 1 Jan and MLK day
    july = FiscalCalendar(2025, start_month=7)
    assert (july.start, july.end) == (date(2024, 7, 1), date(2025, 6, 30))
    assert july.last_business_day(12) == np.datetime64("2025-06-30")


# --- reproducibility and format -----------------------------------------------------------------------------

def test_same_seed_gives_identical_files_and_another_seed_does_not(engagement, tmp_path):
    again = generate_engagement(SMALL, tmp_path / "again")
    assert _digest(again.out_dir) == _digest(engagement.out_dir)
    other = generate_engagement(replace(SMALL, seed=12), tmp_path / "other")
    first, second = _digest(engagement.out_dir), _digest(other.out_dir)
    assert first.keys() == second.keys()
    assert first["gl_detail/part-00000.parquet"] != second["gl_detail/part-00000.parquet"]
    assert first["labels.parquet"] != second["labels.parquet"]


def test_outputs_follow_the_canonical_schemas_exactly(engagement):
    assert len(engagement.gl_detail_files) >= 36
    for path in engagement.gl_detail_files:
        schema = pq.read_schema(path)
        assert schema.equals(GL_DETAIL.schema, check_metadata=True)
        assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    assert pq.read_schema(engagement.trial_balance).equals(TRIAL_BALANCE.schema, check_metadata=True)
    assert pq.read_schema(engagement.trial_balance_prior).equals(TRIAL_BALANCE.schema, check_metadata=True)
    assert pq.read_schema(engagement.chart_of_accounts).equals(CHART_OF_ACCOUNTS.schema, check_metadata=True)


def test_size_and_summary_match_the_request(engagement, gl, meta):
    assert 0.9 * SMALL.n_lines <= gl.height <= 1.1 * SMALL.n_lines
    assert engagement.n_lines == gl.height
    assert engagement.n_journals == gl.select("entity_id", "journal_id").n_unique()
    assert [e["entity_id"] for e in meta["entities"]] == ["US01", "DE01", "GB01"]
    assert meta["seed"] == SMALL.seed and meta["parameters"]["n_lines"] == SMALL.n_lines
    assert meta["closing_date"] == "2026-01-30"
    assert set(meta["anomaly_signatures"]) == set(ANOMALY_KINDS)
    assert meta["batch_windows"]["BATCH_AR"] == [["22:00", "23:30"]]
    assert gl.filter(pl.col("je_header_description").is_null()).select("journal_id").n_unique() == \
        engagement.label_counts["missing_description"]


def test_chart_of_accounts_is_realistic_per_entity(engagement, meta):
    chart = pl.read_parquet(engagement.chart_of_accounts)
    sizes = chart.group_by("entity_id").len()
    assert sizes["len"].min() >= 250 and sizes["len"].max() <= 400
    assert set(chart["account_type"]) == {"asset", "liability", "equity", "revenue", "expense"}
    for entity in meta["entities"]:
        assert entity["suspense_accounts"] and entity["seldom_used_accounts"] and entity["intercompany_accounts"]
    names = chart.filter(pl.col("gl_account_number") == "1100").sort("entity_id")["gl_account_name"].to_list()
    assert len(set(names)) == len(names)  # each client spells trade receivables its own way


# --- balances ---------------------------------------------------------------------------------------------

def test_every_journal_balances_except_the_planted_unbalanced_ones(journals, labels):
    unbalanced = journals.filter(pl.col("balance") != 0).select("entity_id", "journal_id")
    planted = labels.filter(pl.col("kind") == "unbalanced_entry").select("entity_id", "journal_id")
    assert unbalanced.sort(pl.all()).equals(planted.sort(pl.all()))
    assert planted.height >= 4


def test_trial_balance_rolls_forward_from_the_ledger_to_the_cent(engagement, gl):
    tb = pl.read_parquet(engagement.trial_balance)
    activity = gl.group_by("entity_id", "gl_account_number").agg(pl.col("amount").cast(pl.Decimal(38, 2)).sum()
                                                                 .alias("activity"))
    joined = tb.join(activity, on=["entity_id", "gl_account_number"], how="full", coalesce=True)
    assert joined.filter(pl.col("closing_balance").is_null()).height == 0  # no GL account missing from the TB
    rows = joined.with_columns(pl.col("activity").fill_null(0)).iter_rows(named=True)
    for row in rows:
        assert Decimal(row["opening_balance"]) + Decimal(row["activity"]) == Decimal(row["closing_balance"]), row
    totals = tb.group_by("entity_id").agg(pl.col("opening_balance").cast(pl.Decimal(38, 2)).sum(),
                                          pl.col("closing_balance").cast(pl.Decimal(38, 2)).sum())
    assert all(v == 0 for v in totals["opening_balance"]) and all(v == 0 for v in totals["closing_balance"])


def test_trial_balance_looks_like_a_company(engagement, gl):
    tb = pl.read_parquet(engagement.trial_balance)
    chart = pl.read_parquet(engagement.chart_of_accounts)
    tb = tb.join(chart, on=["entity_id", "gl_account_number"])
    by_type = tb.group_by("entity_id", "account_type").agg(pl.col("opening_balance").sum(),
                                                           pl.col("closing_balance").sum())
    for row in by_type.iter_rows(named=True):
        if row["account_type"] == "asset":
            assert row["opening_balance"] > 0 and row["closing_balance"] > 0
        if row["account_type"] in ("liability", "equity"):
            assert row["opening_balance"] < 0
        if row["account_type"] == "revenue":
            assert row["opening_balance"] == 0 and row["closing_balance"] < 0
    cash = tb.filter(pl.col("account_subtype") == "cash").group_by("entity_id").agg(pl.col("closing_balance").sum())
    assert (cash["closing_balance"] > 0).all()


def test_prior_year_trial_balance_closes_into_this_years_opening(engagement):
    tb = pl.read_parquet(engagement.trial_balance)
    prior = pl.read_parquet(engagement.trial_balance_prior)
    chart = pl.read_parquet(engagement.chart_of_accounts)
    assert set(prior["fiscal_year"]) == {2024} and set(prior["period"]) == {12}
    assert prior.group_by("entity_id").agg(pl.col("closing_balance").sum())["closing_balance"].to_list() == [0] * 3
    assert prior.group_by("entity_id").agg(pl.col("opening_balance").sum())["opening_balance"].to_list() == [0] * 3
    both = prior.join(tb, on=["entity_id", "gl_account_number"], how="full", coalesce=True, suffix="_now") \
        .join(chart, on=["entity_id", "gl_account_number"]).with_columns(pl.col(pl.Decimal).fill_null(0))
    balance_sheet = both.filter(pl.col("account_type").is_in(["asset", "liability", "equity"])
                                & (pl.col("account_subtype") != "equity"))
    assert (balance_sheet["closing_balance"] == balance_sheet["opening_balance_now"]).all()
    for entity_id, rows in both.group_by("entity_id"):
        prior_result = rows.filter(pl.col("account_type").is_in(["revenue", "expense"]))["closing_balance"].sum()
        assert prior_result < 0  # a profit, credit-signed
        retained = rows.filter(pl.col("gl_account_number") == "3200")
        assert retained["opening_balance_now"][0] == retained["closing_balance"][0] + prior_result


def test_monthly_trial_balances_reach_the_year_end_balance(engagement):
    monthly = pl.read_parquet(engagement.trial_balance_monthly)
    year_end = pl.read_parquet(engagement.trial_balance)
    assert sorted(set(monthly["period"])) == list(range(1, 13))
    assert monthly.filter(pl.col("period") == 12).drop("period").sort("entity_id", "gl_account_number").equals(
        year_end.drop("period").sort("entity_id", "gl_account_number"))


# --- the baseline ledger ----------------------------------------------------------------------------------

def test_amounts_follow_benford(gl, labels):
    baseline = gl.join(labels, on=["entity_id", "journal_id"], how="anti")
    amounts = baseline["cents"].abs().to_numpy()
    first = amounts // 10 ** np.floor(np.log10(amounts)).astype(np.int64)
    observed = np.bincount(first, minlength=10)[1:] / len(first)
    expected = np.log10(1 + 1 / np.arange(1, 10))
    assert np.abs(observed - expected).mean() < 0.006  # Nigrini's "close conformity" for first digits


def test_people_post_on_business_days_in_business_hours(gl, meta, labels):
    baseline = gl.join(labels, on=["entity_id", "journal_id"], how="anti")
    holidays = [date.fromisoformat(h["date"]) for h in meta["holidays"]]
    for column in ("effective_date", "entry_date"):
        assert baseline.filter(pl.col(column).dt.weekday() > 5).height == 0
        assert baseline.filter(pl.col(column).is_in(holidays)).height == 0
    manual = baseline.filter("manual_entry")
    assert manual.filter((pl.col("entry_time") < time(8)) | (pl.col("entry_time") >= time(18))).height == 0
    assert (baseline["entry_date"] >= baseline["effective_date"]).all()
    assert baseline.filter(pl.col("je_header_description").is_null() | pl.col("je_line_description").is_null()
                           ).height == 0


def test_recurring_entries_repeat_the_same_amounts(gl):
    rent = gl.filter((pl.col("entity_id") == "US01") & (pl.col("gl_account_number") == "6200"))
    assert rent.height == 12 and rent["cents"].n_unique() == 1
    depreciation = gl.filter((pl.col("entity_id") == "US01") & (pl.col("gl_account_number") == "7030"))
    assert depreciation.height == 12 and depreciation["cents"].n_unique() == 1
    payroll = gl.filter((pl.col("entity_id") == "US01") & (pl.col("gl_account_number") == "6000"))
    assert payroll.height == 24 and payroll["cents"].n_unique() == 1


def test_manual_entries_above_the_limit_are_approved_by_someone_else(gl, engagement):
    users = pl.read_parquet(engagement.users)
    manual = gl.filter("manual_entry").group_by("entity_id", "journal_id").agg(
        pl.col("cents").clip(lower_bound=0).sum().alias("total"), pl.col("entered_by").first(),
        pl.col("approved_by").first(), pl.col("approved_date").first(), pl.col("entry_date").first())
    limits = users.select("entity_id", pl.col("user_id").alias("entered_by"), "approval_limit", "authorised_poster")
    manual = manual.join(limits, on=["entity_id", "entered_by"])
    above = manual.filter(pl.col("total") > money_to_cents(pl.col("approval_limit").fill_null(10**12)))
    assert above.height > 0
    assert above.filter(pl.col("approved_by").is_null()).height == 0
    assert above.filter(pl.col("approved_by") == pl.col("entered_by")).height == 0
    assert (above["approved_date"] >= above["entry_date"]).all()


# --- labels and their signatures --------------------------------------------------------------------------

def test_every_kind_is_planted_and_every_label_names_a_real_journal(labels, journals, engagement):
    assert set(labels["kind"]) == set(ANOMALY_KINDS)
    for entity_id in ("US01", "DE01", "GB01"):
        kinds = labels.filter(pl.col("entity_id") == entity_id)["kind"]
        assert set(kinds) == set(ANOMALY_KINDS), entity_id
        assert kinds.value_counts()["count"].min() >= 3
    assert labels.join(journals, on=["entity_id", "journal_id"], how="anti").height == 0
    assert labels.filter(pl.col("detail").str.len_chars() == 0).height == 0
    csv = pl.read_csv(engagement.labels_csv, schema_overrides={"journal_id": pl.String})
    assert csv.equals(labels)


def _labelled(labels, journals, kind) -> pl.DataFrame:
    found = journals.join(labels.filter(pl.col("kind") == kind), on=["entity_id", "journal_id"])
    assert found.height == labels.filter(pl.col("kind") == kind).height > 0
    return found


def test_timing_signatures(labels, journals, meta):
    holidays = [date.fromisoformat(h["date"]) for h in meta["holidays"]]
    closing = date.fromisoformat(meta["closing_date"])
    year_end = date.fromisoformat(meta["fiscal_period_end"])
    weekend = _labelled(labels, journals, "weekend_posting")
    assert (weekend["entry_date"].dt.weekday() >= 6).all() and (weekend["effective_date"].dt.weekday() >= 6).all()
    holiday = _labelled(labels, journals, "holiday_posting")
    assert holiday["entry_date"].is_in(holidays).all()
    after = _labelled(labels, journals, "after_hours")
    assert ((after["entry_time"] < time(8)) | (after["entry_time"] >= time(18))).all() and after["manual_entry"].all()
    post = _labelled(labels, journals, "post_closing")
    assert (post["entry_date"] > closing).all() and (post["effective_date"] <= year_end).all()
    back = _labelled(labels, journals, "backdated")
    lag = (back["entry_date"] - back["effective_date"]).dt.total_days()
    assert (lag > meta["thresholds"]["backdated_days"]).all() and (back["entry_date"] <= closing).all()
    calendar = FiscalCalendar(meta["fiscal_year"])
    last_days = [calendar.last_business_day(p).astype(date) for p in range(1, 13)]
    period_end = _labelled(labels, journals, "period_end")
    assert period_end["effective_date"].is_in(last_days).all() and period_end["manual_entry"].all()
    for row in period_end.iter_rows(named=True):
        assert row["debits"] >= _cents(_entity(meta, row["entity_id"])["period_end_unusual_amount"])


def test_amount_signatures(labels, journals, meta, engagement):
    users = pl.read_parquet(engagement.users).select("entity_id", pl.col("user_id").alias("entered_by"),
                                                     "approval_limit")
    for row in _labelled(labels, journals, "high_value").iter_rows(named=True):
        assert row["largest"] > _cents(_entity(meta, row["entity_id"])["high_value_threshold"])
    rounds = _labelled(labels, journals, "round_amount")
    assert (rounds["debits"] % 100_000 == 0).all()
    below = _labelled(labels, journals, "below_approval_threshold").join(users, on=["entity_id", "entered_by"])
    limit = money_to_cents(pl.col("approval_limit"))
    assert below.filter((pl.col("debits") >= limit) | (pl.col("debits") < limit * 0.95)).height == 0
    assert below["approved_by"].is_null().all()
    split = _labelled(labels, journals, "split_entry").join(users, on=["entity_id", "entered_by"])
    groups = split.group_by("entity_id", "entered_by", "effective_date").agg(
        pl.len(), pl.col("debits").sum().alias("total"), pl.col("debits").max().alias("largest"),
        money_to_cents(pl.col("approval_limit").first()).alias("limit"),
        pl.col("gl_account_number").first())
    assert (groups["len"] >= 3).all()
    assert (groups["largest"] < groups["limit"]).all() and (groups["total"] > groups["limit"]).all()
    endings = _labelled(labels, journals, "recurring_ending").with_columns(ending=pl.col("debits") % 100_000)
    per_user = endings.group_by("entity_id", "entered_by", "ending").agg(pl.col("debits").n_unique())
    assert (per_user["debits"] >= 3).all()


def test_people_and_account_signatures(labels, journals, meta, engagement):
    chart = pl.read_parquet(engagement.chart_of_accounts)
    authorised = {(e["entity_id"], u) for e in meta["entities"] for u in e["authorised_posters"]}
    unusual = _labelled(labels, journals, "unusual_user")
    assert all((e, u) not in authorised for e, u in unusual.select("entity_id", "entered_by").iter_rows())
    posts = journals.group_by("entity_id", "entered_by").len()
    assert posts.join(unusual.select("entity_id", "entered_by"), on=["entity_id", "entered_by"])["len"].max() <= 3

    def accounts(kind: str, key: str) -> None:
        found = _labelled(labels, journals, kind)
        for row in found.iter_rows(named=True):
            assert set(row["gl_account_number"]) & set(_entity(meta, row["entity_id"])[key]), (kind, row)

    accounts("manual_to_sensitive_account", "sensitive_accounts")
    accounts("seldom_used_account", "seldom_used_accounts")
    accounts("suspense_account", "suspense_accounts")
    assert _labelled(labels, journals, "manual_to_sensitive_account")["manual_entry"].all()
    sensitive = chart.filter(pl.col("account_subtype").is_in(["cash", "revenue", "equity"]))
    assert sorted(sensitive.filter(pl.col("entity_id") == "US01")["gl_account_number"]) == \
        sorted(_entity(meta, "US01")["sensitive_accounts"])

    def pairs(frame: pl.DataFrame) -> pl.DataFrame:
        lines = frame.select("entity_id", "journal_id", "gl_account_number", "amounts").explode(
            "gl_account_number", "amounts")
        debit = lines.filter(pl.col("amounts") > 0).select("entity_id", "journal_id", debit="gl_account_number")
        credit = lines.filter(pl.col("amounts") < 0).select("entity_id", "journal_id", credit="gl_account_number")
        return debit.join(credit, on=["entity_id", "journal_id"]).unique()

    every_pair = pairs(journals)
    usage = every_pair.group_by("entity_id", "debit", "credit").agg(pl.col("journal_id").n_unique().alias("n"))
    rare = pairs(_labelled(labels, journals, "rare_account_pair")).join(usage, on=["entity_id", "debit", "credit"])
    assert (rare["n"] == 1).all()


def test_integrity_signatures(labels, journals, gl):
    for entity_id, frame in journals.group_by("entity_id"):
        numbers = set(frame["journal_id"].cast(pl.Int64))
        gaps = labels.filter((pl.col("kind") == "sequence_gap") & (pl.col("entity_id") == entity_id[0]))
        after_gap = {n for n in numbers if n - 1 not in numbers and n != min(numbers)}
        assert after_gap == set(gaps["journal_id"].cast(pl.Int64))
    keys = gl.select("entity_id", "journal_id", "gl_account_number", "effective_date", pl.col("cents").abs())
    dupes = keys.join(keys, on=["entity_id", "gl_account_number", "effective_date", "cents"]) \
        .filter(pl.col("journal_id") != pl.col("journal_id_right"))
    copies = labels.filter(pl.col("kind") == "duplicate_entry")
    originals = copies.with_columns(journal_id=pl.col("detail").str.extract(r"journal (\d{10})"))
    involved = pl.concat([copies.select("entity_id", "journal_id"), originals.select("entity_id", "journal_id")])
    assert dupes.select("entity_id", "journal_id").unique().sort(pl.all()).equals(involved.unique().sort(pl.all()))


def test_keyword_description_and_benford_signatures(labels, journals):
    keyword = _labelled(labels, journals, "suspicious_keyword")
    assert all(any(k in h.lower() for k in SUSPICIOUS_KEYWORDS) for h in keyword["je_header_description"])
    missing = _labelled(labels, journals, "missing_description")
    assert missing["je_header_description"].is_null().all() and missing["no_lines"].all()
    others = journals.join(keyword, on=["entity_id", "journal_id"], how="anti").drop_nulls("je_header_description")
    assert not any(any(k in h.lower() for k in SUSPICIOUS_KEYWORDS) for h in others["je_header_description"])
    fabricated = _labelled(labels, journals, "benford_outlier")
    for (entity_id,), rows in fabricated.group_by("entity_id"):
        assert rows["entered_by"].n_unique() == 1
        user = journals.filter((pl.col("entity_id") == entity_id) & (pl.col("entered_by") == rows["entered_by"][0]))
        digits = user["debits"].cast(pl.String).str.slice(0, 1).cast(pl.Int64).to_numpy()
        observed = np.bincount(digits, minlength=10)[1:] / len(digits)
        assert np.abs(observed - np.log10(1 + 1 / np.arange(1, 10))).mean() > 0.03  # far from Benford
    outliers = _labelled(labels, journals, "ml_outlier")
    lines = journals.explode("gl_account_number", "amounts")
    for row in outliers.iter_rows(named=True):
        expense = max(zip(row["amounts"], row["gl_account_number"]))[1]
        usual = lines.filter((pl.col("entity_id") == row["entity_id"]) & (pl.col("gl_account_number") == expense)
                             & (pl.col("journal_id") != row["journal_id"]))["amounts"].abs().median()
        assert max(row["amounts"]) > 50 * usual


SIMPLE_SIGNATURES = ("weekend_posting", "holiday_posting", "after_hours", "post_closing", "backdated",
                     "high_value", "round_amount", "missing_description", "suspicious_keyword", "unusual_user",
                     "manual_to_sensitive_account", "seldom_used_account", "suspense_account")


def test_each_signature_is_found_only_on_its_own_planted_journals(journals, labels, meta):
    """Separability: a test for one kind finds exactly that kind's labels, nothing in the baseline."""
    holidays = [date.fromisoformat(h["date"]) for h in meta["holidays"]]
    closing = date.fromisoformat(meta["closing_date"])
    entity = {e["entity_id"]: e for e in meta["entities"]}
    rows = []
    for row in journals.iter_rows(named=True):
        e = entity[row["entity_id"]]
        signatures = set()
        manual = row["manual_entry"]
        if row["entry_date"].weekday() >= 5 or row["effective_date"].weekday() >= 5:
            signatures.add("weekend_posting")
        if row["entry_date"] in holidays or row["effective_date"] in holidays:
            signatures.add("holiday_posting")
        if manual and not time(8) <= row["entry_time"] < time(18):
            signatures.add("after_hours")
        if row["entry_date"] > closing:
            signatures.add("post_closing")
        elif row["entry_date"] - row["effective_date"] > timedelta(days=meta["thresholds"]["backdated_days"]):
            signatures.add("backdated")
        # Small ledgers have invoices above performance materiality; people's entries (and their
        # automatic reversals) are what the high-value kind is planted on.
        if row["largest"] > _cents(e["high_value_threshold"]) and (manual or row["reversal"]):
            signatures.add("high_value")
        if any(abs(a) % 100_000 == 0 for a in row["amounts"]):
            signatures.add("round_amount")
        if row["je_header_description"] is None:
            signatures.add("missing_description")
        elif any(k in row["je_header_description"].lower() for k in SUSPICIOUS_KEYWORDS):
            signatures.add("suspicious_keyword")
        if row["entered_by"] not in e["authorised_posters"]:
            signatures.add("unusual_user")
        accounts = set(row["gl_account_number"])
        if manual and accounts & set(e["sensitive_accounts"]):
            signatures.add("manual_to_sensitive_account")
        if accounts & set(e["seldom_used_accounts"]):
            signatures.add("seldom_used_account")
        if accounts & set(e["suspense_accounts"]):
            signatures.add("suspense_account")
        for kind in signatures:
            rows.append((row["entity_id"], row["journal_id"], kind))
    found = pl.DataFrame(rows, schema=["entity_id", "journal_id", "kind"], orient="row")
    expected = labels.filter(pl.col("kind").is_in(SIMPLE_SIGNATURES)).select("entity_id", "journal_id", "kind")
    assert found.sort(pl.all()).equals(expected.sort(pl.all()))


# --- exports ----------------------------------------------------------------------------------------------

def test_ads_csv_has_ads_headers_and_round_trips_amounts(engagement, gl):
    ads = pl.read_csv(engagement.exports["ads_csv"], infer_schema=False)
    assert ads.columns[:3] == ["Business_Unit_Code", "Journal_ID", "Journal_ID_Line_Number"]
    assert {"Effective_Date", "Entry_Date", "Entry_Time", "GL_Account_Number", "Amount",
            "Amount_Credit_Debit_Indicator", "Entered_By", "Manual_Entry"} <= set(ads.columns)
    assert ads.columns.index("Amount_Credit_Debit_Indicator") == ads.columns.index("Amount") + 1
    assert ads.height == gl.height
    signed = ads.select(
        pl.col("Journal_ID"), pl.col("Effective_Date").str.to_date(),
        (pl.col("Amount").str.replace(".", "", literal=True).cast(pl.Int64)
         * pl.when(pl.col("Amount_Credit_Debit_Indicator") == "C").then(-1).otherwise(1)).alias("cents"))
    assert (signed["cents"].to_list() == gl["cents"].to_list())
    assert signed["Journal_ID"].to_list() == gl["journal_id"].to_list()
    assert signed["Effective_Date"].to_list() == gl["effective_date"].to_list()


def test_sap_csv_has_sap_fields_german_decimals_and_round_trips_amounts(engagement, gl):
    sap = pl.read_csv(engagement.exports["sap_csv"], separator=";", infer_schema=False)
    assert {"BUKRS", "BELNR", "BUZEI", "GJAHR", "MONAT", "BUDAT", "CPUDT", "CPUTM", "HKONT", "DMBTR", "SHKZG",
            "WAERS", "BKTXT", "SGTXT", "USNAM", "BLART"} <= set(sap.columns)
    assert sap["DMBTR"].str.contains(r"^\d+,\d\d$").all()
    assert set(sap["SHKZG"]) == {"S", "H"}
    assert sap["BUDAT"].str.contains(r"^\d\d\.\d\d\.\d{4}$").all()
    cents = (sap["DMBTR"].str.replace(",", "", literal=True).cast(pl.Int64)
             * sap["SHKZG"].replace_strict({"S": 1, "H": -1}, return_dtype=pl.Int64))
    assert cents.to_list() == gl["cents"].to_list()
    assert sap["BUDAT"].str.to_date("%d.%m.%Y").to_list() == gl["effective_date"].to_list()
    assert sap["BUZEI"].to_list() == gl["line_number"].cast(pl.String).str.zfill(3).to_list()


# --- clean ledgers and streaming --------------------------------------------------------------------------

def test_clean_ledger_has_no_labels_and_no_anomaly_signatures(tmp_path):
    clean = generate_engagement(GeneratorConfig(seed=5, n_lines=12_000, n_entities=2, anomaly_rate=0), tmp_path)
    assert clean.n_labels == 0 and pl.read_parquet(clean.labels).height == 0
    gl = pl.read_parquet(clean.out_dir / "gl_detail").with_columns(cents=money_to_cents(pl.col("amount")))
    meta = json.loads(clean.engagement.read_text())
    holidays = [date.fromisoformat(h["date"]) for h in meta["holidays"]]
    manual = gl.filter("manual_entry")
    assert manual.filter(pl.col("entry_date").dt.weekday() > 5).height == 0
    assert manual.filter(pl.col("entry_date").is_in(holidays)).height == 0
    assert manual.filter((pl.col("entry_time") < time(8)) | (pl.col("entry_time") >= time(18))).height == 0
    assert gl.group_by("entity_id", "journal_id").agg(pl.col("cents").sum()).filter(pl.col("cents") != 0).height == 0
    for (_,), frame in gl.group_by("entity_id"):
        numbers = np.sort(frame["journal_id"].unique().cast(pl.Int64).to_numpy())
        assert (np.diff(numbers) == 1).all()


def test_generation_streams_chunk_by_chunk(tmp_path):
    """Each chunk is on disk when its progress is reported, and memory is a chunk's, not the ledger's."""
    written: list[tuple[int, int]] = []

    def progress(lines: int) -> None:
        written.append((lines, len(list((tmp_path / "gl_detail").glob("*.parquet")))))

    config = GeneratorConfig(seed=3, n_lines=240_000, n_entities=1, max_chunk_lines=10_000)
    tracemalloc.start()
    result = generate_engagement(config, tmp_path, progress=progress)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [files for _, files in written] == list(range(1, len(result.gl_detail_files) + 1))
    assert sum(lines for lines, _ in written) == result.n_lines
    rows = [pq.ParquetFile(p).metadata.num_rows for p in result.gl_detail_files]
    assert len(rows) >= 24 and max(rows) <= 1.1 * config.max_chunk_lines
    # Holding the ledger would take far more than 100 bytes a line in numpy arrays alone.
    assert peak < 100 * result.n_lines


def test_non_calendar_fiscal_year_keeps_every_date_inside_it(tmp_path):
    result = generate_engagement(GeneratorConfig(seed=8, n_lines=9_000, n_entities=2, fiscal_year=2026,
                                                 fiscal_year_start_month=4), tmp_path)
    meta = json.loads(result.engagement.read_text())
    assert (meta["fiscal_period_start"], meta["fiscal_period_end"]) == ("2025-04-01", "2026-03-31")
    gl = pl.read_parquet(result.out_dir / "gl_detail")
    assert gl["effective_date"].min() >= date(2025, 4, 1) and gl["effective_date"].max() <= date(2026, 3, 31)
    by_period = gl.group_by("period").agg(pl.col("effective_date").dt.month().unique())
    assert dict(zip(by_period["period"], by_period["effective_date"].list.first())) == \
        {p: (p + 2) % 12 + 1 for p in range(1, 13)}
    tb = pl.read_parquet(result.trial_balance)
    assert set(tb["period_end_date"]) == {date(2026, 3, 31)}
    assert tb.group_by("entity_id").agg(pl.col("closing_balance").sum())["closing_balance"].to_list() == [0, 0]


def test_rerun_into_the_same_directory_leaves_no_stale_parts(tmp_path):
    generate_engagement(GeneratorConfig(seed=1, n_lines=24_000, n_entities=1, max_chunk_lines=10_000), tmp_path)
    smaller = generate_engagement(GeneratorConfig(seed=1, n_lines=9_000, n_entities=1), tmp_path)
    assert sorted((tmp_path / "gl_detail").iterdir()) == sorted(smaller.gl_detail_files)


@pytest.mark.parametrize("bad", [{"n_lines": 100}, {"anomaly_rate": -0.1}, {"export_formats": ("xlsx",)},
                                 {"fiscal_year_start_month": 13}])
def test_invalid_configurations_are_refused(bad, tmp_path):
    with pytest.raises(ValueError):
        generate_engagement(GeneratorConfig(**{"n_lines": 12_000, **bad}), tmp_path)
