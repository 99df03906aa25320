"""Lead schedules and draft statements from a mapped trial balance, in exact money.

Lead schedules (one per line item: its accounts with opening balance, activity, closing balance and the
prior year) are the working papers the auditor ties the statements to. The draft balance sheet and income
statement present each line item with the sign a reader expects (assets and expenses positive when in
debit, liabilities, equity and income positive when in credit).

Closing the year's result into equity: a trial balance before closing still carries the income statement
accounts, so the balance sheet shows the current year's net income (minus the sum of all income statement
balances) as a separate equity line, "Net income for the year (not yet closed)". Because a balanced TB sums
to zero, total assets then equal total liabilities plus equity to the cent; the ``difference`` row shows
any break (an unbalanced TB, or accounts left unmapped).

Accounts still awaiting review are presented on their suggested line item when ``use_suggestions`` is
true (the default: a draft must be complete), and each line counts how many such accounts it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from auditray.contract.money import MONEY_SUM_DTYPE
from auditray.tb.standard_chart import standard_chart

_CURRENT_WORDS = re.compile(r"\b(current|short[- ]term|within one year|st|kurzfristig|bis 1 jahr|a court terme|"
                            r"corto plazo|kortlopend)\b", re.IGNORECASE)
_NONCURRENT_WORDS = re.compile(r"\b(non-?current|long[- ]term|lt|after one year|langfristig|a long terme|"
                               r"largo plazo|langlopend)\b", re.IGNORECASE)
ZERO = Decimal("0.00")


def _statement_line(mapped: pl.DataFrame, use_suggestions: bool) -> pl.Expr:
    if use_suggestions and "suggested_fsli" in mapped.columns:
        return pl.coalesce(pl.col("fsli"), pl.col("suggested_fsli"))
    return pl.col("fsli")


def _is_current(fsli: str, name: str | None) -> bool | None:
    """Current or not: the line's own flag, refined by the account name for lines that hold both."""
    line = standard_chart()[fsli]
    if fsli in ("lease_liabilities", "investments") and name:
        if _NONCURRENT_WORDS.search(name):
            return False
        if _CURRENT_WORDS.search(name):
            return True
    return line.current


def prepare(mapped: pl.DataFrame, *, use_suggestions: bool = True) -> pl.DataFrame:
    """Account rows with the line they are presented on, their class, section and current flag."""
    chart = standard_chart()
    frame = mapped.with_columns(line=_statement_line(mapped, use_suggestions))
    if "gl_account_name" not in frame.columns:
        frame = frame.with_columns(gl_account_name=pl.lit(None, dtype=pl.String))
    if "opening_balance" not in frame.columns:
        frame = frame.with_columns(opening_balance=pl.lit(None, dtype=pl.Decimal(18, 2)))
    lines = frame["line"].to_list()
    names = frame["gl_account_name"].to_list()
    current = [(_is_current(f, n) if f else None) for f, n in zip(lines, names, strict=True)]
    unmapped_section = "unmapped"
    return frame.with_columns(
        account_class=pl.Series([chart[f].account_class if f else None for f in lines], dtype=pl.String),
        section=pl.Series([chart[f].section if f else unmapped_section for f in lines], dtype=pl.String),
        statement=pl.Series([chart[f].statement if f else "unmapped" for f in lines], dtype=pl.String),
        is_current=pl.Series(current, dtype=pl.Boolean),
        unreviewed=pl.col("needs_review").fill_null(False) if "needs_review" in frame.columns else pl.lit(False),
        closing=pl.col("closing_balance").cast(MONEY_SUM_DTYPE),
        opening=pl.col("opening_balance").cast(MONEY_SUM_DTYPE),
    )


@dataclass(frozen=True)
class LeadSchedules:
    """``summary``: one row per entity and line item; ``detail``: its accounts."""

    summary: pl.DataFrame
    detail: pl.DataFrame


