"""Ingestion, read as an auditor's checklist: every export format lands in the contract exactly,
and every bad cell is reported by file, row, column and value before anything is staged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from auditray.contract import CHART_OF_ACCOUNTS, GL_DETAIL, SCHEMA_VERSION, TRIAL_BALANCE
from auditray.ingest import (
    IngestError,
    StagedDataset,
    ValidationReport,
    describe_profiles,
    list_profiles,
    read_source,
    stage,
    validate_source,
)


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def staged_table(staged: StagedDataset) -> pa.Table:
    """The staged rows with the contract's types (Parquet keeps times in ms; the cast is exact)."""
    return pq.read_table(staged.path / "part-00000.parquet").cast(
        {"gl_detail": GL_DETAIL, "trial_balance": TRIAL_BALANCE,
         "chart_of_accounts": CHART_OF_ACCOUNTS}[staged.kind].schema)


def amounts(frame: pl.DataFrame) -> list[Decimal]:
    return frame["amount"].to_list()


def rejection(path: Path, kind: str = "gl_detail", **kwargs) -> ValidationReport:
    with pytest.raises(IngestError) as caught:
        read_source(path, kind, **kwargs)
    return caught.value.report


ADS_GL = """\
Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,JE_Header_Description,JE_Line_Description,Source,\
Fiscal_Year,Period,Effective_Date,Entry_Date,Entry_Time,GL_Account_Number,Amount,Amount_Credit_Debit_Indicator,\
Amount_Currency,Entered_By,Approved_By,Document_Type,Manual_Entry,Reversal_Indicator
US01,JE-1,1,January rent,Rent expense,GL,2024,1,2024-01-31,2024-02-01,22:15:00,6000,"1,234.56",D,USD,\
alice,bob,SA,Y,N
US01,JE-1,2,January rent,Cash,GL,2024,1,2024-01-31,2024-02-01,22:15:00,1000,"1,234.56",C,USD,\
alice,bob,SA,Y,N
US01,JE-2,1,Accrual,Utilities,GL,2024,1,2024-01-31,2024-01-31,09:00:00,6100,0.10,D,USD,carol,,SA,N,N
US01,JE-2,2,Accrual,Utilities,GL,2024,1,2024-01-31,2024-01-31,09:00:00,6100,0.20,D,USD,carol,,SA,N,N
US01,JE-2,3,Accrual,Accrued liabilities,GL,2024,1,2024-01-31,2024-01-31,09:00:00,2100,0.30,C,USD,carol,,SA,N,N
"""


# --- Profiles -------------------------------------------------------------------------------------


