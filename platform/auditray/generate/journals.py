"""Journals in bulk: a columnar batch of entries and the vectorised builders that fill it.

Everything is numpy arrays, one row per journal and one per line, so that a million lines cost
a handful of array operations rather than a million Python objects. Amounts are integer cents
throughout; they become ``Decimal(18, 2)`` only when a chunk is written.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from auditray.generate.templates import BUSINESS_HOURS, HOUR

NAT = np.datetime64("NaT", "D")
# A multiple of 1,000.00 is what journal-entry tests call a round amount.
ROUND_CENTS = 100_000


class Vocabulary:
    """Distinct description texts of one entity, referenced by index from the batches."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._items: list[str] = []
        self._arrow: pa.Array | None = None

    def add(self, text: str) -> int:
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self._items)
            self._items.append(text)
            self._arrow = None
        return found

    def add_many(self, texts: list[str]) -> np.ndarray:
        return np.array([self.add(t) for t in texts], dtype=np.int32)

    def __getitem__(self, index: int) -> str:
        return self._items[index]

    def arrow(self) -> pa.Array:
        if self._arrow is None:
            self._arrow = pa.array(self._items, type=pa.string())
        return self._arrow


@dataclass
class JournalBatch:
    """Journals (first block of fields) and their lines (``line_*``), with line indices local to the batch."""

    template: np.ndarray  # int16 code of the template (source, document type, manual flag)
    effective: np.ndarray  # datetime64[D]
    entry: np.ndarray  # datetime64[D]
    entry_time: np.ndarray  # int32 seconds after midnight
    poster: np.ndarray  # int16 roster index
    approver: np.ndarray  # int16, -1 when not approved
    approved: np.ndarray  # datetime64[D], NaT when not approved
    modified_by: np.ndarray  # int16, -1
    modified: np.ndarray  # datetime64[D]
    header_prefix: np.ndarray  # int32 vocabulary index, -1 for none
    header_ref: np.ndarray  # int64 reference number printed after the prefix, -1 for none
    header_suffix: np.ndarray  # int32 vocabulary index, -1 for none
    reversal_of: np.ndarray  # int64 journal number reversed, -1
    planted: np.ndarray  # bool
    auto_reverse: np.ndarray  # bool: reversed on the first business day of the next period
    anchor: np.ndarray  # int32 line index of the control-account line, -1 when amounts are fixed
    counter: np.ndarray  # int32 line index of a line on the other side
    line_journal: np.ndarray  # int32
    line_account: np.ndarray  # int16
    line_cents: np.ndarray  # int64, debit positive
    line_text: np.ndarray  # int32 vocabulary index, -1 for none

    @property
    def n_journals(self) -> int:
        return len(self.template)

    @property
    def n_lines(self) -> int:
        return len(self.line_journal)

    @staticmethod
    def empty() -> JournalBatch:
        return new_batch(np.zeros(0, np.int64), 0)

    def take(self, journals: np.ndarray) -> JournalBatch:
        """The given journals (in that order) with their lines."""
        journals = np.asarray(journals, dtype=np.int64)
        keep = np.zeros(self.n_journals, bool)
        keep[journals] = True
        rank = np.full(self.n_journals, -1, np.int64)
        rank[journals] = np.arange(len(journals))
        line_keep = keep[self.line_journal]
        line_pos = np.flatnonzero(line_keep)
        new_line_journal = rank[self.line_journal[line_keep]]
        order = np.argsort(new_line_journal, kind="stable")
        line_pos = line_pos[order]
        remap = np.full(self.n_lines, -1, np.int64)
        remap[line_pos] = np.arange(len(line_pos))
        values = {}
        for f in fields(self):
            array = getattr(self, f.name)
            values[f.name] = array[line_pos] if f.name.startswith("line_") else array[journals]
        values["line_journal"] = new_line_journal[order].astype(np.int32)
        for key in ("anchor", "counter"):
            old = values[key]
            values[key] = np.where(old >= 0, remap[np.maximum(old, 0)], -1).astype(np.int32)
        return JournalBatch(**values)