def lead_schedules(mapped: pl.DataFrame, prior: pl.DataFrame | None = None, *,
                   use_suggestions: bool = True) -> LeadSchedules:
    """Per line item: accounts, opening balance, activity (closing - opening), closing balance, prior year.

    ``activity`` is the TB's own movement; it equals the GL activity when ``checks.reconcile_to_gl`` agrees.

    ``prior`` is last year's mapped trial balance (or any TB with ``fsli``): its closing balances give the
    prior-year column, per account (detail) and per line item as last year mapped it (summary), so a
    reclassified account shows up as movement between lines rather than vanishing.
    """
    chart = standard_chart()
    rows = prepare(mapped, use_suggestions=use_suggestions)
    detail = rows.select(
        "entity_id", "line", "gl_account_number", "gl_account_name",
        "opening", (pl.col("closing") - pl.col("opening").fill_null(0)).alias("activity"), "closing",
        "unreviewed", *(["mapping_source", "confidence"] if "mapping_source" in rows.columns else []),
    )
    if prior is not None:
        prior_rows = prepare(prior, use_suggestions=use_suggestions)
        by_account = prior_rows.group_by("entity_id", "gl_account_number").agg(prior_year=pl.col("closing").sum())
        detail = detail.join(by_account, on=["entity_id", "gl_account_number"], how="left")
        by_line = prior_rows.group_by("entity_id", "line").agg(prior_year=pl.col("closing").sum())
    else:
        detail = detail.with_columns(prior_year=pl.lit(None, dtype=MONEY_SUM_DTYPE))
        by_line = None
    summary = detail.group_by("entity_id", "line").agg(
        accounts=pl.len().cast(pl.Int64),
        opening=pl.col("opening").sum(),
        activity=pl.col("activity").sum(),
        closing=pl.col("closing").sum(),
        unreviewed_accounts=pl.col("unreviewed").sum().cast(pl.Int64),
    )
    if by_line is not None:
        summary = summary.join(by_line, on=["entity_id", "line"], how="full", coalesce=True).with_columns(
            accounts=pl.col("accounts").fill_null(0), unreviewed_accounts=pl.col("unreviewed_accounts").fill_null(0),
            closing=pl.col("closing").fill_null(0), opening=pl.col("opening").fill_null(0),
            activity=pl.col("activity").fill_null(0))
    else:
        summary = summary.with_columns(prior_year=pl.lit(None, dtype=MONEY_SUM_DTYPE))
    order = {line.code: line.sort_order for line in chart.lines}
    labels = {line.code: line.label for line in chart.lines}
    summary = summary.with_columns(
        label=pl.col("line").replace_strict(labels, default="Unmapped (awaiting review)", return_dtype=pl.String),
        sort_order=pl.col("line").replace_strict(order, default=99_999, return_dtype=pl.Int64),
        change=pl.col("closing") - pl.col("prior_year"),
    ).sort("entity_id", "sort_order").rename({"line": "fsli"})
    return LeadSchedules(
        summary=summary.select("entity_id", "fsli", "label", "accounts", "opening", "activity", "closing",
                               "prior_year", "change", "unreviewed_accounts", "sort_order"),
        detail=detail.rename({"line": "fsli"}).sort("entity_id", "fsli", "gl_account_number"),
    )


def _presented(amount: Decimal, account_class: str) -> Decimal:
    return amount if account_class in ("asset", "expense") else -amount


def _statement_rows(entity: str, statement: str, items: list[tuple[str, str, str, Decimal, int, int]]
                    ) -> list[dict]:
    return [
        {"entity_id": entity, "statement": statement, "section": section, "line": line, "label": label,
         "amount": amount, "kind": kind, "unreviewed_accounts": unreviewed, "sort_order": sort_order}
        for section, line, label, amount, sort_order, unreviewed, kind in items
    ]


def _sums(rows: pl.DataFrame) -> dict[tuple[str, str, bool | None], tuple[Decimal, int]]:
    out: dict[tuple[str, str, bool | None], tuple[Decimal, int]] = {}
    grouped = rows.group_by("line", "section", "is_current").agg(
        amount=pl.col("closing").sum(), unreviewed=pl.col("unreviewed").sum())
    for line, section, is_current, amount, unreviewed in grouped.iter_rows():
        out[(line, section, is_current)] = (amount if amount is not None else ZERO, int(unreviewed or 0))
    return out


