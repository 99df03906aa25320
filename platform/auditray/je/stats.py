"""Population statistics over the journal summary: the "compared with what?" of every relative test.

A user is unusual, an account pair rare, an entry a duplicate or preceded by a gap only relative to the
whole population of the entity (AS 2401 .61(a)-(b); CAQ practice aid). Each statistic here is a
``BatchComputation`` over the journal summary (one row per entry): ``map`` summarises any slice of
entries, ``combine`` folds the partial results (sums of counts, min of mins), so the answer does not depend
on how the entries were partitioned, and ``auditray.engine`` runs it locally or on Ray with equal results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from auditray.engine import BatchComputation, pack, unpack
from auditray.je import grouping

USER_KEYS = ("entity_id", "entered_by")
PAIR_KEYS = ("entity_id", "debit_account", "credit_account")


def _approved() -> pl.Expr:
    return pl.col("approved_by").is_not_null() & (pl.col("approved_by") != pl.col("entered_by").fill_null(""))


def _users_map(journals: pl.DataFrame) -> pl.DataFrame:
    manual = pl.col("manual")
    return grouping.group_by(
        journals, USER_KEYS,
        pl.len().cast(pl.Int64).alias("journals"),
        manual.sum().cast(pl.Int64).alias("manual_journals"),
        pl.col("debit_cents").filter(manual & ~_approved()).max().alias("max_unapproved_cents"),
        pl.col("debit_cents").filter(manual & _approved()).min().alias("min_approved_cents"),
        (manual & _approved()).sum().cast(pl.Int64).alias("approved_journals"),
    )


def _users_combine(partials: pl.DataFrame) -> pl.DataFrame:
    return partials.group_by(USER_KEYS).agg(
        pl.col("journals").sum(), pl.col("manual_journals").sum(), pl.col("max_unapproved_cents").max(),
        pl.col("min_approved_cents").min(), pl.col("approved_journals").sum())


USER_ACTIVITY = BatchComputation(
    "je_user_activity", map=_users_map, combine=_users_combine, sort_by=USER_KEYS,
    columns=("entity_id", "entered_by", "manual", "approved_by", "debit_cents"),
)


def _count_by(keys: tuple[str, ...], name: str) -> BatchComputation:
    def mapper(journals: pl.DataFrame) -> pl.DataFrame:
        complete = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
        return grouping.group_by(journals.filter(complete), keys, pl.len().cast(pl.Int64).alias("journals"))

    def combine(partials: pl.DataFrame) -> pl.DataFrame:
        return partials.group_by(keys).agg(pl.col("journals").sum())

    return BatchComputation(name, map=mapper, combine=combine, sort_by=keys, columns=keys)


ACCOUNT_PAIRS = _count_by(PAIR_KEYS, "je_account_pairs")
GROUP_PAIR_KEYS = ("entity_id", "debit_group", "credit_group")


def account_group(account: pl.Expr, digits: int) -> pl.Expr:
    """The account's group: the first ``digits`` characters of its number (the whole number for 0)."""
    return account.str.slice(0, digits) if digits > 0 else account


def group_pairs(digits: int) -> BatchComputation:
    """Journals per entity and pair of account groups (main debit account's group, main credit's)."""

    def mapper(journals: pl.DataFrame) -> pl.DataFrame:
        both = (journals.filter(pl.col("debit_account").is_not_null() & pl.col("credit_account").is_not_null())
                .select("entity_id", debit_group=account_group(pl.col("debit_account"), digits),
                        credit_group=account_group(pl.col("credit_account"), digits)))
        return grouping.group_by(both, GROUP_PAIR_KEYS, pl.len().cast(pl.Int64).alias("journals"))

    return BatchComputation("je_group_pairs", map=mapper,
                            combine=lambda p: p.group_by(GROUP_PAIR_KEYS).agg(pl.col("journals").sum()),
                            sort_by=GROUP_PAIR_KEYS, columns=("entity_id", "debit_account", "credit_account"))


