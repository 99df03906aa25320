"""Detection on a second unseen ledger: an SAP export of two European company codes, default settings.

tests/test_je_unseen_ledger.py checks one independent ledger (a US company, ADS headers, July-June year).
Judging uses ledgers from elsewhere, so this module builds another with conventions unlike both that
ledger and ``auditray.generate``, writes it the way an SAP extract arrives, and runs the real CLI over it:

- two company codes of one group, ``DE01`` (Munich, Bavaria) and ``AT01`` (Vienna), calendar fiscal year
  2025 (GJAHR 2025, periods MONAT 1-12, year-end adjustments in special period 13 keyed in January 2026),
  amounts in EUR;
- BKPF/BSEG field names as an SE16N/ALV download in German locale writes them: ``;``-separated,
  Windows-1252, dates ``31.12.2025``, times ``14:05:33``, unsigned ``DMBTR`` with a decimal comma
  (``1.234,56``) signed by ``SHKZG`` S/H, line items ``BUZEI`` 001, 002, reference ``XBLNR``, texts in
  German (``Abgrenzung Strom 03/2025``), a chart of accounts after the German SKR04 (6 digits: 180000 bank,
  440000 revenue, 297000 retained earnings, 3xxxxx provisions and liabilities; fixed assets in class 0,
  which SAP shows without the leading zero: ``44000`` machinery);
- document numbers per company code and number range, as SAP assigns them: SA and AB share range 01
  (0100000001, ...), vendor invoices KR 1900000001, payments ZP/KZ 15, customer payments DZ 14, billing RV
  0090000001, goods issues WA 49, depreciation AF 03; both company codes count from the same numbers;
- no Manual_Entry column and no approver: who keyed an entry is only in USNAM (people like ``MMUELLER``;
  jobs like ``BATCH_SD``, ``WF-BATCH``) and what it is in BLART;
- what SAP ledgers do and the US one does not: billing and goods-issue documents with no text at all (their
  reference is in XBLNR), a billing plan that invoices identical maintenance fees to a dozen customers on
  the 1st, payroll imported from DATEV by a batch-input job as SA documents at night, the monthly foreign
  currency valuation (FAGL_FCV) posted as SA by a batch user, the payment program F110 started by the
  treasurer (ZP documents under his name), accruals reversed by F.81 as AB documents on the 1st, and the
  Bavarian and Austrian public holidays (Good Friday, Ascension, Whit Monday, Corpus Christi, 3 October,
  26 December, Austria's 8 December) instead of the US federal ones, which the group works.

A handful of anomalies of every rule-based kind the fields support is planted (no approvals: no
below-approval plants; the digit test and the model plant nothing of their own). The checklist: the export
is read whole with every SAP field, every planted kind is found by its own test, the riskiest entries hold
the planted ones, clean entries trip no test they have no reason to trip, system postings are told from
people without a Manual_Entry column. Where the defaults fall short on these conventions the check is an
``xfail(strict=True)`` naming the cause in the library.

First run (18,141 documents, 43,806 lines, 99 planted): ingestion read every field and the decimal comma
exactly; 18 planted kinds were found in full; none of the plants on Bavarian/Austrian holidays, German
keywords, cash/revenue/equity accounts (with or without the SKB1/SKAT chart) or the suspense account (without
the chart) was. The riskiest 1 % held 44 % of the planted entries, the riskiest 5 % 73 %. Clean entries
tripped missing_description 10,504 times (text-less RV/WA/ZP documents), manual_to_sensitive_account 3,356
(SKR04 class 3 read as equity), split_entry 613 and below_approval_threshold 216 (no approvals: common limits
tried; F110 read as manual), duplicate_entry 144 (billing plan), after_hours 70 (SA by batch users),
holiday_posting 16 (US calendar); high_value 6,154 from a materiality estimated on 0.45 M EUR of "revenue".

Fixed in the battery since: batch users decide before document types, SAP's program-only document types
(ZP, RV, WA, WE, WL, WI, AF) are system postings, German/French/Spanish keywords and suspense names, an
account is named by its commonest line text only when that text covers half of all its lines, SAP's
account group (KTOKS) is no longer taken for an account type,
below_approval_threshold is reported not run without approvals or a stated limit, and a system posting
without text trips missing_description at its system strength. Then the riskiest 5 % held 94 % of the
planted entries (the 1 %: 60 %); since standard entries (a user's steady monthly pattern to one pair of
accounts) count their size and account weakly, and the days the ledger shows each company code closed are its
holidays, the riskiest 1 % held 73 %; since XBLNR is loaded as the document reference, which tells the billing
plan's identical invoices apart, it holds 93 %. The xfails left are the gaps still open: account classes
without a chart (SKR04 numbering) or from an SAP chart's KTOKS, splits tried against common limits without
approvals, the US calendar's holidays.
"""

from __future__ import annotations

import csv
import json
import math
import random
import time as clock
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.je_unseen_support import Run, analyze_export, detection_figures, scores_of

FISCAL_YEAR = 2025
FY_START, FY_END = date(2025, 1, 1), date(2025, 12, 31)
CLOSE_LAST_KEYED = date(2026, 1, 23)  # year-end close (period 13) keyed until here; closing is 30 days after FYE

# Public holidays, typed in here rather than taken from the project (Feiertagsgesetz Bayern; Austrian
# Feiertagsruhegesetz: Good Friday is no public holiday in Austria since 2019). The offices also close on
# 24 and 31 December. Neither company observes any US federal holiday but New Year and Christmas.
DE_HOLIDAYS = {
    date(2025, 1, 1), date(2025, 1, 6), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 1), date(2025, 5, 29),
    date(2025, 6, 9), date(2025, 6, 19), date(2025, 8, 15), date(2025, 10, 3), date(2025, 11, 1),
    date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1), date(2026, 1, 6),
}
AT_HOLIDAYS = {
    date(2025, 1, 1), date(2025, 1, 6), date(2025, 4, 21), date(2025, 5, 1), date(2025, 5, 29), date(2025, 6, 9),
    date(2025, 6, 19), date(2025, 8, 15), date(2025, 10, 26), date(2025, 11, 1), date(2025, 12, 8),
    date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1), date(2026, 1, 6),
}
CLOSED = {date(2025, 12, 24), date(2025, 12, 31)}
# The TARGET2 calendar: no bank statements on these days.
TARGET_CLOSED = {date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 1), date(2025, 12, 25),
                 date(2025, 12, 26), date(2026, 1, 1)}
# US federal holidays (observed, 5 U.S.C. 6103) from January 2025 to the closing date, typed in here.
US_FEDERAL = {
    date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 17), date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4),
    date(2025, 9, 1), date(2025, 10, 13), date(2025, 11, 11), date(2025, 11, 27), date(2025, 12, 25),
    date(2026, 1, 1), date(2026, 1, 19),
}