def _income_statement_items(sums: dict[str, tuple[Decimal, int]]) -> list[tuple]:
    """The statement's rows for one entity from its line totals (debit positive) and unreviewed counts."""
    chart = standard_chart()
    items: list[tuple] = []

    def add_lines(section: str) -> Decimal:
        total = ZERO
        for line in chart.line_items:
            if line.statement != "income_statement" or line.section != section or line.code not in sums:
                continue
            amount, unreviewed = sums[line.code]
            value = _presented(amount, line.account_class)
            # Within "other income and expense" income adds and expense subtracts.
            total += -value if section == "other_income_expense" and line.account_class == "expense" else value
            items.append((section, line.code, line.label, value, line.sort_order, unreviewed, "line"))
        return total

    revenue = add_lines("revenue")
    gross = revenue - add_lines("cost_of_revenue")
    items.append(("subtotal", "gross_profit", "Gross profit", gross, 3190, 0, "subtotal"))
    operating_expenses = add_lines("operating_expenses")
    items.append(("subtotal", "total_operating_expenses", "Total operating expenses", operating_expenses, 3990, 0,
                  "subtotal"))
    operating_income = gross - operating_expenses
    items.append(("subtotal", "operating_income", "Operating income", operating_income, 3995, 0, "subtotal"))
    before_tax = operating_income + add_lines("other_income_expense")
    items.append(("subtotal", "income_before_tax", "Income before income taxes", before_tax, 4990, 0, "subtotal"))
    net = before_tax - add_lines("income_tax")
    items.append(("total", "net_income", "Net income", net, 5990, 0, "total"))
    return items


def income_statement(mapped: pl.DataFrame, *, use_suggestions: bool = True) -> pl.DataFrame:
    """Revenue to net income per entity: line items, gross profit, operating income, pre-tax and net income.

    Net income is minus the sum of every income statement balance (credits are income), exactly; the
    ``difference`` row checks the walk against it.
    """
    rows = prepare(mapped, use_suggestions=use_suggestions)
    frames = []
    for (entity,), part in rows.filter(pl.col("statement") == "income_statement").group_by(
            "entity_id", maintain_order=True):
        sums: dict[str, tuple[Decimal, int]] = {}
        for (line, _section, _current), (amount, unreviewed) in _sums(part).items():
            previous = sums.get(line, (ZERO, 0))
            sums[line] = (previous[0] + amount, previous[1] + unreviewed)
        items = _income_statement_items(sums)
        exact = part["closing"].sum()
        walked = next(item[3] for item in items if item[1] == "net_income")
        items.append(("check", "difference", "Check: net income less minus the sum of P&L balances",
                      walked + (exact if exact is not None else ZERO), 5999, 0, "check"))
        frames.extend(_statement_rows(entity, "income_statement", items))
    return _frame(frames)


def net_income(mapped: pl.DataFrame) -> dict[str, Decimal]:
    """The year's result per entity: minus the sum of the income statement accounts."""
    rows = prepare(mapped)
    out = {}
    for entity, amount in rows.filter(pl.col("statement") == "income_statement").group_by("entity_id").agg(
            pl.col("closing").sum()).iter_rows():
        out[str(entity)] = -(amount or ZERO)
    for entity in rows["entity_id"].unique().to_list():
        out.setdefault(str(entity), ZERO)
    return out


