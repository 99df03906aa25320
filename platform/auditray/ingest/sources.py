"""Reading CSV, Parquet and Excel files as text columns that remember their spreadsheet row.

Everything is read as text first (``infer_schema=False``): type inference on a sample would guess
"int" for account numbers and drop their leading zeros, or "float" for amounts. Every frame carries
``__row``, the row a spreadsheet user would see (header = row 1, first data row = row 2; Excel: the
sheet row; Parquet: the 1-based record number), so every error can point at a cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

ROW = "__row"
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
SUPPORTED_SUFFIXES = CSV_SUFFIXES | PARQUET_SUFFIXES | EXCEL_SUFFIXES

_DELIMITERS = (",", ";", "\t", "|")
_HEADER_SEARCH_ROWS = 30
_SNIFF_BYTES = 256 * 1024
_CHUNK = 1 << 20

# Scores a candidate header row: how many of its cells name something we know.
HeaderScorer = Callable[[Sequence[str]], int]


class SourceError(Exception):
    """The file cannot be read at all (unsupported type, corrupt, missing sheet)."""


@dataclass(frozen=True)
class SourceTable:
    """A source file as text columns plus ``__row``; ``headers`` as the file spells them."""

    frame: pl.LazyFrame
    headers: tuple[str, ...]
    name: str
    file_format: str
    header_row: int = 1
    sheet: str | None = None
    duplicate_headers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # CSV only: the UTF-8 file actually scanned and its delimiter, to locate malformed rows.
    scanned: Path | None = None
    delimiter: str | None = None
    # The report title rows above the headers ("Trial Balance", "As of December 31, 2025"), as
    # (spreadsheet row, non-empty cells): they may name the period the file covers.
    preamble: tuple[tuple[int, tuple[str, ...]], ...] = ()


def open_source(path: Path, scorer: HeaderScorer, *, workdir: Path, delimiter: str | None = None,
                encoding: str | None = None, sheet: str | None = None,
                header_row: int | None = None) -> SourceTable:
    """Open ``path`` lazily by its suffix; ``scorer`` finds the header row below any report title."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise SourceError(f"{path} does not exist or is not a file")
    if suffix in CSV_SUFFIXES:
        return open_csv(path, scorer, workdir=workdir, delimiter=delimiter, encoding=encoding,
                        header_row=header_row)
    if suffix in PARQUET_SUFFIXES:
        return open_parquet(path)
    if suffix in EXCEL_SUFFIXES:
        return open_excel(path, scorer, sheet=sheet, header_row=header_row)
    raise SourceError(f"{path.name}: unsupported file type {suffix or '(none)'}; "
                      f"expected one of {', '.join(sorted(SUPPORTED_SUFFIXES))}")


def as_text(frame: pl.LazyFrame, headers: Sequence[str]) -> pl.LazyFrame:
    """Trim every value and treat blank cells as missing, as a spreadsheet user would."""
    exprs = []
    for name in headers:
        value = pl.col(name).str.strip_chars()
        exprs.append(pl.when(value.str.len_bytes() == 0).then(None).otherwise(value).alias(name))
    return frame.with_columns(exprs)


# --- CSV -------------------------------------------------------------------------------------------


def open_csv(path: Path, scorer: HeaderScorer, *, workdir: Path, delimiter: str | None = None,
             encoding: str | None = None, header_row: int | None = None) -> SourceTable:
    notes: list[str] = []
    encoding, note = detect_encoding(path, encoding)
    if note:
        notes.append(note)
    readable = path
    if encoding != "utf-8":
        readable = transcode_to_utf8(path, encoding, workdir / f"{path.stem}.utf8.csv")
    sample = _sample_records_text(readable)
    delimiter, header_index = sniff_layout(sample, scorer, delimiter=delimiter, header_row=header_row)
    if header_index:
        notes.append(f"headers found on row {header_index + 1}; the {header_index} row(s) above were skipped")
    frame = pl.scan_csv(
        readable,
        separator=delimiter,
        infer_schema=False,
        skip_rows=header_index,
        row_index_name=ROW,
        row_index_offset=header_index + 2,
        raise_if_empty=False,
        encoding="utf8",
    )
    try:
        headers = tuple(n for n in frame.collect_schema().names() if n != ROW)
    except pl.exceptions.PolarsError as exc:
        raise SourceError(f"{path.name}: not a readable CSV file: {_first_line(exc)}") from None
    raw_header = _header_cells(sample, delimiter, header_index)
    duplicates = tuple(sorted({h for h in raw_header if raw_header.count(h) > 1}))
    return SourceTable(
        frame=as_text(frame.with_columns(pl.col(ROW).cast(pl.Int64)), headers),
        headers=headers,
        name=path.name,
        file_format="csv",
        header_row=header_index + 1,
        duplicate_headers=duplicates,
        notes=tuple(notes),
        scanned=readable,
        delimiter=delimiter,
        preamble=_preamble(_records(sample, delimiter, header_index), 1),
    )


