"""Detection on a sixth unseen ledger: a US B2B SaaS company on NetSuite, with a small UK subsidiary.

tests/test_je_unseen_ledger.py (a July-June manufacturer), tests/test_je_unseen_services.py (a services group),
tests/test_je_unseen_sap.py (a German SAP extract), tests/test_je_unseen_small.py (a small QuickBooks company) and
tests/test_je_unseen_retail.py (a retailer) check the battery on ledgers the project never generated. This module
builds a sixth, designed from the ADS headers and the CLI's interface before the detection code was read, and runs
the real CLI over it with default settings:

- Cobalt Ridge Software, Inc., a Denver B2B SaaS company: ``CRS-US`` (USD) and ``CRS-UK`` (its London
  subsidiary, books in GBP) in one export; calendar fiscal year 2025, periods 1-12;
- NetSuite's GL saved search in ADS names: ``Journal_ID`` as NetSuite numbers transactions, one sequence per
  transaction type (``JE34417``, ``INV-25-61223``, ``BILL-25-11294``, ``PYMT-``, ``BPMT-``, ``CM-``, ``EXP-``)
  shared by both subsidiaries (subsidiary-specific numbering off) and running on across the years, the
  journal-type records (revenue recognition, amortization, depreciation, revaluation, Gusto's payroll) in the JE
  sequence; ``Journal_ID_Line_Number``; the UNSIGNED ``Amount`` with ``Amount_Credit_Debit_Indicator`` D/C and
  ``Amount_Currency``; ``Effective_Date`` as MM/DD/YYYY; ``Entry_Date`` as NetSuite's Date Created timestamp
  (``2025-03-04T14:22:10``, in the company's Denver time, the London team's entries too) and NO Entry_Time
  column; ``GL_Account_Number`` with a department suffix (``4000-200``) beside ``GL_Account_Name``; ``Source`` as
  NetSuite's transaction types; users as full names and NetSuite-style system users (``-System-``, ``Stripe
  Connector``, ``Expensify Integration``, ``Gusto Payroll``, ``Avalara Integration``); an approver on every
  manual journal of 100,000.00 or more; NO Manual_Entry column;
- what such a company posts: revenue recognition every night of the year (``-System-``), the monthly billing run
  of identical subscription invoices at 2 am on the 1st with Stripe's card charges and retries, self-serve
  upgrades charged by Stripe at any hour of any day, Stripe payouts, annual enterprise invoices and their ACH
  receipts, vendor bills and a Thursday payment run, nightly Expensify exports, semi-monthly Gusto payroll,
  monthly commission capitalisation (ASC 340-40) and amortisation, stock-based compensation to APIC,
  depreciation, prepaid amortisation, the UK's currency revaluation and its reversal, intercompany management
  fees and quarterly settlements, sales tax (Avalara) and VAT, accruals with auto-reversals keyed in the first
  five business days after each month end (many more at quarter ends), and the December year end's close keyed
  until 13 February 2026; the US team keys Monday to Friday in Denver office hours and closes for six federal
  holidays, the UK team keys in London office hours (02:00-10:15 in the export's time) and closes for the English
  bank holidays.

Five or six anomalies of every rule-based kind the export allows are planted (the VP Finance's revenue top-sides
on the last day of a quarter, manual releases of deferred revenue, entries keyed at 22:50 and 01:20, a three-way
split of 184,621.35 ...). The checklist: the export is read whole to the cent; both subsidiaries and the year are
found; entry times are read from the timestamp; people are told from system users without a Manual_Entry column;
every planted kind is found by its own test; the riskiest entries hold the planted ones; clean entries trip tests
rarely and are seldom rated high; the nightly and weekend system postings are not rated high; the February close
is not a post-closing entry. Where the defaults fall short, the check stays, as a strict xfail naming the cause.

First run of the finished ledger (41,827 entries: CRS-US 35,038, CRS-UK 6,789; 106,148 lines; 106 planted; about
6 s for the CLI, 15 s for the module): ingestion mapped every column without a mapping file, signed the amounts
by the D/C indicator and took the entry time from the Entry_Date timestamp; the whole export was read to the
cent; both entities and the calendar year were found; the system users were all read as system postings and
every journal the team keyed as manual, but NetSuite's 'Vendor Bill' and 'Customer Payment' keyed by people were
read as manual journals too (2,264 and 691), which left CRS-UK without an approval limit. 19 of the 21 planted
kinds were found in full; not found: the UK bank-holiday entry (no UK calendar) and two keyword entries ('hit Q3
EBITDA target', 'keep off the recon'). The riskiest 1 % (418) held 49 of the 106 planted (46.2 %), the riskiest
5 % (2,091) 99 (93.4 %). Clean entries tripped sequence_gap 10,931 times (the numbering the subsidiaries share:
80 % of CRS-UK's), holiday_posting 4,427 (weakly: every holiday counted as worked because the systems post on
all of them), manual_to_sensitive_account 796, benford_outlier 482, after_hours 341 (the London team in Denver
time), split_entry 327 (receipts and bills read as manual), seldom_used_account 238, high_value 209, ml_outlier
187, suspicious_keyword 160 (weakly: 'write-off' on failed-card credit memos), below_approval_threshold 147,
period_end 93, unusual_user 13 (the Controller), rare_account_pair 7 and post_closing 6 (the February close, after
the default closing date of 30 January); none tripped duplicate_entry (the identical subscription invoices differ
in their memos). 614 clean entries (1.47 %) were rated high. Deferred revenue was counted as revenue (CRS-UK's
read 10.6 M GBP for 7.5 M). Revenue recognition, Stripe and Expensify on weekends and holidays were not rated high.

Since then (same session): NetSuite's, Business Central's and Intacct's transaction types are module postings;
numbering several entities draw from one range is one sequence; the users who post every day are left out of
the worked-holiday count and an interface's posting on a holiday its interfaces work trips nothing; deferred
revenue is sensitive but not revenue for materiality. The riskiest 1 % holds 102 of the 106 planted (96.2 %), the
riskiest 5 % 105; clean entries trip sequence_gap 122 times (10,931), holiday_posting 17 (4,427), split_entry never
(327), manual_to_sensitive_account 105 (796); 90 clean entries (0.22 %) rate high (614). Still short (the strict
xfails): the UK bank holiday and two keyword phrases, the London team's hours in Denver time, the February close
after the default closing date, the previous year's close past the 30-day start window, worked holidays of a
team keying 19 entries a day and counted over both subsidiaries, and the monthly stock compensation rated high
(no longer as seldom used: an account posted to month after month is in regular use). The Controller's few entries trip unusual_user, as AS 2401 .61(b) asks: checked as such, not as a gap.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.je_unseen_support import (
    Run,
    clean_of,
    judged_run,
    money_cents,
    planted_of,
    score_of,
    scores_of,
)

FISCAL_YEAR = 2025
FY_START, FY_END = date(2025, 1, 1), date(2025, 12, 31)
CLOSE_LAST_KEYED = date(2026, 2, 13)  # the last of the year-end close is keyed here
APPROVAL_LIMIT = 100_000_00  # cents: manual journals of 100,000.00 or more carry an approver
ENTITIES = ("CRS-US", "CRS-UK")
US, UK = ENTITIES
CURRENCY = {US: "USD", UK: "GBP"}

# US federal holidays (observed, 5 U.S.C. 6103) and the bank holidays of England and Wales, typed in here.
FEDERAL_HOLIDAYS = (
    date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 17), date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4),
    date(2025, 9, 1), date(2025, 10, 13), date(2025, 11, 11), date(2025, 11, 27), date(2025, 12, 25),
    date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16),
)
US_OFFICE_CLOSED = (date(2025, 1, 1), date(2025, 5, 26), date(2025, 7, 4), date(2025, 9, 1), date(2025, 11, 27),
                    date(2025, 11, 28), date(2025, 12, 25), date(2026, 1, 1))
WORKED_FEDERAL_HOLIDAYS = (date(2025, 1, 20), date(2025, 2, 17), date(2025, 6, 19), date(2025, 10, 13),
                           date(2025, 11, 11))
UK_BANK_HOLIDAYS = (date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 5), date(2025, 5, 26),
                    date(2025, 8, 25), date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1))


def month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


MONTHS = [(2025, m) for m in range(1, 13)]
MONTH_ENDS = [month_end(y, m) for y, m in MONTHS]
QUARTER_ENDS = (date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31))


def is_us_office_day(day: date) -> bool:
    return day.weekday() < 5 and day not in US_OFFICE_CLOSED


def is_uk_office_day(day: date) -> bool:
    return day.weekday() < 5 and day not in UK_BANK_HOLIDAYS


def is_bank_day(day: date) -> bool:
    return day.weekday() < 5 and day not in FEDERAL_HOLIDAYS


def office_day_test(entity: str):
    return is_us_office_day if entity == US else is_uk_office_day


def next_day(day: date, test, n: int = 1) -> date:
    """The n-th day after ``day`` for which ``test`` holds."""
    for _ in range(n):
        day += timedelta(days=1)
        while not test(day):
            day += timedelta(days=1)
    return day


def on_or_after(day: date, test) -> date:
    while not test(day):
        day += timedelta(days=1)
    return day


def on_or_before(day: date, test) -> date:
    while not test(day):
        day -= timedelta(days=1)
    return day


def later(at: time, seconds: int) -> time:
    """``at`` plus a few seconds (never past midnight)."""
    total = min(at.hour * 3600 + at.minute * 60 + at.second + seconds, 86_399)
    return time(total // 3600, total // 60 % 60, total % 60)


def london_offset(day: date) -> int:
    """Hours London is ahead of Denver (the company's NetSuite time zone): 7, but 6 in the weeks the US and
    the UK change their clocks on different Sundays."""
    return 6 if date(2025, 3, 9) <= day < date(2025, 3, 30) or date(2025, 10, 26) <= day < date(2025, 11, 2) else 7


def ordinary(day: date) -> bool:
    """A working day mid-month in both countries, on no holiday: timing says nothing about an entry on it."""
    return is_us_office_day(day) and is_uk_office_day(day) and day not in FEDERAL_HOLIDAYS and 8 <= day.day <= 24


# --- People and systems ----------------------------------------------------------------------------------

CFO, CONTROLLER, VP_FINANCE = "Dana Whitaker", "Priya Natarajan", "Gregory Haines"
REVENUE_ACCT, SENIOR, STAFF_1, STAFF_2, EQUITY_ACCT = ("Elena Vasquez", "Tom Brennan", "Aisha Rahman", "Kevin Oduya",
                                                       "Lauren Kim")
AP_SPECIALIST, AP_MANAGER, BILLING, COLLECTIONS = "Rosa Delgado", "Jamal Carter", "Megan Foster", "Luis Ortega"
UK_MANAGER, UK_ACCOUNTANT = "Oliver Pemberton", "Charlotte Hughes"
US_ACCOUNTANTS = (SENIOR, STAFF_1, STAFF_2, REVENUE_ACCT, EQUITY_ACCT)
SYSTEM, AVALARA, STRIPE, EXPENSIFY, GUSTO = ("-System-", "Avalara Integration", "Stripe Connector",
                                             "Expensify Integration", "Gusto Payroll")
SYSTEM_USERS = (SYSTEM, AVALARA, STRIPE, EXPENSIFY, GUSTO)

# NetSuite numbers each transaction type in one sequence for all subsidiaries (subsidiary-specific numbering
# is off), running on across the years; the journal-type records (revenue recognition, amortization,
# depreciation, revaluation and Gusto's payroll journals) are Journal Entries and share the JE sequence.
SEQUENCE = {"Journal": "JE", "Revenue Arrangement": "JE", "Amortization": "JE", "Depreciation": "JE",
            "Currency Revaluation": "JE", "Payroll": "JE", "Invoice": "INV", "Credit Memo": "CM",
            "Customer Payment": "PYMT", "Vendor Bill": "BILL", "Bill Payment": "BPMT", "Expense Report": "EXP"}
FIRST_NUMBER = {"JE": 31_877, "INV": 48_220, "CM": 2_114, "PYMT": 51_906, "BILL": 9_871, "BPMT": 4_402,
                "EXP": 7_730}


def document_number(sequence: str, number: int, keyed: date) -> str:
    return f"JE{number}" if sequence == "JE" else f"{sequence}-{keyed:%y}-{number:05d}"


# --- The chart: four-digit accounts with a department suffix ----------------------------------------------

ACCOUNTS = {
    "1000": "Cash - Operating", "1010": "Cash - Money Market", "1050": "Stripe Clearing",
    "1100": "Accounts Receivable", "1150": "Allowance for Doubtful Accounts", "1200": "Unbilled Receivables",
    "1300": "Prepaid Expenses", "1310": "Prepaid Software", "1320": "Prepaid Insurance",
    "1400": "Deferred Commissions", "1500": "Intercompany Receivable", "1600": "Computer Equipment",
    "1650": "Capitalized Software", "1690": "Accumulated Depreciation", "1800": "Employee Advances",
    "1999": "Suspense",
    "2000": "Accounts Payable", "2100": "Accrued Expenses", "2120": "Accrued Bonus",
    "2150": "Commissions Payable", "2200": "Payroll Liabilities", "2300": "Sales Tax Payable",
    "2310": "VAT Payable", "2400": "Deferred Revenue", "2500": "Intercompany Payable",
    "2600": "Corporate Card Payable - Amex", "2700": "Income Taxes Payable", "2999": "Suspense - Payroll",
    "3000": "Common Stock", "3100": "Additional Paid-in Capital", "3200": "Retained Earnings",
    "4000": "Subscription Revenue", "4100": "Professional Services Revenue", "4200": "Usage Revenue",
    "4900": "Discounts and Credits",
    "5000": "Hosting", "5100": "Support Salaries", "5200": "Third-party Software - COGS",
    "5300": "Merchant Fees",
    "6000": "Salaries and Wages", "6010": "Payroll Taxes", "6020": "Employee Benefits", "6030": "Bonus Expense",
    "6050": "Commission Expense", "6060": "Stock-based Compensation", "6100": "Software Subscriptions",
    "6200": "Rent", "6210": "Office and Utilities", "6300": "Travel", "6310": "Meals and Entertainment",
    "6400": "Marketing Programs", "6410": "Paid Advertising", "6500": "Legal Fees", "6510": "Audit and Tax Fees",
    "6520": "Recruiting", "6530": "Contractors", "6600": "Insurance", "6700": "Depreciation Expense",
    "6800": "Bad Debt Expense", "6900": "Bank Fees", "6950": "Management Fees - Intercompany",
    "7000": "Interest Income", "7100": "Management Fee Revenue - Intercompany", "7200": "Foreign Exchange Gain/Loss",
    "7500": "Charitable Contributions", "7600": "Penalties and Fines", "7700": "Loss on Disposal of Assets",
    "8000": "Income Tax Expense",
}
DEPARTMENTS = {"000": "None", "100": "G&A", "200": "Sales", "300": "Marketing", "400": "R&D",
               "500": "Customer Success", "600": "Professional Services"}
REVENUE = ("4000", "4100", "4200", "4900")
SUSPENSE = ("1999", "2999")


def acct(base: str, dept: str = "000") -> str:
    return f"{base}-{dept}"


def account_name(number: str) -> str:
    return ACCOUNTS[number[:4]]


# --- Customers and vendors ---------------------------------------------------------------------------------

PLANS = {US: (("Starter", 299_00), ("Team", 899_00), ("Business", 2_450_00)),
         UK: (("Starter", 249_00), ("Team", 749_00), ("Business", 1_990_00))}
SEAT = {US: 49_00, UK: 39_00}
TAX_RATES = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.08875, 0.0625, 0.101, 0.06, 0.0725, 0.0475)  # by customer's state
NAME_PARTS = ("Acme", "Bluefin", "Cedar", "Delta", "Evergreen", "Foxglove", "Granite", "Harbor", "Ironwood",
              "Juniper", "Keystone", "Lumen", "Meridian", "Northstar", "Orchard", "Pinnacle", "Quarry", "Redwood",
              "Summit", "Tidewater", "Upland", "Vantage", "Willow", "Yellowstone", "Zephyr")
NAME_KINDS = ("Labs", "Health", "Logistics", "Analytics", "Dental", "Realty", "Foods", "Partners", "Robotics",
              "Media", "Legal", "Clinics", "Freight", "Capital", "Studios", "Energy", "Systems", "Outfitters")
US_VENDORS = (  # vendor, account, department, bills a month, median USD, sigma (0: the same amount every month)
    ("Amazon Web Services", "5000", "500", 1, 312_000, 0.06), ("Snowflake Inc", "5000", "400", 1, 58_000, 0.12),
    ("Datadog Inc", "5200", "400", 1, 41_500, 0.1), ("Twilio Inc", "5200", "500", 1, 18_200, 0.2),
    ("Zendesk Inc", "5200", "500", 1, 12_480, 0.0), ("Salesforce Inc", "6100", "200", 1, 28_416.67, 0.0),
    ("HubSpot Inc", "6100", "300", 1, 9_600, 0.0), ("Gong.io", "6100", "200", 1, 7_350, 0.0),
    ("Atlassian", "6100", "400", 1, 11_820, 0.05), ("GitHub Inc", "6100", "400", 1, 6_312, 0.04),
    ("Okta Inc", "6100", "100", 1, 4_180, 0.0), ("Slack Technologies", "6100", "100", 1, 5_925, 0.03),
    ("Google Ads", "6410", "300", 2, 46_000, 0.3), ("LinkedIn Ads", "6410", "300", 2, 21_500, 0.35),
    ("G2.com", "6400", "300", 1, 8_750, 0.0), ("Cooley LLP", "6500", "100", 1, 31_000, 0.6),
    ("Robert Half", "6530", "100", 2, 7_900, 0.3), ("Toptal LLC", "6530", "400", 3, 14_200, 0.4),
    ("Greenhouse Software", "6520", "100", 1, 3_410, 0.0), ("Hired Inc", "6520", "100", 1, 9_800, 0.5),
    ("Industrious Denver", "6200", "100", 1, 64_250, 0.0), ("Xcel Energy", "6210", "100", 1, 2_140, 0.2),
    ("Comcast Business", "6210", "100", 1, 1_184, 0.05), ("Staples Business", "6210", "100", 2, 640, 0.6),
    ("Carta Inc", "6100", "100", 1, 2_980, 0.0), ("Expensify", "6100", "100", 1, 1_215, 0.1),
    ("Avalara Inc", "6100", "100", 1, 3_360, 0.1), ("Gusto", "6100", "100", 1, 2_890, 0.05),
    ("Dell Technologies", "1600", "000", 1, 26_000, 0.5), ("Moss & Partners CPAs", "6510", "100", 1, 6_400, 0.4),
)
US_SMALL_VENDORS = ("Figma", "Notion Labs", "Loom", "Calendly", "DocuSign", "Zoom Video", "1Password", "Miro",
                    "Canva", "Vercel", "Sentry", "PagerDuty", "Postman", "LaunchDarkly", "Segment", "Mixpanel",
                    "Hotjar", "Grammarly", "Lattice", "Culture Amp", "ZoomInfo", "Outreach", "Clearbit", "Apollo.io",
                    "Uber for Business", "Delta Air Lines", "Marriott Hotels", "FedEx", "WeWork", "Snacknation")
UK_VENDORS = (  # vendor, account, department, a month, median GBP, sigma
    ("WeWork London", "6200", "100", 1, 18_450, 0.0), ("BT Business", "6210", "100", 1, 612, 0.08),
    ("Hays Recruitment", "6520", "100", 1, 6_800, 0.5), ("Taylor Wessing LLP", "6500", "100", 1, 5_200, 0.6),
    ("Grant Thornton UK", "6510", "100", 1, 4_100, 0.3), ("LinkedIn Ireland", "6410", "300", 2, 7_400, 0.35),
    ("Pleo Technologies", "6100", "100", 1, 540, 0.0), ("Personio", "6100", "100", 1, 1_260, 0.0),
    ("Contractor - Fenwick Dev Ltd", "6530", "400", 2, 9_600, 0.25), ("Eventbrite UK", "6400", "300", 1, 3_300, 0.6),
    ("Hiscox", "6600", "100", 1, 1_180, 0.0), ("Octopus Energy", "6210", "100", 1, 395, 0.2),
)
UK_SMALL_VENDORS = ("Pret A Manger", "Addison Lee", "British Airways", "Premier Inn", "Ryman", "Screwfix", "Deliveroo",
                    "Trainline", "Amazon UK", "Currys Business")
EXPENSE_ACCOUNTS = (("6300", 0.4), ("6310", 0.35), ("6210", 0.1), ("6400", 0.1), ("6100", 0.05))
EMPLOYEES = ("Ava Morgan", "Ben Castillo", "Chloe Park", "Dev Malhotra", "Emma Schultz", "Felix Romero",
             "Grace Liu", "Hector Alvarez", "Isla Bennett", "Jonah Weiss", "Kira Sato", "Liam O'Connor", "Maya Patel",
             "Noah Fischer", "Olivia Grant", "Pablo Reyes", "Quinn Murphy", "Ruby Chen", "Sam Okafor", "Tara Nguyen")
UK_EMPLOYEES = ("Harry Clarke", "Amelia Watson", "George Evans", "Isabella Wright", "Jack Turner", "Sophie Green")


# --- The ledger ------------------------------------------------------------------------------------------


@dataclass
class Journal:
    """One NetSuite transaction as the GL holds it; ``kind`` is the planted anomaly, if any."""

    entity: str
    effective: date
    entered: date
    at: time  # Denver time, as NetSuite's Date Created shows it to the US user who ran the export
    user: str
    source: str
    header: str
    lines: list[tuple[str, int, str]]  # account, signed cents (debit positive), line memo
    stream: str
    approver: str | None = None
    kind: str | None = None
    convention: str | None = None
    role: str = "clean"  # clean | planted | involved (the original of a planted duplicate)
    journal_id: str = ""
    deleted_before: int = 0  # transactions deleted just before this one was created (their numbers are holes)

    @property
    def debits(self) -> int:
        return sum(c for _, c, _ in self.lines if c > 0)

    @property
    def person(self) -> bool:
        return self.user not in SYSTEM_USERS

    @property
    def manual_journal(self) -> bool:
        """A Journal Entry a person keyed: the truth a Manual_Entry column would hold."""
        return self.source == "Journal" and self.person


class LedgerBuilder:
    """Cobalt Ridge Software's general ledger for 2025, and the ADS GL_Detail export of it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.journals: list[Journal] = []
        self.phantoms: list[tuple[str, date, time]] = []  # other years' transactions: (sequence, keyed, at)
        self.payables: dict[str, list[tuple[date, str, int]]] = {US: [], UK: []}  # due, vendor, amount
        self.stripe_to_pay_out: dict[tuple[str, date], int] = {}  # (entity, payout day) -> gross card receipts
        self.billed: dict[tuple[str, int], int] = {}  # (entity, month) -> subscriptions billed
        self.customers: dict[str, list[tuple[str, int, int, float]]] = {}  # name, plan price, seats, tax rate

    # --- helpers ---
    def cents(self, median: float, sigma: float) -> int:
        """A lognormal amount in cents, never a whole hundred (sigma 0: exactly the median)."""
        if sigma == 0:
            return round(median * 100)
        value = round(median * math.exp(self.rng.gauss(0, sigma)) * 100)
        return value + 37 if value % 10_000 == 0 else max(value, 101)

    def between(self, start: int, end: int) -> time:
        """A time between ``start`` and ``end`` (minutes after midnight)."""
        minutes = self.rng.randint(start, end)
        return time(minutes // 60, minutes % 60, self.rng.randint(0, 59))

    def office_time(self, entity: str, day: date) -> time:
        """Office hours in Denver, or in London shown in Denver time."""
        if entity == US:
            return self.between(8 * 60, 17 * 60 + 45)
        offset = london_offset(day) * 60
        return self.between(9 * 60 - offset, 17 * 60 + 15 - offset)

    def add(self, entity: str, effective: date, entered: date, at: time, user: str, source: str, header: str,
            lines: list[tuple[str, int, str]], stream: str) -> Journal:
        journal = Journal(entity, effective, entered, at, user, source, header, lines, stream)
        if journal.manual_journal and journal.debits >= APPROVAL_LIMIT:
            journal.approver = {US: CONTROLLER, UK: UK_MANAGER}[entity]
            if user == journal.approver:
                journal.approver = CFO if entity == US else CONTROLLER
        self.journals.append(journal)
        return journal

    def customer_name(self) -> str:
        rng = self.rng
        return f"{rng.choice(NAME_PARTS)} {rng.choice(NAME_KINDS)}{rng.choice(('', ' Inc', ' LLC', ' Co', ' Group'))}"

    # --- the year ---
    def build_clean(self) -> LedgerBuilder:
        for entity, count in ((US, 860), (UK, 130)):
            self.customers[entity] = [self._new_customer(entity) for _ in range(count)]
        for year, month in MONTHS:
            self._vendor_bills(year, month)
        days = [FY_START + timedelta(days=i) for i in range((FY_END - FY_START).days + 1)]
        for day in days:
            if day.day == 1:
                for entity in ENTITIES:
                    self._billing_run(entity, day)
            for entity in ENTITIES:
                self._self_serve(entity, day)
                self._expense_reports(entity, day)
                self._stripe_payout(entity, day)
            if day.weekday() < 5:
                self._enterprise_billing(day)
            if day.weekday() == 3:
                self._payment_run(day)
        for year, month in MONTHS:
            self._month_end(year, month)
        self._revenue_recognition(days)
        self._payroll()
        self._year_end_close()
        self._other_years()
        return self

    def _new_customer(self, entity: str) -> tuple[str, int, int, float]:
        rng = self.rng
        name, price = rng.choices(PLANS[entity], weights=(5, 4, 1))[0]
        seats = 0 if rng.random() < 0.45 else rng.randint(1, 12)
        tax = rng.choice(TAX_RATES) if entity == US else (0.2 if rng.random() < 0.7 else 0.0)
        return f"{self.customer_name()} (C{self.rng.randint(10_000, 99_999)})|{name}", price, seats, tax

    def _subscription_invoice(self, entity: str, day: date, keyed: date, at: time, user: str, customer: tuple,
                              stream: str, share: float = 1.0) -> tuple[Journal, int]:
        name, price, seats, rate = customer
        company, plan = name.split("|")
        base = round(price * share)
        extra = round(seats * SEAT[entity] * share)
        tax = round((base + extra) * rate)
        total = base + extra + tax
        lines = [(acct("1100"), total, ""), (acct("2400"), -base, f"{plan} plan {day:%b %Y}")]
        if extra:
            lines.append((acct("2400"), -extra, f"Additional seats x {seats}"))
        if tax:
            lines.append((acct("2300" if entity == US else "2310"), -tax, "Sales tax" if entity == US else "VAT 20%"))
        verb = "Subscription" if share == 1.0 else "Upgrade, prorated"
        journal = self.add(entity, day, keyed, at, user, "Invoice", f"{verb} - {company} - {plan} - {day:%B %Y}",
                           lines, stream)
        self.billed[(entity, day.month)] = self.billed.get((entity, day.month), 0) + base + extra
        return journal, total

    def _card_payment(self, entity: str, day: date, at: time, company: str, total: int, stream: str) -> None:
        self.add(entity, day, day, at, STRIPE, "Customer Payment", f"Stripe charge - {company}",
                 [(acct("1050"), total, "Card payment"), (acct("1100"), -total, company)], stream)
        payout = next_day(day + timedelta(days=1), is_bank_day) if entity == US else \
            next_day(day + timedelta(days=1), is_uk_office_day)
        self.stripe_to_pay_out[(entity, payout)] = self.stripe_to_pay_out.get((entity, payout), 0) + total

    def _billing_run(self, entity: str, day: date) -> None:
        """The monthly subscriptions, billed by the scheduled billing run at 2 am on the 1st; Stripe charges the
        cards from 4 am and retries the declines on days 4, 8 and 12."""
        rng = self.rng
        customers = self.customers[entity]
        churn = rng.sample(range(len(customers)), k=rng.randint(5, 11) if entity == US else rng.randint(1, 3))
        for index in sorted(churn, reverse=True):
            customers.pop(index)
        customers += [self._new_customer(entity) for _ in range(rng.randint(9, 16) if entity == US else 2)]
        for customer in customers:
            _, total = self._subscription_invoice(entity, day, day, self.between(120, 160), SYSTEM, customer,
                                                        "billing_run_invoice")
            company = customer[0].split("|")[0]
            roll = rng.random()
            if roll < 0.985:
                retry = 0 if roll < 0.93 else rng.choice((3, 7, 11))
                paid = day + timedelta(days=retry)
                if paid <= FY_END:
                    at = self.between(4 * 60, 6 * 60) if not retry else self.between(0, 23 * 60 + 59)
                    self._card_payment(entity, paid, at, company, total, "billing_run_payment")
            elif day.month < 12:
                memo = day + timedelta(days=rng.randint(16, 27))
                memo = on_or_after(memo, office_day_test(US))
                self.add(entity, memo, memo, self.office_time(US, memo), COLLECTIONS, "Credit Memo",
                         f"Write-off - failed card - {company}",
                         [(acct("6800", "100"), total, "Uncollectible subscription"), (acct("1100"), -total, company)],
                         "credit_memo")

    def _self_serve(self, entity: str, day: date) -> None:
        """Upgrades and sign-ups in the app, any hour, any day: Stripe creates the invoice and charges it."""
        rng = self.rng
        count = sum(rng.random() < 0.5 for _ in range(16 if entity == US else 4))
        days_in_month = month_end(day.year, day.month).day
        for _ in range(count):
            customer = self._new_customer(entity)
            share = (days_in_month - day.day + 1) / days_in_month
            at = self.between(0, 23 * 60 + 58)
            _, total = self._subscription_invoice(entity, day, day, at, STRIPE, customer, "selfserve_invoice",
                                                        share)
            company = customer[0].split("|")[0]
            self._card_payment(entity, day, later(at, 60), company, total,
                               "selfserve_payment")

    def _stripe_payout(self, entity: str, day: date) -> None:
        """Stripe pays out net of its fees; the connector books the payout as a journal at 5 am."""
        gross = self.stripe_to_pay_out.pop((entity, day), 0)
        if not gross:
            return
        fee = round(gross * (0.029 if entity == US else 0.015)) + self.rng.randint(0, 3_000)
        self.add(entity, day, day, self.between(5 * 60, 5 * 60 + 30), STRIPE, "Journal", f"Stripe payout {day:%Y-%m-%d}",
                 [(acct("1000"), gross - fee, "Payout to operating account"), (acct("5300", "500"), fee, "Stripe fees"),
                  (acct("1050"), -gross, "Stripe balance")], "stripe_payout")

    def _enterprise_billing(self, day: date) -> None:
        """Annual contracts invoiced up front by the billing specialist; paid by ACH 30-60 days later."""
        rng = self.rng
        for entity, rate in ((US, 2.6), (UK, 0.4)):
            test = office_day_test(US)
            if not test(day):
                continue
            for _ in range(sum(rng.random() < rate / 4 for _ in range(4))):
                company = f"{self.customer_name()} (C{rng.randint(10_000, 99_999)})"
                subscription = self.cents(64_000 if entity == US else 52_000, 0.75)
                lines = [(acct("1100"), 0, ""), (acct("2400"), -subscription, "Annual subscription")]
                if rng.random() < 0.3:
                    lines.append((acct("2400"), -self.cents(12_000, 0.5), "Implementation services"))
                if entity == UK and rng.random() < 0.6:
                    lines.append((acct("2310"), -round(-sum(c for _, c, _ in lines) * 0.2), "VAT 20%"))
                total = -sum(c for _, c, _ in lines)
                lines[0] = (acct("1100"), total, "")
                self.add(entity, day, day, self.office_time(US, day), BILLING, "Invoice",
                         f"Annual order - {company} - {day:%Y} contract", lines, "enterprise_invoice")
                due = day + timedelta(days=rng.randint(30, 62))
                if entity == US:
                    paid = on_or_after(due, is_bank_day)
                    user, at = COLLECTIONS, self.office_time(US, paid)
                else:
                    paid = on_or_after(due, is_uk_office_day)
                    user, at = UK_ACCOUNTANT, self.office_time(UK, paid)
                if paid <= FY_END:
                    self.add(entity, paid, paid, at, user, "Customer Payment", f"ACH receipt - {company}",
                             [(acct("1000"), total, "Bank deposit"), (acct("1100"), -total, company)],
                             "enterprise_payment")
            if rng.random() < 0.45 if entity == US else rng.random() < 0.08:
                amount = self.cents(900 if entity == US else 700, 0.9)
                company = self.customer_name()
                self.add(entity, day, day, self.office_time(US, day), BILLING, "Credit Memo",
                         f"Service credit - {company}",
                         [(acct("4900", "200"), amount, "Service credit per SLA"), (acct("1100"), -amount, company)],
                         "credit_memo")

    def _expense_reports(self, entity: str, day: date) -> None:
        """Approved reports, exported by Expensify every night around 3 am, weekends included."""
        rng = self.rng
        people = EMPLOYEES if entity == US else UK_EMPLOYEES
        for _ in range(sum(rng.random() < 0.5 for _ in range(10 if entity == US else 2))):
            employee = rng.choice(people)
            dept = rng.choice(("100", "200", "200", "300", "400", "500"))
            lines = []
            for _ in range(rng.randint(1, 4)):
                base = rng.choices([a for a, _ in EXPENSE_ACCOUNTS], weights=[w for _, w in EXPENSE_ACCOUNTS])[0]
                lines.append((acct(base, dept), self.cents(180, 1.0), f"{employee} - {account_name(base).lower()}"))
            total = sum(c for _, c, _ in lines)
            card = rng.random() < 0.7
            lines.append((acct("2600" if card else "2000"), -total, "Amex corporate card" if card else employee))
            self.add(entity, day, day, self.between(3 * 60, 3 * 60 + 40), EXPENSIFY, "Expense Report",
                     f"Expense report - {employee} - ER{rng.randint(100_000, 999_999)}", lines, "expense_report")

    def _payment_run(self, day: date) -> None:
        """Thursday's payment run: one bill payment per vendor for the bills falling due within a week."""
        for entity in ENTITIES:
            test = office_day_test(entity)
            if not test(day):
                continue
            due = [p for p in self.payables[entity] if p[0] <= day + timedelta(days=7)]
            self.payables[entity] = [p for p in self.payables[entity] if p[0] > day + timedelta(days=7)]
            by_vendor: dict[str, int] = {}
            for _, vendor, amount in due:
                by_vendor[vendor] = by_vendor.get(vendor, 0) + amount
            user = AP_MANAGER if entity == US else UK_ACCOUNTANT
            start = self.office_time(entity, day)
            for index, (vendor, amount) in enumerate(sorted(by_vendor.items())):
                at = later(start, 4 * index)
                self.add(entity, day, day, at, user, "Bill Payment", f"Payment run {day:%Y%m%d} - {vendor}",
                         [(acct("2000"), amount, vendor), (acct("1000"), -amount, "ACH")], "bill_payment")

    def bill(self, entity: str, day: date, vendor: str, lines: list[tuple[str, int, str]], *,
             keyed: date | None = None, clerk: str | None = None, stream: str = "vendor_bill") -> Journal:
        test = office_day_test(entity)
        keyed = keyed or next_day(day, test, self.rng.randint(1, 5))
        total = sum(c for _, c, _ in lines)
        clerk = clerk or (AP_SPECIALIST if entity == US else UK_ACCOUNTANT)
        journal = self.add(entity, day, keyed, self.office_time(entity, keyed), clerk, "Vendor Bill",
                           f"{vendor} - invoice {self.rng.randint(10**5, 10**7)}", [*lines, (acct("2000"), -total, vendor)],
                           stream)
        self.payables[entity].append((day + timedelta(days=30), vendor, total))
        return journal

    def _vendor_bills(self, year: int, month: int) -> None:
        rng = self.rng
        first, last = date(year, month, 1), month_end(year, month)
        for entity, vendors, small, count in ((US, US_VENDORS, US_SMALL_VENDORS, 130), (UK, UK_VENDORS,
                                                                                        UK_SMALL_VENDORS, 14)):
            test = office_day_test(entity)
            for vendor, base, dept, per_month, median, sigma in vendors:
                for _ in range(per_month):
                    day = on_or_before(first + timedelta(days=rng.randrange(last.day)), lambda d: d.weekday() < 5) \
                        if sigma else first
                    day = max(day, first)
                    keyed = next_day(day, test, rng.randint(1, 5))
                    if keyed > CLOSE_LAST_KEYED:
                        continue
                    amount = self.cents(median, sigma)
                    if rng.random() < 0.25 and sigma:
                        part = round(amount * rng.uniform(0.3, 0.6))
                        lines = [(acct(base, dept), amount - part, f"{vendor} {first:%b %Y}"),
                                 (acct(base, "100" if dept != "100" else "400"), part, f"{vendor} {first:%b %Y}")]
                    else:
                        lines = [(acct(base, dept), amount, f"{vendor} {first:%b %Y}")]
                    self.bill(entity, day, vendor, lines, keyed=keyed)
            for _ in range(round(count * rng.uniform(0.85, 1.15))):
                vendor = rng.choice(small)
                day = on_or_before(first + timedelta(days=rng.randrange(last.day)), lambda d: d.weekday() < 5)
                day = max(day, first)
                keyed = next_day(day, test, rng.randint(1, 5))
                if keyed > CLOSE_LAST_KEYED:
                    continue
                base = rng.choice(("6100", "6100", "6210", "6300", "6400", "6530"))
                dept = rng.choice(("100", "200", "300", "400", "500"))
                self.bill(entity, day, vendor, [(acct(base, dept), self.cents(820, 1.1), vendor)], keyed=keyed)

    def _revenue_recognition(self, days: list[date]) -> None:
        """The revenue arrangement engine's daily run at half past midnight, every day of the year."""
        rng = self.rng
        for day in days:
            keyed = day + timedelta(days=1)
            for entity in ENTITIES:
                scale = 1.0 if entity == US else 0.11
                growth = 1 + 0.018 * (day.month - 1)
                subscription = self.cents(148_000 * scale * growth, 0.02)
                usage = self.cents(11_500 * scale * growth, 0.15)
                lines = [(acct("2400"), subscription + usage, "Deferred revenue released"),
                         (acct("4000", "200"), -subscription, "Subscription revenue recognized"),
                         (acct("4200", "200"), -usage, "Usage revenue recognized")]
                self.add(entity, day, keyed, self.between(20, 50), SYSTEM, "Revenue Arrangement",
                         f"Revenue recognition {day:%Y-%m-%d}", lines, "rev_rec")
                if entity == US or rng.random() < 0.5:
                    services = self.cents(9_800 * scale * 2, 0.3)
                    self.add(entity, day, keyed, self.between(51, 70), SYSTEM, "Revenue Arrangement",
                             f"Revenue recognition {day:%Y-%m-%d} - services",
                             [(acct("2400"), services, "Deferred revenue released"),
                              (acct("4100", "600"), -services, "Professional services revenue recognized")], "rev_rec")

    def _payroll(self) -> None:
        """Gusto, semi-monthly (the 15th and the last day, the business day before when those fall on a day
        off), booked by Gusto on the pay date at noon; the UK payroll bureau's report, keyed monthly."""
        depts = (("6000", "100", 148_000), ("6000", "200", 312_000), ("6000", "300", 96_000),
                 ("6000", "400", 512_000), ("6000", "600", 74_000), ("5100", "500", 131_000))
        for year, month in MONTHS:
            for nominal in (date(year, month, 15), month_end(year, month)):
                paid = on_or_before(nominal, is_bank_day)
                lines = [(acct(base, dept), self.cents(median * (1 + 0.01 * month), 0.02), "Gross wages")
                         for base, dept, median in depts]
                gross = sum(c for _, c, _ in lines)
                commissions = self.cents(245_000, 0.15) if nominal.day != 15 else 0
                taxes = round((gross + commissions) * 0.0765)
                benefits = self.cents(118_000, 0.03)
                withheld = round((gross + commissions) * 0.27)
                lines += [(acct("6010", "100"), taxes, "Employer payroll taxes"),
                          (acct("6020", "100"), benefits, "Employer benefits")]
                if commissions:
                    lines.append((acct("2150"), commissions, "Commissions paid"))
                lines += [(acct("1000"), -(gross + commissions - withheld), "Net pay"),
                          (acct("2200"), -(withheld + taxes + benefits), "Taxes and benefits withheld")]
                self.add(US, paid, paid, self.between(11 * 60 + 40, 12 * 60 + 20), GUSTO, "Payroll",
                         f"Gusto payroll - pay date {paid:%m/%d/%Y}", lines, "payroll")
                tax_day = next_day(paid, is_bank_day)
                if tax_day > FY_END:  # the last remittance of December is dated in FY2026
                    self.phantoms.append(("JE", tax_day, self.office_time(US, tax_day)))
                    continue
                self.add(US, tax_day, tax_day, self.office_time(US, tax_day), STAFF_1, "Journal",
                         f"Payroll tax and benefit remittance {paid:%m/%d/%Y}",
                         [(acct("2200"), withheld + taxes + benefits, "Gusto debit"),
                          (acct("1000"), -(withheld + taxes + benefits), "Gusto debit")], "payroll_remittance")
            # The UK bureau's report, keyed by the UK accountant two days before the 25th.
            pay = on_or_before(date(year, month, 25), is_uk_office_day)
            keyed = on_or_before(pay - timedelta(days=2), is_uk_office_day)
            lines = [(acct("6000", dept), self.cents(median, 0.03), "Gross pay")
                     for dept, median in (("100", 21_000), ("200", 64_000), ("500", 18_500))]
            gross = sum(c for _, c, _ in lines)
            nic = round(gross * 0.15)
            paye = round(gross * 0.28)
            lines += [(acct("6010", "100"), nic, "Employer NIC"), (acct("1000"), -(gross - paye), "Net pay"),
                      (acct("2200"), -(paye + nic), "PAYE and NIC due to HMRC")]
            self.add(UK, pay, keyed, self.office_time(UK, keyed), UK_ACCOUNTANT, "Journal",
                     f"Payroll {pay:%B %Y} - bureau report", lines, "uk_payroll")
            hmrc = on_or_after(date(year + month // 12, month % 12 + 1, 19), is_uk_office_day)
            if hmrc <= FY_END:
                self.add(UK, hmrc, hmrc, self.office_time(UK, hmrc), UK_ACCOUNTANT, "Journal",
                         f"HMRC PAYE/NIC payment {pay:%B %Y}",
                         [(acct("2200"), paye + nic, "HMRC"), (acct("1000"), -(paye + nic), "HMRC")],
                         "payroll_remittance")

    def _month_end(self, year: int, month: int) -> None:
        """The close: system runs on the 1st, then the team's accruals in the first five business days; a
        quarter end brings many more."""
        rng = self.rng
        first, last = date(year, month, 1), month_end(year, month)
        name = f"{first:%B %Y}"
        closing = last == FY_END
        quarter = last in QUARTER_ENDS
        following = last + timedelta(days=1)
        us_days = [next_day(last, is_us_office_day, n) for n in range(1, 6)]
        uk_days = [next_day(last, is_uk_office_day, n) for n in range(1, 6)]
        stream_of = "year_end_close" if closing else None

        def journal(entity: str, user: str, lines: list, text: str, stream: str, *, day: int | None = None,
                    reverse: bool = False, effective: date | None = None) -> Journal:
            days = us_days if entity == US else uk_days
            if closing:  # the December close runs into February 2026
                keyed = days[day] if day is not None and day < 2 else \
                    next_day(last, office_day_test(entity), rng.randint(2, 26))
                keyed = min(keyed, CLOSE_LAST_KEYED)
            else:
                keyed = days[day if day is not None else rng.randrange(5)]
            at = self.office_time(entity, keyed)
            made = self.add(entity, effective or last, keyed, at, user, "Journal", text, lines, stream_of or stream)
            if reverse:
                reversal = [(a, -c, f"Reversal of {m}" if m else m) for a, c, m in lines]
                then = later(at, 1)
                if following <= FY_END:
                    self.add(entity, following, keyed, then, user, "Journal", f"Reversal: {text}", reversal,
                             "reversal")
                else:
                    self.phantoms.append(("JE", keyed, then))
            return made

        def two(debit: str, credit: str, amount: int, text: str) -> list:
            return [(debit, amount, text), (credit, -amount, text)]

        # The system's runs, dated the month end.
        keyed_1st = following
        for entity, schedules in ((US, (("1320", "6600", "100", 18_416_67, "D&O and cyber insurance"),
                                          ("1310", "6100", "400", 41_250_00, "Prepaid annual licences"),
                                          ("1300", "6400", "300", 6_833_33, "SaaStr sponsorship"))),
                                  (UK, (("1300", "6200", "100", 3_150_00, "Prepaid service charge"),
                                        ("1320", "6600", "100", 912_50, "Prepaid insurance")))):
            for prepaid, expense, dept, amount, text in schedules:
                self.add(entity, last, keyed_1st, self.between(80, 100), SYSTEM, "Amortization",
                         f"Amortization - {text} - {name}", two(acct(expense, dept), acct(prepaid), amount, text),
                         "prepaid_amort")
        amortized = self.cents(212_000 * (1 + 0.015 * month), 0.01)
        self.add(US, last, keyed_1st, self.between(101, 115), SYSTEM, "Amortization",
                 f"Amortization - deferred commissions - {name}",
                 two(acct("6050", "200"), acct("1400"), amortized, "ASC 340-40 amortization"), "commission_amort")
        fam = next_day(last, is_us_office_day)
        for entity, amount in ((US, 86_412_18 + 1_318_40 * month), (UK, 4_206_55 + 57_20 * month)):
            self.add(entity, last, fam, self.between(100, 130), SYSTEM, "Depreciation", f"Depreciation - {name}",
                     two(acct("6700", "100"), acct("1690"), amount, "FAM depreciation"), "depreciation")
        reval = self.cents(9_000, 0.9) * rng.choice((1, -1))
        at = self.between(7 * 60, 7 * 60 + 30)
        self.add(UK, last, fam, at, SYSTEM, "Currency Revaluation", f"Unrealized FX revaluation - {name}",
                 two(acct("7200"), acct("2500"), reval, "Revalue USD intercompany payable"), "fx_reval")
        if following <= FY_END:
            self.add(UK, following, fam, later(at, 1), SYSTEM,
                     "Currency Revaluation", f"Unrealized FX revaluation reversal - {name}",
                     two(acct("2500"), acct("7200"), reval, "Reverse prior month revaluation"), "fx_reval")
        else:
            self.phantoms.append(("JE", fam, at))
        # Sales tax filed and paid by Avalara on the 20th (every month, whatever the day).
        tax_day = date(year, month, 20)
        tax = self.cents(31_000, 0.1)
        self.add(US, tax_day, tax_day, self.between(5 * 60, 5 * 60 + 20), AVALARA, "Journal",
                 f"Sales tax remittance - {name}", two(acct("2300"), acct("1000"), tax, "AvaTax Returns"), "sales_tax")
        # The team's journals.
        journal(US, REVENUE_ACCT, two(acct("1400"), acct("2150"), self.cents(332_000, 0.15),
                                      "Capitalize commissions ASC 340-40"),
                f"Commission capitalization - {name}", "commission_cap", day=1)
        sbc = [(acct("6060", dept), self.cents(median, 0.05), "Stock comp expense")
               for dept, median in (("100", 168_000), ("200", 121_000), ("300", 64_000), ("400", 284_000),
                                    ("500", 37_000))]
        sbc.append((acct("3100"), -sum(c for _, c, _ in sbc), "APIC - equity awards"))
        journal(US, EQUITY_ACCT, sbc, f"Stock-based compensation - {name} (Carta)", "sbc", day=2)
        fee = self.cents(186_000, 0.04)
        journal(US, SENIOR, two(acct("1500"), acct("7100", "100"), fee, "Management fee to CRS-UK"),
                f"Intercompany management fee - {name}", "ic_charge", day=2)
        journal(UK, UK_ACCOUNTANT, two(acct("6950", "100"), acct("2500"), round(fee * 0.79), "Management fee CRS-US"),
                f"Intercompany management fee - {name}", "ic_charge", day=2)
        for entity, user, amount in ((US, STAFF_1, self.cents(1_840, 0.2)), (UK, UK_ACCOUNTANT, self.cents(96, 0.3))):
            journal(entity, user, two(acct("6900", "100"), acct("1000"), amount, "Bank service charges"),
                    f"Bank fees - {name}", "bank_fees", day=0)
        journal(US, STAFF_1, two(acct("1010"), acct("7000"), self.cents(38_500, 0.08), "Money market interest"),
                f"Interest income - {name}", "bank_fees", day=0)
        accruals = [
            (US, SENIOR, "6500", "100", 24_000, 0.5, "Accrue legal fees - Cooley"),
            (US, SENIOR, "6530", "400", 31_000, 0.3, "Accrue contractors - unbilled hours"),
            (US, STAFF_2, "6410", "300", 38_000, 0.3, "Accrue paid advertising"),
            (US, STAFF_2, "5000", "500", 27_000, 0.4, "Accrue AWS usage true-up"),
            (US, STAFF_1, "6300", "200", 14_500, 0.4, "Accrue travel - unsubmitted expenses"),
            (US, EQUITY_ACCT, "6030", "100", 142_000, 0.1, "Accrue annual bonus"),
            (US, STAFF_2, "6510", "100", 21_000, 0.2, "Accrue audit and tax fees"),
            (US, STAFF_1, "6210", "100", 3_900, 0.3, "Accrue utilities"),
            (UK, UK_ACCOUNTANT, "6530", "400", 8_200, 0.3, "Accrue contractors"),
            (UK, UK_ACCOUNTANT, "6030", "100", 11_400, 0.1, "Accrue bonus"),
            (UK, UK_ACCOUNTANT, "6500", "100", 3_100, 0.5, "Accrue legal fees"),
        ]
        if quarter:
            accruals += [
                (US, SENIOR, "6400", "300", 66_000, 0.3, "Accrue events and field marketing"),
                (US, SENIOR, "6520", "100", 29_000, 0.3, "Accrue recruiting fees"),
                (US, STAFF_2, "5200", "500", 19_000, 0.3, "Accrue third-party software"),
                (US, STAFF_1, "6100", "400", 22_000, 0.3, "Accrue software - unbilled seats"),
                (US, EQUITY_ACCT, "6030", "200", 96_000, 0.2, "Accrue sales SPIFF and accelerators"),
                (US, CONTROLLER, "6510", "100", 58_000, 0.15, "Accrue quarterly review fee"),
                (UK, UK_MANAGER, "6030", "200", 9_400, 0.3, "Accrue sales accelerators"),
                (UK, UK_ACCOUNTANT, "6400", "300", 6_300, 0.4, "Accrue events"),
            ]
        for entity, user, base, dept, median, sigma, text in accruals:
            journal(entity, user, two(acct(base, dept), acct("2120" if base == "6030" else "2100"),
                                      self.cents(median, sigma), text),
                    f"{text} - {name}", "quarter_close" if quarter else "accrual", reverse=base != "6030")
        if quarter:
            journal(US, CONTROLLER, two(acct("8000", "100"), acct("2700"), self.cents(410_000, 0.2),
                                        "Income tax provision"), f"Q{last.month // 3} income tax provision",
                    "quarter_close", day=4)
            journal(US, REVENUE_ACCT, two(acct("6800", "100"), acct("1150"), self.cents(42_000, 0.3),
                                          "Allowance for doubtful accounts"),
                    f"Bad debt reserve true-up Q{last.month // 3}", "quarter_close")
            journal(US, SENIOR, two(acct("1650"), acct("6000", "400"), self.cents(285_000, 0.15),
                                    "Capitalize internal-use software ASC 350-40"),
                    f"Capitalized software Q{last.month // 3}", "quarter_close")
            if not closing:
                settle = next_day(last, is_uk_office_day, 8)
                amount = self.cents(420_000, 0.1)
                self.add(UK, settle, settle, self.office_time(UK, settle), UK_ACCOUNTANT, "Journal",
                         f"Intercompany settlement Q{last.month // 3}",
                         two(acct("2500"), acct("1000"), round(amount * 0.79), "Wire to CRS-US"), "ic_settlement")
                self.add(US, settle, settle, self.office_time(US, settle), STAFF_1, "Journal",
                         f"Intercompany settlement Q{last.month // 3}",
                         two(acct("1000"), acct("1500"), amount, "Wire from CRS-UK"), "ic_settlement")
            vat = on_or_after(following + timedelta(days=30), is_uk_office_day)
            if vat <= FY_END:
                amount = self.cents(58_000, 0.1)
                self.add(UK, vat, vat, self.office_time(UK, vat), UK_ACCOUNTANT, "Journal",
                         f"VAT return Q{last.month // 3} payment", two(acct("2310"), acct("1000"), amount, "HMRC VAT"),
                         "vat")
        # Reclasses mid-month.
        pairs = (("6100", "400", "6100", "100"), ("6300", "200", "6300", "500"), ("6530", "400", "6530", "100"),
                 ("6410", "300", "6400", "300"), ("6210", "100", "6100", "100"), ("5200", "500", "6100", "400"),
                 ("6500", "100", "6510", "100"))
        for entity, count, people in ((US, rng.randint(9, 14), US_ACCOUNTANTS), (UK, rng.randint(1, 3),
                                                                                 (UK_ACCOUNTANT,))):
            for _ in range(count):
                day = first + timedelta(days=rng.randrange(last.day))
                if not ordinary(day):
                    continue
                debit_base, debit_dept, credit_base, credit_dept = rng.choice(pairs)
                amount = self.cents(2_900 if entity == US else 700, 0.9)
                text = f"Reclass {account_name(credit_base).lower()} to {account_name(debit_base).lower()}"
                self.add(entity, day, day, self.office_time(entity, day), rng.choice(people), "Journal", text,
                         two(acct(debit_base, debit_dept), acct(credit_base, credit_dept), amount, text), "reclass")

    def _year_end_close(self) -> None:
        """The December year end's own adjustments, keyed in January and early February 2026."""
        rng = self.rng
        for entity, user, debit, credit, median, text in (
                (US, REVENUE_ACCT, acct("2400"), acct("4100", "600"), 148_000, "Year-end PS revenue cut-off true-up"),
                (US, REVENUE_ACCT, acct("1400"), acct("2150"), 212_000, "Deferred commissions annual true-up"),
                (US, CONTROLLER, acct("8000", "100"), acct("2700"), 640_000, "FY2025 income tax provision true-up"),
                (US, EQUITY_ACCT, acct("6030", "100"), acct("2120"), 386_000, "Annual bonus true-up"),
                (US, SENIOR, acct("1650"), acct("6000", "400"), 312_000, "Capitalized software - annual review"),
                (US, SENIOR, acct("6700", "100"), acct("1690"), 44_000, "Depreciation catch-up - disposals"),
                (US, STAFF_2, acct("6510", "100"), acct("2100"), 165_000, "Accrue FY2025 audit fee"),
                (US, STAFF_1, acct("2100"), acct("6410", "300"), 27_000, "Release unused advertising accrual"),
                (US, STAFF_2, acct("6100", "400"), acct("1310"), 18_000, "Write off expired prepaid licences"),
                (US, REVENUE_ACCT, acct("6800", "100"), acct("1150"), 61_000, "Allowance for doubtful accounts"),
                (US, EQUITY_ACCT, acct("6060", "400"), acct("3100"), 96_000, "SBC forfeiture true-up"),
                (US, CONTROLLER, acct("1500"), acct("7100", "100"), 118_000, "Intercompany transfer pricing true-up"),
                (UK, UK_MANAGER, acct("6950", "100"), acct("2500"), 93_000, "Transfer pricing true-up"),
                (UK, UK_ACCOUNTANT, acct("8000", "100"), acct("2700"), 61_000, "Corporation tax provision FY2025"),
                (UK, UK_ACCOUNTANT, acct("6030", "100"), acct("2120"), 22_000, "Bonus true-up"),
                (UK, UK_MANAGER, acct("6500", "100"), acct("2100"), 7_800, "Accrue year-end legal")):
            amount = self.cents(median, 0.12)
            keyed = min(next_day(FY_END, office_day_test(entity), rng.randint(3, 28)), CLOSE_LAST_KEYED)
            self.add(entity, FY_END, keyed, self.office_time(entity, keyed), user, "Journal", text,
                     [(debit, amount, text), (credit, -amount, text)], "year_end_close")

    def _other_years(self) -> None:
        """The numbers the neighbouring years' transactions take from the same sequences: FY2024's close and
        late bills in January 2025, and FY2026's transactions from 1 January 2026 on."""
        rng = self.rng
        day = date(2025, 1, 2)
        while day <= date(2025, 2, 12):
            if is_us_office_day(day):
                for _ in range(rng.randint(0, 3)):
                    self.phantoms.append(("JE", day, self.office_time(US, day)))
                if day <= date(2025, 1, 24):
                    for _ in range(rng.randint(1, 5)):
                        self.phantoms.append(("BILL", day, self.office_time(US, day)))
            day += timedelta(days=1)
        self.phantoms += [("JE", date(2025, 1, 1), self.between(20, 70)) for _ in range(3)]
        day = date(2026, 1, 1)
        while day <= date(2026, 5, 31):
            self.phantoms += [("JE", day + timedelta(days=1), self.between(20, 70)) for _ in range(3)]
            self.phantoms += [("INV", day, self.between(0, 1_439)) for _ in range(rng.randint(4, 12))]
            self.phantoms += [("PYMT", day, self.between(0, 1_439)) for _ in range(rng.randint(4, 12))]
            self.phantoms += [("EXP", day, self.between(180, 220)) for _ in range(rng.randint(2, 8))]
            self.phantoms.append(("JE", day, self.between(300, 330)))
            if day.day == 1:
                self.phantoms += [("INV", day, self.between(120, 160)) for _ in range(930)]
                self.phantoms += [("PYMT", day, self.between(240, 360)) for _ in range(870)]
            if is_us_office_day(day):
                self.phantoms += [("JE", day, self.office_time(US, day)) for _ in range(rng.randint(1, 6))]
                self.phantoms += [("BILL", day, self.office_time(US, day)) for _ in range(rng.randint(5, 12))]
                self.phantoms += [("INV", day, self.office_time(US, day)) for _ in range(rng.randint(1, 5))]
                self.phantoms += [("CM", day, self.office_time(US, day)) for _ in range(rng.randint(0, 2))]
                self.phantoms += [("PYMT", day, self.office_time(US, day)) for _ in range(rng.randint(0, 4))]
                if day.weekday() == 3:
                    self.phantoms += [("BPMT", day, self.office_time(US, day)) for _ in range(rng.randint(25, 45))]
            day += timedelta(days=1)

    # --- planted anomalies ---
    def ordinary_day(self) -> date:
        while True:
            day = FY_START + timedelta(days=self.rng.randrange(45, 320))
            if ordinary(day):
                return day

    def plain(self, kind: str, *, entity: str = US, day: date | None = None, entered: date | None = None,
              at: time | None = None, user: str | None = None, debit: str = acct("6530", "400"),
              credit: str = acct("2100"), amount: int | None = None, text: str | None = None,
              lines: list | None = None, source: str = "Journal", convention: str | None = None,
              approver: str | None = None) -> Journal:
        """A journal as a GL accountant keys one, anomalous in one respect."""
        rng = self.rng
        day = day or self.ordinary_day()
        entered = entered or day
        amount = amount if amount is not None else self.cents(7_200 if entity == US else 2_600, 0.5)
        if text is None:
            text = f"Accrue contractors - {rng.choice(('Toptal', 'Robert Half', 'Fenwick Dev'))}"
        lines = lines or [(debit, amount, text), (credit, -amount, text)]
        user = user or (rng.choice((SENIOR, STAFF_1, STAFF_2)) if entity == US else UK_ACCOUNTANT)
        journal = self.add(entity, day, entered, at or self.office_time(entity, entered), user, source, text, lines,
                           "planted")
        if approver:
            journal.approver = approver
        journal.kind, journal.role, journal.convention = kind, "planted", convention
        return journal

    def plant(self) -> LedgerBuilder:
        rng = self.rng
        # Integrity: a transposed accrual, a bill missing its tax line, an expense report a cent out, a UK
        # payroll journal with a line dropped, a deferred revenue release that does not foot.
        self.plain("unbalanced_entry", lines=[(acct("6530", "400"), 18_452_30, "Accrue contractors"),
                                              (acct("2100"), -18_425_30, "Accrue contractors")])
        self.plain("unbalanced_entry", user=AP_SPECIALIST, source="Vendor Bill", text="Okta Inc - invoice 88120",
                   lines=[(acct("6100", "100"), 4_180_00, "Okta licences"), (acct("6100", "400"), 1_240_00, "Okta"),
                          (acct("2000"), -4_180_00, "Okta Inc")], convention="a bill")
        self.plain("unbalanced_entry", user=EXPENSIFY, source="Expense Report", at=time(3, 12, 40),
                   text="Expense report - Grace Liu - ER551903",
                   lines=[(acct("6300", "200"), 612_48, "Grace Liu - travel"), (acct("2600"), -612_47, "Amex")],
                   convention="a system posting")
        self.plain("unbalanced_entry", entity=UK, text="Payroll adjustment - bureau correction",
                   lines=[(acct("6000", "200"), 3_412_80, "Gross pay"), (acct("2200"), -1_024_00, "PAYE")])
        self.plain("unbalanced_entry", user=REVENUE_ACCT, text="Release deferred revenue - ramp deal",
                   lines=[(acct("2400"), 41_060_00, "Release"), (acct("4000", "200"), -40_160_00, "Revenue")])
        # Duplicates: a bill keyed again by the AP manager, a bill keyed twice by the same clerk two days
        # apart, an accrual keyed twice, a UK bill keyed twice, an expense report Expensify sent again.
        for entity, stream, shift, user in ((US, "vendor_bill", 3, AP_MANAGER), (US, "vendor_bill", 2, None),
                                            (US, "accrual", 0, None), (UK, "vendor_bill", 1, None),
                                            (US, "expense_report", 1, None)):
            pool = [j for j in self.journals if j.entity == entity and j.stream == stream and j.role == "clean"
                    and date(2025, 3, 1) < j.effective < date(2025, 10, 31) and j.debits > 150_00]
            original = rng.choice(pool)
            original.role = "involved"
            entered = next_day(original.entered, office_day_test(entity), shift) if shift and original.person else \
                original.entered + timedelta(days=shift)
            at = original.at if not shift else self.office_time(entity, entered) if original.person else \
                self.between(3 * 60, 3 * 60 + 40)
            copy = replace(original, entered=entered, at=at, user=user or original.user, lines=list(original.lines),
                           kind="duplicate_entry", role="planted", stream="planted")
            self.journals.append(copy)
        # High value: far above materiality, keyed and approved like any other entry.
        for entity, amount, debit, credit, text in (
                (US, 4_812_306_45, acct("5000", "500"), acct("2100"), "Accrue AWS enterprise commit shortfall"),
                (US, 3_118_940_12, acct("1650"), acct("6000", "400"), "Capitalize platform rebuild - all of 2025"),
                (US, 2_640_775_80, acct("1200"), acct("2400"), "Unbilled receivable - multi-year ramp deal"),
                (UK, 1_207_418_33, acct("6950", "100"), acct("2500"), "Intercompany IP licence charge"),
                (US, 5_204_118_60, acct("1010"), acct("1000"), "Sweep to money market - treasury")):
            self.plain("high_value", entity=entity, amount=amount, debit=debit, credit=credit, text=text,
                       user=SENIOR if entity == US else UK_ACCOUNTANT)
        # Round amounts: whole thousands on estimates.
        for entity, amount, debit, text in ((US, 250_000_00, acct("6030", "200"), "Accrue sales bonus - estimate"),
                                            (US, 75_000_00, acct("6500", "100"), "Accrue litigation costs - estimate"),
                                            (US, 40_000_00, acct("6400", "300"), "Accrue conference - estimate"),
                                            (UK, 30_000_00, acct("6530", "400"), "Accrue contractors - estimate"),
                                            (US, 150_000_00, acct("5000", "500"), "Accrue hosting - estimate")):
            self.plain("round_amount", entity=entity, amount=amount, debit=debit, text=text)
        # Recurring endings: one accountant, one consultant, amounts all ending in 847.25.
        for amount in (4_847_25, 7_847_25, 12_847_25, 9_847_25, 15_847_25):
            self.plain("recurring_ending", user=STAFF_2, debit=acct("6510", "100"), credit=acct("2000"),
                       amount=amount, text="Consulting - Brightline Advisory")
        # People who do not post: a sales-ops admin, the NetSuite administrator, an FP&A analyst, a temp, and the
        # UK's sales director.
        for user, entity, debit, credit in (("Brian Keller", US, acct("6100", "200"), acct("2100")),
                                            ("NetSuite Administrator", US, acct("6100", "400"), acct("2100")),
                                            ("Sophie Tran", US, acct("6400", "300"), acct("2100")),
                                            ("Robert Half Temp 02", US, acct("6210", "100"), acct("2000")),
                                            ("James Whitfield", UK, acct("6300", "200"), acct("2100"))):
            self.plain("unusual_user", user=user, entity=entity, debit=debit, credit=credit,
                       text=f"Adjust {account_name(debit).lower()}")
        # Manual entries to revenue (deferred revenue released by hand, a services top-up), cash and equity.
        for entity, user, debit, credit, text, convention in (
                (US, REVENUE_ACCT, acct("2400"), acct("4000", "200"), "Manual release of deferred revenue - Northstar",
                 "revenue"),
                (US, STAFF_2, acct("1200"), acct("4100", "600"), "Recognize PS revenue - milestone pending", "revenue"),
                (UK, UK_ACCOUNTANT, acct("2400"), acct("4000", "200"), "Release deferred revenue - Bluefin Ltd",
                 "revenue"),
                (US, STAFF_1, acct("1000"), acct("6900", "100"), "Adjust operating cash to bank", "cash"),
                (US, SENIOR, acct("3200"), acct("2100"), "Prior year accrual to retained earnings", "equity"),
                (US, STAFF_2, acct("2100"), acct("3100"), "Reclass accrual to paid-in capital", "equity")):
            self.plain("manual_to_sensitive_account", entity=entity, user=user, debit=debit, credit=credit, text=text,
                       amount=self.cents(21_000 if entity == US else 8_000, 0.4), convention=convention)
        # Keyed at the weekend by the finance team.
        for entity, day in ((US, date(2025, 3, 15)), (US, date(2025, 5, 18)), (UK, date(2025, 7, 12)),
                            (US, date(2025, 8, 23)), (US, date(2025, 10, 19))):
            self.plain("weekend_posting", entity=entity, day=day, at=self.between(10 * 60, 14 * 60) if entity == US
                       else None)
        # Keyed on the holidays the office closes for (revenue recognition, Stripe and Expensify post on them).
        for entity, day in ((US, date(2025, 7, 4)), (US, date(2025, 9, 1)), (US, date(2025, 11, 27)),
                            (US, date(2025, 12, 25)), (UK, date(2025, 8, 25))):
            self.plain("holiday_posting", entity=entity, day=day, at=self.between(10 * 60, 14 * 60) if entity == US
                       else None)
        # Keyed late at night by finance users.
        for at in (time(22, 50, 14), time(23, 35, 2), time(1, 20, 47), time(4, 5, 33), time(21, 58, 10)):
            self.plain("after_hours", at=at)
        # Period end: the VP Finance's revenue top-side on the last day of a quarter, and expense accruals
        # released on the last day of a month, keyed that day.
        for day, amount in ((date(2025, 3, 31), 385_412_60), (date(2025, 6, 30), 412_908_15),
                            (date(2025, 9, 30), 297_164_80)):
            self.plain("period_end", day=day, user=VP_FINANCE, debit=acct("1200"), credit=acct("4000", "200"),
                       amount=amount, text="Revenue top-side - Q-end bookings per VP Finance", at=time(16, 52, 8),
                       convention="revenue top-side by the VP Finance", approver=CFO)
        for day, amount in ((date(2025, 8, 29), 212_660_40), (date(2025, 12, 31), 264_118_25)):
            self.plain("period_end", day=day, user=SENIOR, debit=acct("2100"), credit=acct("6410", "300"),
                       amount=amount, text="Release advertising accrual", at=time(17, 8, 40),
                       convention="accrual released at month end")
        # After the close: keyed in March-May 2026 into the closed year.
        for entity, effective, keyed, debit, credit in (
                (US, FY_END, date(2026, 3, 10), acct("6030", "200"), acct("2120")),
                (US, FY_END, date(2026, 3, 24), acct("2400"), acct("4000", "200")),
                (UK, FY_END, date(2026, 4, 7), acct("6530", "400"), acct("2100")),
                (US, date(2025, 12, 15), date(2026, 4, 21), acct("5000", "500"), acct("2100")),
                (US, date(2025, 11, 30), date(2026, 5, 5), acct("6500", "100"), acct("2100"))):
            self.plain("post_closing", entity=entity, day=effective, entered=keyed, debit=debit, credit=credit,
                       text=f"FY2025 {account_name(debit).lower()} - late adjustment")
        # Backdated within the year: keyed months after the date they take effect.
        for entity, effective, keyed in ((US, date(2025, 2, 12), date(2025, 6, 17)),
                                         (US, date(2025, 4, 9), date(2025, 8, 13)),
                                         (UK, date(2025, 5, 14), date(2025, 9, 10)),
                                         (US, date(2025, 6, 11), date(2025, 10, 22)),
                                         (US, date(2025, 8, 13), date(2025, 12, 10))):
            self.plain("backdated", entity=entity, day=effective, entered=keyed)
        # No description at all.
        for entity in (US, US, UK, US, US):
            self.plain("missing_description", entity=entity, text="")
        # Suspicious wording.
        for entity, text in ((US, "Plug to tie deferred revenue rollforward"), (US, "Per CEO - book before Q close"),
                             (UK, "Manual override - do not reverse"), (US, "Adjust to hit Q3 EBITDA target"),
                             (US, "Keep off the recon - true up later")):
            self.plain("suspicious_keyword", entity=entity, text=text)
        # Accounts no other entry uses all year.
        for entity, debit, credit, text in ((US, acct("7500", "100"), acct("2000"), "Donation - Code.org"),
                                            (US, acct("7600", "100"), acct("2100"), "IRS penalty - late 941 deposit"),
                                            (US, acct("1800"), acct("1000"), "Advance to employee - relocation"),
                                            (US, acct("7700", "100"), acct("1600"), "Write off stolen laptops"),
                                            (UK, acct("7600", "100"), acct("2100"), "HMRC late filing penalty")):
            self.plain("seldom_used_account", entity=entity, debit=debit, credit=credit, text=text)
        # Common accounts never combined with each other.
        for entity, debit, credit in ((US, acct("2400"), acct("6410", "300")), (US, acct("5000", "500"), acct("1400")),
                                      (US, acct("2300"), acct("6100", "100")), (US, acct("1300"), acct("4900", "200")),
                                      (UK, acct("2310"), acct("6300", "200"))):
            self.plain("rare_account_pair", entity=entity, debit=debit, credit=credit,
                       text=f"Adjust {account_name(debit).lower()} against {account_name(credit).lower()}")
        # Just below the 100,000.00 approval limit, no approver.
        for entity, amount in ((US, 99_812_40), (US, 99_950_15), (UK, 99_704_88), (US, 99_888_02), (US, 99_976_30)):
            self.plain("below_approval_threshold", entity=entity, amount=amount, debit=acct("6400", "300"),
                       text="Accrue partner marketing - invoice pending")
        # Splits: one user, one day, the same accounts, each part under the limit, together above it.
        day = self.ordinary_day()
        for amount in (64_210_40, 58_930_15, 61_480_80):
            self.plain("split_entry", day=day, user=SENIOR, debit=acct("6410", "300"), amount=amount,
                       text="Accrue paid social campaign - Meta", convention="three parts")
        day = self.ordinary_day()
        for amount in (87_615_30, 79_240_55):
            self.plain("split_entry", day=day, user=STAFF_1, debit=acct("6530", "400"), amount=amount,
                       text="Accrue offshore development - Toptal", convention="two parts")
        # Suspense: differences parked in the suspense accounts.
        for entity, account, other, text in ((US, "1999", "1050", "Unmatched Stripe payout difference - park"),
                                             (US, "1999", "1100", "Unapplied customer remittance - park"),
                                             (US, "2999", "2200", "Gusto tax variance - park"),
                                             (UK, "1999", "1000", "Barclays unreconciled difference"),
                                             (US, "1999", "2000", "AP subledger to GL difference")):
            amount = self.cents(8_400 if entity == US else 2_100, 0.5)
            self.plain("suspense_account", entity=entity, text=text,
                       lines=[(acct(account), amount, text), (acct(other), -amount, text)])
        return self

    # --- numbering ---
    def finish(self) -> LedgerBuilder:
        """Numbers every transaction in the order it was created, one sequence per transaction type shared by
        both subsidiaries and by the neighbouring years; five transactions deleted mid-year leave holes."""
        rng = self.rng
        for sequence, size in (("JE", 1), ("JE", 2), ("BILL", 1), ("INV", 3), ("PYMT", 1)):
            while True:
                victim = rng.choice(self.journals)
                if SEQUENCE[victim.source] == sequence and victim.role == "clean" and not victim.deleted_before \
                        and date(2025, 4, 1) < victim.entered < date(2025, 11, 1):
                    break
            victim.kind, victim.role, victim.deleted_before = "sequence_gap", "planted", size
        by_sequence: dict[str, list] = {s: [] for s in FIRST_NUMBER}
        for journal in self.journals:
            by_sequence[SEQUENCE[journal.source]].append((journal.entered, journal.at, rng.random(), journal))
        for sequence, keyed, at in self.phantoms:
            by_sequence[sequence].append((keyed, at, rng.random(), None))
        for sequence, items in by_sequence.items():
            items.sort(key=lambda item: item[:3])
            number = FIRST_NUMBER[sequence] - 1
            for keyed, _, _, journal in items:
                number += 1 + (journal.deleted_before if journal else 0)
                if journal:
                    journal.journal_id = document_number(sequence, number, keyed)
        return self

    # --- export ---
    def write_csv(self, path: Path, *, entry_time_column: bool = False) -> Path:
        """NetSuite's saved search in ADS names: the unsigned amount and a D/C indicator, Entry_Date as the
        record's Date Created timestamp (no separate time), no Manual_Entry."""
        header = ["Business_Unit_Code", "Fiscal_Year", "Period", "Journal_ID", "Journal_ID_Line_Number",
                  "Effective_Date", "Entry_Date", *(["Entry_Time"] if entry_time_column else []), "GL_Account_Number",
                  "GL_Account_Name", "Amount", "Amount_Credit_Debit_Indicator", "Amount_Currency",
                  "JE_Header_Description", "JE_Line_Description", "Source", "Entered_By", "Approved_By"]
        rows = []
        for j in self.journals:
            for line, (account, cents, text) in enumerate(j.lines, start=1):
                stamp = f"{j.entered:%Y-%m-%d}T{j.at:%H:%M:%S}"
                rows.append((j.entity, j.journal_id, line, [
                    j.entity, FISCAL_YEAR, j.effective.month, j.journal_id, line, f"{j.effective:%m/%d/%Y}", stamp,
                    *([j.at.strftime("%H:%M:%S")] if entry_time_column else []), account, account_name(account),
                    f"{abs(cents) // 100}.{abs(cents) % 100:02d}", "D" if cents >= 0 else "C", CURRENCY[j.entity],
                    j.header, text, j.source, j.user, j.approver or ""]))
        rows.sort(key=lambda r: r[:3])
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(r[3] for r in rows)
        return path

    def labels(self) -> pl.DataFrame:
        return pl.DataFrame(
            [{"entity_id": j.entity, "journal_id": j.journal_id, "kind": j.kind, "convention": j.convention,
              "role": j.role, "stream": j.stream, "person": j.person, "manual_journal": j.manual_journal,
              "user": j.user, "source": j.source, "effective_date": j.effective, "entry_date": j.entered,
              "entry_time": j.at, "debits": j.debits, "accounts": sorted({a for a, _, _ in j.lines})}
             for j in self.journals],
            schema={"entity_id": pl.String, "journal_id": pl.String, "kind": pl.String, "convention": pl.String,
                    "role": pl.String, "stream": pl.String, "person": pl.Boolean, "manual_journal": pl.Boolean,
                    "user": pl.String, "source": pl.String, "effective_date": pl.Date, "entry_date": pl.Date,
                    "entry_time": pl.Time, "debits": pl.Int64, "accounts": pl.List(pl.String)})


def build_ledger(seed: int = 20_251_231) -> LedgerBuilder:
    return LedgerBuilder(seed).build_clean().plant().finish()


# --- Running the CLI and measuring ----------------------------------------------------------------------

KEYS = ["entity_id", "journal_id"]
TIMING = ("weekend_posting", "holiday_posting", "after_hours", "period_end", "post_closing", "backdated")


@pytest.fixture(scope="module")
def ledger() -> LedgerBuilder:
    return build_ledger()


@pytest.fixture(scope="module")
def export(ledger: LedgerBuilder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ledger.write_csv(tmp_path_factory.mktemp("export") / "CRS_GL_Detail_FY2025.csv")


def _run(ledger: LedgerBuilder, export: Path, work: Path, *, title: str) -> Run:
    return judged_run(export, work, ledger.labels(), f"unseen SaaS ledger, {title}")


@pytest.fixture(scope="module")
def run(ledger: LedgerBuilder, export: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``auditray je analyze`` over the export as NetSuite wrote it, default settings, no chart."""
    return _run(ledger, export, tmp_path_factory.mktemp("saas"), title="default settings, no chart")


def _found(planted: pl.DataFrame, test_id: str) -> dict:
    return {"planted": planted.height, "found": int(planted["tests"].list.contains(test_id).sum()),
            "missed": planted.filter(~pl.col("tests").list.contains(test_id))
            .select("entity_id", "journal_id", "convention", "tests", "risk_rank").to_dicts()}


def _day_off(column: str) -> pl.Expr:
    """A weekend, a US federal holiday or an English bank holiday."""
    return (pl.col(column).dt.weekday() >= 6) | pl.col(column).is_in([*FEDERAL_HOLIDAYS, *UK_BANK_HOLIDAYS])


def _ordinary_day(column: str) -> pl.Expr:
    return ~_day_off(column) & ~pl.col(column).is_in(list(US_OFFICE_CLOSED)) \
        & pl.col(column).dt.day().is_between(8, 24)


def _trips_any(tests: tuple[str, ...] | list[str]) -> pl.Expr:
    return pl.col("tests").list.eval(pl.element().is_in(list(tests))).list.any()


def _keyed_beside_another_year(frame: pl.DataFrame) -> pl.DataFrame:
    """Entries keyed while the neighbouring fiscal year's transactions took numbers from the same sequences:
    FY2024's close and late bills until 12 February 2025; FY2026's transactions from 1 January 2026."""
    return frame.filter((pl.col("entry_date") <= date(2025, 2, 12)) | (pl.col("entry_date") > FY_END))


# Where the defaults fall short on this ledger: the cause in the library, with what the first run showed.
GAPS: dict[str, str] = {
    "holidays_worked": (
        "facts.py worked_holidays now sets aside the users who post every day (facts.always_on_users: revenue "
        "recognition, Stripe and Expensify; 11 of 11 federal holidays were 'worked' before), but then the ordinary "
        "working day's median is 19 entries, under WORKED_HOLIDAY_MIN_DAY = 20, so no holiday is found worked; and "
        "the count is over both subsidiaries together, not per entity: the UK team keys on US holidays (12 "
        "entries on Thanksgiving, which the US office closes for, against 12 on Veterans Day, which it works)"),
    "holiday_full": (
        "the four planted US entries keyed on 4 Jul, 1 Sep, 27 Nov and 25 Dec now trip holiday_posting in full "
        "(0.3 before the always-on interfaces were set aside); the UK entry keyed on the English August bank holiday "
        "(25 Aug) trips nothing: settings.holiday_calendar offers 'us_federal' or 'none', one calendar for every "
        "entity"),
    "post_closing": (
        "facts.py: without a stated closing date it is the fiscal year end + settings.closing_days_after_year_end "
        "= 30 days (30 January 2026); the December close runs to 13 February as a US SaaS company's year-end close "
        "does, and the entries keyed 2-13 February trip post_closing at full strength (1.0); the ledger's own "
        "keying of December-dated entries is not used to find the close"),
    "sequence_gap": (
        "auditray/je/analyze.py _gaps_at_year_boundaries opens the window for the previous year's close at the year's "
        "start for as long as this year's close takes (closing_days_after_year_end, 30 days: to 31 January 2025); "
        "FY2024's close took JE numbers until 12 February, so JE32181, keyed 13 February after JE32177 (keyed 12 "
        "February), trips sequence_gap in full for 3 numbers FY2024's entries took. (Since the shared numbering is "
        "recognised, stats._sequence_owners, this is the one clean entry left of 10,931.)"),
    "boundary": (
        "121 clean entries keyed beside the other year's transactions trip sequence_gap (1,569 before the shared "
        "numbering was recognised), most at 0.3 but some at 1.0: those keyed 1-12 February 2025 (JE32093, JE32112, "
        "JE32143, JE32173), beside FY2024's close, after the window auditray/je/analyze.py _gaps_at_year_boundaries "
        "opens for it (the year's first closing_days_after_year_end = 30 days)"),
    "uk_hours": "settings.business_hours_start/end 07:00-19:00, one window for all entities and no time zone: "
                "147 of the UK team's 459 clean entries on ordinary days trip after_hours at 1.0",
    "uk_holidays": (
        "holiday_posting is weak (0.3) on the UK team's entries keyed on US holidays, but 5 of them are rated high "
        "because they also trip after_hours at 1.0 (Denver time, see above) and manual_to_sensitive_account "
        "(customer payments and bank fees read as manual journals to cash)"),
    "sbc": (
        "the 11 monthly SBC entries still rate high: since an account posted to month after month is in regular "
        "use (facts.REGULAR_USE_MIN_JOURNALS 6 over REGULAR_USE_MIN_DAYS 150) they no longer trip "
        "seldom_used_account (each department's 6060-xxx account, 12 journals a year, was under "
        "seldom_account_max_journals 17), but benford_outlier at 1.0 with high_value, manual_to_sensitive_account "
        "(APIC), period_end and ml_outlier keep them there"),
}

# --- The auditor's checklist ----------------------------------------------------------------------------

# Reading the export.

def test_the_export_is_recognised_as_ads_with_an_unsigned_amount_and_a_debit_credit_indicator(export: Path) -> None:
    """ADS GL_Detail headers as NetSuite's saved search names them: no mapping file."""
    from auditray.ingest import validate_source

    report = validate_source(export, "gl_detail")
    print("\ningestion:", report.profile, report.mapping, report.warnings, sep="\n  ")
    assert report.ok and not report.errors
    assert report.profile == "ads"
    expected = {"entity_id": "Business_Unit_Code", "journal_id": "Journal_ID",
                "line_number": "Journal_ID_Line_Number", "effective_date": "Effective_Date",
                "entry_date": "Entry_Date", "amount": "Amount signed by Amount_Credit_Debit_Indicator",
                "amount_currency": "Amount_Currency", "approved_by": "Approved_By", "entered_by": "Entered_By",
                "source": "Source", "gl_account_name": "GL_Account_Name", "period": "Period",
                "fiscal_year": "Fiscal_Year"}
    assert {k: report.mapping.get(k) for k in expected} == expected


def test_the_whole_export_is_read_to_the_cent_with_signs_from_the_indicator(ledger: LedgerBuilder, run: Run) -> None:
    assert run.summary["journals"] == run.entries.height == len(ledger.journals)
    assert run.summary["lines"] == sum(len(j.lines) for j in ledger.journals)
    assert run.summary["tests_not_run"] == {}, "every field the battery needs is in the export"
    for entity in ENTITIES:
        mine = [j for j in ledger.journals if j.entity == entity]
        facts = run.population["entities"][entity]
        totals = facts["control_totals"]
        assert totals["journals"] == len(mine)
        assert money_cents(totals["debits"]) == sum(j.debits for j in mine)
        planted = [j for j in mine if j.kind == "unbalanced_entry"]
        assert facts["unbalanced_entries"]["count"] == len(planted)
        assert money_cents(facts["unbalanced_entries"]["net"]) == sum(c for j in planted for _, c, _ in j.lines) \
            == money_cents(totals["net"])


def test_entry_times_are_read_from_the_entry_date_timestamp(ledger: LedgerBuilder, run: Run) -> None:
    """NetSuite's Date Created is one timestamp (2025-03-04T14:22:10); the export has no Entry_Time column."""
    assert "after_hours" not in run.summary["tests_not_run"]
    times = run.entries.select(*KEYS, read=pl.col("entry_time")).join(
        ledger.labels().select(*KEYS, "entry_time"), on=KEYS)
    assert times.height == len(ledger.journals)
    assert times.filter(pl.col("read") != pl.col("entry_time")).height == 0, times.head(3).to_dicts()


# The population facts the thresholds rest on.

def test_both_subsidiaries_are_found_with_the_calendar_year(run: Run) -> None:
    assert set(run.population["entities"]) == set(ENTITIES)
    for entity in ENTITIES:
        facts = run.facts(entity)
        assert (facts["fiscal_year_start"], facts["fiscal_year_end"]) == ("2025-01-01", "2025-12-31"), entity
        assert facts["period_end_dates"] == [d.isoformat() for d in MONTH_ENDS]
        assert run.population["entities"][entity]["period_coverage"]["entries_outside_fiscal_year"] == 0


def test_the_approval_limit_read_from_the_approvals_is_the_company_s_100_000(run: Run) -> None:
    for entity in ENTITIES:
        limits = run.population["entities"][entity]["approval_limits"]
        assert limits and {v["limit"] for v in limits.values()} == {"100,000.00"}, (entity, limits)


def test_materiality_is_estimated_from_each_subsidiary_s_revenue_in_its_own_currency(ledger: LedgerBuilder,
                                                                                     run: Run) -> None:
    """ISA 320 A7: revenue is the 4xxx accounts (subscription, services, usage, less credits); the
    intercompany management fee is not revenue of the group's customers."""
    for entity in ENTITIES:
        revenue = -sum(c for j in ledger.journals if j.entity == entity for a, c, _ in j.lines if a[:4] in REVENUE)
        reported = run.facts(entity)["revenue"]
        assert reported is not None and money_cents(reported) == pytest.approx(revenue, rel=0.02), (entity, reported)


# Who keyed what without a Manual_Entry column: people, and NetSuite's system and integration users.

def test_journals_the_finance_team_keys_are_read_as_manual(run: Run) -> None:
    keyed = run.judged.filter(pl.col("manual_journal") & (pl.col("role") == "clean"))
    assert keyed.height > 400
    missed = keyed.filter(~pl.col("manual"))
    assert missed.height == 0, missed.group_by("stream", "user").len().sort("len", descending=True).to_dicts()


def test_the_system_and_integration_users_postings_are_read_as_system_postings(run: Run) -> None:
    """-System-, Stripe Connector, Expensify Integration, Gusto Payroll and Avalara Integration, journals
    included (Stripe's payouts and Avalara's remittances are Journal records)."""
    system = run.judged.filter(~pl.col("person") & (pl.col("role") == "clean"))
    assert system.height > 30_000 and system["user"].n_unique() == len(SYSTEM_USERS)
    read_as_manual = system.filter(pl.col("manual"))
    assert read_as_manual.height == 0, read_as_manual.group_by("user", "source").len().to_dicts()


def test_the_forms_people_key_are_read_as_standard_transactions_not_manual_journals(run: Run) -> None:
    """NetSuite's one manual journal is the Journal Entry; invoices, credit memos, vendor bills, customer
    payments and bill payments are entered through forms and tested in their cycles (AS 2401 .61(b))."""
    forms = run.judged.filter(pl.col("person") & (pl.col("source") != "Journal") & (pl.col("role") == "clean"))
    assert forms.height > 4_000 and forms["source"].n_unique() == 5
    read_as_manual = forms.filter(pl.col("manual"))
    assert read_as_manual.height == 0, read_as_manual.group_by("source").len().sort("source").to_dicts()


@pytest.mark.xfail(strict=True, reason=GAPS["holidays_worked"])
def test_the_federal_holidays_the_us_office_works_are_found_worked_and_those_it_closes_for_are_not(run: Run) -> None:
    """Revenue recognition, Stripe and Expensify post on every holiday; only the people's entries say whether
    the office worked it."""
    worked = {date.fromisoformat(d) for d in run.population["holidays_worked"]["days"]}
    assert set(WORKED_FEDERAL_HOLIDAYS) <= worked, sorted(worked)
    assert not worked & set(US_OFFICE_CLOSED), sorted(worked & set(US_OFFICE_CLOSED))


# Every planted kind, found by its own test.

PLANTED_KINDS = ("unbalanced_entry", "sequence_gap", "duplicate_entry", "high_value", "round_amount",
                 "recurring_ending", "unusual_user", "manual_to_sensitive_account", "weekend_posting",
                 "holiday_posting", "after_hours", "period_end", "post_closing", "backdated", "missing_description",
                 "suspicious_keyword", "seldom_used_account", "rare_account_pair", "below_approval_threshold",
                 "split_entry", "suspense_account")
KIND_GAPS: dict[str, str] = {
    "holiday_posting": "4 of 5: the UK entry keyed on the English August bank holiday trips nothing "
                       "(settings.holiday_calendar: 'us_federal' or 'none', one calendar for all entities)",
    "suspicious_keyword": (
        "3 of 5: settings.DEFAULT_SUSPICIOUS_KEYWORDS are matched as whole phrases: 'Adjust to hit Q3 EBITDA target' "
        "(the list has 'hit target' and 'hit the target') and 'Keep off the recon - true up later' (it has 'off the "
        "books') trip nothing; 'Plug ...', 'Per CEO ...' and 'Manual override ...' are found"),
}


@pytest.mark.parametrize("kind", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=KIND_GAPS[k])) if k in KIND_GAPS else k
    for k in PLANTED_KINDS])
def test_every_planted_kind_is_found_by_its_own_test(run: Run, kind: str) -> None:
    found = _found(planted_of(run, kind), kind)
    assert found["planted"] >= 5
    assert found["found"] == found["planted"], found


def test_the_vp_finance_s_quarter_end_revenue_top_sides_are_rated_high(run: Run) -> None:
    """Dr unbilled receivables, Cr subscription revenue on the last day of the quarter, by a VP who keys
    nothing else: manual, to revenue, at period end (AS 2401 .61, ISA 240 A43)."""
    top_sides = planted_of(run, "period_end").filter(pl.col("user") == VP_FINANCE)
    assert top_sides.height == 3
    assert top_sides["tests"].list.contains("manual_to_sensitive_account").all(), top_sides.select("tests")
    assert (top_sides["risk_band"] == "high").all(), top_sides.select("journal_id", "risk_band", "tests").to_dicts()


def test_manual_releases_of_deferred_revenue_and_revenue_top_ups_are_found(run: Run) -> None:
    planted = planted_of(run, "manual_to_sensitive_account").filter(pl.col("convention") == "revenue")
    found = _found(planted, "manual_to_sensitive_account")
    assert found["planted"] == 3 and found["found"] == 3, found


@pytest.mark.xfail(strict=True, reason=GAPS["holiday_full"])
def test_postings_keyed_on_holidays_the_office_closes_for_trip_the_holiday_test_in_full(run: Run) -> None:
    scores = score_of(run, "holiday_posting").filter(pl.col("kind") == "holiday_posting")
    assert scores.height == 5 and scores["test_scores"].min() == 1.0, scores.select(
        "entity_id", "entry_date", "test_scores").to_dicts()


def test_a_finance_user_s_weekend_entry_trips_the_weekend_test_in_full(run: Run) -> None:
    """Though revenue recognition, Stripe and Expensify post every Saturday and Sunday."""
    scores = score_of(run, "weekend_posting").filter(pl.col("kind") == "weekend_posting")
    assert scores.height == 5 and scores["test_scores"].min() == 1.0, scores.select(
        "entity_id", "journal_id", "test_scores").to_dicts()


def test_a_planted_hole_mid_year_trips_the_gap_test_in_full(run: Run) -> None:
    scores = score_of(run, "sequence_gap").filter(pl.col("kind") == "sequence_gap")
    assert scores.height == 5 and scores["test_scores"].min() == 1.0, scores.select(
        "entity_id", "journal_id", "test_scores").to_dicts()


def test_entries_keyed_after_the_close_into_the_closed_year_trip_post_closing_in_full(run: Run) -> None:
    scores = score_of(run, "post_closing").filter(pl.col("kind") == "post_closing")
    assert scores.height == 5 and scores["test_scores"].min() == 1.0, scores.select(
        "entity_id", "entry_date", "test_scores").to_dicts()


# The riskiest entries hold the planted ones.

def test_the_riskiest_one_percent_holds_nine_in_ten_planted_entries(run: Run) -> None:
    """The project's own bar for its generated ledgers (tests/test_je_detection.py)."""
    assert run.figures["planted"] <= run.figures["top_1pct"]["entries"]
    assert run.figures["top_1pct"]["share"] >= 0.9, run.figures["top_1pct"]


def test_the_riskiest_five_percent_holds_nearly_every_planted_entry(run: Run) -> None:
    assert run.figures["top_5pct"]["share"] >= 0.95, run.figures["top_5pct"]


# Clean entries trip tests rarely.

# Tests an honest entry of this ledger has no reason to trip: it balances, was keyed once, inside the year or
# its close, by someone who posts, with a text, to accounts that are no suspense; the numbering has no holes
# but the planted ones (the weeks beside another year's transactions have their own check below).
INTEGRITY = ("unbalanced_entry", "duplicate_entry", "post_closing", "backdated", "missing_description",
             "unusual_user", "recurring_ending", "split_entry", "suspense_account", "sequence_gap")
INTEGRITY_GAPS: dict[str, str] = {
    "post_closing": GAPS["post_closing"], "sequence_gap": GAPS["sequence_gap"]}


@pytest.mark.parametrize("test_id", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=INTEGRITY_GAPS[t])) if t in INTEGRITY_GAPS else t
    for t in INTEGRITY])