def _user_accounts_map(journals: pl.DataFrame) -> pl.DataFrame:
    keys = ("entity_id", "entered_by", "account")
    sides = [grouping.group_by(journals.select("entity_id", "entered_by", account=side), keys,
                               pl.len().cast(pl.Int64).alias("journals"))
             for side in ("debit_account", "credit_account")]
    return (pl.concat(sides).filter(pl.col("account").is_not_null())
            .group_by(keys).agg(pl.col("journals").sum()))


USER_ACCOUNTS = BatchComputation(
    "je_user_accounts", map=_user_accounts_map,
    combine=lambda p: p.group_by("entity_id", "entered_by", "account").agg(pl.col("journals").sum()),
    sort_by=("entity_id", "entered_by", "account"),
    columns=("entity_id", "entered_by", "debit_account", "credit_account"),
)


def duplicate_keys(same_effective_date: bool) -> list[str]:
    """What two entries share to be duplicates (``duplicate_text`` is a column of ``with_duplicate_text``)."""
    return (["entity_id", "fingerprint", "n_lines", "debit_cents", "duplicate_text"]
            + (["effective_date"] if same_effective_date else []))


def with_duplicate_text(journals: pl.DataFrame) -> pl.DataFrame:
    """``duplicate_text``: 0 for a manual entry; for a system one, the header description's hash, with the
    source document's reference (``document_reference``) where the ledger carries one.

    A person re-keying an entry may word it anew, so manual entries are compared by their lines alone. An
    interface posting the same file twice repeats its headers and references too, while a billing run's
    identical invoices to different customers differ in theirs (the invoice number): those are not duplicates.
    """
    header = pl.col("header_hash").fill_null(0)
    reference = pl.col("reference_hash")
    system = pl.when(reference.is_null()).then(header).otherwise(pl.struct(header, reference).hash(seed=17))
    text = pl.when(pl.col("manual").fill_null(True)).then(0).otherwise(system)
    return journals.with_columns(duplicate_text=text.cast(pl.UInt64))


def duplicate_groups(same_effective_date: bool) -> BatchComputation:
    """Entries with the same lines (accounts and amounts) and, by default, the same effective date; system
    entries also with the same header description (``with_duplicate_text``).

    The fingerprint is the wrapping sum of 48-bit hashes of (account, amount) over an entry's lines: equal
    for equal multisets of lines in any order. The first entry of a group (earliest keyed, then lowest
    journal number) is the original. ``combine`` counts the keys first and orders only the repeated ones.
    """
    keys = duplicate_keys(same_effective_date)
    order = ["entry_date", "entry_time", "journal_id"]

    def mapper(journals: pl.DataFrame) -> pl.DataFrame:
        return with_duplicate_text(journals).select(*keys, *order)

    def combine(candidates: pl.DataFrame) -> pl.DataFrame:
        # Entries whose keys' hash repeats: a superset of the repeated keys (a hash collision only adds a
        # candidate, which the exact grouping below drops), found without grouping millions of entries.
        candidates = candidates.filter(pl.struct(keys).hash(seed=11).is_duplicated())
        repeated = candidates.group_by(keys).agg(entries=pl.len().cast(pl.Int64)).filter(pl.col("entries") > 1)
        members = candidates.join(repeated, on=keys, how="inner", nulls_equal=True)
        return (members.sort([*keys, *order], nulls_last=True)
                .group_by(keys, maintain_order=True)
                .agg(pl.col("entries").first(), pl.col("journal_id").first().alias("original"),
                     pl.col("entry_date").first(), pl.col("entry_time").first()))

    columns = [k for k in keys if k != "duplicate_text"]
    return BatchComputation("je_duplicate_groups", map=mapper, combine=combine, sort_by=tuple(keys),
                            columns=(*columns, "manual", "header_hash", "reference_hash", *order))