def test_ads_export_is_staged_with_the_contract_schema_and_signed_amounts(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", ADS_GL)
    staged = stage(source, "gl_detail", staging_dir=tmp_path / "staging")

    assert staged.profile == "ads"
    assert staged.rows == 5
    assert staged.kind == "gl_detail"
    assert staged.schema_version == SCHEMA_VERSION
    assert staged.source_name == "gl.csv"
    assert staged.path.parent == tmp_path / "staging"
    rows = staged_table(staged).to_pylist()
    assert [r["amount"] for r in rows] == [Decimal("1234.56"), Decimal("-1234.56"), Decimal("0.10"),
                                           Decimal("0.20"), Decimal("-0.30")]
    first = rows[0]
    assert first["entity_id"] == "US01"
    assert (first["journal_id"], first["line_number"]) == ("JE-1", 1)
    assert (first["fiscal_year"], first["period"]) == (2024, 1)
    assert first["effective_date"] == dt.date(2024, 1, 31)
    assert first["entry_date"] == dt.date(2024, 2, 1)
    assert first["entry_time"] == dt.time(22, 15)
    assert first["manual_entry"] is True and first["reversal_indicator"] is False
    assert first["approved_by"] == "bob" and rows[2]["approved_by"] is None


def test_staged_parquet_carries_the_contract_schema_metadata_and_zstd(tmp_path: Path) -> None:
    staged = stage(write(tmp_path, "gl.csv", ADS_GL), "gl_detail", staging_dir=tmp_path / "staging")
    files = sorted(staged.path.iterdir())
    assert [f.name for f in files] == ["part-00000.parquet"]
    schema = pq.read_schema(files[0])
    assert schema.metadata == GL_DETAIL.schema.metadata
    assert schema.names == GL_DETAIL.names
    for field in GL_DETAIL.schema:
        stored = schema.field(field.name)
        assert stored.nullable == field.nullable, field.name
        assert stored.type == field.type, field.name
    assert pq.ParquetFile(files[0]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_staged_hashes_identify_source_and_content(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", ADS_GL)
    first = stage(source, "gl_detail", staging_dir=tmp_path / "staging")
    second = stage(source, "gl_detail", staging_dir=tmp_path / "staging")

    assert first.source_sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    staged_bytes = (first.path / "part-00000.parquet").read_bytes()
    assert first.content_sha256 == hashlib.sha256(staged_bytes).hexdigest()
    assert first.path != second.path, "every staging gets a new directory"
    assert first.content_sha256 == second.content_sha256, "the same file stages to the same bytes"


def test_snake_case_canonical_headers_are_recognised_too(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "entity_id,journal_id,line_number,effective_date,gl_account_number,amount\n"
        "E1,J1,1,2024-03-01,1000,10.00\n"
        "E1,J1,2,2024-03-01,2000,-10.00\n"))
    frame = read_source(source, "gl_detail")
    assert amounts(frame) == [Decimal("10.00"), Decimal("-10.00")]


def test_header_matching_ignores_case_spaces_underscores_and_hyphens(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "BUSINESS UNIT CODE,journal-id,Journal ID Line Number,effective_date,Gl_Account-Number,AMOUNT\n"
        "E1,J1,1,2024-03-01,1000,10.00\n"))
    assert read_source(source, "gl_detail")["journal_id"].to_list() == ["J1"]


SAP_GL = (
    "BUKRS;BELNR;BUZEI;GJAHR;MONAT;BUDAT;CPUDT;CPUTM;HKONT;DMBTR;SHKZG;WAERS;BKTXT;SGTXT;USNAM;BLART;TCODE;STBLG\n"
    "1000;0100000001;001;2024;01;31.01.2024;01.02.2024;183000;0000400000;1.234,56;S;EUR;Miete Januar;Miete;"
    "MÜLLER;SA;FB50;\n"
    "1000;0100000001;002;2024;01;31.01.2024;01.02.2024;183000;0000113100;1.234,56-;H;EUR;Miete Januar;Bank;"
    "MÜLLER;SA;FB50;\n"
    "1000;0100000002;001;2024;02;29.02.2024;29.02.2024;071500;0000113100;0,10;H;EUR;Storno;;SCHMIDT;AB;FB08;"
    "0100000001\n"
    "1000;0100000002;002;2024;02;29.02.2024;29.02.2024;071500;0000400000;0,10;S;EUR;Storno;;SCHMIDT;AB;FB08;"
    "0100000001\n"
)


def test_sap_export_with_credit_indicator_becomes_negative_amounts(tmp_path: Path) -> None:
    source = write(tmp_path, "bseg.csv", SAP_GL)
    staged = stage(source, "gl_detail", staging_dir=tmp_path / "staging")
    rows = staged_table(staged).to_pylist()

    assert staged.profile == "sap"
    assert [r["amount"] for r in rows] == [Decimal("1234.56"), Decimal("-1234.56"), Decimal("-0.10"),
                                           Decimal("0.10")]
    assert rows[0]["journal_id"] == "0100000001", "document numbers keep their leading zeros"
    assert rows[0]["gl_account_number"] == "0000400000"
    assert rows[0]["line_number"] == 1 and rows[1]["line_number"] == 2
    assert rows[0]["effective_date"] == dt.date(2024, 1, 31), "dd.mm.yyyy"
    assert rows[2]["effective_date"] == dt.date(2024, 2, 29)
    assert rows[0]["entry_time"] == dt.time(18, 30), "CPUTM hhmmss"
    assert rows[0]["entity_id"] == "1000" and rows[0]["period"] == 1
    assert rows[0]["entered_by"] == "MÜLLER"
    assert rows[2]["reversal_journal_id"] == "0100000001"
    assert (rows[0]["source"], rows[0]["document_type"]) == ("FB50", "SA")
    assert any("decimal comma" in w for w in staged.report.warnings)


def test_sap_export_in_windows_1252_is_read_and_the_fallback_reported(tmp_path: Path) -> None:
    source = write(tmp_path, "bseg.csv", SAP_GL, encoding="cp1252")
    frame = read_source(source, "gl_detail")
    assert frame["entered_by"][0] == "MÜLLER"
    report = validate_source(source, "gl_detail")
    assert any("Windows-1252" in w for w in report.warnings)


def test_sap_yyyymmdd_dates_and_thousands_without_decimals_follow_sap_convention(tmp_path: Path) -> None:
    source = write(tmp_path, "bseg.csv", (
        "BUKRS;BELNR;BUZEI;BUDAT;HKONT;DMBTR;SHKZG\n"
        "1000;1;1;20240131;400000;1.234;S\n"
        "1000;1;2;20240131;113100;1.234;H\n"))
    frame = read_source(source, "gl_detail")
    assert frame["effective_date"].to_list() == [dt.date(2024, 1, 31)] * 2
    # "1.234" alone cannot show its separator; SAP's German convention reads it as 1234.
    assert amounts(frame) == [Decimal("1234.00"), Decimal("-1234.00")]
    report = validate_source(source, "gl_detail")
    assert any("decimal comma" in w and "'1.234'" in w for w in report.warnings)


QUICKBOOKS_JOURNAL = """\
Craig's Design and Landscaping Services
Journal
"January 1-31, 2024"

Date,Transaction Type,Num,Name,Memo/Description,Account,Debit,Credit,Created By,Created
01/05/2024,Invoice,1001,Cool Cars,Design work,1200 Accounts Receivable (A/R),"$1,050.00",,Craig,\
01/05/2024 09:15:22 AM
01/05/2024,Invoice,1001,Cool Cars,Design work,4000 Design income,,"$1,050.00",Craig,01/05/2024 09:15:22 AM
01/12/2024,Journal Entry,JE-7,,Accrual,6000 Rent or Lease,0.10,,Craig,01/31/2024 11:02:00 PM
01/12/2024,Journal Entry,JE-7,,Accrual,Utilities:Gas and Electric,0.20,,Craig,01/31/2024 11:02:00 PM
01/12/2024,Journal Entry,JE-7,,Accrual,2100 Accrued liabilities,,0.30,Craig,01/31/2024 11:02:00 PM
"""


def test_quickbooks_journal_with_debit_credit_columns_numbers_lines_in_file_order(tmp_path: Path) -> None:
    source = write(tmp_path, "journal.csv", QUICKBOOKS_JOURNAL)
    staged = stage(source, "gl_detail", staging_dir=tmp_path / "staging", entity_id="CRAIG")
    rows = staged_table(staged).to_pylist()

    assert staged.profile == "quickbooks"
    assert [r["journal_id"] for r in rows] == ["1001", "1001", "JE-7", "JE-7", "JE-7"], "Num: the journal id"
    assert [r["line_number"] for r in rows] == [1, 2, 1, 2, 3]
    assert [r["amount"] for r in rows] == [Decimal("1050.00"), Decimal("-1050.00"), Decimal("0.10"),
                                           Decimal("0.20"), Decimal("-0.30")]
    assert [r["gl_account_number"] for r in rows] == [
        "1200", "4000", "6000", "Utilities:Gas and Electric", "2100"]
    assert rows[0]["effective_date"] == dt.date(2024, 1, 5), "QuickBooks dates are month/day/year"
    assert rows[2]["entry_date"] == dt.date(2024, 1, 31)
    assert rows[2]["entry_time"] == dt.time(23, 2), "the Created date-time fills entry_time"
    assert rows[0]["document_type"] == "Invoice" and rows[0]["entered_by"] == "Craig"
    assert {r["entity_id"] for r in rows} == {"CRAIG"}
    assert rows[0]["fiscal_year"] is None and rows[0]["period"] is None, "not invented"
    report = staged.report
    assert report.mapping["line_number"].startswith("derived")
    assert any("headers found on row 5" in w for w in report.warnings)
    assert any("month/day/year" in w and "quickbooks" in w for w in report.warnings)
    assert any("no leading account number" in w for w in report.warnings)


def test_xero_journal_report_uses_account_code_and_debit_credit(tmp_path: Path) -> None:
    source = write(tmp_path, "xero.csv", (
        "Journal Number,Date,Source Type,Account Code,Account,Description,Reference,Debit,Credit,Net,Gross,"
        "Created Date\n"
        "101,31 Jan 2024,Receivable Invoice,610,Accounts Receivable,Consulting,INV-0001,115.00,,115.00,"
        "115.00,31 Jan 2024\n"
        "101,31 Jan 2024,Receivable Invoice,200,Sales,Consulting,INV-0001,,100.00,-100.00,-115.00,"
        "31 Jan 2024\n"
        "101,31 Jan 2024,Receivable Invoice,820,GST,Consulting,INV-0001,,15.00,-15.00,,31 Jan 2024\n"))
    staged = stage(source, "gl_detail", staging_dir=tmp_path / "staging", entity_id="NZ01")
    rows = staged_table(staged).to_pylist()

    assert staged.profile == "xero"
    assert [r["gl_account_number"] for r in rows] == ["610", "200", "820"]
    assert [r["amount"] for r in rows] == [Decimal("115.00"), Decimal("-100.00"), Decimal("-15.00")]
    assert rows[0]["source"] == "Receivable Invoice"
    assert rows[0]["je_header_description"] == "INV-0001"
    assert rows[0]["effective_date"] == dt.date(2024, 1, 31)
    assert rows[0]["entry_time"] is None, "a date-only Created column invents no time of day"
    assert "Gross" in staged.report.warnings[-1] or any("Gross" in w for w in staged.report.warnings)


def test_netsuite_export_takes_account_number_from_account_and_entity_from_subsidiary(tmp_path: Path) -> None:
    source = write(tmp_path, "netsuite.csv", (
        "Internal ID,Document Number,Date,Type,Account,Memo,Debit,Credit,Amount,Created By,Date Created,"
        "Subsidiary,Period\n"
        "4711,JE104,3/1/2024,Journal,1000 Cash : 1010 Checking,Payroll,,\"2,500.00\",\"-2,500.00\",Ann Lee,"
        "3/2/2024 6:45 pm,Parent : US Inc,Mar 2024\n"
        "4711,JE104,3/1/2024,Journal,6100 Payroll Expense,Payroll,\"2,500.00\",,\"2,500.00\",Ann Lee,"
        "3/2/2024 6:45 pm,Parent : US Inc,Mar 2024\n"))
    frame = read_source(source, "gl_detail")

    assert frame["journal_id"].to_list() == ["4711", "4711"], "Internal ID is unique per transaction"
    assert frame["gl_account_number"].to_list() == ["1010", "6100"]
    assert amounts(frame) == [Decimal("-2500.00"), Decimal("2500.00")]
    assert frame["entity_id"].to_list() == ["Parent : US Inc"] * 2
    assert frame["effective_date"][0] == dt.date(2024, 3, 1), "NetSuite dates are month/day/year"
    assert frame["entry_time"][0] == dt.time(18, 45)
    assert frame["period"].to_list() == [None, None], "'Mar 2024' is a period name, not a number"
    report = validate_source(source, "gl_detail")
    assert report.profile == "netsuite"


def test_profile_list_names_every_supported_export() -> None:
    names = [p.name for p in list_profiles()]
    assert names == ["ads", "sap", "quickbooks", "xero", "netsuite"]
    text = describe_profiles()
    for name in names:
        assert name in text
    assert all("gl_detail" in p.kinds for p in list_profiles())


# --- Other file formats ---------------------------------------------------------------------------


def test_parquet_input_with_typed_columns_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "gl.parquet"
    pl.DataFrame({
        "Journal_ID": ["J1", "J1", "J1"],
        "Journal_ID_Line_Number": [1, 2, 3],
        "Effective_Date": [dt.date(2024, 1, 31)] * 3,
        "Entry_Date": [dt.datetime(2024, 2, 1, 8, 30, 15)] * 3,
        "GL_Account_Number": [1000, 2000, 3000],
        "Amount": [0.1, 0.2, -0.3],
    }).write_parquet(path)
    frame = read_source(path, "gl_detail", entity_id="E1")

    assert amounts(frame) == [Decimal("0.10"), Decimal("0.20"), Decimal("-0.30")], "floats by shortest text"
    assert frame["amount"].sum() == Decimal("0.00")
    assert frame["gl_account_number"].to_list() == ["1000", "2000", "3000"]
    assert frame["entry_time"][0] == dt.time(8, 30, 15)


def test_parquet_decimal_amounts_with_extra_precision_are_rejected_not_rounded(tmp_path: Path) -> None:
    path = tmp_path / "gl.parquet"
    pl.DataFrame({
        "Journal_ID": ["J1", "J1"], "Journal_ID_Line_Number": [1, 2],
        "Effective_Date": [dt.date(2024, 1, 31)] * 2, "GL_Account_Number": ["1", "2"],
        "Amount": pl.Series([Decimal("1.2300"), Decimal("-1.2345")], dtype=pl.Decimal(18, 4)),
    }).write_parquet(path)
    report = rejection(path, entity_id="E1")
    assert report.counts == {"too_many_decimals": 1}
    assert (report.errors[0].row, report.errors[0].value) == (2, "-1.2345"), "Parquet: 1-based records"


def _excel(path: Path, rows: list[list], *, sheet: str = "GL", title: str | None = None,
           date_cells=()) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path)
    workbook.add_worksheet("Notes").write(0, 0, "prepared by client")
    sheet_ = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    start = 0
    if title:
        sheet_.write(0, 0, title)
        start = 2
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r, c) in date_cells:
                sheet_.write_datetime(start + r, c, value, date_format)
            elif value is not None:
                sheet_.write(start + r, c, value)
    workbook.close()
    return path


