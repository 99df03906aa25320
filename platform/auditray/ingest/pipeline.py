"""Ingest one client file: recognise its columns, validate every cell, stage canonical Parquet.

The steps, each a pass the report can explain:

1. open the file as text columns with spreadsheet row numbers (``sources``);
2. decide which column feeds each field from a profile or mapping file (``plan``);
3. survey the values: date formats, decimal separator, row counts (``build.survey``);
4. one lazy query converts every field and flags every bad cell, sunk to a scratch Parquet file;
5. count flags, list offending cells, look for duplicate keys; reject with everything found, or
6. rewrite the scratch file with the exact contract schema into a new staged directory.

A rejected file leaves nothing behind: all writing happens under temporary names inside
``staging_dir`` and only a complete, valid dataset is renamed into place.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from auditray.contract import SCHEMA_VERSION, TableContract, contract_for
from auditray.ingest.build import Check, build_canonical, internal_names, survey
from auditray.ingest.headers import header_score, normalize_header
from auditray.ingest.layout import (
    SKIP,
    footer_flag,
    name_blank_first_column,
    quickbooks_ledger_rows,
    title_period_end,
)
from auditray.ingest.mapping import ColumnMapping, MappingError, load_mapping
from auditray.ingest.plan import IngestPlan, PeriodHint, plan_ingest
from auditray.ingest.report import ERROR_KINDS, IngestError, Issue, ValidationReport
from auditray.ingest.sources import ROW, SourceError, SourceTable, open_source

MappingLike = str | Path | Mapping[str, Any] | ColumnMapping
PART_NAME = "part-00000.parquet"
# A ledger is stored in files of about this many lines, each cut between two journals: the engines then read
# files that hold disjoint ranges of journals as partitions (``auditray.engine.key_disjoint_groups``), one
# task or bucket per group, without a shuffle.
DATASET_FILE_ROWS = 1_000_000
_BATCH_ROWS = 128 * 1024
_DUPLICATE_ROWS_NAMED = 10


@dataclass(frozen=True)
class StagedDataset:
    """A validated canonical dataset in its own new directory, ready for the store to adopt."""

    path: Path
    kind: str
    rows: int
    schema_version: str
    content_sha256: str
    source_sha256: str
    source_name: str
    profile: str
    report: ValidationReport


def stage(path: str | Path, kind: str, *, staging_dir: str | Path, mapping: MappingLike | None = None,
          entity_id: str | None = None, profile: str | None = None, max_errors: int = 1000,
          period_end: date | str | None = None, fiscal_year: int | None = None,
          period: int | None = None) -> StagedDataset:
    """Validate ``path`` as ``kind`` and write canonical zstd Parquet into a new directory under
    ``staging_dir``. Raises ``IngestError`` with the full report, leaving nothing behind, when any
    cell or column is wrong.

    ``period_end`` (a date or ISO text), ``fiscal_year`` and ``period`` say which period a trial
    balance without such columns closes; without them the date the report's title names ("As of
    December 31, 2025") is used, fiscal year and period assuming a calendar year (with a warning).

    >>> staged = stage("gl.csv", "gl_detail", staging_dir="staging", entity_id="US01")  # doctest: +SKIP
    """
    source_path = Path(path)
    contract = contract_for(kind)
    root = Path(staging_dir)
    root.mkdir(parents=True, exist_ok=True)
    pending = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    pending.chmod(0o755)  # mkdtemp makes it private; a staged dataset is for the store to read
    try:
        with _workdir(root) as work:
            scratch, report = _ingest(source_path, kind, work, mapping, entity_id, profile, max_errors,
                                      _hint(period_end, fiscal_year, period))
            write_contract_parquet(scratch, pending / PART_NAME, contract, file_rows=DATASET_FILE_ROWS)
        source_sha = file_sha256(source_path)
        content_sha = content_sha256(pending)
        final = root / f"{kind}-{_slug(source_path.stem)}-{source_sha[:12]}-{uuid.uuid4().hex[:8]}"
        pending.rename(final)
    except BaseException:
        shutil.rmtree(pending, ignore_errors=True)
        raise
    return StagedDataset(
        path=final,
        kind=kind,
        rows=report.rows,
        schema_version=SCHEMA_VERSION,
        content_sha256=content_sha,
        source_sha256=source_sha,
        source_name=source_path.name,
        profile=report.profile or "",
        report=report,
    )


def validate_source(path: str | Path, kind: str, *, mapping: MappingLike | None = None,
                    entity_id: str | None = None, profile: str | None = None,
                    max_errors: int = 1000, period_end: date | str | None = None,
                    fiscal_year: int | None = None, period: int | None = None) -> ValidationReport:
    """The report ``stage`` would produce, without writing a dataset; never raises ``IngestError``."""
    with _workdir(None) as work:
        try:
            _, report = _ingest(Path(path), kind, work, mapping, entity_id, profile, max_errors,
                                _hint(period_end, fiscal_year, period))
        except IngestError as exc:
            return exc.report
    return report


def read_source(path: str | Path, kind: str, *, mapping: MappingLike | None = None,
                entity_id: str | None = None, profile: str | None = None,
                period_end: date | str | None = None, fiscal_year: int | None = None,
                period: int | None = None) -> pl.DataFrame:
    """The canonical rows in memory (for notebooks and small files); raises ``IngestError``."""
    contract = contract_for(kind)
    with _workdir(None) as work:
        scratch, _ = _ingest(Path(path), kind, work, mapping, entity_id, profile, 1000,
                             _hint(period_end, fiscal_year, period))
        target = work / "canonical.parquet"
        write_contract_parquet(scratch, target, contract)
        return pl.read_parquet(target)


def _hint(period_end: date | str | None, fiscal_year: int | None, period: int | None) -> PeriodHint:
    if isinstance(period_end, str):
        period_end = date.fromisoformat(period_end.strip())  # ValueError names the bad text
    return PeriodHint(period_end=period_end, fiscal_year=fiscal_year, period=period)


@contextmanager
def _workdir(parent: Path | None) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix=".ingest-work-", dir=parent))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ingest(path: Path, kind: str, work: Path, mapping: MappingLike | None, entity_id: str | None,
            profile: str | None, max_errors: int,
            hint: PeriodHint | None = None) -> tuple[Path, ValidationReport]:
    """Steps 1-5: the scratch canonical Parquet file and the report, or ``IngestError``."""
    contract = contract_for(kind)
    report = ValidationReport(source=path.name, kind=kind, max_listed=max_errors)
    try:
        column_mapping = load_mapping(mapping) if mapping is not None else ColumnMapping()
        column_mapping.check_fields(kind)
    except MappingError as exc:
        report.add(Issue("bad_mapping", str(exc), file=path.name))
        raise IngestError(report) from None

    try:
        source = open_source(path, _scorer(column_mapping, kind), workdir=work,
                             delimiter=column_mapping.delimiter, encoding=column_mapping.encoding,
                             sheet=column_mapping.sheet, header_row=column_mapping.header_row)
    except (SourceError, ValueError) as exc:
        report.add(Issue("unreadable_file", str(exc), file=path.name))
        raise IngestError(report) from None
    for note in source.notes:
        report.warn(note)
    source, blank_note = name_blank_first_column(source)
    if blank_note:
        report.warn(blank_note)
    hint = hint or PeriodHint()
    titled = title_period_end(source.preamble, column_mapping.date_order)
    if titled is not None:
        when, row, text = titled
        hint = replace(hint, title_date=when, title_origin=f"the report title on row {row} ({text!r})")

    try:
        plan = plan_ingest(source.headers, kind, report, mapping=column_mapping, entity_id=entity_id,
                           profile=profile, duplicate_headers=source.duplicate_headers, period=hint)
    except ValueError as exc:  # an unknown profile name
        report.add(Issue("bad_mapping", str(exc), file=path.name))
        raise IngestError(report) from None
    report.mapping = plan.describe()

    footer = footer_flag(source.headers, plan.columns)
    if kind == "gl_detail" and plan.profile == "quickbooks":
        money = [c for m in plan.money.values() for c in m.columns]
        source, notes = quickbooks_ledger_rows(source, plan.columns, money, footer,
                                               account_header_was_blank=blank_note is not None)
        for note in notes:
            report.warn(note)
        if SKIP in source.frame.collect_schema().names():
            footer = pl.col(SKIP)
        plan = _with_journal_fallback(plan)
    try:
        found = survey(source, plan, report, footer)
    except pl.exceptions.PolarsError as exc:
        report.add(Issue("unreadable_file", _read_failure(path, source, exc), file=path.name))
        raise IngestError(report) from None
    if plan.unused:
        report.warn("columns not loaded: " + ", ".join(plan.unused))

    canonical = build_canonical(source, plan, found, footer)
    report.mapping = canonical.mapping
    scratch = work / "scratch.parquet"
    frame = canonical.frame.select(
        ROW, *contract.names, *[c.flag for c in canonical.checks], *_offending_values(canonical.checks))
    try:
        frame.sink_parquet(scratch, compression="lz4")
    except pl.exceptions.PolarsError as exc:
        report.add(Issue("unreadable_file", _read_failure(path, source, exc), file=path.name))
        raise IngestError(report) from None

    report.rows = pl.scan_parquet(scratch).select(pl.len()).collect().item()
    if found.rows - found.footers > report.rows:
        report.warn(f"{found.rows - found.footers - report.rows} blank row(s) skipped")
    if report.rows == 0:
        report.add(Issue("empty_file", "the file has headers but no data rows" if source.headers
                         else "the file is empty", file=path.name))
    _collect_cell_issues(scratch, canonical.checks, report)
    if _key_is_checkable(plan, contract):
        _collect_duplicate_keys(scratch, plan, contract, report)
    report.errors.sort(key=lambda issue: (issue.row or 0, issue.column or ""))
    if not report.ok:
        raise IngestError(report)
    return scratch, report


def _with_journal_fallback(plan: IngestPlan) -> IngestPlan:
    """QuickBooks leaves Num blank on deposits, expenses and transfers; such a transaction's journal
    id is its Transaction Type and Date ("Deposit 01/05/2025"), so its lines still group together."""
    parts = tuple(plan.columns[f] for f in ("document_type", "effective_date") if f in plan.columns)
    if "journal_id" not in plan.columns or len(parts) != 2:
        return plan
    return replace(plan, journal_id_fallback=parts)


def _scorer(mapping: ColumnMapping, kind: str):
    """A mapping file recognises its own column names; otherwise the profiles do."""
    if mapping.columns:
        wanted = {normalize_header(c) for c in mapping.columns.values()}
        return lambda cells: sum(1 for c in cells if normalize_header(c) in wanted)
    return lambda cells: header_score([str(c) for c in cells], kind)


def _offending_values(checks: Sequence[Check]) -> list[pl.Expr]:
    """Raw text of a cell, kept only on rows where one of its checks failed: the scratch file stays
    small on a clean file yet the report can quote every bad value."""
    flags_by_column: dict[str, list[str]] = {}
    for check in checks:
        if check.value is not None:
            flags_by_column.setdefault(check.value, []).append(check.flag)
    return [pl.when(pl.any_horizontal(flags)).then(pl.col(column)).alias(f"__v{column}")
            for column, flags in flags_by_column.items()]


def _collect_cell_issues(scratch: Path, checks: Sequence[Check], report: ValidationReport) -> None:
    if not checks:
        return
    flags = [c.flag for c in checks]
    frame = pl.scan_parquet(scratch)
    totals = frame.select([pl.col(f).sum() for f in flags]).collect().row(0, named=True)
    if not any(totals.values()):
        return
    values = sorted({f"__v{c.value}" for c in checks if c.value is not None})
    flagged = (frame.filter(pl.any_horizontal(flags)).select(ROW, *flags, *values)
               .collect())
    issues: list[Issue] = []
    error_totals: dict[str, int] = {}
    for check in checks:
        total = totals[check.flag] or 0
        if not total:
            continue
        if check.warning:
            report.warn(f"{total} row(s), column {check.column!r}: {check.message}")
            continue
        error_totals[check.kind] = error_totals.get(check.kind, 0) + total
        rows = flagged.filter(pl.col(check.flag)).head(report.max_listed)
        value_column = f"__v{check.value}" if check.value is not None else None
        for record in rows.iter_rows(named=True):
            issues.append(Issue(check.kind, check.message, file=report.source, row=record[ROW],
                                column=check.column,
                                value=record[value_column] if value_column else None))
    report.extend(issues, error_totals)


def _key_is_checkable(plan: IngestPlan, contract: TableContract) -> bool:
    """Derived line numbers are unique by construction; a key needs all its parts to compare."""
    if plan.kind == "gl_detail" and plan.derive_line_number:
        return False
    return all(k in plan.columns or k in plan.constants for k in contract.key)


def _collect_duplicate_keys(scratch: Path, plan: IngestPlan, contract: TableContract,
                            report: ValidationReport) -> None:
    key = list(contract.key)
    frame = pl.scan_parquet(scratch)
    # Millions of keys are compared by 64-bit hash first, which needs little memory; only rows whose
    # hash repeats are then grouped by the real key, so a hash collision cannot fake a duplicate.
    key_hash = pl.struct(key).hash().alias("__key_hash")
    repeated = (frame.select(key_hash).group_by("__key_hash").agg(pl.len().alias("n"))
                .filter(pl.col("n") > 1).collect(engine="streaming"))
    if repeated.is_empty():
        return
    groups = (frame.filter(key_hash.is_in(repeated["__key_hash"].implode())).select(ROW, *key).drop_nulls(key)
              .group_by(key).agg(pl.col(ROW).sort().alias("rows"), pl.len().alias("n"))
              .filter(pl.col("n") > 1).sort(pl.col("rows").list.first()).collect())
    if groups.is_empty():
        return
    columns = ", ".join(plan.columns[k] for k in key if k in plan.columns)
    issues: list[Issue] = []
    total = 0
    for group in groups.iter_rows(named=True):
        rows: list[int] = group["rows"]
        total += len(rows)
        shown_key = ", ".join(f"{k}={group[k]!r}" for k in key)
        value = " / ".join(str(group[k]) for k in key if k in plan.columns)
        for row in rows[: report.max_listed]:
            others = [r for r in rows if r != row]
            named = ", ".join(str(r) for r in others[:_DUPLICATE_ROWS_NAMED])
            if len(others) > _DUPLICATE_ROWS_NAMED:
                named += f" and {len(others) - _DUPLICATE_ROWS_NAMED} more"
            issues.append(Issue("duplicate_key", f"duplicate key ({shown_key}), also on row(s) {named}",
                                file=report.source, row=row, column=columns, value=value))
    report.extend(issues, {"duplicate_key": total})


def _read_failure(path: Path, source: SourceTable, exc: BaseException) -> str:
    """Polars says "found more fields than defined in 'Schema'" without a row; find the row."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if source.scanned is not None and source.delimiter is not None and "more fields" in message:
        row = _first_ragged_row(source.scanned, source.delimiter, len(source.headers), source.header_row)
        if row is not None:
            return (f"row {row} has more cells than the {len(source.headers)} headers "
                    f"(a stray delimiter, or a report footer)")
    return f"cannot read the file: {message}"


