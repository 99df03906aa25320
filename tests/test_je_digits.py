"""Digit tests (Benford's law, Nigrini 2012): the auditor's checklist.

Expected proportions match the published tables; digits come from the exact decimal value; amounts
below 10 are excluded; conforming populations conform and invented ones do not; Z, chi-square and
MAD are the textbook figures; subsets are judged by a rule neither small nor huge subsets fool; the
planted fabricator is found and a clean ledger flags nobody; both engines count the same; the
command line names the bad row.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from auditray.contract.money import cents_to_money
from auditray.engine import run
from auditray.generate import GeneratorConfig, generate_engagement
from auditray.je.digits import (
    CHI_SQUARE_MIN,
    DIGIT_TESTS,
    MAD_BANDS,
    benford_outlier_flags,
    benford_outlier_subsets,
    conformity,
    digit_counts,
    digit_profile,
    digit_profile_by,
    digit_test,
    expected_proportions,
    profile_from_counts,
    simulated_p_value,
    summation_test,
    z_statistic,
)
from auditray.je.digits_amounts import AmountFormatError, money_from_float
from scipy import stats

HEAVY = ("ray", "torch", "lancedb", "polars", "pyarrow", "sqlalchemy", "sentence_transformers", "sklearn", "scipy")


def money(*values: str) -> pl.Series:
    return pl.Series("amount", [Decimal(v) if v is not None else None for v in values], dtype=pl.Decimal(18, 2))


def benford_cents(n: int, seed: int) -> np.ndarray:
    """Exact cents drawn by inverse CDF from Benford's law: 10^U over whole orders of magnitude is Benford."""
    u = np.random.default_rng(seed).random(n)
    return np.floor(10 ** (3 + 5 * u)).astype(np.int64)  # 10.00 to 999,999.99


def as_money(cents: np.ndarray) -> pl.Series:
    return pl.select(cents_to_money(pl.lit(pl.Series(cents)))).to_series().alias("amount")


def observed(result, digit: int) -> int:
    return result.table.filter(pl.col("digit") == digit)["observed_count"].item()


# --- Expected proportions: as tabulated by Nigrini (2012). -----------------------------------------------

FIRST_DIGIT = {1: 0.30103, 2: 0.17609, 3: 0.12494, 4: 0.09691, 5: 0.07918, 6: 0.06695, 7: 0.05799, 8: 0.05115,
               9: 0.04576}
SECOND_DIGIT = {0: 0.11968, 1: 0.11389, 2: 0.10882, 3: 0.10433, 4: 0.10031, 5: 0.09668, 6: 0.09337, 7: 0.09035,
                8: 0.08757, 9: 0.08500}


@pytest.mark.parametrize(("test", "published"), [("first", FIRST_DIGIT), ("second", SECOND_DIGIT),
                                                 ("first_two", {10: 0.04139, 11: 0.03779, 50: 0.00860, 99: 0.00436})])
def test_expected_proportions_match_the_published_benford_tables(test: str, published: dict[int, float]) -> None:
    expected = dict(expected_proportions(test).iter_rows())
    for digit, proportion in published.items():
        assert expected[digit] == pytest.approx(proportion, abs=5e-6), (test, digit)


@pytest.mark.parametrize(("test", "cells"), [("first", 9), ("second", 10), ("first_two", 90), ("last_two", 100)])
def test_expected_proportions_cover_every_digit_and_sum_to_one(test: str, cells: int) -> None:
    expected = expected_proportions(test)
    assert expected.height == cells
    assert expected["expected_proportion"].sum() == pytest.approx(1.0, abs=1e-12)
    if test == "last_two":
        assert expected["expected_proportion"].unique().to_list() == [pytest.approx(0.01)]


