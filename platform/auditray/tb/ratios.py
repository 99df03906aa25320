"""Key ratios from the draft statements: the expectations analytical procedures compare against.

AU-C 520 / ISA 520 (analytical procedures) and AU-C 315 / ISA 315 A27 (understanding the entity) rely on
ratios such as liquidity, leverage, margins and working-capital days. Each ratio is computed exactly in
``Decimal`` from the statements' amounts and rounded half-even to 4 places (days to 1 place); a ratio
whose denominator is zero is None, never infinity. Balance sheet figures are period-end balances, not
averages (a single trial balance has no average); ``days`` is the length of the period (365 for a year).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl

from auditray.tb.statements import statement_value

FOUR_PLACES = Decimal("0.0001")
ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class RatioDefinition:
    name: str
    label: str
    formula: str
    numerator: Callable[[Callable[[str], Decimal]], Decimal]
    denominator: Callable[[Callable[[str], Decimal]], Decimal]
    per_days: bool = False


def _bs(*lines: str) -> Callable[[Callable[[str], Decimal]], Decimal]:
    return lambda value: sum((value(f"bs:{line}") for line in lines), Decimal(0))


def _is(*lines: str) -> Callable[[Callable[[str], Decimal]], Decimal]:
    return lambda value: sum((value(f"is:{line}") for line in lines), Decimal(0))


def _net_receivables(value: Callable[[str], Decimal]) -> Decimal:
    # The allowance is presented as a (negative) asset line: adding it nets it off.
    return value("bs:accounts_receivable") + value("bs:allowance_doubtful_accounts")


def _debt(value: Callable[[str], Decimal]) -> Decimal:
    return value("bs:short_term_debt") + value("bs:long_term_debt") + value("bs:lease_liabilities")


RATIOS: tuple[RatioDefinition, ...] = (
    RatioDefinition("current_ratio", "Current ratio", "total current assets / total current liabilities",
                    _bs("total_current_assets"), _bs("total_current_liabilities")),
    RatioDefinition("quick_ratio", "Quick ratio",
                    "(cash + accounts receivable net of allowance) / total current liabilities",
                    lambda v: v("bs:cash") + _net_receivables(v), _bs("total_current_liabilities")),
    RatioDefinition("cash_ratio", "Cash ratio", "cash / total current liabilities",
                    _bs("cash"), _bs("total_current_liabilities")),
    RatioDefinition("debt_to_equity", "Debt to equity",
                    "(short-term debt + long-term debt + lease liabilities) / total equity", _debt, _bs("total_equity")),
    RatioDefinition("liabilities_to_equity", "Total liabilities to equity", "total liabilities / total equity",
                    _bs("total_liabilities"), _bs("total_equity")),
    RatioDefinition("gross_margin", "Gross margin", "gross profit / revenue", _is("gross_profit"), _is("revenue")),
    RatioDefinition("operating_margin", "Operating margin", "operating income / revenue",
                    _is("operating_income"), _is("revenue")),
    RatioDefinition("net_margin", "Net margin", "net income / revenue", _is("net_income"), _is("revenue")),
    RatioDefinition("return_on_assets", "Return on assets", "net income / total assets",
                    _is("net_income"), _bs("total_assets")),
    RatioDefinition("return_on_equity", "Return on equity", "net income / total equity",
                    _is("net_income"), _bs("total_equity")),
    RatioDefinition("interest_coverage", "Interest coverage", "operating income / interest expense",
                    _is("operating_income"), _is("interest_expense")),
    RatioDefinition("asset_turnover", "Asset turnover", "revenue / total assets", _is("revenue"),
                    _bs("total_assets")),
    RatioDefinition("dso", "Days sales outstanding", "accounts receivable net of allowance / revenue x days",
                    _net_receivables, _is("revenue"), per_days=True),
    RatioDefinition("dpo", "Days payable outstanding", "accounts payable / cost of revenue x days",
                    _bs("accounts_payable"), _is("cost_of_revenue"), per_days=True),
    RatioDefinition("inventory_days", "Days inventory outstanding", "inventory / cost of revenue x days",
                    _bs("inventory"), _is("cost_of_revenue"), per_days=True),
)


def key_ratios(balance_sheet: pl.DataFrame, income_statement: pl.DataFrame, *, days: int = 365) -> pl.DataFrame:
    """One row per entity and ratio: value (None when the denominator is zero), numerator, denominator."""
    if days <= 0:
        raise ValueError("days must be positive")
    entities = sorted(set(balance_sheet["entity_id"].to_list()) | set(income_statement["entity_id"].to_list()))
    rows = []
    for entity in entities:
        def value(key: str, entity: str = entity) -> Decimal:
            statement, line = key.split(":", 1)
            frame = balance_sheet if statement == "bs" else income_statement
            return statement_value(frame, entity, line)

        for ratio in RATIOS:
            numerator, denominator = ratio.numerator(value), ratio.denominator(value)
            if denominator == 0:
                result = None
            elif ratio.per_days:
                result = (numerator / denominator * days).quantize(ONE_PLACE, rounding=ROUND_HALF_EVEN)
            else:
                result = (numerator / denominator).quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN)
            rows.append({"entity_id": entity, "ratio": ratio.name, "label": ratio.label,
                         "value": str(result) if result is not None else None,
                         "numerator": str(numerator), "denominator": str(denominator), "formula": ratio.formula})
    return pl.DataFrame(rows, schema={"entity_id": pl.String, "ratio": pl.String, "label": pl.String,
                                      "value": pl.String, "numerator": pl.String, "denominator": pl.String,
                                      "formula": pl.String}).with_columns(
        pl.col("value").cast(pl.Decimal(38, 4)),
        pl.col("numerator").cast(pl.Decimal(38, 2)),
        pl.col("denominator").cast(pl.Decimal(38, 2)),
    )