def detect_encoding(path: Path, declared: str | None) -> tuple[str, str | None]:
    """UTF-8 unless declared, marked by a BOM, or invalid as UTF-8 (then Windows-1252, with a note).

    German SAP and older Windows exports are commonly Windows-1252; guessing silently would turn
    "Müller" into mojibake, so the fallback is reported.
    """
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise SourceError(f"unknown encoding {declared!r}") from None
        return ("utf-8" if name in ("utf-8", "utf-8-sig") else name), None
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", None
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252", (f"{path.name} is not valid UTF-8; read as Windows-1252 "
                              "(set encoding in a mapping file to override)")
    return "utf-8", None


def transcode_to_utf8(path: Path, encoding: str, target: Path) -> Path:
    """Polars reads UTF-8 only; other encodings are rewritten in chunks to a scratch copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("r", encoding=encoding, newline="") as src, target.open("w", encoding="utf-8",
                                                                               newline="") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name} is not valid {encoding}: {exc.reason} at byte {exc.start}") from None
    return target


def _sample_records_text(path: Path) -> str:
    with path.open("rb") as fh:
        data = fh.read(_SNIFF_BYTES)
        complete = len(data) < _SNIFF_BYTES
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not complete and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    return text


def _records(sample: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def sniff_layout(sample: str, scorer: HeaderScorer, *, delimiter: str | None = None,
                 header_row: int | None = None) -> tuple[str, int]:
    """The delimiter and the 0-based record holding the headers.

    The header row is the one whose cells the profiles (or the mapping) recognise best; a report
    title or date range above it is skipped. Without any recognised cell: the delimiter giving the
    most columns and the first row.
    """
    candidates = (delimiter,) if delimiter else _DELIMITERS
    best: tuple[int, int, str, int] | None = None
    for candidate in candidates:
        rows = _records(sample, candidate, _HEADER_SEARCH_ROWS)
        if not rows:
            continue
        if header_row is not None:
            index = min(header_row - 1, len(rows) - 1)
            score = scorer(rows[index])
        else:
            scores = [scorer(row) for row in rows]
            score = max(scores)
            index = scores.index(score) if score else 0
        key = (score, len(rows[index]), candidate, index)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return (delimiter or ",", (header_row or 1) - 1)
    return best[2], best[3]


def _preamble(rows: Sequence[Sequence[object]], first_row: int) -> tuple[tuple[int, tuple[str, ...]], ...]:
    cells = ((first_row + i, tuple(str(c).strip() for c in row if c is not None and str(c).strip()))
             for i, row in enumerate(rows))
    return tuple((number, found) for number, found in cells if found)


def _header_cells(sample: str, delimiter: str, index: int) -> list[str]:
    rows = _records(sample, delimiter, index + 1)
    return rows[index] if len(rows) > index else []


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- Parquet ---------------------------------------------------------------------------------------


def open_parquet(path: Path) -> SourceTable:
    """Typed Parquet columns become text so one parser serves every format; floats keep their
    shortest round-trip text, so a stored 0.1 reads as "0.1", not 0.1000000000000000055."""
    try:
        frame = pl.scan_parquet(path, row_index_name=ROW, row_index_offset=1)
        schema = frame.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise SourceError(f"{path.name}: not a readable Parquet file: {_first_line(exc)}") from None
    headers = tuple(n for n in schema.names() if n != ROW)
    exprs = [pl.col(ROW).cast(pl.Int64)]
    notes = []
    for name in headers:
        dtype = schema[name]
        if dtype.is_nested():
            notes.append(f"column {name!r} holds {dtype} values and is read as empty")
            exprs.append(pl.lit(None, pl.String).alias(name))
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone:
            exprs.append(pl.col(name).dt.replace_time_zone(None).cast(pl.String))
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return SourceTable(
        frame=as_text(frame.with_columns(exprs), headers),
        headers=headers,
        name=path.name,
        file_format="parquet",
        header_row=0,
        notes=tuple(notes),
    )


# --- Excel -----------------------------------------------------------------------------------------


def open_excel(path: Path, scorer: HeaderScorer, *, sheet: str | None = None,
               header_row: int | None = None) -> SourceTable:
    """Read a sheet through fastexcel (calamine) as text; dates arrive as ISO text, numbers as the
    shortest text that round-trips, so an amount typed as 0.1 is "0.1"."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError as exc:
        raise SourceError(f"{path.name}: not a readable Excel workbook: {_first_line(exc)}") from None
    names = list(reader.sheet_names)
    if sheet is not None and sheet not in names:
        raise SourceError(f"{path.name} has no sheet {sheet!r}; sheets: {', '.join(names)}")
    candidates = [sheet] if sheet else names
    exact_rows = path.suffix.lower() in (".xlsx", ".xlsm")
    offsets = {name: (_xlsx_first_used_row(path, name) if exact_rows else None) or 1 for name in candidates}
    probes = {name: _probe_rows(reader, name) for name in candidates}
    chosen, index = _choose_sheet(probes, scorer, {
        name: None if header_row is None else header_row - offsets[name] for name in candidates})
    if index < 0:
        raise SourceError(f"{path.name}, sheet {chosen!r}: header_row {header_row} is above the first "
                          f"used row ({offsets[chosen]})")
    try:
        frame = reader.load_sheet(chosen, header_row=index, dtypes="string").to_polars()
    except fastexcel.FastExcelError as exc:
        raise SourceError(f"{path.name}, sheet {chosen!r}: {_first_line(exc)}") from None
    first_used = offsets[chosen]
    notes = []
    if not exact_rows:
        notes.append("row numbers count from the first non-empty row of the sheet")
    if len(names) > 1 and sheet is None:
        notes.append(f"read sheet {chosen!r} of {', '.join(repr(n) for n in names)}")
    headers = tuple(str(c) for c in frame.columns)
    frame = frame.with_row_index(ROW, offset=first_used + index + 1).with_columns(pl.col(ROW).cast(pl.Int64))
    return SourceTable(
        frame=as_text(frame.lazy(), headers),
        headers=headers,
        name=path.name,
        file_format="excel",
        header_row=first_used + index,
        sheet=chosen,
        notes=tuple(notes),
        preamble=_preamble(probes[chosen][:index], first_used),
    )


