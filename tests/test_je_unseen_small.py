"""Detection on a fourth unseen ledger: a small family business on QuickBooks Online, a sparse ADS export.

The other unseen-ledger modules (tests/test_je_unseen_ledger.py, tests/test_je_unseen_sap.py,
tests/test_je_unseen_services.py) hold 18,000-40,000 journals. The battery's thresholds are relative to the
population (rarity of users, accounts and pairs; digit subsets; the worked-holiday floor; materiality read
from the ledger's revenue), so this module builds a deliberately SMALL ledger and runs the real CLI over it
with default settings:

- Lindqvist Landscape & Snow LLC, a family business south of Minneapolis: lawn and grounds maintenance
  contracts and installation projects April-October, snow and ice management November-March; calendar
  year 2025, one company, some 2,300 transactions and 6,000 lines; revenue about 1.7 M USD;
- QuickBooks Online with account numbers (4-digit balance sheet, 5-digit expenses), the accounts QuickBooks
  creates itself without a number (``Undeposited Funds``, ``Minnesota Department of Revenue Payable``,
  ``Uncategorized Asset``, ``Ask My Accountant``), QuickBooks' own names (``Accounts Receivable (A/R)``,
  ``Sales of Product Income``) and income accounts named "... Income" as small businesses name them;
- the people: the owner (Erik Lindqvist, keys invoices, some on Saturday mornings), the bookkeeper (Karen
  Lindqvist, bills, payments, deposits, transfers, a few journal entries), the outside accountants
  (``Halvorsen & Berg CPAs``, who key the 2025 year-end adjustments in February 2026); and the integrations:
  ``Gusto`` (payroll), ``Square`` (card sales and payouts, also on Saturdays), ``Bank Feed`` (card and bank
  transactions accepted from the feed);
- the export: ADS GL_Detail headers, but sparse: ``Journal_ID`` (QuickBooks' transaction id, one sequence
  for every transaction type that runs on across the years), ``Effective_Date`` and ``Entered_Date`` in US
  format, NO ``Entered_Time``, NO ``Approved_By``, NO ``Period`` or ``Fiscal_Year``, NO ``Manual_Entry``, NO
  entity column, ``Source`` carrying QuickBooks' transaction types ("Invoice", "Bill", "Payment", "Bill Payment
  (Check)", "Deposit", "Journal Entry", "Payroll Check", "Sales Receipt", "Transfer", "Expense", "Sales Tax
  Payment"), ``GL_Account_Number`` beside ``GL_Account_Name``, and two money columns ``Debit_Amount`` /
  ``Credit_Amount``;
- what such a business posts: a busy season (weekly payroll from April, biweekly in winter), owner draws of
  5,000.00 twice a month, rent of 3,500.00, a line of credit drawn in spring and repaid in autumn, two truck
  loans, monthly sales tax, identical monthly invoices to customers on the same contract tier, per-push snow
  invoices after each storm, card purchases from the bank feed, and the CPA's year-end adjustments
  (depreciation, the salt and mulch count, prepaid insurance, accrued wages, a bad debt) dated 31 December
  2025 and keyed in February 2026: the ordinary close of a small company's books.

About three anomalies of every rule-based kind the export's fields allow are planted. after_hours (no entry
time) and below_approval_threshold (no approvals, no stated limit) cannot run: the population summary must
say so. The checklist: the export is read whole; the population facts are right; every planted kind is found
by its own test; the riskiest entries hold the planted ones (with some 60 plants in 2,300 entries the
planted entries exceed 1 % of the entries, so the first check takes the riskiest N entries, N the number of
planted entries, in place of the riskiest 1 %); clean entries trip tests rarely; the CPA's adjustments are
not treated as post-closing or backdated entries. Where the defaults fall short of what an auditor would
accept, the check stays, as a strict xfail naming the cause in the library.

First run (2,452 transactions, 5,945 lines, 64 planted; about 3 s for the CLI): ingestion read the sparse export
whole (Debit_Amount - Credit_Amount, US dates, the default entity, derived line numbers), the calendar year was
inferred without period columns, and after_hours and below_approval_threshold were reported not run with reasons
naming the missing entry time and approvals. 17 of the 19 planted kinds were found in full; manual entries to
revenue ("... Income") and cash ("Bremer Bank Checking") were not (2 of 5 found: the two to equity), nor were
postings to QuickBooks' catch-alls "Ask My Accountant" and "Uncategorized Asset" (0 of 4). Revenue was read as
31,426.83 ("Sales of Product Income" alone) instead of 1.6 M, so the high-value threshold was 235.70 and the
period-end amount 58.92. Gusto and Square were read as people. The riskiest 64 entries held 22 of the 64 planted
(34 %), the riskiest 5 % 58 %; the ten riskiest entries of the ledger but one were the CPA's ordinary February
adjustments (post_closing at full strength). Clean entries tripped high_value 1,979 times (83 %),
benford_outlier 1,395, split_entry 297, period_end 146, manual_to_sensitive_account 120, weekend_posting 98,
duplicate_entry 88 (tier-priced invoices), round_amount 54 (owner draws, the line of credit, round contracts),
holiday_posting 37 (worked holidays not found: too few entries a day), rare_account_pair 22, suspicious_keyword 17
(weakly: 'drainage correction', 'write off'), sequence_gap 11, post_closing 10 (the CPA), ml_outlier 4 and
seldom_used_account 4; 55 clean entries rated high.

Since then the library reads names ending in "Income" as revenue (other, interest, deferred income and gains
excepted), "... Checking"/"Savings"/"Money Market" as cash, QuickBooks' "Ask My Accountant" and "Uncategorized
..." as suspense, and QuickBooks and Xero form types (Invoice, Bill, Payment, Sales Receipt, Deposit, Payroll
Check, ...) as standard transactions, its "Journal Entry" as the manual journal. Every planted kind is found;
revenue reads 1,605,221.97 (threshold 12,039.16); the riskiest 64 hold 43 of the 64 planted (67 %), the riskiest 5 %
all of them; 12 clean entries rate high, ten of them the CPA's February adjustments. Still short: worked
holidays on a company keying ten entries a day, year-boundary holes outside the closing window, high_value just
above 3 % of clean entries (routine system postings, all weak; within 3 % since an interface's standard entry of
its usual size, Gusto's weekly payroll, no longer trips it), and the CPA's adjustments read as post-closing
entries at full strength (which an auditor does review: AS 2401 .58 names post-closing entries). weekend_posting
was at 4.1 % of clean entries until interface postings merely dated on a weekend (68 card purchases accepted from
the feed on a working day, 4 bills due on a Saturday) stopped counting: 20 Square receipts synced on Saturdays and
the owner's 6 Saturday invoices remain.
"""

from __future__ import annotations

import csv
import json
import math
import random
import time as clock
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.je_unseen_support import (
    Run,
    analyze_export,
    clean_of,
    detection_figures,
    money_cents,
    planted_of,
    score_of,
)

FISCAL_YEAR = 2025
FY_START, FY_END = date(2025, 1, 1), date(2025, 12, 31)
EXPORTED = date(2026, 5, 15)  # the bank asked for reviewed statements; the export was pulled in May
FIRST_ID = 18_437  # QuickBooks' transaction id of the first transaction keyed in 2025
SALES_TAX_RATE = 0.07375  # Minnesota 6.875 % and the local 0.5 %

# US federal holidays (observed, 5 U.S.C. 6103), typed in here. The office closes on some; the crews and the
# bookkeeper work MLK Day, Presidents' Day, Juneteenth, Columbus Day and Veterans Day. Banks close on all.
FEDERAL_HOLIDAYS = {
    date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 17), date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4),
    date(2025, 9, 1), date(2025, 10, 13), date(2025, 11, 11), date(2025, 11, 27), date(2025, 12, 25),
    date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 5, 25),
}
COMPANY_HOLIDAYS = {
    date(2025, 1, 1), date(2025, 5, 26), date(2025, 7, 4), date(2025, 9, 1), date(2025, 11, 27), date(2025, 11, 28),
    date(2025, 12, 24), date(2025, 12, 25), date(2026, 1, 1), date(2026, 5, 25),
}
WORKED_FEDERAL_HOLIDAYS = {date(2025, 1, 20), date(2025, 2, 17), date(2025, 6, 19), date(2025, 10, 13),
                           date(2025, 11, 11)}
# Storms the crews plowed (some on weekends); per-push customers are invoiced the next office day.
SNOW_EVENTS = (date(2025, 1, 5), date(2025, 1, 12), date(2025, 1, 27), date(2025, 2, 3), date(2025, 2, 11),
               date(2025, 2, 22), date(2025, 3, 4), date(2025, 3, 19), date(2025, 11, 19), date(2025, 11, 29),
               date(2025, 12, 2), date(2025, 12, 9), date(2025, 12, 14), date(2025, 12, 21), date(2025, 12, 28))

OWNER, BOOKKEEPER, CPA = "Erik Lindqvist", "Karen Lindqvist", "Halvorsen & Berg CPAs"
GUSTO, SQUARE, BANK_FEED = "Gusto", "Square", "Bank Feed"
INTEGRATIONS = (GUSTO, SQUARE, BANK_FEED)