def test_excel_workbook_is_read_from_the_sheet_with_ledger_headers(tmp_path: Path) -> None:
    path = _excel(tmp_path / "gl.xlsx", [
        ["Journal_ID", "Journal_ID_Line_Number", "Effective_Date", "GL_Account_Number", "Amount"],
        ["J1", 1, dt.datetime(2024, 1, 31), "01000", 0.1],
        ["J1", 2, "2024-01-31", 2000, -0.1],
    ], title="Client GL FY2024", date_cells={(1, 2)})
    staged = stage(path, "gl_detail", staging_dir=tmp_path / "staging", entity_id="E1")
    rows = staged_table(staged).to_pylist()

    assert [r["amount"] for r in rows] == [Decimal("0.10"), Decimal("-0.10")]
    assert [r["effective_date"] for r in rows] == [dt.date(2024, 1, 31)] * 2, "date cells and ISO text"
    assert [r["gl_account_number"] for r in rows] == ["01000", "2000"], "text cells keep leading zeros"
    assert any("'GL'" in w for w in staged.report.warnings)


def test_excel_errors_point_at_the_sheet_row_the_auditor_sees(tmp_path: Path) -> None:
    path = _excel(tmp_path / "gl.xlsx", [
        ["Journal_ID", "Journal_ID_Line_Number", "Effective_Date", "GL_Account_Number", "Amount"],
        ["J1", 1, "2024-01-31", 1000, 10],
        ["J1", 2, "2024-01-31", 2000, 1.005],
    ], title="Client GL FY2024")
    report = rejection(path, entity_id="E1")
    # Title in row 1, headers in row 3: the second ledger line is sheet row 5.
    assert [(e.kind, e.row, e.column, e.value) for e in report.errors] == [
        ("too_many_decimals", 5, "Amount", "1.005")]


