"""The plan of an engagement: everything decided before the first line is written.

Volumes per template and period, the chunk layout, the size of each entity (and hence its
materiality), opening balances and the prior-year trial balance, the recurring amounts and the
planted anomalies are all fixed here from the seed, so that chunks can then be generated one at a
time, in any process, and still give byte-identical output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from auditray.generate.calendar import FiscalCalendar
from auditray.generate.chart import ASSET_CLASSES, Chart, build_chart
from auditray.generate.config import ANOMALY_KINDS, MIN_ENTITY_LINES, GeneratorConfig
from auditray.generate.entities import EntityProfile, entity_profiles
from auditray.generate.journals import Vocabulary
from auditray.generate.templates import (
    ACCOUNT_PHRASES,
    MANUAL_PHRASES,
    VOLUME_TEMPLATES,
    Template,
    party_names,
)
from auditray.generate.users import Roster, build_roster

# Entries that are not drawn in volume: recurring entries, reversals, and the plain manual journal
# that carries most planted anomalies. (code, source, document type, manual)
OTHER_TEMPLATES = (
    ("payroll", "PAY", "PY", False),
    ("payroll_tax_remittance", "PAY", "PY", False),
    ("benefits_remittance", "PAY", "PY", False),
    ("share_based_compensation", "PAY", "PY", False),
    ("depreciation", "FA", "AF", False),
    ("rent", "AP", "KR", False),
    ("insurance_premium", "AP", "KR", False),
    ("insurance_release", "GL", "SA", False),
    ("interest_accrual", "GL", "SA", True),
    ("interest_payment", "CASH", "SA", False),
    ("tax_provision", "CLOSE", "SA", True),
    ("tax_payment", "CASH", "SA", False),
    ("vat_payment", "CASH", "SA", False),
    ("ic_charge", "IC", "IC", False),
    ("ic_settlement", "CASH", "SA", False),
    ("accrual_reversal", "ACCRUAL", "SA", False),
    ("year_end_adjustment", "CLOSE", "SA", True),
    ("manual_journal", "GL", "SA", True),
)
TEMPLATE_TABLE = tuple((t.code, t.source, t.document_type, t.manual) for t in VOLUME_TEMPLATES) + OTHER_TEMPLATES
CODE = {row[0]: i for i, row in enumerate(TEMPLATE_TABLE)}

# A typical B2B invoice; every other automated amount is calibrated against it through the budget.
AR_INVOICE_MEDIAN = 11_000.0
PAYROLL_SHARE, SBC_SHARE, RENT_SHARE, INSURANCE_SHARE = 0.10, 0.004, 0.012, 0.003
DEPARTMENT_PAYROLL = (0.22, 0.08, 0.18, 0.17, 0.25, 0.10)
DEPRECIATION_RATES = {"buildings": 0.03, "leasehold": 0.10, "machinery": 0.12, "vehicles": 0.20,
                      "furniture": 0.12, "computers": 0.30, "software": 0.25}
SEASONALITY = {1: 0.92, 2: 0.94, 3: 1.05, 4: 0.98, 5: 1.0, 6: 1.04, 7: 0.93, 8: 0.88, 9: 1.03, 10: 1.05,
               11: 1.04, 12: 1.14}
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Materiality: 1% of prior-year revenue, performance materiality 75% of it (a common benchmark
# range; see the AICPA Audit Guide "Audit Sampling" and ISA 320 A4-A7).
MATERIALITY_OF_REVENUE, PERFORMANCE_SHARE, TRIVIAL_SHARE = 0.01, 0.75, 0.05
# Baseline manual entries stay below this share of the high-value threshold, so that planted
# period-end and high-value entries stand out; automated ones stay below the threshold itself.
MANUAL_CAP_SHARE, AUTOMATED_CAP_SHARE = 0.2, 0.95
# In a small company manual entries are small too: their median is at most this share of the threshold.
MANUAL_MEDIAN_SHARE = 0.03
# In small ledgers automated amounts are capped at this multiple of their median instead.
SMALL_LEDGER_CAP = 12.0
FIXED_LINES_PER_ENTITY = 1_400


@dataclass
class ResolvedTemplate:
    spec: Template
    code: int
    single: tuple[np.ndarray, np.ndarray]
    multi: tuple[np.ndarray, np.ndarray]
    vat_account: int
    vat_rate: float
    expected_lines: float
    annual: int = 0
    median: float = 0.0
    cap_cents: int = 0  # largest net amount drawn
    # Header per (phrase, debit account) for manual templates that name the account, else empty.
    account_headers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    headers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


@dataclass
class ChunkSpec:
    """One unit of generation and one Parquet file: a block of consecutive days of one period."""

    entity: int
    period: int
    block: int
    n_blocks: int
    days: np.ndarray  # business days (effective dates) of the block
    start: np.datetime64  # first calendar day covered
    end: np.datetime64  # last calendar day covered
    counts: np.ndarray  # journals per volume template
    period_counts: np.ndarray  # journals per volume template in the whole period
    part: int = 0

    @property
    def first_block(self) -> bool:
        return self.block == 0

    @property
    def last_block(self) -> bool:
        return self.block == self.n_blocks - 1

    def covers(self, day: np.datetime64) -> bool:
        return bool(self.start <= day <= self.end)


@dataclass
class Thresholds:
    materiality: int
    performance_materiality: int
    clearly_trivial: int
    high_value: int
    manual_cap: int
    automated_cap: int
    period_end_unusual: int
    approval_limit: int


@dataclass
class Recurring:
    payroll_gross: np.ndarray  # cents per department and run
    sbc: int
    depreciation: dict[str, int]
    rent: dict[int, int]  # account -> monthly cents
    insurance: dict[int, int]  # expense account -> monthly cents
    interest: int
    tax: int
    ic_fees: dict[str, int]  # counterparty -> monthly cents (same figure in both entities' books)
    ic_parent: str | None


@dataclass
class EntityPlan:
    index: int
    profile: EntityProfile
    chart: Chart
    roster: Roster
    vocab: Vocabulary
    templates: list[ResolvedTemplate]
    chunks: list[ChunkSpec]
    planned_revenue: int
    opening: np.ndarray  # cents per account
    prior_opening: np.ndarray
    prior_closing: np.ndarray
    thresholds: Thresholds
    recurring: Recurring
    vendors: np.ndarray  # vocabulary indices of " - <vendor>"
    customers: np.ndarray
    period_labels: np.ndarray  # vocabulary index of " - Mar 2025" per period
    account_texts: np.ndarray  # vocabulary index of each account's name
    baseline_pairs: set[tuple[int, int]]
    plants: list = field(default_factory=list)
    planned_journals: int = 0
    planned_lines: int = 0
    fabricator: int = -1
    unusual_users: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


@dataclass
class EngagementPlan:
    config: GeneratorConfig
    calendar: FiscalCalendar
    entities: list[EntityPlan]

    @property
    def chunks(self) -> list[ChunkSpec]:
        return [c for e in self.entities for c in e.chunks]


def rng_for(config: GeneratorConfig, *key: int) -> np.random.Generator:
    """An independent stream per purpose, so that changing one part of the plan never shifts another."""
    return np.random.default_rng(np.random.SeedSequence([config.seed, *key]))


def _cents(value: float) -> int:
    """A non-round amount in cents (round thousands are reserved for planted anomalies)."""
    cents = round(value * 100)
    return cents + 37 if cents % 100_000 == 0 else cents


def plan_engagement(config: GeneratorConfig) -> EngagementPlan:
    calendar = FiscalCalendar(config.fiscal_year, config.fiscal_year_start_month, config.closing_business_days,
                              config.close_window_business_days)
    profiles = entity_profiles(config.n_entities)
    group = [p.entity_id for p in profiles]
    # Every entity gets a minimum ledger; the rest is shared by size.
    total_size = sum(p.size for p in profiles)
    spare = config.n_lines - MIN_ENTITY_LINES * len(profiles)
    entities = [
        _plan_entity(config, calendar, i, p, group, MIN_ENTITY_LINES + int(spare * p.size / total_size))
        for i, p in enumerate(profiles)
    ]
    # Intercompany charges appear in the parent's and each subsidiary's books with the same amount.
    parent = entities[0]
    for sub in entities[1:]:
        fee = _cents(sub.planned_revenue / 100 * 0.004 / 12 * (1 + (sub.index % 5) / 37))
        parent.recurring.ic_fees[sub.profile.entity_id] = fee
        sub.recurring.ic_fees[parent.profile.entity_id] = fee
        sub.recurring.ic_parent = parent.profile.entity_id
    part = 0
    for entity in entities:
        for chunk in entity.chunks:
            chunk.part = part
            part += 1
    from auditray.generate.anomalies import plan_plants  # planting needs the finished plan

    for entity in entities:
        plan_plants(config, calendar, entity, rng_for(config, entity.index, 90))
    return EngagementPlan(config, calendar, entities)


def _resolve(chart: Chart, spec: Template, profile: EntityProfile) -> ResolvedTemplate:
    # One VAT control account takes output VAT on sales and input VAT on purchases; the monthly
    # return pays the net.
    vat_rate = profile.vat_rate if spec.vat and chart.has("output_tax") else 0.0
    vat_account = chart.account("output_tax") if vat_rate > 0 else -1
    probs = np.asarray(spec.lines) / np.sum(spec.lines)
    lines = 1 + float(np.dot(np.arange(1, len(probs) + 1), probs)) + (vat_rate > 0)
    if spec.reversed_next_period:
        lines *= 1 + 11 / 12
    return ResolvedTemplate(spec, CODE[spec.code], chart.pool(*spec.single_roles), chart.pool(*spec.multi_roles),
                            vat_account, vat_rate, lines)


def _plan_entity(config: GeneratorConfig, calendar: FiscalCalendar, index: int, profile: EntityProfile,
                 group: list[str], line_budget: int) -> EntityPlan:
    rng = rng_for(config, index, 1)
    chart = build_chart(profile, group, rng_for(config, index, 2))
    templates = [_resolve(chart, spec, profile) for spec in VOLUME_TEMPLATES]

    # Volumes: what is left after recurring entries and planted anomalies, shared by line share.
    expected_plants = max(len(ANOMALY_KINDS) * 4 + 40, config.anomaly_rate * line_budget / 2.6) \
        if config.anomaly_rate > 0 else 0
    variable = line_budget - FIXED_LINES_PER_ENTITY - 2.3 * expected_plants
    if variable < 1_000:
        raise ValueError(f"{profile.entity_id}: n_lines too small for {config.n_entities} entities")
    share_total = sum(t.spec.line_share for t in templates)
    for t in templates:
        t.annual = max(12, round(variable * t.spec.line_share / share_total / t.expected_lines))

    # Size of the company: revenue follows from the number of invoices; materiality from revenue;
    # and the largest automated amounts stay below the high-value threshold, which caps the
    # invoices. A few rounds settle the circle.
    vat = profile.vat_rate
    ar = templates[0]
    ar.median = AR_INVOICE_MEDIAN
    for t in templates:
        if t.spec.median is not None:
            t.median = t.spec.median
    prior_growth = rng.uniform(0.88, 0.97)
    approval = int(config.approval_limit * 100)
    thresholds = _thresholds(10**18, approval)
    for _ in range(8):
        revenue = ar.annual * truncated_mean(ar.median, ar.spec.sigma, _cap(thresholds, ar))
        thresholds = _thresholds(_two_significant_digits(revenue * 100 * prior_growth * MATERIALITY_OF_REVENUE),
                                 approval)
    for t in templates:
        if t.spec.manual:
            t.median = min(t.median, thresholds.high_value / 100 * MANUAL_MEDIAN_SHARE)
    _calibrate_flows(templates, revenue, vat, thresholds)
    for t in templates:
        t.cap_cents = int(_cap(thresholds, t) * 100)

    recurring = _plan_recurring(chart, revenue, rng)
    # Recurring manual entries must respect the manual cap like any other manual entry.
    recurring.tax = min(recurring.tax, _cents(thresholds.manual_cap * rng.uniform(0.7, 0.8) / 100))
    recurring.interest = min(recurring.interest, _cents(thresholds.manual_cap * rng.uniform(0.6, 0.7) / 100))
    vocab = Vocabulary()
    period_labels = vocab.add_many([
        f" - {MONTH_NAMES[p.end.month - 1]} {p.end.year}" for p in calendar.periods])
    account_texts = vocab.add_many(chart.names)
    n_parties = int(np.clip(sum(t.annual for t in templates) / 60, 40, 400))
    vendors = vocab.add_many([" - " + n for n in party_names(profile.country, "vendor", n_parties, rng)])
    customers = vocab.add_many([" - " + n for n in party_names(profile.country, "customer", n_parties, rng)])
    for t in templates:
        phrases = MANUAL_PHRASES.get(t.spec.code, (t.spec.header,))
        t.headers = vocab.add_many(list(phrases))
        if t.spec.code in ACCOUNT_PHRASES:
            t.account_headers = np.full((len(ACCOUNT_PHRASES[t.spec.code]), len(chart)), -1, np.int32)
            for i, phrase in enumerate(ACCOUNT_PHRASES[t.spec.code]):
                for account in t.multi[0]:
                    t.account_headers[i, account] = vocab.add(phrase.format(name=chart.names[account]))
    opening, prior_opening, prior_closing = _balances(chart, templates, thresholds, recurring, revenue,
                                                      revenue * prior_growth, rng)

    manual_journals = sum(t.annual for t in templates if t.spec.manual)
    n_accountants = int(np.clip(10 + manual_journals // 3_000, 10, 30))
    roster = build_roster(profile.entity_id, profile.country, n_accountants, approval, rng_for(config, index, 3))
    chunks = _plan_chunks(config, calendar, index, templates, rng)
    plan = EntityPlan(
        index=index, profile=profile, chart=chart, roster=roster, vocab=vocab, templates=templates, chunks=chunks,
        planned_revenue=int(revenue * 100), opening=opening, prior_opening=prior_opening,
        prior_closing=prior_closing, thresholds=thresholds, recurring=recurring, vendors=vendors,
        customers=customers, period_labels=period_labels, account_texts=account_texts,
        baseline_pairs=_baseline_pairs(chart, templates),
    )
    plan.planned_journals = sum(t.annual for t in templates)
    plan.planned_lines = line_budget
    return plan


def _thresholds(materiality: int, approval: int) -> Thresholds:
    performance = materiality * 3 // 4
    return Thresholds(
        materiality=materiality, performance_materiality=performance,
        clearly_trivial=int(materiality * TRIVIAL_SHARE), high_value=performance,
        manual_cap=int(performance * MANUAL_CAP_SHARE), automated_cap=int(performance * AUTOMATED_CAP_SHARE),
        period_end_unusual=int(performance * 0.3), approval_limit=approval)


def _cap(thresholds: Thresholds, t: ResolvedTemplate, median: float | None = None) -> float:
    """The largest amount a template draws, in currency units (before VAT).

    Automated entries stay below the high-value threshold, except in ledgers too small for that:
    with a few hundred invoices, performance materiality (1% of revenue x 75%) is only a few
    invoices' worth, and capping there would shrink the company to nothing. There the cap is a
    multiple of the template's median instead, and some invoices exceed the threshold, as they
    would in a real small company.
    """
    if t.spec.manual:
        return thresholds.manual_cap / 100
    return max(thresholds.automated_cap / (1 + t.vat_rate) / 100, SMALL_LEDGER_CAP * (median or t.median))


def truncated_mean(median: float, sigma: float, cap: float) -> float:
    """Mean of a lognormal redrawn above ``cap``: E[X | X <= cap] (amounts are redrawn, not clipped)."""
    if cap <= 0:
        return 0.0
    z = (math.log(cap) - math.log(median)) / sigma
    phi = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    phi_shifted = 0.5 * (1 + math.erf((z - sigma) / math.sqrt(2)))
    return median * math.exp(sigma ** 2 / 2) * (phi_shifted / phi if phi > 0 else 0.0)


def _annual_total(t: ResolvedTemplate, thresholds: Thresholds) -> float:
    return t.annual * truncated_mean(t.median, t.spec.sigma, _cap(thresholds, t))


def _calibrate_flows(templates: list[ResolvedTemplate], revenue: float, vat: float, thresholds: Thresholds) -> None:
    """Budgeted flows as shares of revenue; settlements so that receivables, payables, GR/IR and
    prepayments roll forward at roughly stable balances. Medians account for the cap."""
    by_code = {t.spec.code: t for t in templates}

    def set_total(code: str, total: float) -> None:
        t = by_code[code]
        median = max(5.0, total / t.annual / math.exp(t.spec.sigma ** 2 / 2))
        for _ in range(30):
            cap = _cap(thresholds, t, median)
            mean = truncated_mean(median, t.spec.sigma, cap)
            if mean <= 0:
                break
            median = min(max(5.0, median * total / t.annual / mean), cap)
        t.median = median

    for t in templates[1:]:
        if t.spec.budget is not None:
            set_total(t.spec.code, t.spec.budget * revenue)
    credit_memos = by_code["ar_credit_memo"].spec.budget * revenue
    set_total("cash_receipt", 0.99 * (revenue - credit_memos) * (1 + vat))
    set_total("ap_invoice_prepaid", _annual_total(by_code["prepaid_release"], thresholds))
    set_total("expense_reimbursement", 0.99 * _annual_total(by_code["expense_claims"], thresholds))
    set_total("ap_invoice_inventory", _annual_total(by_code["goods_receipt"], thresholds))
    payable = sum(_annual_total(t, thresholds) * (1 + t.vat_rate) for t in templates
                  if t.spec.source == "AP" and t.spec.single_roles == ("ap_trade",))
    set_total("vendor_payment", 0.985 * (payable + (RENT_SHARE + INSURANCE_SHARE) * revenue))


def _two_significant_digits(cents: float) -> int:
    """Materiality is set as a round figure: 1,234,567.89 -> 1,200,000.00."""
    units = max(int(cents // 100), 100)
    scale = 10 ** (len(str(units)) - 2)
    return units // scale * scale * 100


def _plan_recurring(chart: Chart, revenue: float, rng: np.random.Generator) -> Recurring:
    shares = np.array(DEPARTMENT_PAYROLL) * rng.uniform(0.85, 1.15, len(DEPARTMENT_PAYROLL))
    gross = np.array([_cents(revenue * PAYROLL_SHARE * s / shares.sum() / 24) for s in shares], dtype=np.int64)
    ppe_base = {"buildings": 0.08, "leasehold": 0.015, "machinery": 0.09, "vehicles": 0.01, "furniture": 0.008,
                "computers": 0.01, "software": 0.015}
    depreciation = {key: _cents(revenue * ppe_base[key] * rng.uniform(0.9, 1.1) * DEPRECIATION_RATES[key] / 12)
                    for key, *_ in ASSET_CLASSES}
    depreciation["rou"] = _cents(revenue * 0.04 / 5 / 12 * rng.uniform(0.9, 1.1))
    rent = {chart.index["6200"]: _cents(revenue * RENT_SHARE * 0.65 / 12 * rng.uniform(0.9, 1.1)),
            chart.index["6205"]: _cents(revenue * RENT_SHARE * 0.35 / 12 * rng.uniform(0.9, 1.1))}
    insurance = {int(a): _cents(revenue * INSURANCE_SHARE / 12 * w * rng.uniform(0.9, 1.1))
                 for a, w in zip(*chart.pool("insurance_expense"))}
    debt = revenue * 0.15
    return Recurring(payroll_gross=gross, sbc=_cents(revenue * SBC_SHARE / 12 * rng.uniform(0.9, 1.1)),
                     depreciation=depreciation, rent=rent, insurance=insurance,
                     interest=_cents(debt * 0.06 / 12 * rng.uniform(0.9, 1.1)),
                     tax=_cents(revenue * 0.08 * 0.25 / 12 * rng.uniform(0.9, 1.1)), ic_fees={}, ic_parent=None)


def payroll_lines(gross: int) -> dict[str, int]:
    """One department's pay run: employer taxes and benefits on top of gross pay, withholdings out of it."""
    employer_tax = round(gross * 0.0765)
    employer_benefits = round(gross * 0.12)
    withholding = round(gross * 0.24)
    employee_benefits = round(gross * 0.05)
    return {
        "salaries": gross, "payroll_tax": employer_tax, "benefits": employer_benefits,
        "net_pay": gross - withholding - employee_benefits,
        "tax_payable": withholding + employer_tax,
        "benefits_payable": employee_benefits + employer_benefits,
    }


