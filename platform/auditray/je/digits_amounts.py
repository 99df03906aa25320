"""Exact amounts for the digit tests: the integer part of ``|amount|`` as decimal text.

Every digit test in :mod:`auditray.je.digits` reads its digits from the integer part of the
absolute amount (amounts below 10 are excluded, so the first two digits always lie in the
integer part, and the last-two-digits test uses the integer part by convention). That integer
part is taken from the exact value:

- ``Decimal`` columns (the contract's Decimal(18,2)) are truncated toward zero as decimals;
- integer columns are whole currency units (pass integer cents through
  :func:`auditray.contract.money.cents_to_money` first);
- text columns are parsed as written (``1,234.56``, ``-1234.56``, ``1234.56-``, ``(1,234.56)``),
  never through a float;
- float columns are refused: a binary float cannot hold most cent amounts, and a drift of
  1e-16 (``99.99999999999999`` for 100.00) changes the first digit. :func:`money_from_float`
  rounds a float column to the nearest cent first, which recovers the amount the writer meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from auditray.contract.money import MONEY_DTYPE, cents_to_money

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

# Integer part of |amount| as decimal text without leading zeros ("" or "0" for amounts below 1).
UNITS = "__digits_units"
NEGATIVE = "__digits_negative"
# The exact absolute amount, to recognise an amount repeated within an entry.
ABSOLUTE = "__digits_absolute"
# Why an amount was not tested: null when it was.
REASON = "__digits_reason"
BELOW_FLOOR, MISSING, INVALID = "below_floor", "missing", "invalid"



class AmountFormatError(ValueError):
    """Some values are not exact decimal amounts; ``problems`` lists (0-based index, value)."""

    def __init__(self, column: str, problems: list[tuple[int, str]], total: int) -> None:
        self.column = column
        self.problems = problems
        self.total = total
        shown = "; ".join(f"index {i}: {v!r}" for i, v in problems[:10])
        more = f" (and {total - 10} more)" if total > 10 else ""
        super().__init__(f"column {column!r}: {total} value(s) are not decimal amounts: {shown}{more}")


@dataclass(frozen=True)
class ParsedAmounts:
    """Integer parts, signs and validity of a column of amounts; ``invalid`` only for text."""

    units: pl.Series
    negative: pl.Series
    invalid: pl.Series


def _text_pattern(decimal_comma: bool) -> str:
    group, point = (r"\.", ",") if decimal_comma else (",", r"\.")
    return (rf"^(?P<lead>[+-]?)\s*(?P<int>\d{{1,3}}(?:{group}\d{{3}})+|\d*)(?:{point}(?P<frac>\d*))?"
            rf"\s*(?P<trail>-?)$")


def text_amount_exprs(column: str, *, decimal_comma: bool = False) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(units, negative, invalid, absolute) expressions for a text column, parsed exactly as written.

    Accepts an optional leading ``+``/``-``, a trailing ``-`` or accounting parentheses, thousands
    separators in groups of three (``,``; ``.`` when ``decimal_comma``) and any number of decimals.
    Blank and null are missing, not invalid. Exponents (``1.2E+05``) are invalid: a spreadsheet
    that wrote them has already rounded the amount.
    """
    text = pl.col(column).str.strip_chars()
    bracketed = text.str.starts_with("(") & text.str.ends_with(")")
    inner = pl.when(bracketed).then(text.str.slice(1, text.str.len_chars() - 2).str.strip_chars()).otherwise(text)
    parts = inner.str.extract_groups(_text_pattern(decimal_comma))
    lead, integer = parts.struct.field("lead"), parts.struct.field("int")
    frac, trail = parts.struct.field("frac"), parts.struct.field("trail")
    separator = "." if decimal_comma else ","
    blank = text.is_null() | (text == "")
    well_formed = (
        integer.is_not_null()
        & ((integer != "") | (frac.fill_null("") != ""))
        & ~((lead != "") & (trail != ""))
        & ~(bracketed & ((lead != "") | (trail != "")))
    )
    invalid = ~blank & ~well_formed.fill_null(False)
    units = (
        pl.when(well_formed & ~blank)
        .then(integer.str.replace_all(separator, "", literal=True).str.strip_chars_start("0"))
        .otherwise(None)
    )
    negative = (lead == "-").fill_null(False) | (trail == "-").fill_null(False) | bracketed.fill_null(False)
    absolute = pl.concat_str([units, pl.lit("."), frac.fill_null("").str.strip_chars_end("0")])
    return units, negative, invalid, absolute


