"""The population a sample is drawn from: read, validated, put in canonical order and fingerprinted.

A selection can only be re-performed if the population is pinned down. Every population is
identified by its key columns (one row per item) and its amount column, held exactly as integer
cents, and put in *canonical order*: ascending by the key columns, byte-wise, whatever order the
client's files listed it in. Its SHA-256 fingerprint is taken over that canonical order:

    "auditray-population-v1\\n", then per item: key values as text, then the amount with two
    decimals ("-1234.50"), separated by U+001F and ended by "\\n"

so the same items and amounts give the same fingerprint however the files were split or sorted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from auditray.contract.money import MONEY_DTYPE, cents_to_money
from auditray.sampling.errors import PopulationError

CENTS = "__cents"
FILE = "__file"
ROW = "__row"
HASH_PREFIX = b"auditray-population-v1\n"
# Columns recognised when the caller names none: canonical GL lines, then common population listings.
DEFAULT_KEYS: tuple[tuple[str, ...], ...] = (
    ("entity_id", "journal_id", "line_number"),
    ("entity_id", "gl_account_number", "fiscal_year", "period"),
    ("item_id",),
    ("item",),
    ("key",),
    ("id",),
    ("invoice",),
    ("document_number",),
)
DEFAULT_AMOUNTS = ("amount", "book_value", "closing_balance", "balance", "value")
_HASH_CHUNK = 500_000


@dataclass
class Population:
    """Items in canonical order with exact amounts; ``frame`` also keeps the source's other columns."""

    frame: pl.DataFrame
    key_columns: tuple[str, ...]
    amount_column: str
    source: str
    sha256: str
    files: list[str] = field(default_factory=list)
    # Totals computed elsewhere (the Ray engine keeps the items in its object store, not in ``frame``).
    stats: dict[str, int] | None = None

    @property
    def size(self) -> int:
        return self.stats["items"] if self.stats is not None else self.frame.height

    def describe(self) -> dict:
        stats = self.stats if self.stats is not None else population_stats(self.frame)
        return describe_population(self.source, self.files, self.sha256, self.key_columns, self.amount_column, stats)


def population_stats(frame: pl.DataFrame) -> dict[str, int]:
    """Counts and exact totals of a frame with cents; blocks' stats add up to the population's."""
    cents = pl.col(CENTS)
    row = frame.select(
        pl.len().alias("items"),
        cents.sum().alias("net_cents"),
        (cents > 0).sum().alias("positive_items"),
        pl.when(cents > 0).then(cents).otherwise(0).sum().alias("positive_cents"),
        (cents == 0).sum().alias("zero_items"),
        (cents < 0).sum().alias("negative_items"),
        pl.when(cents < 0).then(cents).otherwise(0).sum().alias("negative_cents"),
    ).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def describe_population(source: str, files: list[str], sha256: str, keys: Sequence[str], amount: str,
                        stats: dict[str, int]) -> dict:
    """What the documentation says about a population: where it came from, its fingerprint, its totals."""
    return {
        "source": source,
        "files": files,
        "sha256": sha256,
        "items": stats["items"],
        "key_columns": list(keys),
        "amount_column": amount,
        "canonical_order": "ascending by the text of " + ", ".join(keys) + " (byte-wise)",
        "net_amount": format_cents(stats["net_cents"]),
        "positive_items": stats["positive_items"],
        "positive_amount": format_cents(stats["positive_cents"]),
        "zero_items": stats["zero_items"],
        "negative_items": stats["negative_items"],
        "negative_amount": format_cents(stats["negative_cents"]),
    }


def format_cents(cents: int) -> str:
    """Integer cents as an exact amount string: -123456 -> "-1234.56"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def format_money(cents: int) -> str:
    """Integer cents for people: 123456789 -> "1,234,567.89"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def _source_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    items = [source] if isinstance(source, (str, Path)) else list(source)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".parquet", ".csv"))
            if not found:
                raise PopulationError([(str(path), None, None, "the directory holds no Parquet or CSV files")])
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise PopulationError([(str(path), None, None, "no such file")])
    return files


def _columns_of(path: Path) -> list[str]:
    try:
        if path.suffix.lower() == ".parquet":
            return list(pl.scan_parquet(path).collect_schema().names())
        return list(pl.read_csv(path, n_rows=0, infer_schema=False, encoding="utf8-lossy").columns)
    except (pl.exceptions.PolarsError, OSError) as unreadable:
        raise PopulationError([(str(path), None, None, f"cannot read the file: {unreadable}")]) from None


