"""The population: ledger lines in, the account profile and the journal summary out, on either engine.

AS 2401 .61 and ISA 240 A43 test journal entries over the complete population. Two whole-population
passes feed every test:

- the **account profile** (one row per entity and account; every line of an account in one partition, so
  medians and distinct-journal counts are exact): usage, activity, the account's usual amount range;
- the **journal summary** (one row per journal entry; every line of an entry in one partition): totals,
  balance, header facts, the entry's main debit and credit accounts, a fingerprint of its lines, and the
  line-level signals (round line, suspense, sensitive or seldom-used account, the line furthest from its
  account's usual range), each kept as the entry's strongest line.

Both are ``LazyComputation``s: one polars function over a ``LazyFrame``, run by ``auditray.engine`` on Ray
(``map`` per partition, ``combine`` of the partials) or, locally, straight over a Parquet scan with the
streaming engine, so the whole ledger never has to sit in memory. Row order within a partition never
matters: every aggregate is order-free (min, max, sum, any), so both engines give identical frames.

Money stays exact: amounts become integer cents (``money_to_cents``) for arithmetic, and back to
``Decimal(18, 2)`` for outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from auditray.contract import GL_DETAIL
from auditray.contract.money import money_to_cents
from auditray.engine import (
    BatchComputation,
    ClusterBlocks,
    EngineName,
    Source,
    _parquet_paths,
    key_disjoint_groups,
    pack,
    resolve_engine,
    run_kept,
    unpack,
)
from auditray.engine import run as engine_run

if TYPE_CHECKING:
    from auditray.settings import Settings

# The canonical fields the battery reads; everything else in the ledger is left on disk.
LINE_FIELDS: tuple[str, ...] = (
    "entity_id", "journal_id", "line_number", "fiscal_year", "period", "effective_date", "entry_date",
    "entry_time", "gl_account_number", "amount", "je_header_description", "je_line_description", "source",
    "document_type", "manual_entry", "entered_by", "approved_by", "document_reference",
)
OPTIONAL_FIELDS: tuple[str, ...] = tuple(f for f in LINE_FIELDS if f not in GL_DETAIL.required)
# Fields the account profile alone reads (once), never the passes over every line that follow.
PROFILE_FIELDS: tuple[str, ...] = ("gl_account_name",)
_GL_SCHEMA = pl.Schema(pl.from_arrow(GL_DETAIL.schema.empty_table()).schema)
KEYS = ["entity_id", "journal_id"]
ACCOUNT_KEYS = ["entity_id", "gl_account_number"]
# 48 bits of a line's hash, so that the sum over an entry's lines cannot wrap below 65,536 lines.
_FINGERPRINT_SHIFT = 16
_HEADER_SEED = 61


@dataclass(frozen=True)
class LineRules:
    """The settings the line-level preparation needs, small enough to ship to every Ray worker.

    ``infer_manual`` is set when the ledger's Manual_Entry flag is missing on some lines; ``line_text``
    when it carries line descriptions at all (reading ten million unused strings costs seconds);
    ``account_names`` when its lines carry the account's name (``gl_account_name``); ``reference`` when they
    carry the source document's number (``document_reference``).
    """

    system_user_regex: str
    manual_sources: tuple[str, ...]
    system_sources: tuple[str, ...]
    keywords: tuple[str, ...]
    round_unit_cents: int
    infer_manual: bool = True
    line_text: bool = True
    header_text: bool = True
    account_names: bool = False
    reference: bool = False


def conform(lines: pl.LazyFrame, rules: LineRules | None = None, *, profile: bool = False) -> pl.LazyFrame:
    """The battery's fields in canonical types; absent optional fields become typed nulls.

    With ``rules``, description columns the ledger lacks altogether are not read at all. With ``profile``,
    the fields only the account profile reads (``PROFILE_FIELDS``) are kept too, where the ledger has them.
    """
    names = set(lines.collect_schema().names())
    if rules is not None:
        if not rules.line_text:
            names.discard("je_line_description")
        if not rules.header_text:
            names.discard("je_header_description")
        if not rules.reference:
            names.discard("document_reference")
    absent = [f for f in GL_DETAIL.required if f not in names]
    if absent:
        raise ValueError(f"the ledger lacks required gl_detail fields: {', '.join(absent)}")
    kept = [f for f in PROFILE_FIELDS if f in names] if profile else []
    return lines.select(
        *(pl.col(f).cast(_GL_SCHEMA[f]) if f in names else pl.lit(None, dtype=_GL_SCHEMA[f]).alias(f)
          for f in LINE_FIELDS),
        *(pl.col(f).cast(_GL_SCHEMA[f]) for f in kept),
    )


def prepare_lines(lines: pl.LazyFrame, rules: LineRules) -> pl.LazyFrame:
    """Row-wise facts every pass shares: exact cents, who keyed the line, whether it says anything.

    ``_manual`` is the ledger's Manual_Entry flag; where the ledger has none, a line is a system posting when
    its user looks like an interface or batch job (``system_user_patterns``: a job posting a general journal
    document is still a job), else a person's when its source or document type says so (``manual_source_values``),
    else a system posting when they are a sub-ledger's or an interface's (``system_source_values``). With
    neither, the cautious reading is "manual".
    """
    derived = {"_cents": money_to_cents(pl.col("amount"))}
    if rules.infer_manual:
        user = pl.col("entered_by").str.to_lowercase()
        source = pl.col("source").str.to_lowercase().str.strip_chars()
        document = pl.col("document_type").str.to_lowercase().str.strip_chars()

        def either(values: tuple[str, ...]) -> pl.Expr:
            return (source.is_in(list(values)) | document.is_in(list(values))).fill_null(False)

        inferred = (pl.when(user.str.contains(rules.system_user_regex).fill_null(False)).then(False)
                    .when(either(rules.manual_sources)).then(True)
                    .when(either(rules.system_sources)).then(False)
                    .otherwise(True))
        derived["_manual"] = pl.coalesce(pl.col("manual_entry"), inferred)
    else:
        derived["_manual"] = pl.col("manual_entry")
    if rules.line_text:
        line = pl.col("je_line_description")
        derived["_line_text"] = line.str.len_bytes().fill_null(0) > 0
        derived["_line_keyword_hit"] = line.str.contains_any(list(rules.keywords), ascii_case_insensitive=True)
    else:
        derived["_line_text"] = pl.lit(False)
        derived["_line_keyword_hit"] = pl.lit(False)
    return lines.with_columns(**derived)


# --- Running a lazy computation on either engine -------------------------------------------------------


@dataclass(frozen=True)
class LazyComputation:
    """A ``BatchComputation`` written once over a LazyFrame.

    ``run`` with the local engine evaluates ``core`` straight over a Parquet scan (or a frame) with
    polars' streaming engine; with Ray it hands the same function to ``auditray.engine.run``.
    """

    name: str
    core: Callable[[pl.LazyFrame], pl.LazyFrame]
    combine: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    partition_by: tuple[str, ...] = ()
    sort_by: tuple[str, ...] = ()
    # Reads the fields only the account profile reads (``PROFILE_FIELDS``) too.
    profile: bool = False

    def batch(self, columns: tuple[str, ...] | None = None) -> BatchComputation:
        core = self.core
        return BatchComputation(name=self.name, map=lambda frame: core(frame.lazy()).collect(),
                                combine=self.combine, partition_by=self.partition_by, sort_by=self.sort_by,
                                columns=columns)

    def run(self, source: Source, *, engine: EngineName = "local", settings: Settings | None = None,
            partitions: int | None = None, buckets: int = 1, ordered: bool = True,
            each: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> pl.DataFrame:
        """Run on ``engine``. Locally, ``buckets`` > 1 splits a partitioned computation by a hash of its
        partition keys and runs the buckets one after another (each key wholly in one bucket, as in a Ray
        partition), so that memory holds one bucket's groups at a time. ``ordered=False`` skips the final
        sort (a full copy of the result) for callers whose use of the result does not depend on row order.
        ``each``, a row-wise step, is applied to every bucket's rows before they are put together (and to the
        whole result otherwise): the same answer, with one bucket's intermediate columns in memory at a time."""
        step = each or (lambda frame: frame)
        chosen = resolve_engine(engine, None, settings) if engine == "auto" else engine
        if chosen != "local":
            batch = self._ray_batch(source)
            if self.combine is None and (each is not None or not ordered):
                # Each partition's rows are final: the row-wise step runs on the workers, and the driver
                # neither sorts nor copies the whole result again.
                batch = replace(batch, map=lambda frame, inner=batch.map: step(inner(frame)),
                                sort_by=batch.sort_by if ordered else ())
                return engine_run(batch, source, engine="ray", settings=settings, partitions=partitions)
            return step(engine_run(batch, source, engine="ray", settings=settings, partitions=partitions))
        if buckets <= 1 or not self.partition_by or self.combine is not None:
            result = self.batch().finish(self.core(scan(source)).collect(engine="streaming"))
            return step(result)
        rows = source_row_count(source) or 0
        groups = key_disjoint_groups(source, self.partition_by, max(1, math.ceil(rows / buckets)))
        if groups is not None:
            # Files that hold disjoint key ranges are buckets already: each line is read once.
            parts = pl.concat([step(self.core(pl.scan_parquet(group)).collect(engine="streaming"))
                               for group in groups], rechunk=False)
        else:
            bucket = pl.struct(list(self.partition_by)).hash(seed=3) % buckets
            parts = pl.concat([step(self.core(scan(source).filter(bucket == b)).collect(engine="streaming"))
                               for b in range(buckets)], rechunk=False)
        return parts if not ordered else parts.sort(list(self.sort_by)) if self.sort_by else parts

    def run_kept(self, source: Source, *, settings: Settings | None = None, partitions: int | None = None,
                 each: Callable[[pl.DataFrame], pl.DataFrame] | None = None
                 ) -> tuple[pl.DataFrame, ClusterBlocks]:
        """On Ray, the unsorted result (``each`` applied on the workers) in memory and kept in the object store,
        for later computations over it (``auditray.engine.run_kept``). Only for a computation without
        ``combine``: its partitions' rows are final."""
        step = each or (lambda frame: frame)
        batch = self._ray_batch(source)
        batch = replace(batch, map=lambda frame, inner=batch.map: step(inner(frame)), sort_by=())
        return run_kept(batch, source, settings=settings, partitions=partitions)

    def _ray_batch(self, source: Source) -> BatchComputation:
        # Ray reads only the ledger fields the battery uses (``conform`` types them and fills the absent).
        names = set(scan(source).collect_schema().names())
        return self.batch(tuple(f for f in (*LINE_FIELDS, *(PROFILE_FIELDS if self.profile else ())) if f in names))