def test_a_clean_entry_does_not_trip_a_test_it_has_no_reason_to_trip(run: Run, test_id: str) -> None:
    clean = clean_of(run)
    if test_id == "sequence_gap":
        clean = clean.join(_keyed_beside_another_year(clean), on=KEYS, how="anti")
    if test_id == "unusual_user":
        # The Controller keys a handful of entries a year: that she seldom posts is the reason (checked below).
        clean = clean.filter(pl.col("user") != CONTROLLER)
    hits = clean.filter(pl.col("tests").list.contains(test_id))
    assert hits.height == 0, hits.group_by("entity_id", "stream", "user").len().sort("len", descending=True) \
        .head(8).to_dicts()


def test_the_controller_s_few_entries_are_listed_as_a_seldom_poster_s(run: Run) -> None:
    """AS 2401 .61(b): entries by individuals who typically do not make journal entries. The Controller keys 13
    a year (the quarterly tax provisions and review fees, their reversals, year-end entries) and approves 94:
    management's own entries, to look at."""
    theirs = clean_of(run).filter(pl.col("user") == CONTROLLER)
    assert theirs.height >= 10
    assert theirs["tests"].list.contains("unusual_user").all(), theirs.select("journal_id", "tests").to_dicts()


def test_the_numbering_the_two_subsidiaries_share_is_not_read_as_holes_in_the_uk_s(run: Run) -> None:
    """NetSuite numbers each transaction type once for all subsidiaries: CRS-UK's journals are JE32001,
    JE32019, JE32044 ... because CRS-US's took the numbers between. The union has no holes mid-year."""
    uk = clean_of(run).filter(pl.col("entity_id") == UK)
    uk = uk.join(_keyed_beside_another_year(uk), on=KEYS, how="anti")
    assert uk.height > 4_000
    hits = uk.filter(pl.col("tests").list.contains("sequence_gap"))
    assert hits.height == 0, (hits.height, hits.group_by("source").len().to_dicts())