def _read_file(path: Path, columns: Sequence[str] | None = None) -> pl.DataFrame:
    suffix = path.suffix.lower()
    wanted = None if columns is None else list(columns)
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path, columns=wanted)
            first_row = 1
        elif suffix in (".csv", ".txt"):
            # Everything as text: amounts are parsed exactly below, keys keep their leading zeros.
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", columns=wanted)
            first_row = 2  # a CSV row is named by its file line; the header is line 1
        else:
            raise PopulationError([(str(path), None, None, "expected a .parquet or .csv population file")])
    except (pl.exceptions.PolarsError, OSError) as unreadable:
        raise PopulationError([(str(path), None, None, f"cannot read the file: {unreadable}")]) from None
    return frame.with_columns(
        pl.lit(str(path)).alias(FILE),
        pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64).alias(ROW),
    )


def choose_columns(
    columns: Sequence[str], keys: Sequence[str] | None, amount: str | None, *, where: str, need_amount: bool = True
) -> tuple[tuple[str, ...], str | None]:
    """The key and amount columns: as named, or the first recognised defaults."""
    present = set(columns)
    if keys:
        missing = [k for k in keys if k not in present]
        if missing:
            raise PopulationError([(where, None, k, f"key column not found (columns: {', '.join(columns)})")
                                   for k in missing])
        chosen_keys = tuple(keys)
    else:
        found = next((combo for combo in DEFAULT_KEYS if all(c in present for c in combo)), None)
        if found is None:
            raise PopulationError([(where, None, None, ("no key column recognised; name the item key with --key "
                                    f"(columns: {', '.join(columns)})"))])
        chosen_keys = found
    if amount:
        if amount not in present:
            raise PopulationError([(where, None, amount, f"amount column not found (columns: {', '.join(columns)})")])
        return chosen_keys, amount
    found_amount = next((c for c in DEFAULT_AMOUNTS if c in present), None)
    if found_amount is None and need_amount:
        raise PopulationError([(where, None, None, ("no amount column recognised; name it with --amount "
                                f"(columns: {', '.join(columns)})"))])
    return chosen_keys, found_amount


def cents_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """Exact integer cents from an amount column of any exact type; null where it is not an amount.

    Text and decimals are parsed as text ("1,234.50", "(12.00)", "-7"); at most two decimals unless
    the rest are zeros. Integers are whole currency units. Floats are refused before this point.
    """
    if dtype.is_integer():
        return (pl.col(column).cast(pl.Int64) * 100).alias(CENTS)
    if isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= 2:
        # Whole cents already: widen to scale 2 and shift, exactly (the canonical contract's money).
        return (pl.col(column).cast(pl.Decimal(38, 2)) * pl.lit(100, pl.Decimal(38, 0))).cast(pl.Int64).alias(CENTS)
    text = pl.col(column).cast(pl.String).str.strip_chars().str.replace_all(",", "")
    text = pl.when(text.str.starts_with("(") & text.str.ends_with(")")).then(
        pl.lit("-") + text.str.slice(1, text.str.len_chars() - 2)
    ).otherwise(text)
    valid = text.str.contains(r"^-?\d{1,16}(\.\d{1,2}0*)?$")
    negative = text.str.starts_with("-")
    digits = text.str.strip_prefix("-")
    whole = digits.str.extract(r"^(\d+)", 1).cast(pl.Int64)
    fraction = digits.str.extract(r"\.(\d{1,2})", 1).fill_null("").str.pad_end(2, "0").cast(pl.Int64)
    magnitude = whole * 100 + fraction
    return pl.when(valid).then(pl.when(negative).then(-magnitude).otherwise(magnitude)).alias(CENTS)


def prepare(frame: pl.DataFrame, keys: tuple[str, ...], amount: str, *, where: str) -> pl.DataFrame:
    """Add exact cents, refuse missing keys, bad or float amounts and duplicate keys, sort canonically."""
    dtype = frame.schema[amount]
    if dtype.is_float():
        raise PopulationError([(where, None, amount, (f"amounts are stored as {dtype} (binary floating point); "
                                "money must be exact: store it as a decimal or as text"))])
    has_position = FILE in frame.columns
    if not has_position:
        frame = frame.with_columns(pl.lit(where).alias(FILE), pl.int_range(1, frame.height + 1).alias(ROW))
    frame = frame.with_columns(cents_expr(amount, dtype))
    problems: list[tuple[str, int | None, str | None, str]] = []
    for key in keys:
        for file, row in frame.filter(pl.col(key).is_null()).select(FILE, ROW).head(20).iter_rows():
            problems.append((file, row, key, "the item key is missing"))
        # The fingerprint separates fields with U+001F and items with newlines; NUL orders the keys on Ray.
        unsafe = frame.filter(pl.col(key).cast(pl.String).str.contains("[\x00\x1f\n\r]"))
        for file, row in unsafe.select(FILE, ROW).head(20).iter_rows():
            problems.append((file, row, key, "the item key contains a control character (NUL, U+001F or a line break)"))
    bad = frame.filter(pl.col(CENTS).is_null())
    for file, row, value in bad.select(FILE, ROW, pl.col(amount).cast(pl.String)).head(20).iter_rows():
        shown = "missing" if value is None else f"{value!r} is not an amount with at most two decimals"
        problems.append((file, row, amount, shown))
    if problems:
        raise PopulationError(problems)
    duplicated = frame.filter(pl.struct(keys).is_duplicated()).sort([*keys, FILE, ROW])
    if duplicated.height:
        for record in duplicated.head(20).iter_rows(named=True):
            shown = ", ".join(f"{k}={record[k]!r}" for k in keys)
            problems.append((record[FILE], record[ROW], None,
                             (f"the key ({shown}) is not unique: each item must appear once; name a unique key "
                             "with --key")))
        raise PopulationError(problems)
    return canonical_sort(frame, keys)