def scan(source: Source) -> pl.LazyFrame:
    """A lazy view of Parquet files, a directory of them, or a frame in memory."""
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    if isinstance(source, pl.LazyFrame):
        return source
    import pyarrow as pa

    if isinstance(source, pa.Table):
        return pl.from_arrow(source).lazy()
    return pl.scan_parquet(_parquet_paths(source))


def source_row_count(source: Source) -> int | None:
    if isinstance(source, pl.DataFrame):
        return source.height
    if isinstance(source, (str, Path, list, tuple)):
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in _parquet_paths(source))
    return None


# --- The account profile -----------------------------------------------------------------------------

# Amounts are binned by log10 |amount| in steps of 0.01 (2.3 % of the amount): the account's median and
# spread come from exact counts per bin, which add up across partitions, so both engines agree exactly.
AMOUNT_BINS_PER_DECADE = 100
# Accounts with at most this many lines get an exact count of distinct journals (the seldom-used candidates);
# busier accounts are counted by their lines.
JOURNAL_COUNT_MAX_LINES = 1000
_PROFILE_SUMS = ("lines", "manual_lines", "activity_cents", "debit_cents", "credit_cents")


def _amount_bin() -> pl.Expr:
    cents = pl.col("_cents").abs()
    return pl.when(cents > 0).then((cents.cast(pl.Float64).log10() * AMOUNT_BINS_PER_DECADE).floor()
                                   .cast(pl.Int32))