def new_batch(line_journal: np.ndarray, n_journals: int) -> JournalBatch:
    """A batch of ``n_journals`` journals with default attributes and lines belonging to ``line_journal``."""
    n, m = n_journals, len(line_journal)
    return JournalBatch(
        template=np.zeros(n, np.int16), effective=np.full(n, NAT), entry=np.full(n, NAT),
        entry_time=np.zeros(n, np.int32), poster=np.zeros(n, np.int16), approver=np.full(n, -1, np.int16),
        approved=np.full(n, NAT), modified_by=np.full(n, -1, np.int16), modified=np.full(n, NAT),
        header_prefix=np.full(n, -1, np.int32), header_ref=np.full(n, -1, np.int64),
        header_suffix=np.full(n, -1, np.int32), reversal_of=np.full(n, -1, np.int64),
        planted=np.zeros(n, bool), auto_reverse=np.zeros(n, bool), anchor=np.full(n, -1, np.int32), counter=np.full(n, -1, np.int32),
        line_journal=np.asarray(line_journal, np.int32), line_account=np.zeros(m, np.int16),
        line_cents=np.zeros(m, np.int64), line_text=np.full(m, -1, np.int32),
    )


def concat(batches: list[JournalBatch]) -> JournalBatch:
    batches = [b for b in batches if b.n_journals]
    if not batches:
        return JournalBatch.empty()
    journal_offsets = np.cumsum([0] + [b.n_journals for b in batches])
    line_offsets = np.cumsum([0] + [b.n_lines for b in batches])
    values = {}
    for f in fields(JournalBatch):
        parts = [getattr(b, f.name) for b in batches]
        if f.name == "line_journal":
            parts = [p + journal_offsets[i] for i, p in enumerate(parts)]
        elif f.name in ("anchor", "counter"):
            parts = [np.where(p >= 0, p + line_offsets[i], -1) for i, p in enumerate(parts)]
        values[f.name] = np.concatenate(parts).astype(parts[0].dtype)
    return JournalBatch(**values)


def draw_amounts(rng: np.random.Generator, n: int, median: float, sigma: float, *, cap_cents: int,
                 floor_cents: int = 100, avoid_lo: np.ndarray | None = None,
                 avoid_hi: np.ndarray | None = None) -> np.ndarray:
    """Lognormal amounts in cents, redrawn until they respect the cap, the floor and an avoided band.

    A lognormal spread over several orders of magnitude gives first digits close to Benford's law
    (Nigrini 2012, ch. 4); redrawing rather than clipping keeps the cap from piling up amounts on
    one value, which duplicate and round-amount tests would rightly flag. Round thousands are
    redrawn too: in the baseline they appear only where an anomaly is planted.
    """
    cap_cents = max(int(cap_cents), floor_cents * 4)
    mu = np.log(max(median, 0.01) * 100.0)
    cents = np.zeros(n, np.int64)
    todo = np.arange(n)
    for _ in range(200):
        if not len(todo):
            break
        drawn = np.rint(rng.lognormal(mu, sigma, len(todo))).astype(np.int64)
        bad = (drawn > cap_cents) | (drawn < floor_cents) | (drawn % ROUND_CENTS == 0)
        if avoid_lo is not None:
            bad |= (drawn >= avoid_lo[todo]) & (drawn <= avoid_hi[todo])
        cents[todo[~bad]] = drawn[~bad]
        todo = todo[bad]
    if len(todo):  # a cap far below the median: fall back to a uniform spread under the cap
        cents[todo] = rng.integers(floor_cents, cap_cents, len(todo))
        cents[todo] += cents[todo] % ROUND_CENTS == 0
    return cents