@pytest.mark.xfail(strict=True, reason=GAPS["boundary"])
def test_numbers_the_neighbouring_years_transactions_took_trip_the_gap_test_only_weakly(run: Run) -> None:
    """Listed for the auditor to check against the other year, but not ranked as a deleted journal."""
    boundary = _keyed_beside_another_year(clean_of(run))
    assert boundary.height > 1_000
    scores = scores_of(run.entries, "sequence_gap", KEYS).join(boundary.select(KEYS), on=KEYS)
    assert scores.height == 0 or scores["test_scores"].max() <= 0.5, scores.sort("test_scores").tail(5).to_dicts()


CLEAN_SHARE = 0.03
SHARE_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("test_id", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=SHARE_GAPS[t])) if t in SHARE_GAPS else t
    for t in (*PLANTED_KINDS, "benford_outlier", "ml_outlier")])
def test_no_test_trips_more_than_three_percent_of_a_subsidiary_s_clean_entries(run: Run, test_id: str) -> None:
    """The battery's own line (scoring.common_test_share is 2 %): a sign on more entries is a trait, not a warning."""
    shares = (clean_of(run).group_by("entity_id").agg(share=pl.col("tests").list.contains(test_id).mean())
              .sort("entity_id"))
    assert shares["share"].max() <= CLEAN_SHARE, shares.to_dicts()


