"""Monetary-unit sampling reproduces the AICPA Audit Guide *Audit Sampling* (ch. 6, Appendix C).

Table C-1 below is the guide's monetary unit sample size table (2017 edition) as transcribed by the
jfa R package's validation suite (tests/testthat/test-validation-appendix-c.R); its last column is
the expected sum of taintings for the 0.5% column, rounded up to 0.01 (jfa's comments flag that its
own float ceiling differs from several published values, e.g. 0.93 vs 0.92; we reproduce the
published ones exactly). Row 20%/0.5 prints 2.38 (jfa's comment says "2.28", a typo: 949 x 0.0025
= 2.3725).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from auditray.sampling import (
    Misstatement,
    PopulationError,
    SamplingInputError,
    confidence_factor,
    evaluate_mus_sample,
    expansion_factor,
    mus_sample_size,
    read_misstatements,
)
from auditray.sampling.mus import design_confidence_factor, table_sample_size
from auditray.sampling.tables import evaluation_factor_table, mus_sample_size_table
from typer.testing import CliRunner

TABLE_C1 = """
risk  EM/TM    50%    30%    10%     8%     6%     5%     4%     3%     2%     1%   0.5%  taint
  5%  0          6     10     30     38     50     60     75    100    150    300    600   0.00
  5%  0.1        8     13     37     46     62     74     92    123    184    368    736   0.37
  5%  0.2       10     16     47     58     78     93    116    155    232    463    925   0.93
  5%  0.3       12     20     60     75    100    120    150    200    300    600   1199   1.80
  5%  0.4       17     27     81    102    135    162    203    270    405    809   1618   3.24
  5%  0.5       24     39    116    145    193    231    289    385    577   1154   2308   5.77
 10%  0          5      8     24     29     39     47     58     77    116    231    461   0.00
 10%  0.2        7     12     35     43     57     69     86    114    171    341    682   0.69
 10%  0.3        9     15     44     55     73     87    109    145    217    433    866   1.30
 10%  0.4       12     20     58     72     96    115    143    191    286    572   1144   2.29
 10%  0.5       16     27     80    100    134    160    200    267    400    799   1597   4.00
 15%  0          4      7     19     24     32     38     48     64     95    190    380   0.00
 15%  0.2        6     10     28     35     46     55     69     91    137    273    545   0.55
 15%  0.3        7     12     35     43     57     69     86    114    171    341    681   1.03
 15%  0.4        9     15     45     56     74     89    111    148    221    442    883   1.77
 15%  0.5       13     21     61     76    101    121    151    202    302    604   1208   3.02
 20%  0          4      6     17     21     27     33     41     54     81    161    322   0.00
 20%  0.2        5      8     23     29     38     46     57     76    113    226    451   0.46
 20%  0.3        6     10     28     35     47     56     70     93    139    277    554   0.84
 20%  0.4        8     12     36     45     59     71     89    118    177    354    707   1.42
 20%  0.5       10     16     48     60     80     95    119    159    238    475    949   2.38
 25%  0          3      5     14     18     24     28     35     47     70    139    278   0.00
 25%  0.2        4      7     19     24     32     38     48     64     95    190    380   0.38
 25%  0.3        5      8     23     29     39     46     58     77    115    230    460   0.69
 25%  0.4        6     10     29     37     49     58     73     97    145    289    578   1.16
 25%  0.5        8     13     38     48     64     76     95    127    190    380    760   1.90
 30%  0          3      5     13     16     21     25     31     41     61    121    241   0.00
 30%  0.2        4      6     17     21     27     33     41     54     81    162    323   0.33
 30%  0.4        5      8     24     30     40     48     60     80    120    239    477   0.96
 30%  0.6        9     15     43     54     71     85    107    142    213    425    850   2.55
 35%  0          3      4     11     14     18     21     27     35     53    105    210   0.00
 35%  0.2        3      5     14     18     23     28     35     46     69    138    276   0.28
 35%  0.4        4      7     20     25     34     40     50     67    100    199    397   0.80
 35%  0.6        7     12     34     43     57     68     85    113    169    338    676   2.03
 50%  0          2      3      7      9     12     14     18     24     35     70    139   0.00
 50%  0.2        2      3      9     11     15     18     22     29     44     87    173   0.18
 50%  0.4        3      4     12     15     19     23     29     38     57    114    228   0.46
 50%  0.6        4      6     17     22     29     34     43     57     85    170    340   1.02