def account_bins_core(rules: LineRules) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """Per entity, account and amount bin: lines, exact activity, manual lines, first and last dates."""

    def core(lines: pl.LazyFrame) -> pl.LazyFrame:
        prepared = prepare_lines(conform(lines, rules), rules).with_columns(_bin=_amount_bin())
        cents = pl.col("_cents")
        return prepared.group_by([*ACCOUNT_KEYS, "_bin"]).agg(
            lines=pl.len().cast(pl.Int64),
            manual_lines=pl.col("_manual").sum().cast(pl.Int64),
            activity_cents=cents.sum(),
            debit_cents=cents.clip(lower_bound=0).sum(),
            credit_cents=cents.clip(upper_bound=0).sum(),
            first_effective=pl.col("effective_date").min(),
            last_effective=pl.col("effective_date").max(),
        )

    return core


def _combine_bins(partials: pl.DataFrame) -> pl.DataFrame:
    return partials.group_by([*ACCOUNT_KEYS, "_bin"]).agg(
        *[pl.col(c).sum() for c in _PROFILE_SUMS], pl.col("first_effective").min(), pl.col("last_effective").max())


def account_bins(rules: LineRules) -> LazyComputation:
    """Counts per amount bin add up across any partitioning: no shuffle on Ray."""
    return LazyComputation("je_account_bins", account_bins_core(rules), combine=_combine_bins,
                           sort_by=(*ACCOUNT_KEYS, "_bin"))