def _first_ragged_row(path: Path, delimiter: str, width: int, header_row: int) -> int | None:
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            for number, row in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
                if number > header_row and len(row) > width:
                    return number
    except (csv.Error, OSError):
        return None
    return None


def write_contract_parquet(scratch: Path, target: Path, contract: TableContract, *,
                           file_rows: int | None = None) -> None:
    """Rewrite the scratch file with exactly ``contract.schema`` (types, nullability, metadata), zstd.

    Polars cannot write Arrow's ``string`` type or non-nullable fields, so pyarrow casts batch by
    batch; memory stays at one batch however large the ledger. With ``file_rows``, a general ledger goes on
    into a next file (part-00001.parquet, ... beside ``target``) once a file holds that many lines, at the
    first batch boundary that falls between two journals: no journal spans two files. Its row groups do not
    mix entities either, so that each one's key range in the footer is tight.
    """
    schema = contract.schema
    target.parent.mkdir(parents=True, exist_ok=True)
    parquet = pq.ParquetFile(scratch)
    split = ["entity_id", "journal_id"] if file_rows and contract.kind == "gl_detail" else None
    writer = pq.ParquetWriter(target, schema, compression="zstd")
    rows, parts, last = 0, 1, None
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=contract.names):
            table = pa.Table.from_batches([batch]).cast(schema)
            if split and file_rows and rows >= file_rows and table.num_rows:
                first = tuple(table.column(k)[0].as_py() for k in split)
                if first != last:
                    writer.close()
                    writer = pq.ParquetWriter(target.parent / f"part-{parts:05d}.parquet", schema, compression="zstd")
                    rows, parts = 0, parts + 1
            for piece in _by_entity(table) if split else (table,):
                writer.write_table(piece)
            rows += table.num_rows
            if split and table.num_rows:
                last = tuple(table.column(k)[-1].as_py() for k in split)
    finally:
        writer.close()


def _by_entity(table: pa.Table) -> list[pa.Table]:
    """The batch in runs of one entity (nearly always one run: a ledger is exported entity by entity)."""
    entity = table.column("entity_id")
    if pc.count_distinct(entity).as_py() <= 1:
        return [table]
    values = entity.to_pylist()
    starts = [0] + [i for i in range(1, len(values)) if values[i] != values[i - 1]] + [len(values)]
    return [table.slice(a, b - a) for a, b in pairwise(starts)]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def content_sha256(directory: Path) -> str:
    """SHA-256 over the dataset's Parquet files' bytes, in sorted file order."""
    digest = hashlib.sha256()
    for file in sorted(directory.rglob("*.parquet")):
        with file.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40] or "source"


__all__ = ["ERROR_KINDS", "StagedDataset", "content_sha256", "file_sha256", "internal_names", "read_source",
           "stage", "validate_source", "write_contract_parquet"]