def test_few_clean_entries_are_rated_high_risk(run: Run) -> None:
    """A high band the auditor can follow up in full: at most 1 in 200 honest entries."""
    clean = clean_of(run)
    high = clean.filter(pl.col("risk_band") == "high")
    assert high.height <= 0.005 * clean.height, high.group_by("entity_id", "stream").len() \
        .sort("len", descending=True).to_dicts()


def test_the_daily_revenue_recognition_on_weekends_and_holidays_is_not_rated_high(run: Run) -> None:
    """The revenue arrangement engine runs every night of the year; Stripe charges cards and Expensify
    exports reports on every day too."""
    nightly = clean_of(run).filter(pl.col("stream").is_in(["rev_rec", "selfserve_invoice", "selfserve_payment",
                                                         "expense_report", "billing_run_payment"])
                                 & (_day_off("effective_date") | _day_off("entry_date")))
    assert nightly.filter(pl.col("stream") == "rev_rec").height > 350
    high = nightly.filter(pl.col("risk_band") == "high")
    assert high.height == 0, high.group_by("stream", "effective_date").len().head(8).to_dicts()


def test_a_clean_system_posting_on_an_ordinary_day_trips_no_timing_test(run: Run) -> None:
    """Revenue recognition at half past midnight, Expensify at 3 am, Stripe at any hour: the systems' own hours."""
    system = clean_of(run).filter(~pl.col("person") & _ordinary_day("effective_date") & _ordinary_day("entry_date"))
    assert system.height > 3_000 and system["stream"].n_unique() >= 6
    hits = system.filter(_trips_any(TIMING))
    assert hits.height == 0, hits.group_by("stream", "tests").len().sort("len", descending=True).head(8).to_dicts()