def account_journals(rules: LineRules, candidates: pl.DataFrame | None = None) -> LazyComputation:
    """Distinct journals of the accounts with few lines (the seldom-used candidates).

    With ``candidates`` (the accounts with at most ``JOURNAL_COUNT_MAX_LINES`` lines, from the amount bins),
    each partition lists its distinct (account, journal) pairs of those. Without, in the same pass as the
    bins, each partition lists the pairs of the accounts with that few lines in the partition: every account
    with that few lines in the whole ledger is among them, and the caller keeps those. ``combine`` counts the
    distinct pairs over all partitions: exact however the lines were split.
    """

    def core(lines: pl.LazyFrame) -> pl.LazyFrame:
        pairs = conform(lines, rules)
        if candidates is not None:
            pairs = pairs.join(candidates.select(ACCOUNT_KEYS).lazy(), on=ACCOUNT_KEYS, how="semi")
        else:
            pairs = pairs.filter(pl.len().over(ACCOUNT_KEYS) <= JOURNAL_COUNT_MAX_LINES)
        return pairs.select(*ACCOUNT_KEYS, "journal_id").unique()

    def combine(partials: pl.DataFrame) -> pl.DataFrame:
        return partials.unique().group_by(ACCOUNT_KEYS).agg(journals=pl.len().cast(pl.Int64))

    return LazyComputation("je_account_journals", core, combine=combine, sort_by=tuple(ACCOUNT_KEYS))


def _commonest_text(name: str, text: str, lines: Callable[[pl.LazyFrame], pl.LazyFrame], *, as_text: str,
                    as_lines: str | None = None) -> LazyComputation:
    """Each account's commonest ``text`` (ties to the lexically least) as ``as_text``, and with ``as_lines``
    the lines that carry it, from the lines ``lines`` keeps: each partition counts (account, text),
    ``combine`` adds the counts up."""

    def core(frame: pl.LazyFrame) -> pl.LazyFrame:
        return lines(frame).group_by([*ACCOUNT_KEYS, text]).agg(n=pl.len().cast(pl.Int64))

    def combine(partials: pl.DataFrame) -> pl.DataFrame:
        counts = partials.group_by([*ACCOUNT_KEYS, text]).agg(pl.col("n").sum())
        return (counts.sort(["n", text], descending=[True, False])
                .group_by(ACCOUNT_KEYS).agg(pl.col(text).first().alias(as_text),
                                            *([pl.col("n").first().alias(as_lines)] if as_lines else [])))

    return LazyComputation(name, core, combine=combine, sort_by=tuple(ACCOUNT_KEYS))


def account_descriptions(rules: LineRules) -> LazyComputation:
    """Each account's commonest line description and its lines: the account's name when there is no chart."""
    return _commonest_text("je_account_descriptions", "je_line_description",
                           lambda lines: prepare_lines(conform(lines, rules), rules).filter(pl.col("_line_text")),
                           as_text="described_as", as_lines="described_lines")


def account_names(rules: LineRules) -> LazyComputation:
    """Each account's name as the lines carry it (``gl_account_name``; the commonest, should an export vary
    it)."""

    def named(lines: pl.LazyFrame) -> pl.LazyFrame:
        return (lines.select(*(pl.col(k).cast(pl.String) for k in ACCOUNT_KEYS),
                             pl.col("gl_account_name").cast(pl.String).str.strip_chars())
                .filter(pl.col("gl_account_name").str.len_bytes() > 0))

    return replace(_commonest_text("je_account_names", "gl_account_name", named, as_text="line_name"), profile=True)


