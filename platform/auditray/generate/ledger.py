"""Generation of one entity's ledger, chunk by chunk.

A chunk is a block of days of one fiscal period: every line whose effective date falls in it is
generated, checked and numbered together, then written and forgotten. Only the per-account
activity (for the trial balance), the next journal number and last period's accruals (to reverse
them) carry over, so memory stays flat however long the ledger is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from auditray.contract import GL_DETAIL
from auditray.contract.money import cents_to_money
from auditray.generate.calendar import FiscalCalendar
from auditray.generate.journals import (
    ROUND_CENTS,
    JournalBatch,
    concat,
    draw_amounts,
    people_times,
    split_journals,
    window_times,
)
from auditray.generate.planning import (
    CODE,
    TEMPLATE_TABLE,
    ChunkSpec,
    EngagementPlan,
    EntityPlan,
    ResolvedTemplate,
    rng_for,
)
from auditray.generate.recurring import ChunkContext, recurring_entries

MANUAL = np.array([row[3] for row in TEMPLATE_TABLE])
SOURCES = pa.array([row[1] for row in TEMPLATE_TABLE])
DOCUMENT_TYPES = pa.array([row[2] for row in TEMPLATE_TABLE])
# Baseline manual entries stay out of this band below the poster's approval limit, where
# below-approval-threshold and split entries are planted.
APPROVAL_BAND = 0.85
SAME_DAY, NEXT_DAY = 0.72, 0.20


@dataclass
class Label:
    journal: int  # index in the chunk's batch
    kind: str
    detail: str
    refs: tuple[int, ...] = ()  # other journals of the batch whose ids the detail names ({0}, {1}, ...)


@dataclass
class PlantedChunk:
    batch: JournalBatch
    labels: list[Label] = field(default_factory=list)
    gaps: dict[int, int] = field(default_factory=dict)  # journal index -> numbers skipped before it


def poster_weights(plan: EntityPlan, seniors: bool) -> tuple[np.ndarray, np.ndarray]:
    """Who keys the day-to-day manual journals, in proportion to their habits."""
    roster = plan.roster
    posters = roster.posters
    weights = roster.activity[posters].copy()
    if seniors:
        weights[np.isin(posters, roster.by_role("senior_accountant"))] *= 2.5
    controller = roster.by_role("controller")
    posters = np.concatenate([posters, controller])
    weights = np.concatenate([weights, [weights.mean() * 0.3]])
    return posters, weights / weights.sum()


def manual_entry_dates(ctx: ChunkContext, effective: np.ndarray) -> np.ndarray:
    """People key most entries the same day, some a day or a few days later; never on a closed day."""
    lag = ctx.rng.choice(4, size=len(effective), p=[SAME_DAY, NEXT_DAY, 0.05, 0.03])
    return ctx.calendar.add_business_days(effective, lag)


def close_window_dates(ctx: ChunkContext, n: int) -> np.ndarray:
    """Month-end work is keyed during the close window, mostly in its first days."""
    window = ctx.calendar.close_window(ctx.chunk.period)
    weights = 1.0 / np.arange(1, len(window) + 1)
    return window[ctx.rng.choice(len(window), size=n, p=weights / weights.sum())]


def volume_entries(ctx: ChunkContext) -> JournalBatch:
    """The chunk's everyday entries: sub-ledger postings and the accounting team's manual work."""
    plan, chunk, rng, cal = ctx.plan, ctx.chunk, ctx.rng, ctx.calendar
    busy = np.isin(chunk.days, cal.period_end_days(chunk.period, 3))
    day_weights = np.where(busy, 1.5, 1.0)
    day_weights /= day_weights.sum()
    batches = []
    for t, count in zip(plan.templates, chunk.counts):
        if count == 0:
            continue
        spec = t.spec
        n = int(count)
        floor = 100 * len(spec.lines)
        if spec.manual:
            candidates, weights = poster_weights(plan, spec.seniors)
            posters = rng.choice(candidates, size=n, p=weights)
            limits = plan.roster.posting_limit_cents[posters]
            net = draw_amounts(rng, n, t.median, spec.sigma, cap_cents=t.cap_cents, floor_cents=floor,
                               avoid_lo=(limits * APPROVAL_BAND).astype(np.int64), avoid_hi=limits)
        else:
            posters = np.full(n, plan.roster.user(spec.user))
            net = draw_amounts(rng, n, t.median, spec.sigma, cap_cents=t.cap_cents, floor_cents=floor)
        if spec.settles:
            net = _settle(ctx, t, net, t.cap_cents)
        batch = split_journals(rng, net, t.single, 1 if spec.single_side == "D" else -1, t.multi, spec.lines,
                               t.vat_rate, t.vat_account, spec.distinct)
        batch.auto_reverse[:] = spec.reversed_next_period
        batch.template[:] = t.code
        batch.poster[:] = posters
        if spec.timing == "month_end":
            batch.effective[:] = cal.last_business_day(chunk.period)
        else:
            batch.effective[:] = chunk.days[rng.choice(len(chunk.days), size=n, p=day_weights)]
        if spec.manual:
            batch.entry[:] = (close_window_dates(ctx, n) if spec.timing == "month_end"
                              else manual_entry_dates(ctx, batch.effective))
            batch.entry_time[:] = people_times(rng, plan.roster.hour_centre[posters])
            batch.header_prefix[:] = manual_headers(rng, t, batch)
            batch.header_suffix[:] = plan.period_labels[chunk.period - 1]
        else:
            batch.entry[:] = batch.effective
            batch.entry_time[:] = window_times(rng, n, spec.window)
            batch.header_prefix[:] = t.headers[0]
            batch.header_ref[:] = rng.integers(1_000_000, 9_999_999, size=n)
            if spec.party:
                parties = plan.vendors if spec.party == "vendor" else plan.customers
                batch.header_suffix[:] = parties[rng.zipf(1.6, size=n) % len(parties)]
        batch.line_text[:] = plan.account_texts[batch.line_account]
        batches.append(batch)
    return concat(batches)


def _settle(ctx: ChunkContext, t: ResolvedTemplate, net: np.ndarray, cap: float) -> np.ndarray:
    """Scale settlement amounts to a share of the balance they settle (receipts follow receivables)."""
    role, share = t.spec.settles
    accounts, _ = ctx.plan.chart.pool(role)
    balance = int(ctx.start_balance[accounts].sum())
    natural = balance if ctx.plan.chart.accounts[accounts[0]].normal_balance == "debit" else -balance
    period_count = int(ctx.chunk.period_counts[t.code])
    target = natural * share * len(net) / max(period_count, 1)
    if target <= 1_000 * len(net):
        return net
    scaled = np.rint(net * (target / net.sum())).astype(np.int64)
    over = scaled > cap
    scaled[over] = np.rint(cap * ctx.rng.uniform(0.5, 0.95, int(over.sum()))).astype(np.int64)
    scaled = np.maximum(scaled, net.min())
    scaled += scaled % ROUND_CENTS == 0
    return scaled


def manual_headers(rng: np.random.Generator, t: ResolvedTemplate, batch: JournalBatch) -> np.ndarray:
    """Header texts of manual journals: the team's phrase, naming the account of the first line
    on the expense side where the template does."""
    if not t.account_headers.size:
        return rng.choice(t.headers, size=batch.n_journals)
    phrase = rng.integers(0, len(t.account_headers), batch.n_journals)
    headers = t.account_headers[phrase, batch.line_account[batch.counter]]
    return np.where(headers >= 0, headers, rng.choice(t.headers, size=batch.n_journals))


def journal_totals(batch: JournalBatch) -> np.ndarray:
    """Sum of debits per journal, in cents."""
    totals = np.zeros(batch.n_journals, np.int64)
    np.add.at(totals, batch.line_journal, np.maximum(batch.line_cents, 0))
    return totals


def apply_approvals(ctx: ChunkContext, batch: JournalBatch, journals: np.ndarray | None = None) -> None:
    """Manual entries above the poster's limit get an approver with authority for the amount."""
    roster, rng, cal = ctx.plan.roster, ctx.rng, ctx.calendar
    todo = np.flatnonzero(MANUAL[batch.template] & (batch.approver < 0)) if journals is None else journals
    if not len(todo):
        return
    totals = journal_totals(batch)[todo]
    posters = batch.poster[todo].astype(np.int64)
    needs = totals > roster.posting_limit_cents[posters]
    todo, totals, posters = todo[needs], totals[needs], posters[needs]
    seniors = roster.by_role("senior_accountant")
    controller, cfo = int(roster.by_role("controller")[0]), int(roster.by_role("cfo")[0])
    senior_limit = roster.posting_limit_cents[seniors[0]]
    approver = np.where(totals <= roster.posting_limit_cents[controller], controller, cfo)
    approver = np.where((approver == posters) & (approver == controller), cfo, approver)
    approver = np.where((approver == posters) & (approver == cfo), controller, approver)
    by_senior = (totals <= senior_limit) & (rng.random(len(todo)) < 0.6)
    pick = seniors[rng.integers(0, len(seniors), len(todo))]
    pick = np.where(pick == posters, seniors[(np.searchsorted(seniors, pick) + 1) % len(seniors)], pick)
    approver = np.where(by_senior, pick, approver)
    batch.approver[todo] = approver
    approved = cal.add_business_days(batch.entry[todo], rng.choice(3, size=len(todo), p=[0.6, 0.3, 0.1]))
    closing = np.datetime64(cal.closing_date, "D")
    batch.approved[todo] = np.where(batch.entry[todo] <= closing, np.minimum(approved, closing), approved)


