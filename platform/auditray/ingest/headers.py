"""Header profiles: which column of a client's export feeds which canonical field.

A profile is data, not code. Each lists, per dataset kind, the source headers that mean a canonical
field, in order of preference, plus headers it knows but deliberately does not load. Matching ignores
case, spaces, underscores, hyphens and the asterisks Xero puts on required columns, so
``Journal_ID``, ``journal id`` and ``JOURNAL-ID`` are one header.

Money may arrive three ways, so besides the canonical money fields (``amount``; ``opening_balance``
and ``closing_balance``) a profile may name companion columns ``<field>_indicator`` (an unsigned
amount with a debit/credit indicator) or ``<field>_debit`` and ``<field>_credit`` (two columns).

The profile whose aliases recognise most of the file's headers wins; ambiguities (QuickBooks "Num",
NetSuite "Account") are settled inside the winning profile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from auditray.contract import KINDS, contract_for

DateOrder = Literal["us", "eu"]

MONEY_FIELDS: dict[str, tuple[str, ...]] = {
    "gl_detail": ("amount",),
    "trial_balance": ("opening_balance", "closing_balance"),
    "chart_of_accounts": (),
}
MONEY_COMPANIONS = ("indicator", "debit", "credit")


def normalize_header(name: str) -> str:
    """``Journal_ID``, ``journal id`` and ``*Journal-Id`` all become ``journalid``."""
    return re.sub(r"[\s_\-*]+", "", str(name).replace("\ufeff", "")).casefold()


def companion_fields(kind: str) -> tuple[str, ...]:
    """The pseudo-fields a mapping may name besides the contract's fields: ``amount_indicator`` etc."""
    return tuple(f"{money}_{part}" for money in MONEY_FIELDS[kind] for part in MONEY_COMPANIONS)


@dataclass(frozen=True, eq=False)
class HeaderProfile:
    """The column vocabulary of one export format.

    ``date_order`` settles dates that parse both month-first and day-first; ``decimal_comma`` settles
    amounts like ``1.234`` whose separator the values alone do not reveal. ``account_name_columns``
    hold "1000 Checking"-style text: the account number is the leading number, the name the rest;
    with ``code_in_parentheses`` (Xero "Sales (200)") a trailing parenthesised code is the number.
    """

    name: str
    title: str
    source: str
    fields: Mapping[str, Mapping[str, tuple[str, ...]]]
    known: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_order: DateOrder | None = None
    decimal_comma: bool = False
    account_name_columns: tuple[str, ...] = ()
    code_in_parentheses: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind in KINDS if kind in self.fields)

    def aliases(self, kind: str) -> Mapping[str, tuple[str, ...]]:
        return self.fields.get(kind, {})

    def recognises(self, header: str, kind: str) -> bool:
        return normalize_header(header) in _vocabulary(self, kind)


@lru_cache(maxsize=64)
def _vocabulary(profile: HeaderProfile, kind: str) -> frozenset[str]:
    """Every normalised header a profile knows for a kind, computed once."""
    names = {normalize_header(a) for aliases in profile.aliases(kind).values() for a in aliases}
    return frozenset(names | {normalize_header(k) for k in profile.known.get(kind, ())})


@dataclass(frozen=True)
class ProfileMatch:
    """A profile applied to a file's headers: which header feeds each field, and how well it fits."""

    profile: HeaderProfile
    columns: dict[str, str]
    recognised: tuple[str, ...]
    unused: tuple[str, ...]
    required_found: int

    @property
    def score(self) -> tuple[int, int]:
        return (len(self.recognised), self.required_found)