def test_a_clean_manual_entry_keyed_in_office_hours_mid_month_trips_no_timing_test(run: Run) -> None:
    manual = clean_of(run).filter((pl.col("stream") == "reclass") & (pl.col("entity_id") == US)
                                & _ordinary_day("effective_date"))
    assert manual.height > 50
    hits = manual.filter(_trips_any(TIMING))
    assert hits.height == 0, hits.select("entity_id", "effective_date", "tests").head(5).to_dicts()


@pytest.mark.xfail(strict=True, reason=GAPS["uk_hours"])
def test_the_uk_team_s_entries_keyed_in_london_office_hours_are_not_after_hours(run: Run) -> None:
    """The export shows Date Created in Denver time: the UK team's 9 am to 5:15 pm is 2 am to 10:15 am in it."""
    uk = clean_of(run).filter((pl.col("entity_id") == UK) & pl.col("person") & _ordinary_day("entry_date"))
    assert uk.height > 300 and uk["entry_time"].min() < time(4, 0)
    hits = uk.filter(pl.col("tests").list.contains("after_hours"))
    assert hits.height == 0, (hits.height, hits.group_by("stream").len().sort("len", descending=True).to_dicts())


@pytest.mark.xfail(strict=True, reason=GAPS["uk_holidays"])
def test_the_uk_team_s_entries_on_us_holidays_trip_the_holiday_test_only_weakly(run: Run) -> None:
    """London works on the Fourth of July and Thanksgiving: at most half strength, never high."""
    uk = score_of(run, "holiday_posting").filter(
        (pl.col("entity_id") == UK) & pl.col("person") & (pl.col("role") == "clean")
        & pl.col("entry_date").is_in(list(FEDERAL_HOLIDAYS)) & ~pl.col("entry_date").is_in(list(UK_BANK_HOLIDAYS)))
    assert uk.height > 20
    assert uk["test_scores"].max() <= 0.5, uk.filter(pl.col("test_scores") > 0.5).group_by("entry_date").len()
    assert uk.filter(pl.col("risk_band") == "high").height == 0