# --- Digits from the exact value. -----------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "test", "digit"), [
    ("10.00", "first_two", 10), ("10.00", "first", 1), ("10.00", "second", 0), ("10.00", "last_two", 10),
    ("99.99", "first_two", 99), ("99.99", "second", 9),
    ("1234567.89", "first", 1), ("1234567.89", "second", 2), ("1234567.89", "first_two", 12),
    ("1234567.89", "last_two", 67),  # the last two digits of the integer part, in whole currency units
    ("-45.10", "first_two", 45),  # sign ignored
    ("100000.00", "last_two", 0), ("70000000000000.01", "first_two", 70),
])
def test_digits_come_from_the_exact_decimal(amount: str, test: str, digit: int) -> None:
    result = digit_test(money(amount), test)
    assert result.n == 1 and observed(result, digit) == 1


@pytest.mark.parametrize("amount", ["0.99", "9.99", "-9.99", "0.00"])
def test_amounts_below_ten_are_excluded_from_every_test(amount: str) -> None:
    for test in DIGIT_TESTS:
        result = digit_test(money(amount, "12.00"), test)
        assert (result.n, result.excluded) == (1, 1), test


def test_text_integers_and_wide_decimals_give_the_same_digits_as_decimals() -> None:
    text = pl.Series("amount", ["1,234,567.89", "1234567.89-", "(1,234,567.89)", "0012.50", None, ""])
    assert observed(digit_test(text, "last_two"), 67) == 3
    assert digit_test(text, "first_two").missing == 2
    assert observed(digit_test(pl.Series([1_234_567, -12]), "first_two"), 12) == 2
    wide = pl.Series([Decimal("123456789012345678901234.56")], dtype=pl.Decimal(38, 2))
    assert observed(digit_test(wide, "last_two"), 34) == 1 and observed(digit_test(wide, "first_two"), 12) == 1


def test_float_drift_never_changes_a_digit() -> None:
    drifted = 4.35 * 100  # 434.99999999999994 in binary: a float truncation reads 434
    assert math.floor(drifted) == 434
    with pytest.raises(TypeError, match="binary floats"):
        digit_test(pl.Series([drifted]), "last_two")
    # Rounded to the cent, the float is the amount the writer meant: 435.00, last two digits 35.
    assert observed(digit_test(money_from_float(pl.Series([drifted])), "last_two"), 35) == 1
    assert observed(digit_test(money_from_float(pl.Series([100 - 1e-14])), "first"), 1) == 1
    # Exact decimal arithmetic: 0.1 + 0.2 style sums stay exact.
    total = pl.Series([Decimal("99.90")] * 1, dtype=pl.Decimal(18, 2)) + Decimal("0.10")
    assert observed(digit_test(total, "first_two"), 10) == 1


def test_an_empty_or_all_excluded_column_gives_an_empty_result_not_an_error() -> None:
    for values in (pl.Series("amount", [], dtype=pl.Decimal(18, 2)), money(None, "1.00")):
        result = digit_test(values, "first")
        assert result.n == 0 and result.mad is None and result.conformity is None


def test_text_that_is_not_an_amount_is_named_or_counted() -> None:
    values = pl.Series("Amount", ["12.00", "ten", "1.2E+05", "45"])
    with pytest.raises(AmountFormatError) as error:
        digit_test(values, "first")
    assert error.value.problems == [(1, "ten"), (2, "1.2E+05")] and "Amount" in str(error.value)
    result = digit_test(values, "first", invalid="exclude")
    assert (result.n, result.invalid) == (2, 2)


def test_positive_and_negative_amounts_can_be_tested_apart() -> None:
    amounts = money("15.00", "-25.00", "-35.00", "45.00")
    assert digit_test(amounts, "first", sign="positive").n == 2
    negative = digit_test(amounts, "first", sign="negative")
    assert negative.n == 2 and observed(negative, 2) == 1 and observed(negative, 3) == 1


# --- Statistics. --------------------------------------------------------------------------------------

