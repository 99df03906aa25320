"""Writing the ledger: one Parquet file per chunk, and optional CSV exports in client formats.

The exports exist to exercise ingestion: ``ads_csv`` follows the AICPA Audit Data Standard
(GL_Detail headers, an unsigned ``Amount`` with ``Amount_Credit_Debit_Indicator``), ``sap_csv``
looks like an SAP FI line-item download (BKPF/BSEG field names, dd.mm.yyyy dates, German decimal
comma, S/H debit-credit indicator, semicolon separated). Both are appended chunk by chunk.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from auditray.contract import GL_DETAIL
from auditray.contract.money import money_to_cents

PARQUET_OPTIONS = {"compression": "zstd"}
ADS_AMOUNT_INDICATOR = "Amount_Credit_Debit_Indicator"
SAP_COLUMNS = ("BUKRS", "BELNR", "GJAHR", "BUZEI", "MONAT", "BUDAT", "CPUDT", "CPUTM", "HKONT", "DMBTR", "SHKZG",
               "WAERS", "BKTXT", "SGTXT", "USNAM", "BLART", "TCODE", "STBLG")
# Transaction codes a SAP user would recognise for each source; manual entries are FB50.
SAP_TCODES = {"AP": "MIRO", "AR": "VF01", "CASH": "FF_5", "PAY": "PC00_M99_CIPE", "FA": "AFAB", "INV": "MIGO",
              "IC": "VF01", "GL": "FBD5", "ACCRUAL": "F.81", "CLOSE": "FBD5", "RECLASS": "FBD5"}
EXPORT_FILES = {"ads_csv": "gl_detail_ads.csv", "sap_csv": "gl_detail_sap.csv"}


def _digits(cents: pl.Expr, separator: str) -> pl.Expr:
    """Unsigned cents as text, exactly: 123456 -> "1234.56" (or "1234,56")."""
    return pl.concat_str([(cents // 100).cast(pl.String), pl.lit(separator),
                          (cents % 100).cast(pl.String).str.zfill(2)])


def ads_frame(table: pa.Table) -> pl.DataFrame:
    """GL lines in AICPA ADS GL_Detail layout: ADS headers, ISO dates, unsigned amounts with D/C."""
    df = pl.from_arrow(table)
    cents = money_to_cents(pl.col("amount"))
    columns = []
    for f in GL_DETAIL.fields:
        column = pl.col(f.name)
        if f.name == "amount":
            columns.append(_digits(cents.abs(), ".").alias(f.ads_name))
            columns.append(pl.when(cents < 0).then(pl.lit("C")).otherwise(pl.lit("D")).alias(ADS_AMOUNT_INDICATOR))
            continue
        if pa.types.is_date(f.type):
            column = column.dt.strftime("%Y-%m-%d")
        elif pa.types.is_time(f.type):
            column = column.dt.strftime("%H:%M:%S")
        elif pa.types.is_boolean(f.type):
            column = pl.when(column).then(pl.lit("1")).otherwise(pl.lit("0"))
        else:
            column = column.cast(pl.String)
        columns.append(column.alias(f.ads_name))
    return df.select(columns)


def sap_frame(table: pa.Table) -> pl.DataFrame:
    """GL lines as an SAP FI line-item download."""
    df = pl.from_arrow(table)
    cents = money_to_cents(pl.col("amount"))
    tcode = pl.col("source").replace_strict(SAP_TCODES, default="FB50")
    tcode = pl.when(pl.col("manual_entry")).then(pl.lit("FB50")).when(pl.col("document_type") == "KZ") \
        .then(pl.lit("F110")).otherwise(tcode)
    return df.select(
        pl.col("entity_id").alias("BUKRS"),
        pl.col("journal_id").alias("BELNR"),
        pl.col("fiscal_year").cast(pl.String).alias("GJAHR"),
        pl.col("line_number").cast(pl.String).str.zfill(3).alias("BUZEI"),
        pl.col("period").cast(pl.String).str.zfill(2).alias("MONAT"),
        pl.col("effective_date").dt.strftime("%d.%m.%Y").alias("BUDAT"),
        pl.col("entry_date").dt.strftime("%d.%m.%Y").alias("CPUDT"),
        pl.col("entry_time").dt.strftime("%H:%M:%S").alias("CPUTM"),
        pl.col("gl_account_number").alias("HKONT"),
        _digits(cents.abs(), ",").alias("DMBTR"),
        pl.when(cents < 0).then(pl.lit("H")).otherwise(pl.lit("S")).alias("SHKZG"),
        pl.col("amount_currency").alias("WAERS"),
        pl.col("je_header_description").alias("BKTXT"),
        pl.col("je_line_description").alias("SGTXT"),
        pl.col("entered_by").alias("USNAM"),
        pl.col("document_type").alias("BLART"),
        tcode.alias("TCODE"),
        pl.col("reversal_journal_id").alias("STBLG"),
    )


class LedgerWriter:
    """Writes chunks as they come; nothing of a chunk stays in memory once it is written."""

    def __init__(self, out_dir: Path, export_formats: tuple[str, ...] = ()) -> None:
        self.gl_dir = out_dir / "gl_detail"
        self.gl_dir.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []
        self.exports: dict[str, Path] = {}
        self._handles: dict[str, BinaryIO] = {}
        if export_formats:
            (out_dir / "exports").mkdir(exist_ok=True)
        for fmt in export_formats:
            path = out_dir / "exports" / EXPORT_FILES[fmt]
            self.exports[fmt] = path
            self._handles[fmt] = path.open("wb")
        self._header_written: set[str] = set()

    def write(self, part: int, table: pa.Table) -> Path:
        path = self.gl_dir / f"part-{part:05d}.parquet"
        pq.write_table(table, path, **PARQUET_OPTIONS)
        self.files.append(path)
        for fmt, handle in self._handles.items():
            frame = ads_frame(table) if fmt == "ads_csv" else sap_frame(table)
            frame.write_csv(handle, include_header=fmt not in self._header_written,
                            separator="," if fmt == "ads_csv" else ";")
            self._header_written.add(fmt)
        return path

    def close(self) -> None:
        for fmt, handle in self._handles.items():
            if fmt not in self._header_written:
                empty = ads_frame(GL_DETAIL.schema.empty_table()) if fmt == "ads_csv" else \
                    sap_frame(GL_DETAIL.schema.empty_table())
                empty.write_csv(handle, separator="," if fmt == "ads_csv" else ";")
            handle.close()
        self._handles.clear()
