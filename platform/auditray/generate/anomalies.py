"""Planted anomalies: entries that carry exactly one journal-entry-testing signature each.

Each kind mirrors a characteristic that AS 2401 .61 and ISA 240 A44 (and the AICPA guidance on
journal-entry testing) tell auditors to look for. A planted entry is otherwise a plain manual
journal of the kind the accounting team posts every day (business day, business hours, an
authorised poster, an everyday pair of accounts, an unremarkable amount), so each kind can be
found by its own test and the labels say exactly which journals a test should find.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from auditray.generate.calendar import FiscalCalendar
from auditray.generate.config import ANOMALY_KINDS, GeneratorConfig
from auditray.generate.journals import (
    ROUND_CENTS,
    JournalBatch,
    concat,
    draw_amounts,
    people_times,
    split_journals,
    two_line_journals,
    window_times,
)
from auditray.generate.ledger import (
    MANUAL,
    Label,
    PlantedChunk,
    apply_approvals,
    manual_entry_dates,
    poster_weights,
)
from auditray.generate.planning import CODE, MANUAL_MEDIAN_SHARE, EntityPlan
from auditray.generate.recurring import ChunkContext
from auditray.generate.templates import HOUR, SUSPICIOUS_KEYWORDS
from auditray.generate.users import add_strangers, strangers

# Floors per kind and entity, so that even a small ledger holds a few of each.
MIN_PLANTS = {"unbalanced_entry": 4, "split_entry": 6, "recurring_ending": 4, "benford_outlier": 40}
DEFAULT_MIN_PLANTS = 3
# Large planted amounts move the financial statements; fewer of them keep the trial balance plausible.
KIND_WEIGHTS = {"high_value": 0.3, "period_end": 0.5}
# Plain manual templates whose accounts and phrases planted entries borrow, with their weights.
PLAIN_TEMPLATES = (("accrual", 0.3), ("reclass", 0.3), ("prepaid_release", 0.1), ("expense_allocation", 0.2),
                   ("other_receivable", 0.1))
BACKDATED_MIN_DAYS, BACKDATED_MAX_DAYS = 60, 150
# Baseline entries are keyed at most a close window after their date; tests can use this threshold.
BACKDATED_THRESHOLD_DAYS = 45
BELOW_APPROVAL_BAND = (0.95, 1.0)
SPLIT_ENTRY_BAND = (0.85, 0.95)
HIGH_VALUE_BAND = (1.1, 2.0)
PERIOD_END_BAND = (0.3, 0.6)
ROUND_AMOUNTS = tuple(v * 1000 for v in (1, 2, 3, 4, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250, 500,
                                         1000))
RECURRING_ENDINGS = (99_900, 99_000, 95_000, 49_900)
KEYWORD_PHRASES = ("Plug to balance account", "Adjust per CFO", "Reverse later", "Write off old balance",
                   "Correction of prior posting", "Override - approved verbally", "Per CEO request",
                   "Do not reverse", "Manual fix of balance")
SENSITIVE_PAIRS = (("ar_trade", "revenue", "Manual customer invoice"),
                   ("cash_collections", "ar_trade", "Customer receipt posted manually"),
                   ("ap_trade", "cash_operating", "Manual vendor payment"),
                   ("sbc", "apic", "Share-based compensation top-up"))


# What a test finds on each planted journal, in one sentence (also written to engagement.json).
ANOMALY_SIGNATURES = {
    "unbalanced_entry": "debits differ from credits; planted in pairs whose differences offset, so the ledger "
                        "and the trial balance still balance",
    "sequence_gap": "journal numbers are missing immediately before the labelled journal (one contiguous "
                    "sequence per entity)",
    "duplicate_entry": "same accounts, amounts and effective date as another journal (the original, named in "
                       "the detail); only the copy is labelled",
    "high_value": "a manual entry above the high-value threshold (performance materiality), and its automatic "
                  "reversal next period",
    "round_amount": "an amount that is a multiple of 1,000.00",
    "recurring_ending": "four or five entries by one user to the same accounts whose different amounts end in "
                        "the same digits (999.00, 990.00, 950.00 or 499.00)",
    "unusual_user": "posted by a user who is not an authorised poster and posts at most three journals",
    "manual_to_sensitive_account": "a manual entry to a cash, revenue or equity account",
    "weekend_posting": "entered and effective on a Saturday or Sunday",
    "holiday_posting": "entered and effective on an observed US federal holiday",
    "after_hours": "a manual entry keyed outside business hours (08:00-18:00)",
    "period_end": "a manual entry on the last business day of a period of at least 30% of the high-value "
                  "threshold (everyday manual entries stay below 20%)",
    "post_closing": "entered after the closing date, effective within the fiscal year",
    "backdated": "entered more than 45 days after its effective date, on or before the closing date",
    "missing_description": "no header and no line description",
    "suspicious_keyword": "the header contains one of the suspicious keywords",
    "seldom_used_account": "a posting to an account listed as seldom used (the baseline never posts to them)",
    "rare_account_pair": "a debit/credit account combination that no other journal of the entity uses",
    "below_approval_threshold": "an amount 95-100% of the poster's approval limit, so it needs no approval",
    "split_entry": "three or four entries by one user on one day to the same accounts, each 85-95% of the "
                   "approval limit, together above it",
    "suspense_account": "a posting to a suspense account",
    "benford_outlier": "one user's invented amounts, first digits 4-7 only: that user's first digits do not "
                       "follow Benford's law",
    "ml_outlier": "bank charges hundreds of times the account's median amount",
}


@dataclass(frozen=True)
class PlantSpec:
    kind: str
    effective: np.datetime64
    size: int = 1
    params: dict = field(default_factory=dict, compare=False)


def plant_counts(rate: float, planned_journals: int) -> dict[str, int]:
    """Journals to plant per kind: ``rate`` of the ledger's journals spread evenly, above a floor."""
    if rate <= 0:
        return {kind: 0 for kind in ANOMALY_KINDS}
    base = rate * planned_journals / len(ANOMALY_KINDS)
    counts = {kind: max(MIN_PLANTS.get(kind, DEFAULT_MIN_PLANTS), round(base * KIND_WEIGHTS.get(kind, 1.0)))
              for kind in ANOMALY_KINDS}
    counts["unbalanced_entry"] += counts["unbalanced_entry"] % 2
    return counts


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def plan_plants(config: GeneratorConfig, calendar: FiscalCalendar, entity: EntityPlan,
                rng: np.random.Generator) -> None:
    """Decide how many anomalies of each kind, on which dates and, for groups, by whom."""
    counts = plant_counts(config.anomaly_rate, entity.planned_journals)
    roster = entity.roster
    regular = roster.by_role("accountant")
    entity.fabricator = int(rng.choice(regular))
    if not counts["unusual_user"]:
        return
    needed = -(-counts["unusual_user"] // 3) - len(strangers(roster))
    if needed > 0:
        add_strangers(roster, entity.profile.country, needed, int(config.approval_limit * 100), rng)

    year = calendar.business_days(calendar.start, calendar.end)
    period_end = np.concatenate([calendar.period_end_days(p, 2) for p in range(1, 13)])
    normal = year[~np.isin(year, period_end)]
    period = calendar.period_of(normal)
    every_day = np.arange(np.datetime64(calendar.start, "D"), np.datetime64(calendar.end, "D") + 1)
    weekends = every_day[np.is_busday(every_day, weekmask="0000011")]
    holidays = calendar.holidays[(calendar.holidays >= every_day[0]) & (calendar.holidays <= every_day[-1])]
    plants: list[PlantSpec] = []

    def days(pool: np.ndarray, n: int) -> np.ndarray:
        return pool[rng.integers(0, len(pool), n)]

    for kind in ANOMALY_KINDS:
        n = counts[kind]
        if kind == "unbalanced_entry":
            plants += [PlantSpec(kind, d, 2) for d in days(normal, n // 2)]
        elif kind == "split_entry":
            sizes = []
            while sum(sizes) < n:
                sizes.append(int(rng.integers(3, 5)))
            plants += [PlantSpec(kind, d, s) for d, s in zip(days(normal, len(sizes)), sizes)]
        elif kind == "recurring_ending":
            plants += _plan_recurring_endings(entity, rng, n, normal)
        elif kind == "weekend_posting":
            plants += [PlantSpec(kind, d) for d in days(weekends, n)]
        elif kind == "holiday_posting":
            plants += [PlantSpec(kind, d) for d in days(holidays, n)]
        elif kind == "period_end":
            periods = np.where(rng.random(n) < 0.3, 12, rng.integers(1, 13, n))
            plants += [PlantSpec(kind, calendar.last_business_day(int(p))) for p in periods]
        elif kind == "post_closing":
            plants += [PlantSpec(kind, d) for d in days(normal[period == 12], n)]
        elif kind == "high_value":
            # Not in the last period: their automatic reversal must fall inside the year.
            plants += [PlantSpec(kind, d) for d in days(normal[period <= 11], n)]
        elif kind == "backdated":
            plants += [PlantSpec(kind, d) for d in days(normal[period <= 8], n)]
        elif kind == "unusual_user":
            users = strangers(roster)
            plants += [PlantSpec(kind, d, params={"user": int(users[i % len(users)])})
                       for i, d in enumerate(days(normal, n))]
        elif kind == "rare_account_pair":
            candidates = rare_pair_candidates(entity)
            chosen = rng.choice(len(candidates), min(n, len(candidates)), replace=False)
            plants += [PlantSpec(kind, d, params={"pair": candidates[i]}) for d, i in zip(days(normal, n), chosen)]
        elif kind == "benford_outlier":
            account = int(rng.choice(entity.chart.pool("opex_travel")[0]))
            plants += [PlantSpec(kind, d, params={"account": account}) for d in days(normal, n)]
        else:
            plants += [PlantSpec(kind, d) for d in days(normal, n)]
    order = sorted(range(len(plants)), key=lambda i: (plants[i].effective, ANOMALY_KINDS.index(plants[i].kind), i))
    entity.plants = [plants[i] for i in order]


def _plan_recurring_endings(entity: EntityPlan, rng: np.random.Generator, n: int,
                            normal: np.ndarray) -> list[PlantSpec]:
    """Groups of four or five entries by one person whose amounts all end in the same digits."""
    plants: list[PlantSpec] = []
    posters = entity.roster.by_role("accountant")
    posters = posters[posters != entity.fabricator]
    # Everyday sizes: a few thousand, like the rest of the team's entries.
    cap = max(min(entity.thresholds.manual_cap, 2_000_000), 600_000)
    while len(plants) < n:
        size = int(rng.integers(4, 6))
        user = int(rng.choice(posters))
        limit = int(entity.roster.posting_limit_cents[user])
        ending = int(rng.choice(RECURRING_ENDINGS))
        thousands = np.arange(0, cap // ROUND_CENTS + 1)
        amounts = thousands * ROUND_CENTS + ending
        amounts = amounts[(amounts <= cap) & ((amounts < limit * 0.85) | (amounts > limit))]
        amounts = rng.choice(amounts, size=min(size, len(amounts)), replace=False)
        debit, credit, code = _plain_pair(entity, rng)
        for day, cents in zip(rng.choice(normal, len(amounts), replace=False), amounts):
            plants.append(PlantSpec("recurring_ending", day, len(amounts), {
                "user": user, "debit": debit, "credit": credit, "code": code, "cents": int(cents),
                "ending": f"{ending / 100:,.2f}"}))
    return plants


def _plain_pair(entity: EntityPlan, rng: np.random.Generator, code: str | None = None) -> tuple[int, int, str]:
    """An everyday (debit, credit, template) combination of the accounting team."""
    if code is None:
        codes = [c for c, _ in PLAIN_TEMPLATES]
        weights = np.array([w for _, w in PLAIN_TEMPLATES])
        code = codes[rng.choice(len(codes), p=weights / weights.sum())]
    template = next(t for t in entity.templates if t.spec.code == code)
    credit = int(rng.choice(template.single[0], p=template.single[1]))
    debit = int(rng.choice(template.multi[0], p=template.multi[1]))
    if debit == credit:
        others = template.multi[0][template.multi[0] != credit]
        debit = int(rng.choice(others))
    return debit, credit, code


class _Planter:
    def __init__(self, ctx: ChunkContext, baseline: JournalBatch) -> None:
        self.ctx = ctx
        self.plan = ctx.plan
        self.rng = ctx.rng
        self.baseline = baseline
        self.batches: list[JournalBatch] = []
        self.labels: list[Label] = []
        self.gaps: dict[int, int] = {}
        self.offset = baseline.n_journals
        self.used = np.zeros(baseline.n_journals, bool)
        posters = poster_weights(self.plan, seniors=False)
        keep = posters[0] != self.plan.fabricator
        self.posters = (posters[0][keep], posters[1][keep] / posters[1][keep].sum())
        self.median = min(2_000.0, self.plan.thresholds.high_value / 100 * MANUAL_MEDIAN_SHARE)

    def add(self, batch: JournalBatch, kind: str, details: list[str], refs: list[tuple[int, ...]] | None = None) -> None:
        batch.planted[:] = True
        for i, detail in enumerate(details):
            self.labels.append(Label(self.offset + i, kind, detail, refs[i] if refs else ()))
        self.batches.append(batch)
        self.offset += batch.n_journals

    def label_baseline(self, journal: int, kind: str, detail: str) -> None:
        self.used[journal] = True
        self.labels.append(Label(journal, kind, detail))

    def regular_posters(self, n: int) -> np.ndarray:
        return self.rng.choice(self.posters[0], size=n, p=self.posters[1])

    def amounts(self, posters: np.ndarray) -> np.ndarray:
        limits = self.plan.roster.posting_limit_cents[posters]
        return draw_amounts(self.rng, len(posters), self.median, 1.2, cap_cents=self.plan.thresholds.manual_cap,
                            avoid_lo=(limits * 0.85).astype(np.int64), avoid_hi=limits)

    def plain(self, effective: np.ndarray, *, posters: np.ndarray | None = None, cents: np.ndarray | None = None,
              entry: np.ndarray | None = None, times: np.ndarray | None = None,
              pairs: list[tuple[int, int, str]] | None = None, code: str | None = None) -> JournalBatch:
        """Everyday manual journals (one debit, one credit line) on the given dates."""
        n = len(effective)
        effective = np.asarray(effective, dtype="datetime64[D]")
        posters = self.regular_posters(n) if posters is None else np.asarray(posters)
        cents = self.amounts(posters) if cents is None else np.asarray(cents, np.int64)
        pairs = [_plain_pair(self.plan, self.rng) for _ in range(n)] if pairs is None else pairs
        batch = two_line_journals(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), cents)
        batch.anchor[:] = -1
        batch.template[:] = [CODE[code or p[2]] for p in pairs]
        batch.effective[:] = effective
        batch.entry[:] = manual_entry_dates(self.ctx, effective) if entry is None else entry
        batch.poster[:] = posters
        batch.entry_time[:] = (people_times(self.rng, self.plan.roster.hour_centre[posters]) if times is None
                               else times)
        templates = {t.spec.code: t for t in self.plan.templates}
        prefixes = []
        for debit, _, template_code in pairs:
            t = templates.get(template_code, templates["expense_allocation"])
            named = t.account_headers[self.rng.integers(len(t.account_headers)), debit] \
                if t.account_headers.size else -1
            prefixes.append(named if named >= 0 else self.rng.choice(t.headers))
        batch.header_prefix[:] = prefixes
        period = self.ctx.calendar.period_of(effective)
        batch.header_suffix[:] = self.plan.period_labels[np.clip(period, 1, 12) - 1]
        batch.line_text[:] = self.plan.account_texts[batch.line_account]
        return batch

    def finish(self) -> PlantedChunk:
        combined = concat([self.baseline] + self.batches)
        planted_manual = np.flatnonzero(combined.planted & MANUAL[combined.template] & (combined.approver < 0))
        planted_manual = planted_manual[planted_manual >= self.baseline.n_journals]
        apply_approvals(self.ctx, combined, planted_manual)
        return PlantedChunk(combined, self.labels, self.gaps)


def plant_anomalies(ctx: ChunkContext, baseline: JournalBatch) -> PlantedChunk:
    """Add the anomalies planned for this chunk to its baseline journals."""
    specs = [p for p in ctx.plan.plants if ctx.chunk.covers(p.effective)]
    planter = _Planter(ctx, baseline)
    by_kind: dict[str, list[PlantSpec]] = {}
    for spec in specs:
        by_kind.setdefault(spec.kind, []).append(spec)
    for kind in ANOMALY_KINDS:
        if kind in by_kind:
            _PLANTERS[kind](planter, by_kind[kind])
    return planter.finish()


def _dates(specs: list[PlantSpec]) -> np.ndarray:
    return np.array([s.effective for s in specs], dtype="datetime64[D]")


def _ap_invoices(p: _Planter) -> np.ndarray:
    codes = [CODE[c] for c in ("ap_invoice_services", "ap_invoice_small", "ap_invoice_facilities", "ap_invoice_cogs")]
    return np.flatnonzero(np.isin(p.baseline.template, codes) & ~p.used & ~p.baseline.planted)


def _unbalanced_entry(p: _Planter, specs: list[PlantSpec]) -> None:
    """Pairs of vendor invoices whose payable lines were keyed with two digits transposed.

    The first journal's payable is off by the transposition, the second by the opposite amount,
    so each journal is unbalanced while the ledger as a whole, and the trial balance built from
    it, still balance (the interface error a reconciliation would not catch).
    """
    b = p.baseline
    for _ in specs:
        candidates = _ap_invoices(p)
        units = np.abs(b.line_cents[b.anchor[candidates]]) // 100
        transposable = candidates[(units >= 10) & (units // 10 % 10 != units % 10)]
        if len(transposable) < 1 or len(candidates) < 2:
            return
        first = int(p.rng.choice(transposable))
        units = abs(int(b.line_cents[b.anchor[first]])) // 100
        tens, ones = units // 10 % 10, units % 10
        difference = (ones - tens) * 9 * 100
        larger = candidates[(np.abs(b.line_cents[b.anchor[candidates]]) > 2 * abs(difference)) & (candidates != first)]
        if not len(larger):
            return
        second = int(p.rng.choice(larger))
        b.line_cents[b.anchor[first]] -= difference
        b.line_cents[b.anchor[second]] += difference
        for journal in (first, second):
            b.planted[journal] = True
            amounts = b.line_cents[b.line_journal == journal]
            p.label_baseline(journal, "unbalanced_entry",
                             f"debits {_money(int(amounts[amounts > 0].sum()))} vs credits "
                             f"{_money(int(-amounts[amounts < 0].sum()))}: payable keyed with transposed digits")


def _sequence_gap(p: _Planter, specs: list[PlantSpec]) -> None:
    b = p.baseline
    eligible = ~p.used & ~b.planted & (b.template != CODE["accrual"])
    if p.ctx.chunk.period == 1 and p.ctx.chunk.first_block and b.n_journals:
        eligible &= b.entry > b.entry.min()
    candidates = np.flatnonzero(eligible)
    chosen = p.rng.choice(candidates, min(len(specs), len(candidates)), replace=False)
    for journal in chosen:
        size = int(p.rng.choice([1, 1, 1, 2, 2, 3, 5]))
        p.gaps[int(journal)] = size
        p.label_baseline(int(journal), "sequence_gap",
                         f"{size} journal number{'s' if size > 1 else ''} missing immediately before this one")


def _duplicate_entry(p: _Planter, specs: list[PlantSpec]) -> None:
    candidates = _ap_invoices(p)
    originals = p.rng.choice(candidates, min(len(specs), len(candidates)), replace=False)
    if not len(originals):
        return
    p.used[originals] = True
    copy = p.baseline.take(originals)
    copy.anchor[:] = -1
    copy.entry[:] = p.ctx.calendar.add_business_days(copy.entry, p.rng.integers(0, 4, len(originals)))
    copy.entry_time[:] = window_times(p.rng, len(originals), (9 * HOUR, 17 * HOUR))
    p.add(copy, "duplicate_entry", ["same accounts, amounts and date as journal {0} (invoice posted twice)"] *
          len(originals), [(int(o),) for o in originals])


def _high_value(p: _Planter, specs: list[PlantSpec]) -> None:
    threshold = p.plan.thresholds.high_value
    cents = np.rint(threshold * p.rng.uniform(*HIGH_VALUE_BAND, len(specs))).astype(np.int64)
    cents += (cents % ROUND_CENTS == 0) * 7
    # Large accruals, reversed automatically next period (their reversals are labelled too).
    pairs = [_plain_pair(p.plan, p.rng, "accrual") for _ in specs]
    batch = p.plain(_dates(specs), cents=cents, pairs=pairs)
    batch.auto_reverse[:] = True
    p.add(batch, "high_value", [f"amount {_money(int(c))} above the high-value threshold {_money(threshold)} "
                                f"(performance materiality)" for c in cents])


def _round_amount(p: _Planter, specs: list[PlantSpec]) -> None:
    posters = p.regular_posters(len(specs))
    ceiling = max(min(p.plan.thresholds.manual_cap * 1.25, 100_000_00), 5_000_00)
    cents = []
    for poster in posters:
        limit = p.plan.roster.posting_limit_cents[poster]
        values = np.array([v * 100 for v in ROUND_AMOUNTS if v * 100 <= ceiling and not limit * 0.85 <= v * 100 <= limit])
        weights = np.sqrt(values / values.min())
        cents.append(int(p.rng.choice(values, p=weights / weights.sum())))
    batch = p.plain(_dates(specs), posters=posters, cents=np.array(cents))
    p.add(batch, "round_amount", [f"round amount {_money(c)}" for c in cents])


def _recurring_ending(p: _Planter, specs: list[PlantSpec]) -> None:
    roster = p.plan.roster
    batch = p.plain(_dates(specs), posters=np.array([s.params["user"] for s in specs]),
                    cents=np.array([s.params["cents"] for s in specs]),
                    pairs=[(s.params["debit"], s.params["credit"], s.params["code"]) for s in specs])
    p.add(batch, "recurring_ending", [
        f"amount {_money(s.params['cents'])} ends in {s.params['ending']}, like {s.size - 1} other entries by "
        f"{roster.user_ids[s.params['user']]} to the same accounts" for s in specs])


def _unusual_user(p: _Planter, specs: list[PlantSpec]) -> None:
    roster = p.plan.roster
    users = np.array([s.params["user"] for s in specs])
    batch = p.plain(_dates(specs), posters=users)
    p.add(batch, "unusual_user", [f"posted by {roster.user_ids[u]} ({roster.roles[u].replace('_', ' ')}), "
                                  f"who is not an authorised poster" for u in users])


def _manual_to_sensitive_account(p: _Planter, specs: list[PlantSpec]) -> None:
    chart = p.plan.chart
    vocab = p.plan.vocab
    choices = [pair for pair in SENSITIVE_PAIRS if chart.has(pair[0]) and chart.has(pair[1])]
    picked = [choices[i] for i in p.rng.integers(0, len(choices), len(specs))]
    pairs = [(int(p.rng.choice(chart.pool(d)[0])), int(p.rng.choice(chart.pool(c)[0])), "manual_journal")
             for d, c, _ in picked]
    batch = p.plain(_dates(specs), pairs=pairs)
    batch.header_prefix[:] = [vocab.add(text) for _, _, text in picked]
    details = []
    for debit, credit, _ in pairs:
        sensitive = debit if chart.sensitive[debit] else credit
        details.append(f"manual entry to {chart.accounts[sensitive].subtype} account {chart.numbers[sensitive]}")
    p.add(batch, "manual_to_sensitive_account", details)


def _weekend_posting(p: _Planter, specs: list[PlantSpec]) -> None:
    days = _dates(specs)
    batch = p.plain(days, entry=days)
    p.add(batch, "weekend_posting", [f"entered and effective on a {d.astype(date):%A} ({d})" for d in days])


def _holiday_posting(p: _Planter, specs: list[PlantSpec]) -> None:
    days = _dates(specs)
    names = dict(p.ctx.calendar.holidays_named)
    batch = p.plain(days, entry=days)
    p.add(batch, "holiday_posting", [f"entered and effective on {names[d.astype(date)]} ({d})" for d in days])


def _after_hours(p: _Planter, specs: list[PlantSpec]) -> None:
    n = len(specs)
    evening = p.rng.integers(19 * HOUR + 30 * 60, 24 * HOUR - 1, n)
    early = p.rng.integers(4 * HOUR, 6 * HOUR + 30 * 60, n)
    times = np.where(p.rng.random(n) < 0.7, evening, early).astype(np.int32)
    batch = p.plain(_dates(specs), times=times)
    p.add(batch, "after_hours", [f"entered at {t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}, outside business "
                                 f"hours" for t in times])


def _period_end(p: _Planter, specs: list[PlantSpec]) -> None:
    thresholds = p.plan.thresholds
    days = _dates(specs)
    cents = np.rint(thresholds.high_value * p.rng.uniform(*PERIOD_END_BAND, len(specs))).astype(np.int64)
    cents += (cents % ROUND_CENTS == 0) * 11
    accrual = next(t for t in p.plan.templates if t.spec.code == "accrual")
    pairs = [(int(p.rng.choice(accrual.multi[0], p=accrual.multi[1])),
              int(p.rng.choice(accrual.single[0], p=accrual.single[1])), "accrual") for _ in specs]
    window = np.stack([p.ctx.calendar.close_window(int(q))[0] for q in p.ctx.calendar.period_of(days)])
    batch = p.plain(days, cents=cents, pairs=pairs, entry=window)
    batch.auto_reverse[:] = True  # like every accrual, it reverses next period
    period = p.ctx.calendar.period_of(days)
    p.add(batch, "period_end", [
        f"manual entry of {_money(int(c))} on the last business day of period {q}; everyday manual entries stay "
        f"below {_money(thresholds.manual_cap)}" for c, q in zip(cents, period)])


def _post_closing(p: _Planter, specs: list[PlantSpec]) -> None:
    cal = p.ctx.calendar
    closing = np.datetime64(cal.closing_date, "D")
    entry = cal.add_business_days(np.full(len(specs), closing), p.rng.integers(1, 9, len(specs)))
    batch = p.plain(_dates(specs), entry=entry)
    p.add(batch, "post_closing", [f"entered {e} after the closing date {closing}" for e in entry])


def _backdated(p: _Planter, specs: list[PlantSpec]) -> None:
    cal = p.ctx.calendar
    days = _dates(specs)
    lag = p.rng.integers(BACKDATED_MIN_DAYS, BACKDATED_MAX_DAYS, len(specs))
    last = cal.add_business_days(np.datetime64(cal.end, "D") - 10, 0)
    entry = np.minimum(cal.add_business_days(days + lag, 0), last)
    batch = p.plain(days, entry=entry)
    p.add(batch, "backdated", [f"entered {e} for {d}, {(e - d).astype(int)} days after its effective date"
                               for d, e in zip(days, entry)])


def _missing_description(p: _Planter, specs: list[PlantSpec]) -> None:
    batch = p.plain(_dates(specs))
    batch.header_prefix[:] = -1
    batch.header_suffix[:] = -1
    batch.line_text[:] = -1
    p.add(batch, "missing_description", ["no header or line description"] * len(specs))


def _suspicious_keyword(p: _Planter, specs: list[PlantSpec]) -> None:
    phrases = [KEYWORD_PHRASES[i] for i in p.rng.integers(0, len(KEYWORD_PHRASES), len(specs))]
    batch = p.plain(_dates(specs))
    batch.header_prefix[:] = [p.plan.vocab.add(text) for text in phrases]
    details = []
    for text in phrases:
        keyword = next(k for k in SUSPICIOUS_KEYWORDS if k in text.lower())
        details.append(f"description contains '{keyword}'")
    p.add(batch, "suspicious_keyword", details)


def _seldom_used_account(p: _Planter, specs: list[PlantSpec]) -> None:
    chart = p.plan.chart
    seldom = [i for i, a in enumerate(chart.accounts) if a.seldom and a.active and not a.sensitive
              and a.subtype != "suspense"]
    accrued, other = chart.account("accrued"), chart.account("other_receivables")
    pairs = []
    for account in p.rng.choice(seldom, len(specs)):
        account = int(account)
        debit_normal = chart.accounts[account].normal_balance == "debit"
        pairs.append((account, accrued, "manual_journal") if debit_normal else (other, account, "manual_journal"))
    batch = p.plain(_dates(specs), pairs=pairs)
    phrases = p.plan.vocab.add_many(["Manual journal entry", "Journal entry", "Other adjustments of balances"])
    batch.header_prefix[:] = p.rng.choice(phrases, len(specs))
    details = []
    for debit, credit, _ in pairs:
        account = debit if chart.seldom[debit] else credit
        details.append(f"posting to seldom-used account {chart.numbers[account]} {chart.names[account]}")
    p.add(batch, "seldom_used_account", details)


def rare_pair_candidates(plan: EntityPlan) -> list[tuple[int, int]]:
    """Debit/credit combinations of everyday accounts that no baseline entry can produce."""
    chart = plan.chart
    ok = ~chart.sensitive & ~chart.suspense & ~chart.seldom
    debits = sorted({d for d, _ in plan.baseline_pairs if ok[d]})
    credits = sorted({c for _, c in plan.baseline_pairs if ok[c]})
    return [(d, c) for d in debits for c in credits if d != c and (d, c) not in plan.baseline_pairs]


def _rare_account_pair(p: _Planter, specs: list[PlantSpec]) -> None:
    pairs = [(*spec.params["pair"], "manual_journal") for spec in specs]
    batch = p.plain(_dates(specs), pairs=pairs)
    phrases = p.plan.vocab.add_many(["Reclassification between balance sheet accounts", "Manual journal entry",
                                     "Transfer between accounts"])
    batch.header_prefix[:] = p.rng.choice(phrases, len(specs))
    chart = p.plan.chart
    p.add(batch, "rare_account_pair", [f"debit {chart.numbers[d]} / credit {chart.numbers[c]}: a combination no "
                                       f"other entry uses" for d, c, _ in pairs])


def _approval_posters(p: _Planter, n: int, share: float) -> np.ndarray:
    """Posters whose approval limit is comfortably below the high-value threshold."""
    roster = p.plan.roster
    limits = roster.posting_limit_cents[p.posters[0]]
    fine = limits * share < p.plan.thresholds.high_value
    candidates = p.posters[0][fine] if fine.any() else p.posters[0][limits == limits.min()]
    return p.rng.choice(candidates, n)


def _below_approval_threshold(p: _Planter, specs: list[PlantSpec]) -> None:
    roster = p.plan.roster
    posters = _approval_posters(p, len(specs), 1.0)
    limits = roster.posting_limit_cents[posters]
    cents = np.rint(limits * p.rng.uniform(*BELOW_APPROVAL_BAND, len(specs))).astype(np.int64)
    cents = np.minimum(cents, limits - 1)
    cents -= (cents % ROUND_CENTS == 0) * 3
    batch = p.plain(_dates(specs), posters=posters, cents=cents)
    p.add(batch, "below_approval_threshold", [
        f"amount {_money(int(c))} just below the approval limit {_money(int(lim))} of {roster.user_ids[u]}"
        for c, lim, u in zip(cents, limits, posters)])


def _split_entry(p: _Planter, specs: list[PlantSpec]) -> None:
    roster = p.plan.roster
    for spec in specs:
        poster = int(_approval_posters(p, 1, 4.0)[0])
        limit = int(roster.posting_limit_cents[poster])
        cents = np.rint(limit * p.rng.uniform(*SPLIT_ENTRY_BAND, spec.size)).astype(np.int64)
        cents += (cents % ROUND_CENTS == 0) * 5
        day = np.full(spec.size, spec.effective, dtype="datetime64[D]")
        entry = manual_entry_dates(p.ctx, day[:1]).repeat(spec.size)
        start = people_times(p.rng, roster.hour_centre[[poster]])[0]
        times = np.minimum(start + np.cumsum(p.rng.integers(60, 15 * 60, spec.size)), 18 * HOUR - 1).astype(np.int32)
        pair = _plain_pair(p.plan, p.rng)
        batch = p.plain(day, posters=np.full(spec.size, poster), cents=cents, entry=entry, times=times,
                        pairs=[pair] * spec.size)
        batch.header_prefix[:] = batch.header_prefix[0]
        total = int(cents.sum())
        p.add(batch, "split_entry", [
            (f"one of {spec.size} entries by {roster.user_ids[poster]} on {spec.effective} to the same accounts, "
            f"together {_money(total)}, each below the approval limit {_money(limit)}")] * spec.size)


def _suspense_account(p: _Planter, specs: list[PlantSpec]) -> None:
    chart = p.plan.chart
    suspense = np.flatnonzero(chart.suspense)
    accrued, other = chart.account("accrued"), chart.account("other_receivables")
    pairs = []
    for account in p.rng.choice(suspense, len(specs)):
        account = int(account)
        if chart.accounts[account].account_type == "asset":
            pairs.append((account, accrued, "manual_journal"))
        else:
            pairs.append((other, account, "manual_journal"))
    batch = p.plain(_dates(specs), pairs=pairs)
    phrases = p.plan.vocab.add_many(["Unidentified difference", "Unallocated receipt", "Items to be cleared"])
    batch.header_prefix[:] = p.rng.choice(phrases, len(specs))
    p.add(batch, "suspense_account", [
        f"posting to suspense account {chart.numbers[d if chart.suspense[d] else c]}" for d, c, _ in pairs])


def _benford_outlier(p: _Planter, specs: list[PlantSpec]) -> None:
    """Expense claims keyed by one accountant with invented amounts: first digits 4-7, evenly spread."""
    plan = p.plan
    n = len(specs)
    first = p.rng.choice([4, 5, 6, 7], n)
    scale = np.where(p.rng.random(n) < 0.75, 100_000, 10_000)
    cents = (first * scale + p.rng.integers(0, scale)).astype(np.int64)
    cents += (cents % ROUND_CENTS == 0) * 9
    account = specs[0].params["account"]
    pairs = [(account, plan.chart.account("ap_other"), "manual_journal")] * n
    batch = p.plain(_dates(specs), posters=np.full(n, plan.fabricator), cents=cents, pairs=pairs)
    batch.header_prefix[:] = plan.vocab.add("Expense claim")
    user = plan.roster.user_ids[plan.fabricator]
    p.add(batch, "benford_outlier", [
        f"amount invented by {user} on account {plan.chart.numbers[account]}: first digits 4-7 only, "
        f"against Benford's law" for _ in range(n)])


def _ml_outlier(p: _Planter, specs: list[PlantSpec]) -> None:
    """Bank charges from the statement import, hundreds of times their usual size.

    Bank charges are the smallest amounts in the ledger (a median of about 35), so the outlier
    stands out on its account while staying an ordinary amount for the ledger as a whole: only a
    model that knows each account's usual range (or an unusual combination of account, amount and
    source) finds it.
    """
    plan = p.plan
    template = next(t for t in plan.templates if t.spec.code == "bank_fees")
    n = len(specs)
    ratio = p.rng.uniform(150, 400, n)
    ceiling = plan.thresholds.high_value * 0.5
    net = np.rint(np.minimum(template.median * 100 * ratio, ceiling * p.rng.uniform(0.8, 1.0, n))).astype(np.int64)
    net += (net % ROUND_CENTS == 0) * 3
    batch = split_journals(p.rng, net, template.single, -1, template.multi, (1.0,))
    batch.anchor[:] = -1
    batch.template[:] = template.code
    batch.effective[:] = _dates(specs)
    batch.entry[:] = batch.effective
    batch.poster[:] = plan.roster.user(template.spec.user)
    batch.entry_time[:] = window_times(p.rng, n, template.spec.window)
    batch.header_prefix[:] = template.headers[0]
    batch.header_ref[:] = p.rng.integers(1_000_000, 9_999_999, n)
    batch.line_text[:] = plan.account_texts[batch.line_account]
    details = []
    for j in range(n):
        debit = (batch.line_journal == j) & (batch.line_cents > 0)
        account, amount = int(batch.line_account[debit][0]), int(batch.line_cents[debit][0])
        details.append(f"{_money(amount)} on {plan.chart.numbers[account]} is about "
                       f"{amount / (template.median * 100):.0f} times the account's median amount")
    p.add(batch, "ml_outlier", details)


_PLANTERS = {
    "unbalanced_entry": _unbalanced_entry, "sequence_gap": _sequence_gap, "duplicate_entry": _duplicate_entry,
    "high_value": _high_value, "round_amount": _round_amount, "recurring_ending": _recurring_ending,
    "unusual_user": _unusual_user, "manual_to_sensitive_account": _manual_to_sensitive_account,
    "weekend_posting": _weekend_posting, "holiday_posting": _holiday_posting, "after_hours": _after_hours,
    "period_end": _period_end, "post_closing": _post_closing, "backdated": _backdated,
    "missing_description": _missing_description, "suspicious_keyword": _suspicious_keyword,
    "seldom_used_account": _seldom_used_account, "rare_account_pair": _rare_account_pair,
    "below_approval_threshold": _below_approval_threshold, "split_entry": _split_entry,
    "suspense_account": _suspense_account, "benford_outlier": _benford_outlier, "ml_outlier": _ml_outlier,
}
assert set(_PLANTERS) == set(ANOMALY_KINDS)