# QuickBooks' account list: number -> name; accounts QuickBooks created without a number carry their name.
CHECKING, SAVINGS, SQUARE_CLEARING, UNDEPOSITED = "1000", "1010", "1050", "Undeposited Funds"
AR, INVENTORY, PREPAID, EQUIPMENT, ACCUM_DEP, ADVANCES = "1200", "1300", "1400", "1500", "1510", "1600"
UNCATEGORIZED, ASK_ACCOUNTANT = "Uncategorized Asset", "Ask My Accountant"
AP, CARD, SALES_TAX, PAYROLL_LIAB, ACCRUED = "2000", "2100", "Minnesota Department of Revenue Payable", "2200", "2300"
LOC, TRUCK_LOAN = "2500", "2600"
OWNER_EQUITY, OWNER_DRAW, RETAINED = "3000", "3100", "3900"
MAINTENANCE, INSTALLATION, SNOW, PRODUCT = "4000", "4100", "4200", "4300"
CHART = {
    CHECKING: "Bremer Bank Checking", SAVINGS: "Bremer Bank Savings", SQUARE_CLEARING: "Square Clearing",
    UNDEPOSITED: "Undeposited Funds", AR: "Accounts Receivable (A/R)", INVENTORY: "Inventory - Salt & Mulch",
    PREPAID: "Prepaid Insurance", EQUIPMENT: "Trucks & Equipment", ACCUM_DEP: "Accumulated Depreciation",
    ADVANCES: "Employee Advances", UNCATEGORIZED: "Uncategorized Asset", ASK_ACCOUNTANT: "Ask My Accountant",
    AP: "Accounts Payable (A/P)", CARD: "Capital One Spark Card", SALES_TAX: "Minnesota Department of Revenue Payable",
    PAYROLL_LIAB: "Payroll Liabilities", ACCRUED: "Accrued Liabilities", LOC: "Line of Credit - Bremer Bank",
    TRUCK_LOAN: "Truck Loans - Ford Credit",
    OWNER_EQUITY: "Owner's Equity", OWNER_DRAW: "Owner's Draw", RETAINED: "Retained Earnings",
    MAINTENANCE: "Landscape Maintenance Income", INSTALLATION: "Landscape Installation Income",
    SNOW: "Snow & Ice Management Income", PRODUCT: "Sales of Product Income",
    "5100": "Plants, Mulch & Materials", "5200": "Ice Melt & Salt", "5300": "Subcontractors",
    "5400": "Dump & Disposal Fees",
    "60100": "Fuel", "60200": "Equipment Repairs & Maintenance", "60300": "Insurance", "60400": "Rent & Lease",
    "60500": "Utilities", "60600": "Telephone & Internet", "60700": "Software & Subscriptions",
    "60800": "Advertising & Marketing", "60900": "Bank Charges & Fees", "61000": "Merchant Processing Fees",
    "61100": "Interest Paid", "61200": "Depreciation Expense", "61300": "Taxes & Licenses",
    "61400": "Legal & Professional Fees", "61500": "Meals", "61600": "Small Tools & Equipment",
    "61700": "Uniforms & Safety Gear", "61800": "Bad Debt", "62000": "Payroll Expenses:Wages",
    "62010": "Payroll Expenses:Taxes", "62020": "Payroll Expenses:Service Fees",
    "63000": "Charitable Contributions", "63100": "Penalties & Settlements", "70000": "Interest Earned",
}
REVENUE = (MAINTENANCE, INSTALLATION, SNOW, PRODUCT)

MAINTENANCE_CONTRACTS = (  # commercial grounds maintenance, monthly April-October (two at a round price)
    ("Cedar Ridge HOA", 3_842_50), ("Burnsville Crossing Shopping Center", 2_615_00), ("Lakeville Medical Plaza", 1_975_00),
    ("Apple Valley Business Park", 2_450_00), ("St. John's Lutheran Church", 985_00), ("Prairie View Townhomes", 3_000_00),
    ("Eagan Corporate Center", 4_125_00), ("Savage Senior Living", 1_640_00), ("Rosemount Dental Clinic", 725_00),
    ("Kwik Trip #412", 560_00), ("Orchard Lake Condominiums", 2_280_00), ("Heritage Pointe HOA", 3_310_00),
    ("Dakota County Library - Burnsville", 1_195_00), ("Northfield Credit Union", 840_00),
    ("Black Dog Office Park", 2_760_00), ("Lakeville Self Storage", 690_00), ("Marion Hills Apartments", 2_085_00),
    ("Cobblestone Court Shopping Center", 1_915_00), ("Valley Ridge Chiropractic", 615_00),
    ("Crystal Lake Townhome Association", 2_940_00), ("Minnesota Valley Church", 1_280_00),
    ("Burnsville Ford", 1_730_00),
)
SNOW_CONTRACTS = (  # commercial seasonal snow contracts, monthly January-March and November-December
    ("Cedar Ridge HOA", 4_615_00), ("Burnsville Crossing Shopping Center", 5_290_00), ("Lakeville Medical Plaza", 2_875_00),
    ("Apple Valley Business Park", 3_460_00), ("Eagan Corporate Center", 4_000_00), ("Savage Senior Living", 2_230_00),
    ("Orchard Lake Condominiums", 3_120_00), ("Heritage Pointe HOA", 3_985_00), ("Black Dog Office Park", 2_640_00),
    ("Marion Hills Apartments", 2_515_00), ("Crystal Lake Townhome Association", 3_370_00),
    ("Prairie View Townhomes", 3_655_00), ("Burnsville Ford", 1_890_00), ("Kwik Trip #412", 1_245_00),
    ("Northfield Credit Union", 1_160_00), ("Minnesota Valley Church", 1_475_00),
)
RESIDENTIAL_TIERS = (395_00, 475_00, 560_00)  # residential seasonal snow contracts: three driveway sizes
RESIDENTIAL = ("Anderson", "Bergstrom", "Carlson", "Dahl", "Eklund", "Fischer", "Gustafson", "Hanson", "Iverson",
               "Johnson", "Kowalski", "Larson", "Mattson", "Nelson")
PER_PUSH = ("Burnsville Tire & Auto", "Lakeville Veterinary Clinic", "Cub Foods Apple Valley - lot B",
            "Savage Dental Arts", "Rosemount Family Practice", "Valley Natural Foods")
PROJECT_CLIENTS = ("Olson residence", "Petersen residence", "Quist residence", "Ruud residence", "Swanson residence",
                   "Thorson residence", "Ulrich residence", "Vang residence", "Wold residence", "Xiong residence",
                   "Young residence", "Zimmerman residence", "Lakeville Medical Plaza", "Cedar Ridge HOA",
                   "Heritage Pointe HOA", "City of Savage - Park 7", "St. John's Lutheran Church")
PROJECTS = ("paver patio", "retaining wall", "irrigation system", "sod and grading", "landscape beds and plantings",
            "boulder wall and steps", "drainage correction", "tree and shrub installation")
# Vendor, account, months, bills a month, median, sigma.
BILL_VENDORS = (
    ("Bailey Nurseries", "5100", range(4, 10), 4, 2_300, 0.6),
    ("Hedberg Landscape Supply", "5100", range(4, 11), 4, 1_750, 0.7),
    ("North Star Salt & Ice Melt", "5200", (1, 2, 3, 11, 12), 2, 3_150, 0.4),
    ("Ziegler CAT", "60200", range(1, 13), 1, 1_050, 0.7),
    ("Twin Cities Irrigation", "5300", range(5, 10), 2, 2_550, 0.5),
    ("Burnsville Sanitary Landfill", "5400", range(4, 12), 1, 680, 0.4),
    ("Xcel Energy", "60500", range(1, 13), 1, 385, 0.4),
    ("Verizon Wireless", "60600", range(1, 13), 1, 412, 0.1),
    ("Lakeville Print & Sign", "60800", (3, 4, 5, 8, 9, 10), 1, 640, 0.5),
)
CARD_MERCHANTS = (  # merchant, account, purchases a week (season, winter), median, sigma
    ("KWIK TRIP", "60100", (3, 2), 112, 0.5), ("HOLIDAY STATIONSTORE", "60100", (2, 1), 98, 0.5),
    ("THE HOME DEPOT", "61600", (1, 0.5), 168, 0.8), ("MENARDS BURNSVILLE", "5100", (1, 0.3), 212, 0.8),
    ("CULVERS", "61500", (0.5, 0.2), 64, 0.5), ("NORTHERN TOOL", "61600", (0.3, 0.2), 245, 0.7),
)
CARD_MONTHLY = (("JOBBER.COM", "60700", 349_00), ("INTUIT *QBOOKS ONLINE", "60700", 90_00),
                ("GOOGLE *WORKSPACE", "60700", 50_40), ("GOOGLE *ADS", "60800", None), ("CINTAS #470", "61700", None))


def month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def is_office_day(day: date) -> bool:
    return day.weekday() < 5 and day not in COMPANY_HOLIDAYS


def is_bank_day(day: date) -> bool:
    return day.weekday() < 5 and day not in FEDERAL_HOLIDAYS


def next_office_day(day: date, n: int = 1) -> date:
    while n:
        day += timedelta(days=1)
        n -= is_office_day(day)
    return day


def office_day_on_or_after(day: date) -> date:
    return day if is_office_day(day) else next_office_day(day)


def office_day_on_or_before(day: date) -> date:
    while not is_office_day(day):
        day -= timedelta(days=1)
    return day


def bank_day_on_or_after(day: date) -> date:
    while not is_bank_day(day):
        day += timedelta(days=1)
    return day


def ordinary(day: date) -> bool:
    """A working day mid-month, on no holiday: timing says nothing about an entry keyed and dated on it."""
    return is_office_day(day) and day not in FEDERAL_HOLIDAYS and 6 <= day.day <= 24


# --- The ledger -----------------------------------------------------------------------------------------


@dataclass
class Journal:
    """One QuickBooks transaction; ``kind`` is the planted anomaly, if any."""

    effective: date
    entered: date
    user: str
    source: str
    header: str
    lines: list[tuple[str, int, str]]  # account, signed cents (debit positive), line memo
    stream: str
    kind: str | None = None
    convention: str | None = None  # planted on a convention the defaults may not know
    role: str = "clean"  # clean | planted | involved (the original of a planted duplicate)
    journal_id: str = ""
    deleted_before: int = 0  # transactions deleted just before this one was keyed (their ids are holes)

    @property
    def debits(self) -> int:
        return sum(c for _, c, _ in self.lines if c > 0)

    @property
    def person(self) -> bool:
        return self.user not in INTEGRATIONS