@pytest.mark.xfail(strict=True, reason=GAPS["post_closing"])
def test_the_february_close_of_the_december_year_end_is_not_post_closing_at_full_strength(run: Run) -> None:
    """The December year end's adjustments, keyed 2 January to 13 February 2026: the books were closed by these
    entries, not before them. Listed they may be, but only weakly (at most half strength)."""
    close = run.judged.filter(pl.col("stream") == "year_end_close")
    assert close.height >= 40 and close["entry_date"].min() > FY_END \
        and close["entry_date"].max() <= CLOSE_LAST_KEYED
    for test_id in ("post_closing", "backdated"):
        scores = score_of(run, test_id).filter(pl.col("stream") == "year_end_close")
        assert scores["test_scores"].max() <= 0.5, (test_id, scores.filter(pl.col("test_scores") > 0.5).select(
            "entity_id", "journal_id", "entry_date", "test_scores").head(5).to_dicts())


def test_the_billing_run_s_identical_subscription_invoices_and_card_payments_are_not_duplicates(run: Run) -> None:
    """Hundreds of customers on the same plan are billed 899.00 at 2 am on the 1st and charged by Stripe at 4 am:
    same date, accounts, amount and user, a different customer in each memo."""
    billing = clean_of(run).filter(pl.col("stream").is_in(["billing_run_invoice", "billing_run_payment"]))
    assert billing.height > 20_000
    hits = billing.filter(_trips_any(["duplicate_entry", "split_entry", "recurring_ending"]))
    assert hits.height == 0, (hits.height, hits.group_by("stream", "tests").len().head(8).to_dicts())
    assert billing.filter(pl.col("risk_band") == "high").height == 0


@pytest.mark.xfail(strict=True, reason=GAPS["sbc"])
def test_the_monthly_stock_compensation_to_paid_in_capital_is_not_rated_high(run: Run) -> None:
    """A manual entry to equity every month, approved, from the equity plan's report: routine, not a red flag."""
    sbc = clean_of(run).filter(pl.col("stream") == "sbc")
    assert sbc.height == 11  # December's is in the year-end close
    high = sbc.filter(pl.col("risk_band") == "high")
    assert high.height == 0, high.select("journal_id", "effective_date", "tests").to_dicts()
