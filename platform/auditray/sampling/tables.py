"""The guide's tables, regenerated from the rules they were built with.

AICPA Audit Guide *Audit Sampling* (2017 edition, the cells as transcribed in the test suite of
the jfa R package, which our tests re-check cell by cell): Appendix A, Tables A-1/A-2 (attribute sample sizes at 5% and 10% risk of overreliance,
expected deviations in parentheses) and A-3/A-4 (upper deviation rates); Appendix C, Table C-1
(monetary unit sample sizes with the expected taintings column) and the monetary-unit confidence
factors for sample evaluation. An auditor can print any of them and lay it beside the book.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from auditray.sampling.attribute import attribute_sample_size, upper_deviation_rate
from auditray.sampling.errors import SamplingInputError
from auditray.sampling.mus import confidence_factor, table_sample_size

# Appendix A, Tables: columns and rows.
TABLE_A_TOLERABLE_RATES = tuple(Fraction(p, 100) for p in (2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20))
TABLE_A_EXPECTED_RATES = (
    tuple(Fraction(q, 400) for q in range(17))  # 0.00% to 4.00% by 0.25%
    + tuple(Fraction(p, 100) for p in range(5, 11))  # 5% to 10%
    + (Fraction(25, 200), Fraction(15, 100), Fraction(35, 200))  # 12.5%, 15%, 17.5%
)
# Appendix A, Tables: rows (sample sizes) and columns (deviations found).
TABLE_A_EVALUATION_SIZES = (*range(20, 81, 5), 90, 100, 125, 150, 200, 300, 400, 500)
TABLE_A_EVALUATION_DEVIATIONS = tuple(range(11))

# Appendix C, Table C-1: columns (tolerable misstatement as a share of the population) and rows
# (risk of incorrect acceptance, ratio of expected to tolerable misstatement).
TABLE_C1_TOLERABLE = tuple(Fraction(x) for x in ("0.5", "0.3", "0.1", "0.08", "0.06", "0.05", "0.04", "0.03",
                                                 "0.02", "0.01", "0.005"))
TABLE_C1_ROWS: tuple[tuple[Fraction, Fraction], ...] = tuple(
    (Fraction(risk, 100), Fraction(ratio))
    for risk, ratios in (
        (5, ("0", "0.1", "0.2", "0.3", "0.4", "0.5")),
        (10, ("0", "0.2", "0.3", "0.4", "0.5")),
        (15, ("0", "0.2", "0.3", "0.4", "0.5")),
        (20, ("0", "0.2", "0.3", "0.4", "0.5")),
        (25, ("0", "0.2", "0.3", "0.4", "0.5")),
        (30, ("0", "0.2", "0.4", "0.6")),
        (35, ("0", "0.2", "0.4", "0.6")),
        (50, ("0", "0.2", "0.4", "0.6")),
    )
    for ratio in ratios
)
EVALUATION_FACTOR_RISKS = tuple(Fraction(p, 100) for p in (1, 5, 10, 15, 20, 25, 30, 35, 37, 50))


def attribute_sample_size_table(risk: Fraction | str) -> dict[tuple[Fraction, Fraction], tuple[int, int] | None]:
    """Table A-1 (risk 5%) or A-2 (10%): {(expected rate, tolerable rate): (n, expected deviations)}.

    Cells where the expected rate is not below the tolerable rate, or the sample would exceed the
    library's limit, are None (the guide leaves them blank).
    """
    table: dict[tuple[Fraction, Fraction], tuple[int, int] | None] = {}
    for expected in TABLE_A_EXPECTED_RATES:
        for tolerable in TABLE_A_TOLERABLE_RATES:
            if expected >= tolerable:
                table[(expected, tolerable)] = None
                continue
            try:
                plan = attribute_sample_size(tolerable, expected, risk)
            except SamplingInputError:
                table[(expected, tolerable)] = None
                continue
            table[(expected, tolerable)] = (plan.sample_size, plan.expected_deviations)
    return table


def upper_deviation_rate_table(risk: Fraction | str) -> dict[tuple[int, int], Decimal]:
    """Table A-3 (risk 5%) or A-4 (10%): {(sample size, deviations): upper deviation rate in percent}."""
    return {
        (n, k): upper_deviation_rate(n, k, risk) * 100
        for n in TABLE_A_EVALUATION_SIZES
        for k in TABLE_A_EVALUATION_DEVIATIONS
    }


def mus_sample_size_table() -> dict[tuple[Fraction, Fraction], tuple[list[int], Decimal]]:
    """Table C-1: {(risk, expected/tolerable): ([n for each tolerable share], expected taintings)}.

    The last column is the sum of taintings the design expects in the sample, n x EM / BV, for the
    0.5% column, rounded up to 0.01 as the guide prints it.
    """
    table = {}
    for risk, ratio in TABLE_C1_ROWS:
        sizes = [table_sample_size(t, ratio * t, risk) for t in TABLE_C1_TOLERABLE]
        taintings = sizes[-1] * ratio * TABLE_C1_TOLERABLE[-1]
        rounded_up = Decimal(-((-taintings * 100).numerator // (taintings * 100).denominator)).scaleb(-2)
        table[(risk, ratio)] = (sizes, rounded_up)
    return table


def evaluation_factor_table(max_misstatements: int = 10) -> dict[tuple[Fraction, int], Decimal]:
    """The MUS confidence factors for sample evaluation: {(risk, overstatements): factor}, guide rounding."""
    return {
        (risk, k): confidence_factor(k, risk)
        for risk in EVALUATION_FACTOR_RISKS
        for k in range(max_misstatements + 1)
    }