"""

D = Decimal


def _c1_rows():
    lines = TABLE_C1.strip().splitlines()
    shares = [Fraction(c.rstrip("%")) / 100 for c in lines[0].split()[2:-1]]
    for line in lines[1:]:
        risk, ratio, *cells = line.split()
        yield Fraction(risk.rstrip("%")) / 100, Fraction(ratio), shares, [int(c) for c in cells[:-1]], D(cells[-1])


def test_every_cell_of_table_c1_monetary_unit_sample_sizes() -> None:
    """Appendix C, Table C-1: 38 rows x 11 tolerable shares, by the exact Poisson/gamma method."""
    differences, cells = [], 0
    for risk, ratio, shares, sizes, _ in _c1_rows():
        for share, published in zip(shares, sizes, strict=True):
            cells += 1
            derived = table_sample_size(share, ratio * share, risk)
            if derived != published:
                differences.append((float(risk), float(ratio), float(share), published, derived))
    assert (cells, differences) == (418, [])


def test_table_c1_expected_taintings_column() -> None:
    """Appendix C, Table C-1, last column: n(0.5%) x EM/BV rounded up to 0.01."""
    regenerated = mus_sample_size_table()
    for risk, ratio, _, sizes, published in _c1_rows():
        taintings = Fraction(sizes[-1]) * ratio * Fraction(5, 1000)
        assert D(math.ceil(taintings * 100)) / 100 == published, (risk, ratio)
        assert regenerated[(risk, ratio)] == (sizes, published)


def test_the_amount_front_door_gives_the_table_cell() -> None:
    """Table C-1, 5% risk, EM/TM 0.2, TM 5% of the population: 93 items."""
    plan = mus_sample_size(2_000_000, 100_000, 20_000, "0.05", "table")
    assert plan.sample_size == 93
    assert plan.sampling_interval == D("21505.37")  # 2,000,000 / 93 = 21,505.376..., rounded down
    assert plan.expected_taintings == D("0.9300")
    # The design factor: ceil(x / (TM / BV)) is the same cell.
    assert math.ceil(design_confidence_factor("0.2", "0.05") / 0.05) == 93


# The guide's confidence factors for sample evaluation (Poisson upper limits rounded up to 0.01).
EVALUATION_FACTORS = {
    "0.05": "3.00 4.75 6.30 7.76 9.16 10.52 11.85 13.15 14.44 15.71 16.97",
    "0.10": "2.31 3.89 5.33 6.69 8.00 9.28 10.54 11.78 13.00 14.21 15.41",
    "0.01": "4.61 6.64 8.41 10.05 11.61 13.11",
    "0.20": "1.61 3.00 4.28 5.52 6.73 7.91",
    "0.25": "1.39 2.70 3.93 5.11",
}
# No misstatements, every risk the guide tabulates (10%: 2.31, the guide's; some textbooks print 2.3).
ZERO_MISSTATEMENT_FACTORS = {"0.01": "4.61", "0.05": "3.00", "0.10": "2.31", "0.15": "1.90", "0.20": "1.61",
                             "0.25": "1.39", "0.30": "1.21", "0.37": "1.00", "0.50": "0.70"}


@pytest.mark.parametrize("risk", list(EVALUATION_FACTORS))
def test_mus_confidence_factors_for_sample_evaluation(risk: str) -> None:
    """Appendix C, monetary unit sampling confidence factors for sample evaluation, 0-10 overstatements."""
    for k, published in enumerate(EVALUATION_FACTORS[risk].split()):
        assert confidence_factor(k, risk) == D(published), (risk, k)


def test_confidence_factors_for_no_misstatements_at_every_tabulated_risk() -> None:
    for risk, published in ZERO_MISSTATEMENT_FACTORS.items():
        assert confidence_factor(0, risk) == D(published)
        assert str(confidence_factor(0, risk)) == published


def test_exact_factors_are_the_gamma_quantiles_and_the_guide_rounds_them_up() -> None:
    # scipy.stats.gamma.ppf(0.95, 2) = 4.743864518...; gamma.ppf(0.90, 1) = -ln(0.10) = 2.302585093.
    assert abs(float(confidence_factor(1, "0.05", "exact")) - 4.743864518) < 1e-8
    assert abs(float(confidence_factor(0, "0.10", "exact")) - math.log(10)) < 1e-10
    for (risk, k), guide in evaluation_factor_table().items():
        exact = D(str(confidence_factor(k, risk, "exact")))
        assert guide - D("0.01") < exact <= guide


def test_expansion_factors_of_the_guide() -> None:
    published = {"0.01": "1.9", "0.05": "1.6", "0.10": "1.5", "0.15": "1.4", "0.20": "1.3", "0.25": "1.25",
                 "0.30": "1.2", "0.37": "1.15", "0.50": "1.0"}
    for risk, factor in published.items():
        assert expansion_factor(risk) == D(factor)
    with pytest.raises(SamplingInputError, match="expansion factors cover"):
        expansion_factor("0.35")


def test_textbook_formula_worked_examples() -> None:
    # n = BV x RF / (TM - EM x EF) = 3,000,000 x 3.00 / (125,000 - 25,000 x 1.6) = 9,000,000 / 85,000
    #   = 105.88 -> 106 items; J = 3,000,000 / 106 = 28,301.886... -> 28,301.88.
    plan = mus_sample_size(3_000_000, 125_000, 25_000, "0.05", "formula")
    assert (plan.sample_size, plan.sampling_interval) == (106, D("28301.88"))
    assert (plan.confidence_factor, plan.expansion_factor) == (D("3.00"), D("1.6"))
    # 1,000,000 x 2.31 / (50,000 - 10,000 x 1.5) = 2,310,000 / 35,000 = 66 exactly: not rounded up to 67.
    assert mus_sample_size(1_000_000, 50_000, 10_000, "0.10", "formula").sample_size == 66
    # No expected misstatement: 500,000 x 1.39 / 20,000 = 34.75 -> 35.
    assert mus_sample_size(500_000, 20_000, 0, "0.25", "formula").sample_size == 35


@pytest.mark.parametrize(("args", "field"), [
    ((1_000_000, 50_000, 50_000, "0.05"), "expected_misstatement"),
    ((1_000_000, 50_000, 60_000, "0.05"), "expected_misstatement"),
    ((1_000_000, -5, 0, "0.05"), "tolerable_misstatement"),
    ((0, 5, 0, "0.05"), "population_value"),
    ((1_000_000, 50_000, -1, "0.05"), "expected_misstatement"),
    ((1_000_000, 50_000, 0, "1.5"), "risk"),
    ((1_000_000, 2_000_000, 0, "0.05"), "tolerable_misstatement"),
])
def test_bad_planning_figures_are_refused(args, field: str) -> None:
    with pytest.raises(SamplingInputError) as refused:
        mus_sample_size(*args)
    assert refused.value.field == field
    # The formula also needs EM x EF below TM: 40,000 x 1.6 = 64,000 > 50,000.
    with pytest.raises(SamplingInputError, match="expansion factor"):
        mus_sample_size(1_000_000, 50_000, 40_000, "0.05", "formula")


# --- Stringer bound ----------------------------------------------------------------------------------


def _sample(*rows: tuple[str, str, str]) -> list[Misstatement]:
    return [Misstatement(D(book), D(audit), item) for item, book, audit in rows]


WORKED = _sample(
    ("A", "1000", "500"),  # tainting 0.50 -> projected 0.50 x 30,000 = 15,000
    ("B", "2000", "1800"),  # tainting 0.10 -> 3,000
    ("C", "40000", "38000"),  # book >= interval 30,000: top stratum, actual 2,000, no allowance
    ("D", "5000", "3500"),  # tainting 0.30 -> 9,000
    ("F", "700", "700"),  # no misstatement: ignored
)


def test_stringer_bound_worked_example() -> None:
    """BV 3,000,000, n 100, J 30,000, 5% risk, guide factors 3.00, 4.75, 6.30, 7.76.

    Basic precision 3.00 x 30,000 = 90,000. Projected 15,000 + 9,000 + 3,000 + 2,000 = 29,000.
    Incremental allowance, taintings ranked .50, .30, .10:
      (4.75 - 3.00 - 1) x .50 x 30,000 = 0.75 x 15,000 = 11,250
      (6.30 - 4.75 - 1) x .30 x 30,000 = 0.55 x  9,000 =  4,950
      (7.76 - 6.30 - 1) x .10 x 30,000 = 0.46 x  3,000 =  1,380   -> 17,580
    ULM 90,000 + 29,000 + 17,580 = 136,580: accept at TM 150,000, reject at TM 130,000.
    """
    result = evaluate_mus_sample(3_000_000, 100, WORKED, 150_000, "0.05")
    assert result.sampling_interval == D("30000.00")
    assert (result.basic_precision, result.projected_misstatement, result.incremental_allowance) == (
        D("90000.00"), D("29000.00"), D("17580.00"))
    assert result.upper_misstatement_limit == D("136580.00")
    assert result.conclusion == "accept"
    assert evaluate_mus_sample(3_000_000, 100, WORKED, 130_000, "0.05").conclusion == "reject"
    top = [line for line in result.lines if line.stratum == "top stratum"]
    assert [(t.item, t.projected_misstatement, t.incremental_allowance, t.rank) for t in top] == [
        ("C", D("2000.00"), D("0.00"), None)]
    ranks = {line.item: (line.rank, line.tainting, line.factor_increment) for line in result.lines if line.rank}
    assert ranks == {"A": (1, D("0.5"), D("1.75")), "D": (2, D("0.3"), D("1.55")), "B": (3, D("0.1"), D("1.46"))}


def test_stringer_bound_with_no_misstatements_is_basic_precision() -> None:
    # 10% risk: 2.31 x (1,000,000 / 50 = 20,000) = 46,200.
    result = evaluate_mus_sample(1_000_000, 50, [], 50_000, "0.10")
    assert (result.upper_misstatement_limit, result.projected_misstatement, result.incremental_allowance) == (
        D("46200.00"), D("0.00"), D("0.00"))


def test_understatements_are_bounded_separately_and_netted() -> None:
    """Add E: book 2,500, audited 3,000 (understated by 500, tainting 0.20, projected 6,000).

    Overstatement bound unchanged at 136,580; understatement bound 90,000 + 6,000 + 0.75 x .20 x
    30,000 (4,500) = 100,500. Net: 136,580 - 6,000 = 130,580 and 100,500 - 29,000 = 71,500; most
    likely misstatement 29,000 - 6,000 = 23,000.
    """
    sample = [*WORKED, *_sample(("E", "2500", "3000"))]
    result = evaluate_mus_sample(3_000_000, 100, sample, 150_000, "0.05")
    assert result.upper_misstatement_limit == D("136580.00")
    assert (result.projected_understatement, result.understatement_incremental_allowance,
            result.understatement_upper_limit) == (D("6000.00"), D("4500.00"), D("100500.00"))
    assert (result.net_upper_misstatement_limit, result.net_understatement_upper_limit,
            result.most_likely_misstatement) == (D("130580.00"), D("71500.00"), D("23000.00"))
    assert result.conclusion == "accept"
    # An understatement bound above TM rejects even when overstatement is within it.
    big_under = _sample(("U", "1000", "2000"))  # tainting 1.00 -> 30,000, allowance 0.75 x 30,000
    assert evaluate_mus_sample(3_000_000, 100, big_under, 140_000, "0.05").understatement_upper_limit == D(
        "142500.00")
    assert evaluate_mus_sample(3_000_000, 100, big_under, 140_000, "0.05").conclusion == "reject"


def test_exact_factors_option() -> None:
    # Exact: 2.995732 x 30,000 = 89,871.97 basic precision.
    result = evaluate_mus_sample(3_000_000, 100, [], 150_000, "0.05", factor_basis="exact")
    assert result.basic_precision == D("89871.97")


def test_zero_and_negative_book_items_cannot_come_from_a_monetary_unit_sample() -> None:
    with pytest.raises(PopulationError, match="carries no monetary units"):
        evaluate_mus_sample(3_000_000, 100, _sample(("Z", "0", "10")), 150_000, "0.05")
    with pytest.raises(PopulationError, match="separate population"):
        evaluate_mus_sample(3_000_000, 100, _sample(("N", "-50", "0")), 150_000, "0.05")


def test_misstatements_file_errors_name_file_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "misstatements.csv"
    bad.write_text("item,book_value,audit_value\nA,1000,abc\nB,0,5\nC,12.345,1\nD,500,400\n")
    with pytest.raises(PopulationError) as refused:
        read_misstatements(bad)
    problems = {(row, column) for _, row, column, _ in refused.value.problems}
    assert problems == {(2, "audit_value"), (3, "book_value"), (4, "book_value")}
    assert str(bad) in str(refused.value) and "row 3" in str(refused.value)
    missing = tmp_path / "nocolumn.csv"
    missing.write_text("book,audit\n1,2\n")
    with pytest.raises(PopulationError, match="book_value"):
        read_misstatements(missing)


# --- the command line ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    from auditray.cli import commands  # noqa: F401
    from auditray.cli.app import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.mark.parametrize(("bv", "tm", "em", "risk", "method"), [
    ("2000000", "100000", "20000", "0.05", "table"), ("3000000", "125000", "25000", "0.05", "formula"),
    ("1000000", "50000", "10000", "0.10", "formula"), ("12345678.90", "400000", "0", "0.20", "table"),
])
def test_command_line_mus_size_equals_the_library(cli, bv, tm, em, risk, method) -> None:
    result = cli("sample", "size", "mus", "--population-value", bv, "--tolerable-misstatement", tm,
                 "--expected-misstatement", em, "--risk", risk, "--method", method, "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    plan = mus_sample_size(D(bv), D(tm), D(em), risk, method)
    assert shown["sample_size"] == plan.sample_size
    assert D(str(shown["sampling_interval"])) == plan.sampling_interval


def test_command_line_stringer_evaluation_equals_the_library(cli, tmp_path: Path) -> None:
    path = tmp_path / "misstatements.csv"
    path.write_text("item,book_value,audit_value\nA,1000,500\nB,2000,1800\nC,40000,38000\nD,5000,3500\nF,700,700\n")
    result = cli("sample", "evaluate", "mus", "--population-value", "3000000", "--sample-size", "100",
                 "--misstatements", str(path), "--tolerable-misstatement", "150000", "--risk", "0.05", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert {k: shown[k] for k in ("basic_precision", "projected_misstatement", "incremental_allowance",
                                  "upper_misstatement_limit", "conclusion")} == {
        "basic_precision": 90000, "projected_misstatement": 29000, "incremental_allowance": 17580,
        "upper_misstatement_limit": 136580, "conclusion": "accept"}
    library = evaluate_mus_sample(3_000_000, 100, read_misstatements(path), 150_000, "0.05")
    assert D(str(shown["upper_misstatement_limit"])) == library.upper_misstatement_limit


def test_command_line_names_bad_rows_and_bad_arguments(cli, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("book_value,audit_value\n0,10\n")
    refused = cli("sample", "evaluate", "mus", "--population-value", "3000000", "--sample-size", "100",
                  "--misstatements", str(path), "--tolerable-misstatement", "150000")
    assert refused.exit_code == 1 and "row 2" in refused.output and "book_value" in refused.output
    bad = cli("sample", "size", "mus", "--population-value", "1000000", "--tolerable-misstatement", "50000",
              "--expected-misstatement", "60000")
    assert bad.exit_code == 2 and "--expected-misstatement" in bad.output
    negative = cli("sample", "size", "mus", "--population-value", "1000000", "--tolerable-misstatement", "-5")
    assert negative.exit_code == 2 and "--tolerable-misstatement" in negative.output