def apply_modifications(ctx: ChunkContext, batch: JournalBatch) -> None:
    """A few manual entries are edited after keying, by the person who keyed them."""
    manual = np.flatnonzero(MANUAL[batch.template] & ~batch.planted)
    edited = manual[ctx.rng.random(len(manual)) < 0.03]
    batch.modified_by[edited] = batch.poster[edited]
    batch.modified[edited] = ctx.calendar.add_business_days(batch.entry[edited], ctx.rng.integers(0, 2, len(edited)))


def scrub_signatures(batch: JournalBatch, rng: np.random.Generator) -> None:
    """Nudge baseline amounts that would look like planted anomalies by chance.

    Two lines with the same account, amount and date in different journals look like a
    duplicate entry; a line of exact thousands looks like a round amount. Moving both the line
    and a line on the other side of its journal by the same few cents keeps the journal
    balanced and the distribution of amounts intact.
    """
    for _ in range(6):
        n = batch.n_lines
        if not n:
            return
        magnitude = np.abs(batch.line_cents)
        day = batch.effective[batch.line_journal].astype(np.int64)
        order = np.lexsort((batch.line_journal, magnitude, day, batch.line_account))
        same = ((batch.line_account[order][1:] == batch.line_account[order][:-1])
                & (day[order][1:] == day[order][:-1]) & (magnitude[order][1:] == magnitude[order][:-1])
                & (batch.line_journal[order][1:] != batch.line_journal[order][:-1]))
        flagged = np.zeros(n, bool)
        # Flag both lines of a collision: recurring and reversal lines cannot move, their partner can.
        flagged[order[1:][same]] = True
        flagged[order[:-1][same]] = True
        flagged |= (magnitude % ROUND_CENTS == 0)
        anchors = batch.anchor[batch.line_journal]
        flagged &= anchors >= 0
        lines = np.flatnonzero(flagged)
        if not len(lines):
            return
        partner = np.where(lines == anchors[lines], batch.counter[batch.line_journal[lines]], anchors[lines])
        nudge = rng.integers(1, 99, len(lines))
        np.add.at(batch.line_cents, lines, np.sign(batch.line_cents[lines]) * nudge)
        np.add.at(batch.line_cents, partner, np.sign(batch.line_cents[partner]) * nudge)


