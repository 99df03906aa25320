"""The binomial, Poisson and gamma arithmetic behind the AICPA sampling tables, in pure Python.

Pure on purpose: the sample-size and evaluation commands must answer in well under a second, so
nothing here imports scipy or numpy. Floats (``math.lgamma``, series and continued fractions,
accurate to about 1e-13) decide every comparison that is not a near tie; a near tie is decided
again exactly, with integer arithmetic for the binomial and 60-digit decimals for the Poisson,
so a table cell never depends on floating-point luck.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

# A float comparison closer than this (relative) to the risk is re-decided exactly.
_NEAR_TIE = 1e-9


def as_fraction(value: float | str | Decimal | Fraction) -> Fraction:
    """A rate or amount as an exact fraction; a float is read by its shortest repr (0.035 -> 7/200)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str):
        return Fraction(Decimal(value.strip()))
    return Fraction(value)


# --- Binomial ---------------------------------------------------------------------------------------


def _binomial_cdf_float(k: int, n: int, p: float) -> float:
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    total = 0.0
    for i in range(k + 1):
        total += math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q)
    return min(total, 1.0)


def _binomial_cdf_at_most(k: int, n: int, p: Fraction, risk: Fraction) -> bool:
    """Exactly: is P(X <= k | n, p) <= risk?  Integer arithmetic, no rounding anywhere."""
    a, b = p.numerator, p.denominator
    total = sum(math.comb(n, i) * a**i * (b - a) ** (n - i) for i in range(min(k, n) + 1))
    return total * risk.denominator <= risk.numerator * b**n


def binomial_cdf_at_most(k: int, n: int, p: Fraction, risk: Fraction) -> bool:
    """Is the chance of at most ``k`` deviations in ``n`` items, at rate ``p``, no more than ``risk``?"""
    value = _binomial_cdf_float(k, n, float(p))
    if abs(value - float(risk)) > _NEAR_TIE * float(risk):
        return value <= float(risk)
    return _binomial_cdf_at_most(k, n, p, risk)


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    return _binomial_cdf_float(k, n, p)


def binomial_upper_limit(n: int, k: int, risk: float) -> float:
    """The one-sided upper confidence limit for a rate: the p with P(X <= k | n, p) = risk (Clopper-Pearson)."""
    if k >= n:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if _binomial_cdf_float(k, n, mid) > risk:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return hi


# --- Gamma and Poisson ------------------------------------------------------------------------------


def gamma_upper_tail(a: float, x: float) -> float:
    """Q(a, x) = P(Gamma(a, 1) > x), the regularized upper incomplete gamma function.

    For integer ``a`` this is the Poisson P(X <= a - 1 | mean x). Series below a + 1, Lentz's
    continued fraction above (Numerical Recipes, 6.2), both to double precision.
    """
    if x <= 0.0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = d if abs(d) > tiny else tiny
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return math.exp(log_front) * h


def _poisson_cdf_decimal(k: int, mean: Fraction) -> Decimal:
    """P(X <= k | mean) to 60 significant digits: the tie-breaker for the guide's rounded factors."""
    with localcontext() as ctx:
        ctx.prec = 60
        lam = Decimal(mean.numerator) / Decimal(mean.denominator)
        term = total = Decimal(1)
        for i in range(1, k + 1):
            term = term * lam / i
            total += term
        return total * (-lam).exp()


def poisson_cdf_at_most(k: int, mean: Fraction, risk: Fraction) -> bool:
    """Is P(X <= k | mean) no more than ``risk``?  (Exact to 60 digits near a tie.)"""
    value = gamma_upper_tail(k + 1.0, float(mean))
    if abs(value - float(risk)) > _NEAR_TIE * float(risk):
        return value <= float(risk)
    return _poisson_cdf_decimal(k, mean) <= Decimal(risk.numerator) / Decimal(risk.denominator)


def gamma_quantile(confidence: float, shape: float) -> float:
    """The ``confidence`` quantile of Gamma(shape, 1): scipy.stats.gamma.ppf(confidence, shape).

    With shape = k + 1 it is the Poisson upper limit on the mean for k misstatements at risk
    1 - confidence: the monetary-unit confidence factor.
    """
    risk = 1.0 - confidence
    lo, hi = 0.0, max(1.0, shape)
    while gamma_upper_tail(shape, hi) > risk:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if gamma_upper_tail(shape, mid) > risk:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-14 * max(1.0, hi):
            break
    return hi


def poisson_upper_limit(k: int, risk: float) -> float:
    """The exact Poisson upper limit for ``k`` misstatements: gamma.ppf(1 - risk, k + 1)."""
    return gamma_quantile(1.0 - risk, k + 1.0)