# --- Mapping files ---------------------------------------------------------------------------------

GERMAN_EXPORT = (
    "Beleg;Pos;Buchungsdatum;Konto;Betrag;S/H;Text\n"
    "4711;1;31.01.2024;4000;1.000,00;Soll;Miete\n"
    "4711;2;31.01.2024;1200;1.000,00;Haben;Miete\n"
    "4712;1;01.02.2024;4000;0,10;Soll;\n"
    "4712;2;01.02.2024;1200;0,10;Haben;\n"
)


def test_yaml_mapping_names_columns_no_profile_knows(tmp_path: Path) -> None:
    source = write(tmp_path, "buchungen.csv", GERMAN_EXPORT)
    mapping = write(tmp_path, "mapping.yaml", """\
kind: gl_detail
columns:
  journal_id: Beleg
  line_number: Pos
  effective_date: Buchungsdatum
  gl_account_number: Konto
  amount: Betrag
  amount_indicator: S/H
  je_line_description: Text
indicator_values: {debit: [Soll], credit: [Haben]}
date_format: "%d.%m.%Y"
decimal_comma: true
entity_id: DE01
delimiter: ";"
""")
    staged = stage(source, "gl_detail", staging_dir=tmp_path / "staging", mapping=mapping)
    rows = staged_table(staged).to_pylist()

    assert staged.profile == "mapping file mapping.yaml"
    assert [r["amount"] for r in rows] == [Decimal("1000.00"), Decimal("-1000.00"), Decimal("0.10"),
                                           Decimal("-0.10")]
    assert rows[2]["effective_date"] == dt.date(2024, 2, 1)
    assert {r["entity_id"] for r in rows} == {"DE01"}
    assert staged.report.mapping["amount"] == "Betrag signed by S/H"


