"""The small pure pieces of ingestion, each checked on tiny inputs: money text, date formats,
header profiles, mapping files and how a long error list is shortened."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from auditray.ingest.amounts import (
    BAD,
    TOO_LARGE,
    TOO_PRECISE,
    choose_decimal_comma,
    money_from_text,
    normalized_money_text,
    separator_evidence,
)
from auditray.ingest.dates import infer_date_format, infer_time_format, parse_datetime, parse_time
from auditray.ingest.headers import PROFILES, detect_profile, normalize_header
from auditray.ingest.mapping import MappingError, load_mapping
from auditray.ingest.report import Issue, select_listed


def money(texts: list[str | None], decimal_comma: bool = False) -> list[str | None]:
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    return frame.select(normalized_money_text(pl.col("v"), decimal_comma)).to_series().to_list()


# --- Money text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1,234.56", "1234.56"),
    ("(1,234.56)", "-1234.56"),
    ("$1,234.56", "1234.56"),
    ("-$1,234.56", "-1234.56"),
    ("1,234.56-", "-1234.56"),
    ("+5", "5."),
    ("\u22127.5", "-7.5"),
    ("USD 12.00", "12."),
    (".5", "0.5"),
    ("1.2300", "1.23"),
    ("1'234.50", "1234.5"),
    ("9999999999999999.99", "9999999999999999.99"),
])
def test_decimal_point_texts_normalise_to_plain_numbers(text: str, expected: str) -> None:
    assert money([text]) == [expected]


@pytest.mark.parametrize(("text", "expected"), [
    ("1.234,56", "1234.56"),
    ("1.234,56-", "-1234.56"),
    ("1 234,56 EUR", "1234.56"),
    ("1\u00a0234,56", "1234.56"),
    ("0,10", "0.1"),
    ("(12,5)", "-12.5"),
    ("1.234", "1234."),
])
def test_decimal_comma_texts_normalise_to_plain_numbers(text: str, expected: str) -> None:
    assert money([text], decimal_comma=True) == [expected]


@pytest.mark.parametrize(("text", "marker"), [
    ("abc", BAD), ("bad1", BAD), ("1e3", BAD), ("--5", BAD), ("(5)-", BAD), ("-", BAD), ("1,23", BAD),
    ("12,5", BAD), ("1.234", TOO_PRECISE), ("0.001", TOO_PRECISE), ("99999999999999999", TOO_LARGE),
])
def test_texts_that_are_not_exact_cents_are_marked_not_guessed(text: str, marker: str) -> None:
    assert money([text]) == [marker]


def test_empty_cells_stay_empty() -> None:
    assert money([None]) == [None]


def test_normalised_text_becomes_exact_decimal_and_markers_become_null() -> None:
    frame = pl.DataFrame({"v": ["-1234.5", "0.1", BAD, TOO_PRECISE, None]})
    values = frame.select(money_from_text(pl.col("v"))).to_series()
    assert values.dtype == pl.Decimal(18, 2)
    assert values.to_list() == [Decimal("-1234.50"), Decimal("0.10"), None, None, None]


@pytest.mark.parametrize(("comma", "point", "default", "expected"), [
    (3, 0, False, True),
    (0, 3, True, False),
    (0, 0, True, True),
    (0, 0, False, False),
    (2, 2, True, True),
])
def test_decimal_separator_follows_evidence_then_convention(comma: int, point: int, default: bool,
                                                            expected: bool) -> None:
    chosen, why = choose_decimal_comma(comma, point, default)
    assert chosen is expected
    assert why


def separator_for(values: list[str], default: bool) -> bool:
    frame = pl.DataFrame({"v": values})
    counts = frame.select(separator_evidence(pl.col("v"), "")).row(0, named=True)
    return choose_decimal_comma(counts["comma"], counts["point"], default)[0]


@pytest.mark.parametrize(("values", "comma_by_default", "decimal_comma"), [
    (["1.234,56", "7"], False, True),
    (["12,5"], False, True),
    (["1.234.567"], False, True),
    (["1,234.56"], True, False),
    (["47319.005"], True, False),
    (["0.125"], True, False),
    (["1,234,567"], True, False),
    (["1.234", "5.678"], True, True),
    (["1.234", "5.678"], False, False),
])
def test_the_decimal_separator_is_read_from_values_that_reveal_it(values: list[str], comma_by_default: bool,
                                                                  decimal_comma: bool) -> None:
    assert separator_for(values, comma_by_default) is decimal_comma


# --- Dates and times -------------------------------------------------------------------------------


def dates(values: list[str], order=None):
    return infer_date_format(pl.Series(values, dtype=pl.String), column="Date", order=order,
                             order_origin="test profile's")


def parsed(values: list[str], patterns) -> list:
    frame = pl.DataFrame({"v": values})
    return frame.select(parse_datetime(pl.col("v"), patterns)).to_series().to_list()


@pytest.mark.parametrize(("values", "family", "first"), [
    (["2024-01-31", "2024-02-29"], "iso", dt.datetime(2024, 1, 31)),
    (["20240131", "20240229"], "compact", dt.datetime(2024, 1, 31)),
    (["31.01.2024", "29.02.2024"], "dotted", dt.datetime(2024, 1, 31)),
    (["01/31/2024", "2/29/2024"], "us", dt.datetime(2024, 1, 31)),
    (["31/01/2024", "29/02/2024"], "day_first", dt.datetime(2024, 1, 31)),
    (["31 Jan 2024", "29 Feb 2024"], "month_name", dt.datetime(2024, 1, 31)),
    (["01/31/24", "02/29/24"], "us", dt.datetime(2024, 1, 31)),
])
def test_date_family_is_chosen_from_the_whole_column(values, family, first) -> None:
    choice = dates(values)
    assert (choice.family, choice.parsed, choice.ambiguous) == (family, 2, False)
    assert parsed(values, choice.patterns)[0] == first


def test_us_and_day_first_both_fitting_follows_the_convention_and_says_so() -> None:
    us = dates(["01/02/2024", "03/04/2024"], order="us")
    eu = dates(["01/02/2024", "03/04/2024"], order="eu")
    assert parsed(["01/02/2024"], us.patterns) == [dt.datetime(2024, 1, 2)]
    assert parsed(["01/02/2024"], eu.patterns) == [dt.datetime(2024, 2, 1)]
    assert "month/day/year" in us.note and "day/month/year" in eu.note
    assert dates(["01/02/2024", "03/04/2024"]).ambiguous


def test_excel_date_cells_and_typed_dates_read_as_one_column() -> None:
    choice = dates(["2024-01-31 00:00:00", "2024-02-01"])
    assert choice.parsed == 2 and not choice.has_time


def test_date_times_are_recognised_with_their_time_of_day() -> None:
    choice = dates(["01/05/2024 09:15:22 AM", "01/31/2024 11:02:00 PM"])
    assert choice.family == "us" and choice.has_time
    assert parsed(["01/31/2024 11:02:00 PM"], choice.patterns) == [dt.datetime(2024, 1, 31, 23, 2)]


def test_the_family_reading_most_values_wins_when_none_reads_all() -> None:
    choice = dates(["2024-01-31", "2024-02-30", "yesterday"])
    assert (choice.family, choice.parsed, choice.total) == ("iso", 1, 3)


@pytest.mark.parametrize(("text", "expected"), [
    ("10:30:00", dt.time(10, 30)),
    ("103000", dt.time(10, 30)),
    ("10:30 PM", dt.time(22, 30)),
    ("1899-12-31 10:30:00", dt.time(10, 30)),
])
def test_times_of_day_in_export_formats(text: str, expected: dt.time) -> None:
    patterns = infer_time_format(pl.Series([text]))
    frame = pl.DataFrame({"v": [text]})
    assert frame.select(parse_time(pl.col("v"), patterns)).item() == expected


# --- Headers and profiles --------------------------------------------------------------------------


def test_headers_normalise_across_case_spacing_and_punctuation() -> None:
    assert {normalize_header(h) for h in ("Journal_ID", "journal id", "JOURNAL-ID", "*Journal Id",
                                          "\ufeffJournal_ID")} == {"journalid"}


@pytest.mark.parametrize(("headers", "profile"), [
    (["Journal_ID", "Journal_ID_Line_Number", "Effective_Date", "GL_Account_Number", "Amount"], "ads"),
    (["journal_id", "line_number", "effective_date", "gl_account_number", "amount"], "ads"),
    (["BUKRS", "BELNR", "BUZEI", "BUDAT", "HKONT", "DMBTR", "SHKZG"], "sap"),
    (["Date", "Transaction Type", "Num", "Name", "Memo/Description", "Account", "Debit", "Credit"],
     "quickbooks"),
    (["Journal Number", "Date", "Source Type", "Account Code", "Account", "Description", "Debit", "Credit"],
     "xero"),
    (["Internal ID", "Document Number", "Date", "Type", "Account", "Memo", "Debit", "Credit", "Subsidiary"],
     "netsuite"),
])
def test_each_export_is_recognised_by_its_own_profile(headers: list[str], profile: str) -> None:
    match = detect_profile(headers, "gl_detail")
    assert match is not None and match.profile.name == profile


def test_ambiguous_headers_are_settled_by_the_profile() -> None:
    quickbooks = detect_profile(["Date", "Transaction Type", "Num", "Name", "Account", "Debit", "Credit"],
                                "gl_detail")
    assert quickbooks.columns["journal_id"] == "Num"
    assert quickbooks.columns["gl_account_number"] == "Account"
    netsuite = detect_profile(["Internal ID", "Document Number", "Date", "Type", "Account", "Memo", "Debit",
                               "Credit", "Subsidiary"], "gl_detail")
    assert netsuite.columns["journal_id"] == "Internal ID"
    assert netsuite.columns["document_type"] == "Type"


def test_unknown_headers_match_no_profile() -> None:
    assert detect_profile(["foo", "bar"], "gl_detail") is None


def test_every_profile_alias_names_a_contract_field_or_money_companion() -> None:
    from auditray.contract import contract_for
    from auditray.ingest.headers import companion_fields

    for profile in PROFILES:
        for kind in profile.kinds:
            allowed = set(contract_for(kind).names) | set(companion_fields(kind))
            assert set(profile.aliases(kind)) <= allowed, (profile.name, kind)


# --- Mapping files ---------------------------------------------------------------------------------


def test_yaml_json_and_toml_mappings_read_the_same(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("columns: {journal_id: Doc}\nentity_id: 7\ndelimiter: tab\n")
    (tmp_path / "m.json").write_text(
        '{"columns": {"journal_id": "Doc"}, "entity_id": "7", "delimiter": "\\t"}')
    (tmp_path / "m.toml").write_text('entity_id = "7"\ndelimiter = "\\t"\n[columns]\njournal_id = "Doc"\n')
    loaded = [load_mapping(tmp_path / name) for name in ("m.yaml", "m.json", "m.toml")]
    read = {(m.columns["journal_id"], m.constants["entity_id"], m.delimiter) for m in loaded}
    assert read == {("Doc", "7", "\t")}


@pytest.mark.parametrize(("content", "complaint"), [
    ("colums: {journal_id: Doc}\n", "unknown option"),
    ("delimiter: ';;'\n", "single character"),
    ("date_order: mdy\n", "date_order"),
    ("indicator_values: {debit: [S], haben: [H]}\n", "indicator_values"),
    ("columns: [journal_id]\n", "columns must be a table"),
    ("columns: {journal_id: Doc\n", "not valid YAML"),
])
def test_a_malformed_mapping_file_is_refused_with_the_reason(tmp_path: Path, content: str,
                                                             complaint: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(content)
    with pytest.raises(MappingError, match=complaint):
        load_mapping(path)


def test_mapping_fields_are_checked_against_the_contract() -> None:
    mapping = load_mapping({"columns": {"closing_balance_debit": "Dr", "closing_balance_credit": "Cr"}})
    mapping.check_fields("trial_balance")
    with pytest.raises(MappingError, match="not a field of gl_detail"):
        mapping.check_fields("gl_detail")


# --- Shortening long error lists -------------------------------------------------------------------


def test_a_flood_of_one_error_kind_does_not_hide_the_others() -> None:
    issues = [Issue("bad_amount", "x", "f.csv", row=r) for r in range(2, 1002)]
    issues.append(Issue("duplicate_key", "y", "f.csv", row=5000))
    listed = select_listed(issues, 100)
    assert len(listed) == 100
    assert any(i.kind == "duplicate_key" for i in listed)
    assert [i.row for i in listed] == sorted(i.row for i in listed)
