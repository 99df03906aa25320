"""The entry tests: pure polars over the journal summary, one score in [0, 1] and one sentence per test.

Each test reads an entry (one row of the journal summary), the population statistics it is relative to
(``EntryContext``, computed beforehand over the whole population and broadcast to every partition) and the
entity's facts. It gives a strength ``s_<id>`` (0 when the entry does not show the characteristic; 1 for a
clear hit; in between for weaker forms, such as a hit on a system-generated entry) and, for entries that
tripped it, ``x_<id>``: the reason in the auditor's words, with the numbers that make it checkable.

Line-level tests (round amount, sensitive, seldom-used and suspense accounts, Benford) arrive already
reduced to the entry's strongest line by the journal summary: an entry keeps the highest line score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time

import polars as pl

from auditray.je.catalogue import TESTS
from auditray.je.stats import PATTERN_KEYS, account_group, amount_ending, pattern_month, pattern_source

# Of identical entries, the first keyed is the likelier original.
FIRST_OF_DUPLICATES_STRENGTH = 0.8
# A unique account pair within account groups the entity combines routinely is weak evidence.
RELATED_GROUPS_STRENGTH = 0.35
# A description whose only keywords are words routine entries also use ("write off", "correction"). The entry's
# keyword text is one of its descriptions with a hit (the lexically least), so an entry with a weak word on one
# line and a suspicious one on another may show only the weak one.
WEAK_KEYWORD_STRENGTH = 0.3
# A posting on a calendar holiday that the client visibly works (``facts.worked_holidays``).
WORKED_HOLIDAY_STRENGTH = 0.3
# A person's entry keyed on a day outside the business week that the entity's people visibly work
# (``facts.worked_weekdays``: a six-day week). An interface's posting on a day its interfaces work trips nothing.
WORKED_WEEKDAY_STRENGTH = 0.3
# A manual entry keyed in an hour next to business hours that the client's people visibly work
# (``facts.worked_hours``).
WORKED_HOUR_STRENGTH = 0.3
# A person's entry keyed on a working day but dated on a weekend or holiday (not at a month's edge): weak evidence.
DATED_ONLY_STRENGTH = 0.5
# A hole in the numbering taken while two fiscal years were open (``analyze._gaps_at_year_boundaries``): the
# neighbouring year's entries, outside this population, may hold the numbers.
YEAR_BOUNDARY_GAP_STRENGTH = 0.3
# A standard entry (``stats.standard_patterns``: one user, one pair of accounts, many months, an amount in the
# pattern's range): its size, sensitive account and period-end date are what the pattern always shows, weak
# evidence on their own (an interface's standard entry's size none: a payroll run of its usual size). Its timing,
# text, numbering and duplicates are judged in full.
STANDARD_ENTRY_STRENGTH = 0.2
ISO_DAY_NAMES = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday",
                 7: "Sunday"}


@dataclass
class EntryContext:
    """Everything an entry is compared with, computed over the whole population before any entry is judged."""

    facts: pl.DataFrame
    users: pl.DataFrame
    limits: pl.DataFrame
    pairs: pl.DataFrame
    group_pairs: pl.DataFrame
    account_group_digits: int
    user_accounts: pl.DataFrame
    duplicates: pl.DataFrame
    gaps: pl.DataFrame
    splits: pl.DataFrame
    endings: pl.DataFrame
    standard: pl.DataFrame  # stats.standard_patterns: the entity's recurring (user, debit, credit) patterns
    windows: pl.DataFrame
    period_ends: pl.DataFrame  # (entity_id, effective_date, next_period_end) for every day of the year
    accounts: pl.DataFrame
    benford: pl.DataFrame
    authorised: pl.DataFrame
    closed_days: pl.DataFrame  # facts.closed_days: days each entity's ledger shows its office closed
    holidays: list[date]
    business_weekdays: list[int]
    business_hours: tuple[time, time]
    keyword_regex: str
    common_limits_cents: list[int]
    below_approval_share: float
    round_unit_cents: int
    ending_modulus_cents: int
    ending_cents_modulus_cents: int  # amounts with cents end in their digits below this (stats.amount_ending)
    standard_tolerance: float  # a standard entry's amount is at most this times the pattern's other months'
    standard_spread: float  # ... and at least the pattern's lower quartile divided by this
    descriptions: bool = True  # the ledger carries descriptions at all
    weak_keyword_regex: str = "(?!)"  # words routine entries also use: a weak hit
    worked_holidays: list[date] = field(default_factory=list)  # holidays the client's people visibly work
    interface_holidays: list[date] = field(default_factory=list)  # holidays its interfaces visibly post on
    worked_hours: list[int] = field(default_factory=list)  # hours next to business hours people visibly work
    # facts.worked_weekdays: (entity, manual or not, weekday) outside the business week worked as a matter of course
    worked_weekdays: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"entity_id": pl.String, "worked_manual": pl.Boolean, "entry_weekday": pl.Int8,
                "worked_weekday_dates": pl.Int64, "weekday_dates": pl.Int64}))
    not_run: dict[str, str] = field(default_factory=dict)


def money_expr(cents: pl.Expr) -> pl.Expr:
    """Exact money as text from integer cents: 1234567 -> '12345.67'."""
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (cents.abs() // 100).cast(pl.String)
    fraction = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([sign, whole, pl.lit("."), fraction])


def _strength(test_id: str, manual: pl.Expr) -> pl.Expr:
    """1 for an entry keyed by a person; the test's ``system_strength`` for a system-generated one."""
    return pl.when(manual).then(1.0).otherwise(TESTS[test_id].system_strength)