class LedgerBuilder:
    """The company's QuickBooks Online file for 2025, and the export an ADS conversion writes of it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.journals: list[Journal] = []
        self.numbered_elsewhere: list[date] = []  # transactions of other years (and deleted ones): ids only
        self.invoice_number = 2_318
        self.check_number = 7_406
        self.undeposited: list[tuple[date, int, str]] = []
        self.square_sales: dict[date, int] = {}
        self.card_charges: dict[int, int] = {}  # statement month -> charges
        self.tax_collected: dict[int, int] = {}  # month -> sales tax invoiced
        self.payables: list[Journal] = []

    # --- helpers ---
    def cents(self, median: float, sigma: float) -> int:
        """A lognormal amount in cents, never a whole hundred dollars."""
        value = round(median * math.exp(self.rng.gauss(0, sigma)) * 100)
        return value + 37 if value % 10_000 == 0 else max(value, 101)

    def add(self, **kwargs) -> Journal:
        journal = Journal(**kwargs)
        self.journals.append(journal)
        return journal

    def next_invoice(self) -> int:
        self.invoice_number += 1
        return self.invoice_number

    def accepted(self, day: date) -> date:
        """Bank-feed transactions are accepted on the bookkeeper's Tuesdays and Fridays."""
        day = next_office_day(day) if day.weekday() >= 5 else day + timedelta(days=1)
        while not (is_office_day(day) and day.weekday() in (1, 4)):
            day += timedelta(days=1)
        return day

    # --- the year ---
    def build_clean(self) -> LedgerBuilder:
        days = [FY_START + timedelta(days=i) for i in range((FY_END - FY_START).days + 1)]
        self._opening_balances()
        for month in range(1, 13):
            self._monthly_invoices(month)
            self._monthly_bills(month)
            self._monthly_bank(month)
        for event in SNOW_EVENTS:
            self._per_push(event)
        self._projects()
        for day in days:
            self._square(day)
            self._card(day)
            if is_office_day(day) and day.weekday() == 3:
                self._check_run(day)
            if is_bank_day(day) and day.weekday() == 4 or day == FY_END:
                self._deposit(day)
        self._square_payouts()
        self._payroll()
        self._owner_and_financing()
        self._bookkeeper_entries()
        self._year_end()
        self._other_years()
        return self

    def invoice(self, day: date, customer: str, lines: list[tuple[str, int, str]], *, taxable: int = 0,
                entered: date | None = None, user: str | None = None, stream: str, terms: tuple = (8, 45)) -> Journal:
        """An invoice keyed by the owner (the bookkeeper some days), collected by check or ACH."""
        rng = self.rng
        number = self.next_invoice()
        tax = round(taxable * SALES_TAX_RATE)
        if tax:
            lines = [*lines, (SALES_TAX, -tax, "MN sales tax 7.375%")]
            self.tax_collected[day.month] = self.tax_collected.get(day.month, 0) + tax
        total = -sum(c for _, c, _ in lines)
        journal = self.add(effective=day, entered=entered or day, user=user or (OWNER if rng.random() < 0.8 else BOOKKEEPER),
                           source="Invoice", header=f"Invoice {number} - {customer}",
                           lines=[(AR, total, customer), *lines], stream=stream)
        self._collect(day + timedelta(days=rng.randint(*terms)), total, customer, number)
        return journal

    def _collect(self, paid: date, amount: int, customer: str, number: int | str) -> None:
        paid = bank_day_on_or_after(paid)
        if paid > FY_END:
            self.numbered_elsewhere.append(office_day_on_or_after(paid))
            return
        keyed = office_day_on_or_after(paid)
        by_check = self.rng.random() < 0.45
        self.add(effective=paid, entered=keyed, user=BOOKKEEPER, source="Payment",
                 header=f"Payment - {customer} - inv {number}",
                 lines=[(UNDEPOSITED if by_check else CHECKING, amount, f"{'Check' if by_check else 'ACH'} {customer}"),
                        (AR, -amount, customer)], stream="payment")
        if by_check:
            self.undeposited.append((paid, amount, customer))

    def _opening_balances(self) -> None:
        """December 2024's invoices are collected in January; its bills are paid in January."""
        rng = self.rng
        for customer, fee in SNOW_CONTRACTS:
            self._collect(date(2024, 12, 2) + timedelta(days=rng.randint(31, 55)), fee, customer, rng.randint(2100, 2300))
        for vendor, natural, months, _, median, sigma in BILL_VENDORS:
            if 12 in months or natural in ("60200", "60500", "60600"):
                # A bill of 2024 (outside the export), paid in January by the check run; keyed in early January.
                invoiced = date(2024, 12, rng.randint(10, 28))
                amount = self.cents(median, sigma)
                self.payables.append(Journal(effective=invoiced, entered=date(2024, 12, 30), user=BOOKKEEPER,
                                             source="Bill", header=f"{vendor} - December 2024",
                                             lines=[(natural, amount, vendor), (AP, -amount, vendor)], stream="opening"))
                self.numbered_elsewhere.append(next_office_day(date(2025, 1, 1), rng.randint(0, 8)))

    def _monthly_invoices(self, month: int) -> None:
        rng = self.rng
        first = office_day_on_or_after(date(FISCAL_YEAR, month, 1))
        name = f"{first:%B %Y}"
        if 4 <= month <= 10:
            for customer, fee in MAINTENANCE_CONTRACTS:
                self.invoice(first, customer, [(MAINTENANCE, -fee, f"Grounds maintenance - {name}")], taxable=fee,
                             stream="contract_invoice", terms=(10, 40))
        if month in (1, 2, 3, 11, 12):
            for customer, fee in SNOW_CONTRACTS:
                self.invoice(first, customer, [(SNOW, -fee, f"Seasonal snow & ice management - {name}")],
                             stream="contract_invoice", terms=(10, 40))
            for index, customer in enumerate(RESIDENTIAL):
                fee = RESIDENTIAL_TIERS[index % len(RESIDENTIAL_TIERS)]
                self.invoice(first, f"{customer} residence", [(SNOW, -fee, f"Residential snow contract - {name}")],
                             stream="tier_invoice", terms=(5, 25))
        if month in (3, 4, 5, 9, 10):
            for _ in range(rng.randint(3, 6)):  # spring and fall cleanups, mulch deliveries
                day = office_day_on_or_after(date(FISCAL_YEAR, month, rng.randint(1, 28)))
                labour, mulch = self.cents(640, 0.5), self.cents(280, 0.6)
                customer = rng.choice(PROJECT_CLIENTS[:12])
                self.invoice(day, customer, [(MAINTENANCE, -labour, "Spring/fall cleanup"),
                                             (PRODUCT, -mulch, "Mulch delivered")], taxable=labour + mulch,
                             stream="cleanup_invoice", terms=(5, 30))

    def _per_push(self, event: date) -> None:
        keyed = next_office_day(event)
        for customer in PER_PUSH:
            pushes = self.rng.randint(1, 3)
            rate = {0: 285_00, 1: 340_00, 2: 515_00}[PER_PUSH.index(customer) % 3]
            self.invoice(keyed, customer, [(SNOW, -pushes * rate - self.cents(90, 0.6),
                                            f"Plowing {pushes} push(es) {event:%m/%d} and ice melt")],
                         stream="per_push_invoice", terms=(10, 35))

    def _projects(self) -> None:
        """Installation projects: a deposit invoice when the job is scheduled, the balance when it is done."""
        rng = self.rng
        saturdays = 0
        for index in range(52):
            start = office_day_on_or_after(date(FISCAL_YEAR, 4, 7) + timedelta(days=rng.randrange(190)))
            price = self.cents(9_500, 0.7)
            materials = round(price * 0.45)
            customer = rng.choice(PROJECT_CLIENTS)
            job = rng.choice(PROJECTS)
            deposit = round(price * 0.4)
            self.invoice(start, customer, [(INSTALLATION, -deposit, f"Deposit - {job}")],
                         taxable=round(deposit * materials / price), stream="project_invoice", terms=(2, 12))
            done = office_day_on_or_after(start + timedelta(days=rng.randint(14, 40)))
            user, entered, effective = None, done, done
            if saturdays < 6 and index % 7 == 3:
                # The owner writes up finished jobs on a Saturday morning now and then.
                effective = entered = done + timedelta(days=5 - done.weekday())
                user, saturdays = OWNER, saturdays + 1
            self.invoice(effective, customer, [(INSTALLATION, -(price - deposit), f"Balance - {job} completed")],
                         taxable=materials - round(deposit * materials / price), entered=entered, user=user,
                         stream="owner_weekend" if user else "project_invoice", terms=(5, 30))

    def _monthly_bills(self, month: int) -> None:
        rng = self.rng
        first = date(FISCAL_YEAR, month, 1)
        self.bill(first, "Nordby Properties", "60400", 3_500_00, "Shop and yard rent", keyed=office_day_on_or_after(first))
        self.bill(date(FISCAL_YEAR, month, 5), "Imperial PFS", "60300", 1_874_22, "Insurance premium finance installment")
        if month in (1, 4, 7, 10):
            self.bill(date(FISCAL_YEAR, month, 8), "Halvorsen & Berg CPAs", "61400", self.cents(1_250, 0.15),
                      "Quarterly bookkeeping review and payroll tax filings")
        if month == 3:
            self.bill(date(FISCAL_YEAR, 3, 14), "Halvorsen & Berg CPAs", "61400", self.cents(4_800, 0.1),
                      "2024 tax returns and financial statements")
        if month == 2:
            self.bill(date(FISCAL_YEAR, 2, 10), "City of Burnsville", "61300", 425_00, "Contractor license renewal")
        for vendor, natural, months, per_month, median, sigma in BILL_VENDORS:
            if month in months:
                for _ in range(per_month):
                    day = first + timedelta(days=rng.randrange(month_end(FISCAL_YEAR, month).day))
                    while day.weekday() >= 5:  # vendors invoice on weekdays
                        day -= timedelta(days=1)
                    self.bill(day, vendor, natural, self.cents(median, sigma), f"{vendor} invoice {rng.randrange(10_000, 99_999)}")

    def bill(self, day: date, vendor: str, natural: str, amount: int, text: str, *, keyed: date | None = None,
             user: str = BOOKKEEPER) -> Journal:
        keyed = keyed or office_day_on_or_after(day + timedelta(days=self.rng.randint(1, 8)))
        journal = self.add(effective=day, entered=keyed, user=user, source="Bill", header=f"{vendor} - {text}",
                           lines=[(natural, amount, text), (AP, -amount, vendor)], stream="bill")
        self.payables.append(journal)
        return journal

    def _check_run(self, day: date) -> None:
        """Thursday: checks for the bills due, each bill its own Bill Payment (Check)."""
        due = [b for b in self.payables if b.entered <= day - timedelta(days=2)
               and (b.effective <= day - timedelta(days=12) or "Nordby" in b.header or "Imperial" in b.header)]
        for bill in due:
            self.payables.remove(bill)
            amount = -bill.lines[-1][1]
            vendor = bill.header.split(" - ")[0]
            self.check_number += 1
            self.add(effective=day, entered=day, user=BOOKKEEPER, source="Bill Payment (Check)",
                     header=f"Check {self.check_number} - {vendor}",
                     lines=[(AP, amount, vendor), (CHECKING, -amount, f"Check {self.check_number}")], stream="check")

    def _deposit(self, day: date) -> None:
        """Friday: the week's checks go to the bank in one deposit."""
        checks = [c for c in self.undeposited if c[0] <= day]
        if not checks:
            return
        self.undeposited = [c for c in self.undeposited if c[0] > day]
        total = sum(a for _, a, _ in checks)
        self.add(effective=day, entered=office_day_on_or_before(day), user=BOOKKEEPER, source="Deposit",
                 header=f"Deposit {day:%m/%d/%Y} - {len(checks)} check(s)",
                 lines=[(CHECKING, total, "Bank deposit"), *((UNDEPOSITED, -a, f"Check {c}") for _, a, c in checks)],
                 stream="deposit")

    def _square(self, day: date) -> None:
        """Card sales of the residential crews and the yard (mulch, ice melt), synced by Square each evening."""
        rng = self.rng
        season = date(FISCAL_YEAR, 4, 14) <= day <= date(FISCAL_YEAR, 11, 8)
        if day.weekday() == 6 or day in COMPANY_HOLIDAYS:
            return
        if season:
            if day.weekday() == 5 and rng.random() < 0.45:
                return
            service, product = self.cents(1_250, 0.45), (self.cents(180, 0.7) if rng.random() < 0.4 else 0)
            lines = [(MAINTENANCE, -service, "Residential lawn service")]
        elif day.weekday() < 5 and rng.random() < 0.35:
            service, product = 0, self.cents(240, 0.6)
            lines = []
        else:
            return
        if product:
            lines.append((PRODUCT, -product, "Yard sales - mulch, ice melt"))
        tax = round((service + product) * SALES_TAX_RATE)
        self.tax_collected[day.month] = self.tax_collected.get(day.month, 0) + tax
        lines.append((SALES_TAX, -tax, "MN sales tax 7.375%"))
        total = service + product + tax
        self.add(effective=day, entered=day, user=SQUARE, source="Sales Receipt", header=f"Square daily sales {day:%m/%d/%Y}",
                 lines=[(SQUARE_CLEARING, total, "Square sales"), *lines], stream="square_sale")
        payout = bank_day_on_or_after(day + timedelta(days=1))
        self.square_sales[payout] = self.square_sales.get(payout, 0) + total

    def _square_payouts(self) -> None:
        """Square pays the card sales out the next bank day, net of its fees."""
        for payout, gross in sorted(self.square_sales.items()):
            if payout > FY_END:
                self.numbered_elsewhere.append(payout)
                continue
            fee = round(gross * 0.026) + 30 * self.rng.randint(3, 14)
            self.add(effective=payout, entered=payout, user=SQUARE, source="Deposit",
                     header=f"Square payout {payout:%m/%d/%Y}",
                     lines=[(CHECKING, gross - fee, "Square payout"), ("61000", fee, "Square fees"),
                            (SQUARE_CLEARING, -gross, "Square payout")], stream="square_payout")

    def _card(self, day: date) -> None:
        """Card purchases on the Capital One card, from the bank feed."""
        rng = self.rng
        season = 4 <= day.month <= 10
        for merchant, natural, rates, median, sigma in CARD_MERCHANTS:
            rate = rates[0] if season else rates[1]
            if rng.random() < rate / 6 and day.weekday() < 6:
                self.card(day, merchant, natural, self.cents(median, sigma))

    def card(self, day: date, merchant: str, natural: str, amount: int) -> Journal | None:
        keyed = self.accepted(day)
        statement = day.month
        self.card_charges[statement] = self.card_charges.get(statement, 0) + amount
        if day > FY_END:
            return None
        return self.add(effective=day, entered=keyed, user=BANK_FEED, source="Expense",
                        header=f"{merchant} {day:%m/%d}", lines=[(natural, amount, merchant), (CARD, -amount, merchant)],
                        stream="card")

    def bank(self, day: date, text: str, lines: list[tuple[str, int, str]], *, source: str = "Expense",
             stream: str = "bank") -> Journal:
        """A bank transaction of the checking or savings account, from the feed."""
        return self.add(effective=day, entered=self.accepted(day), user=BANK_FEED, source=source, header=text,
                        lines=lines, stream=stream)

    def _monthly_bank(self, month: int) -> None:
        rng = self.rng
        first = date(FISCAL_YEAR, month, 1)
        for merchant, natural, fixed in CARD_MONTHLY:
            amount = fixed or self.cents(420 if "ADS" in merchant else 165, 0.3)
            self.card(first + timedelta(days=rng.randint(0, 3) + 2 * CARD_MONTHLY.index((merchant, natural, fixed))),
                      merchant, natural, amount)
        fee_day = bank_day_on_or_after(month_end(FISCAL_YEAR, month) - timedelta(days=2))
        self.bank(fee_day, f"SERVICE CHARGE {fee_day:%m/%d}", [("60900", 25_00, "Monthly service charge"),
                                                              (CHECKING, -25_00, "SERVICE CHARGE")])
        interest = self.cents(21, 0.2)
        self.bank(fee_day, f"INTEREST PAID {fee_day:%m/%d}", [(SAVINGS, interest, "Interest"),
                                                             ("70000", -interest, "Interest earned")], source="Deposit")
        for loan, day, payment, interest_share in (("FORD CREDIT 4471", 12, 1_142_37, 0.18),
                                                  ("FORD CREDIT 5902", 18, 1_018_46, 0.31)):
            if loan.endswith("5902") and month < 5:
                continue
            paid = bank_day_on_or_after(date(FISCAL_YEAR, month, day))
            interest = round(payment * interest_share * (1 - 0.02 * month))
            self.bank(paid, f"{loan} AUTO PAY", [(TRUCK_LOAN, payment - interest, "Principal"),
                                                 ("61100", interest, "Interest"), (CHECKING, -payment, loan)])
        if 5 <= month <= 11:
            interest = self.cents(160 if month < 8 else 95, 0.2)
            self.bank(bank_day_on_or_after(date(FISCAL_YEAR, month, 25)), "BREMER LOC INTEREST",
                      [("61100", interest, "Line of credit interest"), (CHECKING, -interest, "LOC interest")])
        gusto_fee = 80_00 + 6_00 * (16 if 4 <= month <= 11 else 7)
        self.bank(bank_day_on_or_after(date(FISCAL_YEAR, month, 3)), "GUSTO FEE", [("62020", gusto_fee, "Gusto monthly fee"),
                                                                                  (CHECKING, -gusto_fee, "GUSTO")])
        if month == 6:
            for plate in ("MN 481-KLB", "MN 702-RTX", "MN 155-DDF"):
                self.card(date(FISCAL_YEAR, 6, rng.randint(2, 27)), f"MN DVS REGISTRATION {plate}", "61300",
                          self.cents(640, 0.3))

    def _payroll(self) -> None:
        """Gusto: weekly from April to November, every other week in winter; synced when the payroll is run,
        two office days before the Friday payday. Gusto debits the taxes the day after."""
        rng = self.rng
        payday = date(FISCAL_YEAR, 1, 10)
        while payday <= FY_END:
            weekly = date(FISCAL_YEAR, 4, 4) <= payday <= date(FISCAL_YEAR, 11, 28)
            paid = payday if is_bank_day(payday) else payday - timedelta(days=1)
            run = paid
            for _ in range(2):
                run -= timedelta(days=1)
                while not is_office_day(run):
                    run -= timedelta(days=1)
            crew = rng.randint(14, 17) if weekly else rng.randint(6, 7)
            hours = 46 if weekly else 82
            gross = sum(round(rng.uniform(19.5, 31.0) * hours * rng.uniform(0.8, 1.1) * 100) for _ in range(crew))
            employer = round(gross * (0.0765 + (0.034 if payday.month <= 3 else 0.008)))
            withheld = round(gross * 0.205)
            self.add(effective=paid, entered=run, user=GUSTO, source="Payroll Check",
                     header=f"Gusto payroll - pay date {paid:%m/%d/%Y} ({crew} employees)",
                     lines=[("62000", gross, "Gross wages"), ("62010", employer, "Employer taxes"),
                            (CHECKING, -(gross - withheld), "Net pay"),
                            (PAYROLL_LIAB, -(withheld + employer), "Taxes withheld and employer taxes")],
                     stream="payroll")
            debit = bank_day_on_or_after(run + timedelta(days=1))
            self.bank(debit, "GUSTO TAX", [(PAYROLL_LIAB, withheld + employer, "Gusto tax debit"),
                                           (CHECKING, -(withheld + employer), "GUSTO TAX")], stream="payroll_tax")
            payday += timedelta(days=7 if weekly else 14)
        # December's last payroll is paid on 2 January 2026: numbered in 2026's run.
        self.numbered_elsewhere += [date(2025, 12, 30), date(2025, 12, 31)]

    def _owner_and_financing(self) -> None:
        rng = self.rng
        for month in range(1, 13):
            for day in ((1, 15) if month >= 4 else (1,)):
                when = office_day_on_or_after(date(FISCAL_YEAR, month, day))
                user = OWNER if rng.random() < 0.3 else BOOKKEEPER
                self.add(effective=when, entered=when, user=user, source="Transfer", header="Owner draw",
                         lines=[(OWNER_DRAW, 5_000_00, "Owner draw - Erik"), (CHECKING, -5_000_00, "Transfer to personal")],
                         stream="owner_draw")
            # Sales tax for last month, filed and paid on the 20th.
            tax = self.tax_collected.get(month - 1, 0)
            if tax:
                when = office_day_on_or_after(date(FISCAL_YEAR, month, 20))
                self.add(effective=when, entered=when, user=BOOKKEEPER, source="Sales Tax Payment",
                         header=f"Sales tax payment - {date(FISCAL_YEAR, month - 1, 1):%B %Y}",
                         lines=[(SALES_TAX, tax, "MN sales and use tax return"), (CHECKING, -tax, "MN DOR EFT")],
                         stream="sales_tax")
            # Last month's card statement, paid on the 25th.
            charges = self.card_charges.get(month - 1, 0)
            if charges:
                when = office_day_on_or_after(date(FISCAL_YEAR, month, 25))
                self.add(effective=when, entered=when, user=BOOKKEEPER, source="Transfer",
                         header=f"Capital One payment - {date(FISCAL_YEAR, month - 1, 1):%B} statement",
                         lines=[(CARD, charges, "Card payment"), (CHECKING, -charges, "Capital One")], stream="card_payment")
        for day, amount, draw in ((date(2025, 4, 7), 25_000_00, True), (date(2025, 5, 5), 15_000_00, True),
                                  (date(2025, 8, 15), 10_000_00, False), (date(2025, 9, 15), 10_000_00, False),
                                  (date(2025, 10, 15), 10_000_00, False), (date(2025, 11, 14), 10_000_00, False)):
            lines = [(CHECKING, amount, "Advance on line of credit"), (LOC, -amount, "Bremer LOC")] if draw else \
                [(LOC, amount, "Repay line of credit"), (CHECKING, -amount, "Bremer LOC")]
            self.add(effective=day, entered=day, user=BOOKKEEPER, source="Transfer",
                     header="Line of credit advance" if draw else "Line of credit payment", lines=lines, stream="loc")
        for day in (date(2025, 3, 17), date(2025, 6, 16), date(2025, 9, 15), date(2025, 12, 15)):
            self.add(effective=day, entered=day, user=BOOKKEEPER, source="Transfer", header="Tax reserve",
                     lines=[(SAVINGS, 12_000_00, "Tax reserve"), (CHECKING, -12_000_00, "Transfer to savings")],
                     stream="savings")
        # The new F-550 in March: financed by Ford Credit, the down payment from checking.
        self.add(effective=date(2025, 3, 18), entered=date(2025, 3, 19), user=BOOKKEEPER, source="Journal Entry",
                 header="Purchase 2025 Ford F-550 dump body - Ford Credit contract 5902",
                 lines=[(EQUIPMENT, 71_482_50, "2025 Ford F-550 with dump body"),
                        (TRUCK_LOAN, -58_000_00, "Ford Credit contract 5902"),
                        (CHECKING, -13_482_50, "Down payment check 7411")], stream="truck_purchase")
        # Equipment sold in May: a used skid steer.
        self.add(effective=date(2025, 5, 22), entered=date(2025, 5, 22), user=BOOKKEEPER, source="Deposit",
                 header="Sale of 2016 Bobcat S570 - Rosemount Rental",
                 lines=[(CHECKING, 14_250_00, "Sale of skid steer"), (EQUIPMENT, -14_250_00, "2016 Bobcat S570")],
                 stream="equipment_sale")

    def _bookkeeper_entries(self) -> None:
        """Karen's journal entries: the owner's personal charges on the company card, and coding reclasses."""
        rng = self.rng
        for month in range(1, 13):
            when = office_day_on_or_after(date(FISCAL_YEAR, month, rng.randint(8, 20)))
            self.add(effective=when, entered=when, user=BOOKKEEPER, source="Journal Entry",
                     header=f"Erik personal charges on company card - {when:%B}",
                     lines=[(OWNER_DRAW, (amount := self.cents(380, 0.5)), "Personal charges"),
                            (CARD, -amount, "Capital One")], stream="personal_charges")
        for _ in range(12):
            when = office_day_on_or_after(date(FISCAL_YEAR, 1, 6) + timedelta(days=rng.randrange(340)))
            debit, credit = rng.sample(("60100", "60200", "61600", "5100", "61500", "60700"), 2)
            amount = self.cents(240, 0.8)
            self.add(effective=when, entered=when, user=BOOKKEEPER, source="Journal Entry",
                     header=f"Reclass {CHART[credit].lower()} to {CHART[debit].lower()}",
                     lines=[(debit, amount, "Reclass"), (credit, -amount, "Reclass")], stream="reclass")

    def _year_end(self) -> None:
        """The CPA's adjusting entries for 2025, dated 31 December, keyed in two sessions in February 2026."""
        adjustments = (
            (date(2026, 2, 10), "61200", ACCUM_DEP, 46_318_00, "2025 depreciation per tax depreciation schedule"),
            (date(2026, 2, 10), INVENTORY, "5200", 6_842_15, "Salt and mulch on hand 12/31/2025 per count"),
            (date(2026, 2, 10), PREPAID, "60300", 5_622_66, "Unexpired insurance at 12/31/2025"),
            (date(2026, 2, 10), "62000", ACCRUED, 8_412_30, "Accrue wages 12/29-12/31/2025 paid 1/2/2026"),
            (date(2026, 2, 10), "61100", TRUCK_LOAN, 312_48, "Truck loan interest per Ford Credit statement"),
            (date(2026, 2, 10), "61800", AR, 2_385_00, "Write off uncollectible - Valley Ridge Chiropractic"),
            (date(2026, 2, 18), OWNER_DRAW, "61500", 1_216_40, "Reclass personal meals to owner draw"),
            (date(2026, 2, 18), "61300", ACCRUED, 1_904_00, "Accrue 2nd half 2025 property tax"),
            (date(2026, 2, 18), "61300", SALES_TAX, 214_72, "Use tax on out-of-state purchases 2025"),
            (date(2026, 2, 18), EQUIPMENT, "61600", 4_980_00, "Capitalize Stihl backpack blowers and trimmers"),
        )
        for keyed, debit, credit, amount, text in adjustments:
            self.add(effective=FY_END, entered=keyed, user=CPA, source="Journal Entry", header=f"AJE - {text}",
                     lines=[(debit, amount, text), (credit, -amount, text)], stream="cpa_adjustment")

    def _other_years(self) -> None:
        """Transactions of 2026, keyed from January until the export was pulled: they take the ids between
        the late entries of 2025 (bills dated December keyed in January, the CPA's adjustments)."""
        rng = self.rng
        day = date(2026, 1, 2)
        while day <= EXPORTED:
            if is_office_day(day):
                busy = 9 if day.month >= 4 else 5
                self.numbered_elsewhere += [day] * rng.randint(busy - 2, busy + 2)
            day += timedelta(days=1)
        # And the bills still open at the year end, paid in January.
        for bill in self.payables:
            self.numbered_elsewhere.append(office_day_on_or_after(max(bill.entered, date(2026, 1, 8))))
        self.payables = []

    # --- planted anomalies ---
    def ordinary_day(self) -> date:
        while True:
            day = FY_START + timedelta(days=self.rng.randrange(20, 340))
            if ordinary(day):
                return day

    def plain(self, kind: str, *, day: date | None = None, entered: date | None = None, user: str = BOOKKEEPER,
              debit: str = "60200", credit: str = AP, amount: int | None = None, text: str | None = None,
              lines: list | None = None, source: str = "Journal Entry", convention: str | None = None) -> Journal:
        """A journal entry as the bookkeeper keys one, anomalous in one respect."""
        rng = self.rng
        day = day or self.ordinary_day()
        amount = amount if amount is not None else self.cents(1_150, 0.5)
        text = text if text is not None else f"Repair invoice - {rng.choice(('Ziegler CAT', 'Tri-State Bobcat', 'Ditch Witch of MN'))}"
        journal = self.add(effective=day, entered=entered or day, user=user, source=source, header=text,
                           lines=lines or [(debit, amount, text), (credit, -amount, text)], stream="planted")
        journal.kind, journal.role, journal.convention = kind, "planted", convention
        return journal

    def plant(self) -> LedgerBuilder:
        rng = self.rng
        # Integrity: a transposition keyed by hand, a Square receipt that lost its tax line, an invoice that does
        # not foot.
        self.plain("unbalanced_entry", lines=[("60200", 1_846_50, "Ziegler CAT - hydraulic hose"),
                                              (AP, -1_864_50, "Ziegler CAT")])
        self.plain("unbalanced_entry", source="Sales Receipt", user=SQUARE,
                             text=f"Square daily sales {date(2025, 7, 16):%m/%d/%Y}", day=date(2025, 7, 16),
                             lines=[(SQUARE_CLEARING, 1_288_44, "Square sales"),
                                    (MAINTENANCE, -1_200_00, "Residential lawn service")])
        self.plain("unbalanced_entry", source="Invoice", user=OWNER, text="Invoice 2950 - Swanson residence",
                   lines=[(AR, 4_312_80, "Swanson residence"), (INSTALLATION, -4_021_00, "Balance - paver patio"),
                          (SALES_TAX, -219_12, "MN sales tax 7.375%")])
        # Duplicates: a bill keyed twice, a card purchase accepted twice from the feed, an invoice keyed twice.
        bills = [j for j in self.journals if j.stream == "bill" and j.role == "clean"
                 and date(2025, 3, 1) < j.effective < date(2025, 11, 1) and "Nordby" not in j.header]
        original = rng.choice(bills)
        original.role = "involved"
        self.journals.append(replace(original, entered=next_office_day(original.entered, 2), lines=list(original.lines),
                                     kind="duplicate_entry", role="planted", stream="planted"))
        cards = [j for j in self.journals if j.stream == "card" and j.role == "clean"
                 and date(2025, 3, 1) < j.effective < date(2025, 11, 1)]
        original = rng.choice(cards)
        original.role = "involved"
        self.journals.append(replace(original, lines=list(original.lines), kind="duplicate_entry", role="planted",
                                     stream="planted"))
        invoices = [j for j in self.journals if j.stream == "project_invoice" and j.role == "clean"
                    and date(2025, 5, 1) < j.effective < date(2025, 10, 1)]
        original = rng.choice(invoices)
        original.role = "involved"
        self.journals.append(replace(original, entered=next_office_day(original.entered), lines=list(original.lines),
                                     kind="duplicate_entry", role="planted", stream="planted"))
        # High value: far above performance materiality (some 13,000 on 1.7 M of revenue).
        for amount, debit, text in ((74_812_33, "5300", "Subcontract - retaining wall, Heritage Pointe"),
                                    (58_127_90, "60200", "Engine rebuild - Cat 259D loader"),
                                    (96_240_15, "5100", "Pavers and wall block - Cedar Ridge HOA")):
            self.plain("high_value", debit=debit, amount=amount, text=text, user=OWNER)
        # Round amounts (whole thousands) on ordinary entries.
        for amount, debit, credit, text in ((3_000_00, "61400", ACCRUED, "Accrue legal fees - estimate"),
                                            (7_000_00, "60200", AP, "Ziegler CAT - repairs estimate"),
                                            (2_000_00, "5300", AP, "Twin Cities Irrigation - estimate")):
            self.plain("round_amount", debit=debit, credit=credit, amount=amount, text=text)
        # Consistent endings: the bookkeeper, subcontractors against payables, amounts ending in 417.50.
        for amount in (1_417_50, 2_417_50, 3_417_50):
            self.plain("recurring_ending", debit="5300", amount=amount,
                       text=f"Subcontractor - {rng.choice(('Twin Cities Irrigation', 'Metro Hardscapes', 'Green Earth Tree Care'))}")
        # People who do not post: the owner's son (a crew lead) and a seasonal office helper.
        for user, debit, credit in (("Nils Lindqvist", "61600", CARD), ("Nils Lindqvist", "60100", CARD),
                                    ("Jenna Park", "61500", CARD), ("Jenna Park", "60700", CARD)):
            self.plain("unusual_user", user=user, debit=debit, credit=credit, amount=self.cents(310, 0.4),
                       text=f"Card receipts - {CHART[debit].lower()}")
        # Manual journal entries to revenue, cash and equity.
        for debit, credit, text, convention in (
                (AR, INSTALLATION, "Revenue adjustment - Cedar Ridge HOA change order", "revenue ('... Income')"),
                (ACCRUED, MAINTENANCE, "Recognize maintenance revenue - Eagan Corporate Center", "revenue ('... Income')"),
                (CHECKING, "61400", "Adjust checking to bank statement", "cash ('Bremer Bank Checking')"),
                (OWNER_EQUITY, AP, "Adjust owner's equity - Erik", "equity ('Owner's Equity')"),
                (RETAINED, ACCRUED, "Adjust retained earnings - prior year accrual", "equity ('Retained Earnings')")):
            self.plain("manual_to_sensitive_account", debit=debit, credit=credit, text=text,
                       amount=self.cents(2_400, 0.3), convention=convention)
        # Timing: keyed on a Sunday mid-month; keyed on the holidays the office closes for.
        for day in (date(2025, 3, 9), date(2025, 6, 22), date(2025, 8, 17)):
            self.plain("weekend_posting", day=day)
        for day in (date(2025, 5, 26), date(2025, 7, 4), date(2025, 11, 27), date(2025, 12, 25)):
            self.plain("holiday_posting", day=day)
        # Period end: large manual entries on the last office day of a month.
        for month, amount in ((6, 9_875_40), (9, 11_206_55), (10, 8_418_20)):
            self.plain("period_end", day=office_day_on_or_before(month_end(FISCAL_YEAR, month)), amount=amount,
                       debit="5300", credit=ACCRUED, text="Accrue subcontractor costs - estimate")
        # After the books were closed: keyed in March and April 2026, after the CPA's adjustments.
        for keyed, effective, user, debit, credit in ((date(2026, 3, 24), FY_END, OWNER, "62000", ACCRUED),
                                                      (date(2026, 4, 7), date(2025, 12, 15), BOOKKEEPER, "5100", AP),
                                                      (date(2026, 4, 21), date(2025, 11, 26), OWNER, "60200", AP)):
            self.plain("post_closing", day=effective, entered=keyed, user=user, debit=debit, credit=credit,
                       text=f"2025 {CHART[debit].lower()} - additional")
        # Backdated: keyed months after the date they take effect (QuickBooks has no closed periods here).
        for effective, keyed in ((date(2025, 3, 14), date(2025, 7, 22)), (date(2025, 5, 9), date(2025, 9, 3)),
                                 (date(2025, 7, 11), date(2025, 11, 19))):
            self.plain("backdated", day=effective, entered=keyed)
        # No description at all.
        for _ in range(3):
            self.plain("missing_description", text="")
        # Suspicious wording.
        for text in ("Plug to tie out sales tax liability", "Per owner - do not reverse",
                     "Balancing figure - Square clearing"):
            self.plain("suspicious_keyword", text=text)
        # Accounts used by no other transaction all year.
        for debit, credit, text in (("63100", AP, "Settlement - customer lawn damage claim"),
                                    ("63000", CARD, "Donation - Burnsville Lions Club"),
                                    (ADVANCES, CHECKING, "Advance to Nils - truck repair")):
            self.plain("seldom_used_account", debit=debit, credit=credit, text=text, user=OWNER)
        # Accounts never combined with each other.
        for debit, credit in (("5200", PAYROLL_LIAB), ("60800", TRUCK_LOAN), ("61700", SALES_TAX)):
            self.plain("rare_account_pair", debit=debit, credit=credit,
                       text=f"Adjust {CHART[debit].lower()} against {CHART[credit].lower()}")
        # Splits: one user, one day, the same accounts, each part under a common limit, together above it.
        day = self.ordinary_day()
        for amount in (4_180_25, 3_960_40, 4_455_10):
            self.plain("split_entry", day=day, debit="5300", amount=amount, text="Metro Hardscapes - wall install")
        day = self.ordinary_day()
        for amount in (7_812_40, 8_940_15):
            self.plain("split_entry", day=day, user=OWNER, debit="60200", amount=amount,
                       text="Tri-State Bobcat - undercarriage")
        # Suspense: differences parked in QuickBooks' own catch-alls.
        for account, credit, text, convention in (
                (ASK_ACCOUNTANT, CHECKING, "Unknown ACH debit 6/12 - ask CPA", "'Ask My Accountant'"),
                (ASK_ACCOUNTANT, AR, "Short pay Cedar Ridge HOA - park", "'Ask My Accountant'"),
                (UNCATEGORIZED, CARD, "Card charges without receipts - July", "'Uncategorized Asset'"),
                (UNCATEGORIZED, UNDEPOSITED, "Undeposited funds difference", "'Uncategorized Asset'")):
            amount = self.cents(640, 0.5)
            self.plain("suspense_account", text=text, convention=convention,
                       lines=[(account, amount, text), (credit, -amount, text)])
        return self

    # --- numbering ---
    def finish(self) -> LedgerBuilder:
        """QuickBooks' transaction ids: one sequence, in the order transactions were keyed, shared with the
        other years' transactions; three transactions deleted mid-year leave holes."""
        rng = self.rng
        for size in (1, 2, 1):
            while True:
                victim = rng.choice(self.journals)
                if victim.role == "clean" and date(2025, 3, 1) < victim.entered < date(2025, 11, 1):
                    break
            victim.kind, victim.role, victim.deleted_before = "sequence_gap", "planted", size
        keyed = [(j.entered, rng.random(), j) for j in self.journals]
        keyed += [(day, rng.random(), None) for day in self.numbered_elsewhere]
        keyed.sort(key=lambda k: (k[0], k[1]))
        number = FIRST_ID - 1
        for _, _, journal in keyed:
            number += 1 + (journal.deleted_before if journal is not None else 0)
            if journal is not None:
                journal.journal_id = str(number)
        return self

    # --- export ---
    def write_csv(self, path: Path) -> Path:
        header = ["Journal_ID", "Effective_Date", "Entered_Date", "Source", "Entered_By", "JE_Header_Description",
                  "GL_Account_Number", "GL_Account_Name", "JE_Line_Description", "Debit_Amount", "Credit_Amount"]
        rows = []
        for j in sorted(self.journals, key=lambda j: (j.effective, int(j.journal_id))):
            for number, cents, text in j.lines:
                rows.append([j.journal_id, f"{j.effective:%m/%d/%Y}", f"{j.entered:%m/%d/%Y}", j.source, j.user,
                             j.header, number, CHART[number], text,
                             f"{cents / 100:.2f}" if cents > 0 else "", f"{-cents / 100:.2f}" if cents < 0 else ""])
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def labels(self, entity: str) -> pl.DataFrame:
        return pl.DataFrame(
            [{"entity_id": entity, "journal_id": j.journal_id, "kind": j.kind, "convention": j.convention,
              "role": j.role, "stream": j.stream, "person": j.person, "user": j.user, "source": j.source,
              "effective_date": j.effective, "entry_date": j.entered, "debits": j.debits,
              "accounts": sorted({a for a, _, _ in j.lines})} for j in self.journals],
            schema={"entity_id": pl.String, "journal_id": pl.String, "kind": pl.String, "convention": pl.String,
                    "role": pl.String, "stream": pl.String, "person": pl.Boolean, "user": pl.String,
                    "source": pl.String, "effective_date": pl.Date, "entry_date": pl.Date, "debits": pl.Int64,
                    "accounts": pl.List(pl.String)})