def split_journals(rng: np.random.Generator, net_cents: np.ndarray, single: tuple[np.ndarray, np.ndarray],
                   single_sign: int, multi: tuple[np.ndarray, np.ndarray], line_probs: tuple[float, ...],
                   vat_rate: float = 0.0, vat_account: int = -1, distinct: bool = False) -> JournalBatch:
    """Journals of one control-account line against 1..k lines on the other side (plus VAT).

    ``net_cents`` are the journals' amounts before VAT; the control line carries net + VAT so every
    journal balances to the cent by construction.
    """
    n = len(net_cents)
    m = rng.choice(len(line_probs), size=n, p=np.asarray(line_probs) / np.sum(line_probs)) + 1
    tax = np.rint(net_cents * vat_rate).astype(np.int64) if vat_account >= 0 and vat_rate > 0 else np.zeros(n, np.int64)
    has_vat = tax > 0
    k = 1 + m + has_vat
    offsets = np.cumsum(k) - k
    line_journal = np.repeat(np.arange(n, dtype=np.int32), k)
    batch = new_batch(line_journal, n)
    pos = np.arange(len(line_journal)) - offsets[line_journal]
    is_anchor = pos == 0
    is_vat = has_vat[line_journal] & (pos == k[line_journal] - 1)
    is_multi = ~is_anchor & ~is_vat

    single_idx, single_w = single
    multi_idx, multi_w = multi
    anchor_account = rng.choice(single_idx, size=n, p=single_w)
    multi_account = rng.choice(multi_idx, size=int(m.sum()), p=multi_w)
    multi_journal = line_journal[is_multi]
    if distinct and len(multi_idx) > 1:
        clash = multi_account == anchor_account[multi_journal]
        where = np.searchsorted(np.sort(multi_idx), multi_account[clash])
        multi_account[clash] = np.sort(multi_idx)[(where + 1) % len(multi_idx)]
    batch.line_account[is_anchor] = anchor_account
    batch.line_account[is_multi] = multi_account
    batch.line_account[is_vat] = vat_account

    # Split each journal's net amount over its lines with random weights, exact to the cent.
    weights = rng.uniform(0.2, 1.0, size=len(multi_account))
    starts = np.cumsum(m) - m
    totals = np.add.reduceat(weights, starts)
    parts = np.floor(net_cents[multi_journal] * (weights / totals[multi_journal])).astype(np.int64)
    last = starts + m - 1
    parts[last] += net_cents - np.add.reduceat(parts, starts)
    batch.line_cents[is_anchor] = single_sign * (net_cents + tax)
    batch.line_cents[is_multi] = -single_sign * parts
    batch.line_cents[is_vat] = -single_sign * tax[has_vat]
    batch.anchor[:] = offsets
    batch.counter[:] = offsets + 1
    return batch


def people_times(rng: np.random.Generator, centre_hours: np.ndarray,
                 hours: tuple[int, int] = BUSINESS_HOURS) -> np.ndarray:
    """Entry times of people: around each person's usual hour, always inside business hours."""
    centre = np.asarray(centre_hours, dtype=np.float64) * HOUR
    times = np.zeros(len(centre), np.int32)
    todo = np.arange(len(centre))
    while len(todo):
        drawn = np.rint(rng.normal(centre[todo], 1.9 * HOUR)).astype(np.int64)
        ok = (drawn >= hours[0]) & (drawn < hours[1])
        times[todo[ok]] = drawn[ok]
        todo = todo[~ok]
    return times


def window_times(rng: np.random.Generator, n: int, window: tuple[int, int]) -> np.ndarray:
    """Entry times of a batch job: anywhere in its window."""
    return rng.integers(window[0], window[1], size=n).astype(np.int32)


def two_line_journals(debit: np.ndarray, credit: np.ndarray, cents: np.ndarray) -> JournalBatch:
    """Plain journals of one debit and one credit line, as most manual entries are."""
    n = len(cents)
    batch = new_batch(np.repeat(np.arange(n, dtype=np.int32), 2), n)
    batch.line_account[0::2] = debit
    batch.line_account[1::2] = credit
    batch.line_cents[0::2] = cents
    batch.line_cents[1::2] = -cents
    batch.anchor[:] = np.arange(n) * 2 + 1
    batch.counter[:] = np.arange(n) * 2
    return batch


def fixed_journal(accounts: list[int], cents: list[int]) -> JournalBatch:
    """One journal with given lines; the amounts are fixed (recurring entries), so no anchor."""
    if sum(cents) != 0:
        raise ValueError(f"recurring journal does not balance: {sum(cents)} cents")
    batch = new_batch(np.zeros(len(accounts), np.int32), 1)
    batch.line_account[:] = accounts
    batch.line_cents[:] = cents
    return batch
