"""Client reports as QuickBooks and Xero really export them, read as an auditor's checklist: title
rows, a blank account header, accounts without numbers, total rows and a period named only in the
title must all land in the contract exactly, and nothing is dropped without a warning naming it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from auditray.ingest import IngestError, read_source, stage, validate_source
from typer.testing import CliRunner

QBO_TRIAL_BALANCE = """\
Acme Inc
Trial Balance
As of December 31, 2025

,Debit,Credit
Checking,"12,000.00",
Accounts Receivable (A/R),"5,000.00",
Accounts Payable (A/P),,"3,000.00"
Opening Balance Equity,,"14,000.00"
TOTAL,"$17,000.00","$17,000.00"
"""

QBO_TRIAL_BALANCE_NUMBERED = """\
"Craig's Design and Landscaping Services"
"Trial Balance"
"As of December 31, 2025"

"","Debit","Credit"
"1000 Checking","1,201.00",""
"2110 Payroll Liabilities:Federal Withholding","","301.00"
"Payroll Liabilities:State Withholding","","100.00"
"3000 Opening Balance Equity","","800.00"
"TOTAL","$1,201.00","$1,201.00"



"Accrual Basis Wednesday, January 14, 2026 09:12 AM GMT-08:00"
"""

XERO_TRIAL_BALANCE = """\
Trial Balance
Demo Company (Global)
As at 31 December 2025

Account,Account Code,Account Type,Debit,Credit,YTD Debit,YTD Credit
Sales,200,Revenue,,"1,000.00",,"12,500.00"
Business Bank Account,090,Bank,"1,000.00",,"20,000.00",
Retained Earnings,960,Equity,,,,"7,500.00"
Total,,,"1,000.00","1,000.00","20,000.00","20,000.00"
"""

XERO_TRIAL_BALANCE_CODES_IN_NAMES = """\
Trial Balance
Demo Company (Global)
As at 30 June 2025

Account,Debit - Year to date,Credit - Year to date
Sales (200),,"12,500.00"
Business Bank Account (090),"12,500.00",
Total,"12,500.00","12,500.00"
"""


QBO_GENERAL_LEDGER = """\
Craig's Design and Landscaping Services
General Ledger
"January 1 - December 31, 2025"

,Date,Transaction Type,Num,Name,Memo/Description,Split,Amount,Balance
Checking,,,,,,,,
,01/05/2025,Deposit,,,Opening deposit,Opening Balance Equity,"1,000.00","1,000.00"
,01/10/2025,Expense,1001,Hicks Hardware,Supplies,Job Expenses,-200.00,800.00
Total for Checking,,,,,,,$800.00,
Payroll Liabilities,,,,,,,,
Federal Withholding,,,,,,,,
,01/31/2025,Payroll Check,2001,Emily Platt,,Checking,-50.00,-50.00
Total for Federal Withholding,,,,,,,-$50.00,
,01/31/2025,Journal Entry,JE-1,,Accrual,Payroll Expenses,-10.00,-10.00
Total for Payroll Liabilities with sub-accounts,,,,,,,-$60.00,
Opening Balance Equity,,,,,,,,
,01/05/2025,Deposit,,,Opening deposit,Checking,"-1,000.00","-1,000.00"
Total for Opening Balance Equity,,,,,,,"-$1,000.00",
TOTAL,,,,,,,-$260.00,



"Accrual Basis Wednesday, January 14, 2026 09:12 AM GMT-08:00"
"""

QBO_JOURNAL = """\
Craig's Design and Landscaping Services
Journal
"January 1 - January 31, 2025"

,Date,Transaction Type,Num,Name,Memo/Description,Account,Debit,Credit
,01/05/2025,Invoice,1001,Amy's Bird Sanctuary,,Accounts Receivable (A/R),"1,050.00",
,,,,Amy's Bird Sanctuary,Design,Design income,,"1,050.00"
,,,,,,,"$1,050.00","$1,050.00"
,01/06/2025,Deposit,,,,Checking,500.00,
,,,,,Cash sale,Sales,,500.00
,,,,,,,$500.00,$500.00
,,,,,,,,
TOTAL,,,,,,,"$1,550.00","$1,550.00"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def rejection(path: Path, kind: str = "trial_balance", **kwargs) -> IngestError:
    with pytest.raises(IngestError) as caught:
        read_source(path, kind, **kwargs)
    return caught.value