def build_ledger(seed: int = 20_260_515) -> LedgerBuilder:
    return LedgerBuilder(seed).build_clean().plant().finish()


# --- Running the CLI and measuring ----------------------------------------------------------------------

KEYS = ["entity_id", "journal_id"]
ENTITY = "DEFAULT"  # the export has no entity column: ingestion names the one company so


@pytest.fixture(scope="module")
def ledger() -> LedgerBuilder:
    return build_ledger()


@pytest.fixture(scope="module")
def export(ledger: LedgerBuilder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ledger.write_csv(tmp_path_factory.mktemp("export") / "Lindqvist_GL_Detail_2025.csv")


@pytest.fixture(scope="module")
def run(ledger: LedgerBuilder, export: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``auditray je analyze`` over the export as the bookkeeper sent it, default settings, no chart."""
    work = tmp_path_factory.mktemp("small")
    started = clock.perf_counter()
    summary = analyze_export(export, work / "results", work / "data")
    entries = pl.read_parquet(work / "results" / "entries.parquet")
    labels = ledger.labels(ENTITY)
    judged = labels.join(entries.select(*KEYS, "tests", "test_scores", "risk_rank", "risk_band", "risk_score",
                                        "manual", "explanations"), on=KEYS, how="left")
    figures = detection_figures(entries, labels)
    print(f"\nunseen small ledger ({clock.perf_counter() - started:.1f} s):\n" + json.dumps(figures, indent=1))
    return Run(summary, work / "results", entries, judged, figures)


def _found(planted: pl.DataFrame, test_id: str) -> dict:
    return {"planted": planted.height, "found": int(planted["tests"].list.contains(test_id).sum()),
            "missed": planted.filter(~pl.col("tests").list.contains(test_id))
            .select("journal_id", "convention", "tests").to_dicts()}


# --- The auditor's checklist ----------------------------------------------------------------------------

# Reading the export.

def test_the_sparse_export_is_recognised_as_ads_with_debit_and_credit_columns(export: Path) -> None:
    """No entity column, no entry time, approver, period, fiscal year or Manual_Entry: read without a mapping."""
    from auditray.ingest import validate_source

    report = validate_source(export, "gl_detail")
    print("\ningestion:", report.profile, report.mapping, report.warnings, sep="\n  ")
    assert report.ok and not report.errors
    assert report.profile == "ads"
    assert report.mapping["amount"] == "Debit_Amount - Credit_Amount"
    assert (report.mapping["entry_date"], report.mapping["gl_account_name"]) == ("Entered_Date", "GL_Account_Name")
    assert report.mapping["line_number"].startswith("derived")
    assert report.mapping["entity_id"].startswith(f"constant '{ENTITY}'")
    absent = {"entry_time", "approved_by", "period", "fiscal_year", "manual_entry"}
    assert not absent & set(report.mapping)


def test_the_whole_export_is_read_to_the_cent(ledger: LedgerBuilder, run: Run) -> None:
    assert run.summary["journals"] == run.entries.height == len(ledger.journals)
    assert run.summary["lines"] == sum(len(j.lines) for j in ledger.journals)
    totals = run.population["entities"][ENTITY]["control_totals"]
    assert totals["journals"] == len(ledger.journals)
    assert money_cents(totals["debits"]) == sum(j.debits for j in ledger.journals)
    assert totals["accounts"] == len({a for j in ledger.journals for a, _, _ in j.lines})
    unbalanced = run.population["entities"][ENTITY]["unbalanced_entries"]
    planted = [j for j in ledger.journals if j.kind == "unbalanced_entry"]
    assert unbalanced["count"] == len(planted) == 3
    assert money_cents(unbalanced["net"]) == sum(c for j in planted for _, c, _ in j.lines) == money_cents(totals["net"])


def test_one_company_and_its_calendar_year_are_inferred_without_period_columns(run: Run) -> None:
    """No Fiscal_Year or Period: the year is read from the effective dates, January to December 2025."""
    assert set(run.population["entities"]) == {ENTITY}
    entity = run.population["entities"][ENTITY]
    facts = entity["facts"]
    assert (facts["fiscal_year_start"], facts["fiscal_year_end"]) == ("2025-01-01", "2025-12-31")
    assert facts["period_end_dates"] == [month_end(FISCAL_YEAR, m).isoformat() for m in range(1, 13)]
    assert entity["period_coverage"]["entries_outside_fiscal_year"] == 0
    assert facts["journals"] == run.entries.height


def test_the_tests_the_export_cannot_support_are_reported_not_run_naming_the_missing_field(run: Run) -> None:
    """No Entered_Time: no after-hours test. No Approved_By and no stated limit: no limit to be just below."""
    not_run = run.population["tests_not_run"]
    assert set(not_run) == {"after_hours", "below_approval_threshold"}, not_run
    assert "entry_time" in not_run["after_hours"]
    assert "approv" in not_run["below_approval_threshold"]
    assert run.summary["tests_not_run"] == not_run
    assert set(run.population["tests_run"]).isdisjoint(not_run)
    tripped = run.entries.select(pl.col("tests").explode()).drop_nulls()["tests"]
    assert not set(tripped.to_list()) & set(not_run)


# Who keyed what: people, and the integrations (no Manual_Entry column).

def test_journal_entries_people_key_are_read_as_manual_and_their_forms_as_standard_transactions(run: Run) -> None:
    """QuickBooks' one manual journal is the Journal Entry; invoices, bills, checks and payments are standard
    transactions entered through forms, tested in their cycles rather than as manual journal entries
    (AS 2401 .61(b): non-standard entries)."""
    people = run.judged.filter(pl.col("person"))
    journals = people.filter(pl.col("source") == "Journal Entry")
    forms = people.filter(pl.col("source") != "Journal Entry")
    assert journals.height > 50 and journals.filter(~pl.col("manual")).height == 0
    assert forms.height > 1_000 and forms.filter(pl.col("manual")).height == 0, (
        forms.filter(pl.col("manual")).group_by("source").len().to_dicts())


def test_the_integrations_postings_are_read_as_system_postings(run: Run) -> None:
    system = run.judged.filter(~pl.col("person") & (pl.col("role") == "clean"))
    assert system.height > 900
    read_as_manual = system.filter(pl.col("manual"))
    assert read_as_manual.height == 0, read_as_manual.group_by("user", "source").len().to_dicts()


# The facts the thresholds rest on.

def test_materiality_is_estimated_from_the_company_s_revenue(ledger: LedgerBuilder, run: Run) -> None:
    """ISA 320 A7: 1 % of revenue, every 4xxx income account of QuickBooks' chart."""
    revenue = -sum(c for j in ledger.journals for a, c, _ in j.lines if a in REVENUE)
    reported = run.facts(ENTITY)["revenue"]
    assert reported is not None and money_cents(reported) == pytest.approx(revenue, rel=0.02), reported


def test_postings_keyed_on_holidays_the_office_closes_for_trip_the_holiday_test_in_full(run: Run) -> None:
    scores = score_of(run, "holiday_posting").filter(pl.col("kind") == "holiday_posting")
    assert scores.height == 4 and scores["test_scores"].min() == 1.0


@pytest.mark.xfail(strict=True, reason=(
    "auditray/je/facts.py worked_holidays returns no day when the median ordinary working day has fewer than "
    "WORKED_HOLIDAY_MIN_DAY = 20 entries; this company keys about 10 a day, so MLK Day, Presidents' Day, "
    "Juneteenth, Columbus Day and Veterans Day, on which it keys like on any other day, are not found worked and "
    "21 invoices, bills, checks, payments and Square receipts keyed on them trip holiday_posting at full strength"))
def test_the_holidays_the_company_works_are_found_worked_and_trip_only_weakly(run: Run) -> None:
    from auditray.je.rules import WORKED_HOLIDAY_STRENGTH

    assert {date.fromisoformat(d) for d in run.population["holidays_worked"]["days"]} == WORKED_FEDERAL_HOLIDAYS
    keyed = score_of(run, "holiday_posting").filter((pl.col("role") == "clean")
                                                  & pl.col("entry_date").is_in(sorted(WORKED_FEDERAL_HOLIDAYS)))
    assert keyed.height >= 15 and keyed["test_scores"].max() <= WORKED_HOLIDAY_STRENGTH, keyed.group_by(
        "stream", "test_scores").len().to_dicts()


# Every planted kind, found by its own test.

PLANTED_KINDS = ("unbalanced_entry", "sequence_gap", "duplicate_entry", "high_value", "round_amount",
                 "recurring_ending", "unusual_user", "manual_to_sensitive_account", "weekend_posting",
                 "holiday_posting", "period_end", "post_closing", "backdated", "missing_description",
                 "suspicious_keyword", "seldom_used_account", "rare_account_pair", "split_entry", "suspense_account")
KIND_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("kind", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=KIND_GAPS[k])) if k in KIND_GAPS else k
    for k in PLANTED_KINDS])
