"""Column types that keep money exact and time zone-aware on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PRECISION = 18
MONEY_SCALE = 2
_CENT = Decimal(1).scaleb(-MONEY_SCALE)
_MONEY_LIMIT = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)


def utc_now() -> datetime:
    """The current instant, time zone-aware in UTC: every timestamp in the store is one of these."""
    return datetime.now(UTC)


def to_money(value: Decimal | int | str) -> Decimal:
    """An exact amount with two decimals, or ValueError/TypeError.

    Floats are refused outright (0.1 has no exact binary form), and so are amounts with fractions of a
    cent: rounding evidence silently is worse than refusing it.
    """
    if isinstance(value, (bool, float)):
        raise TypeError(f"money must be a Decimal, int or str, not {type(value).__name__} ({value!r})")
    if not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"money must be a Decimal, int or str, not {type(value).__name__}")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    quantized = amount.quantize(_CENT)
    if quantized != amount:
        raise ValueError(f"{value!r} has fractions of a cent; amounts carry exactly {MONEY_SCALE} decimals")
    if abs(quantized) >= _MONEY_LIMIT:
        raise ValueError(f"{value!r} does not fit NUMERIC({MONEY_PRECISION},{MONEY_SCALE})")
    return quantized


class Money(TypeDecorator[Decimal]):
    """NUMERIC(18,2) on PostgreSQL; TEXT on SQLite, whose NUMERIC affinity would round-trip through float.

    On SQLite the text is the plain decimal string, so comparing or sorting money *in SQL* there is
    lexicographic: compare amounts in Python or polars, never in a WHERE clause.
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = to_money(value)
        return format(amount, "f") if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return to_money(value if isinstance(value, Decimal) else str(value))
