"""The standard chart: class -> financial-statement line item (FSLI) -> optional sub-line.

Every client account maps to one line item of this chart; the draft statements, lead schedules and ratios
are built on it. Each line states its class (asset, liability, equity, revenue, expense), the statement
it belongs to, its section, its normal balance side (contra lines such as the allowance for doubtful
accounts or accumulated depreciation carry the opposite side of their class), whether it is current,
and the US GAAP taxonomy concepts it corresponds to (FASB US GAAP Financial Reporting Taxonomy), so a
mapped trial balance can be tied to XBRL-tagged statements.

The data lives in ``data/standard_chart.csv``; sub-lines name their parent line item in ``parent``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

AccountClass = Literal["asset", "liability", "equity", "revenue", "expense"]
Side = Literal["debit", "credit"]
CLASSES: tuple[str, ...] = ("asset", "liability", "equity", "revenue", "expense")
STATEMENTS: tuple[str, ...] = ("balance_sheet", "income_statement")
BALANCE_SHEET_SECTIONS: tuple[str, ...] = (
    "current_assets", "noncurrent_assets", "current_liabilities", "noncurrent_liabilities", "equity",
)
INCOME_STATEMENT_SECTIONS: tuple[str, ...] = (
    "revenue", "cost_of_revenue", "operating_expenses", "other_income_expense", "income_tax",
)
# The line items the issue (and any auditor's lead-schedule set) requires at minimum.
REQUIRED_CODES: tuple[str, ...] = (
    "cash", "accounts_receivable", "allowance_doubtful_accounts", "inventory", "prepaid_expenses",
    "other_current_assets", "property_plant_equipment", "accumulated_depreciation", "intangible_assets",
    "goodwill", "investments", "other_noncurrent_assets", "accounts_payable", "accrued_liabilities",
    "deferred_revenue", "short_term_debt", "long_term_debt", "income_taxes_payable", "lease_liabilities",
    "other_liabilities", "common_stock", "additional_paid_in_capital", "retained_earnings", "treasury_stock",
    "revenue", "cost_of_revenue", "salaries_and_wages", "rent_expense", "depreciation_amortization",
    "selling_general_administrative", "research_development", "interest_expense", "interest_income",
    "other_income", "other_expense", "income_tax_expense",
)


@dataclass(frozen=True)
class LineItem:
    """One line of the standard chart (a line item, or a sub-line when ``parent`` is set)."""

    code: str
    parent: str | None
    account_class: AccountClass
    statement: str
    section: str
    normal_side: Side
    current: bool | None
    sort_order: int
    label: str
    us_gaap: tuple[str, ...]

    @property
    def is_line_item(self) -> bool:
        return self.parent is None

    @property
    def sign(self) -> int:
        """+1 for debit-normal lines, -1 for credit-normal ones (TB amounts are debit positive)."""
        return 1 if self.normal_side == "debit" else -1


class StandardChart:
    """The chart's lines, looked up by code."""

    def __init__(self, lines: list[LineItem]) -> None:
        self.lines = tuple(lines)
        self._by_code = {line.code: line for line in lines}
        if len(self._by_code) != len(lines):
            raise ValueError("standard chart codes must be unique")
        for line in lines:
            if line.parent is not None and line.parent not in self._by_code:
                raise ValueError(f"sub-line {line.code} names unknown parent {line.parent}")

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __getitem__(self, code: str) -> LineItem:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"{code!r} is not a line of the standard chart") from None

    @property
    def line_items(self) -> tuple[LineItem, ...]:
        """The line items (no sub-lines), in statement order."""
        return tuple(sorted((line for line in self.lines if line.is_line_item), key=lambda line: line.sort_order))

    @property
    def codes(self) -> tuple[str, ...]:
        """Line-item codes: the values a mapping's ``fsli`` column may take."""
        return tuple(line.code for line in self.line_items)

    def sub_lines(self, code: str) -> tuple[LineItem, ...]:
        return tuple(line for line in self.lines if line.parent == code)

    def line_item_of(self, code: str) -> LineItem:
        """The line item itself, or the parent line item of a sub-line."""
        line = self[code]
        return self[line.parent] if line.parent else line

    def codes_of_class(self, account_class: str) -> tuple[str, ...]:
        return tuple(line.code for line in self.line_items if line.account_class == account_class)

    def to_frame(self):
        """The chart as a polars frame (for notebooks and ``auditray tb chart``)."""
        import polars as pl

        return pl.DataFrame(
            [
                {
                    "code": line.code,
                    "parent": line.parent,
                    "class": line.account_class,
                    "statement": line.statement,
                    "section": line.section,
                    "normal_side": line.normal_side,
                    "current": line.current,
                    "sort_order": line.sort_order,
                    "label": line.label,
                    "us_gaap": ", ".join(line.us_gaap),
                }
                for line in sorted(self.lines, key=lambda line: line.sort_order)
            ]
        )


def _parse(row: dict[str, str]) -> LineItem:
    current = {"current": True, "noncurrent": False, "": None}[row["current"]]
    if row["class"] not in CLASSES:
        raise ValueError(f"standard chart line {row['code']}: unknown class {row['class']!r}")
    if row["normal_side"] not in ("debit", "credit"):
        raise ValueError(f"standard chart line {row['code']}: normal_side must be debit or credit")
    return LineItem(
        code=row["code"],
        parent=row["parent"] or None,
        account_class=row["class"],  # type: ignore[arg-type]
        statement=row["statement"],
        section=row["section"],
        normal_side=row["normal_side"],  # type: ignore[arg-type]
        current=current,
        sort_order=int(row["sort_order"]),
        label=row["label"],
        us_gaap=tuple(concept for concept in row["us_gaap"].split("|") if concept),
    )


@lru_cache(maxsize=1)
def standard_chart() -> StandardChart:
    """The shipped standard chart (read once per process)."""
    text = resources.files("auditray.tb").joinpath("data/standard_chart.csv").read_text(encoding="utf-8")
    return StandardChart([_parse(row) for row in csv.DictReader(text.splitlines())])


def fsli_codes() -> tuple[str, ...]:
    """The line-item codes in statement order."""
    return standard_chart().codes