def test_every_planted_kind_is_found_by_its_own_test(run: Run, kind: str) -> None:
    found = _found(planted_of(run, kind), kind)
    assert found["planted"] >= 3
    assert found["found"] == found["planted"], found


def test_manual_entries_to_owner_s_equity_and_retained_earnings_are_found(run: Run) -> None:
    equity = planted_of(run, "manual_to_sensitive_account").filter(pl.col("convention").str.starts_with("equity"))
    found = _found(equity, "manual_to_sensitive_account")
    assert found["planted"] == 2 and found["found"] == 2, found


def test_a_planted_hole_mid_year_trips_the_gap_test_in_full(run: Run) -> None:
    scores = score_of(run, "sequence_gap").filter(pl.col("kind") == "sequence_gap")
    assert scores.height == 3 and scores["test_scores"].min() == 1.0


def test_entries_keyed_after_the_cpa_finished_trip_post_closing_in_full(run: Run) -> None:
    """Keyed in March and April 2026, after the CPA's adjustments, into 2025: changes to closed books."""
    scores = score_of(run, "post_closing").filter(pl.col("kind") == "post_closing")
    assert scores.height == 3 and scores["test_scores"].min() == 1.0


# The riskiest entries hold the planted ones.

TOP_REASON = (
    "{share}: the riskiest entries of the ledger are the CPA's ten ordinary year-end adjustments (post_closing at "
    "full strength, see the CPA check below, with high_value, period_end, seldom_used_account and "
    "rare_account_pair), while single-sign plants (holiday, period end, recurring ending, weekend, missing text, "
    "round amount) rank 65-89, just below the cut")


