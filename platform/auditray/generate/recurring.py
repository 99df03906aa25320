"""Entries that recur with the same amounts: payroll, depreciation, rent, insurance, interest, tax,
intercompany charges, and the reversal of last month's accruals.

Recurring entries are what analytics call "expected" postings; they give the ledger its
month-to-month rhythm and give the trial balance plausible movements in payroll liabilities,
accumulated depreciation, prepaid insurance and intercompany balances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditray.generate.calendar import FiscalCalendar
from auditray.generate.chart import ASSET_CLASSES
from auditray.generate.journals import (
    JournalBatch,
    concat,
    draw_amounts,
    fixed_journal,
    people_times,
    two_line_journals,
    window_times,
)
from auditray.generate.planning import CODE, MANUAL_MEDIAN_SHARE, ChunkSpec, EntityPlan, payroll_lines
from auditray.generate.templates import HOUR

WINDOWS = {
    "BATCH_PAY": (10 * HOUR, 11 * HOUR),
    "BATCH_FA": (23 * HOUR, 23 * HOUR + 1800),
    "BATCH_AP": (9 * HOUR, 17 * HOUR),
    "BATCH_GL": (23 * HOUR + 1800, 23 * HOUR + 3300),
    "BATCH_CASH": (6 * HOUR, 7 * HOUR + 1800),
    "BATCH_IC": (20 * HOUR, 20 * HOUR + 1800),
}


@dataclass
class ChunkContext:
    plan: EntityPlan
    calendar: FiscalCalendar
    chunk: ChunkSpec
    rng: np.random.Generator
    fiscal_year: int
    vat_due: int = 0  # net VAT of the previous period, debit positive; the return pays it this period
    start_balance: np.ndarray | None = None  # cents per account at the start of the chunk's period


def stamp(ctx: ChunkContext, batch: JournalBatch, code: str, effective, entry=None, *, user: str | None = None,
          poster: int | None = None, prefix: str | None = None, suffix: np.ndarray | None = None) -> JournalBatch:
    """Fill in who, when and what of freshly built journals."""
    n = batch.n_journals
    batch.template[:] = CODE[code]
    batch.effective[:] = effective
    batch.entry[:] = effective if entry is None else entry
    roster = ctx.plan.roster
    if user is not None:
        batch.poster[:] = roster.user(user)
        batch.entry_time[:] = window_times(ctx.rng, n, WINDOWS[user])
    else:
        batch.poster[:] = poster
        batch.entry_time[:] = people_times(ctx.rng, roster.hour_centre[batch.poster])
    if prefix is not None:
        batch.header_prefix[:] = ctx.plan.vocab.add(prefix)
    period = ctx.calendar.period_of(np.asarray(batch.effective))
    batch.header_suffix[:] = ctx.plan.period_labels[np.clip(period, 1, 12) - 1] if suffix is None else suffix
    batch.line_text[:] = ctx.plan.account_texts[batch.line_account]
    return batch


def _day(ctx: ChunkContext, day_of_month: int, roll: str = "forward") -> np.datetime64:
    period = ctx.calendar.periods[ctx.chunk.period - 1]
    day = np.datetime64(period.start, "D") + (day_of_month - 1)
    return np.busday_offset(day, 0, roll=roll, busdaycal=ctx.calendar._busdays)


def recurring_entries(ctx: ChunkContext) -> JournalBatch:
    plan, chart, chunk, cal = ctx.plan, ctx.plan.chart, ctx.chunk, ctx.calendar
    rec = plan.recurring
    c = chart.account
    p = chunk.period
    last, first = cal.last_business_day(p), cal.first_business_day(p)
    batches: list[JournalBatch] = []

    def add(batch: JournalBatch, code: str, day, **kwargs) -> None:
        if chunk.covers(day):
            batches.append(stamp(ctx, batch, code, day, **kwargs))

    # Payroll on the 15th and the last business day, one journal per department.
    for run_day in (_day(ctx, 15, "backward"), last):
        for d, gross in enumerate(rec.payroll_gross):
            lines = payroll_lines(int(gross))
            journal = fixed_journal(
                [chart.index[str(6000 + d)], chart.index[str(6020 + d)], chart.index[str(6030 + d)],
                 c("cash_payroll"), c("payroll_tax_payable"), c("benefits_payable")],
                [lines["salaries"], lines["payroll_tax"], lines["benefits"], -lines["net_pay"],
                 -lines["tax_payable"], -lines["benefits_payable"]])
            add(journal, "payroll", run_day, user="BATCH_PAY", prefix="Payroll run")
    runs = [payroll_lines(int(g)) for g in rec.payroll_gross]
    remit_day = _day(ctx, 10)
    taxes = 2 * sum(r["tax_payable"] for r in runs)
    benefits = 2 * sum(r["benefits_payable"] for r in runs)
    add(fixed_journal([c("payroll_tax_payable"), c("cash_operating")], [taxes, -taxes]),
        "payroll_tax_remittance", remit_day, user="BATCH_PAY", prefix="Remittance of payroll taxes")
    add(fixed_journal([c("benefits_payable"), c("cash_operating")], [benefits, -benefits]),
        "benefits_remittance", remit_day, user="BATCH_PAY", prefix="Remittance of benefit contributions")
    add(fixed_journal([c("sbc"), c("apic")], [rec.sbc, -rec.sbc]), "share_based_compensation", last,
        user="BATCH_PAY", prefix="Share-based compensation expense")

    # Depreciation run on the last business day.
    accounts, cents = [], []
    for key, _, accdep, depexp, _ in ASSET_CLASSES:
        accounts += [chart.index[depexp], chart.index[accdep]]
        cents += [rec.depreciation[key], -rec.depreciation[key]]
    accounts += [c("dep_rou"), c("accdep_rou")]
    cents += [rec.depreciation["rou"], -rec.depreciation["rou"]]
    add(fixed_journal(accounts, cents), "depreciation", last, user="BATCH_FA", prefix="Depreciation run")

    for account, monthly in rec.rent.items():
        add(fixed_journal([account, c("ap_trade")], [monthly, -monthly]), "rent", first, user="BATCH_AP",
            prefix="Monthly rent - " + chart.names[account])
    if p == 7:
        premium = 12 * sum(rec.insurance.values())
        add(fixed_journal([c("prepaid_insurance"), c("ap_trade")], [premium, -premium]), "insurance_premium",
            first, user="BATCH_AP", prefix="Annual insurance premium")
    release = list(rec.insurance.items())
    add(fixed_journal([a for a, _ in release] + [c("prepaid_insurance")],
                      [m for _, m in release] + [-sum(m for _, m in release)]),
        "insurance_release", last, user="BATCH_GL", prefix="Release of prepaid insurance")

    # Interest and income tax: accrued monthly by their managers, paid quarterly in arrears.
    window = cal.close_window(p)
    treasury = int(plan.roster.by_role("treasury_manager")[0])
    tax_manager = int(plan.roster.by_role("tax_manager")[0])
    add(fixed_journal([c("interest_expense"), c("accrued_interest")], [rec.interest, -rec.interest]),
        "interest_accrual", last, entry=window[0], poster=treasury, prefix="Interest accrual - term loan")
    add(fixed_journal([c("income_tax_expense"), c("income_tax_payable")], [rec.tax, -rec.tax]),
        "tax_provision", last, entry=window[min(1, len(window) - 1)], poster=tax_manager,
        prefix="Monthly income tax provision")
    if p in (1, 4, 7, 10):
        pay_day = _day(ctx, 15)
        add(fixed_journal([c("accrued_interest"), c("cash_operating")], [3 * rec.interest, -3 * rec.interest]),
            "interest_payment", pay_day, user="BATCH_CASH", prefix="Quarterly interest payment")
        add(fixed_journal([c("income_tax_payable"), c("cash_operating")], [3 * rec.tax, -3 * rec.tax]),
            "tax_payment", pay_day, user="BATCH_CASH", prefix="Estimated income tax payment")

    if plan.profile.vat_rate > 0 and ctx.vat_due:
        batches.extend(_vat_return(ctx, _day(ctx, 12)))

    # Intercompany management fees: billed monthly, settled quarterly.
    for other, fee in sorted(rec.ic_fees.items()):
        settle = p % 3 == 0
        if rec.ic_parent is None:
            receivable = c(f"ic_receivable_{other}")
            add(fixed_journal([receivable, c("ic_fee_income")], [fee, -fee]), "ic_charge", last,
                user="BATCH_IC", prefix=f"Management fee recharge to {other}")
            if settle:
                add(fixed_journal([c("cash_operating"), receivable], [3 * fee, -3 * fee]), "ic_settlement",
                    _day(ctx, 20), user="BATCH_CASH", prefix=f"Intercompany settlement from {other}")
        else:
            payable = c(f"ic_payable_{other}")
            add(fixed_journal([c("ic_fee_expense"), payable], [fee, -fee]), "ic_charge", last,
                user="BATCH_IC", prefix=f"Management fee from {other}")
            if settle:
                add(fixed_journal([payable, c("cash_operating")], [3 * fee, -3 * fee]), "ic_settlement",
                    _day(ctx, 20), user="BATCH_CASH", prefix=f"Intercompany settlement to {other}")

    if p == 1 and chunk.first_block:
        batches.append(_prior_year_reversals(ctx, first))
    if p == 12 and chunk.last_block:
        batches.append(_year_end_adjustments(ctx, last))
    return concat(batches)


def _vat_return(ctx: ChunkContext, day: np.datetime64) -> list[JournalBatch]:
    """Last month's net VAT, paid (or refunded) with the return; large amounts in instalments."""
    if not ctx.chunk.covers(day):
        return []
    chart = ctx.plan.chart
    due = -ctx.vat_due
    parts = int(np.ceil(abs(due) * 1.3 / (ctx.plan.thresholds.high_value * 0.9)))
    weights = ctx.rng.uniform(0.8, 1.2, parts)
    amounts = np.floor(due * weights / weights.sum()).astype(np.int64)
    amounts[-1] += due - amounts.sum()
    batches = []
    for amount in amounts:
        amount = int(amount)
        batch = fixed_journal([chart.account("output_tax"), chart.account("cash_operating")], [amount, -amount])
        label = "VAT return payment" if amount > 0 else "VAT refund"
        batches.append(stamp(ctx, batch, "vat_payment", day, user="BATCH_CASH",
                             prefix=label if parts == 1 else f"{label} (instalment)"))
    return batches