# --- 1. QuickBooks Online trial balance as exported ---------------------------------------------------


def test_quickbooks_online_trial_balance_is_accepted_as_exported(tmp_path: Path) -> None:
    source = write(tmp_path, "qbo_tb.csv", QBO_TRIAL_BALANCE)
    staged = stage(source, "trial_balance", staging_dir=tmp_path / "staging", entity_id="ACME")
    frame = read_source(source, "trial_balance", entity_id="ACME")

    assert staged.rows == 4 and staged.profile == "quickbooks"
    assert frame["closing_balance"].to_list() == [Decimal("12000.00"), Decimal("5000.00"),
                                                  Decimal("-3000.00"), Decimal("-14000.00")]
    assert sum(frame["closing_balance"].to_list()) == 0, "the trial balance still balances without TOTAL"


def test_the_blank_header_over_the_first_column_is_the_account(tmp_path: Path) -> None:
    report = validate_source(write(tmp_path, "qbo_tb.csv", QBO_TRIAL_BALANCE), "trial_balance")
    assert report.ok
    assert report.mapping["gl_account_number"].startswith("Account")
    assert any("first column has no header" in w for w in report.warnings)


def test_an_account_without_a_number_is_identified_by_its_full_name(tmp_path: Path) -> None:
    frame = read_source(write(tmp_path, "qbo_tb.csv", QBO_TRIAL_BALANCE), "trial_balance")
    assert frame["gl_account_number"].to_list() == [
        "Checking", "Accounts Receivable (A/R)", "Accounts Payable (A/P)", "Opening Balance Equity"]
    assert frame["gl_account_name"].to_list() == frame["gl_account_number"].to_list()


def test_numbered_and_sub_accounts_split_into_number_and_full_path_name(tmp_path: Path) -> None:
    frame = read_source(write(tmp_path, "qbo_tb.csv", QBO_TRIAL_BALANCE_NUMBERED), "trial_balance")
    assert frame["gl_account_number"].to_list() == [
        "1000", "2110", "Payroll Liabilities:State Withholding", "3000"]
    assert frame["gl_account_name"].to_list() == [
        "Checking", "Payroll Liabilities:Federal Withholding", "Payroll Liabilities:State Withholding",
        "Opening Balance Equity"], "sub-accounts keep their parent in the name"


def test_quickbooks_desktop_numbers_with_a_middle_dot_are_split_per_segment(tmp_path: Path) -> None:
    source = write(tmp_path, "qbd_tb.csv", (
        ",Debit,Credit\n"
        "1000 \u00b7 Checking,100.00,\n"
        "2100 \u00b7 Payroll Liabilities:2110 \u00b7 Federal Withholding,,100.00\n"))
    frame = read_source(source, "trial_balance", period_end=dt.date(2025, 12, 31))
    assert frame["gl_account_number"].to_list() == ["1000", "2110"], "the sub-account's own number"
    assert frame["gl_account_name"].to_list() == ["Checking", "Payroll Liabilities:Federal Withholding"]


# --- 3. Report totals and separators -------------------------------------------------------------------


def test_total_rows_and_trailing_blank_rows_are_skipped_with_a_warning_naming_them(tmp_path: Path) -> None:
    report = validate_source(write(tmp_path, "qbo_tb.csv", QBO_TRIAL_BALANCE_NUMBERED), "trial_balance")
    assert report.ok and report.rows == 4
    footers = [w for w in report.warnings if "report total row" in w]
    assert len(footers) == 1 and "row 10 'TOTAL'" in footers[0]
    assert "row 14 'Accrual Basis Wednesday" in footers[0], "QuickBooks' report-basis line is not data"
    assert any("3 blank row(s) skipped" in w for w in report.warnings)


