"""The line item each account of the synthetic generator's group chart belongs on (by account number).

The generator (``auditray.generate.chart``) numbers every entity's accounts the same way and names them in
the entity's house style; this table is the auditor's answer key for its trial balances, written from the
chart's account descriptions, so tests can score the mapper on charts whose names it was never trained on.
"""

from __future__ import annotations

_RANGES: tuple[tuple[int, int, str], ...] = (
    (1000, 1099, "cash"),
    (1100, 1105, "accounts_receivable"),
    (1110, 1110, "allowance_doubtful_accounts"),
    (1120, 1150, "other_current_assets"),
    (1200, 1299, "inventory"),
    (1300, 1340, "prepaid_expenses"),
    (1350, 1350, "other_noncurrent_assets"),
    (1400, 1499, "other_current_assets"),
    (1500, 1569, "property_plant_equipment"),
    (1570, 1570, "intangible_assets"),
    (1580, 1580, "property_plant_equipment"),
    (1600, 1669, "accumulated_depreciation"),
    (1670, 1670, "intangible_assets"),
    (1700, 1700, "property_plant_equipment"),
    (1710, 1710, "accumulated_depreciation"),
    (1800, 1800, "other_noncurrent_assets"),
    (1850, 1850, "goodwill"),
    (1860, 1860, "investments"),
    (1870, 1899, "other_noncurrent_assets"),
    (1990, 1999, "other_current_assets"),
    (2000, 2099, "accounts_payable"),
    (2100, 2299, "accrued_liabilities"),
    (2300, 2300, "accrued_liabilities"),
    (2310, 2310, "income_taxes_payable"),
    (2320, 2320, "other_liabilities"),
    (2330, 2330, "accrued_liabilities"),
    (2400, 2499, "other_current_liabilities"),
    (2500, 2510, "deferred_revenue"),
    (2600, 2610, "short_term_debt"),
    (2700, 2700, "long_term_debt"),
    (2710, 2720, "lease_liabilities"),
    (2800, 2800, "other_liabilities"),
    (2900, 2999, "other_current_liabilities"),
    (3000, 3000, "common_stock"),
    (3100, 3100, "additional_paid_in_capital"),
    (3200, 3200, "retained_earnings"),
    (3300, 3300, "treasury_stock"),
    (3400, 3400, "accumulated_other_comprehensive_income"),
    (3500, 3500, "retained_earnings"),
    (4000, 4999, "revenue"),
    (5000, 5999, "cost_of_revenue"),
    (6000, 6049, "salaries_and_wages"),
    (6050, 6059, "selling_general_administrative"),
    (6090, 6099, "salaries_and_wages"),
    (6200, 6205, "rent_expense"),
    (6206, 6799, "selling_general_administrative"),
    (7000, 7099, "depreciation_amortization"),
    (7100, 7149, "selling_general_administrative"),
    (7150, 7150, "cost_of_revenue"),
    (7160, 7160, "other_expense"),
    (7170, 7170, "selling_general_administrative"),
    (7180, 7180, "research_development"),
    (7190, 7299, "selling_general_administrative"),
    (8000, 8000, "interest_income"),
    (8100, 8199, "interest_expense"),
    (8200, 8200, "other_income"),
    (8210, 8210, "other_expense"),
    (8300, 8300, "other_income"),
    (8310, 8310, "other_expense"),
    (8400, 8500, "other_income"),
    (8600, 8600, "other_expense"),
    (8700, 8700, "other_income"),
    (8800, 8800, "other_expense"),
    (9000, 9299, "income_tax_expense"),
    (9950, 9950, "other_expense"),
)
# Two-sided accounts: the side of the balance decides (an unrealised exchange difference is a gain when
# in credit; a suspense account in credit is a liability).
_BY_SIDE: dict[str, tuple[str, str]] = {
    "8220": ("other_expense", "other_income"),
    "1990": ("other_current_assets", "other_current_liabilities"),
    "1995": ("other_current_assets", "other_current_liabilities"),
    "2990": ("other_current_assets", "other_current_liabilities"),
}


def expected_fsli(number: str, closing_sign: int = 0) -> str | None:
    """The answer key for a generator account number (``closing_sign`` +1 debit, -1 credit, 0 nil)."""
    if number in _BY_SIDE:
        debit, credit = _BY_SIDE[number]
        return credit if closing_sign < 0 else debit
    value = int(number)
    for low, high, fsli in _RANGES:
        if low <= value <= high:
            return fsli
    return None
