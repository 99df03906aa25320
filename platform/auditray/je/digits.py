"""Digit tests (Benford's law) on journal-entry amounts, following Nigrini (2012).

Nigrini, *Benford's Law: Applications for Forensic Accounting, Auditing, and Fraud Detection*
(Wiley, 2012). AS 2401 .61 and ISA 240 A44 ask auditors to look for entries whose
amounts look invented; invented numbers seldom follow Benford's law, so a subset (one user's or
one account's manual entries) whose digits depart from it points at where to look.

Conventions, stated once and applied to every test:

- **Floor.** Amounts whose absolute value is below 10 are excluded, from every test (Nigrini's
  convention for the first-two-digits test; applied to all four tests so that they count the
  same amounts). Zero and missing amounts are excluded too, and counted.
- **Sign.** Ignored by default: credits are tested by their absolute value. ``sign="positive"``
  or ``"negative"`` tests debits or credits alone, as Nigrini recommends when the two may be
  manipulated differently.
- **Exact digits.** Digits come from the exact decimal value (Decimal, integers, or text parsed
  as written; see :mod:`auditray.je.digits_amounts`), never from float arithmetic.
- **Tests.** ``first`` (1-9), ``second`` (0-9) and ``first_two`` (10-99) against Benford's
  proportions; ``last_two`` (00-99) against the uniform 1/100: the last two digits of the amount
  in whole currency units, i.e. of its integer part (1,234,567.89 -> 67), Nigrini's last-two-digits
  test for invented and rounded numbers. For amounts of 10-99 the last two digits are the
  first two.

Statistics per test (Nigrini 2012): per-digit Z with the continuity correction
``1/(2N)`` (used only when smaller than ``|AP - EP|``), Pearson's chi-square with ``k - 1``
degrees of freedom, and the mean absolute deviation (MAD) read against Nigrini's conformity
bands. The last-two-digits test has no published MAD bands: its conclusion rests on
the chi-square p-value, and its MAD is reported for information.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from auditray.engine import BatchComputation, EngineName, Source, run
from auditray.je.digits_amounts import (
    ABSOLUTE,
    BELOW_FLOOR,
    INVALID,
    MISSING,
    NEGATIVE,
    REASON,
    UNITS,
    AmountFormatError,
    FrameT,
    invalid_amounts,
    with_exact_amounts,
)

if TYPE_CHECKING:
    from auditray.settings import Settings

DigitTest = Literal["first", "second", "first_two", "last_two"]
Sign = Literal["absolute", "positive", "negative"]
DIGIT_TESTS: tuple[DigitTest, ...] = ("first", "second", "first_two", "last_two")
TEST_NAMES = {"first": "first-digit", "second": "second-digit", "first_two": "first-two-digit",
              "last_two": "last-two-digit"}
AMOUNT_FLOOR = 10

# Nigrini's (2012) MAD conformity ranges: upper limits of close conformity, acceptable conformity and marginally
# acceptable conformity; above the last, nonconformity. Each band includes its upper limit.
MAD_BANDS: dict[str, tuple[float, float, float]] = {
    "first": (0.006, 0.012, 0.015),
    "second": (0.008, 0.010, 0.012),
    "first_two": (0.0012, 0.0018, 0.0022),
}
CONFORMITY_LEVELS = ("close conformity", "acceptable conformity", "marginally acceptable conformity",
                     "nonconformity")
# Nigrini's per-digit significance: |Z| above 1.96 is significant at the 5% level.
Z_CRITICAL = 1.96

# The size from which the chi-square law holds: every digit's expected count reaches 5 (Cochran's
# condition). Below it a p-value that would reject is simulated instead (see simulated_p_value).
CHI_SQUARE_MIN: dict[str, int] = {"first": 110, "second": 60, "first_two": 1_150, "last_two": 500}
# The smallest subset a per-subset profile tests. Nigrini's MAD bands assume large data sets: the MAD
# of a perfectly Benford sample is about 0.235/sqrt(n) for the first digit and 0.075/sqrt(n) for the
# first two, above the nonconformity limits below roughly 250 and 1,200 amounts, so on smaller
# subsets the MAD cannot conclude and the p-value decides. The one-digit tests go down to 50 amounts
# (a simulated p-value over 9 or 10 cells is cheap; fewer amounts have too little power to be worth
# an auditor's follow-up). The first-two and last-two tests start where the chi-square law holds,
# about 1,150 and 500 amounts: simulating 90 or 100 cells for every small subset of a large ledger
# at a screen's Bonferroni threshold costs seconds per subset, and the first-digit test covers the
# small subsets. ``min_count`` lowers the floor when an auditor wants a first-two test on fewer.
MIN_SUBSET: dict[str, int] = {"first": 50, "second": 50, "first_two": 1_150, "last_two": 500}

DIGIT = "digit"
COUNT = "count"


def digit_values(test: DigitTest) -> list[int]:
    """The digits (or digit pairs) a test counts."""
    return {"first": list(range(1, 10)), "second": list(range(10)), "first_two": list(range(10, 100)),
            "last_two": list(range(100))}[_check_test(test)]


def expected_proportions(test: DigitTest) -> pl.DataFrame:
    """Expected proportion per digit: Benford's law (as tabulated by Nigrini 2012) or uniform for ``last_two``.

    First digit d: log10(1 + 1/d); first two digits dd: log10(1 + 1/dd); second digit d:
    the sum over first digits k of log10(1 + 1/(10k + d)).
    """
    digits = digit_values(test)
    if test in ("first", "first_two"):
        expected = [math.log10(1 + 1 / d) for d in digits]
    elif test == "second":
        expected = [sum(math.log10(1 + 1 / (10 * k + d)) for k in range(1, 10)) for d in digits]
    else:
        expected = [1 / 100] * 100
    return pl.DataFrame({DIGIT: digits, "expected_proportion": expected},
                        schema={DIGIT: pl.Int16, "expected_proportion": pl.Float64})


def conformity(mad: float, test: DigitTest) -> str:
    """Nigrini's conformity conclusion for a MAD (bands include their upper limit)."""
    bands = MAD_BANDS.get(_check_test(test))
    if bands is None:
        raise ValueError(f"no published MAD bands for the {TEST_NAMES[test]} test; use its chi-square p-value")
    for limit, level in zip(bands, CONFORMITY_LEVELS, strict=False):
        if mad <= limit:
            return level
    return CONFORMITY_LEVELS[-1]


def z_statistic(observed_proportion: Any, expected_proportion: Any, n: Any) -> Any:
    """Nigrini's Z for one digit: ``(|AP - EP| - 1/(2N)) / sqrt(EP(1 - EP)/N)``.

    The continuity correction ``1/(2N)`` is subtracted only when it is smaller than ``|AP - EP|``
    (Nigrini 2012). Works on scalars and numpy arrays.
    """
    ap, ep, n = np.asarray(observed_proportion, float), np.asarray(expected_proportion, float), np.asarray(n, float)
    deviation = np.abs(ap - ep)
    correction = 1 / (2 * n)
    numerator = np.where(correction < deviation, deviation - correction, deviation)
    z = numerator / np.sqrt(ep * (1 - ep) / n)
    return float(z) if z.ndim == 0 else z