def _user_table(ctx: EntryContext) -> pl.DataFrame:
    """Per (entity, user): journals keyed, approval limit and its basis, authorised poster or not."""
    keys = ["entity_id", "entered_by"]
    users = ctx.users.select(*keys, user_journals="journals")
    return (users.join(ctx.limits, on=keys, how="full", coalesce=True)
            .join(ctx.authorised.with_columns(authorised=pl.lit(True)), on=keys, how="full", coalesce=True)
            .unique(keys, keep="first"))


def _journal_table(ctx: EntryContext) -> pl.DataFrame:
    """Per entry flagged by a population statistic: duplicate, gap, split, digit subset."""
    keys = ["entity_id", "journal_id"]
    table = ctx.duplicates
    for other in (ctx.gaps, ctx.splits, ctx.benford):
        table = table.join(other, on=keys, how="full", coalesce=True)
    return table.unique(keys, keep="first")


def _day_table(ctx: EntryContext) -> pl.DataFrame:
    keys = ["entity_id", "effective_date"]
    return (ctx.period_ends.join(ctx.windows.rename({"date": "effective_date"}), on=keys, how="full",
                                 coalesce=True).unique(keys, keep="first"))


_JOIN_KEYS = ("entity_id", "journal_id", "entered_by", "source", "debit_account", "credit_account",
              "effective_date", "entry_date", "debit_cents", "manual")
_KEY_SEED = 240_161
# Every column that is part of a context table's key.
_HASHED_KEYS = ("entity_id", "journal_id", "entered_by", "pattern_source", "debit_account", "credit_account",
                "debit_group", "credit_group", "ending_cents", "wide_ending_cents", "effective_date", "entry_date",
                "worked_manual", "entry_weekday")


def hashed(columns: Sequence[str]) -> dict[str, pl.Expr]:
    """Each key column's own 64-bit hash as ``_h_<column>``: a text is hashed once, then its hash is combined
    into every key it belongs to (hashing integers costs a fraction of hashing text)."""
    return {f"_h_{c}": pl.col(c).hash(_KEY_SEED) for c in columns}


def key_hash(columns: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of the key columns (from their ``_h_<column>`` hashes), null when any of them is null:
    a null key matches nothing, as in a join on the columns themselves."""
    names = list(columns)
    return pl.when(pl.all_horizontal([pl.col(c).is_not_null() for c in names])).then(
        pl.struct([pl.col(f"_h_{c}") for c in names]).hash(_KEY_SEED))


@dataclass(frozen=True)
class Lookup:
    """A context table joined by ``on``. ``complete``: every entry's key is in the table (it was counted
    over the same entries), so a hash that is unique among the table's keys identifies the key exactly."""

    table: pl.DataFrame
    on: tuple[str, ...]
    complete: bool


