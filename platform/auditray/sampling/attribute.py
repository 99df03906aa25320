"""Attribute sampling for tests of controls (AICPA Audit Guide *Audit Sampling*, ch. 3 and Appendix A).

Sample size: the smallest n such that, allowing the expected number of deviations
k = ceil(n x expected rate), the chance of finding k or fewer deviations when the population's
true rate equals the tolerable rate is at most the risk of overreliance:

    P(X <= k | n, tolerable rate) <= risk,   X ~ Binomial(n, rate)   (large-population binomial)

This is the rule Appendix A's Tables A-1 (5% risk) and A-2 (10% risk) are built from: it gives
every published cell, the expected deviations in parentheses included, except two cells of
Table A-2 (see ``PUBLISHED_CELLS_THAT_DIFFER``). Rates are computed as exact fractions so
k = ceil(400 x 3.5%) is 14, not 15 as floating point would have it. It is not n = RF / TDR,
which ignores expected deviations and the binomial's discreteness.

Evaluation: the upper deviation rate is the one-sided binomial (Clopper-Pearson) upper limit,
the rate p with P(X <= k | n, p) = risk; Tables A-3 and A-4 state it in percent rounded UP to
one decimal, i.e. the smallest 0.1% step at which P(X <= k | n, p) <= risk, decided exactly here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction

from auditray.sampling.distributions import (
    as_fraction,
    binomial_cdf,
    binomial_cdf_at_most,
    binomial_upper_limit,
)
from auditray.sampling.errors import SamplingInputError

Rate = float | str | Decimal | Fraction

# Beyond this a test of controls by sampling stops being sensible; the guide's tables stop near 2,000.
MAX_ATTRIBUTE_SAMPLE_SIZE = 5_000

# The evaluation tables' precision: percent with one decimal, rounded up.
TABLE_PRECISION = Fraction(1, 1000)

# (risk, tolerable rate, expected rate) -> the published Table A-2 cell where it differs from the rule.
# At n = 112 and k = 4, P(X <= 4 | 112, 7%) = 0.1007 > 10%: the published size understates the
# sample by one item. Auditray reproduces the guide as printed (an auditor's workpaper cites the
# table) and reports the exact rule's 113 beside it, so the team can take the stricter size.
PUBLISHED_CELLS_THAT_DIFFER: dict[tuple[Fraction, Fraction, Fraction], int] = {
    (Fraction(1, 10), Fraction(7, 100), Fraction(13, 400)): 112,
    (Fraction(1, 10), Fraction(7, 100), Fraction(7, 200)): 112,
}


def _rate(value: Rate, field: str, *, allow_zero: bool = False) -> Fraction:
    try:
        rate = as_fraction(value)
    except (ValueError, ArithmeticError) as bad:
        raise SamplingInputError(field, f"{field.replace('_', ' ')} {value!r} is not a number") from bad
    low_ok = rate >= 0 if allow_zero else rate > 0
    if not (low_ok and rate < 1):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise SamplingInputError(
            field, f"{field.replace('_', ' ')} must be a fraction in {interval} (0.05 = 5%), got {value}"
        )
    return rate


def _as_decimal(rate: Fraction) -> Decimal:
    return Decimal(rate.numerator) / Decimal(rate.denominator)


@dataclass(frozen=True)
class AttributeSamplePlan:
    """A planned test-of-controls sample and the facts an auditor documents with it."""

    tolerable_rate: Decimal
    expected_rate: Decimal
    risk: Decimal
    sample_size: int
    expected_deviations: int
    # P(X <= k | n, tolerable rate): the risk of overreliance this sample actually carries.
    achieved_risk: float
    # Set only where the printed table and the exact binomial rule differ: the rule's size.
    exact_rule_sample_size: int | None
    basis: str

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.exact_rule_sample_size is None:
            out.pop("exact_rule_sample_size")
        else:
            out["note"] = (
                f"the guide's table prints {self.sample_size}; at that size the risk of overreliance is "
                f"{self.achieved_risk:.2%}, above {float(self.risk):g}: the exact binomial rule gives "
                f"{self.exact_rule_sample_size}, which meets it"
            )
        return out


def attribute_sample_size(tolerable_rate: Rate, expected_rate: Rate, risk: Rate) -> AttributeSamplePlan:
    """Sample size for a test of controls: reproduces AICPA Audit Sampling Appendix A, Tables A-1/A-2.

    ``tolerable_rate``, ``expected_rate`` (expected population deviation rate) and ``risk`` (risk of
    overreliance, i.e. of assessing control risk too low) are fractions: 0.05 means 5%.
    """
    tolerable = _rate(tolerable_rate, "tolerable_rate")
    expected = _rate(expected_rate, "expected_rate", allow_zero=True)
    alpha = _rate(risk, "risk")
    if expected >= tolerable:
        raise SamplingInputError(
            "expected_rate",
            f"the expected deviation rate {float(expected):g} must be below the tolerable rate "
            f"{float(tolerable):g}: a sample cannot support reliance on a control expected to fail that often",
        )
    rule_n, k = _smallest_sample(tolerable, expected, alpha)
    published = PUBLISHED_CELLS_THAT_DIFFER.get((alpha, tolerable, expected))
    n = published or rule_n
    return AttributeSamplePlan(
        tolerable_rate=_as_decimal(tolerable),
        expected_rate=_as_decimal(expected),
        risk=_as_decimal(alpha),
        sample_size=n,
        expected_deviations=k,
        achieved_risk=binomial_cdf(k, n, float(tolerable)),
        exact_rule_sample_size=rule_n if published else None,
        basis="binomial: smallest n with P(X <= ceil(n x expected rate) | n, tolerable rate) <= risk "
              "(AICPA Audit Sampling, Appendix A)",
    )


def _smallest_sample(tolerable: Fraction, expected: Fraction, alpha: Fraction) -> tuple[int, int]:
    """The smallest n meeting the rule, and its k = ceil(n x expected).

    n's with the same k form a run ((k-1)/e, k/e]; within a run the binomial tail only falls as n
    grows, so the first run whose last n meets the risk holds the answer, found there by bisection.
    """
    if expected == 0:
        return _first_n(0, tolerable, alpha, 1, MAX_ATTRIBUTE_SAMPLE_SIZE), 0
    k = 1
    while True:
        first = math.floor((k - 1) / expected) + 1
        last = math.floor(k / expected)
        if first > MAX_ATTRIBUTE_SAMPLE_SIZE:
            raise SamplingInputError(
                "expected_rate",
                f"the sample would exceed {MAX_ATTRIBUTE_SAMPLE_SIZE:,} items: the expected rate "
                f"{float(expected):g} is too close to the tolerable rate {float(tolerable):g} for "
                "sampling to be cost-effective",
            )
        if last >= first and binomial_cdf_at_most(k, last, tolerable, alpha):
            return _first_n(k, tolerable, alpha, first, last), k
        k += 1


def _first_n(k: int, tolerable: Fraction, alpha: Fraction, lo: int, hi: int) -> int:
    if not binomial_cdf_at_most(k, hi, tolerable, alpha):
        raise SamplingInputError(
            "tolerable_rate",
            f"the sample would exceed {MAX_ATTRIBUTE_SAMPLE_SIZE:,} items at tolerable rate {float(tolerable):g}",
        )
    while lo < hi:
        mid = (lo + hi) // 2
        if binomial_cdf_at_most(k, mid, tolerable, alpha):
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass(frozen=True)
class AttributeEvaluation:
    """What a test-of-controls sample says about the population's deviation rate."""

    sample_size: int
    deviations: int
    risk: Decimal
    sample_deviation_rate: Decimal
    # As Tables state it: rounded up to 0.1%.
    upper_deviation_rate: Decimal
    upper_deviation_rate_exact: float
    allowance_for_sampling_risk: Decimal
    tolerable_rate: Decimal | None
    conclusion: str | None

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.conclusion is None:
            out.pop("conclusion")
            out.pop("tolerable_rate")
        return out