def digits_expr(test: DigitTest) -> pl.Expr:
    """The tested digits of a frame prepared by :func:`auditray.je.digits_amounts.with_exact_amounts`.

    Null where the amount is not tested (below the floor, missing, invalid).
    """
    units = pl.col(UNITS)
    text = {"first": units.str.slice(0, 1), "second": units.str.slice(1, 1), "first_two": units.str.slice(0, 2),
            "last_two": units.str.slice(-2, 2)}[_check_test(test)]
    return pl.when(pl.col(REASON).is_null()).then(text.cast(pl.Int16)).otherwise(None)


def digit_label(digit: int, test: DigitTest) -> str:
    return f"{digit:02d}" if test == "last_two" else str(digit)


# --- Counting: associative, so it runs on one machine or on Ray Data with the same answer. -----------


def _prepare(frame: pl.DataFrame, amount: str, sign: Sign, population: pl.Expr | None) -> pl.DataFrame:
    """The lines in the tested population, with their exact integer parts, signs and exclusion reasons."""
    if population is not None:
        frame = frame.filter(population)
    frame = with_exact_amounts(frame, amount)
    if sign == "positive":
        return frame.filter(~pl.col(NEGATIVE))
    if sign == "negative":
        return frame.filter(pl.col(NEGATIVE))
    if sign != "absolute":
        raise ValueError(f"sign must be absolute, positive or negative, not {sign!r}")
    return frame


def _one_per_entry(prepared: FrameT, by: Sequence[str], entry_key: Sequence[str] | None) -> FrameT:
    if not entry_key:
        return prepared
    # A balanced entry states one keyed amount on both sides; counting it once per entry (and subset)
    # keeps the amounts independent, as the chi-square and Z statistics assume. (Any of the copies will do:
    # they share the subset and the exact amount, so their digits and exclusion reason.)
    return prepared.unique([*by, *entry_key, ABSOLUTE], keep="any")


def _count(prepared: FrameT, test: DigitTest, by: Sequence[str]) -> FrameT:
    return prepared.group_by([*by, digits_expr(test).alias(DIGIT), pl.col(REASON).alias("reason")]).agg(
        pl.len().cast(pl.Int64).alias(COUNT))


def count_digits(frame: pl.DataFrame, test: DigitTest, by: Sequence[str] = (), *, amount: str = "amount",
                 sign: Sign = "absolute", population: pl.Expr | None = None,
                 entry_key: Sequence[str] | None = None) -> pl.DataFrame:
    """Counts per subset and digit, plus the counts not tested and why (``digit`` null, ``reason`` set)."""
    _check_test(test)
    return _count(_one_per_entry(_prepare(frame, amount, sign, population), by, entry_key), test, by)


def sum_counts(partials: pl.DataFrame) -> pl.DataFrame:
    """Partial digit counts (:func:`count_digits`, :func:`screen_counts`) folded into one: summed per
    everything but the count."""
    return partials.group_by([c for c in partials.columns if c != COUNT]).agg(pl.col(COUNT).sum())


def digit_counts(test: DigitTest, by: Sequence[str] = (), *, amount: str = "amount", sign: Sign = "absolute",
                 population: pl.Expr | None = None, entry_key: Sequence[str] | None = None) -> BatchComputation:
    """Digit counts per subset as an engine computation: map counts per partition, combine sums them.

    Counts add up across partitions, so ``run(digit_counts(...), source, engine="ray")`` gives the
    same frame as the local engine over any number of lines. With ``entry_key``, every line of an
    entry lands in one partition, so an amount repeated within an entry is counted once on both.
    Feed the result to :func:`profile_from_counts`.
    """
    by, key = tuple(by), tuple(entry_key or ())
    needed = {*by, *key, amount}
    if population is not None:
        needed |= set(population.meta.root_names())

    return BatchComputation(
        name=f"digit_counts_{test}",
        map=lambda frame: count_digits(frame, test, by, amount=amount, sign=sign, population=population,
                                       entry_key=key),
        combine=sum_counts,
        partition_by=key,
        sort_by=(*by, DIGIT, "reason"),
        columns=tuple(sorted(needed)),
    )


# --- Statistics. --------------------------------------------------------------------------------------

_ALL = "__digits_all"


