"""Reports as accounting packages print them: title rows, a blank first header, total rows.

QuickBooks and Xero "export to CSV/Excel" writes the report a user sees on screen, not a table: a
title block ("Acme Inc", "Trial Balance", "As of December 31, 2025") above the headers, a first
column with no header holding the account, and footer rows ("TOTAL", "Total for Checking",
"Net Income") that add up the rows above. These helpers turn that layout back into a table without
ever dropping a data row silently: every skipped row is named in a warning.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import polars as pl

from auditray.ingest.headers import DateOrder, normalize_header
from auditray.ingest.sources import ROW, SourceTable

ACCOUNT_HEADER = "Account"
# Cells polars and fastexcel give a header row left blank.
_BLANK_HEADER = re.compile(r"^(?:|__unnamed__\d+|_duplicated_\d+|column_?\d+)$", re.IGNORECASE)
# A footer row's label: QuickBooks "TOTAL", "Total for Checking", "Total Income", "Net Income" and
# the report-basis line QuickBooks Online prints last ("Accrual Basis Wednesday, January 14, 2026
# 09:12 AM GMT-08:00"); Xero "Total", "Net Profit". Matched on the row's first non-empty cell only.
FOOTER_LABEL = (r"(?i)^(?:total\b|net (?:income|profit|loss|operating income|other income)\b|gross profit\b"
                r"|(?:cash|accrual) basis\b)")
# Fields a real data row fills; a footer row leaves them empty (or holds its label in one of them).
_KEY_FIELDS = ("journal_id", "line_number", "effective_date", "entry_date", "gl_account_number",
               "gl_account_name", "fiscal_year", "period", "period_end_date")
FOOTERS_NAMED = 10


def name_blank_first_column(source: SourceTable) -> tuple[SourceTable, str | None]:
    """QuickBooks reports leave the header over the account column blank (",Debit,Credit"); that
    column is the account. Only the first column, and only when no other column is "Account"."""
    if not source.headers or not _BLANK_HEADER.match(source.headers[0].strip()):
        return source, None
    if any(normalize_header(h) == normalize_header(ACCOUNT_HEADER) for h in source.headers):
        return source, None
    blank = source.headers[0]
    headers = (ACCOUNT_HEADER, *source.headers[1:])
    note = (f"the first column has no header; read as {ACCOUNT_HEADER!r} "
            "(QuickBooks reports leave the account column's header blank)")
    return replace(source, frame=source.frame.rename({blank: ACCOUNT_HEADER}), headers=headers), note


def first_cell(headers: Sequence[str]) -> pl.Expr:
    """The first non-empty cell of a row, reading left to right as the report prints it."""
    return pl.coalesce([pl.col(h) for h in headers]) if headers else pl.lit(None, pl.String)


def footer_flag(headers: Sequence[str], columns: dict[str, str]) -> pl.Expr | None:
    """True on report total rows: the first non-empty cell starts with Total / Net Income and every
    column feeding a key field is empty or holds that same label. A row with a date, a journal number
    or an account of its own is data, whatever its text says, and is never skipped."""
    if not headers:
        return None
    label = first_cell(headers)
    flag = label.str.contains(FOOTER_LABEL)
    for name in _KEY_FIELDS:
        column = columns.get(name)
        if column is not None:
            flag = flag & (pl.col(column).is_null() | (pl.col(column) == label))
    return flag.fill_null(False)


def describe_footers(rows: Sequence[int], labels: Sequence[str], total: int) -> str:
    shown = ", ".join(f"row {r} {label!r}" for r, label in zip(rows, labels, strict=False))
    more = f" and {total - len(rows)} more" if total > len(rows) else ""
    return (f"{total} report total row(s) skipped (headings and totals, not data): "
            f"{shown}{more}")


def footer_summary(frame: pl.LazyFrame, headers: Sequence[str], flag: pl.Expr) -> list[pl.Expr]:
    """Aggregations naming the skipped footer rows, to run in the same pass as the survey."""
    return [
        flag.sum().alias("__footer_count"),
        pl.col(ROW).filter(flag).head(FOOTERS_NAMED).implode().alias("__footer_rows"),
        first_cell(headers).filter(flag).head(FOOTERS_NAMED).implode().alias("__footer_labels"),
    ]


# --- the period a report covers, from its title ------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = (
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})", re.IGNORECASE),
    re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})", re.IGNORECASE),
    re.compile(r"(?P<year>\d{4})-(?P<num_month>\d{1,2})-(?P<day>\d{1,2})"),
    re.compile(r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>\d{4})"),
    # "January - December 2025", "December 2025": the month's last day.
    re.compile(_MONTH + r",?\s+(?P<year>\d{4})", re.IGNORECASE),
)
# Words that introduce the end of the period a report covers.
_PERIOD_WORDS = re.compile(r"(?i)\b(?:as of|as at|ended|ending|through|thru|to)\b|[-\u2013]")


def title_period_end(preamble: Sequence[tuple[int, Sequence[str]]],
                     order: DateOrder | None) -> tuple[date, int, str] | None:
    """The period end date a report's title names ("As of December 31, 2025", Xero "As at 31 December
    2025", "For the period ended 31/12/2025", "January 1 - December 31, 2025"): the last date of the
    title rows, preferring a row that says "as of", "ended" or gives a range. Returns the date, the
    spreadsheet row and its text; ``None`` when no row names one without doubt."""
    found: list[tuple[bool, date, int, str]] = []
    for number, cells in preamble:
        text = " ".join(cells)
        dates = _dates_in(text, order)
        if dates:
            found.append((bool(_PERIOD_WORDS.search(text)), dates[-1], number, text))
    if not found:
        return None
    preferred = [f for f in found if f[0]] or found
    _, when, number, text = preferred[-1]
    return when, number, text


def _dates_in(text: str, order: DateOrder | None) -> list[date]:
    hits: list[tuple[int, date]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            when = _date_of(match.groupdict(), order)
            if when is not None:
                taken.append(span)
                hits.append((span[0], when))
    return [when for _, when in sorted(hits, key=lambda h: h[0])]


def _date_of(parts: dict[str, str | None], order: DateOrder | None) -> date | None:
    year = int(parts["year"] or 0)
    if parts.get("a") is not None:
        a, b = int(parts["a"] or 0), int(parts["b"] or 0)
        if a > 12 >= b:
            month, day = b, a
        elif b > 12 >= a or a == b or order == "us":
            month, day = a, b
        elif order == "eu":
            month, day = b, a
        else:
            return None
    else:
        month_name = parts.get("month")
        month = _MONTHS[month_name.lower()] if month_name else int(parts.get("num_month") or 0)
        day_text = parts.get("day")
        if day_text is None:
            if not 1 <= month <= 12:
                return None
            day = calendar.monthrange(year, month)[1]
        else:
            day = int(day_text)
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- QuickBooks General Ledger and Journal reports ---------------------------------------------------

SKIP = "__skip"
_TOTAL_FOR = re.compile(r"(?i)^total\s+(?:for\s+)?(?P<name>.*?)(?:\s+with sub-accounts)?$")


def quickbooks_ledger_rows(source: SourceTable, columns: dict[str, str], money: Sequence[str],
                           footer: pl.Expr | None, *,
                           account_header_was_blank: bool) -> tuple[SourceTable, list[str]]:
    """Turn a QuickBooks General Ledger / Journal report back into one row per posting line.

    General Ledger: a row holding only an account name in the (blank-headed) first column opens that
    account's section; its transaction rows leave the column empty and take the section's account
    (the full path "Payroll Liabilities:Federal Withholding" for a sub-account section); "Total for
    <account>" closes it. Journal: a transaction's continuation lines leave Date, Transaction Type and
    Num blank and inherit them from the entry's first line; the line after each transaction with only
    amounts is its total. Heading and total rows are marked in ``__skip`` (before anything is
    filled, so a total row can never be taken for data) and named in a warning by the survey.
    """
    headers = list(source.headers)
    account = columns.get("gl_account_number")
    date_column = columns.get("effective_date")
    if account is None or date_column is None:
        return source, []
    frame = source.frame
    others = [h for h in headers if h != account]
    text_columns = [h for h in headers if h not in money]
    only_account = (pl.col(account).is_not_null() & pl.all_horizontal([pl.col(h).is_null() for h in others])
                    & ~pl.col(account).str.contains(FOOTER_LABEL))
    amounts_only = (pl.all_horizontal([pl.col(h).is_null() for h in text_columns])
                    & pl.any_horizontal([pl.col(h).is_not_null() for h in money])) if money else pl.lit(False)
    notes: list[str] = []
    skip = amounts_only if footer is None else amounts_only | footer
    if account_header_was_blank:
        skip = skip | only_account
    frame = frame.with_columns(skip.fill_null(False).alias(SKIP))
    if account_header_was_blank:
        frame, filled = _fill_sections(frame, account, only_account)
        if filled:
            notes.append(f"{filled} account heading row(s) skipped: their account fills the transaction rows "
                         "below them (QuickBooks General Ledger layout)")
    inherit = [c for c in (date_column, columns.get("document_type"), columns.get("journal_id")) if c]
    continuation = pl.col(date_column).is_null() & pl.col(account).is_not_null() & ~pl.col(SKIP)
    count = frame.select(continuation.sum()).collect(engine="streaming").item()
    if count:
        entry = pl.col(date_column).is_not_null().cum_sum()
        frame = frame.with_columns([
            pl.when(continuation).then(pl.col(c).first().over(entry)).otherwise(pl.col(c)).alias(c)
            for c in inherit])
        notes.append(f"{count} continuation line(s) took {', '.join(inherit)} from the first line of their "
                     "entry (QuickBooks Journal layout)")
    return replace(source, frame=frame), notes


def _fill_sections(frame: pl.LazyFrame, account: str, heading: pl.Expr) -> tuple[pl.LazyFrame, int]:
    """Fill the account column of transaction rows from the section they sit in, nesting sub-account
    sections under their parent until "Total for <sub-account>" closes them."""
    totals = pl.col(account).str.contains(r"(?i)^total\b")
    markers = (frame.filter(heading | totals).select(ROW, account, heading.alias("__heading"))
               .collect(engine="streaming"))
    headings = int(markers["__heading"].sum() or 0)
    if not headings:
        return frame, 0
    rows: list[int] = []
    paths: list[str | None] = []
    stack: list[str] = []
    for row, label, is_heading in markers.iter_rows():
        if is_heading:
            if ":" in label:
                stack[:] = [label]  # already the full path
            else:
                stack.append(label)
        else:
            match = _TOTAL_FOR.match(label)
            name = match.group("name") if match else ""
            if name and name in stack:
                del stack[stack.index(name):]
            else:
                stack.clear()
        rows.append(row)
        paths.append(":".join(stack) or None)
    at = (pl.lit(pl.Series(rows, dtype=pl.Int64)).search_sorted(pl.col(ROW), side="right").cast(pl.Int64) - 1)
    path = at.replace_strict(dict(enumerate(paths)), default=None, return_dtype=pl.String)
    return frame.with_columns(pl.coalesce(pl.col(account), path).alias(account)), headings