def balance_sheet(mapped: pl.DataFrame, *, use_suggestions: bool = True) -> pl.DataFrame:
    """Assets = liabilities + equity per entity, with the year's net income shown within equity.

    Accounts left without a line (no suggestion either) are presented as "Unmapped balances" and the
    ``difference`` row then shows what they leave unexplained.
    """
    chart = standard_chart()
    frames = []
    rows = prepare(mapped, use_suggestions=use_suggestions)
    results = net_income(mapped)
    for (entity,), part in rows.group_by("entity_id", maintain_order=True):
        sums = _sums(part.filter(pl.col("statement") == "balance_sheet"))
        items: list[tuple] = []
        totals: dict[str, Decimal] = {}
        for section in ("current_assets", "noncurrent_assets", "current_liabilities", "noncurrent_liabilities",
                        "equity"):
            total = ZERO
            for line in chart.line_items:
                if line.statement != "balance_sheet":
                    continue
                for (code, _line_section, is_current), (amount, unreviewed) in sorted(
                        sums.items(), key=lambda kv: str(kv[0])):
                    if code != line.code:
                        continue
                    placed = _section_for(line.account_class, is_current)
                    if placed != section:
                        continue
                    value = _presented(amount, line.account_class)
                    total += value
                    split = line.current is not None and line.current != is_current
                    label = line.label + ((", current portion" if is_current else ", non-current") if split else "")
                    items.append((section, code, label, value, _sort_order(code, is_current) if split
                                  else line.sort_order, unreviewed, "line"))
            if section == "equity":
                items.append(("equity", "net_income_current_year", "Net income for the year (not yet closed)",
                              results.get(str(entity), ZERO), 2900, 0, "line"))
                total += results.get(str(entity), ZERO)
            totals[section] = total
            items.append(("subtotal", f"total_{section}", f"Total {section.replace('_', ' ')}", total,
                          _subtotal_order(section), 0, "subtotal"))
        unmapped = part.filter(pl.col("statement") == "unmapped")["closing"].sum() if part.height else ZERO
        unmapped = unmapped if unmapped is not None else ZERO
        total_assets = totals["current_assets"] + totals["noncurrent_assets"]
        total_liabilities = totals["current_liabilities"] + totals["noncurrent_liabilities"]
        items += [
            ("total", "total_assets", "Total assets", total_assets, 990, 0, "total"),
            ("total", "total_liabilities", "Total liabilities", total_liabilities, 1990, 0, "total"),
            ("total", "total_liabilities_and_equity", "Total liabilities and equity",
             total_liabilities + totals["equity"], 2990, 0, "total"),
        ]
        if unmapped != ZERO:
            items.append(("unmapped", "unmapped", "Unmapped balances (debit positive)", unmapped, 2995, 0, "line"))
        items.append(("check", "difference", "Check: total assets - total liabilities and equity",
                      total_assets - total_liabilities - totals["equity"], 2999, 0, "check"))
        frames.extend(_statement_rows(entity, "balance_sheet", items))
    return _frame(frames)


def _sort_order(code: str, is_current: bool | None) -> int:
    """Where the part of a line presented on the other side of the current/non-current divide sits:
    at its sub-line (lease liabilities, current portion; short-term investments)."""
    chart = standard_chart()
    for sub_line in chart.sub_lines(code):
        if sub_line.current == is_current:
            return sub_line.sort_order
    return chart[code].sort_order


def _section_for(account_class: str, is_current: bool | None) -> str:
    if account_class == "asset":
        return "current_assets" if is_current else "noncurrent_assets"
    if account_class == "liability":
        return "current_liabilities" if is_current else "noncurrent_liabilities"
    return "equity"


def _subtotal_order(section: str) -> int:
    return {"current_assets": 490, "noncurrent_assets": 890, "current_liabilities": 1590,
            "noncurrent_liabilities": 1890, "equity": 2950}[section]


def _frame(rows: list[dict]) -> pl.DataFrame:
    schema = {"entity_id": pl.String, "statement": pl.String, "section": pl.String, "line": pl.String,
              "label": pl.String, "amount": MONEY_SUM_DTYPE, "kind": pl.String, "unreviewed_accounts": pl.Int64,
              "sort_order": pl.Int64}
    return pl.DataFrame(rows, schema=schema).sort("entity_id", "sort_order", "line")


def statement_value(statement: pl.DataFrame, entity_id: str, line: str) -> Decimal:
    """One amount of a statement frame (0 when the line is absent)."""
    found = statement.filter((pl.col("entity_id") == entity_id) & (pl.col("line") == line))["amount"]
    return sum(found.to_list(), ZERO) if found.len() else ZERO