def _digit_tables(counts: pl.DataFrame, by: Sequence[str], test: DigitTest) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-digit table and per-subset statistics (n, exclusions, chi-square, MAD) from long counts."""
    keys = list(by) or [_ALL]
    if not by:
        counts = counts.with_columns(pl.lit(0).alias(_ALL))
    reason = pl.col("reason")
    subsets = counts.group_by(keys).agg(
        n=pl.col(COUNT).filter(reason.is_null()).sum(),
        excluded=pl.col(COUNT).filter(reason == BELOW_FLOOR).sum(),
        missing=pl.col(COUNT).filter(reason == MISSING).sum(),
        invalid=pl.col(COUNT).filter(reason == INVALID).sum(),
    ).sort(keys, nulls_last=True)
    expected = expected_proportions(test)
    observed = counts.filter(reason.is_null()).select([*keys, DIGIT, COUNT])
    table = (
        subsets.select([*keys, "n"])
        .join(expected, how="cross")
        .join(observed, on=[*keys, DIGIT], how="left", nulls_equal=True)
        .with_columns(pl.col(COUNT).fill_null(0).alias("observed_count"))
        .drop(COUNT)
        .sort([*keys, DIGIT], nulls_last=True)
    )
    n = table["n"].to_numpy().astype(float)
    safe_n = np.where(n > 0, n, np.nan)
    obs = table["observed_count"].to_numpy().astype(float)
    ep = table["expected_proportion"].to_numpy()
    ap = obs / safe_n
    z = z_statistic(ap, ep, safe_n)
    table = table.with_columns(
        pl.Series("observed_proportion", ap, nan_to_null=True),
        pl.Series("expected_count", safe_n * ep, nan_to_null=True),
        pl.Series("z", z, nan_to_null=True),
        pl.Series("chi_term", (obs - safe_n * ep) ** 2 / (safe_n * ep), nan_to_null=True),
        pl.Series("abs_deviation", np.abs(ap - ep), nan_to_null=True),
    ).with_columns(
        (pl.col("observed_count") - pl.col("expected_count")).alias("excess"),
        (pl.col("z") > Z_CRITICAL).alias("significant"),
    )
    stats = table.group_by(keys, maintain_order=True).agg(
        chi_square=pl.col("chi_term").sum(),
        mad=pl.col("abs_deviation").mean(),
        # The MAD a Benford-conforming sample of this size shows by chance (normal approximation):
        # Nigrini's bands assume large data sets; this says when n is too small for them.
        expected_mad=(pl.col("expected_proportion") * (1 - pl.col("expected_proportion")) * 2 / math.pi
                      / pl.col("n")).sqrt().mean(),
    )
    subsets = subsets.join(stats, on=keys, how="left", nulls_equal=True, maintain_order="left").with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("chi_square")).otherwise(None),
        pl.when(pl.col("n") > 0).then(pl.col("mad")).otherwise(None),
        pl.lit(len(expected) - 1).alias("degrees_of_freedom"),
    )
    if not by:
        subsets, table = subsets.drop(_ALL), table.drop(_ALL)
    return table, subsets


def _with_p_values(table: pl.DataFrame, subsets: pl.DataFrame, by: Sequence[str], test: DigitTest,
                   threshold: float, eligible: pl.Series | None = None) -> pl.DataFrame:
    keys = list(by)
    if not keys:
        table, subsets = table.with_columns(pl.lit(0).alias(_ALL)), subsets.with_columns(pl.lit(0).alias(_ALL))
        keys = [_ALL]
    p_values, methods = _p_values(table, subsets, keys, test, threshold, eligible)
    subsets = subsets.with_columns(pl.Series("p_value", p_values, dtype=pl.Float64),
                                   pl.Series("p_method", methods, dtype=pl.String))
    return subsets.drop(_ALL) if _ALL in subsets.columns else subsets


def _conformity_expr(test: DigitTest, alpha: float) -> pl.Expr:
    bands = MAD_BANDS.get(test)
    if bands is None:
        return (pl.when(pl.col("p_value").is_null()).then(None)
                .when(pl.col("p_value") < alpha).then(pl.lit("nonconformity"))
                .otherwise(pl.lit("conformity")))
    mad = pl.col("mad")
    return (pl.when(mad.is_null()).then(None)
            .when(mad <= bands[0]).then(pl.lit(CONFORMITY_LEVELS[0]))
            .when(mad <= bands[1]).then(pl.lit(CONFORMITY_LEVELS[1]))
            .when(mad <= bands[2]).then(pl.lit(CONFORMITY_LEVELS[2]))
            .otherwise(pl.lit(CONFORMITY_LEVELS[3])))


def simulated_p_value(observed_counts: np.ndarray, expected: np.ndarray, *, threshold: float = 0.01,
                      hits_to_stop: int = 5, seed: int = 2012) -> float:
    """Monte Carlo p-value of Pearson's chi-square, for populations too small for the chi-square law.

    Draws samples of the same size from the expected distribution and counts those at least as far
    from it as the observed one (``(hits + 1) / (draws + 1)``); stops early once ``hits_to_stop`` are
    found (Besag and Clifford's sequential p-value, 1991), otherwise after enough draws to go below
    ``threshold``: 2 / ``threshold`` draws, so that a table with at most one simulated statistic as extreme
    is significant. (``(hits + 1) / (draws + 1)`` is a valid p-value for any number of draws; more draws only
    sharpen a figure already known to be below the threshold.) The seed depends only on the counts, so the
    figure is the same on every run and engine.
    """
    observed = np.asarray(observed_counts, dtype=np.int64)
    n = int(observed.sum())
    if n == 0:
        return float("nan")
    p = np.asarray(expected, dtype=float)
    p = p / p.sum()
    expected_counts = n * p
    statistic = float(((observed - expected_counts) ** 2 / expected_counts).sum())
    rng = np.random.default_rng([seed, len(p), n, *observed.tolist()])
    max_draws = int(min(5_000_000, max(10_000, math.ceil(2 / max(threshold, 1e-12)))))
    hits = draws = 0
    size = 1_000
    while draws < max_draws:
        size = min(size, max_draws - draws)
        sample = rng.multinomial(n, p, size=size)
        simulated = ((sample - expected_counts) ** 2 / expected_counts).sum(axis=1)
        hits += int((simulated >= statistic * (1 - 1e-12)).sum())
        draws += size
        if hits >= hits_to_stop:
            return hits / draws
        size = min(size * 4, 250_000)
    return (hits + 1) / (draws + 1)


def _p_values(table: pl.DataFrame, subsets: pl.DataFrame, keys: list[str], test: DigitTest,
              threshold: float, eligible: pl.Series | None = None) -> tuple[list[float | None], list[str | None]]:
    """Chi-square p-values; simulated where the table is sparse and the chi-square law would reject.

    With expected counts below 5 the chi-square law understates the tail probability (for Benford's
    first digit at 80 amounts, a nominal 1e-4 is really about 2.6e-4), so it errs only toward
    rejecting: a sparse subset whose approximate p-value is above ``threshold`` is not significant
    either way, and only those below it are simulated.
    """
    from scipy.stats import chi2

    dof = len(digit_values(test)) - 1
    ns = subsets["n"].to_numpy()
    chis = subsets["chi_square"].fill_null(0.0).to_numpy()
    approximate = chi2.sf(chis, dof)
    flags = eligible.to_numpy() if eligible is not None else np.ones(len(ns), dtype=bool)
    simulate = (ns > 0) & (ns < CHI_SQUARE_MIN[test]) & flags & (approximate < threshold)
    p_values: list[float | None] = [float(p) if n else None for p, n in zip(approximate, ns, strict=True)]
    methods: list[str | None] = ["chi-square" if n else None for n in ns]
    if simulate.any():
        expected = expected_proportions(test)["expected_proportion"].to_numpy()
        candidates = subsets.select(keys).with_row_index("__row").filter(pl.Series(simulate))
        observed = candidates.join(table.group_by(keys, maintain_order=True).agg(pl.col("observed_count")), on=keys,
                                   how="left", nulls_equal=True, maintain_order="left")
        for row, counts in zip(observed["__row"].to_list(), observed["observed_count"].to_list(), strict=True):
            p_values[row] = simulated_p_value(np.array(counts), expected, threshold=threshold)
            methods[row] = "simulated"
    return p_values, methods


@dataclass(frozen=True)
class DigitTestResult:
    """One digit test over one population of amounts (Nigrini 2012).

    ``n`` amounts were tested; ``excluded`` were below the floor of 10 (or zero), ``missing`` were
    null or blank and ``invalid`` were text that is not an amount. ``table`` has one row per digit.
    ``conformity`` is Nigrini's MAD band for the first, second and first-two digits; for the last
    two digits (no published bands) it is the chi-square conclusion at ``alpha``. ``p_method`` says
    whether the p-value is the chi-square law's or simulated (populations below
    :data:`CHI_SQUARE_MIN`, where the chi-square law does not hold).
    """

    test: DigitTest
    n: int
    excluded: int
    table: pl.DataFrame
    chi_square: float | None
    degrees_of_freedom: int
    p_value: float | None
    mad: float | None
    expected_mad: float | None
    conformity: str | None
    largest_deviations: tuple[dict[str, Any], ...]
    missing: int = 0
    invalid: int = 0
    p_method: str | None = "chi-square"
    alpha: float = 0.05
    sign: Sign = "absolute"
    conventions: tuple[str, ...] = field(default=(), compare=False)

    @property
    def mad_bands(self) -> tuple[float, float, float] | None:
        return MAD_BANDS.get(self.test)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: every figure, the per-digit table and the conventions used."""
        return {
            "test": self.test,
            "test_name": TEST_NAMES[self.test],
            "n": self.n,
            "excluded": self.excluded,
            "missing": self.missing,
            "invalid": self.invalid,
            "sign": self.sign,
            "chi_square": self.chi_square,
            "degrees_of_freedom": self.degrees_of_freedom,
            "p_value": self.p_value,
            "p_method": self.p_method,
            "mad": self.mad,
            "expected_mad": self.expected_mad,
            "mad_bands": list(self.mad_bands) if self.mad_bands else None,
            "conformity": self.conformity,
            "alpha": self.alpha,
            "largest_deviations": [dict(d) for d in self.largest_deviations],
            "table": self.table.to_dicts(),
            "conventions": list(self.conventions),
        }