def _balances(chart: Chart, templates: list[ResolvedTemplate], thresholds: Thresholds, recurring: Recurring,
              revenue: float, prior_revenue: float, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Opening balances, and the prior year's trial balance that rolls into them.

    The prior year's balance-sheet closing balances are this year's opening balances, except that
    retained earnings open after the prior year's result was closed into them.
    """
    n = len(chart)
    opening = np.zeros(n, np.int64)

    def put(role_or_number: str, share: float, jitter: float = 0.1) -> None:
        if role_or_number in chart.index:
            accounts = np.array([chart.index[role_or_number]])
            weights = np.ones(1)
        elif chart.has(role_or_number):
            accounts, weights = chart.pool(role_or_number)
        else:
            return
        for account, weight in zip(accounts, weights):
            opening[account] += _cents(revenue * share * weight * rng.uniform(1 - jitter, 1 + jitter))

    for role, share in (("cash_operating", 0.05), ("cash_collections", 0.02), ("cash_payroll", 0.005),
                        ("1030", 0.01), ("ar_trade", 0.14), ("allowance", -0.004), ("other_receivables", 0.005),
                        ("input_tax", 0.004), ("inventory", 0.12), ("inventory_reserve", -0.006),
                        ("1350", 0.002), ("1500", 0.03), ("rou", 0.04), ("accdep_rou", -0.015), ("1580", 0.005),
                        ("1800", 0.006), ("1850", 0.05), ("1870", 0.002), ("ap_trade", -0.07), ("ap_other", -0.002),
                        ("grir", -0.045), ("accrued", -0.02), ("warranty_provision", -0.004), ("2170", -0.002),
                        ("output_tax", -0.0045), ("2320", -0.004), ("2330", -0.001), ("2500", -0.01),
                        ("2600", -0.03), ("2610", -0.02), ("2700", -0.10), ("2710", -0.01), ("2720", -0.03),
                        ("share_capital", -0.04), ("apic", -0.08)):
        put(role, share)
    for key, asset, accdep, _, _ in ASSET_CLASSES:
        gross = recurring.depreciation[key] * 12 / DEPRECIATION_RATES[key]
        opening[chart.index[asset]] = int(gross)
        opening[chart.index[accdep]] = -int(gross * rng.uniform(0.3, 0.6))
    for prepaid in chart.pool("prepaid")[0]:
        opening[prepaid] = _cents(revenue * 0.003 * rng.uniform(0.8, 1.2))
    opening[chart.account("prepaid_insurance")] = 6 * sum(recurring.insurance.values())
    run = [payroll_lines(int(g)) for g in recurring.payroll_gross]
    opening[chart.account("payroll_tax_payable")] = -2 * sum(r["tax_payable"] for r in run)
    opening[chart.account("benefits_payable")] = -2 * sum(r["benefits_payable"] for r in run)
    opening[chart.account("accrued_interest")] = -3 * recurring.interest
    opening[chart.account("income_tax_payable")] = -3 * recurring.tax
    retained = chart.account("retained_earnings")
    opening[retained] = 0
    opening[retained] = -opening.sum()

    # Prior year: the P&L is roughly this year's expected activity, a little smaller, with revenue
    # exactly the figure materiality was set on.
    expected = _expected_activity(chart, templates, thresholds, recurring)
    profit_and_loss = ~chart.balance_sheet
    prior_closing = np.zeros(n, np.int64)
    growth = prior_revenue / revenue * rng.uniform(0.96, 1.04, n)
    prior_closing[profit_and_loss] = np.rint(expected[profit_and_loss] * growth[profit_and_loss]).astype(np.int64)
    sales = np.flatnonzero(np.array([a.subtype == "revenue" for a in chart.accounts]) & (prior_closing != 0))
    target = -round(prior_revenue * 100)
    scaled = np.rint(prior_closing[sales] * (target / prior_closing[sales].sum())).astype(np.int64)
    scaled[np.argmin(scaled)] += target - scaled.sum()
    prior_closing[sales] = scaled
    prior_result = int(prior_closing[profit_and_loss].sum())
    prior_closing[chart.balance_sheet] = opening[chart.balance_sheet]
    prior_closing[retained] = opening[retained] - prior_result
    prior_opening = np.zeros(n, np.int64)
    movement = rng.uniform(-0.08, 0.08, n)
    bs = np.flatnonzero(chart.balance_sheet)
    prior_opening[bs] = np.rint(prior_closing[bs] * (1 - movement[bs])).astype(np.int64)
    prior_opening[retained] = prior_closing[retained]
    cash = chart.account("cash_operating")
    prior_opening[cash] = 0
    prior_opening[cash] = -prior_opening.sum()
    floor = int(revenue * 100 * 0.01)
    if prior_opening[cash] < floor:
        shortfall = floor - prior_opening[cash]
        prior_opening[cash] += shortfall
        prior_opening[chart.index["2600"]] -= shortfall
    return opening, prior_opening, prior_closing


def _expected_activity(chart: Chart, templates: list[ResolvedTemplate], thresholds: Thresholds,
                       recurring: Recurring) -> np.ndarray:
    """Expected annual debit-positive activity per account, for a plausible prior-year P&L."""
    activity = np.zeros(len(chart))
    for t in templates:
        if t.spec.reversed_next_period:
            continue
        total = _annual_total(t, thresholds) * 100
        sign = 1 if t.spec.single_side == "D" else -1
        np.add.at(activity, t.single[0], sign * total * (1 + t.vat_rate) * t.single[1])
        np.add.at(activity, t.multi[0], -sign * total * t.multi[1])
        if t.vat_account >= 0:
            activity[t.vat_account] -= sign * total * t.vat_rate
    for d, gross in enumerate(recurring.payroll_gross):
        lines = payroll_lines(int(gross))
        activity[chart.index[str(6000 + d)]] += 24 * lines["salaries"]
        activity[chart.index[str(6020 + d)]] += 24 * lines["payroll_tax"]
        activity[chart.index[str(6030 + d)]] += 24 * lines["benefits"]
    for key, _, _, depexp, _ in ASSET_CLASSES:
        activity[chart.index[depexp]] += 12 * recurring.depreciation[key]
    activity[chart.account("dep_rou")] += 12 * recurring.depreciation["rou"]
    for account, monthly in (recurring.rent | recurring.insurance).items():
        activity[account] += 12 * monthly
    activity[chart.account("sbc")] += 12 * recurring.sbc
    activity[chart.account("interest_expense")] += 12 * recurring.interest
    activity[chart.account("income_tax_expense")] += 12 * recurring.tax
    return activity


def _plan_chunks(config: GeneratorConfig, calendar: FiscalCalendar, index: int,
                 templates: list[ResolvedTemplate], rng: np.random.Generator) -> list[ChunkSpec]:
    weights = np.array([SEASONALITY[p.start.month] for p in calendar.periods]) * rng.uniform(0.97, 1.03, 12)
    weights /= weights.sum()
    per_period = np.array([rng.multinomial(t.annual, weights) for t in templates])  # templates x periods
    expected_lines = np.array([t.expected_lines for t in templates]) @ per_period + FIXED_LINES_PER_ENTITY / 12
    chunks = []
    for p, period in enumerate(calendar.periods):
        days = calendar.business_days(period.start, period.end)
        n_blocks = int(min(len(days), max(1, np.ceil(expected_lines[p] / config.max_chunk_lines))))
        blocks = np.array_split(days, n_blocks)
        day_share = np.array([len(b) for b in blocks], dtype=np.float64) / len(days)
        counts = np.zeros((len(templates), n_blocks), np.int64)
        for i, t in enumerate(templates):
            if t.spec.timing == "month_end":
                counts[i, -1] = per_period[i, p]
            else:
                counts[i] = rng.multinomial(per_period[i, p], day_share)
        for b, block_days in enumerate(blocks):
            start = np.datetime64(period.start, "D") if b == 0 else block_days[0]
            end = np.datetime64(period.end, "D") if b == n_blocks - 1 else blocks[b + 1][0] - 1
            chunks.append(ChunkSpec(index, p + 1, b, n_blocks, block_days, start, end, counts[:, b].copy(),
                                    per_period[:, p].copy()))
    return chunks


def _baseline_pairs(chart: Chart, templates: list[ResolvedTemplate]) -> set[tuple[int, int]]:
    """Every (debit account, credit account) combination the baseline can produce in one journal."""
    pairs: set[tuple[int, int]] = set()

    def add(debits, credits) -> None:
        pairs.update((int(d), int(c)) for d in debits for c in credits)

    for t in templates:
        single, multi = list(t.single[0]), list(t.multi[0])
        vat = [t.vat_account] if t.vat_account >= 0 else []
        if t.spec.single_side == "D":
            add(single, multi + vat)
        else:
            add(multi + (vat if t.spec.vat == "input" or t.spec.code == "ar_credit_memo" else []), single)
            add(multi, vat if t.spec.vat == "output" and t.spec.code != "ar_credit_memo" else [])
        if t.spec.reversed_next_period:
            add(single, multi)
    c = chart.account
    payroll_debits = [chart.index[str(base + d)] for base in (6000, 6020, 6030) for d in range(6)]
    add(payroll_debits, [c("cash_payroll"), c("payroll_tax_payable"), c("benefits_payable")])
    add([c("payroll_tax_payable")], [c("cash_operating")])
    add([c("benefits_payable")], [c("cash_operating")])
    add([c("sbc")], [c("apic")])
    for key, _, accdep, depexp, _ in ASSET_CLASSES:
        add([chart.index[depexp]], [chart.index[accdep]])
    add([c("dep_rou")], [c("accdep_rou")])
    add([c("dep_" + k) for k, *_ in ASSET_CLASSES] + [c("dep_rou")],
        [chart.index[a] for _, _, a, _, _ in ASSET_CLASSES] + [c("accdep_rou")])
    add(list(chart.pool("rent")[0]), [c("ap_trade")])
    add([c("prepaid_insurance")], [c("ap_trade")])
    add(list(chart.pool("insurance_expense")[0]), [c("prepaid_insurance")])
    add([c("interest_expense")], [c("accrued_interest")])
    add([c("accrued_interest")], [c("cash_operating")])
    add([c("income_tax_expense")], [c("income_tax_payable")])
    add([c("income_tax_payable")], [c("cash_operating")])
    add([c("output_tax")], [c("cash_operating")])
    add([c("cash_operating")], [c("output_tax")])
    for a in chart.accounts:
        if a.subtype == "intercompany":
            i = chart.index[a.number]
            add([i], [c("ic_fee_income"), c("cash_operating")])
            add([c("ic_fee_expense"), c("cash_operating")], [i])
    accrual = next(t for t in templates if t.spec.code == "accrual")
    add(accrual.single[0], accrual.multi[0])  # reversals, including last year's
    add(accrual.multi[0], accrual.single[0])
    return pairs