# The group chart (SKR04 x 100), with the English texts of SKAT in language E.
CHART = {
    "44000": ("Technical equipment and machinery", "ANL."),
    "69000": ("Other operating and office equipment", "ANL."),
    "114000": ("Merchandise inventory", "MAT."),
    "120000": ("Trade receivables", "RECO"),
    "126000": ("Receivables from affiliated companies", "SAKO"),
    "137000": ("Suspense account - items to be clarified", "SAKO"),
    "140600": ("Input VAT 19%", "SAKO"),
    "160000": ("Cash on hand", "FIN."),
    "180000": ("Bank - Deutsche Bank EUR", "FIN."),
    "181000": ("Bank - Deutsche Bank USD", "FIN."),
    "190000": ("Prepaid expenses", "SAKO"),
    "290000": ("Subscribed capital", "SAKO"),
    "297000": ("Retained earnings brought forward", "SAKO"),
    "304000": ("Tax provisions", "SAKO"),
    "307000": ("Other provisions", "SAKO"),
    "309500": ("Provision for audit and closing costs", "SAKO"),
    "330000": ("Trade payables", "RECO"),
    "340000": ("Payables to affiliated companies", "SAKO"),
    "372000": ("Wages and salaries payable", "SAKO"),
    "373000": ("Wage tax payable", "SAKO"),
    "374000": ("Social security payable", "SAKO"),
    "380600": ("Output VAT 19%", "SAKO"),
    "412500": ("Revenue from intra-EU deliveries, VAT exempt", "ERG."),
    "440000": ("Revenue 19% VAT", "ERG."),
    "483000": ("Other operating income - group recharges", "ERG."),
    "484000": ("Foreign exchange gains", "ERG."),
    "540000": ("Cost of merchandise sold", "ERG."),
    "602000": ("Salaries", "ERG."),
    "611000": ("Social security contributions", "ERG."),
    "622000": ("Depreciation of property, plant and equipment", "ERG."),
    "631000": ("Rent", "ERG."),
    "632500": ("Gas, electricity, water", "ERG."),
    "639000": ("Donations", "ERG."),
    "645000": ("Repairs and maintenance", "ERG."),
    "660000": ("Advertising", "ERG."),
    "665000": ("Travel expenses employees", "ERG."),
    "680500": ("Telephone", "ERG."),
    "681500": ("Office supplies", "ERG."),
    "682500": ("Legal and consulting fees", "ERG."),
    "682700": ("Audit and closing costs", "ERG."),
    "685500": ("Bank charges", "ERG."),
    "688000": ("Foreign exchange losses", "ERG."),
    "689500": ("Loss on disposal of fixed assets", "ERG."),
    "693000": ("Write-offs of receivables", "ERG."),
    "760000": ("Corporate income tax", "ERG."),
    "761000": ("Trade tax", "ERG."),
}
CASH, REVENUE, EQUITY = ("160000", "180000", "181000"), ("412500", "440000"), ("290000", "297000")
LIABILITIES = tuple(a for a in CHART if a.startswith("3"))  # SKR04 class 3: provisions, payables, taxes

# Number ranges (SAP standard customising; one interval per company code and year).
RANGES = {"SA": 100_000_000, "AB": 100_000_000, "AF": 300_000_000, "DZ": 1_400_000_000, "ZP": 1_500_000_000,
          "KZ": 1_500_000_000, "KR": 1_900_000_000, "WA": 4_900_000_000, "RV": 90_000_000}

VENDORS = ("Würth GmbH & Co. KG", "Bosch Rexroth AG", "Telekom Deutschland GmbH", "Stadtwerke München GmbH",
           "Lyreco Deutschland GmbH", "DB Schenker AG", "Hoffmann GmbH", "Conrad Electronic SE",
           "Allianz Versicherungs-AG", "Vodafone GmbH", "Kaeser Kompressoren SE", "Gleiss Lutz", "BayWa AG",
           "Wiener Stadtwerke GmbH", "A1 Telekom Austria AG")
CUSTOMERS = ("Müller Maschinenbau GmbH", "Schäfer Logistik AG", "Voith GmbH", "Krones AG", "Liebherr-Werk GmbH",
             "Stihl AG & Co. KG", "Dürr AG", "Trumpf SE + Co. KG", "Festo SE & Co. KG", "Kärcher SE",
             "Rosenbauer International AG", "Doppelmayr GmbH", "Palfinger AG", "voestalpine AG", "Andritz AG")
EXPENSES = {"631000": "Miete", "632500": "Strom/Gas", "645000": "Wartung", "660000": "Werbung",
            "665000": "Reisekosten", "680500": "Telefon", "681500": "Büromaterial", "682500": "Beratung"}
MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember")

TIMING = ("weekend_posting", "holiday_posting", "after_hours", "period_end", "post_closing", "backdated")


@dataclass(frozen=True)
class Company:
    code: str
    holidays: frozenset[date]
    scale: float
    gl: str  # general ledger accountant
    ap: str  # accounts payable clerk
    treasury: str
    head: str  # head of accounting


COMPANIES = {
    "DE01": Company("DE01", frozenset(DE_HOLIDAYS | CLOSED), 1.0, "MMUELLER", "SKOCH", "JWAGNER", "ABECKER"),
    "AT01": Company("AT01", frozenset(AT_HOLIDAYS | CLOSED), 0.3, "LHUBER", "LHUBER", "PGRUBER", "PGRUBER"),
}
BATCH_USERS = ("BATCH_SD", "BATCH_MM", "BATCH_FI", "BATCH_AA", "BATCH_HR", "WF-BATCH")


# --- The ledger -----------------------------------------------------------------------------------------


@dataclass
class Document:
    """One FI document as BKPF/BSEG hold it; ``kind`` is the planted anomaly, if any."""

    company: str
    doc_type: str  # BLART
    posted: date  # BUDAT: the effective date
    entered: date  # CPUDT
    at: time  # CPUTM
    user: str  # USNAM
    tcode: str
    header: str | None  # BKTXT
    reference: str | None  # XBLNR
    lines: list[tuple[str, int, str | None]]  # HKONT, signed cents (debit positive), SGTXT
    stream: str
    person: bool  # keyed by a person (the truth a Manual_Entry column would hold)
    doc_date: date | None = None  # BLDAT
    period: int | None = None  # MONAT when not the posting month (special periods 13-15)
    kind: str | None = None
    convention: str | None = None  # planted on a convention the defaults may not know (German keyword, ...)
    role: str = "clean"  # clean | planted | involved (the original of a planted duplicate)
    belnr: str = ""
    line_numbers: list[int] | None = None  # BUZEI, when lines are missing from the extract


def month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


MONTH_ENDS = [month_end(FISCAL_YEAR, m) for m in range(1, 13)]


def euro(cents: int) -> str:
    """German money text: 1234567 -> '12.345,67' (exact, from integer cents)."""
    whole, part = divmod(abs(cents), 100)
    return f"{whole:,}".replace(",", ".") + f",{part:02d}"


