"""Date and time formats, inferred per column from all of its values.

A format is chosen for the whole column, never per value: "03/04/2024" must mean the same day in
every row. Formats come in families (ISO, compact ``20240131``, German ``31.01.2024``, US
``01/31/2024``, day-first ``31/01/2024``, month names); a family includes its date-time variants, so a
column mixing Excel date cells ("2024-01-31 00:00:00") and typed text ("2024-01-31") still reads.
When both the US and the day-first family read every value, the values cannot tell; the profile's
convention decides (QuickBooks, NetSuite: US; SAP: day first) and the report says so, or, with no
convention, the column is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

import polars as pl

from auditray.ingest.headers import DateOrder

_TIMES = ("%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I:%M:%S%p", "%I:%M%p")


def _with_times(*dates: str, separators: tuple[str, ...] = (" ",)) -> tuple[str, ...]:
    """Each date pattern followed by its date-time variants; date-time first so times are kept."""
    patterns: list[str] = []
    for date in dates:
        patterns.extend(f"{date}{sep}{time}" for sep in separators for time in _TIMES)
        patterns.append(date)
    return tuple(patterns)


@dataclass(frozen=True)
class DateFamily:
    """Patterns that never disagree about a value; ``order`` marks the US/day-first ambiguity."""

    name: str
    example: str
    patterns: tuple[str, ...]
    order: DateOrder | None = None


FAMILIES: tuple[DateFamily, ...] = (
    # A trailing "Z" (UTC, as APIs write it) is read as the wall-clock time it states.
    DateFamily("iso", "2024-01-31",
               ("%Y-%m-%dT%H:%M:%S%.fZ", *_with_times("%Y-%m-%d", separators=(" ", "T")), "%Y/%m/%d")),
    DateFamily("compact", "20240131", ("%Y%m%d%H%M%S", "%Y%m%d")),
    # DIN 5008 / SAP German user settings: day.month.year.
    DateFamily("dotted", "31.01.2024", _with_times("%d.%m.%y", "%d.%m.%Y")),
    # Two-digit years first: "%Y" would read "24" as the year 24.
    DateFamily("us", "01/31/2024", _with_times("%m/%d/%y", "%m/%d/%Y", "%m-%d-%Y"), order="us"),
    DateFamily("day_first", "31/01/2024", _with_times("%d/%m/%y", "%d/%m/%Y", "%d-%m-%Y"), order="eu"),
    DateFamily("month_name", "31 Jan 2024", _with_times(
        "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d %b %y")),
)

TIME_PATTERNS = ("%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%H%M%S", "%I:%M:%S %p", "%I:%M %p")
ALL_TIME_PATTERNS = TIME_PATTERNS + FAMILIES[0].patterns

# Dates outside these years are typos (or Excel's 1899 time-only epoch), not postings.
MIN_YEAR, MAX_YEAR = 1900, 2199
_SAMPLE = 2000


@dataclass(frozen=True)
class DateChoice:
    """The patterns chosen for a column, why, and whether its values carry a time of day."""

    patterns: tuple[str, ...]
    family: str
    parsed: int
    total: int
    has_time: bool
    note: str | None = None
    ambiguous: bool = False

    @property
    def describe(self) -> str:
        if self.family == "explicit":
            return self.patterns[0]
        family = next(f for f in FAMILIES if f.name == self.family)
        return f"{family.name}, like {family.example}"


def parse_datetime(raw: pl.Expr, patterns: Sequence[str]) -> pl.Expr:
    """The first pattern that reads each value; null where none does."""
    attempts = [raw.str.to_datetime(p, strict=False, time_unit="us") for p in patterns]
    return attempts[0] if len(attempts) == 1 else pl.coalesce(attempts)


def parse_time(raw: pl.Expr, patterns: Sequence[str] = ALL_TIME_PATTERNS) -> pl.Expr:
    """Times as ``10:30:00``, ``103000`` (SAP CPUTM), ``10:30 PM`` or inside a date-time text (Excel
    time cells arrive as ``1899-12-31 10:30:00``); ``patterns`` as chosen by ``infer_time_format``."""
    attempts = [raw.str.to_datetime(p, strict=False, time_unit="us").dt.time() if _has_date(p)
                else raw.str.to_time(p, strict=False) for p in patterns]
    return attempts[0] if len(attempts) == 1 else pl.coalesce(attempts)


def _has_date(pattern: str) -> bool:
    return any(d in pattern for d in ("%Y", "%y", "%m", "%d", "%b", "%B"))


def infer_time_format(values: pl.Series) -> tuple[str, ...]:
    """The time patterns some distinct value needs, in preference order."""
    remaining = pl.DataFrame({"v": values})
    used: list[str] = []
    for pattern in ALL_TIME_PATTERNS:
        if remaining.is_empty():
            break
        mask = remaining.select(parse_time(pl.col("v"), (pattern,)).is_not_null()).to_series()
        if mask.any():
            used.append(pattern)
            remaining = remaining.filter(~mask)
    return tuple(used) or TIME_PATTERNS[:1]


def _count_parsed(values: pl.Series, patterns: Sequence[str]) -> int:
    frame = pl.DataFrame({"v": values})
    return frame.select(parse_datetime(pl.col("v"), patterns).is_not_null().sum()).item()


def _used_patterns(values: pl.Series, patterns: Sequence[str]) -> tuple[str, ...]:
    """Only the patterns some value needs, so millions of rows are not tried against all of them."""
    remaining = pl.DataFrame({"v": values})
    used = []
    for pattern in patterns:
        if remaining.is_empty():
            break
        mask = remaining.select(parse_datetime(pl.col("v"), (pattern,)).is_not_null()).to_series()
        if mask.any():
            used.append(pattern)
            remaining = remaining.filter(~mask)
    return tuple(used) or tuple(patterns[-1:])


def _has_time_of_day(values: pl.Series, patterns: Sequence[str]) -> bool:
    frame = pl.DataFrame({"v": values})
    parsed = frame.select(parse_datetime(pl.col("v"), patterns).alias("d")).to_series()
    return bool((parsed.dt.time() != time(0)).any()) if parsed.len() else False


def infer_date_format(values: pl.Series, *, column: str, order: DateOrder | None,
                      order_origin: str = "") -> DateChoice:
    """Choose the family that reads every distinct value (or the most of them).

    ``values`` are the column's distinct non-null texts. Families are tried on a sample first and
    only the leaders are checked against every value.
    """
    total = values.len()
    if total == 0:
        return DateChoice(FAMILIES[0].patterns, "iso", 0, 0, False)
    sample = values.head(_SAMPLE)
    sample_hits = {f.name: _count_parsed(sample, f.patterns) for f in FAMILIES}
    top = max(sample_hits.values())
    leaders = [f for f in FAMILIES if sample_hits[f.name] == top and top > 0] or [FAMILIES[0]]
    full = {f.name: (sample_hits[f.name] if total <= _SAMPLE else _count_parsed(values, f.patterns))
            for f in leaders}
    best = max(full.values())
    winners = [f for f in leaders if full[f.name] == best]
    note = None
    ambiguous = False
    if len(winners) > 1 and {w.order for w in winners} >= {"us", "eu"}:
        if order is None:
            ambiguous = True
            chosen = winners[0]
        else:
            chosen = next(w for w in winners if w.order == order)
            shown = "month/day/year" if order == "us" else "day/month/year"
            note = (f"column {column!r}: every date reads both month-first and day-first; read as {shown}, "
                    f"the {order_origin or 'configured'} convention")
    else:
        chosen = winners[0]
    patterns = _used_patterns(values, chosen.patterns)
    has_time = _has_time_of_day(values, patterns)
    return DateChoice(patterns, chosen.name, best, total, has_time, note, ambiguous)


def explicit_date_format(values: pl.Series, pattern: str) -> DateChoice:
    """A format the mapping file fixed: no inference, every value must match it."""
    parsed = _count_parsed(values, (pattern,)) if values.len() else 0
    has_time = _has_time_of_day(values, (pattern,)) if values.len() else False
    return DateChoice((pattern,), "explicit", parsed, values.len(), has_time)
