"""Monetary-unit sampling: sample size and Stringer-bound evaluation (AICPA Audit Sampling, ch. 6, App. C).

Monetary-unit sampling (MUS, probability-proportional-to-size) treats every monetary unit of a
population's book value as a sampling unit, so larger items are likelier to be selected, and
evaluates overstatement with the Poisson distribution of misstatement counts.

Factors. The confidence (reliability) factor for k misstatements at risk of incorrect acceptance
``risk`` is the Poisson upper limit on the mean, gamma.ppf(1 - risk, k + 1). The guide tabulates
it rounded UP to two decimals (3.00, 4.75, 6.30, ... at 5%; 2.31, 3.89, ... at 10%; some
textbooks print 2.3 at 10%: we use the guide's 2.31), which is the ``guide`` basis here;
``exact`` uses the unrounded value.

Sample size, two methods:

- ``table``: the exact iterative method Appendix C's Table C-1 is built from: the smallest n with
  gamma.ppf(1 - risk, 1 + n x EM/BV) <= n x TM/BV, i.e. the Poisson bound with the expected
  misstatement's taintings (n x EM/BV, allowed to be fractional) still within tolerable
  misstatement. It reproduces every published cell of Table C-1, and its last column (expected
  taintings in a sample for TM = 0.5% of the population, rounded up to 0.01).
- ``formula``: the textbook n = BV x RF / (TM - EM x EF) with the guide's rounded factor RF for
  no misstatements and its expansion factor EF for expected misstatement.

Evaluation (Stringer bound): basic precision RF(0) x J, plus projected misstatement (tainting x J
for items below the interval J; the actual misstatement for items at or above it, which were
examined in full), plus an incremental allowance: taintings ranked in descending order, the i-th
multiplied by (RF(i) - RF(i-1) - 1) x J. Items at or above J get no projection and no allowance.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Literal

from auditray.sampling.distributions import (
    as_fraction,
    gamma_upper_tail,
    poisson_cdf_at_most,
    poisson_upper_limit,
)
from auditray.sampling.errors import PopulationError, SamplingInputError

Number = float | int | str | Decimal | Fraction
FactorBasis = Literal["guide", "exact"]
CENT = Decimal("0.01")

# Expansion factors for expected misstatement by risk of incorrect acceptance (AICPA Audit Sampling,
# ch. 6, "Expansion factors for expected misstatement"), used only by the textbook formula.
EXPANSION_FACTORS: dict[Fraction, Decimal] = {
    Fraction(1, 100): Decimal("1.9"),
    Fraction(5, 100): Decimal("1.6"),
    Fraction(10, 100): Decimal("1.5"),
    Fraction(15, 100): Decimal("1.4"),
    Fraction(20, 100): Decimal("1.3"),
    Fraction(25, 100): Decimal("1.25"),
    Fraction(30, 100): Decimal("1.2"),
    Fraction(37, 100): Decimal("1.15"),
    Fraction(50, 100): Decimal("1.0"),
}

# Beyond this a monetary-unit sample is not a sensible design: the population should be re-scoped.
MAX_MUS_SAMPLE_SIZE = 100_000


def _risk(value: Number) -> Fraction:
    try:
        risk = as_fraction(value)
    except (ValueError, ArithmeticError) as bad:
        raise SamplingInputError("risk", f"risk {value!r} is not a number") from bad
    if not 0 < risk < 1:
        raise SamplingInputError("risk", f"risk must be a fraction in (0, 1) (0.05 = 5%), got {value}")
    return risk


def _money(value: Number, name: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except ArithmeticError as bad:
        raise SamplingInputError(name, f"{name.replace('_', ' ')} {value!r} is not an amount") from bad
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        need = "zero or more" if allow_zero else "more than zero"
        raise SamplingInputError(name, f"{name.replace('_', ' ')} must be {need}, got {value}")
    return amount


def _dec(value: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return Decimal(value.numerator) / Decimal(value.denominator)


# --- Confidence factors ------------------------------------------------------------------------------


def confidence_factor(misstatements: int, risk: Number, basis: FactorBasis = "guide") -> Decimal:
    """The MUS confidence factor for ``misstatements`` overstatements at ``risk`` of incorrect acceptance.

    ``guide``: the Poisson upper limit rounded up to 0.01, as in the guide's table of confidence
    factors for sample evaluation (Appendix C); ``exact``: gamma.ppf(1 - risk, k + 1) unrounded.
    """
    alpha = _risk(risk)
    if isinstance(misstatements, bool) or not isinstance(misstatements, int) or misstatements < 0:
        raise SamplingInputError("misstatements", f"misstatements must be a whole number >= 0, got {misstatements}")
    exact = poisson_upper_limit(misstatements, float(alpha))
    if basis == "exact":
        return Decimal(repr(exact))
    if basis != "guide":
        raise SamplingInputError("basis", f"factor basis must be 'guide' or 'exact', got {basis!r}")
    step = max(1, math.ceil(exact * 100))
    # The smallest 0.01 step whose Poisson chance of <= k misstatements is within the risk.
    while step > 1 and poisson_cdf_at_most(misstatements, Fraction(step - 1, 100), alpha):
        step -= 1
    while not poisson_cdf_at_most(misstatements, Fraction(step, 100), alpha):
        step += 1
    return Decimal(step).scaleb(-2)


def expansion_factor(risk: Number) -> Decimal:
    """The guide's expansion factor for expected misstatement at ``risk`` (only the tabulated risks)."""
    alpha = _risk(risk)
    if alpha not in EXPANSION_FACTORS:
        listed = ", ".join(f"{float(r):g}" for r in EXPANSION_FACTORS)
        raise SamplingInputError(
            "risk",
            f"the guide's expansion factors cover risks {listed}; got {float(alpha):g} "
            "(use the table method for other risks)",
        )
    return EXPANSION_FACTORS[alpha]