class LedgerBuilder:
    """The FI documents of both company codes, written the way an SE16N download of BKPF/BSEG arrives."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.documents: list[Document] = []
        self.billing = 90_012_000
        self.delivery = 80_034_000

    # --- calendar ---
    @staticmethod
    def working(company: Company, day: date) -> bool:
        return day.weekday() < 5 and day not in company.holidays

    @staticmethod
    def bank_day(day: date) -> bool:
        return day.weekday() < 5 and day not in TARGET_CLOSED

    def next_working(self, company: Company, day: date, n: int = 1) -> date:
        while n:
            day += timedelta(days=1)
            n -= self.working(company, day)
        return day

    def last_working(self, company: Company, end: date, n: int = 1) -> list[date]:
        days, day = [], end
        while len(days) < n:
            if self.working(company, day):
                days.append(day)
            day -= timedelta(days=1)
        return days

    # --- helpers ---
    def cents(self, median: float, sigma: float) -> int:
        """A lognormal amount in cents, never a whole hundred euros."""
        value = round(median * math.exp(self.rng.gauss(0, sigma)) * 100)
        return value + 37 if value % 10_000 == 0 else max(value, 101)

    def clock(self, start: str, end: str) -> time:
        h0, m0 = map(int, start.split(":"))
        h1, m1 = map(int, end.split(":"))
        minute = self.rng.randrange(h0 * 60 + m0, h1 * 60 + m1)
        return time(minute // 60, minute % 60, self.rng.randrange(60))

    def office(self) -> time:
        return self.clock("07:05", "18:40")

    def count(self, company: Company, low: int, high: int) -> int:
        return max(1, round(self.rng.randint(low, high) * company.scale))

    def add(self, **kwargs) -> Document:
        document = Document(**kwargs)
        self.documents.append(document)
        return document

    def gl(self, company: Company, posted: date, user: str, debit: str, credit: str, amount: int,
           text: str | None, *, stream: str, entered: date | None = None, at: time | None = None,
           doc_type: str = "SA", period: int | None = None, tcode: str = "FB50") -> Document:
        """A G/L document keyed by a person (FB50): header and line texts as German accountants write them."""
        return self.add(company=company.code, doc_type=doc_type, posted=posted, entered=entered or posted,
                        at=at or self.office(), user=user, tcode=tcode, header=text, reference=None,
                        lines=[(debit, amount, text), (credit, -amount, text)], stream=stream, person=True,
                        doc_date=posted, period=period)

    # --- clean streams ---
    def build_clean(self) -> LedgerBuilder:
        for company in COMPANIES.values():
            day = FY_START
            while day <= FY_END:
                if self.working(company, day):
                    self._billing_run(company, day)
                    self._goods_issues(company, day)
                    self._workflow_invoices(company, day)
                    self._keyed_invoices(company, day)
                    self._reclasses(company, day)
                    if day.weekday() in (1, 4):  # F110 on Tuesdays and Fridays
                        self._payment_run(company, day)
                if self.bank_day(day):
                    self._bank_statement(company, day)
                day += timedelta(days=1)
            for month, end in enumerate(MONTH_ENDS, start=1):
                self._month_end(company, month, end)
            self._year_end(company)
        return self

    def _billing_run(self, company: Company, day: date) -> None:
        """SD billing (VF04 job at night): no BKTXT and no SGTXT; the billing document number is in XBLNR."""
        rng = self.rng
        for _ in range(self.count(company, 14, 20)):
            self.billing += 1
            net = self.cents(2_600, 1.0)
            if rng.random() < 0.8:
                vat = round(net * 0.19) if company.code == "DE01" else round(net * 0.20)
                lines = [("120000", net + vat, None), ("440000", -net, None), ("380600", -vat, None)]
            else:  # intra-EU delivery, VAT exempt
                lines = [("120000", net, None), ("412500", -net, None)]
            self.add(company=company.code, doc_type="RV", posted=day, entered=day, at=self.clock("21:30", "23:30"),
                     user="BATCH_SD", tcode="VF04", header=None, reference=str(self.billing), lines=lines,
                     stream="billing", person=False, doc_date=day)

    def _billing_plan(self, company: Company, day: date) -> None:
        """Maintenance contracts billed on the 1st at list price: identical invoices to different customers."""
        for price, n in ((49_000, 5), (89_000, 4), (149_000, 3)):
            for _ in range(n):
                self.billing += 1
                vat = round(price * 0.19)
                self.add(company=company.code, doc_type="RV", posted=day, entered=day, at=self.clock("05:00", "05:20"),
                         user="BATCH_SD", tcode="VF04", header=None, reference=str(self.billing),
                         lines=[("120000", price + vat, None), ("440000", -price, None), ("380600", -vat, None)],
                         stream="billing_plan", person=False, doc_date=day)

    def _goods_issues(self, company: Company, day: date) -> None:
        for _ in range(self.count(company, 6, 10)):
            self.delivery += 1
            amount = self.cents(1_700, 0.9)
            self.add(company=company.code, doc_type="WA", posted=day, entered=day, at=self.clock("23:00", "23:55"),
                     user="BATCH_MM", tcode="VL02N", header=None, reference=str(self.delivery),
                     lines=[("540000", amount, None), ("114000", -amount, None)], stream="goods_issue", person=False,
                     doc_date=day)

    def _invoice(self, company: Company, day: date, *, user: str, person: bool, stream: str, tcode: str,
                 at: time) -> Document:
        rng = self.rng
        vendor = rng.choice(VENDORS)
        if rng.random() < 0.5:
            debit, net = "114000", self.cents(4_800, 0.9)
            text = f"Wareneingang {vendor.split()[0]}"
        else:
            debit = rng.choice(tuple(EXPENSES))
            net = self.cents(900, 1.0)
            text = f"{EXPENSES[debit]} {MONTHS_DE[day.month - 1]} {vendor.split()[0]}"
        vat = round(net * 0.19)
        invoice = f"RE-{rng.randrange(10_000, 99_999)}"
        return self.add(company=company.code, doc_type="KR", posted=day, entered=day, at=at, user=user, tcode=tcode,
                        header=vendor[:25], reference=invoice,
                        lines=[("330000", -(net + vat), text), (debit, net, text), ("140600", vat, None)],
                        stream=stream, person=person, doc_date=day - timedelta(days=rng.randint(2, 12)))

    def _workflow_invoices(self, company: Company, day: date) -> None:
        """Parked invoices posted by the invoice workflow once approved (FBV0 under WF-BATCH)."""
        for _ in range(self.count(company, 5, 9)):
            self._invoice(company, day, user="WF-BATCH", person=False, stream="workflow_invoice", tcode="FBV0",
                          at=self.clock("08:00", "17:30"))

    def _keyed_invoices(self, company: Company, day: date) -> None:
        for _ in range(self.count(company, 1, 3)):
            self._invoice(company, day, user=company.ap, person=True, stream="keyed_invoice", tcode="FB60",
                          at=self.office())

    def _bank_statement(self, company: Company, day: date) -> None:
        """Electronic bank statement (FF_5 job the next bank morning): customer payments DZ."""
        entered = self.next_working(company, day)  # the job runs on the factory calendar
        for _ in range(self.count(company, 8, 13)):
            customer = self.rng.choice(CUSTOMERS)
            amount = self.cents(3_000, 1.0)
            self.add(company=company.code, doc_type="DZ", posted=day, entered=entered, at=self.clock("06:00", "06:40"),
                     user="BATCH_FI", tcode="FF_5", header=None, reference=None,
                     lines=[("180000", amount, None), ("120000", -amount, f"Zahlung {customer}")],
                     stream="bank_statement", person=False, doc_date=day)

    def _payment_run(self, company: Company, day: date) -> None:
        """F110, started by the treasurer: ZP documents under his name, no texts."""
        at = self.clock("10:00", "10:20")
        for _ in range(self.count(company, 14, 22)):
            amount = self.cents(3_800, 1.0)
            self.add(company=company.code, doc_type="ZP", posted=day, entered=day, at=at, user=company.treasury,
                     tcode="F110", header=None, reference=None,
                     lines=[("330000", amount, None), ("180000", -amount, None)], stream="payment_run", person=False,
                     doc_date=day)

    def _reclasses(self, company: Company, day: date) -> None:
        rng = self.rng
        for _ in range(self.count(company, 0, 2)):
            debit, credit = rng.sample(tuple(EXPENSES), 2)
            text = f"Umbuchung {EXPENSES[credit]} an {EXPENSES[debit]} {day:%m/%Y}"
            self.gl(company, day, company.gl, debit, credit, self.cents(1_100, 1.0), text, stream="reclass")

    def _month_end(self, company: Company, month: int, end: date) -> None:
        rng = self.rng
        scale = company.scale
        first = date(FISCAL_YEAR, month, 1)
        if company.code == "DE01":
            self._billing_plan(company, first if self.working(company, first) else self.next_working(company, first))
        close = [self.next_working(company, end, n) for n in range(1, 5)]
        # Depreciation run (AFAB, batch) on the 2nd working day; HGB books it straight against the assets.
        run = close[1]
        for asset, amount in (("44000", round(4_218_333 * scale)), ("69000", round(1_137_500 * scale))):
            self.add(company=company.code, doc_type="AF", posted=end, entered=run, at=self.clock("20:00", "20:10"),
                     user="BATCH_AA", tcode="AFAB", header=f"AfA-Lauf {month:02d}/{FISCAL_YEAR}", reference=None,
                     lines=[("622000", amount, None), (asset, -amount, None)], stream="depreciation", person=False,
                     doc_date=end)
        # Payroll from DATEV, imported by a batch-input session at night as SA documents, dated the month end.
        keyed = self.last_working(company, end, 3)[-1]
        gross = self.cents(540_000 * scale, 0.02)
        employer, tax = round(gross * 0.205), round(gross * 0.24)
        social = round(gross * 0.2) + employer
        net = gross + employer - tax - social
        self.add(company=company.code, doc_type="SA", posted=end, entered=keyed, at=self.clock("02:00", "02:30"),
                 user="BATCH_HR", tcode="SM35", header=f"DATEV Lohn {month:02d}/{FISCAL_YEAR}", reference=None,
                 lines=[("602000", gross, "Gehälter"), ("611000", employer, "AG-Anteil SV"),
                        ("372000", -net, "Nettolöhne"), ("373000", -tax, "Lohnsteuer"),
                        ("374000", -social, "Sozialversicherung")],
                 stream="payroll", person=False, doc_date=end)
        self.gl(company, self.last_working(company, end, 2)[-1], company.treasury, "372000", "180000", net,
                f"Gehaltszahlung {MONTHS_DE[month - 1]}", stream="payroll_payment")
        if month < 12:  # wage tax is due on the 10th of the following month
            self.gl(company, self.next_working(company, date(FISCAL_YEAR, month + 1, 9)), company.treasury, "373000",
                    "180000", tax, f"Lohnsteuer-Anmeldung {month:02d}/{FISCAL_YEAR}", stream="payroll_payment")
        # Foreign currency valuation (FAGL_FCV, batch) of the USD account at the month end, reversed on the 1st.
        valued = close[0]
        amount = self.cents(2_300 * scale, 0.8)
        loss = rng.random() < 0.5
        lines = [("688000", amount, None), ("181000", -amount, None)] if loss else \
            [("181000", amount, None), ("484000", -amount, None)]
        text = f"FW-Bewertung {month:02d}/{FISCAL_YEAR}"
        self.add(company=company.code, doc_type="SA", posted=end, entered=valued, at=self.clock("04:00", "04:05"),
                 user="BATCH_FI", tcode="FAGL_FCV", header=text, reference=None, lines=lines, stream="fx_valuation",
                 person=False, doc_date=end)
        if month < 12:
            self.add(company=company.code, doc_type="SA", posted=end + timedelta(days=1), entered=valued,
                     at=self.clock("04:05", "04:10"), user="BATCH_FI", tcode="FAGL_FCV", header=f"Storno {text}",
                     reference=None, lines=[(a, -c, t) for a, c, t in lines], stream="fx_valuation", person=False,
                     doc_date=end + timedelta(days=1))
        # Accruals (FBS1) keyed in the first working days, reversed by F.81 (AB) on the 1st.
        accruals = (("632500", "Abgrenzung Strom/Gas", 6_400, company.gl),
                    ("645000", "Abgrenzung Wartung", 4_100, company.gl),
                    ("682500", "Abgrenzung Beratung", 9_800, company.head),
                    ("682700", "Abgrenzung Prüfungskosten", 3_900, company.gl),
                    ("665000", "Abgrenzung Reisekosten Kreditkarte", 2_700, company.ap),
                    ("602000", "Abgrenzung Überstunden", 14_500, company.head))
        for debit, text, median, user in accruals:
            if company.scale < 1 and rng.random() < 0.4:
                continue
            accrual = self.gl(company, end, user, debit, "307000", self.cents(median * scale, 0.2),
                              f"{text} {month:02d}/{FISCAL_YEAR}", stream="accrual", entered=rng.choice(close),
                              tcode="FBS1")
            if month < 12:
                self.add(company=company.code, doc_type="AB", posted=end + timedelta(days=1), entered=accrual.entered,
                         at=(datetime_plus(accrual.at, 3)), user=company.gl, tcode="F.81",
                         header=f"Storno {accrual.header}", reference=None,
                         lines=[(a, -c, t) for a, c, t in accrual.lines], stream="accrual_reversal", person=True,
                         doc_date=end + timedelta(days=1))
        # Group recharge to / from the other company code, and the petty cash book.
        if company.code == "DE01":
            self.gl(company, self.last_working(company, end, 1)[0], company.head, "126000", "483000",
                    self.cents(38_000, 0.05), f"Konzernumlage AT01 {month:02d}/{FISCAL_YEAR}", stream="recharge")
        else:
            self.gl(company, self.last_working(company, end, 1)[0], company.head, "682500", "340000",
                    self.cents(38_000, 0.05), f"Konzernumlage DE01 {month:02d}/{FISCAL_YEAR}", stream="recharge")
        for _ in range(2):
            day = self.rng.choice(self.last_working(company, end, 15)[5:])
            self.gl(company, day, company.treasury, self.rng.choice(("681500", "665000")), "160000",
                    self.cents(60, 0.6), f"Kasse {MONTHS_DE[month - 1]} Beleg {self.rng.randrange(100, 999)}",
                    stream="petty_cash")

    def _year_end(self, company: Company) -> None:
        """Special period 13: the HGB closing entries, dated 31.12., keyed in January by the accounting team."""
        scale = company.scale
        # The closing calendar: one adjustment a working day or so from 7 January (Epiphany, 6 January, is off).
        keyed = [d for d in (self.next_working(company, FY_END, n) for n in range(3, 20)) if d <= CLOSE_LAST_KEYED]
        entries = (("682700", "309500", "Rückstellung Jahresabschlussprüfung 2025", 46_000, company.head),
                   ("602000", "307000", "Urlaubsrückstellung 2025", 128_000, company.head),
                   ("602000", "307000", "Tantiemerückstellung 2025", 240_000, company.head),
                   ("761000", "304000", "Gewerbesteuerrückstellung 2025", 310_000, company.head),
                   ("760000", "304000", "Körperschaftsteuerrückstellung 2025", 290_000, company.head),
                   ("693000", "120000", "Einzelwertberichtigung Forderungen 2025", 22_000, company.gl),
                   ("540000", "114000", "Inventurdifferenz 2025", 17_000, company.gl),
                   ("682500", "307000", "Rückstellung Rechtsberatung 2025", 35_000, company.gl),
                   ("190000", "631000", "Aktive Rechnungsabgrenzung Miete 2026", 41_000, company.gl))
        for number, (debit, credit, text, median, user) in enumerate(entries):
            self.gl(company, FY_END, user, debit, credit, self.cents(median * scale, 0.1), text, stream="year_end",
                    entered=keyed[number * len(keyed) // len(entries)], period=13, tcode="FB01")

    # --- planted anomalies ---
    def ordinary_day(self, company: Company) -> date:
        """A working day away from the close, holidays and weekends: timing says nothing about it."""
        while True:
            day = FY_START + timedelta(days=self.rng.randrange(365))
            if not self.working(company, day) or day in US_FEDERAL or not 8 <= day.day <= 22:
                continue
            return day

    def plain(self, kind: str, company: str = "DE01", *, day: date | None = None, user: str | None = None,
              debit: str = "682500", credit: str = "307000", amount: int | None = None, text: str | None = None,
              entered: date | None = None, at: time | None = None, lines: list | None = None,
              period: int | None = None, convention: str | None = None) -> Document:
        co = COMPANIES[company]
        day = day or self.ordinary_day(co)
        amount = amount if amount is not None else self.cents(5_200, 0.5)
        if text is None:
            text = f"Abgrenzung {EXPENSES.get(debit, 'Aufwand')} {self.rng.choice(VENDORS).split()[0]}"
        document = self.gl(co, day, user or co.gl, debit, credit, amount, text or None, stream="planted",
                           entered=entered, at=at or self.clock("08:30", "17:00"), period=period)
        if lines is not None:
            document.lines = lines
        document.kind, document.role, document.convention = kind, "planted", convention
        return document

    def plant(self) -> LedgerBuilder:
        rng = self.rng
        de, at = COMPANIES["DE01"], COMPANIES["AT01"]
        # Unbalanced: the extract lacks a line of the document (a VAT line, a line of a split posting).
        for company, doc_type in (("DE01", "KR"), ("DE01", "RV"), ("AT01", "KR")):
            donor = rng.choice([d for d in self.documents if d.company == company and d.doc_type == doc_type
                                and d.role == "clean" and len(d.lines) == 3 and d.posted.month in (3, 5, 9)])
            donor.kind, donor.role, donor.line_numbers = "unbalanced_entry", "planted", [1, 2]
            donor.lines = donor.lines[:2]
        split = self.plain("unbalanced_entry", text="Umbuchung Wartung Kostenstellen",
                           lines=[("645000", 312_450, "KSt 4100"), ("645000", 208_300, "KSt 4200"),
                                  ("330000", -520_750, "Umbuchung Wartung Kostenstellen")])
        split.lines, split.line_numbers = split.lines[:1] + split.lines[2:], [1, 3]
        # Duplicates: accruals and invoices keyed twice, one workflow invoice posted twice.
        candidates = [d for d in self.documents if d.role == "clean" and d.company == "DE01"
                      and d.stream in ("keyed_invoice", "accrual") and d.entered < date(2025, 11, 1)]
        for original in rng.sample(candidates, 3):
            original.role = "involved"
            self.documents.append(replace(
                original, entered=self.next_working(de, original.entered, rng.randint(1, 3)), at=self.office(),
                lines=list(original.lines), kind="duplicate_entry", role="planted"))
        posted_twice = rng.choice([d for d in self.documents if d.stream == "workflow_invoice" and d.role == "clean"
                                   and d.company == "AT01"])
        posted_twice.role = "involved"
        self.documents.append(replace(posted_twice, at=datetime_plus(posted_twice.at, 1), lines=list(posted_twice.lines),
                                      kind="duplicate_entry", role="planted"))
        # High value: far above any materiality of these companies.
        for amount, debit, credit, text in ((285_000_000, "190000", "330000", "Anzahlung Presse 7 manuell"),
                                            (148_250_075, "682500", "307000", "Rückstellung Rechtsstreit"),
                                            (196_412_230, "114000", "330000", "Bestandskorrektur Zentrallager"),
                                            (231_775_050, "190000", "180000", "Vorauszahlung Lizenz 2026-2030")):
            self.plain("high_value", debit=debit, credit=credit, amount=amount, text=text, user=de.head)
        # Round amounts on ordinary accruals.
        for company, amount in (("DE01", 3_000_000), ("DE01", 7_500_000), ("DE01", 1_200_000), ("AT01", 4_800_000),
                                ("AT01", 500_000)):
            self.plain("round_amount", company, amount=amount, text="Abgrenzung Beratung pauschal")
        # Consistent endings: one clerk, one account pair, amounts ending in 417,50.
        for amount in (341_750, 741_750, 1_241_750, 541_750):
            self.plain("recurring_ending", user=de.ap, debit="682500", credit="330000", amount=amount,
                       text=f"Beratung {rng.choice(VENDORS).split()[0]}")
        # People who do not post: a sales director, an IT administrator, a plant manager in Austria.
        for company, user in (("DE01", "KSCHMIDT"), ("DE01", "KSCHMIDT"), ("DE01", "TBAUER"), ("DE01", "TBAUER"),
                              ("AT01", "FWIMMER"), ("AT01", "FWIMMER")):
            self.plain("unusual_user", company, user=user, debit="665000", credit="330000",
                       text=f"Reisekosten {rng.choice(VENDORS).split()[0]}")
        # Manual entries to revenue, to cash and bank, and to equity (SKR04 numbers: 4, 1, 2).
        for debit, credit, text, convention in (
                ("120000", "440000", "Umsatzkorrektur Krones AG", "revenue"),
                ("126000", "412500", "Nachberechnung Lieferung Palfinger", "revenue"),
                ("180000", "120000", "Zahlungseingang manuell Voith", "cash"),
                ("682500", "160000", "Barauszahlung Beratung", "cash"),
                ("297000", "682500", "Umbuchung Beratungskosten in Gewinnvortrag", "equity"),
                ("297000", "631000", "Mietaufwand gegen Gewinnvortrag", "equity")):
            self.plain("manual_to_sensitive_account", debit=debit, credit=credit, text=text, user=de.head,
                       amount=self.cents(16_000, 0.4), convention=convention)
        # Timing: weekends, public holidays, the middle of the night.
        for company, day in (("DE01", date(2025, 3, 15)), ("DE01", date(2025, 6, 29)), ("DE01", date(2025, 9, 13)),
                             ("AT01", date(2025, 2, 23)), ("AT01", date(2025, 10, 18))):
            self.plain("weekend_posting", company, day=day)
        for company, day, convention in (("DE01", date(2025, 4, 18), "local_holiday"),  # Good Friday
                                         ("DE01", date(2025, 5, 29), "local_holiday"),  # Ascension
                                         ("DE01", date(2025, 10, 3), "local_holiday"),  # German Unity Day
                                         ("DE01", date(2025, 12, 26), "local_holiday"),  # St Stephen's Day
                                         ("AT01", date(2025, 12, 8), "local_holiday"),  # Immaculate Conception
                                         ("DE01", date(2025, 6, 19), "shared_holiday"),  # Corpus Christi, Juneteenth
                                         ("AT01", date(2025, 12, 25), "shared_holiday")):  # Christmas
            self.plain("holiday_posting", company, day=day, convention=convention)
        for company, keyed in (("DE01", time(21, 47, 3)), ("DE01", time(23, 12, 40)), ("DE01", time(5, 31, 9)),
                               ("AT01", time(4, 40, 51)), ("AT01", time(20, 5, 17))):
            self.plain("after_hours", company, at=keyed)
        # Period end: large manual entries on the last working day of a month.
        for company, month, amount in (("DE01", 2, 18_412_377), ("DE01", 5, 26_530_112), ("DE01", 8, 15_108_930),
                                       ("AT01", 10, 9_277_045)):
            co = COMPANIES[company]
            self.plain("period_end", company, day=self.last_working(co, MONTH_ENDS[month - 1])[0], amount=amount,
                       user=co.head, debit="120000", credit="440000", text="Umsatzabgrenzung Lieferungen")
        # After the close: keyed in February and March 2026 into special periods 14 and 15, dated 31.12.2025.
        for company, keyed, period, debit, credit in (("DE01", date(2026, 2, 12), 14, "682500", "307000"),
                                                      ("DE01", date(2026, 2, 20), 14, "120000", "440000"),
                                                      ("DE01", date(2026, 3, 3), 15, "645000", "330000"),
                                                      ("AT01", date(2026, 2, 5), 14, "540000", "114000")):
            co = COMPANIES[company]
            self.plain("post_closing", company, day=FY_END, entered=keyed, user=co.head, debit=debit, credit=credit,
                       period=period, text=f"Nachbuchung {EXPENSES.get(debit, 'Abschluss')} 2025")
        # Backdated: keyed months after the date they take effect (the periods were left open).
        for company, effective, lag in (("DE01", date(2025, 3, 14), 118), ("DE01", date(2025, 4, 15), 75),
                                        ("DE01", date(2025, 6, 16), 96), ("AT01", date(2025, 2, 20), 171),
                                        ("AT01", date(2025, 7, 15), 64)):
            co = COMPANIES[company]
            keyed = effective + timedelta(days=lag)
            while not self.working(co, keyed):
                keyed += timedelta(days=1)
            self.plain("backdated", company, day=effective, entered=keyed)
        # No text at all.
        for company in ("DE01", "DE01", "DE01", "AT01", "AT01"):
            self.plain("missing_description", company, text="")
        # Suspicious wording: the group's English, and the German the accountants write.
        for text in ("Adjust per CFO - Q3 target", "Plug to tie out IC balance", "Top-side adjustment, reverse later",
                     "As instructed by CEO"):
            self.plain("suspicious_keyword", text=text)
        for company, text in (("DE01", "Korrektur auf Anweisung GF"), ("DE01", "Buchung ohne Beleg"),
                              ("DE01", "Bitte nicht stornieren!"), ("AT01", "Ausbuchung ohne Nachweis")):
            self.plain("suspicious_keyword", company, text=text, convention="german_keyword")
        # Seldom-used accounts: disposal losses and donations, twice each all year.
        for debit, credit, text in (("689500", "44000", "Abgang Presse 2"), ("689500", "69000", "Abgang Stapler"),
                                    ("639000", "330000", "Spende Tafel München"), ("639000", "330000", "Spende Gala")):
            self.plain("seldom_used_account", debit=debit, credit=credit, text=text, user=de.head)
        # Accounts never combined: advertising against inventory, VAT against office supplies, ...
        for debit, credit in (("660000", "114000"), ("190000", "602000"), ("380600", "681500"), ("622000", "120000"),
                              ("373000", "140600")):
            self.plain("rare_account_pair", debit=debit, credit=credit, user=de.head,
                       text=f"Umbuchung {debit} an {credit}")
        # Split under a limit: one user, one day, one account pair.
        split_day = self.ordinary_day(de)
        for amount in (942_035, 887_010, 906_288):
            self.plain("split_entry", day=split_day, user=de.gl, debit="645000", credit="330000", amount=amount,
                       text="Wartung Kaeser")
        split_day = self.ordinary_day(at)
        for amount in (1_440_020, 1_395_075):
            self.plain("split_entry", "AT01", day=split_day, user=at.gl, debit="681500", credit="330000",
                       amount=amount, text="Büroausstattung Lyreco")
        # Suspense: differences parked on the clearing account, texts as the accountants typed them.
        for company, credit, text in (("DE01", "180000", "Differenz Bankabstimmung"),
                                      ("DE01", "120000", "Kundenzahlung unklar"),
                                      ("DE01", "330000", "Saldendifferenz Lieferant"),
                                      ("AT01", "114000", "Inventurdifferenz parken"),
                                      ("AT01", "180000", "Bank Differenz Juni")):
            amount = self.cents(3_900, 0.6)
            self.plain("suspense_account", company, credit=credit, text=text,
                       lines=[("137000", amount, "Klärung"), (credit, -amount, text)])
        return self

    # --- numbering, holes, export ---
    def finish(self) -> LedgerBuilder:
        rng = self.rng
        numbered: list[Document] = []
        holes = {("DE01", RANGES["SA"]): (1, 2, 1), ("AT01", RANGES["KR"]): (3,)}
        for company in COMPANIES:
            for start in sorted(set(RANGES.values())):
                docs = sorted((d for d in self.documents if d.company == company and RANGES[d.doc_type] == start),
                              key=lambda d: (d.entered, d.at, d.user, d.header or "", d.reference or ""))
                # Holes: numbers lost to update terminations or deleted from the extract.
                lost: set[int] = set()
                for size in holes.get((company, start), ()):
                    while True:
                        at = rng.randrange(50, len(docs) - 50)
                        window = docs[at:at + size + 1]
                        if all(d.role == "clean" for d in window) and not lost & set(range(at - 3, at + size + 3)):
                            break
                    lost |= set(range(at, at + size))
                    docs[at + size].kind, docs[at + size].role = "sequence_gap", "planted"
                for number, document in enumerate(docs, start=start + 1):
                    document.belnr = f"{number:010d}"
                numbered += [d for i, d in enumerate(docs) if i not in lost]
        self.documents = numbered
        return self

    HEADER = ("BUKRS", "BELNR", "GJAHR", "BUZEI", "BLART", "BLDAT", "BUDAT", "MONAT", "CPUDT", "CPUTM", "USNAM",
              "TCODE", "XBLNR", "BKTXT", "BSCHL", "HKONT", "SHKZG", "DMBTR", "HWAER", "SGTXT")

    def write_csv(self, path: Path) -> Path:
        with path.open("w", newline="", encoding="cp1252") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(self.HEADER)
            for d in self.documents:
                numbers = d.line_numbers or list(range(1, len(d.lines) + 1))
                for number, (account, cents, text) in zip(numbers, d.lines, strict=True):
                    writer.writerow([
                        d.company, d.belnr, FISCAL_YEAR, f"{number:03d}", d.doc_type,
                        (d.doc_date or d.posted).strftime("%d.%m.%Y"), d.posted.strftime("%d.%m.%Y"),
                        f"{d.period or d.posted.month:02d}", d.entered.strftime("%d.%m.%Y"), d.at.strftime("%H:%M:%S"),
                        d.user, d.tcode, d.reference or "", d.header or "", posting_key(d.doc_type, account, cents),
                        account, "S" if cents >= 0 else "H", euro(cents), "EUR", text or ""])
        return path

    def write_chart(self, path: Path) -> Path:
        """SKB1 joined with SKAT (language E): what the client sends with the extract."""
        with path.open("w", newline="", encoding="cp1252") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(("BUKRS", "SAKNR", "TXT50", "KTOKS", "XBILK"))
            for company in COMPANIES:
                for account, (name, group) in CHART.items():
                    writer.writerow((company, account, name, group, "X" if account[0] in "0123" or
                                     len(account) == 5 else ""))
        return path

    def labels(self) -> pl.DataFrame:
        return pl.DataFrame(
            [{"entity_id": d.company, "journal_id": d.belnr, "kind": d.kind, "convention": d.convention,
              "role": d.role, "stream": d.stream, "person": d.person, "user": d.user, "doc_type": d.doc_type,
              "effective_date": d.posted, "entry_date": d.entered,
              "accounts": sorted({a for a, _, _ in d.lines})} for d in self.documents],
            schema={"entity_id": pl.String, "journal_id": pl.String, "kind": pl.String, "convention": pl.String,
                    "role": pl.String, "stream": pl.String, "person": pl.Boolean, "user": pl.String,
                    "doc_type": pl.String, "effective_date": pl.Date, "entry_date": pl.Date,
                    "accounts": pl.List(pl.String)})


def datetime_plus(at: time, minutes: int) -> time:
    total = min(at.hour * 60 + at.minute + minutes, 23 * 60 + 59)
    return time(total // 60, total % 60, at.second)


def posting_key(doc_type: str, account: str, cents: int) -> str:
    """BSCHL: 01/15 customer, 31/25 vendor, 40/50 G/L, 70/75 asset."""
    debit = cents >= 0
    if account == "120000" and doc_type in ("RV", "DZ"):
        return "01" if debit else "15"
    if account == "330000" and doc_type in ("KR", "ZP"):
        return "25" if debit else "31"
    if account in ("44000", "69000") and doc_type == "AF":
        return "75"
    return "40" if debit else "50"


def build_ledger(seed: int = 20_251_231) -> LedgerBuilder:
    return LedgerBuilder(seed).build_clean().plant().finish()


# --- Running the CLI and measuring ----------------------------------------------------------------------

KEYS = ["entity_id", "journal_id"]



def _run(ledger: LedgerBuilder, export: Path, work: Path, *, chart: Path | None, title: str) -> Run:
    started = clock.perf_counter()
    summary = analyze_export(export, work / "results", work / "data", *(["--coa", str(chart)] if chart else []))
    entries = pl.read_parquet(work / "results" / "entries.parquet")
    labels = ledger.labels()
    judged = labels.join(entries.select(*KEYS, "tests", "test_scores", "risk_rank", "manual", "explanations"),
                         on=KEYS, how="left")
    figures = detection_figures(entries, labels)
    print(f"\nunseen SAP ledger, {title} ({clock.perf_counter() - started:.1f} s):\n" + json.dumps(figures, indent=1))
    return Run(summary, work / "results", entries, judged, figures)


@pytest.fixture(scope="module")
def ledger() -> LedgerBuilder:
    return build_ledger()


@pytest.fixture(scope="module")
def export(ledger: LedgerBuilder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ledger.write_csv(tmp_path_factory.mktemp("sap") / "BKPF_BSEG_DE01_AT01_2025.csv")


@pytest.fixture(scope="module")
def run(ledger: LedgerBuilder, export: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The extract as the client sent it, alone (no chart of accounts)."""
    return _run(ledger, export, tmp_path_factory.mktemp("gl_only"), chart=None, title="BKPF/BSEG alone")