def upper_deviation_rate(sample_size: int, deviations: int, risk: Rate) -> Decimal:
    """The upper deviation rate as Tables A-3 (5% risk) and A-4 (10% risk) publish it.

    The smallest rate on the tables' 0.1% grid at which P(X <= deviations | sample_size, rate) <= risk:
    the exact Clopper-Pearson limit rounded up to one decimal of a percent, decided exactly.
    """
    n, k, alpha = _check_sample(sample_size, deviations), deviations, _rate(risk, "risk")
    if k >= n:
        return Decimal(1)
    steps = TABLE_PRECISION.denominator
    step = max(1, math.ceil(binomial_upper_limit(n, k, float(alpha)) * steps))
    while step > 1 and binomial_cdf_at_most(k, n, Fraction(step - 1, steps), alpha):
        step -= 1
    while not binomial_cdf_at_most(k, n, Fraction(step, steps), alpha):
        step += 1
    return _as_decimal(Fraction(step, steps))


def _check_sample(sample_size: int, deviations: int) -> int:
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
        raise SamplingInputError("sample_size", f"sample size must be a whole number of items >= 1, got {sample_size}")
    if isinstance(deviations, bool) or not isinstance(deviations, int) or deviations < 0:
        raise SamplingInputError("deviations", f"deviations must be a whole number >= 0, got {deviations}")
    if deviations > sample_size:
        raise SamplingInputError(
            "deviations", f"{deviations} deviations cannot be found in a sample of {sample_size} items"
        )
    return sample_size


def evaluate_attribute_sample(
    sample_size: int, deviations: int, risk: Rate, tolerable_rate: Rate | None = None
) -> AttributeEvaluation:
    """Evaluate a test of controls (AICPA Audit Sampling, ch. 3; Tables A-3/A-4).

    With ``tolerable_rate``, concludes as the guide does: an upper deviation rate at or below the
    tolerable rate supports the planned reliance on the control; above it, it does not.
    """
    upper = upper_deviation_rate(sample_size, deviations, risk)
    alpha = _rate(risk, "risk")
    tolerable = None if tolerable_rate is None else _as_decimal(_rate(tolerable_rate, "tolerable_rate"))
    sample_rate = Decimal(deviations) / Decimal(sample_size)
    conclusion = None
    if tolerable is not None:
        conclusion = (
            "supports the planned reliance on the control"
            if upper <= tolerable
            else "does not support the planned reliance on the control"
        )
    return AttributeEvaluation(
        sample_size=sample_size,
        deviations=deviations,
        risk=_as_decimal(alpha),
        sample_deviation_rate=sample_rate,
        upper_deviation_rate=upper,
        upper_deviation_rate_exact=binomial_upper_limit(sample_size, deviations, float(alpha)),
        allowance_for_sampling_risk=upper - sample_rate,
        tolerable_rate=tolerable,
        conclusion=conclusion,
    )