def sequence_numbers() -> BatchComputation:
    """Journal numbers per entity, fiscal year and prefix; ``combine`` finds the holes in each sequence.

    A number is the trailing digits of the journal id (what precedes them is the prefix: SAP and most ERPs
    number each range separately). Returns every entry preceded by a hole, with the size of the hole.
    """

    def mapper(journals: pl.DataFrame) -> pl.DataFrame:
        # One pass of one pattern: the prefix, and up to 18 trailing digits (a journal id without trailing
        # digits has no number, and is left out of every sequence).
        parts = pl.col("journal_id").str.extract_groups(r"(?s)^(.*?)(\d{1,18})$")
        return journals.lazy().select(
            "entity_id", "journal_id", pl.col("fiscal_year").fill_null(-1).alias("sequence_year"),
            parts.struct[0].alias("prefix"), parts.struct[1].cast(pl.Int64).alias("number"), "entry_date",
        ).collect(engine="streaming")

    def combine(numbers: pl.DataFrame) -> pl.DataFrame:
        numbers = _sequence_owners(numbers.filter(pl.col("number").is_not_null()))
        if not numbers.height:
            return _gaps_by_sort(numbers)
        found = _gaps_by_presence(numbers)
        return found if found is not None else _gaps_by_integers(numbers)

    return BatchComputation("je_sequence_gaps", map=mapper, combine=combine, sort_by=("entity_id", "journal_id"),
                            columns=("entity_id", "journal_id", "fiscal_year", "entry_date"))


_SEQUENCE_KEYS = ["sequence_entity", "sequence_year", "prefix"]
# Of the numbers of one prefix and year that several entities use, at most this share repeated across them: the
# entities draw on one number range (NetSuite numbers each transaction type once for all subsidiaries), not each
# on its own (two companies both numbering from 100001 repeat nearly every number).
SHARED_SEQUENCE_MAX_REPEATS = 0.02
SHARED_SEQUENCE_SAMPLE = 50_000