@pytest.mark.xfail(strict=True, reason=TOP_REASON.format(share="43 of the 64 planted entries in the riskiest 64"))
def test_the_riskiest_entries_hold_nine_in_ten_planted_entries(run: Run) -> None:
    """The project's bar for the riskiest 1 %. Here the 64 planted entries exceed 1 % of the 2,452 entries
    (24), so the riskiest N entries are taken, N the number of planted entries."""
    planted = planted_of(run)
    cut = max(math.floor(run.entries.height * 0.01), planted.height)
    share = float((planted["risk_rank"] <= cut).mean())
    assert share >= 0.9, {"entries": cut, "planted": planted.height, "share": round(share, 4)}


def test_the_riskiest_five_percent_holds_nearly_every_planted_entry(run: Run) -> None:
    assert run.figures["top_5pct"]["share"] >= 0.95, run.figures["top_5pct"]


# Clean entries trip tests rarely.

# Tests an honest entry of this ledger has no reason to trip. (The CPA's adjustments keyed in February, and the
# holes beside another year's numbers, have their own checks below.)
INTEGRITY = ("unbalanced_entry", "duplicate_entry", "post_closing", "backdated", "missing_description",
             "unusual_user", "recurring_ending", "split_entry", "suspense_account", "sequence_gap")