def account_profile(rules: LineRules, run: Callable[[LazyComputation], pl.DataFrame], *, one_pass: bool = False
                    ) -> pl.DataFrame:
    """The account profile from map + combine passes over the lines (``run`` picks the engine): amounts by
    bin, distinct journals of the small accounts, the commonest description, the name the lines carry.

    ``one_pass`` computes them all in one pass (``together``), for an engine on which each pass has a fixed
    cost (a Ray job: seconds). Otherwise the small accounts' journals are listed after the bins have named
    them, which reads fewer lines than listing every partition's small accounts.
    """
    passes = {"bins": account_bins(rules)}
    if one_pass:
        passes["journals"] = account_journals(rules)
    if rules.line_text:
        passes["described"] = account_descriptions(rules)
    if rules.account_names:
        passes["named"] = account_names(rules)
    found = unpack(run(together("je_account_profile", passes))) if one_pass else {k: run(c) for k, c in passes.items()}
    binned = found["bins"]
    small = (binned.group_by(ACCOUNT_KEYS).agg(pl.col("lines").sum())
             .filter(pl.col("lines") <= JOURNAL_COUNT_MAX_LINES).select(ACCOUNT_KEYS))
    schema = {"entity_id": pl.String, "gl_account_number": pl.String}
    if one_pass:
        journals = found["journals"].join(small, on=ACCOUNT_KEYS, how="semi")
    else:
        journals = run(account_journals(rules, small)) if small.height else \
            pl.DataFrame(schema={**schema, "journals": pl.Int64})
    described = found.get("described", pl.DataFrame(schema={**schema, "described_as": pl.String,
                                                               "described_lines": pl.Int64}))
    named = found.get("named", pl.DataFrame(schema={**schema, "line_name": pl.String}))
    # The commonest description's share of all the account's lines, text-less ones included: three lines
    # described by hand among five thousand text-less billing lines do not name the account.
    return (collapse_account_profile(binned).join(journals, on=ACCOUNT_KEYS, how="left")
            .join(described, on=ACCOUNT_KEYS, how="left").join(named, on=ACCOUNT_KEYS, how="left")
            .with_columns(described_share=pl.col("described_lines") / pl.col("lines"))
            .drop("described_lines").sort(ACCOUNT_KEYS))


def together(name: str, computations: dict[str, LazyComputation]) -> LazyComputation:
    """Several map + combine computations over the lines as one pass: each partition computes every one's
    partial result (polars plans them over one read of the lines), and each one's ``combine`` folds its own,
    exactly as if it had run alone. The result holds each finished result as Arrow IPC bytes
    (``auditray.engine.pack``; ``unpack`` reads them back)."""

    def core(lines: pl.LazyFrame) -> pl.LazyFrame:
        partials = pl.collect_all([c.core(lines) for c in computations.values()], engine="streaming")
        return pack(dict(zip(computations, partials, strict=True))).lazy()

    def combine(packed: pl.DataFrame) -> pl.DataFrame:
        parts = unpack(packed)
        return pack({k: c.batch().finish(parts[k]) for k, c in computations.items()})

    return LazyComputation(name, core, combine=combine, profile=any(c.profile for c in computations.values()))


def collapse_account_profile(binned: pl.DataFrame) -> pl.DataFrame:
    """One row per account: totals, and the median and MAD of log10 |amount| read from the bin counts."""
    per_account = binned.group_by(ACCOUNT_KEYS).agg(
        *[pl.col(c).sum() for c in _PROFILE_SUMS], pl.col("first_effective").min(), pl.col("last_effective").max())
    amounts = binned.filter(pl.col("_bin").is_not_null()).select(
        *ACCOUNT_KEYS, "lines", centre=(pl.col("_bin").cast(pl.Float64) + 0.5) / AMOUNT_BINS_PER_DECADE)
    median = _weighted_median(amounts, "centre").rename({"centre": "median_log_amount"})
    spread = (amounts.join(median, on=ACCOUNT_KEYS)
              .with_columns(deviation=(pl.col("centre") - pl.col("median_log_amount")).abs()))
    mad = _weighted_median(spread.select(*ACCOUNT_KEYS, "lines", "deviation"), "deviation")
    return (per_account.join(median, on=ACCOUNT_KEYS, how="left")
            .join(mad.rename({"deviation": "mad_log_amount"}), on=ACCOUNT_KEYS, how="left")
            .with_columns(median_abs_cents=pl.lit(10.0).pow(pl.col("median_log_amount")))
            .sort(ACCOUNT_KEYS))