def test_z_applies_the_continuity_correction_only_when_smaller_than_the_deviation() -> None:
    # N = 1,000 amounts, 350 with first digit 1: |AP - EP| = 0.04897 > 1/(2N) = 0.0005, so
    # Z = (0.04897 - 0.0005) / sqrt(0.30103 * 0.69897 / 1000) = 0.04847 / 0.0145055 = 3.342.
    assert z_statistic(0.350, 0.30103, 1_000) == pytest.approx(3.342, abs=1e-3)
    # N = 10, 2 with first digit 2: |0.2 - 0.17609| = 0.02391 < 1/(2N) = 0.05: no correction,
    # Z = 0.02391 / sqrt(0.17609 * 0.82391 / 10) = 0.02391 / 0.120449 = 0.1985.
    assert z_statistic(0.2, 0.17609, 10) == pytest.approx(0.1985, abs=1e-3)


def test_chi_square_mad_and_z_are_the_textbook_figures() -> None:
    cents = benford_cents(5_000, seed=3)
    cents[:300] = 700_000  # a spike of 7,000.00
    result = digit_test(as_money(cents), "first")
    table = result.table
    n = result.n
    obs = table["observed_count"].to_numpy()
    exp = table["expected_proportion"].to_numpy()
    reference = stats.chisquare(obs, n * exp)
    assert result.chi_square == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-6, abs=1e-300)
    assert result.degrees_of_freedom == 8
    assert result.mad == pytest.approx(np.abs(obs / n - exp).mean())
    assert result.largest_deviations[0]["digit"] == 7 and result.largest_deviations[0]["significant"]


@pytest.mark.parametrize(("test", "bands"), sorted(MAD_BANDS.items()))
def test_mad_bands_are_nigrinis_with_each_band_including_its_upper_limit(test: str, bands: tuple) -> None:
    close, acceptable, marginal = bands
    assert conformity(0.0, test) == "close conformity"
    assert conformity(close, test) == "close conformity"
    assert conformity(close * 1.001, test) == "acceptable conformity"
    assert conformity(acceptable, test) == "acceptable conformity"
    assert conformity(acceptable * 1.001, test) == "marginally acceptable conformity"
    assert conformity(marginal, test) == "marginally acceptable conformity"
    assert conformity(marginal * 1.001, test) == "nonconformity"


def test_published_bands() -> None:
    assert MAD_BANDS == {"first": (0.006, 0.012, 0.015), "second": (0.008, 0.010, 0.012),
                         "first_two": (0.0012, 0.0018, 0.0022)}
    with pytest.raises(ValueError, match="no published MAD bands"):
        conformity(0.001, "last_two")


@pytest.mark.parametrize("test", ["first", "second", "first_two"])
def test_a_benford_population_is_in_close_conformity(test: str) -> None:
    result = digit_test(as_money(benford_cents(30_000, seed=1)), test)
    assert result.conformity == "close conformity", result.mad
    assert result.p_value > 0.001


@pytest.mark.parametrize("test", ["first", "first_two"])
def test_uniform_and_invented_amounts_do_not_conform(test: str) -> None:
    rng = np.random.default_rng(2)
    uniform = rng.integers(1_000, 1_000_000, 30_000)  # 10.00 to 9,999.99, every amount equally likely
    assert digit_test(as_money(uniform), test).conformity == "nonconformity"
    invented = rng.integers(4, 8, 30_000) * 100_000 + rng.integers(0, 100_000, 30_000)  # first digits 4-7
    result = digit_test(as_money(invented), test)
    assert result.conformity == "nonconformity"
    spikes = {d["digit"] for d in result.largest_deviations if d["excess"] > 0}
    assert spikes and spikes <= (set(range(4, 8)) | set(range(40, 80)))