def _ads_fields(kind: str, extra: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """ADS names and our snake_case names for every contract field, plus the extra aliases."""
    result: dict[str, tuple[str, ...]] = {}
    for f in contract_for(kind).fields:
        result[f.name] = (f.ads_name, f.name, *extra.get(f.name, ()))
    for name, aliases in extra.items():
        if name not in result:
            result[name] = (*aliases, name)
    return result


ADS = HeaderProfile(
    name="ads",
    title="AICPA Audit Data Standard (or Auditray canonical names)",
    source="AICPA Audit Data Standards, General Ledger Standard: GL_Detail, Trial_Balance, Chart_Of_Accounts",
    fields={
        "gl_detail": _ads_fields("gl_detail", {
            # Names exports use beside the ADS ones (the ADS name, first, wins when both are present).
            "entity_id": ("Entity", "Entity_ID", "Company_Code", "Business_Unit"),
            "line_number": ("JE_Line_Number", "Journal_Line_Number", "Line_Number"),
            "entry_date": ("Entered_Date",),
            "entry_time": ("Entered_Time",),
            "gl_account_name": ("Account_Name", "GL_Account_Description", "Account_Description"),
            "document_reference": ("Reference_Number",),
            "amount_indicator": ("Amount_Credit_Debit_Indicator",),
            "amount_debit": ("Debit_Amount",),
            "amount_credit": ("Credit_Amount",),
        }),
        "trial_balance": _ads_fields("trial_balance", {
            "opening_balance_indicator": ("Beginning_Balance_Credit_Debit_Indicator",),
            "closing_balance_indicator": ("Ending_Balance_Credit_Debit_Indicator",),
        }),
        "chart_of_accounts": _ads_fields("chart_of_accounts", {}),
    },
)

# BKPF (document header) and BSEG (line item) field names as SAP ERP extracts carry them, with the
# S/4HANA universal journal (ACDOCA) names as later alternatives. DMBTR is the unsigned amount in
# company-code (local) currency, signed by SHKZG: S (Soll) = debit, H (Haben) = credit.
SAP = HeaderProfile(
    name="sap",
    title="SAP ERP export (BKPF/BSEG; ACDOCA)",
    source="SAP data dictionary: tables BKPF, BSEG, ACDOCA, SKA1/SKAT",
    fields={
        "gl_detail": {
            "entity_id": ("BUKRS", "RBUKRS"),
            "journal_id": ("BELNR",),
            "line_number": ("BUZEI", "DOCLN"),
            "fiscal_year": ("GJAHR", "RYEAR"),
            "period": ("MONAT", "POPER"),
            "effective_date": ("BUDAT",),
            "entry_date": ("CPUDT",),
            "entry_time": ("CPUTM",),
            "gl_account_number": ("HKONT", "SAKNR", "RACCT"),
            "amount": ("DMBTR", "HSL"),
            "amount_indicator": ("SHKZG", "DRCRK"),
            # WAERS is strictly the document currency; HWAER (local currency) is preferred when present.
            "amount_currency": ("HWAER", "WAERS", "RHCUR"),
            "je_header_description": ("BKTXT",),
            "je_line_description": ("SGTXT",),
            "document_reference": ("XBLNR",),
            "entered_by": ("USNAM",),
            "document_type": ("BLART",),
            "source": ("TCODE", "AWTYP"),
            "reversal_journal_id": ("STBLG",),
            "last_modified_date": ("AEDAT",),
        },
        "chart_of_accounts": {
            "entity_id": ("BUKRS",),
            "gl_account_number": ("SAKNR",),
            "gl_account_name": ("TXT50", "TXT20"),
            # KTOKS is the account group (number range and field status: FIN., SAKO, ERG.), not a type:
            # left unmapped, so that names and numbers classify the accounts.
        },
    },
    known={
        "gl_detail": ("WRBTR", "BLDAT", "BSCHL", "KOART", "KOSTL", "PRCTR", "GSBER", "ZUONR",
                      "AUGBL", "AUGDT", "MWSKZ", "AWKEY", "STJAH", "UPDDT", "KURSF", "TSL", "RTCUR"),
        "chart_of_accounts": ("KTOPL", "SPRAS", "XBILK", "KTOKS"),
    },
    date_order="eu",
    decimal_comma=True,
)

QUICKBOOKS = HeaderProfile(
    name="quickbooks",
    title="QuickBooks Journal / General Ledger report export",
    source="QuickBooks Online reports: Journal, General Ledger, Trial Balance, Account List",
    fields={
        "gl_detail": {
            # "Num" is the transaction number QuickBooks shows; it is the journal id here.
            "journal_id": ("Num", "No.", "Transaction ID"),
            "effective_date": ("Date", "Transaction Date"),
            "document_type": ("Transaction Type", "Type"),
            "je_line_description": ("Memo/Description", "Memo", "Description"),
            "gl_account_number": ("Account #", "Account Number", "Account No.", "Acct #", "Account"),
            "amount": ("Amount",),
            "amount_debit": ("Debit",),
            "amount_credit": ("Credit",),
            "entered_by": ("Created By",),
            "entry_date": ("Created", "Create Date", "Created Date"),
            "last_modified_by": ("Last Modified By",),
            "last_modified_date": ("Last Modified",),
            "amount_currency": ("Currency",),
        },
        "trial_balance": {
            "gl_account_number": ("Account #", "Account Number", "Account"),
            "gl_account_name": ("Account",),
            "closing_balance_debit": ("Debit",),
            "closing_balance_credit": ("Credit",),
        },
        "chart_of_accounts": {
            "gl_account_number": ("Account #", "Number", "Account Number"),
            "gl_account_name": ("Account", "Name", "Full Name"),
            "account_type": ("Type", "Account Type"),
            "account_subtype": ("Detail Type",),
        },
    },
    known={
        "gl_detail": ("Name", "Split", "Balance", "Class", "Location", "Clr", "Open Balance", "Customer",
                      "Vendor", "Employee", "Adj"),
        "chart_of_accounts": ("Description", "Balance", "Currency", "Tax Code"),
    },
    date_order="us",
    account_name_columns=("Account",),
)

XERO = HeaderProfile(
    name="xero",
    title="Xero Journal report / journals export",
    source="Xero reports: Journal Report, Trial Balance, Chart of Accounts export",
    fields={
        "gl_detail": {
            "journal_id": ("Journal Number", "Journal No.", "Journal #"),
            "effective_date": ("Date", "Journal Date"),
            "source": ("Source Type", "Source"),
            "gl_account_number": ("Account Code", "Code", "Account"),
            "je_line_description": ("Description", "Line Description"),
            "je_header_description": ("Reference", "Narration"),
            "amount": ("Net", "Net Amount"),
            "amount_debit": ("Debit",),
            "amount_credit": ("Credit",),
            "entry_date": ("Created Date", "Created"),
            "entered_by": ("Created By", "User"),
        },
        "trial_balance": {
            # "Sales (200)" in Account holds the code when the export has no Account Code column.
            "gl_account_number": ("Account Code", "Code", "Account"),
            "gl_account_name": ("Account", "Account Name"),
            # Xero's Debit/Credit are the report month's movement only; the YTD columns are the
            # balance at the report date (brought forward for balance-sheet accounts), i.e. the TB.
            "closing_balance_debit": ("YTD Debit", "Debit - Year to date", "Debit YTD", "Debit"),
            "closing_balance_credit": ("YTD Credit", "Credit - Year to date", "Credit YTD", "Credit"),
        },
        "chart_of_accounts": {
            "gl_account_number": ("Code", "Account Code"),
            "gl_account_name": ("Name", "Account Name"),
            "account_type": ("Type", "Account Type"),
        },
    },
    known={
        # Gross includes tax and would double count it; Net is the ledger amount.
        "gl_detail": ("Account Name", "Account Type", "Gross", "Tax", "Tax Amount", "Tax Rate",
                      "Tax Rate Name", "Tracking", "Contact", "Status"),
        "trial_balance": ("Account Type", "Debit", "Credit"),
        "chart_of_accounts": ("Tax Code", "Description", "Dashboard", "Expense Claims", "Enable Payments",
                              "Balance"),
    },
    account_name_columns=("Account",),
    code_in_parentheses=True,
)

NETSUITE = HeaderProfile(
    name="netsuite",
    title="NetSuite saved search / GL export",
    source="Oracle NetSuite transaction saved search and General Ledger report columns",
    fields={
        "gl_detail": {
            # Internal ID is unique per transaction; Document Number repeats across transaction types.
            "journal_id": ("Internal ID", "Document Number"),
            "effective_date": ("Date", "Transaction Date"),
            "document_type": ("Type", "Transaction Type"),
            "gl_account_number": ("Account Number", "Account #", "Account"),
            "je_line_description": ("Memo", "Line Memo"),
            "amount": ("Amount",),
            "amount_debit": ("Debit",),
            "amount_credit": ("Credit",),
            "entered_by": ("Created By",),
            "entry_date": ("Date Created", "Created Date"),
            "entity_id": ("Subsidiary",),
            "approved_by": ("Approved By",),
            "amount_currency": ("Currency",),
        },
        "trial_balance": {
            "entity_id": ("Subsidiary",),
            "gl_account_number": ("Account Number", "Account"),
            "gl_account_name": ("Account",),
            "closing_balance": ("Amount", "Balance"),
            "closing_balance_debit": ("Debit",),
            "closing_balance_credit": ("Credit",),
        },
        "chart_of_accounts": {
            "entity_id": ("Subsidiary",),
            "gl_account_number": ("Number", "Account Number"),
            "gl_account_name": ("Name", "Account Name"),
            "account_type": ("Account Type", "Type"),
        },
    },
    known={
        # NetSuite "Period" is a period name such as "Jan 2024", not a fiscal period number.
        "gl_detail": ("Period", "Posting Period", "Name", "Status", "Department", "Class", "Location",
                      "Amount (Foreign Currency)", "Exchange Rate"),
        "trial_balance": ("Period",),
        "chart_of_accounts": ("Description", "Balance", "Inactive", "Currency", "Subaccount Of"),
    },
    date_order="us",
    account_name_columns=("Account",),
)

PROFILES: tuple[HeaderProfile, ...] = (ADS, SAP, QUICKBOOKS, XERO, NETSUITE)


def list_profiles() -> list[HeaderProfile]:
    """The export formats Auditray recognises by their headers, for ``--help`` and the docs."""
    return list(PROFILES)


def describe_profiles() -> str:
    """One line per profile: name, what it reads and which kinds."""
    return "\n".join(f"{p.name:<11} {p.title} ({', '.join(p.kinds)})" for p in PROFILES)


def profile_named(name: str) -> HeaderProfile:
    for profile in PROFILES:
        if profile.name == name:
            return profile
    raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(p.name for p in PROFILES)}")