@pytest.fixture(scope="module")
def charted(ledger: LedgerBuilder, export: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The same extract with the client's SKB1/SKAT chart of accounts (``--coa``)."""
    work = tmp_path_factory.mktemp("charted")
    chart = ledger.write_chart(work / "SKB1_SKAT_E.csv")
    return _run(ledger, export, work, chart=chart, title="with the SKB1/SKAT chart")


def _clean(run: Run) -> pl.DataFrame:
    return run.judged.filter(pl.col("role") == "clean")


def _planted(run: Run, kind: str, convention: str | None = None) -> pl.DataFrame:
    planted = run.judged.filter((pl.col("role") == "planted") & (pl.col("kind") == kind))
    return planted.filter(pl.col("convention").is_null() if convention is None else
                          pl.col("convention") == convention)


def _found(planted: pl.DataFrame, test_id: str) -> dict:
    return {"planted": planted.height, "found": int(planted["tests"].list.contains(test_id).sum()),
            "missed": planted.filter(~pl.col("tests").list.contains(test_id))
            .select("entity_id", "journal_id", "tests").to_dicts()}


def _money(text: str) -> int:
    """'1,234.56' (the population summary's money text) -> cents."""
    return round(float(text.replace(",", "")) * 100)


# --- The auditor's checklist ----------------------------------------------------------------------------

LOADED = {"entity_id": "BUKRS", "journal_id": "BELNR", "line_number": "BUZEI", "fiscal_year": "GJAHR",
          "period": "MONAT", "effective_date": "BUDAT", "entry_date": "CPUDT", "entry_time": "CPUTM",
          "gl_account_number": "HKONT", "amount": "DMBTR signed by SHKZG", "amount_currency": "HWAER",
          "je_header_description": "BKTXT", "je_line_description": "SGTXT", "source": "TCODE",
          "document_type": "BLART", "entered_by": "USNAM", "document_reference": "XBLNR"}


def test_the_extract_is_recognised_as_sap_with_its_german_locale(export: Path) -> None:
    """SAP field names, Windows-1252, ';', dates 31.12.2025 and amounts 1.234,56 read without a mapping file."""
    from auditray.ingest import validate_source

    report = validate_source(export, "gl_detail")
    print("\ningestion:", report.profile, report.mapping, report.warnings, sep="\n  ")
    assert report.ok and not report.errors
    assert report.profile == "sap"
    assert report.mapping == LOADED
    assert any("decimal comma" in w for w in report.warnings)
    assert any("Windows-1252" in w for w in report.warnings)
    # Known to the profile, but without a field in the contract: the document date and the posting key. The
    # reference (billing document, vendor invoice number) is loaded: it tells documents apart.
    assert any(w == "columns not loaded: BLDAT, BSCHL" for w in report.warnings)


def test_the_whole_extract_is_read_to_the_cent(ledger: LedgerBuilder, run: Run) -> None:
    assert run.summary["journals"] == run.entries.height == len(ledger.documents)
    assert run.summary["lines"] == sum(len(d.lines) for d in ledger.documents)
    for company in COMPANIES:
        entity = run.population["entities"][company]
        mine = [d for d in ledger.documents if d.company == company]
        totals = entity["control_totals"]
        assert totals["journals"] == len(mine)
        # DMBTR '1.234,56' with SHKZG S/H: the debits agree to the cent, the net is the unbalanced entries'.
        assert _money(totals["debits"]) == sum(c for d in mine for _, c, _ in d.lines if c > 0)
        assert totals["net"] == entity["unbalanced_entries"]["net"]
        assert entity["unbalanced_entries"]["count"] == sum(d.kind == "unbalanced_entry" for d in mine)


def test_the_fiscal_year_is_the_calendar_year_and_period_13_does_not_move_it(run: Run) -> None:
    for company in COMPANIES:
        facts = run.facts(company)
        assert (facts["fiscal_year_start"], facts["fiscal_year_end"]) == ("2025-01-01", "2025-12-31")
        assert facts["closing_date"] == "2026-01-30"
        assert run.population["entities"][company]["period_coverage"]["entries_outside_fiscal_year"] == 0


def test_each_company_code_and_number_range_is_its_own_sequence(run: Run) -> None:
    """Both company codes count from 0100000001; SA and AB share range 01; the jumps between ranges are breaks."""
    de, at = (run.population["entities"][c]["sequence"] for c in ("DE01", "AT01"))
    assert (de["gaps"], de["missing_numbers"]) == (3, 1 + 2 + 1)
    assert (at["gaps"], at["missing_numbers"]) == (1, 3)
    assert de["range_breaks"] == at["range_breaks"] == len(set(RANGES.values())) - 1


def test_the_us_holidays_the_group_works_are_found_worked(run: Run) -> None:
    worked = {date.fromisoformat(d) for d in run.population["holidays_worked"]["days"]}
    group_works = {d for d in US_FEDERAL if d.weekday() < 5 and FY_START <= d <= FY_END} - DE_HOLIDAYS - AT_HOLIDAYS
    assert worked == group_works


# Without a Manual_Entry column: who keyed a document, read from BLART and USNAM.

def test_documents_people_key_are_read_as_manual(run: Run) -> None:
    """FB50 G/L documents (SA), FB60 invoices (KR) and F.81 reversals (AB) keyed by the accountants."""
    people = run.judged.filter(pl.col("person"))
    assert people["stream"].n_unique() >= 8
    assert people.filter(~pl.col("manual")).height == 0


def test_documents_of_sd_mm_asset_and_bank_jobs_are_read_as_system_postings(run: Run) -> None:
    """RV billing, WA goods issues, AF depreciation, DZ bank statements and workflow invoices (KR)."""
    jobs = run.judged.filter(pl.col("stream").is_in(["billing", "billing_plan", "goods_issue", "depreciation",
                                                     "bank_statement", "workflow_invoice"]))
    assert jobs.height > 10_000
    assert jobs.filter(pl.col("manual")).height == 0


def test_sa_documents_posted_by_batch_users_are_read_as_system_postings(run: Run) -> None:
    batch = run.judged.filter(pl.col("user").is_in(list(BATCH_USERS)) & (pl.col("doc_type") == "SA"))
    assert batch.height >= 60
    assert batch.filter(pl.col("manual")).height == 0, batch.group_by("stream", "manual").len().to_dicts()


def test_payment_program_documents_are_read_as_system_postings(run: Run) -> None:
    payments = run.judged.filter(pl.col("doc_type") == "ZP")
    assert payments.height > 1_000
    assert payments.filter(pl.col("manual")).height == 0, payments.group_by("manual").len().to_dicts()


# Every planted kind, found by its own test.

PLANTED_KINDS = ("unbalanced_entry", "sequence_gap", "duplicate_entry", "high_value", "round_amount",
                 "recurring_ending", "unusual_user", "weekend_posting", "holiday_posting", "after_hours", "period_end",
                 "post_closing", "backdated", "missing_description", "suspicious_keyword", "seldom_used_account",
                 "rare_account_pair", "split_entry")


@pytest.mark.parametrize("kind", PLANTED_KINDS)
def test_every_planted_kind_is_found_by_its_own_test(run: Run, kind: str) -> None:
    """Plants on conventions both ledgers share; holidays only on days the US calendar also has (19 June,
    Corpus Christi and Juneteenth; Christmas), keywords only in the group's English."""
    convention = "shared_holiday" if kind == "holiday_posting" else None
    found = _found(_planted(run, kind, convention), kind)
    assert found["planted"] >= 2
    assert found["found"] == found["planted"], found


def test_postings_keyed_on_bavarian_and_austrian_public_holidays_are_found(run: Run) -> None:
    """No calendar of the battery's lists Good Friday, Ascension, 3 October, 26 December (Bavaria) or 8 December
    (Austria): the ledger shows each company code closed on its own holidays (facts.closed_days)."""
    planted = _planted(run, "holiday_posting", "local_holiday")
    found = _found(planted, "holiday_posting")
    assert found["found"] == found["planted"] == 5, found
    assert planted["explanations"].list.join(" ").str.contains("a day the ledger shows the office closed").all()
    closed = {(d["entity_id"], d["date"]) for d in run.population["closed_days"]["days"]}
    assert closed == {("DE01", "2025-04-18"), ("DE01", "2025-05-29"), ("DE01", "2025-10-03"),
                      ("DE01", "2025-12-26"), ("AT01", "2025-12-08")}, closed


def test_suspicious_wording_in_german_is_found(run: Run) -> None:
    found = _found(_planted(run, "suspicious_keyword", "german_keyword"), "suspicious_keyword")
    assert found["found"] == found["planted"] == 4, found


def test_manual_entries_to_revenue_accounts_are_found(run: Run) -> None:
    found = _found(_planted(run, "manual_to_sensitive_account", "revenue"), "manual_to_sensitive_account")
    assert found["found"] == found["planted"] == 2, found


@pytest.mark.xfail(strict=True, reason=(
    "auditray/je/settings.py sensitive_number_prefixes default ['3', '4'] (US numbering) is facts.py "
    "classify_accounts' only clue without a chart: SKR04 keeps cash and bank in 16xxxx/18xxxx and equity "
    "in 2xxxxx"))
def test_manual_entries_to_cash_and_equity_are_found(run: Run) -> None:
    planted = _planted(run, "manual_to_sensitive_account", "cash").vstack(
        _planted(run, "manual_to_sensitive_account", "equity"))
    found = _found(planted, "manual_to_sensitive_account")
    assert found["found"] == found["planted"] == 4, found


@pytest.mark.xfail(strict=True, reason=(
    "auditray/je/settings.py sensitive_number_prefixes default ['3', '4'] reads SKR04 class 3 (provisions, "
    "payables, VAT, payroll liabilities) as equity in facts.py classify_accounts, so accruals, invoices and "
    "salary payments keyed by the accountants are 'manual entries to a sensitive account'"))
def test_a_manual_entry_touching_only_liabilities_is_not_taken_for_one_to_equity(run: Run) -> None:
    people = _clean(run).filter(pl.col("person"))
    ordinary = people.filter(pl.col("accounts").list.eval(
        pl.element().is_in([*CASH, *REVENUE, *EQUITY, "483000", "484000", "44000", "69000"])).list.any().not_())
    assert ordinary.height > 1_000
    hits = ordinary.filter(pl.col("tests").list.contains("manual_to_sensitive_account"))
    assert hits.height == 0, hits.group_by("stream").len().sort("len", descending=True).to_dicts()


def test_with_the_chart_manual_entries_to_revenue_cash_and_equity_are_found(charted: Run) -> None:
    planted = charted.judged.filter(pl.col("kind") == "manual_to_sensitive_account")
    found = _found(planted, "manual_to_sensitive_account")
    assert found["found"] == found["planted"] == 6, found


def test_without_a_chart_suspense_postings_are_found_or_the_test_is_reported_not_run(run: Run) -> None:
    found = _found(_planted(run, "suspense_account"), "suspense_account")
    assert "suspense_account" in run.summary["tests_not_run"] or found["found"] == found["planted"], found


def test_with_the_chart_suspense_postings_are_found(charted: Run) -> None:
    """SKAT names 137000 'Suspense account - items to be clarified'."""
    found = _found(_planted(charted, "suspense_account"), "suspense_account")
    assert found["found"] == found["planted"] == 5, found


def _revenue(ledger: LedgerBuilder, company: str) -> int:
    return -sum(c for d in ledger.documents if d.company == company for a, c, _ in d.lines if a in REVENUE)


@pytest.mark.parametrize("variant", [
    "run",
    "charted",
])
def test_materiality_is_estimated_from_the_companies_revenue(ledger: LedgerBuilder, variant: str,
                                                            request: pytest.FixtureRequest) -> None:
    """ISA 320 A7: 1 % of revenue; SKR04 revenue 440000 and 412500 (class 4, like the US numbering)."""
    result: Run = request.getfixturevalue(variant)
    for company in COMPANIES:
        reported = result.facts(company)["revenue"]
        assert reported is not None, result.facts(company)["basis"]["high_value_threshold"]
        assert _money(reported) == pytest.approx(_revenue(ledger, company), rel=0.1), (company, reported)


# The riskiest entries hold the planted ones.

def test_the_riskiest_five_percent_holds_nearly_every_planted_entry(run: Run) -> None:
    assert run.figures["top_5pct"]["share"] >= 0.9, run.figures["top_5pct"]


def test_the_riskiest_one_percent_holds_nine_in_ten_planted_entries(run: Run) -> None:
    assert run.figures["planted"] <= run.figures["top_1pct"]["entries"]
    assert run.figures["top_1pct"]["share"] >= 0.9, run.figures["top_1pct"]


# Tests an honest entry of this ledger has no reason to trip (the same list as the US ledger's).

CLEAN_GAPS = {
    "split_entry": (
        "auditray/je/analyze.py _split_groups, with no approvals in the ledger, tries every "
        "DEFAULT_COMMON_APPROVAL_LIMITS down to 1,000.00: two vendor invoices an AP clerk keys (FB60, KR) to one "
        "account on one day are a 'split' whenever together they cross one of them (42 clean entries; 39 before "
        "splits in k parts of at least half the limit / (k - 1) each were recognised)"),
    "holiday_posting": (
        "auditray/je/facts.py holidays_for uses the US federal calendar: a closing entry keyed on 19 January 2026 "
        "(Martin Luther King Day, a working Monday in Munich; too few January entries for worked_holidays to see "
        "it worked) and the bank-statement documents dated 19 June (Juneteenth; a TARGET2 business day)"),
}
INTEGRITY = ("unbalanced_entry", "sequence_gap", "duplicate_entry", "post_closing", "backdated", "after_hours",
             "unusual_user", "recurring_ending", "split_entry", "below_approval_threshold",
             "suspense_account", "weekend_posting", "holiday_posting")


@pytest.mark.parametrize("test_id", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=CLEAN_GAPS[t])) if t in CLEAN_GAPS else t
    for t in INTEGRITY])