TABLE_COLUMNS = (DIGIT, "observed_count", "observed_proportion", "expected_proportion", "expected_count", "excess",
                 "z", "significant")


def conventions(test: DigitTest, sign: Sign) -> tuple[str, ...]:
    basis = {"absolute": "sign ignored (credits tested by absolute value)", "positive": "positive amounts only",
             "negative": "negative amounts only (by absolute value)"}[sign]
    expected = "uniform 1/100" if test == "last_two" else "Benford's law"
    notes = [
        f"amounts with absolute value below {AMOUNT_FLOOR} excluded (Nigrini 2012)",
        basis,
        "digits from the exact decimal value, never float arithmetic",
        f"expected proportions: {expected}",
        "Z with continuity correction 1/(2N), applied only when smaller than |AP-EP|",
    ]
    if test == "last_two":
        notes.append("last two digits of the integer part of the amount (whole currency units); no published MAD "
                     "bands, conclusion from the chi-square p-value")
    else:
        notes.append("conformity from Nigrini's 2012 MAD bands")
    return tuple(notes)


def largest_deviations(table: pl.DataFrame, test: DigitTest, top: int = 5) -> tuple[dict[str, Any], ...]:
    """The digits that depart most from expectation, by Z, excess (spikes) before shortfalls on ties."""
    rows = table.filter(pl.col("z").is_not_null()).sort(["z", "excess"], descending=True).head(top)
    return tuple(
        {"digit": r[DIGIT], "label": digit_label(r[DIGIT], test), "observed_count": r["observed_count"],
         "expected_count": round(r["expected_count"], 2), "excess": round(r["excess"], 2),
         "observed_proportion": r["observed_proportion"], "expected_proportion": r["expected_proportion"],
         "z": r["z"], "significant": r["significant"]}
        for r in rows.iter_rows(named=True)
    )


def result_from_counts(counts: pl.DataFrame, test: DigitTest, *, alpha: float = 0.05, sign: Sign = "absolute",
                       top: int = 5) -> DigitTestResult:
    """A :class:`DigitTestResult` from the counts of one population (``digit_counts`` without ``by``)."""
    if counts.is_empty():
        counts = pl.DataFrame({DIGIT: [None], "reason": [MISSING], COUNT: [0]},
                              schema={DIGIT: pl.Int16, "reason": pl.String, COUNT: pl.Int64})
    table, subsets = _digit_tables(counts, (), test)
    subsets = _with_p_values(table, subsets, (), test, alpha)
    row = subsets.with_columns(_conformity_expr(test, alpha).alias("conformity")).row(0, named=True)
    table = table.select(TABLE_COLUMNS)
    return DigitTestResult(
        test=test, n=int(row["n"]), excluded=int(row["excluded"]), missing=int(row["missing"]),
        invalid=int(row["invalid"]), table=table, chi_square=row["chi_square"],
        degrees_of_freedom=int(row["degrees_of_freedom"]), p_value=row["p_value"], p_method=row["p_method"],
        mad=row["mad"], expected_mad=row["expected_mad"], conformity=row["conformity"],
        largest_deviations=largest_deviations(table, test, top), alpha=alpha, sign=sign,
        conventions=conventions(test, sign),
    )


def digit_test(amounts: pl.Series, test: DigitTest = "first_two", *, sign: Sign = "absolute",
               invalid: Literal["raise", "exclude"] = "raise", alpha: float = 0.05) -> DigitTestResult:
    """Nigrini's digit test on a column of exact amounts (Decimal, integer or text; never floats).

    >>> digit_test(lines["amount"], "first_two").conformity  # doctest: +SKIP
    'acceptable conformity'

    Text that is not an amount raises :class:`AmountFormatError` naming each value's index, or is
    counted in ``invalid`` with ``invalid="exclude"``. ``alpha`` only serves the last-two-digits
    test, whose conclusion is its chi-square p-value.
    """
    _check_test(test)
    if invalid == "raise":
        problems = invalid_amounts(amounts)
        if problems:
            raise AmountFormatError(amounts.name or "amount", problems[:20], len(problems))
    frame = amounts.alias("amount").to_frame()
    if frame.schema["amount"] == pl.Null:
        frame = frame.cast({"amount": pl.String})
    counts = count_digits(frame, test, sign=sign)
    return result_from_counts(counts, test, alpha=alpha, sign=sign)


def summation_test(amounts: pl.Series, test: Literal["first", "first_two"] = "first_two") -> pl.DataFrame:
    """Nigrini's summation test (2012): the amounts summed per leading digits, against equal sums.

    Under Benford's law the sums of amounts with each first-two digits (or first digit) are equal,
    1/90 (1/9) of the total each; a digit whose sum stands out points at a few large amounts or many
    duplicated ones. Same floor and sign convention as the digit tests; sums are exact decimals.
    Returns one row per digit, largest excess first: ``count``, ``amount_sum``, ``observed_proportion``,
    ``expected_proportion`` and ``excess_amount`` (the sum above an equal share).
    """
    if test not in ("first", "first_two"):
        raise ValueError("the summation test reads the first or first two digits")
    dtype = amounts.dtype
    if not (isinstance(dtype, pl.Decimal) or dtype.is_integer()):
        raise TypeError(f"the summation test needs exact Decimal or integer amounts, not {dtype}")
    frame = _prepare(amounts.alias("amount").to_frame(), "amount", "absolute", None).filter(pl.col(REASON).is_null())
    wide = pl.Decimal(38, dtype.scale if isinstance(dtype, pl.Decimal) else 0)
    sums = frame.group_by(digits_expr(test).alias(DIGIT)).agg(
        pl.len().cast(pl.Int64).alias("count"), pl.col("amount").abs().cast(wide).sum().alias("amount_sum"))
    digits = pl.DataFrame({DIGIT: digit_values(test)}, schema={DIGIT: pl.Int16})
    table = digits.join(sums, on=DIGIT, how="left").with_columns(
        pl.col("count").fill_null(0), pl.col("amount_sum").fill_null(pl.lit(0).cast(wide)))
    total = table["amount_sum"].sum()
    k = len(digit_values(test))
    share = pl.lit(total).cast(wide) / pl.lit(k).cast(wide)
    return table.with_columns(
        (pl.col("amount_sum").cast(pl.Float64) / float(total) if total else pl.lit(None, pl.Float64))
        .alias("observed_proportion"),
        pl.lit(1 / k).alias("expected_proportion"),
        (pl.col("amount_sum") - share).alias("excess_amount"),
    ).sort("excess_amount", descending=True)