def design_confidence_factor(expected_to_tolerable: Number, risk: Number) -> float:
    """The confidence factor for sample-size design with expected misstatement (App. C's design factors).

    The smallest x with gamma.ppf(1 - risk, 1 + r x) <= x for r = EM / TM; then n = x x BV / TM, and
    Table C-1's cells are ceil(x / (TM / BV)). With r = 0 it is the evaluation factor for no misstatements.
    """
    ratio = as_fraction(expected_to_tolerable)
    alpha = float(_risk(risk))
    if not 0 <= ratio < 1:
        raise SamplingInputError("expected_misstatement", "expected misstatement must be below tolerable misstatement")
    lo, hi = 0.0, 1.0
    while gamma_upper_tail(1.0 + float(ratio) * hi, hi) > alpha:
        lo, hi = hi, hi * 2.0
        if hi > 1e9:
            raise SamplingInputError("expected_misstatement", "expected misstatement is too close to tolerable")
    for _ in range(200):
        mid = (lo + hi) / 2
        if gamma_upper_tail(1.0 + float(ratio) * mid, mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


# --- Sample size ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MUSSamplePlan:
    """A planned monetary-unit sample and the figures an auditor documents with it."""

    population_value: Decimal
    tolerable_misstatement: Decimal
    expected_misstatement: Decimal
    risk: Decimal
    method: str
    sample_size: int
    # BV / n rounded down to the cent, so a fixed-interval selection yields at least n units.
    sampling_interval: Decimal
    # n x EM / BV: the sum of taintings the design allows the sample to contain.
    expected_taintings: Decimal
    confidence_factor: Decimal | None = None
    expansion_factor: Decimal | None = None
    basis: str = ""

    def to_dict(self) -> dict:
        """Exact figures stay Decimal; ``auditray.sampling.json_ready`` turns them into JSON numbers."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _check_plan(population_value: Number, tolerable: Number, expected: Number, risk: Number):
    bv = _money(population_value, "population_value")
    tm = _money(tolerable, "tolerable_misstatement")
    em = _money(expected, "expected_misstatement", allow_zero=True)
    alpha = _risk(risk)
    if tm >= bv:
        raise SamplingInputError(
            "tolerable_misstatement",
            f"tolerable misstatement {tm} must be below the population value {bv}: nothing to sample for",
        )
    if em >= tm:
        raise SamplingInputError(
            "expected_misstatement",
            f"expected misstatement {em} must be below tolerable misstatement {tm}: a sample cannot "
            "conclude that misstatement is tolerable when at least that much is expected",
        )
    return bv, tm, em, alpha


def table_sample_size(tolerable_ratio: Number, expected_ratio: Number, risk: Number) -> int:
    """A cell of AICPA Audit Sampling Appendix C, Table C-1 (monetary unit sample sizes).

    ``tolerable_ratio`` = TM / BV and ``expected_ratio`` = EM / BV. The smallest n with
    P(Gamma(1 + n x EM/BV) > n x TM/BV) <= risk, i.e. gamma.ppf(1 - risk, 1 + n EM/BV) <= n TM/BV.
    """
    t, e, alpha = as_fraction(tolerable_ratio), as_fraction(expected_ratio), float(_risk(risk))
    if not 0 < t < 1:
        raise SamplingInputError("tolerable_misstatement", "tolerable misstatement must be below the population value")
    if not 0 <= e < t:
        raise SamplingInputError("expected_misstatement", "expected misstatement must be below tolerable misstatement")

    def meets(n: int) -> bool:
        return gamma_upper_tail(1.0 + float(n * e), float(n * t)) <= alpha

    hi = max(1, math.floor(design_confidence_factor(e / t, alpha) / float(t)))
    while not meets(hi):
        hi += 1
        if hi > MAX_MUS_SAMPLE_SIZE:
            raise SamplingInputError(
                "tolerable_misstatement",
                f"the sample would exceed {MAX_MUS_SAMPLE_SIZE:,} items; tolerable misstatement is too small "
                "or expected misstatement too close to it",
            )
    while hi > 1 and meets(hi - 1):
        hi -= 1
    return hi


def mus_sample_size(
    population_value: Number,
    tolerable_misstatement: Number,
    expected_misstatement: Number = 0,
    risk: Number = "0.05",
    method: Literal["table", "formula"] = "table",
) -> MUSSamplePlan:
    """Monetary-unit sample size and interval by the guide's table method or the textbook formula.

    ``table`` reproduces Appendix C, Table C-1 (exact Poisson/gamma with expected misstatement);
    ``formula`` is n = BV x RF / (TM - EM x EF) with the guide's rounded confidence factor and
    expansion factor, rounded up to a whole item.
    """
    bv, tm, em, alpha = _check_plan(population_value, tolerable_misstatement, expected_misstatement, risk)
    if method == "table":
        n = table_sample_size(Fraction(tm) / Fraction(bv), Fraction(em) / Fraction(bv), alpha)
        rf = ef = None
        basis = ("AICPA Audit Sampling, Appendix C (Table C-1 method): smallest n with "
                 "gamma.ppf(1 - risk, 1 + n x EM/BV) <= n x TM/BV")
    elif method == "formula":
        rf, ef = confidence_factor(0, alpha), expansion_factor(alpha)
        denominator = tm - em * ef
        if denominator <= 0:
            raise SamplingInputError(
                "expected_misstatement",
                f"expected misstatement x expansion factor ({em} x {ef}) must be below tolerable misstatement {tm}",
            )
        n = math.ceil(Fraction(bv * rf) / Fraction(denominator))
        if n > MAX_MUS_SAMPLE_SIZE:
            raise SamplingInputError("tolerable_misstatement", f"the sample would exceed {MAX_MUS_SAMPLE_SIZE:,} items")
        basis = f"n = BV x RF / (TM - EM x EF) with RF {rf} and EF {ef} (AICPA Audit Sampling, ch. 6)"
    else:
        raise SamplingInputError("method", f"method must be 'table' or 'formula', got {method!r}")
    return MUSSamplePlan(
        population_value=bv,
        tolerable_misstatement=tm,
        expected_misstatement=em,
        risk=_dec(alpha),
        method=method,
        sample_size=n,
        sampling_interval=sampling_interval(bv, n),
        expected_taintings=(Decimal(n) * em / bv).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        confidence_factor=rf,
        expansion_factor=ef,
        basis=basis,
    )


def sampling_interval(population_value: Number, sample_size: int) -> Decimal:
    """J = BV / n, rounded down to the cent so that fixed-interval selection yields at least n hits."""
    bv = _money(population_value, "population_value")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
        raise SamplingInputError("sample_size", f"sample size must be a whole number >= 1, got {sample_size}")
    return (bv / Decimal(sample_size)).quantize(CENT, rounding=ROUND_FLOOR)


# --- Evaluation (Stringer bound) --------------------------------------------------------------------


@dataclass(frozen=True)
class Misstatement:
    """One sample item's book and audited values; ``item`` and ``row`` say where it came from."""

    book_value: Decimal
    audit_value: Decimal
    item: str | None = None
    row: int | None = None


@dataclass(frozen=True)
class MisstatementLine:
    """How one misstatement enters the bound."""

    item: str | None
    book_value: Decimal
    audit_value: Decimal
    misstatement: Decimal
    direction: str  # "overstatement" | "understatement"
    stratum: str  # "top stratum" (book >= interval) | "sampled"
    tainting: Decimal | None
    projected_misstatement: Decimal
    rank: int | None = None
    factor_increment: Decimal | None = None
    incremental_allowance: Decimal = Decimal(0)


@dataclass(frozen=True)
class MUSEvaluation:
    """The Stringer bound on overstatement (and, separately, understatement) and the conclusion."""

    population_value: Decimal
    sample_size: int
    sampling_interval: Decimal
    risk: Decimal
    factor_basis: str
    tolerable_misstatement: Decimal
    basic_precision: Decimal
    projected_misstatement: Decimal
    incremental_allowance: Decimal
    upper_misstatement_limit: Decimal
    conclusion: str
    projected_understatement: Decimal
    understatement_incremental_allowance: Decimal
    understatement_upper_limit: Decimal
    most_likely_misstatement: Decimal
    net_upper_misstatement_limit: Decimal
    net_understatement_upper_limit: Decimal
    lines: list[MisstatementLine] = field(default_factory=list)
    factors: list[Decimal] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Exact figures stay Decimal; ``auditray.sampling.json_ready`` turns them into JSON numbers."""
        out = asdict(self)
        out["conclusion_basis"] = (
            "accept when the upper misstatement limit on overstatement, and on understatement when any "
            "was found, is at or below tolerable misstatement"
        )
        return out


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def evaluate_mus_sample(
    population_value: Number,
    sample_size: int,
    misstatements: Iterable[Misstatement],
    tolerable_misstatement: Number,
    risk: Number,
    *,
    factor_basis: FactorBasis = "guide",
    interval: Number | None = None,
) -> MUSEvaluation:
    """Evaluate a monetary-unit sample by the Stringer bound (AICPA Audit Sampling, ch. 6).

    ``interval`` defaults to BV / n; pass the interval actually used for selection if it was rounded.
    Rows whose audited value equals the book value are ignored, so the whole sample may be passed.

    Overstatements (book > audit) and understatements (audit > book) are bounded separately, each
    with basic precision, its projections and its own ranked incremental allowance; the net limits
    subtract the other direction's projected misstatement (the netting the guide describes). A
    ranked increment below 1 (only at risks near 50%) would make the allowance negative; it is
    floored at zero so the bound never falls below basic precision plus projected misstatement.
    """
    bv = _money(population_value, "population_value")
    tm = _money(tolerable_misstatement, "tolerable_misstatement")
    alpha = _risk(risk)
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
        raise SamplingInputError("sample_size", f"sample size must be a whole number >= 1, got {sample_size}")
    with localcontext() as ctx:
        ctx.prec = 40
        j = bv / Decimal(sample_size) if interval is None else _money(interval, "interval")
        rows = list(misstatements)
        _refuse_unselectable(rows)
        lines_over: list[MisstatementLine] = []
        lines_under: list[MisstatementLine] = []
        for m in rows:
            if m.audit_value == m.book_value:
                continue
            difference = m.book_value - m.audit_value
            direction = "overstatement" if difference > 0 else "understatement"
            if m.book_value >= j:
                line = MisstatementLine(m.item, m.book_value, m.audit_value, difference, direction, "top stratum",
                                        None, abs(difference))
            else:
                tainting = abs(difference) / m.book_value
                line = MisstatementLine(m.item, m.book_value, m.audit_value, difference, direction, "sampled",
                                        tainting, tainting * j)
            (lines_over if direction == "overstatement" else lines_under).append(line)

        count = max(_count_sampled(lines_over), _count_sampled(lines_under))
        factors = [confidence_factor(k, alpha, factor_basis) for k in range(count + 1)]
        basic = factors[0] * j
        over, over_allowance = _rank(lines_over, factors, j)
        under, under_allowance = _rank(lines_under, factors, j)

        basic_c = _cents(basic)
        projected_over = _cents(sum((line.projected_misstatement for line in over), Decimal(0)))
        projected_under = _cents(sum((line.projected_misstatement for line in under), Decimal(0)))
        allowance_over, allowance_under = _cents(over_allowance), _cents(under_allowance)
        ulm_over = basic_c + projected_over + allowance_over
        ulm_under = basic_c + projected_under + allowance_under
        accept = ulm_over <= tm and (not under or ulm_under <= tm)
        return MUSEvaluation(
            population_value=bv,
            sample_size=sample_size,
            sampling_interval=_cents(j) if interval is None else j,
            risk=_dec(alpha),
            factor_basis=factor_basis,
            tolerable_misstatement=tm,
            basic_precision=basic_c,
            projected_misstatement=projected_over,
            incremental_allowance=allowance_over,
            upper_misstatement_limit=ulm_over,
            conclusion="accept" if accept else "reject",
            projected_understatement=projected_under,
            understatement_incremental_allowance=allowance_under,
            understatement_upper_limit=ulm_under,
            most_likely_misstatement=projected_over - projected_under,
            net_upper_misstatement_limit=ulm_over - projected_under,
            net_understatement_upper_limit=ulm_under - projected_over,
            lines=[_round_line(line) for line in over + under],
            factors=factors,
        )


def _count_sampled(lines: Sequence[MisstatementLine]) -> int:
    return sum(1 for line in lines if line.stratum == "sampled")


def _rank(lines: list[MisstatementLine], factors: list[Decimal], j: Decimal) -> tuple[list[MisstatementLine], Decimal]:
    """Rank the sampled taintings (largest first) and give each its incremental allowance."""
    sampled = sorted((x for x in lines if x.stratum == "sampled"), key=lambda x: x.tainting, reverse=True)
    ranked: list[MisstatementLine] = []
    total = Decimal(0)
    for i, line in enumerate(sampled, start=1):
        increment = factors[i] - factors[i - 1]
        allowance = max(Decimal(0), (increment - 1) * line.tainting * j)
        total += allowance
        ranked.append(MisstatementLine(**{**asdict(line), "rank": i, "factor_increment": increment,
                                          "incremental_allowance": allowance}))
    return ranked + [x for x in lines if x.stratum == "top stratum"], total


def _round_line(line: MisstatementLine) -> MisstatementLine:
    values = asdict(line)
    values["projected_misstatement"] = _cents(line.projected_misstatement)
    values["incremental_allowance"] = _cents(line.incremental_allowance)
    if line.tainting is not None:
        values["tainting"] = line.tainting.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return MisstatementLine(**values)


def _refuse_unselectable(rows: list[Misstatement]) -> None:
    """Items with no positive book value carry no monetary units, so MUS cannot have selected them."""
    problems = []
    for m in rows:
        if m.book_value <= 0:
            problems.append((
                "misstatements", m.row, "book_value",
                (f"book value {m.book_value} cannot come from a monetary-unit sample: an item with a zero or "
                "negative book value carries no monetary units and is never selected; test zero and credit "
                "balances as a separate population"),
            ))
    if problems:
        raise PopulationError(problems)


# --- Misstatements file -----------------------------------------------------------------------------

_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")
_ITEM_COLUMNS = ("item", "item_id", "key", "id", "document_number", "invoice")


def parse_amount(text: str) -> Decimal | None:
    """An exact amount from text ("1234.50", "-12", "1,234.50"), or None if it is not one."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    if not _AMOUNT.match(cleaned):
        return None
    return Decimal(cleaned)


def read_misstatements(path: str | Path) -> list[Misstatement]:
    """Read a CSV with ``book_value`` and ``audit_value`` columns (and optionally an item column).

    Every bad row is reported at once, by file, line and column (the header is line 1).
    """
    path = Path(path)
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as missing:
        raise PopulationError([(name, None, None, f"cannot read the file: {missing.strerror or missing}")]) from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise PopulationError([(name, None, None, "the file is empty; expected a header book_value,audit_value")])
        columns = [h.strip().lower() for h in header]
        missing = [c for c in ("book_value", "audit_value") if c not in columns]
        if missing:
            raise PopulationError([(name, 1, c, "required column is missing (header: " + ",".join(header) + ")")
                                   for c in missing])
        book_at, audit_at = columns.index("book_value"), columns.index("audit_value")
        item_at = next((columns.index(c) for c in _ITEM_COLUMNS if c in columns), None)
        problems: list[tuple[str, int | None, str | None, str]] = []
        out: list[Misstatement] = []
        for line, record in enumerate(reader, start=2):
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                problems.append((name, line, None, f"expected {len(columns)} fields, found {len(record)}"))
                continue
            values = {}
            for column, at in (("book_value", book_at), ("audit_value", audit_at)):
                value = parse_amount(record[at])
                if value is None:
                    problems.append((name, line, column, f"{record[at]!r} is not an amount with at most two decimals"))
                values[column] = value
            if None in values.values():
                continue
            if values["book_value"] <= 0:
                problems.append((
                    name, line, "book_value",
                    (f"book value {values['book_value']} cannot come from a monetary-unit sample: items with zero "
                    "or negative book values carry no monetary units and are never selected (test them as a "
                    "separate population)"),
                ))
                continue
            item = record[item_at].strip() if item_at is not None else None
            out.append(Misstatement(values["book_value"], values["audit_value"], item or f"line {line}", line))
        if problems:
            raise PopulationError(problems)
        return out