def test_toml_mapping_with_debit_and_credit_columns_and_an_excel_sheet(tmp_path: Path) -> None:
    path = _excel(tmp_path / "ledger.xlsx", [
        ["Doc", "Booked", "Acct", "Dr", "Cr", "Company"],
        ["A-1", "2024-06-30", "1000", 250.5, None, "UK01"],
        ["A-1", "2024-06-30", "3000", None, 250.5, "UK01"],
    ], sheet="Ledger")
    mapping = write(tmp_path, "mapping.toml", """\
sheet = "Ledger"

[columns]
journal_id = "Doc"
effective_date = "Booked"
gl_account_number = "Acct"
amount_debit = "Dr"
amount_credit = "Cr"
entity_id = "Company"
""")
    frame = read_source(path, "gl_detail", mapping=mapping)
    assert amounts(frame) == [Decimal("250.50"), Decimal("-250.50")]
    assert frame["line_number"].to_list() == [1, 2]
    assert frame["entity_id"].to_list() == ["UK01", "UK01"]


def test_json_mapping_with_only_options_still_recognises_headers(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", ADS_GL.replace(",", "|").replace('"1|234.56"', "1234.56"))
    mapping = write(tmp_path, "options.json", json.dumps({"delimiter": "|"}))
    frame = read_source(source, "gl_detail", mapping=mapping)
    assert frame.height == 5 and frame["amount"].sum() == Decimal("0.00")


def test_mapping_that_names_a_column_the_file_lacks_is_an_error(tmp_path: Path) -> None:
    source = write(tmp_path, "buchungen.csv", GERMAN_EXPORT)
    mapping = {"columns": {"journal_id": "Belegnummer", "effective_date": "Buchungsdatum",
                           "gl_account_number": "Konto", "amount": "Betrag"},
               "decimal_comma": True, "entity_id": "DE01"}
    report = rejection(source, mapping=mapping)
    error = next(e for e in report.errors if e.kind == "mapping_column_not_found")
    assert error.column == "Belegnummer"
    assert "journal_id" in error.message and "Beleg" in error.message, "names the headers found"
    assert "missing_column" in report.counts, "journal_id is then missing too"


def test_mapping_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", ADS_GL)
    report = rejection(source, mapping={"columns": {"journal_number": "Journal_ID"}})
    assert report.counts == {"bad_mapping": 1}
    assert "journal_number" in str(report)


# --- Amounts ---------------------------------------------------------------------------------------

LINES = [("J1", "6000", "1234.56"), ("J1", "1000", "-1234.56"), ("J2", "6100", "0.10"),
         ("J2", "6200", "0.20"), ("J2", "2100", "-0.30")]


def _layout(kind: str) -> str:
    if kind == "signed":
        header = "Journal_ID,Effective_Date,GL_Account_Number,Amount\n"
        return header + "".join(f"{j},2024-01-31,{a},{v}\n" for j, a, v in LINES)
    if kind == "indicator":
        header = "Journal_ID,Effective_Date,GL_Account_Number,Amount,Amount_Credit_Debit_Indicator\n"
        return header + "".join(f"{j},2024-01-31,{a},{v.lstrip('-')},{'C' if v.startswith('-') else 'D'}\n"
                                for j, a, v in LINES)
    header = "Journal_ID,Effective_Date,GL_Account_Number,amount_debit,amount_credit\n"
    return header + "".join(
        f"{j},2024-01-31,{a},{'' if v.startswith('-') else v},{v.lstrip('-') if v.startswith('-') else ''}\n"
        for j, a, v in LINES)


def test_signed_indicator_and_debit_credit_layouts_give_identical_amounts(tmp_path: Path) -> None:
    results = {layout: amounts(read_source(write(tmp_path, f"{layout}.csv", _layout(layout)), "gl_detail",
                                           entity_id="E1"))
               for layout in ("signed", "indicator", "debit_credit")}
    expected = [Decimal(v) for _, _, v in LINES]
    assert results == {"signed": expected, "indicator": expected, "debit_credit": expected}


@pytest.mark.parametrize(("text", "expected"), [
    ("(1,234.56)", "-1234.56"),
    ("$1,234.56", "1234.56"),
    ("-$1,234.56", "-1234.56"),
    ("1,234.56-", "-1234.56"),
    ("USD 99.90", "99.90"),
    ("1234.5", "1234.50"),
    ("1.2300", "1.23"),
    ("0", "0.00"),
])
def test_amount_texts_of_common_exports_parse_exactly(tmp_path: Path, text: str, expected: str) -> None:
    source = write(tmp_path, "gl.csv",
                   f'Journal_ID,Effective_Date,GL_Account_Number,Amount\nJ1,2024-01-31,1,"{text}"\n')
    assert amounts(read_source(source, "gl_detail", entity_id="E1")) == [Decimal(expected)]


def test_tenths_and_hundredths_sum_exactly_never_through_floats(tmp_path: Path) -> None:
    entry = "J1,2024-01-31,6000,0.1\nJ1,2024-01-31,6100,0.2\nJ1,2024-01-31,2100,-0.3\n"
    lines = entry * 1000
    source = write(tmp_path, "gl.csv", "Journal_ID,Effective_Date,GL_Account_Number,Amount\n" + lines)
    frame = read_source(source, "gl_detail", entity_id="E1")

    assert 0.1 + 0.2 - 0.3 != 0, "floats would drift"
    assert frame["amount"].dtype == pl.Decimal(18, 2)
    assert frame["amount"].sum() == Decimal("0.00")
    assert frame.filter(pl.col("amount") > 0)["amount"].sum() == Decimal("300.00")


def test_more_than_two_decimal_places_is_rejected_not_rounded(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Journal_ID,Effective_Date,GL_Account_Number,Amount\n"
        "J1,2024-01-31,6000,1.234\n"
        "J1,2024-01-31,1000,-1.23\n"))
    report = rejection(source, entity_id="E1")
    assert report.counts == {"too_many_decimals": 1}
    error = report.errors[0]
    assert (error.file, error.row, error.column, error.value) == ("gl.csv", 2, "Amount", "1.234")