def test_a_total_row_that_carries_a_date_or_journal_is_data_and_is_checked(tmp_path: Path) -> None:
    source = write(tmp_path, "gl.csv", (
        "Journal_ID,Effective_Date,GL_Account_Number,Amount\n"
        "J1,2025-01-31,1000,1.00\n"
        "Total adjustment,2025-01-31,1000,oops\n"))
    error = rejection(source, "gl_detail", entity_id="E1")
    assert [(e.row, e.value) for e in error.report.errors] == [(3, "oops")]
    assert not any("report total row" in w for w in error.report.warnings)


def test_section_totals_and_net_income_rows_are_recognised_as_totals(tmp_path: Path) -> None:
    source = write(tmp_path, "tb.csv", (
        "Account,Debit,Credit\n"
        "4000 Sales,,500.00\n"
        "Total Income,,500.00\n"
        "6000 Rent,200.00,\n"
        "Total for Rent,200.00,\n"
        "1000 Checking,300.00,\n"
        "Net Income,,300.00\n"
        "Total,500.00,500.00\n"))
    report = validate_source(source, "trial_balance", period_end="2025-12-31")
    assert report.ok and report.rows == 3
    assert any("4 report total row(s)" in w and "row 3 'Total Income'" in w and "row 7 'Net Income'" in w
               for w in report.warnings)


def test_an_account_row_with_a_total_like_name_and_its_own_code_is_kept(tmp_path: Path) -> None:
    source = write(tmp_path, "xero_tb.csv", (
        "Account,Account Code,YTD Debit,YTD Credit\n"
        "Total Rewards Expense,477,50.00,\n"
        "Business Bank Account,090,,50.00\n"))
    frame = read_source(source, "trial_balance", period_end="2025-12-31")
    assert frame["gl_account_number"].to_list() == ["477", "090"]


# --- 4. The period a trial balance closes ----------------------------------------------------------------


@pytest.mark.parametrize(("title", "expected"), [
    ("As of December 31, 2025", dt.date(2025, 12, 31)),
    ("As at 31 December 2025", dt.date(2025, 12, 31)),
    ("For the period ended 31/12/2025", dt.date(2025, 12, 31)),
    ("For the year ended June 30, 2025", dt.date(2025, 6, 30)),
    ("January 1 - September 30, 2025", dt.date(2025, 9, 30)),
    ("January - March 2025", dt.date(2025, 3, 31)),
    ("As of 2025-11-30", dt.date(2025, 11, 30)),
])
def test_the_period_end_is_read_from_the_report_title(tmp_path: Path, title: str, expected: dt.date) -> None:
    source = write(tmp_path, "tb.csv", f'Acme Inc\nTrial Balance\n"{title}"\n\n,Debit,Credit\n'
                                       "1000 Checking,5.00,\n3000 Equity,,5.00\n")
    frame = read_source(source, "trial_balance")
    assert frame["period_end_date"].to_list() == [expected] * 2
    assert frame["fiscal_year"].to_list() == [expected.year] * 2
    assert frame["period"].to_list() == [expected.month] * 2


def test_the_calendar_year_assumption_is_stated_in_the_report(tmp_path: Path) -> None:
    report = validate_source(write(tmp_path, "qbo_tb.csv", QBO_TRIAL_BALANCE), "trial_balance")
    assert any("calendar fiscal year" in w and "fiscal_year 2025 and period 12" in w for w in report.warnings)
    assert any("row 3" in w and "As of December 31" in w for w in report.warnings), "names where it came from"


def test_without_a_period_anywhere_the_error_says_how_to_give_it(tmp_path: Path) -> None:
    source = write(tmp_path, "tb.csv", ",Debit,Credit\nChecking,5.00,\nEquity,,5.00\n")
    error = rejection(source)
    messages = [e.message for e in error.report.errors]
    assert {m.split(" (")[0] for m in messages} == {"required field fiscal_year", "required field period"}
    assert all("--period-end 2025-12-31" in m for m in messages)