def lookups(ctx: EntryContext) -> list[Lookup]:
    """Every context table an entry is judged against, with its join keys."""
    complete = [
        (ctx.facts, ("entity_id",)),
        (_user_table(ctx), ("entity_id", "entered_by")),
        (ctx.pairs.rename({"journals": "pair_journals"}), ("entity_id", "debit_account", "credit_account")),
        (ctx.group_pairs.rename({"journals": "group_pair_journals"}), ("entity_id", "debit_group", "credit_group")),
        (ctx.user_accounts.rename({"account": "debit_account", "journals": "user_account_journals"}),
         ("entity_id", "entered_by", "debit_account")),
    ]
    partial = [
        (_journal_table(ctx), ("entity_id", "journal_id")),
        (ctx.endings, ("entity_id", "entered_by", "debit_account", "credit_account", "ending_cents",
                       "wide_ending_cents")),
        (ctx.standard, PATTERN_KEYS),
        # Period-end windows and the next period end of every day (a day calendar, joined like the other
        # tables: no sort of the whole population).
        (_day_table(ctx), ("entity_id", "effective_date")),
        (ctx.closed_days, ("entity_id", "entry_date")),
        (ctx.worked_weekdays, ("entity_id", "worked_manual", "entry_weekday")),
    ]
    return [*[Lookup(t, on, True) for t, on in complete], *[Lookup(t, on, False) for t, on in partial]]


class ContextTables:
    """The context tables made ready for hash joins, once per analysis (or Ray partition), not per slice.

    Each table is joined on a 64-bit hash of its key columns rather than on the text keys themselves (a
    hash table of millions of text keys costs several times more). The answer is exact, not probabilistic:
    a table in which two keys share a hash is joined on its key columns instead, and for an incomplete
    table the matched rows' keys are compared with the table's (a row that met another key's hash sends
    that table back to the join on the key columns).
    """

    def __init__(self, ctx: EntryContext, key: Callable[[Sequence[str]], pl.Expr] | None = None) -> None:
        self.ctx = ctx
        self.key = key or key_hash
        self.tables: list[tuple[Lookup, list[str], pl.DataFrame | None]] = []
        for number, lookup in enumerate(lookups(ctx)):
            on = list(lookup.on)
            values = [c for c in lookup.table.columns if c not in on]
            keyed = (lookup.table.with_columns(**hashed(on)).with_columns(self.key(on).alias(f"_key{number}"))
                     .filter(pl.col(f"_key{number}").is_not_null()))
            carried = [] if lookup.complete else [pl.col(c).alias(f"_right_{c}") for c in on]
            right = (keyed.select(f"_key{number}", *values, *carried)
                     if keyed[f"_key{number}"].n_unique() == keyed.height else None)
            self.tables.append((lookup, values, right))

    def join(self, keys: pl.DataFrame) -> list[pl.DataFrame]:
        """Each table's value columns for every row of ``keys`` (the key columns, hashed), in order."""
        keyed = keys.select([self.key(lookup.on).alias(f"_key{number}")
                             for number, (lookup, _, right) in enumerate(self.tables)
                             if right is not None and not lookup.table.is_empty()])
        found = []
        for number, (lookup, values, right) in enumerate(self.tables):
            on = list(lookup.on)
            if lookup.table.is_empty():
                # Nothing to find (no worked weekdays, no closed days): the columns, all null, without a join.
                found.append(pl.DataFrame([pl.Series(v, dtype=lookup.table.schema[v]).extend_constant(None, keys.height)
                                           for v in values]))
                continue
            if right is not None:
                joined = keyed.select(f"_key{number}").join(right, on=f"_key{number}", how="left",
                                                            maintain_order="left")
                if lookup.complete or not _met_other_keys(keys.select(on), joined, on):
                    found.append(joined.select(values))
                    continue
            found.append(keys.select(on).join(lookup.table, on=on, how="left", maintain_order="left").select(values))
        return found