def test_negative_amount_with_debit_indicator_is_a_sign_conflict(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Journal_ID,Effective_Date,GL_Account_Number,Amount,Amount_Credit_Debit_Indicator\n"
        "J1,2024-01-31,6000,-5.00,D\n"
        "J1,2024-01-31,1000,-5.00,C\n"))
    report = rejection(source, entity_id="E1")
    assert [(e.kind, e.row, e.value) for e in report.errors] == [("sign_conflict", 2, "-5.00")]


# --- Dates -----------------------------------------------------------------------------------------


def test_day_month_order_that_values_cannot_tell_is_refused_without_a_convention(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Journal_ID,Effective_Date,GL_Account_Number,Amount\n"
        "J1,01/02/2024,6000,5.00\n"
        "J1,03/04/2024,1000,-5.00\n"))
    report = rejection(source, entity_id="E1")
    assert report.counts == {"ambiguous_date_format": 1}
    assert report.errors[0].column == "Effective_Date"
    frame = read_source(source, "gl_detail", entity_id="E1", mapping={"date_order": "eu"})
    assert frame["effective_date"].to_list() == [dt.date(2024, 2, 1), dt.date(2024, 4, 3)]


def test_one_unambiguous_date_settles_the_whole_column(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Journal_ID,Effective_Date,GL_Account_Number,Amount\n"
        "J1,01/02/2024,6000,5.00\n"
        "J1,25/02/2024,1000,-5.00\n"))
    frame = read_source(source, "gl_detail", entity_id="E1")
    assert frame["effective_date"].to_list() == [dt.date(2024, 2, 1), dt.date(2024, 2, 25)]


# --- Validation reports ---------------------------------------------------------------------------

MANY_ERRORS = """\
Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,GL_Account_Number,Amount,Amount_Credit_Debit_Indicator
US01,JE1,1,2024-01-31,1000,100.00,D
US01,JE1,2,2024-01-31,2000,100.00,C
US01,JE2,1,2024-02-30,1000,12.345,D
US01,JE2,2,2024-02-28,,abc,X
,JE3,1,2024-02-28,1000,5.00,D
US01,JE3,x,2024-02-28,1000,5.00,C
"""


def test_a_file_with_many_kinds_of_errors_reports_each_by_file_row_column_value(tmp_path: Path) -> None:
    report = rejection(write(tmp_path, "gl.csv", MANY_ERRORS))
    found = {(e.kind, e.row, e.column, e.value) for e in report.errors}

    assert found == {
        ("bad_date", 4, "Effective_Date", "2024-02-30"),
        ("too_many_decimals", 4, "Amount", "12.345"),
        ("missing_value", 5, "GL_Account_Number", None),
        ("bad_amount", 5, "Amount", "abc"),
        ("bad_indicator", 5, "Amount_Credit_Debit_Indicator", "X"),
        ("missing_value", 6, "Business_Unit_Code", None),
        ("bad_integer", 7, "Journal_ID_Line_Number", "x"),
    }
    assert {e.file for e in report.errors} == {"gl.csv"}
    assert report.counts == {"bad_date": 1, "too_many_decimals": 1, "missing_value": 2, "bad_amount": 1,
                             "bad_indicator": 1, "bad_integer": 1}
    text = str(report)
    assert "gl.csv, row 5, column 'Amount'" in text and "'abc'" in text
    assert "REJECTED with 7 error(s)" in text


def test_duplicate_keys_name_every_row_involved(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,GL_Account_Number,Amount\n"
        "US01,JE1,1,2024-01-31,1000,100.00\n"
        "US01,JE1,2,2024-01-31,2000,-100.00\n"
        "US01,JE1,1,2024-01-31,3000,0.00\n"
        "US02,JE1,1,2024-01-31,3000,0.00\n"))
    report = rejection(source)
    assert report.counts == {"duplicate_key": 2}
    by_row = {e.row: e for e in report.errors}
    assert set(by_row) == {2, 4}
    assert "also on row(s) 4" in by_row[2].message and "also on row(s) 2" in by_row[4].message
    assert by_row[2].column == "Business_Unit_Code, Journal_ID, Journal_ID_Line_Number"
    assert by_row[2].value == "US01 / JE1 / 1"


