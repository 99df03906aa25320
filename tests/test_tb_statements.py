"""Draft statements, lead schedules, ratios and fluctuations on a trial balance checked by hand.

The example (entity H1, FY2025): assets 163,000.00; liabilities 80,000.00; common stock 10,000.00;
retained earnings 56,500.00; revenue 200,000.00 and expenses 183,500.00, so net income 16,500.00 and
equity 83,000.00 once the year's result is shown within equity: 163,000 = 80,000 + 83,000.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from auditray.tb.fluctuations import FluxThresholds, fluctuations
from auditray.tb.mapping import map_trial_balance
from auditray.tb.ratios import key_ratios
from auditray.tb.statements import balance_sheet, income_statement, lead_schedules, statement_value

from tests.tb_helpers import mapper, tb_rows

HAND_TB = [
    ("1000", "Cash - operating account", "50000.00", "40000.00"),
    ("1100", "Accounts receivable - trade", "30000.00", "25000.00"),
    ("1110", "Allowance for doubtful accounts", "-2000.00", "-1500.00"),
    ("1200", "Inventory - finished goods", "20000.00", "18000.00"),
    ("1300", "Prepaid insurance", "5000.00", "4000.00"),
    ("1500", "Machinery and equipment", "100000.00", "100000.00"),
    ("1600", "Accumulated depreciation - machinery", "-40000.00", "-30000.00"),
    ("2000", "Accounts payable - trade", "-15000.00", "-12000.00"),
    ("2100", "Accrued expenses", "-5000.00", "-4000.00"),
    ("2400", "Line of credit", "-10000.00", "-10000.00"),
    ("2600", "Term loan payable", "-50000.00", "-55000.00"),
    ("3000", "Common stock", "-10000.00", "-10000.00"),
    ("3200", "Retained earnings", "-56500.00", "-64500.00"),
    ("4000", "Product sales", "-200000.00", "0.00"),
    ("5000", "Cost of goods sold", "120000.00", "0.00"),
    ("6000", "Salaries and wages", "30000.00", "0.00"),
    ("6100", "Rent expense", "12000.00", "0.00"),
    ("6200", "Depreciation expense", "10000.00", "0.00"),
    ("6300", "Office supplies", "3000.00", "0.00"),
    ("7100", "Interest expense", "3500.00", "0.00"),
    ("8000", "Income tax expense", "5000.00", "0.00"),
]
PRIOR_TB = [
    ("1000", "Cash - operating account", "30000.00", None),
    ("1100", "Accounts receivable - trade", "29000.00", None),
    ("1200", "Inventory - finished goods", "5000.00", None),
    ("1500", "Machinery and equipment", "95000.00", None),
    ("2100", "Accrued expenses", "-2000.00", None),
    ("4000", "Product sales", "-150000.00", None),
    ("6000", "Salaries and wages", "29500.00", None),
]
D = Decimal


@pytest.fixture(scope="module")
def mapped() -> pl.DataFrame:
    frame = map_trial_balance(tb_rows(HAND_TB, entity="H1"), mapper())
    assert not frame["needs_review"].any(), frame.filter(pl.col("needs_review"))
    return frame


@pytest.fixture(scope="module")
def prior() -> pl.DataFrame:
    return map_trial_balance(tb_rows(PRIOR_TB, entity="H1", fiscal_year=2024), mapper())


def test_the_example_maps_to_the_expected_lines(mapped: pl.DataFrame) -> None:
    lines = dict(zip(mapped["gl_account_number"].to_list(), mapped["fsli"].to_list(), strict=True))
    assert lines["1110"] == "allowance_doubtful_accounts" and lines["1600"] == "accumulated_depreciation"
    assert lines["2400"] == "short_term_debt" and lines["2600"] == "long_term_debt"
    assert lines["6300"] == "selling_general_administrative" and lines["7100"] == "interest_expense"


def test_the_balance_sheet_balances_after_closing_net_income_into_equity(mapped: pl.DataFrame) -> None:
    bs = balance_sheet(mapped)

    def value(line: str) -> Decimal:
        return statement_value(bs, "H1", line)

    assert value("total_current_assets") == D("103000.00")
    assert value("total_noncurrent_assets") == D("60000.00")
    assert value("total_assets") == D("163000.00")
    assert value("total_current_liabilities") == D("30000.00")
    assert value("total_liabilities") == D("80000.00")
    assert value("net_income_current_year") == D("16500.00")
    assert value("total_equity") == D("83000.00")
    assert value("total_liabilities_and_equity") == D("163000.00")
    assert value("difference") == D("0.00")
    assert bs.schema["amount"] == pl.Decimal(38, 2)


def test_the_income_statement_walks_from_revenue_to_net_income(mapped: pl.DataFrame) -> None:
    inc = income_statement(mapped)
    expected = {"revenue": "200000.00", "cost_of_revenue": "120000.00", "gross_profit": "80000.00",
                "total_operating_expenses": "55000.00", "operating_income": "25000.00",
                "interest_expense": "3500.00", "income_before_tax": "21500.00", "income_tax_expense": "5000.00",
                "net_income": "16500.00", "difference": "0.00"}
    assert {line: str(statement_value(inc, "H1", line)) for line in expected} == expected


def test_key_ratios_match_the_hand_computation(mapped: pl.DataFrame) -> None:
    ratios = key_ratios(balance_sheet(mapped), income_statement(mapped), days=365)
    values = {r: str(v) for r, v in ratios.select("ratio", "value").iter_rows()}
    assert values == {
        "current_ratio": "3.4333",         # 103,000 / 30,000
        "quick_ratio": "2.6000",           # (50,000 + 30,000 - 2,000) / 30,000
        "cash_ratio": "1.6667",            # 50,000 / 30,000
        "debt_to_equity": "0.7229",        # (10,000 + 50,000) / 83,000
        "liabilities_to_equity": "0.9639",  # 80,000 / 83,000
        "gross_margin": "0.4000",          # 80,000 / 200,000
        "operating_margin": "0.1250",      # 25,000 / 200,000
        "net_margin": "0.0825",            # 16,500 / 200,000
        "return_on_assets": "0.1012",      # 16,500 / 163,000
        "return_on_equity": "0.1988",      # 16,500 / 83,000
        "interest_coverage": "7.1429",     # 25,000 / 3,500
        "asset_turnover": "1.2270",        # 200,000 / 163,000
        "dso": "51.1000",                  # 28,000 / 200,000 x 365
        "dpo": "45.6000",                  # 15,000 / 120,000 x 365 = 45.625, half-even
        "inventory_days": "60.8000",       # 20,000 / 120,000 x 365
    }


def test_a_ratio_with_a_zero_denominator_is_none_not_infinity() -> None:
    frame = map_trial_balance(tb_rows([("1000", "Cash", "10.00", "0"), ("3000", "Common stock", "-10.00", "0")]),
                              mapper())
    ratios = key_ratios(balance_sheet(frame), income_statement(frame))
    assert ratios.filter(pl.col("ratio") == "current_ratio")["value"][0] is None


def test_lead_schedules_list_accounts_with_opening_activity_closing_and_prior_year(
        mapped: pl.DataFrame, prior: pl.DataFrame) -> None:
    schedules = lead_schedules(mapped, prior)
    cash = schedules.summary.filter(pl.col("fsli") == "cash").row(0, named=True)
    assert (cash["accounts"], cash["opening"], cash["activity"], cash["closing"], cash["prior_year"]) == (
        1, D("40000.00"), D("10000.00"), D("50000.00"), D("30000.00"))
    assert cash["change"] == D("20000.00")
    detail = schedules.detail.filter(pl.col("fsli") == "accumulated_depreciation").row(0, named=True)
    assert (detail["gl_account_number"], detail["activity"]) == ("1600", D("-10000.00"))
    assert schedules.summary["closing"].sum() == D("0.00")


def test_fluctuations_are_flagged_only_above_both_thresholds(mapped: pl.DataFrame, prior: pl.DataFrame) -> None:
    flux = fluctuations(mapped, prior, FluxThresholds(amount=D("4000.00"), percent=D("0.10")))
    flagged = set(flux.filter(pl.col("flagged"))["fsli"].to_list())
    assert "cash" in flagged                   # +20,000 and +66.7%
    assert "inventory" in flagged              # +15,000 and +300%
    assert "revenue" in flagged                # -50,000 and -33.3%
    assert "prepaid_expenses" in flagged       # new balance of 5,000: amount alone
    assert "property_plant_equipment" not in flagged  # +5,000 but only 5.3%
    assert "accrued_liabilities" not in flagged       # +150% but only 3,000
    assert "accounts_receivable" not in flagged       # +1,000 and 3.4%
    cash = flux.filter(pl.col("fsli") == "cash").row(0, named=True)
    assert (cash["change"], cash["percent"]) == (D("20000.00"), D("0.6667"))
    assert "above 4000.00" in cash["reason"]


def test_fluctuation_thresholds_default_to_materiality() -> None:
    assert FluxThresholds.from_materiality(performance_materiality="60000").amount == D("60000")
    assert FluxThresholds.from_materiality(materiality="100000").amount == D("75000.00")
    assert FluxThresholds.from_materiality(materiality="100000", amount="1000").amount == D("1000")
    assert FluxThresholds.from_materiality(materiality="100000").percent == D("0.10")
    with pytest.raises(ValueError, match="materiality"):
        FluxThresholds.from_materiality()


def test_an_account_left_unmapped_shows_as_the_difference_it_leaves(mapped: pl.DataFrame) -> None:
    unmapped = mapped.with_columns(
        fsli=pl.when(pl.col("gl_account_number") == "1300").then(None).otherwise(pl.col("fsli")),
        suggested_fsli=pl.when(pl.col("gl_account_number") == "1300").then(None)
        .otherwise(pl.col("suggested_fsli")),
        needs_review=pl.col("gl_account_number") == "1300",
    )
    bs = balance_sheet(unmapped)
    assert statement_value(bs, "H1", "unmapped") == D("5000.00")
    assert statement_value(bs, "H1", "difference") == D("-5000.00")


def test_accounts_awaiting_review_are_drafted_on_their_suggestion_and_counted(mapped: pl.DataFrame) -> None:
    pending = mapped.with_columns(
        fsli=pl.when(pl.col("gl_account_number") == "1300").then(None).otherwise(pl.col("fsli")),
        needs_review=pl.col("gl_account_number") == "1300",
    )
    bs = balance_sheet(pending)
    assert statement_value(bs, "H1", "difference") == D("0.00")
    line = bs.filter(pl.col("line") == "prepaid_expenses").row(0, named=True)
    assert line["unreviewed_accounts"] == 1
