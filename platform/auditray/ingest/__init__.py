"""Ingestion: client exports (CSV, Parquet, Excel) to the canonical contract, validated cell by cell.

Headers are recognised by profile (AICPA Audit Data Standard, SAP, QuickBooks, Xero, NetSuite) or
named in a mapping file; amounts become exact ``Decimal(18, 2)`` (debit positive); dates are read in
the format the whole column agrees on. Every problem in a file is reported at once, by file, row,
column and value, and a rejected file leaves nothing behind.

Reports exported as printed (QuickBooks Online/Desktop, Xero) are read as such (``layout``): title
rows are skipped, and a trial balance's period end comes from the title ("As of December 31, 2025")
unless ``period_end=``/``fiscal_year=``/``period=`` or mapping constants say otherwise (fiscal year and
period then assume a calendar year, with a warning); a blank first header is the account column;
"TOTAL"/"Total for ..."/"Net Income" rows and QuickBooks General Ledger section headings are skipped
and named in a warning. Account text: ``gl_account_number`` is the number written in it ("1000
Checking" -> "1000"; "2110 Payroll Liabilities:Federal Withholding" -> "2110"; Xero "Sales (200)" ->
"200"), else the full account name ("Accounts Receivable (A/R)"), which QuickBooks keeps unique;
``gl_account_name`` is the full name without numbers, sub-accounts as their path
("Payroll Liabilities:Federal Withholding").

>>> from auditray.ingest import stage
>>> staged = stage("gl.csv", "gl_detail", staging_dir="staging", entity_id="US01")  # doctest: +SKIP
>>> staged.rows, staged.profile, staged.report.warnings  # doctest: +SKIP
"""

from auditray.ingest.headers import PROFILES, HeaderProfile, describe_profiles, detect_profile, list_profiles
from auditray.ingest.mapping import ColumnMapping, MappingError, load_mapping
from auditray.ingest.pipeline import StagedDataset, read_source, stage, validate_source
from auditray.ingest.report import ERROR_KINDS, IngestError, Issue, ValidationReport
from auditray.ingest.sources import SUPPORTED_SUFFIXES

__all__ = [
    "ERROR_KINDS",
    "PROFILES",
    "SUPPORTED_SUFFIXES",
    "ColumnMapping",
    "HeaderProfile",
    "IngestError",
    "Issue",
    "MappingError",
    "StagedDataset",
    "ValidationReport",
    "describe_profiles",
    "detect_profile",
    "list_profiles",
    "load_mapping",
    "read_source",
    "stage",
    "validate_source",
]