INTEGRITY_GAPS: dict[str, str] = {}


def _keyed_beside_another_year() -> pl.Expr:
    """Keyed while another year's transactions took ids from the same sequence: December 2024's bills keyed in
    January 2025; January 2026's payroll run on 30-31 December; everything keyed in 2026."""
    return (pl.col("entry_date") <= date(2025, 1, 31)) | (pl.col("entry_date") >= date(2025, 12, 29))


@pytest.mark.parametrize("test_id", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=INTEGRITY_GAPS[t])) if t in INTEGRITY_GAPS else t
    for t in INTEGRITY])
def test_a_clean_entry_does_not_trip_a_test_it_has_no_reason_to_trip(run: Run, test_id: str) -> None:
    clean = clean_of(run)
    if test_id in ("post_closing", "backdated"):
        clean = clean.filter(pl.col("stream") != "cpa_adjustment")
    if test_id == "sequence_gap":
        clean = clean.filter(~_keyed_beside_another_year())
    hits = clean.filter(pl.col("tests").list.contains(test_id))
    assert hits.height == 0, hits.group_by("stream", "user").len().sort("len", descending=True).to_dicts()


def test_numbers_taken_by_another_year_s_transactions_trip_the_gap_test_only_weakly(run: Run) -> None:
    from auditray.je.rules import YEAR_BOUNDARY_GAP_STRENGTH

    beside = score_of(run, "sequence_gap").filter((pl.col("role") == "clean") & _keyed_beside_another_year())
    assert beside.height > 100 and beside["test_scores"].max() > 0
    strong = beside.filter(pl.col("test_scores") > YEAR_BOUNDARY_GAP_STRENGTH)
    assert strong.height == 0, strong.select("journal_id", "stream", "entry_date", "test_scores").to_dicts()


