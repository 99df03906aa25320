"""Reading trial balances in any format ingestion accepts, and writing results without half-written files."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from auditray.tb.mapping import MAPPED_COLUMNS


def _with_constants(mapping: Any, constants: dict[str, Any]) -> Any:
    """Add constants (entity, fiscal year, period) to a mapping; columns in the file still win."""
    if not constants:
        return mapping
    from auditray.ingest import load_mapping

    if mapping is None:
        return {"constants": constants}
    parsed = load_mapping(mapping)
    return dataclasses.replace(parsed, constants={**{k: str(v) for k, v in constants.items()}, **parsed.constants})


def is_mapped(path: str | Path) -> bool:
    """True for a file this package wrote (Parquet with the mapping columns)."""
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        return False
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    return {"fsli", "needs_review"} <= names


def read_trial_balance(
    path: str | Path,
    *,
    mapping: Any = None,
    entity_id: str | None = None,
    fiscal_year: int | None = None,
    period: int | None = None,
    period_end: str | None = None,
) -> pl.DataFrame:
    """Canonical trial-balance rows from any file ingestion accepts (``auditray.ingest.read_source``).

    A mapped trial balance written by ``auditray tb map`` is read as it is, mapping columns included.
    ``fiscal_year`` and ``period`` fill those fields for exports that do not carry them (a QuickBooks or
    Xero trial balance report); raises ``IngestError`` with the file's row/column report otherwise.
    """
    if is_mapped(path):
        return pl.read_parquet(path)
    from auditray.ingest import read_source

    constants = {k: v for k, v in (("fiscal_year", fiscal_year), ("period", period)) if v is not None}
    return read_source(path, "trial_balance", mapping=_with_constants(mapping, constants), entity_id=entity_id,
                       period_end=period_end)


def read_chart(path: str | Path, *, mapping: Any = None, entity_id: str | None = None) -> pl.DataFrame:
    """The client's chart of accounts (its ``account_type`` narrows the mapping)."""
    from auditray.ingest import read_source

    return read_source(path, "chart_of_accounts", mapping=mapping, entity_id=entity_id)


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    # Exact decimals as their plain text, so a spreadsheet never sees a float.
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.String))


def write_table(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as Parquet, CSV or JSON (by suffix) via a temporary file renamed into place."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".json"):
        raise ValueError(f"{path.name}: write .parquet, .csv or .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if suffix == ".parquet":
            frame.write_parquet(scratch)
        elif suffix == ".csv":
            _csv_ready(frame).write_csv(scratch)
        else:
            _csv_ready(frame).write_json(scratch)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return path


def mapped_columns() -> list[str]:
    return list(MAPPED_COLUMNS)
