"""Exact money arithmetic on polars columns.

Amounts live as ``Decimal(18, 2)``. Polars keeps the left operand's scale on division, so cents
become money by widening to scale 2 first and dividing by 100 exactly; never through floats.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from auditray.contract.schemas import MONEY_SCALE

MONEY_DTYPE = pl.Decimal(18, MONEY_SCALE)
# Sums of many amounts need headroom beyond 18 digits.
MONEY_SUM_DTYPE = pl.Decimal(38, MONEY_SCALE)
_HUNDRED = pl.lit(Decimal(100)).cast(MONEY_SUM_DTYPE)


def cents_to_money(cents: pl.Expr) -> pl.Expr:
    """Integer cents to exact money: 12345 -> 123.45."""
    return (cents.cast(MONEY_SUM_DTYPE) / _HUNDRED).cast(MONEY_DTYPE)


def money_to_cents(money: pl.Expr) -> pl.Expr:
    """Exact money to integer cents: 123.45 -> 12345."""
    return (money.cast(MONEY_SUM_DTYPE) * _HUNDRED).cast(pl.Int64)


def money_sum(money: pl.Expr) -> pl.Expr:
    """Exact sum with room for totals beyond 18 digits."""
    return money.cast(MONEY_SUM_DTYPE).sum()