def key_text(keys: Sequence[str]) -> list[pl.Expr]:
    """The key columns as text: what canonical order compares and the fingerprint records."""
    return [pl.col(k).cast(pl.String) for k in keys]


def canonical_sort(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Canonical order: ascending by the keys' text, byte-wise, so typed (Parquet) and text (CSV) copies
    of one population sort alike (line 10 after line 1, before line 2)."""
    return frame.sort(key_text(keys))


def canonical_lines(frame: pl.DataFrame, keys: Sequence[str]) -> pl.Series:
    """One text line per item (keys, then the amount with two decimals), in the frame's order."""
    cents = pl.col(CENTS)
    magnitude = cents.abs()
    amount_text = (
        pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        + (magnitude // 100).cast(pl.String)
        + pl.lit(".")
        + (magnitude % 100).cast(pl.String).str.zfill(2)
    )
    parts = [*key_text(keys), amount_text]
    return frame.select(pl.concat_str(parts, separator="\x1f").alias("line")).to_series()


def update_fingerprint(hasher, frame: pl.DataFrame, keys: Sequence[str]) -> None:
    """Feed ``frame`` (already in canonical order) to a SHA-256 hasher, chunk by chunk."""
    for start in range(0, frame.height, _HASH_CHUNK):
        lines = canonical_lines(frame.slice(start, _HASH_CHUNK), keys)
        hasher.update(("\n".join(lines.to_list()) + "\n").encode("utf-8"))


def fingerprint(frame: pl.DataFrame, keys: Sequence[str]) -> str:
    """SHA-256 of the population in canonical order (see the module docstring for the exact bytes)."""
    hasher = hashlib.sha256(HASH_PREFIX)
    update_fingerprint(hasher, frame, keys)
    return hasher.hexdigest()


def load_population(
    source: str | Path | Sequence[str | Path] | pl.DataFrame,
    *,
    keys: Sequence[str] | None = None,
    amount: str | None = None,
    label: str | None = None,
    columns: Sequence[str] | None = (),
) -> Population:
    """Read a population (CSV or Parquet files, a directory of them, or a frame) ready for selection.

    Only the key and amount columns are read, plus ``columns`` (e.g. a risk score); ``columns=None``
    keeps every column of the source.
    """
    if isinstance(source, pl.DataFrame):
        frame, files, where = source, [], label or "population"
    else:
        paths = _source_files(source)
        wanted = None
        if columns is not None:
            present = _columns_of(paths[0])
            chosen_keys, chosen_amount = choose_columns(present, keys, amount, where=label or str(paths[0]))
            wanted = list(dict.fromkeys([*chosen_keys, chosen_amount, *[c for c in columns if c in present]]))
            missing = [c for c in columns if c not in present]
            if missing:
                raise PopulationError([(str(paths[0]), None, c, "column not found") for c in missing])
        frames = [_read_file(p, wanted) for p in paths]
        try:
            frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
        except pl.exceptions.PolarsError as mismatch:
            raise PopulationError([(str(paths[0].parent), None, None, f"the files do not share columns: {mismatch}")])
        files = [str(p) for p in paths]
        where = label or (files[0] if len(files) == 1 else str(Path(files[0]).parent))
    visible = [c for c in frame.columns if c not in (FILE, ROW)]
    chosen_keys, chosen_amount = choose_columns(visible, keys, amount, where=where)
    frame = prepare(frame, chosen_keys, chosen_amount, where=where)
    frame = frame.with_columns(cents_to_money(pl.col(CENTS)).alias(chosen_amount)
                               if frame.schema[chosen_amount] != MONEY_DTYPE else pl.col(chosen_amount))
    return Population(frame=frame, key_columns=chosen_keys, amount_column=chosen_amount, source=where,
                      sha256=fingerprint(frame, chosen_keys), files=files)