def test_missing_required_column_names_the_field_its_ads_name_and_the_headers_found(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", "Journal_ID,Effective_Date,Amount\nJ1,2024-01-31,5.00\n")
    report = rejection(source, entity_id="E1")
    assert report.counts == {"missing_column": 1}
    message = report.errors[0].message
    assert "gl_account_number" in message and "GL_Account_Number" in message
    assert "'Journal_ID', 'Effective_Date', 'Amount'" in message


def test_a_single_company_export_without_an_entity_column_belongs_to_the_default_entity(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv",
                   "Journal_ID,Effective_Date,GL_Account_Number,Amount\nJ1,2024-01-31,1,5\n")
    report = validate_source(source, "gl_detail")
    assert report.ok and any("entity 'DEFAULT'" in w and "--entity" in w for w in report.warnings)
    assert read_source(source, "gl_detail")["entity_id"].to_list() == ["DEFAULT"]
    assert read_source(source, "gl_detail", entity_id="E7")["entity_id"].to_list() == ["E7"]
    assert read_source(source, "gl_detail", mapping={"entity_id": "E9"})["entity_id"].to_list() == ["E9"]


def test_rejected_file_leaves_nothing_in_the_staging_directory(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    with pytest.raises(IngestError) as caught:
        stage(write(tmp_path, "gl.csv", MANY_ERRORS), "gl_detail", staging_dir=staging)
    assert list(staging.iterdir()) == []
    assert "REJECTED" in str(caught.value)


def test_error_listing_is_capped_but_counts_are_complete(tmp_path: Path) -> None:
    body = "".join(f"J{i},2024-01-31,1000,bad{i}\n" for i in range(50))
    body += "J1,2024-13-01,1000,1.00\n"
    source = write(tmp_path, "gl.csv", "Journal_ID,Effective_Date,GL_Account_Number,Amount\n" + body)
    with pytest.raises(IngestError) as caught:
        stage(source, "gl_detail", staging_dir=tmp_path / "staging", entity_id="E1", max_errors=10)
    report = caught.value.report
    assert report.counts == {"bad_amount": 50, "bad_date": 1}
    assert len(report.errors) == 10
    assert any(e.kind == "bad_date" and e.row == 52 for e in report.errors), "no kind is crowded out"
    assert "and 41 more" in str(report)
    data = report.to_dict()
    assert data["errors_total"] == 51 and data["errors_listed"] == 10
    json.dumps(data)


def test_blank_rows_are_skipped_and_row_numbers_still_match_the_file(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Journal_ID,Effective_Date,GL_Account_Number,Amount\n"
        "J1,2024-01-31,1000,1.00\n"
        ",,,\n"
        "J1,2024-01-31,1000,oops\n"))
    report = rejection(source, entity_id="E1")
    assert [(e.row, e.value) for e in report.errors] == [(4, "oops")]
    assert any("1 blank row" in w for w in report.warnings)


def test_csv_row_with_extra_cells_is_reported_by_row(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Journal_ID,Effective_Date,GL_Account_Number,Amount\n"
        "J1,2024-01-31,1000,1.00\n"
        "J1,2024-01-31,1000,1,00\n"))
    report = rejection(source, entity_id="E1")
    assert report.counts == {"unreadable_file": 1}
    assert "row 3" in report.errors[0].message


def test_unsupported_file_type_is_refused_clearly(tmp_path: Path) -> None:
    report = rejection(write(tmp_path, "gl.pdf", "%PDF"), entity_id="E1")
    assert report.counts == {"unreadable_file": 1} and ".pdf" in report.errors[0].message


# --- Trial balances and charts of accounts ----------------------------------------------------------


def test_ads_trial_balance_with_balance_indicators(tmp_path: Path) -> None:
    source = write(tmp_path, "tb.csv", (
        "Business_Unit_Code,Fiscal_Year,Period,Period_End_Date,GL_Account_Number,GL_Account_Name,"
        "Beginning_Balance,Beginning_Balance_Credit_Debit_Indicator,Ending_Balance,"
        "Ending_Balance_Credit_Debit_Indicator,Amount_Currency\n"
        "US01,2024,12,2024-12-31,1000,Cash,\"10,000.00\",D,\"12,500.00\",D,USD\n"
        "US01,2024,12,2024-12-31,3000,Retained earnings,\"10,000.00\",C,\"12,500.00\",C,USD\n"))
    staged = stage(source, "trial_balance", staging_dir=tmp_path / "staging")
    rows = staged_table(staged).to_pylist()

    assert staged.kind == "trial_balance" and staged.profile == "ads"
    assert [r["opening_balance"] for r in rows] == [Decimal("10000.00"), Decimal("-10000.00")]
    assert [r["closing_balance"] for r in rows] == [Decimal("12500.00"), Decimal("-12500.00")]
    assert rows[0]["period_end_date"] == dt.date(2024, 12, 31)
    assert pq.read_schema(staged.path / "part-00000.parquet").metadata == TRIAL_BALANCE.schema.metadata


def test_quickbooks_trial_balance_needs_year_and_period_from_the_mapping(tmp_path: Path) -> None:
    source = write(tmp_path, "tb.csv", (
        "Account,Debit,Credit\n"
        "1000 Checking,\"5,000.00\",\n"
        "3000 Opening Balance Equity,,\"5,000.00\"\n"))
    report = rejection(source, "trial_balance", entity_id="CRAIG")
    assert {e.message.split(" (")[0] for e in report.errors} == {
        "required field fiscal_year", "required field period"}
    frame = read_source(source, "trial_balance", entity_id="CRAIG",
                        mapping={"constants": {"fiscal_year": 2024, "period": 12}})
    assert frame["closing_balance"].to_list() == [Decimal("5000.00"), Decimal("-5000.00")]
    assert frame["gl_account_number"].to_list() == ["1000", "3000"]
    assert frame["gl_account_name"].to_list() == ["Checking", "Opening Balance Equity"]
    assert frame["fiscal_year"].to_list() == [2024, 2024]