# --- Subsets: per entity, account, user or source. ----------------------------------------------------


def min_subset(test: DigitTest) -> int:
    return MIN_SUBSET[_check_test(test)]


def subset_sizes(counts: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Amounts tested per subset, from :func:`count_digits` output."""
    tested = counts.filter(pl.col("reason").is_null())
    if not by:
        return tested.select(pl.col(COUNT).sum().alias("n"))
    return tested.group_by(list(by)).agg(pl.col(COUNT).sum().alias("n"))


def profile_from_counts(counts: pl.DataFrame, by: str | Sequence[str], test: DigitTest, *,
                        min_count: int | None = None, alpha: float = 0.01, comparisons: int | None = None,
                        drill_down_z: float = 1.0) -> pl.DataFrame:
    """One row per subset: n, MAD, chi-square, p-value, conformity, whether it is ``nonconforming``.

    The rule, one that neither small nor huge subsets fool:

    - a subset is tested from ``min_count`` amounts (default :data:`MIN_SUBSET`); smaller ones get
      ``tested = False`` and are never flagged;
    - a tested subset is nonconforming when its MAD lies in Nigrini's nonconformity band **and** its
      p-value is below ``alpha`` divided by the number of subsets tested (Bonferroni, since many
      subsets are screened at once; ``comparisons`` overrides the count when several profiles form
      one screen). On large subsets the chi-square rejects any departure, however slight, so the MAD
      band decides; on small ones the MAD of a conforming sample exceeds the band by chance, so the
      p-value decides, simulated below :data:`CHI_SQUARE_MIN` (``p_method``). The last-two-digits test
      has no published MAD band: the p-value alone decides.

    ``excess_digits`` (with ``excess_z``) lists the over-represented digits, largest Z first: those
    more than ``drill_down_z`` standard errors above expectation. The subset-level statistics have
    already established nonconformity, so this drill-down (Nigrini's step from a spike to the
    amounts behind it) errs toward completeness rather than per-digit significance; ``explanation``
    says it in one sentence for each nonconforming subset.
    """
    by = [by] if isinstance(by, str) else list(by)
    floor = min_subset(test) if min_count is None else int(min_count)
    table, subsets = _digit_tables(counts, by, test)
    subsets = subsets.with_columns((pl.col("n") >= floor).alias("tested"))
    m = comparisons if comparisons is not None else int(subsets["tested"].sum())
    threshold = alpha / max(1, m)
    subsets = _with_p_values(table, subsets, by, test, threshold, eligible=subsets["tested"])
    excess = (
        table.filter((pl.col("z") > drill_down_z) & (pl.col("excess") > 0))
        .sort([*by, "z"], descending=[False] * len(by) + [True], nulls_last=True)
        .group_by(by, maintain_order=True)
        .agg(pl.col(DIGIT).alias("excess_digits"), pl.col("z").alias("excess_z"), pl.col("z").max().alias("max_z"))
    )
    bands = MAD_BANDS.get(test)
    mad_rule = pl.col("mad") > bands[2] if bands else pl.lit(True)
    profile = (
        subsets.with_columns(_conformity_expr(test, alpha).alias("conformity"))
        .join(excess, on=by, how="left", nulls_equal=True, maintain_order="left")
        .with_columns(
            pl.col("excess_digits").fill_null(pl.lit([], dtype=pl.List(pl.Int16))),
            pl.col("excess_z").fill_null(pl.lit([], dtype=pl.List(pl.Float64))),
            (pl.col("tested") & mad_rule.fill_null(False) & (pl.col("p_value") < threshold).fill_null(False))
            .alias("nonconforming"),
            pl.lit(test).alias("test"),
            pl.lit(threshold).alias("p_threshold"),
        )
    )
    explanation = [
        _explain(row, by, test) if row["nonconforming"] else None for row in profile.iter_rows(named=True)
    ]
    profile = profile.with_columns(pl.Series("explanation", explanation, dtype=pl.String))
    return profile.select([*by, "test", "n", "excluded", "missing", "invalid", "tested", "mad", "expected_mad",
                           "chi_square", "degrees_of_freedom", "p_value", "p_method", "p_threshold", "conformity",
                           "nonconforming", "excess_digits", "excess_z", "max_z", "explanation"])


def digit_profile_by(lines: pl.DataFrame, by: str | list[str], *, test: DigitTest = "first_two",
                     amount: str = "amount", min_count: int | None = None, alpha: float = 0.01,
                     sign: Sign = "absolute", population: pl.Expr | None = None,
                     entry_key: Sequence[str] | None = None, drill_down_z: float = 1.0) -> pl.DataFrame:
    """Digit statistics per subset (entity, account, user, source...): see :func:`profile_from_counts`.

    ``population`` filters the lines first (for example ``pl.col("manual_entry")``); ``entry_key``
    (for example ``("entity_id", "journal_id")``) counts an amount repeated within an entry once.
    """
    by = [by] if isinstance(by, str) else list(by)
    counts = count_digits(lines, test, by, amount=amount, sign=sign, population=population, entry_key=entry_key)
    return profile_from_counts(counts, by, test, min_count=min_count, alpha=alpha, drill_down_z=drill_down_z)


def digit_profile(source: Source, by: str | Sequence[str] = (), *, test: DigitTest = "first_two",
                  amount: str = "amount", engine: EngineName = "local", settings: Settings | None = None,
                  min_count: int | None = None, alpha: float = 0.01, sign: Sign = "absolute",
                  population: pl.Expr | None = None, entry_key: Sequence[str] | None = None) -> pl.DataFrame:
    """:func:`digit_profile_by` over Parquet files or a frame, on the local engine or Ray Data.

    Only the counting runs on the engine (it is associative); the statistics are computed once from
    the combined counts, so both engines give the same figures.
    """
    by = [by] if isinstance(by, str) else list(by)
    counts = run(digit_counts(test, by, amount=amount, sign=sign, population=population, entry_key=entry_key),
                 source, engine=engine, settings=settings)
    return profile_from_counts(counts, by, test, min_count=min_count, alpha=alpha)


def _ranges(digits: Iterable[int], test: DigitTest) -> str:
    """[40, 41, ..., 79, 95] -> '40-79, 95'."""
    values = sorted(digits)
    spans: list[tuple[int, int]] = []
    for d in values:
        if spans and d == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], d)
        else:
            spans.append((d, d))
    parts = []
    for a, b in spans:
        if a == b:
            parts.append(digit_label(a, test))
        elif b == a + 1:
            parts += [digit_label(a, test), digit_label(b, test)]
        else:
            parts.append(f"{digit_label(a, test)}-{digit_label(b, test)}")
    return ", ".join(parts)


_SUBJECT = {"entered_by": "user", "gl_account_number": "account", "entity_id": "entity", "source": "source",
            "approved_by": "approver", "document_type": "document type"}


def subset_name(row: dict[str, Any], by: Sequence[str]) -> str:
    """'entity US01, user JDOE' for a subset's key."""
    return ", ".join(f"{_SUBJECT.get(c, c)} {row[c]}" for c in by) or "all amounts"


def _explain(row: dict[str, Any], by: Sequence[str], test: DigitTest) -> str:
    name = TEST_NAMES[test]
    if test in MAD_BANDS:
        statistic = f"{name} MAD {row['mad']:.4f} (nonconformity > {MAD_BANDS[test][2]})"
    else:
        statistic = f"{name} chi-square {row['chi_square']:.1f} (MAD {row['mad']:.4f}, no published bands)"
    excess = row["excess_digits"]
    digits = f"; excess of {'digits' if len(excess) > 1 else 'digit'} {_ranges(excess, test)}" if excess else ""
    p = "simulated p" if row["p_method"] == "simulated" else "chi-square p"
    return f"{subset_name(row, by)}: {statistic} over {row['n']:,} amounts, {p} = {row['p_value']:.1e}{digits}"


# --- The benford_outlier test of the journal-entry battery. -------------------------------------------

LINE_KEY = ("entity_id", "journal_id", "line_number")
# Per user, per account and per user and account: a person inventing amounts stands out among their
# own entries in a small ledger, and among their entries to the account they abuse in a large one,
# where their honest entries would dilute the signal.
DEFAULT_SUBSETS: tuple[tuple[str, ...], ...] = (
    ("entity_id", "entered_by"), ("entity_id", "gl_account_number"), ("entity_id", "entered_by", "gl_account_number"),
)
DEFAULT_OUTLIER_TESTS: tuple[DigitTest, ...] = ("first", "first_two")


def _groupings(by: str | Sequence[str] | Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    if isinstance(by, str):
        return [(by,)]
    items = list(by)
    if items and all(isinstance(b, str) for b in items):
        return [tuple(items)]
    return [(b,) if isinstance(b, str) else tuple(b) for b in items]


def manual_population(lines: pl.DataFrame) -> pl.Expr | None:
    """Manual entries when the ledger marks any, otherwise every line.

    AS 2401 .61(b) and ISA 240 A44 single out manual entries; system-generated amounts (payroll,
    depreciation, interfaces) follow their own rules and seldom conform, so testing them per user
    mostly flags the interface, not a person.
    """
    if "manual_entry" in lines.columns and bool(lines["manual_entry"].fill_null(False).any()):
        return pl.col("manual_entry").fill_null(False)
    return None


def screen_groupings(by: str | Sequence[str] | Sequence[Sequence[str]], columns: Iterable[str]) -> list[tuple[str, ...]]:
    """The groupings of a screen; of :data:`DEFAULT_SUBSETS`, those ``columns`` can support (a ledger
    without users, or accounts, is still screened on the rest)."""
    groupings = _groupings(by)
    if by is DEFAULT_SUBSETS:
        available = set(columns)
        groupings = [g for g in groupings if all(c in available for c in g)]
    return groupings


def _checked(groupings: Sequence[tuple[str, ...]], tests: Sequence[DigitTest]) -> None:
    if not groupings or not tests:
        raise ValueError("no grouping or test to run")
    for test in tests:
        _check_test(test)


def _prepared(lines: pl.LazyFrame, groupings: Sequence[tuple[str, ...]], amount: str,
              population: pl.Expr | None, keep: Sequence[str]) -> pl.LazyFrame:
    needed = {amount, *keep, *(c for g in groupings for c in g)}
    if population is not None:
        needed |= set(population.meta.root_names())
        lines = lines.filter(population)
    return with_exact_amounts(lines.select(sorted(needed)), amount)


def screen_counts(lines: pl.LazyFrame, groupings: Sequence[tuple[str, ...]],
                  tests: Sequence[DigitTest] = DEFAULT_OUTLIER_TESTS, *, amount: str = "amount",
                  entry_key: Sequence[str] = (), population: pl.Expr | None = None) -> pl.LazyFrame:
    """The digit counts of every (grouping, test) of a screen, as one long frame: ``grouping`` (its
    columns, comma-joined), ``test``, the groupings' columns, ``digit``, ``reason`` and ``count``.

    One pass over the lines. Counts add up: summed per everything but ``count`` (:func:`sum_counts`)
    they are the same over any partitioning, so long as each entry's lines (``entry_key``) share a partition.
    """
    _checked(groupings, tests)
    prepared = _prepared(lines, groupings, amount, population, entry_key)
    runs = []
    for grouping in groupings:
        once = _one_per_entry(prepared, grouping, entry_key)
        runs += [_count(once, test, grouping).with_columns(grouping=pl.lit(",".join(grouping)), test=pl.lit(test))
                 for test in tests]
    return pl.concat(runs, how="diagonal_relaxed")


def _screen_runs(counts: pl.DataFrame, groupings: Sequence[tuple[str, ...]], tests: Sequence[DigitTest]
                 ) -> list[tuple[tuple[str, ...], DigitTest, pl.DataFrame]]:
    runs = []
    for grouping in groupings:
        for test in tests:
            mine = counts.filter((pl.col("grouping") == ",".join(grouping)) & (pl.col("test") == test))
            runs.append((grouping, test, mine.select(*grouping, DIGIT, "reason", COUNT).with_columns(
                pl.col(DIGIT).cast(pl.Int16))))
    return runs


def _screen_rows(profile: pl.DataFrame, grouping: Sequence[str]) -> pl.DataFrame:
    names = [subset_name(r, grouping) for r in profile.select(grouping).iter_rows(named=True)]
    return profile.select(pl.lit(",".join(grouping)).alias("grouping"), pl.Series("subset", names, dtype=pl.String),
                          pl.struct(list(grouping)).alias("key"), pl.exclude(list(grouping)))


def screen(counts: pl.DataFrame, groupings: Sequence[tuple[str, ...]],
           tests: Sequence[DigitTest] = DEFAULT_OUTLIER_TESTS, *, min_count: int | None = None,
           alpha: float = 0.01, drill_down_z: float = 1.0) -> tuple[pl.DataFrame, int]:
    """:func:`screen_from_counts`, and the screen's Bonferroni divisor (the (subset, test) pairs it tested),
    which :func:`marks_without_recurring` keeps when it tests subsets again."""
    _checked(groupings, tests)
    runs = _screen_runs(counts, groupings, tests)
    comparisons = sum(int((subset_sizes(part, grouping)["n"] >= (min_count or min_subset(test))).sum())
                      for grouping, test, part in runs)
    frames = [_screen_rows(profile_from_counts(part, list(grouping), test, min_count=min_count, alpha=alpha,
                                               comparisons=comparisons, drill_down_z=drill_down_z), grouping)
              for grouping, test, part in runs]
    return pl.concat(frames, how="diagonal_relaxed"), comparisons


def screen_from_counts(counts: pl.DataFrame, groupings: Sequence[tuple[str, ...]],
                       tests: Sequence[DigitTest] = DEFAULT_OUTLIER_TESTS, *, min_count: int | None = None,
                       alpha: float = 0.01, drill_down_z: float = 1.0) -> pl.DataFrame:
    """Every (grouping, test) profile of :func:`screen_counts`' counts, in one Bonferroni screen."""
    return screen(counts, groupings, tests, min_count=min_count, alpha=alpha, drill_down_z=drill_down_z)[0]


def failing_subsets(subsets: pl.DataFrame) -> pl.DataFrame:
    """The screen's subsets to drill into: nonconforming, with over-represented digits."""
    return subsets.filter(pl.col("nonconforming") & (pl.col("excess_digits").list.len() > 0))


def _by_grouping(failing: pl.DataFrame) -> Iterator[tuple[tuple[str, ...], pl.DataFrame, pl.DataFrame]]:
    """Per grouping of the failing subsets: its columns, its rows, and its subsets' distinct keys."""
    for text in failing["grouping"].unique(maintain_order=True):
        mine = failing.filter(pl.col("grouping") == text)
        yield tuple(text.split(",")), mine, mine.select(pl.col("key").struct.unnest()).unique()


def subset_lines(lines: pl.LazyFrame, subsets: pl.DataFrame, *, keep: Sequence[str],
                 keys: Sequence[str] = LINE_KEY, population: pl.Expr | None = None) -> pl.LazyFrame:
    """The lines of the screen's nonconforming subsets (of any grouping), each line once, as its ``keep``
    columns: the second pass over the lines, which needs no partitioning (a line's key is its own)."""
    if population is not None:
        lines = lines.filter(population)
    parts = [lines.join(wanted.lazy(), on=list(grouping), how="semi", nulls_equal=True).select(keep)
             for grouping, _, wanted in _by_grouping(failing_subsets(subsets))]
    if not parts:
        return lines.select(keep).head(0)
    return pl.concat(parts).unique(list(keys), keep="any")


# An amount keyed month after month in one subset (a monthly accrual of one amount, and its reversal) is a
# recurrence the auditor sees for what it is, not an invented figure. A dozen copies of one amount make a
# subset's first digits nonconform all the same, and the drill-down then flags every honest amount that shares
# their first digit. Nigrini (2012) tests duplicated amounts apart from the digit tests (the number
# duplication test) for this reason: before its amounts are flagged, a nonconforming subset is tested again
# with the amounts it recurs in set aside. Copies keyed within a month or two (a burst of one invented amount)
# are not a recurrence and stay.
RECURRING_MIN_MONTHS = 3


def recurring_amounts(lines: pl.DataFrame, grouping: Sequence[str], *, amount: str = "amount",
                      when: str = "effective_date") -> pl.DataFrame:
    """Each subset's absolute amounts keyed in at least :data:`RECURRING_MIN_MONTHS` different months: the
    ``grouping`` columns, ``recurring_amount`` and ``months``."""
    return (lines.group_by([*grouping, pl.col(amount).abs().alias("recurring_amount")])
            .agg(months=pl.col(when).dt.month_start().n_unique().cast(pl.Int64))
            .filter(pl.col("months") >= RECURRING_MIN_MONTHS))


def marks_without_recurring(lines: pl.DataFrame, subsets: pl.DataFrame, comparisons: int, *,
                            amount: str = "amount", keys: Sequence[str] = LINE_KEY,
                            entry_key: Sequence[str] = (), when: str = "effective_date",
                            min_count: int | None = None, alpha: float = 0.01,
                            drill_down_z: float = 1.0) -> pl.DataFrame:
    """:func:`mark_lines` over the nonconforming subsets' lines (:func:`subset_lines`), each subset first
    tested again (same tests, same Bonferroni divisor ``comparisons``) with its recurring amounts set aside
    (:func:`recurring_amounts`). A subset that conforms without them is explained by them, and nothing of it
    is flagged; one that still fails is drilled into without them, its explanation saying what was set aside.
    Without a ``when`` column, the subsets are drilled into as they are."""
    failing = failing_subsets(subsets)
    if failing.is_empty() or when not in lines.columns:
        return mark_lines(lines.lazy(), failing, amount=amount, keys=keys).collect()
    marks = []
    for grouping, mine, wanted in _by_grouping(failing):
        members = lines.join(wanted, on=list(grouping), how="semi", nulls_equal=True)
        recurring = recurring_amounts(members, grouping, amount=amount, when=when)
        if recurring.is_empty():
            marks.append(mark_lines(members.lazy(), mine, amount=amount, keys=keys).collect())
            continue
        kept = members.join(recurring, left_on=[*grouping, pl.col(amount).abs()],
                            right_on=[*grouping, "recurring_amount"], how="anti", nulls_equal=True)
        tests = list(mine["test"].unique(maintain_order=True))
        counts = screen_counts(kept.lazy(), [grouping], tests, amount=amount, entry_key=entry_key).collect()
        set_aside = (recurring.group_by(list(grouping)).agg(_amounts=pl.len(), _months=pl.col("months").max()))
        retested = []
        for _, test, part in _screen_runs(counts, [grouping], tests):
            profile = profile_from_counts(part, list(grouping), test, min_count=min_count, alpha=alpha,
                                          comparisons=comparisons, drill_down_z=drill_down_z)
            profile = (profile.join(mine.filter(pl.col("test") == test).select(pl.col("key").struct.unnest()),
                                    on=list(grouping), how="semi", nulls_equal=True)
                       .join(set_aside, on=list(grouping), how="left", nulls_equal=True)
                       .with_columns(explanation=pl.when(pl.col("_amounts").is_not_null()).then(
                           pl.format("{} (after setting aside {} amount(s) keyed in up to {} different months)",
                                     "explanation", "_amounts", "_months")).otherwise("explanation"))
                       .drop("_amounts", "_months"))
            retested.append(_screen_rows(profile, grouping))
        marks.append(mark_lines(kept.lazy(), pl.concat(retested, how="diagonal_relaxed"), amount=amount,
                                keys=keys).collect())
    return pl.concat(marks, how="vertical_relaxed")


def mark_lines(lines: pl.LazyFrame, subsets: pl.DataFrame, *, amount: str = "amount",
               keys: Sequence[str] = LINE_KEY, population: pl.Expr | None = None) -> pl.LazyFrame:
    """Nigrini's drill-down, line by line: the tested lines of each nonconforming subset whose digits are
    among its over-represented ones, one row per line and failing (subset, test): ``keys``, ``benford_z``,
    ``explanation``. A pass over the lines that needs no partitioning; :func:`flags_from_marks` folds it."""
    flagged = failing_subsets(subsets)
    groupings = [tuple(g.split(",")) for g in flagged["grouping"].unique(maintain_order=True)]
    if flagged.is_empty():
        return lines.select(*keys, benford_z=pl.lit(None, dtype=pl.Float64),
                            explanation=pl.lit(None, dtype=pl.String)).head(0)
    tested = _prepared(lines, groupings, amount, population, keys).filter(pl.col(REASON).is_null())
    hits = []
    for (grouping, test), group in flagged.group_by(["grouping", "test"], maintain_order=True):
        columns = grouping.split(",")
        wanted = group.select(pl.col("key").struct.unnest(), pl.col("excess_digits").alias(DIGIT),
                              pl.col("excess_z").alias("benford_z"), "explanation").explode([DIGIT, "benford_z"])
        marked = tested.with_columns(digits_expr(test).alias(DIGIT)).join(
            wanted.lazy(), on=[*columns, DIGIT], how="inner", nulls_equal=True)
        hits.append(marked.select([*keys, "benford_z", "explanation"]))
    return pl.concat(hits, how="vertical_relaxed")


def flags_from_marks(marks: pl.DataFrame, keys: Sequence[str] = LINE_KEY) -> pl.DataFrame:
    """One row per flagged line: the largest Z of its digits and every failing subset's sentence."""
    return (
        marks.group_by(list(keys))
        .agg(pl.col("benford_z").max(),
             pl.col("explanation").unique(maintain_order=True).sort().str.join("; ").alias("benford_explanation"))
        .select(*keys, "benford_z", "benford_explanation")
        .sort(list(keys))
    )


def _in_memory_screen(lines: pl.DataFrame, by: str | Sequence[str] | Sequence[Sequence[str]], *,
                      tests: Sequence[DigitTest], amount: str, manual_only: bool, entry_key: Sequence[str] | None,
                      min_count: int | None, alpha: float, drill_down_z: float
                      ) -> tuple[pl.DataFrame, int, pl.Expr | None, tuple[str, ...]]:
    population = manual_population(lines) if manual_only else None
    key = tuple(entry_key) if entry_key and all(c in lines.columns for c in entry_key) else ()
    groupings = screen_groupings(by, lines.columns)
    counts = screen_counts(lines.lazy(), groupings, tests, amount=amount, entry_key=key,
                           population=population).collect()
    subsets, comparisons = screen(counts, groupings, tests, min_count=min_count, alpha=alpha,
                                  drill_down_z=drill_down_z)
    return subsets, comparisons, population, key


def benford_outlier_subsets(lines: pl.DataFrame, by: str | Sequence[str] | Sequence[Sequence[str]] = DEFAULT_SUBSETS,
                            *, tests: Sequence[DigitTest] = DEFAULT_OUTLIER_TESTS, amount: str = "amount",
                            manual_only: bool = True, entry_key: Sequence[str] | None = ("entity_id", "journal_id"),
                            min_count: int | None = None, alpha: float = 0.01,
                            drill_down_z: float = 1.0) -> pl.DataFrame:
    """The profile of every subset of every grouping and test, with ``nonconforming`` set.

    All groupings and tests form one screen: the Bonferroni divisor is the number of (subset, test)
    pairs tested across them. Columns: ``grouping`` (the columns, comma-joined), ``subset`` (its
    readable name), the key values as a struct ``key``, then the :func:`profile_from_counts` columns.
    Defaults as for :func:`benford_outlier_flags`.
    """
    subsets, _, _, _ = _in_memory_screen(lines, by, tests=tests, amount=amount, manual_only=manual_only,
                                      entry_key=entry_key, min_count=min_count, alpha=alpha,
                                      drill_down_z=drill_down_z)
    return subsets


def benford_outlier_flags(lines: pl.DataFrame, by: str | Sequence[str] | Sequence[Sequence[str]] = DEFAULT_SUBSETS,
                          *, tests: Sequence[DigitTest] = DEFAULT_OUTLIER_TESTS, amount: str = "amount",
                          manual_only: bool = True, entry_key: Sequence[str] | None = ("entity_id", "journal_id"),
                          keys: Sequence[str] = LINE_KEY, min_count: int | None = None,
                          alpha: float = 0.01, drill_down_z: float = 1.0,
                          when: str = "effective_date") -> pl.DataFrame:
    """Lines of nonconforming subsets whose digits are among the subset's over-represented digits.

    Nigrini's drill-down: once a subset (one user's manual entries, one account) fails to conform,
    the amounts to examine are those carrying the over-represented digits. Returns one row per
    flagged line: the ``keys`` columns, ``benford_z`` (the largest Z of the line's digits) and
    ``benford_explanation`` (one sentence per failing subset and test, joined by "; ").

    ``by`` is one grouping (``("entity_id", "entered_by")``) or several. Defaults: per user, per
    account and per user and account (:data:`DEFAULT_SUBSETS`, those the ledger has columns for);
    manual entries only when the ledger marks them; an amount repeated within an entry counted once;
    the first-digit test (from 50 amounts) and the first-two-digits test (from 1,150); the rule of
    :func:`profile_from_counts`, with every (subset, test) pair in one Bonferroni screen; a nonconforming
    subset tested again with the amounts it recurs in month after month (``when``) set aside
    (:func:`marks_without_recurring`).

    In memory; over Parquet or on Ray, the same three steps run as engine passes (counts, then marks:
    ``auditray.je.analyze``), with the same result.
    """
    missing = [c for c in keys if c not in lines.columns]
    if missing:
        raise ValueError(f"lines lack the key column(s) {missing}")
    subsets, comparisons, population, key = _in_memory_screen(
        lines, by, tests=tests, amount=amount, manual_only=manual_only, entry_key=entry_key,
        min_count=min_count, alpha=alpha, drill_down_z=drill_down_z)
    members = lines.filter(population) if population is not None else lines
    marks = marks_without_recurring(members, subsets, comparisons, amount=amount, keys=keys, entry_key=key,
                                    when=when, min_count=min_count, alpha=alpha, drill_down_z=drill_down_z)
    schema = {**{c: lines.schema[c] for c in keys}, "benford_z": pl.Float64, "benford_explanation": pl.String}
    if marks.is_empty():
        return pl.DataFrame(schema=schema)
    return flags_from_marks(marks, keys).cast(schema)


def _check_test(test: str) -> DigitTest:
    if test not in DIGIT_TESTS:
        raise ValueError(f"unknown digit test {test!r}; expected one of {', '.join(DIGIT_TESTS)}")
    return test  # type: ignore[return-value]