def test_second_digit_spots_amounts_invented_around_halves() -> None:
    # Benford's second digits are nearly uniform, so uniform amounts pass the second-digit test
    # (acceptable conformity); people inventing 1,500- or 2,500-style amounts do not.
    rng = np.random.default_rng(3)
    cents = benford_cents(20_000, seed=9)
    halves = rng.integers(1, 10, 4_000) * 1_000 + 500  # 1,500.00, 2,500.00, ...
    result = digit_test(as_money(np.concatenate([cents, halves * 100])), "second")
    assert result.conformity == "nonconformity" and result.largest_deviations[0]["digit"] == 5


def test_last_two_digits_conclude_on_chi_square_and_spot_rounded_amounts() -> None:
    rng = np.random.default_rng(4)
    clean = rng.integers(1_000, 100_000_000, 20_000)
    result = digit_test(as_money(clean), "last_two")
    assert result.conformity == "conformity" and result.mad is not None
    assert any("no published MAD bands" in c for c in result.conventions)
    rounded = clean.copy()
    rounded[:600] = rounded[:600] // 10_000 * 10_000  # 600 amounts in whole hundreds
    result = digit_test(as_money(rounded), "last_two")
    assert result.conformity == "nonconformity"
    assert result.largest_deviations[0]["label"] == "00"


def test_summation_test_spots_a_few_large_amounts_on_one_digit_pair() -> None:
    cents = benford_cents(10_000, seed=6)
    amounts = as_money(np.concatenate([cents, np.full(5, 4_700_000_000)]))  # five 47,000,000.00 amounts
    table = summation_test(amounts, "first_two")
    top = table.row(0, named=True)
    assert top["digit"] == 47 and top["amount_sum"] >= Decimal("235000000.00")
    assert table["expected_proportion"].unique().to_list() == [pytest.approx(1 / 90)]
    assert table["amount_sum"].sum() == as_money(cents).abs().sum() + Decimal("235000000.00")


def test_result_serialises_to_json() -> None:
    result = digit_test(as_money(benford_cents(2_000, seed=5)), "first_two")
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["n"] == 2_000 and len(payload["table"]) == 90
    assert {"mad", "chi_square", "p_value", "conformity", "largest_deviations", "conventions"} <= set(payload)


def test_small_populations_get_a_simulated_p_value_that_is_reproducible() -> None:
    counts = np.array([5, 2, 2, 20, 20, 20, 5, 3, 3])  # 80 amounts with first digits piled on 4-6
    expected = expected_proportions("first")["expected_proportion"].to_numpy()
    p = simulated_p_value(counts, expected, threshold=1e-3)
    assert p < 1e-3 and p == simulated_p_value(counts, expected, threshold=1e-3)
    conforming = np.round(expected * 80).astype(int)
    assert simulated_p_value(conforming, expected, threshold=1e-3) > 0.5
    result = digit_test(pl.Series([str(d * 10 + 1) for d, c in enumerate(counts, 1) for _ in range(c)]), "first")
    assert result.n == 80 < CHI_SQUARE_MIN["first"] and result.p_method == "simulated"


# --- Subsets: the rule. -------------------------------------------------------------------------------

def counts_frame(subset: str, counts: dict[int, int]) -> pl.DataFrame:
    return pl.DataFrame({"user": [subset] * len(counts), "digit": list(counts), "reason": [None] * len(counts),
                         "count": list(counts.values())},
                        schema={"user": pl.String, "digit": pl.Int16, "reason": pl.String, "count": pl.Int64})


def test_huge_subsets_are_judged_by_mad_not_by_a_chi_square_that_rejects_everything() -> None:
    expected = dict(expected_proportions("first").iter_rows())
    # Two million amounts within 2% of Benford's proportions: chi-square rejects, the MAD is close.
    almost = {d: round(2_000_000 * p * (1.02 if d % 2 else 0.98)) for d, p in expected.items()}
    profile = profile_from_counts(counts_frame("big", almost), "user", "first")
    row = profile.row(0, named=True)
    assert row["p_value"] < 1e-10 and row["conformity"] == "close conformity" and not row["nonconforming"]


