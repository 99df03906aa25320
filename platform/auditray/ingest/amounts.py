"""Money text to exact ``Decimal(18, 2)``, never through floats.

Exports write amounts as ``1,234.56``, ``(1,234.56)``, ``$1,234.56``, ``1.234,56-`` (SAP's trailing
minus with a German decimal comma) or ``1 234,56 EUR``. The text is normalised to ``-1234.56`` with
string operations and only then cast. Polars' text-to-Decimal cast silently drops digits beyond the
scale ("1.234" -> 1.23), so more than two significant decimals are refused before the cast; trailing
zeros ("1.2300") lose nothing and are accepted.

Which character is the decimal separator is decided once per file from unambiguous values
("12,50", "1.234,56", "1,234.56"); values like "1.234" alone do not reveal it, and are read by the
profile's convention (SAP: decimal comma), which the report then states.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from auditray.contract.money import MONEY_DTYPE

# Integer digits that fit Decimal(18, 2).
MAX_INTEGER_DIGITS = 16
BAD, TOO_PRECISE, TOO_LARGE = "!bad", "!decimals", "!large"

_CURRENCY_SYMBOLS = r"[$€£¥₹]"
# An ISO 4217 code counts only when a space separates it from the number ("USD 99.90", "1 234,56 EUR").
_CURRENCY_CODE_EDGES = r"^\s*[A-Z]{3}\s+|\s+[A-Z]{3}\s*$"
_MINUS = r"[-\u2212]"

# The body of a number once sign and currency are gone, per convention: thousands groups optional.
_BODY = {
    False: r"^(?:\d{1,3}(?:[,']\d{3})+|\d*)(?:\.\d*)?$",
    True: r"^(?:\d{1,3}(?:[.']\d{3})+|\d*)(?:,\d*)?$",
}
_DECIMALS = {False: r"\.(\d*)$", True: r",(\d*)$"}
_THOUSANDS = {False: r"[,']", True: r"[.']"}

# A separator is a decimal one when it is followed by other than three digits, preceded by four
# digits or a lone zero, or after the other separator; thousands separators may repeat.
COMMA_EVIDENCE = r",\d{1,2}$|,\d{4,}$|\d{4,},\d*$|^0,|\.\d{3},|\..*\."
POINT_EVIDENCE = r"\.\d{1,2}$|\.\d{4,}$|\d{4,}\.\d*$|^0\.|,\d{3}\.|,.*,"
AMBIGUOUS = r"^[1-9]\d{0,2}[.,]\d{3}$"


@dataclass(frozen=True)
class MoneyText:
    """A value split into what it says about sign and the digits that remain."""

    body: pl.Expr
    parentheses: pl.Expr
    leading_minus: pl.Expr
    trailing_minus: pl.Expr
    leading_plus: pl.Expr


def split_money_text(raw: pl.Expr) -> MoneyText:
    """Strip currency, parentheses, spaces and signs, remembering the signs."""
    text = raw.str.replace_all(_CURRENCY_CODE_EDGES, "")
    parentheses = text.str.contains(r"^\(.*\)$")
    text = text.str.replace(r"^\((.*)\)$", "${1}").str.replace_all(_CURRENCY_CODE_EDGES, "")
    text = text.str.replace_all(_CURRENCY_SYMBOLS, "").str.replace_all(r"\s", "")
    leading_minus = text.str.contains(f"^{_MINUS}")
    leading_plus = text.str.starts_with("+")
    trailing_minus = text.str.contains(f".{_MINUS}$")
    body = text.str.replace(f"^(?:{_MINUS}|\\+)", "").str.replace(f"{_MINUS}$", "")
    return MoneyText(body, parentheses, leading_minus, trailing_minus, leading_plus)


def separator_evidence(raw: pl.Expr, prefix: str) -> list[pl.Expr]:
    """Counts of values that only a decimal comma, only a decimal point, or neither explains."""
    body = split_money_text(raw).body
    return [
        body.str.contains(COMMA_EVIDENCE).sum().alias(f"{prefix}comma"),
        body.str.contains(POINT_EVIDENCE).sum().alias(f"{prefix}point"),
        body.str.contains(AMBIGUOUS).sum().alias(f"{prefix}ambiguous"),
        pl.when(body.str.contains(AMBIGUOUS)).then(raw).drop_nulls().first().alias(f"{prefix}example"),
    ]


def choose_decimal_comma(comma: int, point: int, default: bool) -> tuple[bool, str]:
    """Decimal comma or point for the file, and why: evidence when one-sided, else the convention."""
    if comma and not point:
        return True, f"{comma} value(s) only read as numbers with a decimal comma (like 12,50 or 1.234,56)"
    if point and not comma:
        return False, f"{point} value(s) only read as numbers with a decimal point (like 12.50 or 1,234.56)"
    convention = "decimal comma" if default else "decimal point"
    if comma and point:
        return default, f"values show both conventions; read with the profile's {convention}"
    return default, f"the values do not show the decimal separator; read with the profile's {convention}"


def normalized_money_text(raw: pl.Expr, decimal_comma: bool) -> pl.Expr:
    """``-1234.56``-style text, or one of the markers BAD, TOO_PRECISE, TOO_LARGE; null stays null."""
    parts = split_money_text(raw)
    body = parts.body
    negatives = (parts.parentheses.cast(pl.Int8) + parts.leading_minus.cast(pl.Int8)
                 + parts.trailing_minus.cast(pl.Int8))
    shape_ok = body.str.contains(_BODY[decimal_comma]) & body.str.contains(r"\d")
    sign_ok = (negatives <= 1) & ~(parts.leading_plus & (negatives > 0))
    decimals = body.str.extract(_DECIMALS[decimal_comma], 1).fill_null("").str.replace(r"0+$", "")
    integer = _integer_part(body, decimal_comma).str.replace(r"^0+", "")
    text = (pl.when(negatives > 0).then(pl.lit("-")).otherwise(pl.lit(""))
            + pl.when(integer == "").then(pl.lit("0")).otherwise(integer)
            + pl.lit(".") + decimals)
    return (
        pl.when(raw.is_null()).then(pl.lit(None, pl.String))
        .when(~(shape_ok & sign_ok)).then(pl.lit(BAD))
        .when(decimals.str.len_chars() > 2).then(pl.lit(TOO_PRECISE))
        .when(integer.str.len_chars() > MAX_INTEGER_DIGITS).then(pl.lit(TOO_LARGE))
        .otherwise(text)
    )


def _integer_part(body: pl.Expr, decimal_comma: bool) -> pl.Expr:
    separator = "," if decimal_comma else r"\."
    return body.str.replace(f"{separator}\\d*$", "").str.replace_all(_THOUSANDS[decimal_comma], "")


def money_from_text(normalized: pl.Expr) -> pl.Expr:
    """The exact amount; null for markers. Safe: at most two decimals and 16 integer digits remain."""
    return (pl.when(normalized.str.starts_with("!")).then(pl.lit(None, pl.String)).otherwise(normalized)
            .cast(MONEY_DTYPE, strict=False))