def _weighted_median(frame: pl.DataFrame, value: str) -> pl.DataFrame:
    """The lower weighted median of ``value`` per account, weights ``lines``."""
    return (frame.sort([*ACCOUNT_KEYS, value])
            .with_columns(_cum=pl.col("lines").cum_sum().over(ACCOUNT_KEYS),
                          _half=pl.col("lines").sum().over(ACCOUNT_KEYS) / 2)
            .filter(pl.col("_cum") >= pl.col("_half"))
            .group_by(ACCOUNT_KEYS).agg(pl.col(value).first()))


# An account whose amounts hardly vary (a fixed monthly charge) would otherwise make a line three times its
# usual size look like a ten-sigma event: spreads count as at least half a decade (a factor of about 3).
MIN_AMOUNT_SCALE = 0.5


def amount_scale() -> pl.Expr:
    """The spread of an account's log10 amounts: MAD x 1.4826, never below ``MIN_AMOUNT_SCALE`` decades."""
    return pl.max_horizontal(pl.col("mad_log_amount").fill_null(0.0) * 1.4826, pl.lit(MIN_AMOUNT_SCALE))


def code_bits(accounts: pl.DataFrame) -> int:
    """Bits that hold every account code of an entity (codes are dense per entity)."""
    top = int(accounts["account_code"].max() or 0) if accounts.height else 0
    return max(1, top.bit_length())


def journal_summary_core(rules: LineRules, accounts: pl.DataFrame) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """One row per journal entry, from all of its lines.

    ``accounts`` (broadcast to every partition) gives each account a dense integer code, its usual amount
    (median and MAD of log10 |amount|), its usage and its classes (``is_sensitive``, ``is_suspense``). A
    line's distance from its account's usual amount is the robust z of log10 |amount| (MAD x 1.4826, with
    the floor ``MIN_AMOUNT_SCALE``). "Which account" questions (the entry's largest debit, the line furthest
    from its usual range) are answered by the maximum of a packed integer (value in the high bits, account
    code in the low ones): one pass, no sorting, and the same answer in any row order.
    """
    bits = code_bits(accounts)
    limit = 2 ** (62 - bits)
    shift = 2 ** bits
    table = accounts.select(
        *ACCOUNT_KEYS, "account_code", "median_log_amount", "is_sensitive", "is_suspense",
        # An account in regular use ranks after every other as an entry's rarest: the seldom-used test then
        # looks at the entry's rarest account of those not in regular use.
        _scale=amount_scale(),
        _usage=pl.col("usage").clip(0, 2 ** 20) + pl.when(pl.col("regular_use")).then(2 ** 20 + 1).otherwise(0),
    )

    def packed(value: pl.Expr) -> pl.Expr:
        return value.clip(-limit + 1, limit - 1).cast(pl.Int64) * shift + pl.col("account_code")

    by_account = account_lookup(table)

    def core(lines: pl.LazyFrame) -> pl.LazyFrame:
        prepared = by_account(prepare_lines(conform(lines, rules), rules))
        cents = pl.col("_cents")
        z = (cents.abs().cast(pl.Float64).log10() - pl.col("median_log_amount")) / pl.col("_scale")
        header = pl.col("je_header_description")
        keyword_hit = (header.str.contains_any(list(rules.keywords), ascii_case_insensitive=True)
                       if rules.header_text else pl.lit(False))
        # Line-level values first (vectorised, streamable), so the grouping only sums, mins and maxes columns.
        lines_out = prepared.with_columns(
            _debit=cents.clip(lower_bound=0),
            _credit=cents.clip(upper_bound=0),
            _debit_key=packed(cents),
            _credit_key=packed(-cents),
            _fingerprint=pl.struct(pl.col("gl_account_number"), cents).hash(7) // 2 ** _FINGERPRINT_SHIFT,
            _z_key=packed(pl.when(cents != 0).then((z * 1000).round())),
            _round=pl.when((cents != 0) & (cents % rules.round_unit_cents == 0)).then(cents.abs()),
            _sensitive=pl.when(pl.col("is_sensitive")).then(pl.col("account_code")),
            _suspense=pl.when(pl.col("is_suspense")).then(pl.col("account_code")),
            _rarest=pl.col("_usage") * shift + pl.col("account_code"),
            _text=(header.str.len_bytes().fill_null(0) > 0) | pl.col("_line_text"),
            _keyword=pl.when(keyword_hit).then(header).when(pl.col("_line_keyword_hit"))
            .then(pl.col("je_line_description")),
            _header_hash=header.hash(_HEADER_SEED) if rules.header_text else pl.lit(None, dtype=pl.UInt64),
            _reference_hash=(pl.col("document_reference").hash(_HEADER_SEED) if rules.reference
                             else pl.lit(None, dtype=pl.UInt64)),
        )
        return lines_out.group_by(KEYS).agg(
            n_lines=pl.len().cast(pl.Int32),
            debit_cents=pl.col("_debit").sum(),
            credit_cents=pl.col("_credit").sum(),
            balance_cents=cents.sum(),
            fiscal_year=pl.col("fiscal_year").min(),
            period=pl.col("period").min(),
            effective_date=pl.col("effective_date").min(),
            entry_date=pl.col("entry_date").min(),
            entry_time=pl.col("entry_time").min(),
            # The header's text fields through a categorical: its minimum is the text's (lexical) minimum,
            # the same on every engine, at a fraction of the cost of comparing strings line by line.
            entered_by=_lexical_min("entered_by"),
            approved_by=_lexical_min("approved_by"),
            source=_lexical_min("source"),
            manual=pl.col("_manual").any(),
            has_text=pl.col("_text").any(),
            keyword_text=pl.col("_keyword").min(),
            debit_key=pl.col("_debit_key").max(),
            credit_key=pl.col("_credit_key").max(),
            fingerprint=pl.col("_fingerprint").sum(),
            z_key=pl.col("_z_key").max(),
            round_cents=pl.col("_round").max(),
            sensitive_code=pl.col("_sensitive").min(),
            suspense_code=pl.col("_suspense").min(),
            rarest_key=pl.col("_rarest").min(),
            header_hash=pl.col("_header_hash").min(),
            reference_hash=pl.col("_reference_hash").min(),
        )

    return core