def _met_other_keys(keys: pl.DataFrame, joined: pl.DataFrame, on: list[str]) -> bool:
    """Did a row's hash meet a table key other than its own? Compared on the matched rows only."""
    both = keys.hstack(joined.select(f"_right_{c}" for c in on)).filter(pl.col(f"_right_{on[0]}").is_not_null())
    return bool(both.select(pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"_right_{c}")) for c in on]).any())
                .item())


def with_context(journals: pl.DataFrame, ctx: EntryContext, tables: ContextTables | None = None) -> pl.DataFrame:
    """The journal summary beside everything the tests compare against (left joins: no row is lost).

    The joins run on a narrow frame of the join keys, in the entries' order, and the context columns are
    then set beside the full summary. ``tables``: the context made ready once (``ContextTables``), for
    callers that judge the population slice by slice.
    """
    tables = tables or ContextTables(ctx)
    digits = ctx.account_group_digits
    keys = journals.select(_JOIN_KEYS).with_columns(
        debit_group=account_group(pl.col("debit_account"), digits),
        credit_group=account_group(pl.col("credit_account"), digits),
        ending_cents=amount_ending(ctx.ending_modulus_cents, ctx.ending_cents_modulus_cents),
        wide_ending_cents=pl.col("debit_cents") % ctx.ending_modulus_cents, pattern_source=pattern_source(),
        worked_manual=pl.col("manual").fill_null(True), entry_weekday=pl.col("entry_date").dt.weekday())
    keys = keys.with_columns(**hashed(_HASHED_KEYS))
    context = pl.concat([keys.select("debit_group", "credit_group", "ending_cents"), *tables.join(keys)],
                        how="horizontal")
    if context.height != journals.height:
        raise AssertionError("a context table has duplicate keys: an entry would be judged twice")
    return journals.hstack(context)


def _in_worked_hour(ctx: EntryContext) -> pl.Expr:
    return pl.col("entry_time").dt.hour().is_in(pl.Series(ctx.worked_hours, dtype=pl.Int8).implode()).fill_null(False)