def _prior_year_reversals(ctx: ChunkContext, first: np.datetime64) -> JournalBatch:
    """Half of last year's accruals reverse on the first business day of the year."""
    plan, rng = ctx.plan, ctx.rng
    accrued, _ = plan.chart.pool("accrued")
    accrued = accrued[plan.opening[accrued] < -100_00]
    expenses, weights = next(t for t in plan.templates if t.spec.code == "accrual").multi
    cents = -plan.opening[accrued] // 2
    cents += (cents % 100_000 == 0) * 13
    batch = two_line_journals(accrued, rng.choice(expenses, len(accrued), p=weights), cents)
    batch.anchor[:] = -1  # amounts mirror last year's entries; they must not be nudged
    prior_year = (ctx.fiscal_year - 1) % 100
    batch.reversal_of[:] = prior_year * 10**8 + rng.integers(1_000, 90_000, len(accrued))
    label = plan.vocab.add(f" - FY{ctx.fiscal_year - 1}")
    stamp(ctx, batch, "accrual_reversal", first, user="BATCH_GL", prefix="Reversal: prior-year accrual",
          suffix=np.full(len(accrued), label))
    return batch


def _year_end_adjustments(ctx: ChunkContext, last: np.datetime64) -> JournalBatch:
    """Year-end entries by the controller and the CFO, keyed during the closing window."""
    plan, rng, cal = ctx.plan, ctx.rng, ctx.calendar
    accrual = next(t for t in plan.templates if t.spec.code == "accrual")
    controller = int(plan.roster.by_role("controller")[0])
    cfo = int(plan.roster.by_role("cfo")[0])
    posters = np.array([controller] * 10 + [cfo] * 6)
    n = len(posters)
    median = min(8_000.0, plan.thresholds.high_value / 100 * MANUAL_MEDIAN_SHARE * 2)
    cents = draw_amounts(rng, n, median, 1.0, cap_cents=plan.thresholds.manual_cap)
    debit = rng.choice(accrual.multi[0], n, p=accrual.multi[1])
    credit = rng.choice(accrual.single[0], n, p=accrual.single[1])
    batch = two_line_journals(debit, credit, cents)
    window = cal.close_window(12)
    entry = window[rng.integers(1, len(window), n)]
    stamp(ctx, batch, "year_end_adjustment", last, entry=entry, poster=posters)
    phrases = plan.vocab.add_many(["Year-end accrual true-up", "Year-end bonus accrual", "Audit fee accrual",
                                   "Year-end warranty review", "Year-end provision review"])
    batch.header_prefix[:] = rng.choice(phrases, n)
    return batch