_ACCOUNT_SEED = 52_711


def account_key() -> pl.Expr:
    return pl.struct(ACCOUNT_KEYS).hash(_ACCOUNT_SEED)


def account_lookup(table: pl.DataFrame, key: Callable[[], pl.Expr] = account_key
                   ) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """Set each line's account columns from ``table`` (one row per entity and account, holding every account
    of the ledger: the profile was counted over the same lines), as a left join on the account keys would.

    A line finds its account's row by a 64-bit hash of the keys and a gather: a fraction of the cost of
    joining millions of lines on two text columns, and the lines keep their order. Exact, because every
    line's account is in the table: if two of the table's accounts share a hash, the join is used instead.
    """
    values = [c for c in table.columns if c not in ACCOUNT_KEYS]
    hashes = table.select(key()).to_series()
    if hashes.n_unique() != table.height:
        return lambda lines: lines.join(table.lazy(), on=ACCOUNT_KEYS, how="left")
    row = pl.when(pl.all_horizontal(pl.col(k).is_not_null() for k in ACCOUNT_KEYS)).then(key()).replace_strict(
        hashes, pl.Series(range(table.height), dtype=pl.UInt32), default=None)

    def joined(lines: pl.LazyFrame) -> pl.LazyFrame:
        return (lines.with_columns(_account_row=row)
                .with_columns(pl.lit(table[c]).gather(pl.col("_account_row")).alias(c) for c in values)
                .drop("_account_row"))

    return joined


def _lexical_min(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Categorical).min().cast(pl.String)


def journal_summary(rules: LineRules, accounts: pl.DataFrame) -> LazyComputation:
    return LazyComputation("je_journal_summary", journal_summary_core(rules, accounts),
                           partition_by=tuple(KEYS), sort_by=tuple(KEYS))