def test_small_subsets_are_not_tested_and_moderate_ones_need_the_p_value() -> None:
    lopsided = {4: 10, 5: 10, 6: 10, 7: 10}  # 40 amounts, all invented: below the floor of 50
    profile = profile_from_counts(counts_frame("few", lopsided), "user", "first")
    assert not profile["tested"].item() and not profile["nonconforming"].item()
    assert profile_from_counts(counts_frame("few", lopsided), "user", "first", min_count=40)["nonconforming"].item()
    # 60 amounts drawn from Benford's law: the MAD exceeds the band by sampling noise alone; the
    # p-value says there is nothing to see.
    first = [int(str(c)[0]) for c in benford_cents(60, seed=21)]
    drawn = {d: first.count(d) for d in range(1, 10)}
    row = profile_from_counts(counts_frame("noisy", drawn), "user", "first").row(0, named=True)
    assert row["tested"] and row["mad"] > MAD_BANDS["first"][2] and not row["nonconforming"]


def test_many_subsets_share_one_bonferroni_threshold() -> None:
    frames = pl.concat([counts_frame(f"u{i}", {1: 30, 2: 18, 3: 12, 4: 10, 5: 8, 6: 7, 7: 6, 8: 5, 9: 4})
                        for i in range(20)])
    profile = profile_from_counts(frames, "user", "first", alpha=0.01)
    assert profile["p_threshold"].unique().to_list() == [pytest.approx(0.01 / 20)]


# --- The planted fabricator in a generated ledger, and a clean ledger. ---------------------------------

@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> tuple[pl.DataFrame, pl.DataFrame, Path]:
    out = tmp_path_factory.mktemp("ledger")
    generate_engagement(GeneratorConfig(seed=11, n_lines=50_000), out)
    return pl.read_parquet(out / "gl_detail"), pl.read_parquet(out / "labels.parquet"), out / "gl_detail"