def _sequence_owners(numbers: pl.DataFrame) -> pl.DataFrame:
    """``sequence_entity``: the entity whose sequence a number belongs to, or "*" where several entities share
    the prefix's numbers of the year (``SHARED_SEQUENCE_MAX_REPEATS``): there a number another entity took is
    no hole in this one's."""
    owner = pl.col("entity_id").alias("sequence_entity")
    if numbers.is_empty():
        return numbers.with_columns(owner)
    keys = ["sequence_year", "prefix"]
    # Read from the numbers divisible by a stride that keeps some 50,000 of them: the share of repeats is the
    # same, at a fraction of the cost, and the sample depends on the numbers only, not on their order.
    stride = max(1, numbers.height // SHARED_SEQUENCE_SAMPLE)
    sample = numbers.filter(pl.col("number") % stride == 0) if stride > 1 else numbers
    shared = (sample.group_by(keys).agg(entities=pl.col("entity_id").n_unique(), count=pl.len(),
                                        distinct=pl.col("number").n_unique())
              .filter((pl.col("entities") > 1)
                      & (pl.col("count") - pl.col("distinct") <= SHARED_SEQUENCE_MAX_REPEATS * pl.col("count")))
              .select(*keys, _shared=pl.lit(True)))
    if shared.is_empty():
        return numbers.with_columns(owner)
    return (numbers.join(shared, on=keys, how="left", nulls_equal=True, maintain_order="left")
            .with_columns(pl.when(pl.col("_shared")).then(pl.lit("*")).otherwise(pl.col("entity_id"))
                          .alias("sequence_entity"))
            .drop("_shared"))



def _starts_afresh(first: pl.Expr) -> pl.Expr:
    """A sequence begins the year afresh when its first number opens a range (1, 100001, 2500000001): the
    year has a number range of its own, from which no other year's entries take numbers. A range that runs
    on across the years begins the year wherever the last one ended."""
    return (first <= 1) | ((first - 1) % 1000 == 0)

def _gaps(ordered: pl.DataFrame) -> pl.DataFrame:
    """Entries preceded by a hole, from (entity, journal, _sequence, number) sorted by sequence and number."""
    same = pl.col("_sequence") == pl.col("_sequence").shift()
    return (ordered.with_columns(previous=pl.when(same).then(pl.col("number").shift()),
                                 previous_journal=pl.when(same).then(pl.col("journal_id").shift()),
                                 previous_entry_date=pl.when(same).then(pl.col("entry_date").shift()),
                                 starts_afresh=_starts_afresh(pl.col("number").first().over("_sequence")))
            .with_columns(missing=pl.col("number") - pl.col("previous") - 1)
            .filter(pl.col("missing") > 0)
            .select("entity_id", "journal_id", "previous_journal", "missing", "entry_date", "previous_entry_date",
                    "starts_afresh"))


def _gaps_by_sort(numbers: pl.DataFrame) -> pl.DataFrame:
    """The plain way: code the sequences, sort by sequence, number and (for equal numbers) journal id."""
    sequences = numbers.select(_SEQUENCE_KEYS).unique().with_row_index("_sequence")
    coded = numbers.join(sequences, on=_SEQUENCE_KEYS, how="left", nulls_equal=True)
    return _gaps(coded.sort("_sequence", "number", "journal_id"))


# Marking numbers costs eight bytes per number between each sequence's first and last: done while the spans add
# up to at most this many numbers per entry (numbering is dense by design), else the holes come from a sort.
PRESENCE_SPAN_PER_ENTRY = 8


def _gaps_by_presence(numbers: pl.DataFrame) -> pl.DataFrame | None:
    """The same holes without sorting: every sequence's numbers are marked in one array (each sequence
    at its own offset, one slot per number of its span), and an entry is preceded by a hole when the slot
    before it is empty; the previous entry is the nearest marked slot below. Linear in entries plus spans.
    ``None`` (the sort decides) when numbers repeat within a sequence, the spans are sparse, or two
    sequences' keys share a hash."""
    import numpy as np

    hashed = numbers.with_columns(_hash=pl.struct(_SEQUENCE_KEYS).hash(seed=5))
    sequences = grouping.group_by(hashed, _SEQUENCE_KEYS, pl.col("_hash").first(), pl.col("number").min().alias("low"),
                                  pl.col("number").max().alias("high"))
    if sequences["_hash"].n_unique() != sequences.height:
        return None
    low = sequences["low"].to_numpy()
    spans = sequences["high"].to_numpy() - low + 1
    most = PRESENCE_SPAN_PER_ENTRY * numbers.height + 1_000_000
    # Each span is checked before they are added up: a few spans near 10^18 would overflow the sum.
    if int(spans.max()) > most or (total := int(spans.sum())) > most:
        return None
    offsets = np.cumsum(spans) - spans
    sequence = hashed["_hash"].replace_strict(sequences["_hash"], pl.Series(range(sequences.height)),
                                              return_dtype=pl.Int64).to_numpy()
    slot = offsets[sequence] + numbers["number"].to_numpy() - low[sequence]
    row_at = np.full(total, -1, dtype=np.int64)
    row_at[slot] = np.arange(numbers.height)
    marked = row_at >= 0
    if int(marked.sum()) != numbers.height:
        return None  # a number repeats within its sequence: only the journal id can order the copies
    begins = np.zeros(total, dtype=bool)
    begins[offsets] = True
    # Each sequence's first slot holds its lowest number, so the nearest marked slot below any later marked
    # slot lies within the same sequence.
    after_hole = np.flatnonzero(marked & ~begins & ~np.concatenate(([True], marked[:-1])))
    nearest_below = np.maximum.accumulate(np.where(marked, np.arange(total), -1))
    previous = nearest_below[after_hole - 1]
    first = low[np.searchsorted(offsets, after_hole, side="right") - 1]
    return _holes(numbers, pl.Series(row_at[after_hole]), pl.Series(row_at[previous]),
                  pl.Series(after_hole - previous - 1, dtype=pl.Int64), pl.Series(first))


def _gaps_by_integers(numbers: pl.DataFrame) -> pl.DataFrame:
    """The same holes from one integer sort: each sequence coded exactly (``grouping.packed_key``) and packed
    above the number's offset, so that sorting one column orders every sequence by number. Only the few
    entries after a hole, and those before them, are then looked up. Equal numbers within a sequence (which
    only the journal id can order) or codes too wide for 63 bits send it back to the plain sort."""
    sequence = grouping.packed_key(numbers, _SEQUENCE_KEYS)
    number = numbers["number"]
    low, high = int(number.min()), int(number.max())
    bits = max(1, (high - low).bit_length())
    if sequence is None or int(sequence.max()).bit_length() + bits > 63:
        return _gaps_by_sort(numbers)
    order = sequence * (2 ** bits) + (number - low).cast(pl.UInt64)
    rows = order.arg_sort()
    ordered = pl.DataFrame({"_order": order.gather(rows), "_sequence": sequence.gather(rows),
                            "number": number.gather(rows), "_row": rows})
    if ordered.select((pl.col("_order") == pl.col("_order").shift()).any()).item():
        return _gaps_by_sort(numbers)
    same = pl.col("_sequence") == pl.col("_sequence").shift()
    holes = (ordered.with_columns(missing=pl.when(same).then(pl.col("number") - pl.col("number").shift() - 1),
                                  _previous_row=pl.col("_row").shift())
             .filter(pl.col("missing") > 0))
    # Sorted by sequence, then number: each sequence's first row holds its first number.
    firsts = ordered.filter(~same.fill_null(False)).select("_sequence", _first="number")
    fresh = holes.select("_sequence").join(firsts, on="_sequence", how="left", maintain_order="left")
    return _holes(numbers, holes["_row"], holes["_previous_row"], holes["missing"], fresh["_first"])


def _holes(numbers: pl.DataFrame, rows: pl.Series, previous_rows: pl.Series, missing: pl.Series,
           first: pl.Series) -> pl.DataFrame:
    """The entries at ``rows`` of ``numbers``, each preceded by a hole of ``missing`` numbers after the entry
    at ``previous_rows``, in a sequence whose first number is ``first``."""
    return pl.DataFrame({
        "entity_id": numbers["entity_id"].gather(rows),
        "journal_id": numbers["journal_id"].gather(rows),
        "previous_journal": numbers["journal_id"].gather(previous_rows),
        "missing": missing,
        "entry_date": numbers["entry_date"].gather(rows),
        "previous_entry_date": numbers["entry_date"].gather(previous_rows),
        "starts_afresh": pl.select(_starts_afresh(pl.lit(first))).to_series(),
    })


SPLIT_KEYS = ("entity_id", "entered_by", "effective_date", "debit_account", "credit_account")


def _split_map(journals: pl.DataFrame) -> pl.DataFrame:
    return grouping.group_by(journals.filter(pl.col("manual") & pl.col("entered_by").is_not_null()), SPLIT_KEYS,
                             pl.col("journal_id"), pl.col("debit_cents"))


SAME_DAY_GROUPS = BatchComputation(
    "je_same_day_groups", map=_split_map,
    combine=lambda p: p.group_by(SPLIT_KEYS).agg(pl.col("journal_id").list.explode(keep_nulls=False),
                                                 pl.col("debit_cents").list.explode(keep_nulls=False)),
    sort_by=SPLIT_KEYS, columns=(*SPLIT_KEYS, "journal_id", "manual", "debit_cents"),
)
"""Manual entries grouped by user, day and account pair, with their journal ids and amounts (small lists)."""

ENDING_KEYS = ("entity_id", "entered_by", "debit_account", "credit_account", "ending_cents")


# Of one user's manual entries with cents to one account pair, more than this many make a few alike endings of
# four digits (1 in 10,000) a matter of chance: their endings are compared on the whole-amount modulus alone.
RECURRING_CENTS_MAX_ENTRIES = 200


def amount_ending(modulus_cents: int, cents_modulus_cents: int) -> pl.Expr:
    """The digits an entry's amount ends in: an amount with cents by its last whole digits below
    ``cents_modulus_cents`` and its cents (12.75 in 3,612.75, 4,112.75 and 9,812.75), a whole amount by its
    last whole digits below ``modulus_cents`` (999.00 in 4,999.00 and 7,999.00)."""
    cents = pl.col("debit_cents")
    return pl.when(cents % 100 != 0).then(cents % cents_modulus_cents).otherwise(cents % modulus_cents)


def ending_groups(modulus_cents: int, cents_modulus_cents: int) -> BatchComputation:
    """Manual entries per user and account pair, by the digits their amounts end in (Nigrini's last digits;
    ``amount_ending``). A user's entries with cents to a pair that has more than ``RECURRING_CENTS_MAX_ENTRIES``
    of them are grouped on the whole-amount modulus instead: among that many, alike four-digit endings are
    chance."""

    def mapper(journals: pl.DataFrame) -> pl.DataFrame:
        cents = pl.col("debit_cents")
        manual = journals.filter(pl.col("manual") & pl.col("entered_by").is_not_null())
        # Amounts of at least the whole-amount modulus (1,000.00), with cents or without: smaller ones matter less
        # and end alike by chance more often.
        endings = (manual.filter(cents >= modulus_cents)
                   .with_columns(ending_cents=amount_ending(modulus_cents, cents_modulus_cents),
                                 wide_ending_cents=cents % modulus_cents))
        return grouping.group_by(endings.filter(pl.col("ending_cents") != 0), (*ENDING_KEYS, "wide_ending_cents"),
                                 pl.len().cast(pl.Int64).alias("entries"), cents.min().alias("min_cents"),
                                 cents.max().alias("max_cents"))

    def combine(partials: pl.DataFrame) -> pl.DataFrame:
        # One row per ending and whole-amount ending (the latter decides the former: 100.00 divides 1000.00),
        # carrying the count of the group the entry belongs to: its ending's, or on a busy pair its whole-amount
        # ending's.
        found = partials.group_by(*ENDING_KEYS, "wide_ending_cents").agg(
            pl.col("entries").sum(), pl.col("min_cents").min(), pl.col("max_cents").max())
        with_cents = pl.col("ending_cents") % 100 != 0
        busy = with_cents & (pl.col("entries").filter(with_cents).sum().over(ENDING_KEYS[:4])
                             > RECURRING_CENTS_MAX_ENTRIES)
        return found.with_columns(
            entries=pl.when(busy).then(pl.col("entries")).otherwise(pl.col("entries").sum().over(ENDING_KEYS)),
            min_cents=pl.when(busy).then(pl.col("min_cents")).otherwise(pl.col("min_cents").min().over(ENDING_KEYS)),
            max_cents=pl.when(busy).then(pl.col("max_cents")).otherwise(pl.col("max_cents").max().over(ENDING_KEYS)))

    return BatchComputation("je_ending_groups", map=mapper, combine=combine,
                            sort_by=(*ENDING_KEYS, "wide_ending_cents"), columns=(*ENDING_KEYS[:4], "manual", "debit_cents"))


# A pattern is one user's entries of one kind (their source: an invoice run and a manual journal to the same
# accounts are different entries, AS 2401 .58's standard and nonstandard) to one main debit and credit account.
PATTERN_KEYS = ("entity_id", "entered_by", "pattern_source", "debit_account", "credit_account")


def pattern_source() -> pl.Expr:
    """The entry's source, "" where the ledger has none: a ledger without sources still has patterns."""
    return pl.col("source").fill_null("").alias("pattern_source")


def pattern_month() -> pl.Expr:
    """The month of an entry's effective date, as one number (year x 12 + month)."""
    effective = pl.col("effective_date")
    return effective.dt.year().cast(pl.Int32) * 12 + effective.dt.month().cast(pl.Int32)


def standard_patterns(min_months: int, max_spread: float) -> BatchComputation:
    """The entity's standard entries (AS 2401 .58, ISA 240 A42): one user's entries from one source to one
    main debit and credit account, keyed in at least ``min_months`` different months, in steady amounts (the middle half of
    the months' largest amounts within a factor ``max_spread``), such as a monthly accrual, its reversal or a
    payroll funding transfer. Entries that merely share a user and accounts, in amounts all over the place
    (one person's manual postings of every kind to an accrual account), are not a pattern.

    Per pattern: the months it was keyed in, its largest amount and the month of it, the largest amount of
    any other month, so an entry can be compared with the pattern's other months (an accrual inflated once is
    no longer standard), and the lower quartile of the months' largest amounts (a small entry to the same
    accounts is not the pattern's either). Each partition gives the largest amount per pattern and month;
    ``combine`` takes the largest per month over all partitions, then ranks the months: exact however the
    entries were split.
    """
    def mapper(journals: pl.DataFrame) -> pl.DataFrame:
        journals = journals.with_columns(pattern_source())
        complete = pl.all_horizontal([pl.col(k).is_not_null() for k in (*PATTERN_KEYS, "effective_date")])
        return grouping.group_by(journals.filter(complete).with_columns(pattern_month=pattern_month()),
                                 (*PATTERN_KEYS, "pattern_month"), pl.col("debit_cents").max().alias("max_cents"))

    def combine(partials: pl.DataFrame) -> pl.DataFrame:
        monthly = partials.group_by(*PATTERN_KEYS, "pattern_month").agg(pl.col("max_cents").max())
        # The largest month first; of equal amounts the earliest month, so the answer is one on every engine.
        ranked = monthly.sort([*PATTERN_KEYS, "max_cents", "pattern_month"],
                              descending=[False] * len(PATTERN_KEYS) + [True, False])
        patterns = ranked.group_by(PATTERN_KEYS, maintain_order=True).agg(
            pattern_months=pl.len().cast(pl.Int32),
            pattern_top_month=pl.col("pattern_month").first(),
            pattern_top_cents=pl.col("max_cents").first(),
            pattern_other_cents=pl.col("max_cents").get(1, null_on_oob=True),
            pattern_low_cents=pl.col("max_cents").quantile(0.25, "lower"),
            _high=pl.col("max_cents").quantile(0.75, "higher"),
        )
        return (patterns.filter((pl.col("pattern_months") >= min_months) & (pl.col("pattern_low_cents") > 0)
                                & (pl.col("_high") <= pl.col("pattern_low_cents") * max_spread))
                .drop("_high"))

    return BatchComputation("je_standard_patterns", map=mapper, combine=combine, sort_by=PATTERN_KEYS,
                            columns=(*(k for k in PATTERN_KEYS if k != "pattern_source"), "source",
                                     "effective_date", "debit_cents"))


def together(computations: Mapping[str, BatchComputation], run: Callable[[BatchComputation], pl.DataFrame],
             *, local: pl.DataFrame | None = None) -> dict[str, pl.DataFrame]:
    """Several statistics in one pass: each partition computes every statistic's partial result.

    The partials travel as Arrow IPC bytes, one row per statistic and partition; each statistic's own
    ``combine`` then folds its partials, exactly as if it had run alone (``run`` picks the engine). With
    ``local`` (the whole population in memory, the local engine's single partition) each statistic simply
    maps and finishes on it, as ``auditray.engine`` would, without the round trip through bytes.
    """
    if local is not None:
        return {name: c.finish(c.map(local.select(c.columns) if c.columns else local))
                for name, c in computations.items()}

    def mapper(journals: pl.DataFrame) -> pl.DataFrame:
        return pack({name: c.map(journals.select(c.columns) if c.columns else journals)
                     for name, c in computations.items()})

    partials = unpack(run(BatchComputation("je_population_statistics", map=mapper)))
    return {name: computation.finish(partials[name]) for name, computation in computations.items()}


__all__ = [
    "ACCOUNT_PAIRS",
    "ENDING_KEYS",
    "GROUP_PAIR_KEYS",
    "PAIR_KEYS",
    "SAME_DAY_GROUPS",
    "SPLIT_KEYS",
    "USER_ACCOUNTS",
    "USER_ACTIVITY",
    "USER_KEYS",
    "account_group",
    "duplicate_groups",
    "duplicate_keys",
    "ending_groups",
    "group_pairs",
    "pattern_month",
    "sequence_numbers",
    "standard_patterns",
    "together",
    "with_duplicate_text",
]