CLEAN_SHARE = 0.03
SHARE_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("test_id", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=SHARE_GAPS[t])) if t in SHARE_GAPS else t
    for t in (*PLANTED_KINDS, "benford_outlier", "ml_outlier")])
def test_no_test_trips_more_than_three_percent_of_clean_entries(run: Run, test_id: str) -> None:
    """The battery's own line (scoring.common_test_share is 2 %): a sign on more entries is a trait, not a warning."""
    clean = clean_of(run)
    share = float(clean["tests"].list.contains(test_id).mean())
    assert share <= CLEAN_SHARE, round(share, 4)


@pytest.mark.xfail(strict=True, reason=(
    "12 clean entries rate high (the bar is 11): the CPA's 10 year-end adjustments (post_closing at full strength: "
    "see below), the truck purchase and a reclass (rare_account_pair with high_value)"))
def test_few_clean_entries_are_rated_high_risk(run: Run) -> None:
    """A high band the auditor can follow up in full: at most 1 in 200 honest entries."""
    clean = clean_of(run)
    high = clean.filter(pl.col("risk_band") == "high")
    assert high.height <= 0.005 * clean.height, high.group_by("stream").len().sort("len", descending=True).to_dicts()


def test_the_owner_s_saturday_invoices_draws_and_rent_are_not_rated_high(run: Run) -> None:
    """Legitimate and visible: the owner writes up jobs on Saturday mornings, draws 5,000.00 twice a month and
    pays 3,500.00 rent. They may be listed; they should not be among the entries followed up first."""
    routine = clean_of(run).filter(pl.col("stream").is_in(["owner_weekend", "owner_draw"])
                                 | ((pl.col("stream") == "bill") & (pl.col("debits") == 3_500_00)))
    assert routine.height == 6 + 21 + 12
    high = routine.filter(pl.col("risk_band") == "high")
    assert high.height == 0, high.select("stream", "effective_date", "tests").to_dicts()
    rent = routine.filter(pl.col("debits") == 3_500_00)
    assert not rent["tests"].list.contains("round_amount").any(), "3,500.00 is not a multiple of 1,000.00"


def test_a_clean_entry_keyed_by_a_person_on_an_ordinary_day_trips_no_timing_test(run: Run) -> None:
    """Keyed and dated on the same working day mid-month: nothing about its timing is unusual."""
    timing = ["weekend_posting", "holiday_posting", "period_end", "post_closing", "backdated"]
    ordinary_days = [d for d in (FY_START + timedelta(days=i) for i in range(365)) if ordinary(d)]
    plain = clean_of(run).filter(pl.col("person") & (pl.col("entry_date") == pl.col("effective_date"))
                               & pl.col("effective_date").is_in(ordinary_days))
    assert plain.height > 500
    hits = plain.filter(pl.col("tests").list.eval(pl.element().is_in(timing)).list.any())
    assert hits.height == 0, hits.select("stream", "effective_date", "tests").head(5).to_dicts()


# The CPA's year-end adjustments: keyed in February, the ordinary close of a small company's books.

@pytest.mark.xfail(strict=True, reason=(
    "auditray/je/facts.py _entity_facts sets the closing date to fye + closing_days_after_year_end (30 days: "
    "30 January 2026) whatever the ledger shows; the outside accountants keyed the 10 adjustments dated "
    "31 December 2025 on 10 and 18 February 2026, as small companies close their books, so each trips "
    "post_closing at full strength (weight 0.8) although nothing was keyed into 2025 after them but the three "
    "planted entries (March-April 2026)"))
def test_the_cpa_s_year_end_adjustments_are_not_taken_for_post_closing_or_backdated_entries(run: Run) -> None:
    """The auditor examines them anyway (AS 2401 .61(c)); listed as post-closing or backdated they may be, but
    only weakly (at most half strength): the books were closed by these entries, not before them."""
    adjustments = run.judged.filter(pl.col("stream") == "cpa_adjustment")
    assert adjustments.height == 10 and adjustments["user"].unique().to_list() == [CPA]
    for test_id in ("post_closing", "backdated"):
        scores = score_of(run, test_id).filter(pl.col("stream") == "cpa_adjustment")
        assert scores["test_scores"].max() <= 0.5, (test_id, scores.select("journal_id", "test_scores").to_dicts())


@pytest.mark.xfail(strict=True, reason=(
    "the CPA's 10 adjustments are the 9 riskiest entries of the ledger and the 18th: post_closing in full (see "
    "above), high_value (threshold 235.70), period_end (58.92), seldom_used_account and rare_account_pair (one "
    "depreciation, one inventory count, one prepaid insurance entry a year: unique by nature, and account-pair "
    "rarity is floored at 1 journal with rare_group_pair_min_journals 3); the holes 2026's transactions took "
    "beside them trip sequence_gap only weakly"))
def test_the_cpa_s_year_end_adjustments_are_not_rated_high_risk(run: Run) -> None:
    adjustments = clean_of(run).filter(pl.col("stream") == "cpa_adjustment")
    high = adjustments.filter(pl.col("risk_band") == "high")
    assert high.height == 0, high.select("journal_id", "risk_rank", "tests").to_dicts()


def test_the_cpa_who_keys_ten_adjustments_a_year_is_not_an_unusual_user(run: Run) -> None:
    adjustments = clean_of(run).filter(pl.col("stream") == "cpa_adjustment")
    assert not adjustments["tests"].list.contains("unusual_user").any()