@pytest.fixture(scope="module")
def clean_ledger(tmp_path_factory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("clean")
    generate_engagement(GeneratorConfig(seed=12, n_lines=40_000, anomaly_rate=0), out)
    return pl.read_parquet(out / "gl_detail")


def planted(gl: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    journals = labels.filter(pl.col("kind") == "benford_outlier").select("entity_id", "journal_id")
    return gl.join(journals, on=["entity_id", "journal_id"], how="semi")


def test_per_user_profile_finds_the_user_who_invented_amounts(ledger) -> None:
    gl, labels, _ = ledger
    fabricators = set(planted(gl, labels).select("entity_id", "entered_by").unique().iter_rows())
    profile = digit_profile_by(gl, ["entity_id", "entered_by"], test="first", population=pl.col("manual_entry"),
                               entry_key=("entity_id", "journal_id"))
    flagged = set(profile.filter("nonconforming").select("entity_id", "entered_by").iter_rows())
    assert flagged == fabricators
    explanation = profile.filter("nonconforming")["explanation"].to_list()
    assert all("first-digit MAD" in e and "excess of digits 4-7" in e for e in explanation), explanation


def test_benford_outlier_flags_every_invented_amount_with_its_reason(ledger) -> None:
    gl, labels, _ = ledger
    flags = benford_outlier_flags(gl)
    assert flags.columns == ["entity_id", "journal_id", "line_number", "benford_z", "benford_explanation"]
    lines = planted(gl, labels)
    found = lines.join(flags, on=["entity_id", "journal_id", "line_number"], how="semi")
    assert found.height == lines.height
    # Everything flagged belongs to a user who invented amounts, and says why.
    users = set(lines["entered_by"].unique())
    flagged_users = set(gl.join(flags, on=["entity_id", "journal_id", "line_number"], how="semi")["entered_by"])
    assert flagged_users == users
    assert flags["benford_explanation"].str.contains("nonconformity > 0.015").all()


def test_a_clean_ledger_flags_nobody(clean_ledger) -> None:
    subsets = benford_outlier_subsets(clean_ledger)
    assert subsets["tested"].sum() > 10, "the screen must actually test subsets"
    assert not subsets["nonconforming"].any(), subsets.filter("nonconforming")["explanation"].to_list()
    assert benford_outlier_flags(clean_ledger).is_empty()


def _poster_lines(cents: np.ndarray, dates: list[date], user: str = "kwong") -> pl.DataFrame:
    n = len(cents)
    return pl.DataFrame({
        "entity_id": ["EAST"] * n, "journal_id": [f"J{i:05d}" for i in range(n)], "line_number": [1] * n,
        "entered_by": [user] * n, "gl_account_number": [f"6{i % 7}00" for i in range(n)],
        "manual_entry": [True] * n, "effective_date": dates,
    }).with_columns(as_money(cents))


def _year_of(n: int, seed: int) -> list[date]:
    days = np.random.default_rng(seed).integers(0, 365, n)
    return [date(2025, 1, 1) + timedelta(days=int(d)) for d in days]


def _accrual_and_reversal(cents: int) -> tuple[np.ndarray, list[date]]:
    """One amount accrued every month end and reversed on the first of the next: 24 copies a year."""
    dates = [date(2025, m, 28) for m in range(1, 13)] + [date(2025, m, 1) for m in range(1, 13)]
    return np.full(24, cents, dtype=np.int64), dates


def test_a_poster_whose_only_spike_is_a_monthly_accrual_has_no_amount_flagged() -> None:
    """The accrual's 24 copies make the poster's first digits nonconform; set aside, the poster's honest
    amounts that merely share its first digit are not invented figures."""
    honest = benford_cents(150, seed=5)
    accrual, accrual_dates = _accrual_and_reversal(4_231_875)  # 42,318.75
    lines = _poster_lines(np.concatenate([honest, accrual]), _year_of(150, 6) + accrual_dates)
    subsets = benford_outlier_subsets(lines, ("entity_id", "entered_by"), tests=("first",))
    assert subsets["nonconforming"].all(), "the accrual alone must make the poster nonconform"
    assert benford_outlier_flags(lines, ("entity_id", "entered_by"), tests=("first",)).is_empty()


def test_invented_amounts_beside_a_monthly_accrual_are_still_flagged_and_the_accrual_is_not() -> None:
    first = np.random.default_rng(7).choice([4, 5, 6, 7], 60)
    invented = first * 100_000 + np.random.default_rng(8).integers(0, 100_000, 60)
    accrual, accrual_dates = _accrual_and_reversal(4_231_875)
    lines = _poster_lines(np.concatenate([benford_cents(150, seed=5), invented, accrual]),
                          _year_of(210, 6) + accrual_dates)
    flags = benford_outlier_flags(lines, ("entity_id", "entered_by"), tests=("first",))
    flagged = lines.join(flags, on=["entity_id", "journal_id", "line_number"], how="semi")
    assert flagged.filter(pl.col("amount") == Decimal("42318.75")).is_empty()
    assert flagged.join(lines.slice(150, 60), on="journal_id", how="semi").height >= 45  # three in four
    assert flags["benford_explanation"].str.contains("after setting aside 1 amount").all()


def test_one_invented_amount_keyed_again_and_again_within_a_month_is_not_set_aside() -> None:
    """A burst of copies is not a recurrence: a person keying 7,450.00 thirty times in March stays flagged."""
    burst = np.full(30, 745_000, dtype=np.int64)
    lines = _poster_lines(np.concatenate([benford_cents(150, seed=5), burst]),
                          _year_of(150, 6) + [date(2025, 3, 1 + i % 28) for i in range(30)])
    flags = benford_outlier_flags(lines, ("entity_id", "entered_by"), tests=("first",))
    flagged = lines.join(flags, on=["entity_id", "journal_id", "line_number"], how="semi")
    assert flagged.filter(pl.col("amount") == Decimal("7450.00")).height == 30


@pytest.mark.slow
def test_digit_counts_and_profiles_are_identical_on_both_engines(ledger, ray_session) -> None:
    gl, _, _ = ledger
    # Entries are kept whole on Ray (hash-partitioned by entry), so repeated amounts count once on both.
    computation = digit_counts("first_two", ("entity_id", "entered_by"), population=pl.col("manual_entry"),
                               entry_key=("entity_id", "journal_id"))
    local = run(computation, gl, engine="local")
    assert local.height > 100 and local.equals(run(computation, gl, engine="ray", partitions=3))
    assert digit_profile(gl, "entered_by", test="first", engine="ray").equals(
        digit_profile(gl, "entered_by", test="first", engine="local"))


# --- The command line. --------------------------------------------------------------------------------

def invoke(*args: str):
    import auditray.cli.je_digits_cmds  # noqa: F401
    from auditray.cli.app import app
    from typer.testing import CliRunner

    return CliRunner().invoke(app, list(args))


def test_cli_names_the_file_row_and_column_of_a_value_that_is_not_an_amount(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text('Date,Amount\n2025-01-01,"1,234.56"\n2025-01-02,ten\n2025-01-03,-45.00\n')
    result = invoke("je", "benford", str(path), "--column", "Amount", "--test", "first")
    assert result.exit_code == 1
    assert f"{path}: row 3, column 'Amount': 'ten' is not an amount" in result.output
    skipped = invoke("je", "benford", str(path), "--column", "Amount", "--test", "first", "--skip-invalid")
    assert skipped.exit_code == 0 and "1 not amounts" in skipped.output


def test_cli_prints_the_figures_and_json(tmp_path: Path) -> None:
    cents = benford_cents(3_000, seed=8)
    text = [f"{c // 100:,}.{c % 100:02d}" for c in cents]
    path = tmp_path / "amounts.csv"
    pl.DataFrame({"Amount": text, "User": ["A", "B", "C"] * 1_000}).write_csv(path)
    plain = invoke("je", "benford", str(path), "--column", "Amount", "--test", "first")
    assert plain.exit_code == 0, plain.output
    assert "amounts tested     3,000" in plain.output and "MAD" in plain.output and "chi-square" in plain.output
    assert "largest deviations" in plain.output and "close conformity" in plain.output
    as_json = invoke("je", "benford", str(path), "--column", "Amount", "--test", "first_two", "--json")
    payload = json.loads(as_json.output)
    expected = digit_test(pl.Series(text), "first_two").to_dict()
    assert payload["n"] == 3_000 and payload["mad"] == pytest.approx(expected["mad"])
    assert payload["conformity"] == expected["conformity"] and len(payload["largest_deviations"]) == 5
    by_user = json.loads(invoke("je", "benford", str(path), "--column", "Amount", "--test", "first", "--by", "User",
                                "--json").output)
    assert [s["User"] for s in by_user["subsets"]] == ["A", "B", "C"]


def test_cli_reads_parquet_decimals_and_refuses_an_unknown_column(tmp_path: Path) -> None:
    path = tmp_path / "gl.parquet"
    pl.DataFrame({"amount": money("12.00", "130.00", "1400.00")}).write_parquet(path)
    result = json.loads(invoke("je", "benford", str(path), "--column", "amount", "--test", "first", "--json").output)
    assert result["n"] == 3
    missing = invoke("je", "benford", str(path), "--column", "Amount")
    assert missing.exit_code != 0 and "no column 'Amount'" in missing.output


def test_je_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\nfrom auditray.cli import main\nsys.argv = ['auditray', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    for argv in (["je", "--help"], ["je", "benford", "--help"]):
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
        assert "Usage" in out
        assert out.strip().splitlines()[-1] == "LOADED []", argv