def score_entries(frame: pl.DataFrame, ctx: EntryContext) -> pl.DataFrame:
    """Add ``s_<id>`` for every test of the catalogue (0 for a test not run), from the entry and its context."""
    manual = pl.col("manual").fill_null(True)
    weekday_eff = pl.col("effective_date").dt.weekday()
    weekday_entry = pl.col("entry_date").dt.weekday()
    off = [d for d in range(1, 8) if d not in ctx.business_weekdays]
    holidays = pl.Series(ctx.holidays, dtype=pl.Date)
    start, end = ctx.business_hours
    post_closing = ((pl.col("entry_date") > pl.col("closing_date")) & (pl.col("effective_date") <= pl.col("fye"))
                    & (pl.col("effective_date") >= pl.col("fy_start"))).fill_null(False)
    lag = (pl.col("entry_date") - pl.col("effective_date")).dt.total_days()
    approved = pl.col("approved_by").is_not_null() & (pl.col("approved_by") != pl.col("entered_by").fill_null(""))
    below_stated = (pl.col("limit_cents").is_not_null() & ~approved
                    & (pl.col("debit_cents") >= pl.col("limit_cents") * ctx.below_approval_share)
                    & (pl.col("debit_cents") < pl.col("limit_cents")))
    below_common = pl.lit(False)
    for limit in ctx.common_limits_cents:
        below_common = below_common | ((pl.col("debit_cents") >= int(limit * ctx.below_approval_share))
                                       & (pl.col("debit_cents") < limit))
    below_common = pl.col("limit_cents").is_null() & ~approved & below_common
    unrelated_groups = (pl.col("group_pair_journals") <= pl.col("rare_group_pair_max")).fill_null(True)
    rare_user = (pl.col("user_journals") <= pl.col("unusual_user_max")).fill_null(False)
    unauthorised = pl.col("has_poster_list") & pl.col("authorised").is_null() & pl.col("entered_by").is_not_null()
    user_strength = (1 - 0.5 * pl.col("user_journals").cast(pl.Float64).log()
                     / (pl.col("unusual_user_max").cast(pl.Float64) + 1).log()).clip(0.5, 1.0)
    # Keyed on a day off is the sign (CAQ practice aid). Merely dated on one, by an entry keyed on a working day,
    # is routine at a month's edges (accruals dated on the month end, reversals on the 1st) and weak elsewhere;
    # a ledger without entry dates has only the effective date to go by.
    worked = pl.Series(ctx.worked_holidays, dtype=pl.Date)
    posted = pl.Series(ctx.interface_holidays, dtype=pl.Date)

    def usually_worked(day: str) -> pl.Expr:
        return (pl.when(manual & pl.col(day).is_in(worked.implode())).then(WORKED_HOLIDAY_STRENGTH)
                .when(~manual & pl.col(day).is_in(posted.implode())).then(0.0).otherwise(1.0))

    effective = pl.col("effective_date")
    month_edge = (effective == effective.dt.month_end()) | (effective.dt.day() == 1)
    # An interface that records a card payment or a bill under the day it happened, on a working day, keyed
    # nothing on the day off: no sign at all.
    dated_only = (pl.when(pl.col("entry_date").is_null()).then(1.0).when(month_edge | ~manual).then(0.0)
                  .otherwise(DATED_ONLY_STRENGTH))
    # A standard entry's nature is expected of it: it tests weakly for what the pattern always shows.
    usual = pl.when(pl.col("standard_entry")).then(STANDARD_ENTRY_STRENGTH).otherwise(1.0)
    # ... and an interface's standard entry of its usual size (a weekly payroll run) is no sign of size at all.
    usual_size = pl.when(pl.col("standard_entry") & ~manual).then(0.0).otherwise(usual)
    scores = {
        "unbalanced_entry": pl.when(pl.col("balance_cents") != 0).then(1.0),
        "sequence_gap": pl.when(pl.col("gap_missing").is_not_null())
        .then(pl.when(pl.col("gap_boundary").fill_null(False)).then(YEAR_BOUNDARY_GAP_STRENGTH).otherwise(1.0)),
        "duplicate_entry": pl.when(pl.col("duplicate_of").is_not_null())
        .then(pl.when(pl.col("duplicate_original")).then(FIRST_OF_DUPLICATES_STRENGTH).otherwise(1.0)),
        "high_value": pl.when(pl.col("debit_cents") >= pl.col("high_value_cents"))
        .then(_strength("high_value", manual) * usual_size),
        "round_amount": pl.when(pl.col("round_cents").is_not_null()).then(_strength("round_amount", manual)),
        "recurring_ending": pl.when(pl.col("ending_entries").is_not_null() & manual).then(1.0),
        "unusual_user": pl.when(unauthorised).then(1.0).when(manual & rare_user).then(user_strength),
        "manual_to_sensitive_account": pl.when(manual & pl.col("sensitive_account").is_not_null()).then(usual),
        "weekend_posting": pl.when(weekday_entry.is_in(off).fill_null(False))
        .then(_strength("weekend_posting", manual) * pl.when(pl.col("worked_weekday_dates").is_null()).then(1.0)
              .when(manual).then(WORKED_WEEKDAY_STRENGTH).otherwise(0.0))
        .when(weekday_eff.is_in(off)).then(_strength("weekend_posting", manual) * dated_only),
        "holiday_posting": pl.when(pl.col("entry_date").is_in(holidays.implode()).fill_null(False))
        .then(_strength("holiday_posting", manual) * usually_worked("entry_date"))
        .when(pl.col("closed_day_usual").is_not_null()).then(_strength("holiday_posting", manual))
        .when(pl.col("effective_date").is_in(holidays.implode()))
        .then(_strength("holiday_posting", manual) * dated_only * usually_worked("effective_date")),
        "after_hours": pl.when(manual & ((pl.col("entry_time") < start) | (pl.col("entry_time") >= end)))
        .then(pl.when(_in_worked_hour(ctx)).then(WORKED_HOUR_STRENGTH).otherwise(1.0)),
        "period_end": pl.when(manual & pl.col("period_end").is_not_null()
                              & (pl.col("debit_cents") >= pl.col("period_end_amount_cents"))).then(usual)
        .when(manual & pl.col("period_end").is_not_null() & ~pl.col("has_text") & pl.lit(ctx.descriptions))
        .then(0.6),
        "post_closing": pl.when(post_closing).then(1.0),
        "backdated": pl.when(~post_closing & (lag > pl.col("backdated_days"))).then(_strength("backdated", manual)),
        "missing_description": pl.when(~pl.col("has_text")).then(_strength("missing_description", manual)),
        "suspicious_keyword": pl.when(pl.col("_strong_keyword")).then(1.0)
        .when(pl.col("keyword").is_not_null()).then(WEAK_KEYWORD_STRENGTH),
        "seldom_used_account": pl.when((pl.col("rarest_usage") <= pl.col("seldom_max")) & ~pl.col("rarest_regular"))
        .then(_strength("seldom_used_account", manual)),
        "rare_account_pair": pl.when(pl.col("pair_journals") <= pl.col("rare_pair_max"))
        .then(_strength("rare_account_pair", manual)
              * pl.when(unrelated_groups).then(1.0).otherwise(RELATED_GROUPS_STRENGTH)),
        "below_approval_threshold": pl.when(manual & below_stated).then(1.0).when(manual & below_common).then(0.5),
        "split_entry": pl.when(pl.col("split_entries").is_not_null() & manual).then(1.0),
        "suspense_account": pl.when(pl.col("suspense_account").is_not_null())
        .then(_strength("suspense_account", manual)),
        "benford_outlier": pl.when(pl.col("benford_explanation").is_not_null()).then(1.0),
        "ml_outlier": pl.when(pl.col("ml_outlier")).then(pl.col("ml_strength")),
    }
    text = pl.col("keyword_text").str.to_lowercase()
    strong = text.str.extract(ctx.keyword_regex, 0)
    # The pattern's largest amount in a month other than the entry's own.
    other_months = (pl.when(pattern_month() == pl.col("pattern_top_month")).then(pl.col("pattern_other_cents"))
                    .otherwise(pl.col("pattern_top_cents")))
    frame = frame.with_columns(
        standard_entry=(pl.col("pattern_months").is_not_null()
                        & (pl.col("debit_cents") <= other_months * ctx.standard_tolerance)
                        & (pl.col("debit_cents") * ctx.standard_spread >= pl.col("pattern_low_cents"))).fill_null(False),
        pattern_usual_cents=other_months,
        keyword=pl.coalesce(strong, text.str.extract(ctx.weak_keyword_regex, 0)),
        _strong_keyword=strong.is_not_null(),
        has_poster_list=pl.col("entity_id").is_in(ctx.authorised["entity_id"].unique().implode()),
    )
    return frame.with_columns(
        (pl.lit(0.0) if test_id in ctx.not_run else expr.fill_null(0.0)).cast(pl.Float64).alias(f"s_{test_id}")
        for test_id, expr in scores.items()
    ).with_columns(lag_days=lag)


