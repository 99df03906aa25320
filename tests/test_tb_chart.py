"""The standard chart: every line item the statements need, with the sides and concepts an auditor expects."""

from __future__ import annotations

import subprocess
import sys

import pytest
from auditray.tb.standard_chart import CLASSES, REQUIRED_CODES, standard_chart


def test_every_required_line_item_is_in_the_chart() -> None:
    chart = standard_chart()
    missing = [code for code in REQUIRED_CODES if code not in chart.codes]
    assert missing == []


def test_every_line_has_a_class_statement_and_normal_side() -> None:
    chart = standard_chart()
    for line in chart.lines:
        assert line.account_class in CLASSES
        assert line.statement in ("balance_sheet", "income_statement")
        assert line.normal_side in ("debit", "credit")
        expected_statement = "balance_sheet" if line.account_class in ("asset", "liability", "equity") \
            else "income_statement"
        assert line.statement == expected_statement, line.code


@pytest.mark.parametrize(("code", "side"), [
    ("cash", "debit"), ("allowance_doubtful_accounts", "credit"), ("accumulated_depreciation", "credit"),
    ("accounts_payable", "credit"), ("treasury_stock", "debit"), ("retained_earnings", "credit"),
    ("revenue", "credit"), ("cost_of_revenue", "debit"), ("interest_income", "credit"),
])
def test_contra_lines_carry_the_opposite_side_of_their_class(code: str, side: str) -> None:
    assert standard_chart()[code].normal_side == side


@pytest.mark.parametrize(("code", "concept"), [
    ("cash", "us-gaap:CashAndCashEquivalentsAtCarryingValue"),
    ("accounts_receivable", "us-gaap:AccountsReceivableNetCurrent"),
    ("goodwill", "us-gaap:Goodwill"),
    ("accounts_payable", "us-gaap:AccountsPayableCurrent"),
    ("retained_earnings", "us-gaap:RetainedEarningsAccumulatedDeficit"),
    ("income_tax_expense", "us-gaap:IncomeTaxExpenseBenefit"),
])
def test_line_items_name_their_us_gaap_concepts(code: str, concept: str) -> None:
    assert concept in standard_chart()[code].us_gaap


def test_sub_lines_hang_under_a_line_item_of_the_same_class() -> None:
    chart = standard_chart()
    subs = [line for line in chart.lines if line.parent]
    assert len(subs) >= 20
    for sub in subs:
        parent = chart[sub.parent]
        assert parent.is_line_item and parent.account_class == sub.account_class, sub.code
    assert chart["lease_liabilities_current"].current is True
    assert chart["lease_liabilities"].current is False


def test_the_tb_command_group_help_imports_no_heavy_library() -> None:
    heavy = ("ray", "torch", "lancedb", "polars", "pyarrow", "sqlalchemy", "sentence_transformers", "sklearn")
    for argv in (["tb", "--help"], ["tb", "map", "--help"], ["tb", "statements", "--help"]):
        code = (
            "import sys\nfrom auditray.cli import main\nsys.argv = ['auditray', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', [m for m in {heavy!r} if m in sys.modules])\n"
        )
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                             check=True).stdout
        assert "Usage" in out
        assert out.strip().splitlines()[-1] == "LOADED []", argv