def _probe_rows(reader, sheet: str) -> list[list[str]]:
    import fastexcel

    try:
        probe = reader.load_sheet(sheet, header_row=None, n_rows=_HEADER_SEARCH_ROWS, dtypes="string")
    except fastexcel.FastExcelError:
        return []
    return [[c if c is not None else "" for c in row] for row in probe.to_polars().rows()]


def _choose_sheet(probes: dict[str, list[list[str]]], scorer: HeaderScorer,
                  header_index: dict[str, int | None]) -> tuple[str, int]:
    """The sheet and header row (0-based within the used range) the scorer likes best; a fixed
    header row is only checked, not searched for."""
    best: tuple[int, str, int] | None = None
    for name, rows in probes.items():
        fixed = header_index[name]
        if fixed is not None:
            candidate = (scorer(rows[fixed]) if 0 <= fixed < len(rows) else 0, name, fixed)
        elif not rows:
            candidate = (0, name, 0)
        else:
            scores = [scorer(row) for row in rows]
            top = max(scores)
            candidate = (top, name, scores.index(top) if top else 0)
        if best is None or candidate[0] > best[0]:
            best = candidate
    assert best is not None
    return best[1], best[2]


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _xlsx_first_used_row(path: Path, sheet: str) -> int | None:
    """The 1-based sheet row of the first cell holding a value.

    Calamine's range starts at the first used cell, not at A1, so sheet rows are that offset plus
    the position in the range. Read from the sheet XML, stopping at the first value.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rid = next(s.get(f"{_REL}id") for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == sheet)
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
            target = next(r.get("Target") for r in rels.iter(f"{_PKG_REL}Relationship") if r.get("Id") == rid)
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            row_number = 0
            with zf.open(member) as fh:
                for event, elem in ElementTree.iterparse(fh, events=("start", "end")):
                    if event == "start" and elem.tag == f"{_MAIN}row":
                        row_number = int(elem.get("r") or row_number + 1)
                    elif event == "end" and elem.tag == f"{_MAIN}c":
                        if elem.find(f"{_MAIN}v") is not None or elem.find(f"{_MAIN}is") is not None:
                            ref = elem.get("r")
                            return int(re.sub(r"^[A-Za-z$]+", "", ref)) if ref else row_number
                        elem.clear()
    except (KeyError, StopIteration, zipfile.BadZipFile, ElementTree.ParseError, ValueError):
        return None
    return None