def match_profile(profile: HeaderProfile, headers: Sequence[str], kind: str) -> ProfileMatch:
    """Apply one profile: the first alias present in the file wins each field."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalize_header(header), header)
    columns: dict[str, str] = {}
    for name, aliases in profile.aliases(kind).items():
        for alias in aliases:
            header = by_norm.get(normalize_header(alias))
            if header is not None:
                columns[name] = header
                break
    recognised = tuple(h for h in headers if profile.recognises(h, kind))
    used = set(columns.values())
    unused = tuple(h for h in headers if h not in used)
    return ProfileMatch(profile, columns, recognised, unused, _required_found(columns, kind))


def _required_found(columns: Mapping[str, str], kind: str) -> int:
    found = 0
    for name in contract_for(kind).required:
        if name in columns or (f"{name}_debit" in columns and f"{name}_credit" in columns):
            found += 1
    return found


def detect_profile(headers: Sequence[str], kind: str) -> ProfileMatch | None:
    """The profile recognising most headers (then most required fields; then the order above).

    ``None`` when no profile recognises a single header.
    """
    matches = [match_profile(p, headers, kind) for p in PROFILES if kind in p.fields]
    best = max(matches, key=lambda m: m.score, default=None)
    if best is None or not best.recognised:
        return None
    return best


def header_score(headers: Sequence[str], kind: str) -> int:
    """How many cells of a candidate header row any profile recognises; finds the header below a title."""
    return max((len(match_profile(p, headers, kind).recognised) for p in PROFILES if kind in p.fields),
               default=0)