def test_a_clean_entry_does_not_trip_a_test_it_has_no_reason_to_trip(run: Run, test_id: str) -> None:
    hits = _clean(run).filter(pl.col("tests").list.contains(test_id))
    assert hits.height == 0, hits.group_by("stream").len().sort("len", descending=True).to_dicts()


def test_system_postings_without_text_trip_the_description_test_only_weakly(run: Run) -> None:
    """SD billing and goods issues keep their reference in XBLNR, not in a text: routine for a program."""
    from auditray.je.catalogue import TESTS

    scores = scores_of(run.entries, "missing_description", KEYS)
    jobs = _clean(run).filter(~pl.col("person")).select(KEYS).join(scores, on=KEYS)
    planted = run.judged.filter(pl.col("kind") == "missing_description").select(KEYS).join(scores, on=KEYS)
    assert jobs.height > 1000 and jobs["test_scores"].max() <= TESTS["missing_description"].system_strength
    assert planted.height > 0 and planted["test_scores"].min() == 1.0


def _ordinary_day(column: str) -> pl.Expr:
    return (pl.col(column).dt.weekday() <= 5) & ~pl.col(column).is_in(sorted(US_FEDERAL | DE_HOLIDAYS | AT_HOLIDAYS))


def test_a_clean_job_posting_on_an_ordinary_working_day_trips_no_timing_test(run: Run) -> None:
    """Billing and goods issues at night, bank statements at dawn, depreciation keyed after the month end."""
    jobs = _clean(run).filter(~pl.col("person") & pl.col("user").is_in(list(BATCH_USERS))
                              & pl.col("doc_type").ne("SA") & _ordinary_day("effective_date")
                              & _ordinary_day("entry_date"))
    assert jobs.height > 10_000 and jobs["stream"].n_unique() >= 6
    hits = jobs.filter(pl.col("tests").list.eval(pl.element().is_in(list(TIMING))).list.any())
    assert hits.height == 0, hits.select("stream", "effective_date", "tests").head(5).to_dicts()


def test_a_clean_manual_entry_keyed_in_office_hours_on_an_ordinary_day_trips_no_timing_test(run: Run) -> None:
    """Reclasses and invoices keyed mid-month: nothing about their timing is odd."""
    manual = _clean(run).filter(pl.col("stream").is_in(["reclass", "keyed_invoice"])
                                & _ordinary_day("effective_date") & (pl.col("effective_date").dt.day() < 26))
    assert manual.height > 800
    hits = manual.filter(pl.col("tests").list.eval(pl.element().is_in(list(TIMING))).list.any())
    assert hits.height == 0, hits.select("stream", "effective_date", "tests").head(5).to_dicts()


def test_the_year_end_close_in_period_13_is_not_post_closing_or_backdated(run: Run) -> None:
    """Closing entries dated 31.12.2025, keyed up to 23 January 2026: within the 30 days after year end."""
    close = _clean(run).filter(pl.col("stream") == "year_end")
    assert close.height == 18
    assert close.filter(pl.col("tests").list.eval(pl.element().is_in(["post_closing", "backdated"])).list.any()
                        ).height == 0