class EntityLedger:
    """The running state of one entity's ledger across its chunks."""

    def __init__(self, plan: EngagementPlan, entity: EntityPlan) -> None:
        self.plan = plan
        self.entity = entity
        self.calendar: FiscalCalendar = plan.calendar
        self.next_number = 1
        self.activity = np.zeros((12, len(entity.chart)), np.int64)
        self.pending_reversals: list[JournalBatch] = []
        self.pending_numbers: list[np.ndarray] = []
        self.pending_flags: list[np.ndarray] = []  # which pending accruals are planted high-value entries
        self.lines = 0
        self.journals = 0
        # VAT posted per period by invoices (not by returns): what next period's return pays.
        self.vat_flow = np.zeros(13, np.int64)
        self.vat_account = entity.chart.account("output_tax")
        self._accounts = pa.array(entity.chart.numbers, type=pa.string())
        self._users = pa.array(entity.roster.user_ids, type=pa.string())

    def context(self, chunk: ChunkSpec) -> ChunkContext:
        rng = rng_for(self.plan.config, self.entity.index, 10, chunk.period, chunk.block)
        due = self.entity.opening[self.vat_account] if chunk.period == 1 else self.vat_flow[chunk.period - 1]
        start = self.entity.opening + self.activity[: chunk.period - 1].sum(axis=0)
        return ChunkContext(self.entity, self.calendar, chunk, rng, self.plan.config.fiscal_year, int(due), start)

    def generate(self, chunk: ChunkSpec) -> tuple[pa.Table, list[tuple[str, str, str, str]]]:
        """The chunk's lines as a canonical GL_DETAIL table, and its labels (entity, journal id, kind, detail)."""
        from auditray.generate.anomalies import plant_anomalies

        ctx = self.context(chunk)
        parts = [volume_entries(ctx), recurring_entries(ctx)]
        reversal_labels: list[Label] = []
        if chunk.first_block and self.pending_reversals:
            reversals, flagged = self._reversals(ctx)
            offset = sum(p.n_journals for p in parts)
            reversal_labels = [Label(offset + i, "high_value", f"automatic reversal of high-value journal {number:010d}")
                               for i, number in flagged]
            parts.append(reversals)
        baseline = concat(parts)
        apply_approvals(ctx, baseline)
        apply_modifications(ctx, baseline)
        scrub_signatures(baseline, ctx.rng)
        planted = plant_anomalies(ctx, baseline)
        planted.labels = reversal_labels + planted.labels
        batch = planted.batch
        numbers, order = self._number(ctx, batch, planted.gaps)
        self._keep_accruals(ctx, batch, numbers, planted.labels)
        table = self._table(ctx, batch, numbers, order)
        np.add.at(self.activity[chunk.period - 1], batch.line_account, batch.line_cents)
        invoices = (batch.line_account == self.vat_account) & (batch.template[batch.line_journal] != CODE["vat_payment"])
        self.vat_flow[chunk.period] += int(batch.line_cents[invoices].sum())
        self.lines += batch.n_lines
        self.journals += batch.n_journals
        entity_id = self.entity.profile.entity_id

        def journal_id(journal: int) -> str:
            return f"{numbers[journal]:010d}"

        labels = [(entity_id, journal_id(label.journal), label.kind,
                   label.detail.format(*(journal_id(r) for r in label.refs))) for label in planted.labels]
        return table, labels

    def _reversals(self, ctx: ChunkContext) -> tuple[JournalBatch, list[tuple[int, int]]]:
        """Last period's accruals reverse on the first business day, by the nightly auto-reversal job.

        Returns the reversals and, for those that reverse a planted high-value entry (and so are
        high-value themselves), their index and the number of the journal they reverse.
        """
        batch = concat(self.pending_reversals)
        flagged = np.concatenate(self.pending_flags)
        batch.line_cents = -batch.line_cents
        batch.auto_reverse[:] = False
        batch.planted[:] = flagged
        batch.template[:] = CODE["accrual_reversal"]
        batch.effective[:] = self.calendar.first_business_day(ctx.chunk.period)
        batch.entry[:] = np.maximum(batch.entry, batch.effective)
        batch.entry_time[:] = window_times(ctx.rng, batch.n_journals, (23 * 3600 + 1800, 23 * 3600 + 3300))
        batch.poster[:] = self.entity.roster.user("BATCH_GL")
        batch.approver[:] = -1
        batch.approved[:] = np.datetime64("NaT")
        batch.modified_by[:] = -1
        batch.modified[:] = np.datetime64("NaT")
        batch.reversal_of[:] = np.concatenate(self.pending_numbers)
        vocab = self.entity.vocab
        batch.header_prefix[:] = [vocab.add("Reversal: " + vocab[int(p)]) for p in batch.header_prefix]
        batch.anchor[:] = -1
        numbers = batch.reversal_of
        self.pending_reversals, self.pending_numbers, self.pending_flags = [], [], []
        return batch, [(int(i), int(numbers[i])) for i in np.flatnonzero(flagged)]

    def _keep_accruals(self, ctx: ChunkContext, batch: JournalBatch, numbers: np.ndarray,
                       labels: list[Label]) -> None:
        if ctx.chunk.period == 12:
            return
        accruals = np.flatnonzero(batch.auto_reverse)
        if len(accruals):
            high_value = np.zeros(batch.n_journals, bool)
            high_value[[label.journal for label in labels if label.kind == "high_value"]] = True
            self.pending_reversals.append(batch.take(accruals))
            self.pending_numbers.append(numbers[accruals])
            self.pending_flags.append(high_value[accruals])

    def _number(self, ctx: ChunkContext, batch: JournalBatch, gaps: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Journal numbers in the order entries were keyed, one contiguous sequence per entity."""
        n = batch.n_journals
        order = np.lexsort((np.arange(n), batch.template, batch.entry_time, batch.entry.astype(np.int64)))
        skip = np.zeros(n, np.int64)
        for journal, size in gaps.items():
            skip[journal] = size
        sequence = self.next_number + np.arange(n) + np.cumsum(skip[order])
        numbers = np.empty(n, np.int64)
        numbers[order] = (self.plan.config.fiscal_year % 100) * 10**8 + sequence
        if n:
            self.next_number = int(sequence[-1]) + 1
        return numbers, order

    def _table(self, ctx: ChunkContext, batch: JournalBatch, numbers: np.ndarray, order: np.ndarray) -> pa.Table:
        rank = np.empty(batch.n_journals, np.int64)
        rank[order] = np.arange(batch.n_journals)
        line_order = np.argsort(rank[batch.line_journal], kind="stable")
        lj = batch.line_journal[line_order]
        starts = np.searchsorted(rank[lj], np.arange(batch.n_journals), side="left")
        line_number = (np.arange(len(lj)) - starts[rank[lj]] + 1).astype(np.int32)
        n_lines = len(lj)
        entity = self.entity
        vocab = entity.vocab.arrow()

        def text(index: np.ndarray) -> pa.Array:
            return vocab.take(pa.array(index, mask=index < 0, type=pa.int32()))

        journal_ids = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=10, padding="0")
        # Nulls are filled rather than skipped: Arrow's "skip" mode drops rows that are null throughout.
        header = pc.binary_join_element_wise(
            pc.fill_null(text(batch.header_prefix), ""),
            pc.fill_null(pc.cast(pa.array(batch.header_ref, mask=batch.header_ref < 0), pa.string()), ""),
            pc.fill_null(text(batch.header_suffix), ""), "")
        no_text = (batch.header_prefix < 0) & (batch.header_ref < 0) & (batch.header_suffix < 0)
        header = pc.if_else(pa.array(no_text), pa.nulls(batch.n_journals, pa.string()), header)
        reversal = pc.utf8_lpad(pc.cast(pa.array(batch.reversal_of, mask=batch.reversal_of < 0), pa.string()),
                                width=10, padding="0")
        lj_arrow = pa.array(lj)
        template = batch.template[lj]

        def users(index: np.ndarray) -> pa.Array:
            return self._users.take(pa.array(index, mask=index < 0, type=pa.int32()))

        cents = pl.Series("cents", batch.line_cents[line_order])
        amount = pl.select(cents_to_money(pl.lit(cents))).to_series().to_arrow()
        columns = {
            "entity_id": pa.repeat(pa.scalar(entity.profile.entity_id), n_lines),
            "journal_id": journal_ids.take(lj_arrow),
            "line_number": pa.array(line_number),
            "fiscal_year": pa.repeat(pa.scalar(self.plan.config.fiscal_year, pa.int16()), n_lines),
            "period": pa.repeat(pa.scalar(ctx.chunk.period, pa.int8()), n_lines),
            "effective_date": pa.array(batch.effective[lj]),
            "entry_date": pa.array(batch.entry[lj]),
            "entry_time": pa.array(batch.entry_time[lj]).cast(pa.time32("s")),
            "gl_account_number": self._accounts.take(pa.array(batch.line_account[line_order], type=pa.int32())),
            # Accounts are named by the chart the generator writes beside the ledger, not on every line.
            "gl_account_name": pa.nulls(n_lines, pa.string()),
            "amount": amount.cast(GL_DETAIL.field("amount").type),
            "amount_currency": pa.repeat(pa.scalar(entity.profile.currency), n_lines),
            "je_header_description": header.take(lj_arrow),
            "je_line_description": text(batch.line_text[line_order]),
            # The generator's entries are told apart by their headers: no source document references.
            "document_reference": pa.nulls(n_lines, pa.string()),
            "source": SOURCES.take(pa.array(template, type=pa.int32())),
            "document_type": DOCUMENT_TYPES.take(pa.array(template, type=pa.int32())),
            "manual_entry": pa.array(MANUAL[template]),
            "entered_by": users(batch.poster[lj].astype(np.int32)),
            "approved_by": users(batch.approver[lj].astype(np.int32)),
            "approved_date": pa.array(batch.approved[lj]),
            "last_modified_by": users(batch.modified_by[lj].astype(np.int32)),
            "last_modified_date": pa.array(batch.modified[lj]),
            "reversal_indicator": pa.array(batch.reversal_of[lj] >= 0),
            "reversal_journal_id": reversal.take(lj_arrow),
        }
        return pa.Table.from_arrays([columns[name].cast(GL_DETAIL.field(name).type) for name in GL_DETAIL.names],
                                    schema=GL_DETAIL.schema)