def _source_named() -> pl.Expr:
    """"SOURCE " where the entry has a source: the pattern is of that kind of entry."""
    return pl.when(pl.col("source").is_not_null()).then(pl.format("{} ", pl.col("source"))).otherwise(pl.lit(""))


def explain_entries(frame: pl.DataFrame, ctx: EntryContext) -> pl.DataFrame:
    """``x_<id>``: one sentence per tripped test, for the entries that tripped at least one."""
    money = money_expr
    hh_mm = pl.col("entry_time").dt.strftime("%H:%M")
    names = ctx.accounts.select("entity_id", "gl_account_number", "account_name")

    def name_of(column: str) -> pl.LazyFrame:
        return names.lazy().rename({"gl_account_number": column, "account_name": f"{column}_name"})

    frame = (frame.lazy()
             .join(name_of("sensitive_account"), on=["entity_id", "sensitive_account"], how="left")
             .join(name_of("suspense_account"), on=["entity_id", "suspense_account"], how="left")
             .join(name_of("rarest_account"), on=["entity_id", "rarest_account"], how="left")
             .collect())

    def named(column: str) -> pl.Expr:
        return pl.concat_str([pl.col(column), pl.lit(" ("), pl.col(f"{column}_name").fill_null("no name"),
                              pl.lit(")")])

    day_name = pl.col("effective_date").dt.weekday().replace_strict(ISO_DAY_NAMES, return_dtype=pl.String)
    entry_day_name = pl.col("entry_date").dt.weekday().replace_strict(ISO_DAY_NAMES, return_dtype=pl.String,
                                                                      default=None)
    # Why a standard entry's size, account or date counted weakly, checkable against the ledger.
    standard = (pl.when(pl.col("standard_entry"))
                .then(pl.format("; a standard entry: {} keyed {}{} / {} in {} months, up to {} in another month",
                                pl.col("entered_by"), _source_named(), pl.col("debit_account"), pl.col("credit_account"),
                                pl.col("pattern_months"), money(pl.col("pattern_usual_cents"))))
                .otherwise(pl.lit("")))
    texts = {
        "unbalanced_entry": pl.format("debits {} vs credits {}: out of balance by {}", money(pl.col("debit_cents")),
                                      money(-pl.col("credit_cents")), money(pl.col("balance_cents"))),
        "sequence_gap": pl.format("{} journal number(s) missing between {} and this entry{}",
                                  pl.col("gap_missing"), pl.col("gap_previous"),
                                  pl.when(pl.col("gap_boundary").fill_null(False))
                                  .then(pl.lit(", keyed while the neighbouring fiscal year was open (its entries "
                                               "may hold them)")).otherwise(pl.lit(""))),
        "duplicate_entry": pl.when(pl.col("duplicate_original"))
        .then(pl.format("same accounts, amounts and effective date as journal {}, keyed later",
                        pl.col("duplicate_of")))
        .otherwise(pl.format("same accounts, amounts and effective date as journal {}, keyed earlier",
                             pl.col("duplicate_of"))),
        "high_value": pl.format("amount {} is {}x the high-value threshold {}{}", money(pl.col("debit_cents")),
                                (pl.col("debit_cents") / pl.col("high_value_cents")).round(2),
                                money(pl.col("high_value_cents")), standard),
        "round_amount": pl.format("round amount {} on a line", money(pl.col("round_cents"))),
        "recurring_ending": pl.format("amount {} ends in {}, like {} other entries by {} to {} / {}",
                                      money(pl.col("debit_cents")), money(pl.col("ending_cents")),
                                      pl.col("ending_entries") - 1, pl.col("entered_by"), pl.col("debit_account"),
                                      pl.col("credit_account")),
        "unusual_user": pl.when(pl.col("has_poster_list") & pl.col("authorised").is_null())
        .then(pl.format("posted by {}, who is not an authorised poster", pl.col("entered_by")))
        .otherwise(pl.format("posted by {}, who posted only {} of the entity's {} journals", pl.col("entered_by"),
                             pl.col("user_journals"), pl.col("entity_journals"))),
        "manual_to_sensitive_account": pl.format("manual entry to sensitive account {}{}", named("sensitive_account"),
                                                 standard),
        "weekend_posting": pl.when(pl.col("entry_date").dt.weekday().is_in(
            [d for d in range(1, 8) if d not in ctx.business_weekdays]).fill_null(False))
        .then(pl.format("entered on a {} ({}){}", entry_day_name, pl.col("entry_date"),
                        pl.when(pl.col("worked_weekday_dates").is_not_null())
                        .then(pl.format(", a day the entity's people work (entries keyed on {} of its {} {}s)",
                                        pl.col("worked_weekday_dates"), pl.col("weekday_dates"), entry_day_name))
                        .otherwise(pl.lit(""))))
        .when(pl.col("entry_date").is_null())
        .then(pl.format("effective on a {} ({})", day_name, pl.col("effective_date")))
        .otherwise(pl.format("effective on a {} ({}), entered on a working day ({})", day_name,
                             pl.col("effective_date"), pl.col("entry_date"))),
        "holiday_posting": pl.when(pl.col("entry_date").is_in(pl.Series(ctx.holidays, dtype=pl.Date).implode())
                                   .fill_null(False))
        .then(pl.format("entered on a public holiday ({})", pl.col("entry_date")))
        .when(pl.col("closed_day_usual").is_not_null())
        .then(pl.format("entered on {} {}, a day the ledger shows the office closed ({} keyed that day against "
                        "{} on an ordinary working day)", entry_day_name, pl.col("entry_date"),
                        pl.col("closed_day_entries"), pl.col("closed_day_usual")))
        .when(pl.col("entry_date").is_null())
        .then(pl.format("effective on a public holiday ({})", pl.col("effective_date")))
        .otherwise(pl.format("effective on a public holiday ({}), entered on a working day ({})",
                             pl.col("effective_date"), pl.col("entry_date"))),
        "after_hours": pl.format("keyed at {}, outside business hours {}-{}{}", hh_mm,
                                 pl.lit(ctx.business_hours[0].strftime("%H:%M")),
                                 pl.lit(ctx.business_hours[1].strftime("%H:%M")),
                                 pl.when(_in_worked_hour(ctx))
                                 .then(pl.lit(", in an hour the client's people regularly work"))
                                 .otherwise(pl.lit(""))),
        "period_end": pl.when(pl.col("debit_cents") >= pl.col("period_end_amount_cents"))
        .then(pl.format("manual entry of {} on {}, at the end of the period ending {} (unusual above {}){}",
                        money(pl.col("debit_cents")), pl.col("effective_date"), pl.col("period_end"),
                        money(pl.col("period_end_amount_cents")), standard))
        .otherwise(pl.format("manual entry without description on {}, at the end of the period ending {}",
                             pl.col("effective_date"), pl.col("period_end"))),
        "post_closing": pl.format("entered {} after the closing date {}, effective {}", pl.col("entry_date"),
                                  pl.col("closing_date"), pl.col("effective_date")),
        "backdated": pl.format("entered {}, {} days after its effective date {} (more than {} days)",
                               pl.col("entry_date"), pl.col("lag_days"), pl.col("effective_date"),
                               pl.col("backdated_days")),
        "missing_description": pl.lit("no header or line description"),
        "suspicious_keyword": pl.format("description contains '{}'", pl.col("keyword")),
        "seldom_used_account": pl.when(pl.col("rarest_usage") == 0)
        .then(pl.format("posting to closed or seldom-used account {}", named("rarest_account")))
        .otherwise(pl.format("posting to account {}, used by {} journal(s) this year", named("rarest_account"),
                             pl.col("rarest_usage"))),
        "rare_account_pair": pl.format("debit {} / credit {}: a combination used by {} journal(s) of {}; their "
                                       "account groups {} / {} are combined by {} journal(s)",
                                       pl.col("debit_account"), pl.col("credit_account"), pl.col("pair_journals"),
                                       pl.col("entity_journals"), pl.col("debit_group"), pl.col("credit_group"),
                                       pl.col("group_pair_journals")),
        "below_approval_threshold": pl.when(pl.col("limit_cents").is_not_null())
        .then(pl.format("amount {} is {}% of {}'s approval limit {} ({})", money(pl.col("debit_cents")),
                        (pl.col("debit_cents") * 100 / pl.col("limit_cents")).round(1), pl.col("entered_by"),
                        money(pl.col("limit_cents")), pl.col("limit_basis")))
        .otherwise(pl.format("amount {} is just below a common approval limit (no limit stated or readable "
                             "for {})", money(pl.col("debit_cents")), pl.col("entered_by").fill_null("the poster"))),
        "split_entry": pl.format("one of {} entries by {} on {} to {} / {}, together {}, each below the approval "
                                 "limit {}", pl.col("split_entries"), pl.col("entered_by"), pl.col("effective_date"),
                                 pl.col("debit_account"), pl.col("credit_account"), money(pl.col("split_total")),
                                 money(pl.col("split_limit"))),
        "suspense_account": pl.format("posting to suspense account {}", named("suspense_account")),
        "benford_outlier": pl.col("benford_explanation"),
        "ml_outlier": pl.col("ml_explanation"),
    }
    return frame.with_columns(
        pl.when(pl.col(f"s_{test_id}") > 0).then(expr).otherwise(None).cast(pl.String).alias(f"x_{test_id}")
        for test_id, expr in texts.items()
    )


__all__ = ["EntryContext", "explain_entries", "money_expr", "score_entries", "with_context"]