def test_caller_arguments_give_the_period_and_win_over_the_title(tmp_path: Path) -> None:
    source = write(tmp_path, "qbo_tb.csv", QBO_TRIAL_BALANCE)
    frame = read_source(source, "trial_balance", period_end=dt.date(2025, 6, 30), fiscal_year=2025, period=12)
    assert frame["period_end_date"][0] == dt.date(2025, 6, 30)
    assert (frame["fiscal_year"][0], frame["period"][0]) == (2025, 12), "a June year end is period 12"
    report = validate_source(source, "trial_balance", period_end="2025-06-30")
    assert any("differs from 2025-12-31" in w for w in report.warnings)


def test_mapping_constants_give_the_period_too(tmp_path: Path) -> None:
    source = write(tmp_path, "tb.csv", ",Debit,Credit\nChecking,5.00,\nEquity,,5.00\n")
    frame = read_source(source, "trial_balance", mapping={"constants": {"period_end_date": "2025-03-31"}})
    assert (frame["fiscal_year"][0], frame["period"][0]) == (2025, 3)
    frame = read_source(source, "trial_balance", mapping={"constants": {"fiscal_year": 2026, "period": 9}})
    assert (frame["fiscal_year"][0], frame["period"][0]) == (2026, 9)
    assert frame["period_end_date"][0] is None, "no end date is invented from a year and period"


def test_ingest_command_takes_period_end(tmp_path: Path) -> None:
    from auditray.cli import app, commands  # noqa: F401  (registers the commands)

    source = write(tmp_path, "tb.csv", ",Debit,Credit\nChecking,5.00,\nEquity,,5.00\n")
    runner = CliRunner()
    refused = runner.invoke(app, ["ingest", str(source), "--kind", "trial_balance", "--check"])
    assert refused.exit_code == 1 and "--period-end 2025-12-31" in refused.output
    accepted = runner.invoke(app, ["ingest", str(source), "--kind", "trial_balance", "--check",
                                   "--period-end", "2025-12-31"])
    assert accepted.exit_code == 0, accepted.output
    bad = runner.invoke(app, ["ingest", str(source), "--kind", "trial_balance", "--check",
                              "--period-end", "31.12.2025"])
    assert bad.exit_code != 0 and "--period-end" in bad.output


# --- 5. Xero trial balance ------------------------------------------------------------------------------


def test_xero_trial_balance_takes_the_year_to_date_balance_and_the_account_code(tmp_path: Path) -> None:
    source = write(tmp_path, "xero_tb.csv", XERO_TRIAL_BALANCE)
    staged = stage(source, "trial_balance", staging_dir=tmp_path / "staging", entity_id="DEMO")
    frame = read_source(source, "trial_balance", entity_id="DEMO")

    assert staged.profile == "xero" and staged.rows == 3
    assert frame["gl_account_number"].to_list() == ["200", "090", "960"], "codes keep leading zeros"
    assert frame["gl_account_name"].to_list() == ["Sales", "Business Bank Account", "Retained Earnings"]
    assert frame["closing_balance"].to_list() == [Decimal("-12500.00"), Decimal("20000.00"),
                                                  Decimal("-7500.00")], "YTD, not the month's movement"
    assert frame["period_end_date"][0] == dt.date(2025, 12, 31)
    assert any("row 9 'Total'" in w for w in staged.report.warnings)


def test_xero_account_code_in_parentheses_is_split_out(tmp_path: Path) -> None:
    frame = read_source(write(tmp_path, "xero_tb.csv", XERO_TRIAL_BALANCE_CODES_IN_NAMES), "trial_balance")
    assert frame["gl_account_number"].to_list() == ["200", "090"]
    assert frame["gl_account_name"].to_list() == ["Sales", "Business Bank Account"]
    assert frame["closing_balance"].to_list() == [Decimal("-12500.00"), Decimal("12500.00")]
    assert (frame["fiscal_year"][0], frame["period"][0]) == (2025, 6)


# --- Excel ----------------------------------------------------------------------------------------------


def test_an_excel_trial_balance_reads_its_title_block_too(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "qbo_tb.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Trial Balance")
    for r, row in enumerate([["Acme Inc"], ["Trial Balance"], ["As of March 31, 2025"], [],
                             [None, "Debit", "Credit"], ["Checking", 100.5, None],
                             ["Opening Balance Equity", None, 100.5], ["TOTAL", 100.5, 100.5]]):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    frame = read_source(path, "trial_balance")
    assert frame["gl_account_number"].to_list() == ["Checking", "Opening Balance Equity"]
    assert frame["closing_balance"].to_list() == [Decimal("100.50"), Decimal("-100.50")]
    assert (frame["fiscal_year"][0], frame["period"][0]) == (2025, 3)