def test_trial_balance_duplicate_account_in_one_period_is_rejected(tmp_path: Path) -> None:
    source = write(tmp_path, "tb.csv", (
        "Business_Unit_Code,Fiscal_Year,Period,GL_Account_Number,Ending_Balance\n"
        "US01,2024,12,1000,5.00\n"
        "US01,2024,12,1000,-5.00\n"
        "US01,2024,11,1000,-5.00\n"))
    report = rejection(source, "trial_balance")
    assert report.counts == {"duplicate_key": 2}
    assert [e.row for e in report.errors] == [2, 3]


def test_chart_of_accounts_from_ads_with_types_and_active_flags(tmp_path: Path) -> None:
    source = write(tmp_path, "coa.csv", (
        "Business_Unit_Code,GL_Account_Number,GL_Account_Name,Account_Type,Account_Subtype,FS_Caption,"
        "Parent_GL_Account_Number,Normal_Balance,Active\n"
        "US01,1000,Cash,Asset,cash,Cash and equivalents,,D,Y\n"
        "US01,1999,Suspense,Asset,suspense,Other assets,1000,D,N\n"
        "US01,4000,Sales,Revenue,,Revenue,,C,Y\n"))
    staged = stage(source, "chart_of_accounts", staging_dir=tmp_path / "staging")
    rows = staged_table(staged).to_pylist()
    assert [r["account_type"] for r in rows] == ["asset", "asset", "revenue"]
    assert [r["normal_balance"] for r in rows] == ["debit", "debit", "credit"]
    assert [r["active"] for r in rows] == [True, False, True]
    assert rows[1]["parent_account_number"] == "1000"


def test_quickbooks_account_list_types_become_the_contract_types(tmp_path: Path) -> None:
    source = write(tmp_path, "accounts.csv", (
        "Account #,Account,Type,Detail Type,Description,Balance\n"
        "1200,Accounts Receivable (A/R),Accounts receivable (A/R),Accounts Receivable (A/R),,\"5,281.52\"\n"
        "2000,Accounts Payable (A/P),Accounts payable (A/P),Accounts Payable (A/P),,\"-1,602.67\"\n"
        "5000,Cost of Goods Sold,Cost of Goods Sold,Supplies & Materials - COGS,,\n"
        "4000,Design income,Income,Service/Fee Income,,\n"))
    frame = read_source(source, "chart_of_accounts", entity_id="CRAIG")
    assert frame["account_type"].to_list() == ["asset", "liability", "expense", "revenue"]
    assert frame["account_subtype"][0] == "Accounts Receivable (A/R)"
    assert frame["gl_account_name"][3] == "Design income"


def test_an_ambiguous_date_column_takes_the_order_another_date_column_of_the_file_proves(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,Entered_Date,GL_Account_Number,Amount\n"
        "US01,J1,1,12/31/2024,01/03/2025,6100,12.00\n"
        "US01,J1,2,12/31/2024,01/03/2025,2100,-12.00\n"))
    lines = read_source(source, "gl_detail")
    assert lines["entry_date"].to_list() == [dt.date(2025, 1, 3)] * 2
    assert any("Effective_Date" in w and "month/day/year" in w for w in validate_source(source, "gl_detail").warnings)


def test_a_file_whose_every_date_is_ambiguous_is_still_refused(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,Entered_Date,GL_Account_Number,Amount\n"
        "US01,J1,1,01/02/2025,01/03/2025,6100,12.00\n"
        "US01,J1,2,01/02/2025,01/03/2025,2100,-12.00\n"))
    assert validate_source(source, "gl_detail").counts.get("ambiguous_date_format") == 2


def test_a_large_ledger_is_stored_in_files_cut_between_journals(tmp_path: Path, monkeypatch) -> None:
    """Files of about DATASET_FILE_ROWS lines, none splitting a journal: the engines read each group of files
    as a partition, without a shuffle. The rows, their order and the content hash's determinism are kept."""
    from auditray.engine import key_disjoint_groups
    from auditray.ingest import pipeline

    header, *_ = ADS_GL.splitlines()
    # Two entities, one after the other; their journal numbers overlap, so a row group mixing them would
    # have key bounds that meet the other files' (its row groups are cut at the entity instead).
    rows = [f"{'US01' if j <= 401 else 'US02'},JE-{j if j <= 401 else j - 401:05d},{n},Entry {j},Line {n},GL,2024,1,2024-01-31,"
            f"2024-02-01,10:00:00,"
            f"{6000 if n == 1 else 1000},{j}.{n:02d},{'D' if n == 1 else 'C'},USD,alice,,SA,Y,N"
            for j in range(1, 801) for n in (1, 2, 3)]
    source = write(tmp_path, "gl.csv", "\n".join([header, *rows]) + "\n")
    whole = stage(source, "gl_detail", staging_dir=tmp_path / "one")
    monkeypatch.setattr(pipeline, "_BATCH_ROWS", 100)
    monkeypatch.setattr(pipeline, "DATASET_FILE_ROWS", 500)
    cut = stage(source, "gl_detail", staging_dir=tmp_path / "cut")
    files = sorted(str(p) for p in cut.path.glob("*.parquet"))
    assert len(files) >= 4 and files[0].endswith("part-00000.parquet")
    assert pl.read_parquet(files).equals(pl.read_parquet(whole.path / "part-00000.parquet"))
    assert key_disjoint_groups(files, ("entity_id", "journal_id"), target_rows=500) is not None
    journals = [set(pl.read_parquet(f).select("entity_id", "journal_id").iter_rows()) for f in files]
    assert all(not (a & b) for i, a in enumerate(journals) for b in journals[i + 1:])
    assert stage(source, "gl_detail", staging_dir=tmp_path / "again").content_sha256 == cut.content_sha256