def decode_journals(journals: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """Unpack the packed keys of the journal summary into account numbers, amounts and ratios.

    ``accounts`` is sorted by entity and account with dense codes per entity, so an account's row is its
    entity's first row plus its code: a gather, not a join of the whole summary.
    """
    bits = code_bits(accounts)
    shift = 2 ** bits
    offsets = dict(accounts.with_row_index("_row").group_by("entity_id").agg(pl.col("_row").min()).iter_rows())
    base = journals["entity_id"].replace_strict(offsets, return_dtype=pl.Int64)
    numbers = accounts["gl_account_number"]
    scales = accounts.select(amount_scale()).to_series()

    def row_of(code: pl.Series) -> pl.Series:
        return (base + code.cast(pl.Int64)).cast(pl.UInt32)

    codes = journals.select(
        debit=(pl.col("debit_key") % shift), credit=(pl.col("credit_key") % shift), z=(pl.col("z_key") % shift),
        rarest=(pl.col("rarest_key") % shift), sensitive=pl.col("sensitive_code"), suspense=pl.col("suspense_code"))
    debit_line = journals["debit_key"] // shift
    credit_line = -(journals["credit_key"] // shift)
    max_z = (journals["z_key"] // shift).cast(pl.Float64) / 1000
    z_row = row_of(codes["z"])
    out = journals.with_columns(
        # An entry with no debit line (or no credit line) has no main debit (credit) account.
        debit_account=pl.when(debit_line > 0).then(numbers.gather(row_of(codes["debit"]))),
        credit_account=pl.when(credit_line < 0).then(numbers.gather(row_of(codes["credit"]))),
        debit_line_cents=debit_line,
        credit_line_cents=credit_line,
        max_z=max_z,
        max_z_account=numbers.gather(z_row),
        # How many times the account's median amount the line furthest from it is.
        max_z_ratio=pl.lit(10.0).pow(max_z * scales.gather(z_row)),
        sensitive_account=numbers.gather(row_of(codes["sensitive"])),
        suspense_account=numbers.gather(row_of(codes["suspense"])),
        rarest_account=numbers.gather(row_of(codes["rarest"])),
        rarest_usage=accounts["usage"].gather(row_of(codes["rarest"])),
        rarest_regular=accounts["regular_use"].gather(row_of(codes["rarest"])),
    )
    return out.drop("debit_key", "credit_key", "z_key", "rarest_key", "sensitive_code", "suspense_code")


__all__ = [
    "ACCOUNT_KEYS",
    "KEYS",
    "LINE_FIELDS",
    "LazyComputation",
    "LineRules",
    "account_bins",
    "account_descriptions",
    "account_journals",
    "account_names",
    "account_profile",
    "collapse_account_profile",
    "conform",
    "decode_journals",
    "field_coverage",
    "journal_summary",
    "prepare_lines",
    "scan",
]


def field_coverage(source: Source) -> dict[str, int]:
    """Non-null values per optional field over the whole ledger (0 for a field the ledger lacks).

    Read from the Parquet footers' statistics when every file has them (no data is scanned), else by one
    streaming pass. Tests whose field is empty throughout are reported "not run" rather than passed.
    """
    fields = [*(f for f in LINE_FIELDS if f in OPTIONAL_FIELDS), *PROFILE_FIELDS]
    if not isinstance(source, (pl.DataFrame, pl.LazyFrame)):
        counted = _footer_coverage(source, fields)
        if counted is not None:
            return counted
    frame = scan(source)
    names = set(frame.collect_schema().names())
    present = [f for f in fields if f in names]
    counts = frame.select([pl.col(f).count().alias(f) for f in present]).collect(engine="streaming").row(0)
    found = dict(zip(present, counts, strict=True))
    return {f: int(found.get(f, 0)) for f in fields}


def _footer_coverage(source: Source, fields: list[str]) -> dict[str, int] | None:
    import pyarrow.parquet as pq

    totals = dict.fromkeys(fields, 0)
    for path in _parquet_paths(source):
        metadata = pq.ParquetFile(path).metadata
        names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
        index = {name: i for i, name in enumerate(names)}
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for field in fields:
                if field not in index:
                    continue
                statistics = row_group.column(index[field]).statistics
                if statistics is None or not statistics.has_null_count:
                    return None
                totals[field] += row_group.num_rows - statistics.null_count
    return totals