# --- 6. QuickBooks General Ledger and Journal reports ----------------------------------------------------


def test_general_ledger_transactions_take_the_account_of_their_section(tmp_path: Path) -> None:
    frame = read_source(write(tmp_path, "qbo_gl.csv", QBO_GENERAL_LEDGER), "gl_detail", entity_id="CRAIG")
    assert frame["gl_account_number"].to_list() == [
        "Checking", "Checking", "Payroll Liabilities:Federal Withholding", "Payroll Liabilities",
        "Opening Balance Equity"], "a sub-account section nests under its parent until its total closes it"
    assert frame["amount"].to_list() == [Decimal("1000.00"), Decimal("-200.00"), Decimal("-50.00"),
                                         Decimal("-10.00"), Decimal("-1000.00")]
    assert frame["effective_date"][2] == dt.date(2025, 1, 31)


def test_general_ledger_headings_and_totals_are_named_not_loaded(tmp_path: Path) -> None:
    report = validate_source(write(tmp_path, "qbo_gl.csv", QBO_GENERAL_LEDGER), "gl_detail")
    assert report.ok and report.rows == 5
    assert any(w.startswith("4 account heading row(s) skipped") for w in report.warnings)
    skipped = next(w for w in report.warnings if "report total row" in w)
    assert "row 6 'Checking'" in skipped and "row 9 'Total for Checking'" in skipped
    assert "row 19 'TOTAL'" in skipped


def test_a_transaction_without_a_num_is_identified_by_type_and_date(tmp_path: Path) -> None:
    source = write(tmp_path, "qbo_gl.csv", QBO_GENERAL_LEDGER)
    frame = read_source(source, "gl_detail")
    assert frame["journal_id"].to_list() == ["Deposit 01/05/2025", "1001", "2001", "JE-1", "Deposit 01/05/2025"]
    assert frame["line_number"].to_list() == [1, 1, 1, 1, 2], "both sides of the deposit are one journal"
    report = validate_source(source, "gl_detail")
    assert any("Num is blank; the journal id is Transaction Type + Date" in w for w in report.warnings)


def test_journal_continuation_lines_inherit_date_type_and_num_from_their_entry(tmp_path: Path) -> None:
    source = write(tmp_path, "qbo_journal.csv", QBO_JOURNAL)
    frame = read_source(source, "gl_detail")
    assert frame["journal_id"].to_list() == ["1001", "1001", "Deposit 01/06/2025", "Deposit 01/06/2025"]
    assert frame["effective_date"].to_list() == [dt.date(2025, 1, 5)] * 2 + [dt.date(2025, 1, 6)] * 2
    assert frame["document_type"].to_list() == ["Invoice", "Invoice", "Deposit", "Deposit"]
    assert frame["amount"].to_list() == [Decimal("1050.00"), Decimal("-1050.00"), Decimal("500.00"),
                                         Decimal("-500.00")], "per-entry totals are not postings"
    report = validate_source(source, "gl_detail")
    assert any("2 continuation line(s)" in w for w in report.warnings)
    assert any("row 8 '$1,050.00'" in w and "row 13 'TOTAL'" in w for w in report.warnings)


def test_a_journal_line_without_an_account_is_still_an_error(tmp_path: Path) -> None:
    source = write(tmp_path, "qbo_journal.csv", (
        ",Date,Transaction Type,Num,Name,Memo/Description,Account,Debit,Credit\n"
        ",01/05/2025,Invoice,1001,Amy,,Accounts Receivable (A/R),10.00,\n"
        ",,,,Amy,Design,,,10.00\n"))
    error = rejection(source, "gl_detail")
    assert {(e.kind, e.row) for e in error.report.errors} == {("missing_value", 3)}
    assert "Account" in {e.column for e in error.report.errors}, "nothing is filled into a line with no account"