def exact_amount_exprs(column: str, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(units, negative, invalid, absolute) expressions for a column of the given type."""
    col = pl.col(column)
    if dtype == pl.String:
        return text_amount_exprs(column)
    if isinstance(dtype, pl.Decimal):
        integer_digits = (dtype.precision or 38) - (dtype.scale or 0)
        target = pl.Int64 if integer_digits <= 18 else pl.Int128
        # Decimal -> integer truncates toward zero, exactly: 9.99 -> 9, 1234567.89 -> 1234567.
        units = col.abs().cast(target).cast(pl.String)
    elif dtype.is_integer():
        units = col.cast(pl.Int128).abs().cast(pl.String)
    elif dtype.is_float():
        raise TypeError(
            f"column {column!r} holds binary floats ({dtype}); digit tests need exact amounts. "
            "Convert with auditray.je.digits_amounts.money_from_float (rounds to the cent) or read the column as text."
        )
    elif dtype == pl.Null:
        units = pl.lit(None, dtype=pl.String)
    else:
        raise TypeError(f"column {column!r} of type {dtype} is not an amount (Decimal, integer or text)")
    return units, (col < 0).fill_null(False), pl.lit(False), col.abs() if dtype != pl.Null else col


def with_exact_amounts(frame: FrameT, amount: str) -> FrameT:
    """``frame`` with the integer-part text, the sign, the exact absolute amount and why an amount is not
    tested (null when it is)."""
    units, negative, invalid, absolute = exact_amount_exprs(amount, frame.collect_schema()[amount])
    return frame.with_columns(units.alias(UNITS), negative.alias(NEGATIVE), invalid.alias(REASON),
                              absolute.alias(ABSOLUTE)).with_columns(
        pl.when(pl.col(REASON))
        .then(pl.lit(INVALID))
        .when(pl.col(UNITS).is_null())
        .then(pl.lit(MISSING))
        # Nigrini's floor: amounts below 10 have no second digit and are excluded from every test.
        .when(pl.col(UNITS).str.len_bytes() < 2)
        .then(pl.lit(BELOW_FLOOR))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(REASON)
    )


def invalid_amounts(values: pl.Series, *, decimal_comma: bool = False) -> list[tuple[int, str]]:
    """(0-based index, value) of every text value that is not a decimal amount."""
    if values.dtype != pl.String:
        return []
    _, _, invalid, _ = text_amount_exprs("v", decimal_comma=decimal_comma)
    frame = pl.DataFrame({"v": values}).with_row_index("i").filter(invalid)
    return list(zip(frame["i"].to_list(), frame["v"].to_list(), strict=True))


def parse_amount_text(values: pl.Series, *, decimal_comma: bool = False) -> ParsedAmounts:
    """Integer parts and signs of text amounts, parsed exactly; see :func:`text_amount_exprs`."""
    units, negative, invalid, _ = text_amount_exprs("v", decimal_comma=decimal_comma)
    frame = pl.DataFrame({"v": values.cast(pl.String)}).select(
        units.alias("units"), negative.alias("negative"), invalid.alias("invalid")
    )
    return ParsedAmounts(frame["units"], frame["negative"], frame["invalid"])


def canonical_amount_text(values: pl.Series, *, decimal_comma: bool = False) -> pl.Series:
    """Text amounts rewritten as plain ``-1234.56`` (no separators, sign in front), exactly.

    Values that are not amounts are kept as they are, so the digit tests still report them; blanks
    become null.
    """
    _, negative, invalid, absolute = text_amount_exprs("v", decimal_comma=decimal_comma)
    text = pl.col("v")
    blank = text.is_null() | (text.str.strip_chars() == "")
    canonical = (
        pl.when(blank).then(None)
        .when(invalid).then(text)
        .otherwise(pl.concat_str([pl.when(negative).then(pl.lit("-")).otherwise(pl.lit("")), pl.lit("0"), absolute]))
    )
    return pl.DataFrame({"v": values.cast(pl.String)}).select(canonical.alias(values.name)).to_series()


def money_from_float(values: pl.Series) -> pl.Series:
    """Floats rounded to the nearest cent, as exact Decimal(18,2).

    For a column that was money at two decimals before it became a float, rounding ``x * 100`` to
    the nearest integer recovers the cents exactly while ``|x|`` stays below about 10^13: the float
    error is far below half a cent. ``99.99999999999999`` becomes 100.00, as the writer meant.
    """
    cents = (values.cast(pl.Float64) * 100).round(0).cast(pl.Int64)
    return pl.select(cents_to_money(pl.lit(cents))).to_series().cast(MONEY_DTYPE).alias(values.name)
