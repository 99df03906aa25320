"""Journal-entry testing end to end: population checks first, then the battery, the model and the risk score.

``analyze`` runs on the local engine or on Ray with identical results (population statistics are
map + combine computations over the whole population; entries are judged per partition against them):

1. population passes over the lines: field coverage, the account profile (usage, activity, usual amounts),
   the journal summary (one row per entry);
2. population checks, reported before any entry is judged (AS 2401 .61, ISA 240 A43): record counts and
   control totals, completeness against the trial balance, unbalanced entries, sequence gaps, duplicates,
   period coverage, and which tests cannot run because the ledger lacks their field;
3. population statistics (users, account pairs, same-day groups, amount endings, approval limits) and the
   entity facts (materiality, calendar, thresholds), each with its basis; beside them, the digit tests'
   two passes over the lines (subset counts, then the lines behind nonconforming subsets);
4. the unsupervised model, fitted per entity on the driver;
5. every entry judged: test strengths, model score, composite risk, band, reasons;
6. the lines of flagged entries, with their line-level flags.

``write_outputs`` writes entries.parquet, lines.parquet, population.json and settings.json atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from auditray.contract.money import MONEY_SUM_DTYPE, cents_to_money
from auditray.engine import BatchComputation, ClusterBlocks, EngineName, Source, resolve_engine
from auditray.engine import run as engine_run
from auditray.je import anomaly_model, grouping, rules, stats
from auditray.je.catalogue import CATALOGUE, TEST_IDS, catalogue_table
from auditray.je.facts import (
    CLOSED_DAY_MIN_DAY,
    CLOSED_DAY_SHARE,
    CLOSED_WEEKDAY_MAX_SHARE,
    WORKED_HOLIDAY_SHARE,
    WORKED_HOUR_SHARE,
    WORKED_WEEKDAY_SHARE,
    EntityFacts,
    approval_limits,
    classify_accounts,
    closed_days,
    facts_frame,
    holidays_for,
    keyword_regex,
    money_text,
    next_period_ends,
    period_end_windows,
    regex_any,
    resolve_facts,
    weak_keyword_regex,
    weak_keywords,
    worked_holidays,
    worked_hours,
    worked_weekdays,
)
from auditray.je.lines import line_flags
from auditray.je.population import (
    KEYS,
    LINE_FIELDS,
    LazyComputation,
    LineRules,
    account_profile,
    conform,
    decode_journals,
    field_coverage,
    journal_summary,
    prepare_lines,
    scan,
    source_row_count,
)
from auditray.je.scoring import risk_band, risk_score, test_weights, tripped_lists, weigh_by_prevalence
from auditray.je.settings import JETestSettings

Progress = Callable[[str], None]
# Entries judged at a time by the local engine: the judgement adds some 60 columns per entry.
JUDGE_SLICE = 150_000
# Lines summarised at a time by the local engine (journals hashed into buckets).
LINES_PER_BUCKET = 2_500_000

ENTRY_COLUMNS = ("entity_id", "journal_id", "risk_rank", "risk_score", "risk_band", "tests", "test_scores",
                 "explanations", "effective_date", "entry_date", "entry_time", "entered_by", "approved_by", "source",
                 "manual", "amount", "line_count", "ml_score")


@dataclass
class JEAnalysis:
    """What the battery found: one row per entry, the flagged lines, and the population summary."""

    entries: pl.DataFrame
    lines: pl.DataFrame
    population: dict[str, Any]
    settings: JETestSettings
    facts: dict[str, EntityFacts]
    accounts: pl.DataFrame
    not_run: dict[str, str]
    engine: str
    timings: dict[str, float] = field(default_factory=dict)

    def top(self, n: int = 20) -> pl.DataFrame:
        return self.entries.head(n)


def line_rules(settings: JETestSettings, coverage: dict[str, int], rows: int) -> LineRules:
    return LineRules(
        system_user_regex=regex_any(settings.system_user_patterns),
        manual_sources=tuple(v.lower() for v in settings.manual_source_values),
        system_sources=tuple(v.lower() for v in settings.system_source_values),
        keywords=tuple(dict.fromkeys(k.lower() for k in (*settings.suspicious_keywords, *weak_keywords(settings)))),
        round_unit_cents=int(settings.round_amount_unit * 100),
        infer_manual=coverage.get("manual_entry", 0) < rows,
        line_text=coverage.get("je_line_description", 0) > 0,
        header_text=coverage.get("je_header_description", 0) > 0,
        account_names=coverage.get("gl_account_name", 0) > 0,
        reference=coverage.get("document_reference", 0) > 0,
    )


def analyze(
    source: Source,
    *,
    settings: JETestSettings | None = None,
    engine: EngineName = "local",
    trial_balance: pl.DataFrame | None = None,
    chart: pl.DataFrame | None = None,
    engine_settings: Any = None,
    partitions: int | None = None,
    progress: Progress | None = None,
) -> JEAnalysis:
    """Run the journal-entry battery over a ledger (Parquet files, a directory of them, or a frame)."""
    settings = settings or JETestSettings()
    _warm_up(settings)
    say = progress or (lambda _: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    if isinstance(source, pl.DataFrame):
        source = conform(source.lazy(), profile=True).collect()
    rows = source_row_count(source)
    chosen = resolve_engine(engine, rows, engine_settings)
    if rows == 0:
        raise ValueError("the ledger has no lines: there is no population to test")
    coverage = field_coverage(source)
    rows = rows if rows is not None else int(scan(source).select(pl.len()).collect().item())
    line_rule = line_rules(settings, coverage, rows)

    def run_lines(computation: Any) -> pl.DataFrame:
        return computation.run(source, engine=chosen, settings=engine_settings, partitions=partitions)

    kept: list[ClusterBlocks] = []

    def run_journals(computation: BatchComputation) -> pl.DataFrame:
        # On Ray the journal summary stays in the object store as the blocks the workers computed, and every
        # statistic reads it there, rather than from the driver's memory. (The local engine works on the
        # summary in memory.)
        return engine_run(computation, kept[0], engine=chosen, settings=engine_settings, partitions=partitions)

    say("account profile")
    profile = account_profile(line_rule, run_lines, one_pass=chosen != "local")
    accounts = classify_accounts(profile, settings, chart=chart, trial_balance=trial_balance)
    lap("account_profile")

    say("journal summary")
    summary = journal_summary(line_rule, accounts)
    decode = partial(decode_journals, accounts=accounts)
    if chosen == "local":
        # Locally, a few million lines at a time hold the journals being summarised in memory. Row order does
        # not matter downstream (the model samples by key, the entries are ranked by a total order), so the
        # summary is not sorted: that would copy it whole.
        journals = summary.run(source, engine="local", buckets=max(1, math.ceil(rows / LINES_PER_BUCKET)),
                               ordered=False, each=decode)
    else:
        journals, blocks = summary.run_kept(source, settings=engine_settings, partitions=partitions, each=decode)
        kept.append(blocks)
    lap("journal_summary")

    say("population statistics")
    # Handed over, not shared: the analysis drops the summary once every entry is judged (a sixth of the
    # peak memory on a large ledger), which it could not while this frame still held it.
    handed = [journals]
    del journals
    try:
        return _analyze_journals(
            handed=handed, accounts=accounts, settings=settings, coverage=coverage, rows=rows, chart=chart,
            line_rule=line_rule, chosen=chosen, trial_balance=trial_balance,
            run_journals=run_journals, run_lines=run_lines, say=say, lap=lap, timings=timings)
    finally:
        kept.clear()  # the blocks leave the object store


def _warm_up(settings: JETestSettings) -> None:
    """Import the digit tests' and the model's libraries, and load the compiled kernels, on a side thread.

    Together about two seconds of single-threaded Python, otherwise spent on the critical path after the
    passes over the lines; meanwhile those passes run in polars' own threads, which hold no interpreter lock.
    """

    def load() -> None:
        import scipy.stats  # noqa: F401  (digit tests' p-values)

        if settings.ml_enabled:
            import sklearn.ensemble  # noqa: F401

            from auditray.je import compiled

            compiled.warm_up()

    def quietly() -> None:
        # A failure here is the main path's to report, where the library is first really used.
        with contextlib.suppress(Exception):
            load()

    threading.Thread(target=quietly, name="auditray-je-warm-up", daemon=True).start()


def _analyze_journals(*, handed: list[pl.DataFrame], accounts: pl.DataFrame, settings: JETestSettings,
                      coverage: dict[str, int], rows: int, chart: pl.DataFrame | None,
                      line_rule: LineRules, chosen: str, trial_balance: pl.DataFrame | None,
                      run_journals: Callable[[BatchComputation], pl.DataFrame],
                      run_lines: Callable[[Any], pl.DataFrame], say: Progress, lap: Callable[[str], None],
                      timings: dict[str, float]) -> JEAnalysis:
    """Everything after the two passes over the lines: statistics, facts, model, judgement, outputs."""
    journals = handed.pop()
    modulus = int(settings.recurring_ending_modulus * 100)
    cents_modulus = int(settings.recurring_ending_cents_modulus * 100)
    # The digit tests read the lines again and need nothing computed here. Locally they run beside the
    # statistics (polars releases the interpreter lock, and neither keeps both cores busy on its own); on Ray
    # they are two jobs of the cluster's, run before the statistics' jobs rather than competing with them.
    digit_tests = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditray-je-digits")
    digits_done = digit_tests.submit(_benford, settings, coverage, rows, line_rule, run_lines)
    if chosen != "local":
        digits_done.result()
    digit_tests.shutdown(wait=False)
    population_stats = stats.together({
        "users": stats.USER_ACTIVITY,
        "pairs": stats.ACCOUNT_PAIRS,
        "group_pairs": stats.group_pairs(settings.account_group_digits),
        "user_accounts": stats.USER_ACCOUNTS,
        "duplicates": stats.duplicate_groups(settings.duplicate_same_effective_date),
        "sequence": stats.sequence_numbers(),
        "same_day": stats.SAME_DAY_GROUPS,
        "endings": stats.ending_groups(modulus, cents_modulus),
        "standard": stats.standard_patterns(max(settings.standard_entry_min_months, 2),
                                            settings.standard_entry_max_spread),
    }, run_journals, local=journals if chosen == "local" else None)
    users, pairs, group_pairs, user_accounts = (population_stats[k] for k in ("users", "pairs", "group_pairs",
                                                                                "user_accounts"))
    duplicate_groups, sequence, same_day, endings = (population_stats[k] for k in ("duplicates", "sequence",
                                                                                     "same_day", "endings"))
    standard = population_stats["standard"]
    if not settings.standard_entry_min_months:
        standard = standard.clear()
    facts = resolve_facts(journals, accounts, settings)
    limits = approval_limits(users, settings)
    lap("population_statistics")

    not_run = tests_not_run(settings, coverage, rows, accounts, journals, chart)
    say("digit tests")
    benford_lines, benford_reason = digits_done.result()
    if benford_reason:
        not_run.setdefault("benford_outlier", benford_reason)
    lap("benford")

    first = min(f.fiscal_year_start for f in facts.values())
    last = max(f.closing_date for f in facts.values())
    holidays = holidays_for(settings, first, last)
    # A general calendar's holidays that the client visibly works are working days for the period-end windows,
    # and a posting on one still trips holiday_posting, weakly: a mistaken "worked" must not hide a real
    # holiday posting altogether.
    worked, worked_by_interfaces = ([], []) if settings.holidays is not None else (
        worked_holidays(journals, holidays, settings.business_weekdays),
        worked_holidays(journals, holidays, settings.business_weekdays, interfaces=True))
    # Likewise the hours next to business hours the client's people visibly work, unless the engagement stated
    # its business hours.
    stated_hours = {"business_hours_start", "business_hours_end"} & settings.model_fields_set
    # Days the ledger shows an entity's office closed, which no general calendar lists (local and company
    # holidays), unless the engagement stated its holidays.
    closed = closed_days(journals if settings.holidays is None else journals.clear(), facts, holidays,
                         settings.business_weekdays)
    hours = [] if stated_hours else worked_hours(journals, (settings.business_hours_start,
                                                            settings.business_hours_end))
    # And the days outside the business week that its interfaces, or its people, visibly work (a store's point of
    # sale on Sundays), unless the engagement stated its business week.
    weekdays = worked_weekdays(journals.clear() if "business_weekdays" in settings.model_fields_set else journals,
                               facts, settings.business_weekdays)
    gaps = _gaps_at_year_boundaries(sequence.filter(pl.col("missing") <= settings.sequence_gap_max_missing), facts)
    context = rules.EntryContext(
        facts=facts_frame(facts),
        users=users.select("entity_id", "entered_by", "journals"),
        limits=limits,
        pairs=pairs,
        group_pairs=group_pairs,
        account_group_digits=settings.account_group_digits,
        user_accounts=user_accounts,
        duplicates=_copies(journals, duplicate_groups, settings.duplicate_same_effective_date),
        gaps=gaps.select("entity_id", "journal_id", gap_missing="missing", gap_previous="previous_journal",
                         gap_boundary="at_year_boundary"),
        splits=_split_groups(same_day, limits, settings),
        endings=endings.filter((pl.col("entries") >= settings.recurring_ending_min_entries)
                               & (pl.col("min_cents") != pl.col("max_cents")))
        .select(*stats.ENDING_KEYS, "wide_ending_cents", ending_entries="entries"),
        standard=standard,
        standard_tolerance=settings.standard_entry_amount_tolerance,
        standard_spread=settings.standard_entry_max_spread,
        windows=period_end_windows(facts, settings, [h for h in holidays if h not in set(worked)]),
        period_ends=next_period_ends(facts),
        accounts=accounts.select("entity_id", "gl_account_number", "account_name"),
        benford=_benford_entries(benford_lines),
        authorised=pl.DataFrame([(e, u) for e, f in facts.items() for u in (f.authorised_posters or [])],
                                schema={"entity_id": pl.String, "entered_by": pl.String}, orient="row"),
        closed_days=closed,
        holidays=holidays,
        worked_holidays=worked,
        interface_holidays=worked_by_interfaces,
        worked_hours=hours,
        worked_weekdays=weekdays,
        business_weekdays=list(settings.business_weekdays),
        business_hours=(settings.business_hours_start, settings.business_hours_end),
        keyword_regex=keyword_regex(settings),
        weak_keyword_regex=weak_keyword_regex(settings),
        common_limits_cents=[int(v * 100) for v in settings.common_approval_limits],
        below_approval_share=settings.below_approval_share,
        round_unit_cents=line_rule.round_unit_cents,
        ending_modulus_cents=modulus,
        ending_cents_modulus_cents=cents_modulus,
        descriptions=line_rule.header_text or line_rule.line_text,
        not_run=not_run,
    )

    models: dict[str, anomaly_model.EntityModel] = {}
    if "ml_outlier" not in not_run:
        say("anomaly model")
        models = fit_models(journals, context, settings)
        lap("model_fit")

    say("judging entries")
    weights = test_weights(settings)
    # The journal summary has one row per entry, so any slice of it is a partition holding whole entries:
    # the judgement needs no shuffle, and the local engine judges it slice by slice to bound memory.
    judge = _Judge(context, models, weights, settings)
    # Unsorted: ``rank`` puts the entries in their total order, whatever order they arrive in.
    judging = BatchComputation("je_entries", map=judge)
    totals = population_totals(journals, facts)
    if chosen == "local":
        # Put together in one piece by ``rank``, once the journal summary is gone.
        assessed = [judge.assess(journals.slice(start, JUDGE_SLICE))
                    for start in range(0, journals.height, JUDGE_SLICE)]
        tripped = judge.explain(pl.concat([t for t, _ in assessed]))
        judged = pl.concat([tripped, *(q for _, q in assessed)], rechunk=False)
        del assessed, tripped, journals
    else:
        # The workers read the summary from the object store: the driver's copy can go before the judged
        # entries arrive.
        del journals
        judged = run_journals(judging)
    judged, prevalence_table = weigh_by_prevalence(judged, weights, settings)
    entries = rank(judged)
    del judged
    lap("entries")

    say("flagged lines")
    flagged = entries.filter(pl.col("tests").list.len() > 0).select(
        *KEYS, "risk_score", "risk_band", entry_tests="tests")
    seldom = context.facts.select("entity_id", "seldom_max")
    lines = run_lines(line_flags(line_rule, flagged, accounts, seldom, benford_lines.select(*KEYS, "line_number")))
    lap("lines")

    population = population_summary(
        journals=totals, accounts=accounts, facts=facts, coverage=coverage, rows=rows, not_run=not_run,
        sequence=sequence, gaps=gaps, duplicates=context.duplicates, entries=entries, settings=settings,
        trial_balance=trial_balance, limits=limits, models=models, max_missing=settings.sequence_gap_max_missing,
        prevalence=prevalence_table, worked=worked, worked_by_interfaces=worked_by_interfaces, hours=hours,
        standard=standard, closed=closed, weekdays=weekdays)
    lap("population_summary")
    return JEAnalysis(entries=entries, lines=lines, population=population, settings=settings, facts=facts,
                      accounts=accounts, not_run=not_run, engine=chosen, timings=timings)


# --- Pieces of the analysis --------------------------------------------------------------------------


def tests_not_run(settings: JETestSettings, coverage: dict[str, int], rows: int, accounts: pl.DataFrame,
                  journals: pl.DataFrame, chart: pl.DataFrame | None) -> dict[str, str]:
    """Tests that cannot run on this ledger, and why: a missing field is never a pass."""
    reasons: dict[str, str] = {}
    empty = {f for f in LINE_FIELDS if f in coverage and coverage[f] == 0}
    for test in CATALOGUE:
        for need in test.needs:
            options = need.split("|")
            if all(option in empty for option in options):
                names = " or ".join(options)
                reasons[test.id] = f"the ledger has no {names}: {test.title.lower()} cannot be judged"
    for test_id in settings.disabled_tests:
        reasons[test_id] = "disabled in the settings"
    if not settings.ml_enabled:
        reasons.setdefault("ml_outlier", "disabled in the settings (ml_enabled = false)")
    if not accounts["is_suspense"].any() and accounts["account_name"].null_count() == accounts.height \
            and not any(settings.for_entity(e).suspense_accounts for e in accounts["entity_id"].unique()):
        reasons.setdefault("suspense_account", "no chart of accounts, no account names and no listed suspense "
                                               "accounts: suspense accounts cannot be recognised")
    if all(coverage.get(f, 0) == 0 for f in ("manual_entry", "entered_by", "source", "document_type")):
        for test_id in ("manual_to_sensitive_account", "after_hours"):
            reasons.setdefault(test_id, "the ledger marks no manual entries and has no user or source to tell them "
                                        "by: entries keyed by people cannot be told from system ones")
    stated_limits = any(settings.for_entity(e).approval_limit is not None or settings.for_entity(e).approval_limits_by_user
                        for e in accounts["entity_id"].unique())
    if coverage.get("approved_by", 0) == 0 and not stated_limits:
        reasons.setdefault("below_approval_threshold", "the ledger records no approvals and the engagement states no "
                                                       "approval limit: no limit to be just below")
    numbered = journals["journal_id"].str.contains(r"\d$").sum()
    if numbered == 0:
        reasons.setdefault("sequence_gap", "journal ids carry no numbers: there is no sequence to check")
    return reasons


# Days before the fiscal year end from which the next year's first entries may be keyed (a payroll run for the
# first days of the new year, processed before the old one ends).
YEAR_END_LEAD_DAYS = 3


def _gaps_at_year_boundaries(gaps: pl.DataFrame, facts: dict[str, EntityFacts]) -> pl.DataFrame:
    """``at_year_boundary``: the hole's numbers were taken while two fiscal years were open at once.

    Where one number range runs on across the years, the entries of the previous year's close, keyed in the
    first weeks of this year, and the next year's first entries, keyed from just before this year's end (a
    payroll run processed ahead) and during its close, take numbers between this year's: the export of one
    year shows holes there that no one deleted. A hole counts as such when the entries either side of it were
    keyed around such a window (this year's start up to as many days after it as the close takes, or from
    ``YEAR_END_LEAD_DAYS`` before this year's end onwards: every entry of this year keyed after its end, by
    the closing date or later, is keyed among the next year's) and its sequence does not begin the year
    afresh (a range of the year's own, ``stats.sequence_numbers``); it still trips sequence_gap, weakly
    (``rules.YEAR_BOUNDARY_GAP_STRENGTH``): the auditor checks it against the neighbouring year.
    """
    windows = pl.DataFrame(
        [(e, f.fiscal_year_start, f.fiscal_year_start + (f.closing_date - f.fiscal_year_end),
          f.fiscal_year_end - timedelta(days=YEAR_END_LEAD_DAYS), date.max) for e, f in facts.items()],
        schema={"entity_id": pl.String, "_start_from": pl.Date, "_start_to": pl.Date, "_end_from": pl.Date,
                "_end_to": pl.Date}, orient="row")
    before, after = pl.col("previous_entry_date"), pl.col("entry_date")

    def around(start: str, end: str) -> pl.Expr:
        return (before <= pl.col(end)) & (after >= pl.col(start))

    return (gaps.join(windows, on="entity_id", how="left")
            .with_columns(at_year_boundary=((around("_start_from", "_start_to") | around("_end_from", "_end_to"))
                                            & ~pl.col("starts_afresh")).fill_null(False))
            .drop("_start_from", "_start_to", "_end_from", "_end_to"))


def _copies(journals: pl.DataFrame, groups: pl.DataFrame, same_date: bool) -> pl.DataFrame:
    """(entity, journal, duplicate_of, duplicate_original) for every entry of a group of identical entries.

    Every member is flagged, each naming another: which one is the copy is for the auditor to establish
    (the later-keyed is the likelier; the first-keyed is marked ``duplicate_original`` and weighs less).
    """
    keys = stats.duplicate_keys(same_date)
    schema = {"entity_id": pl.String, "journal_id": pl.String, "duplicate_of": pl.String,
              "duplicate_original": pl.Boolean}
    if groups.is_empty():
        return pl.DataFrame(schema=schema)
    members = (stats.with_duplicate_text(journals).select(*keys, "journal_id", "entry_date", "entry_time")
               .join(groups.select(*keys, "original"), on=keys, how="inner")
               .sort([*keys, "entry_date", "entry_time", "journal_id"], nulls_last=True)
               .with_columns(second=pl.col("journal_id").get(1).over(keys)))
    return (members.select(
        "entity_id", "journal_id",
        duplicate_of=pl.when(pl.col("journal_id") == pl.col("original")).then(pl.col("second"))
        .otherwise(pl.col("original")),
        duplicate_original=pl.col("journal_id") == pl.col("original"),
    ).sort(KEYS))


def _split_groups(same_day: pl.DataFrame, limits: pl.DataFrame, settings: JETestSettings) -> pl.DataFrame:
    """Entries split to stay under an approval limit: one user, one day, the same accounts, each part below
    the limit, together above it, and each part a real share of it: of a split in k parts, each at least
    ``split_entry_min_share`` of the limit / (k - 1) (two halves of 0.5 or more; three parts of 0.25 or more, as
    67,436.25 keyed as 24,880.40 + 22,615.75 + 19,940.10 under 50,000.00). The parts are the largest entries
    of the day's group, as many as meet that.

    The limit is the poster's (stated or read from approvals); without one, each common limit is tried and
    the smallest that fits is named. Returns (entity, journal, split_entries, split_total, split_limit).
    """
    schema = {"entity_id": pl.String, "journal_id": pl.String, "split_entries": pl.Int64,
              "split_total": pl.Int64, "split_limit": pl.Int64}
    entries = (same_day.filter(pl.col("journal_id").list.len() >= settings.split_entry_min_entries)
               .explode(["journal_id", "debit_cents"]))
    if entries.is_empty():
        return pl.DataFrame(schema=schema)
    common = pl.DataFrame({"common_cents": sorted(int(v * 100) for v in settings.common_approval_limits)},
                          schema={"common_cents": pl.Int64})
    keys = [*stats.SPLIT_KEYS, "split_limit"]
    candidates = (entries.join(limits.select("entity_id", "entered_by", "limit_cents"), on=["entity_id", "entered_by"],
                               how="left")
                  .join(common, how="cross")
                  .with_columns(split_limit=pl.coalesce("limit_cents", "common_cents"))
                  .unique([*stats.SPLIT_KEYS, "journal_id", "split_limit"])
                  .filter(pl.col("debit_cents") < pl.col("split_limit")))
    # Within each group, the parts largest first (ties by journal): the k-th part is the smallest of the first
    # k, so "each of the first k is a real share" is a condition on the k-th alone.
    ranked = (candidates.sort([*keys, "debit_cents", "journal_id"], descending=[False] * len(keys) + [True, False])
              .with_columns(_k=pl.int_range(1, pl.len() + 1).over(keys),
                            _total=pl.col("debit_cents").cum_sum().over(keys)))
    fits = ((pl.col("_k") >= settings.split_entry_min_entries) & (pl.col("_total") > pl.col("split_limit"))
            & (pl.col("debit_cents") * (pl.col("_k") - 1) >= pl.col("split_limit") * settings.split_entry_min_share))
    parts = (ranked.with_columns(_parts=pl.when(fits).then(pl.col("_k")).max().over(keys))
             .filter(pl.col("_k") <= pl.col("_parts")))
    groups = (parts.group_by(keys).agg(pl.col("journal_id"), split_entries=pl.len().cast(pl.Int64),
                                       split_total=pl.col("debit_cents").sum())
              .sort([*stats.SPLIT_KEYS, "split_limit"])
              .unique(list(stats.SPLIT_KEYS), keep="first"))
    return (groups.explode("journal_id").select(list(schema))
            .unique(["entity_id", "journal_id"], keep="first").sort(KEYS))


def _benford(settings: JETestSettings, coverage: dict[str, int], rows: int, line_rule: LineRules,
             run_lines: Callable[[Any], pl.DataFrame]) -> tuple[pl.DataFrame, str | None]:
    """Lines in subsets whose digits do not conform to Benford's law (``auditray.je.digits``).

    Two passes over the lines on the chosen engine, never the whole ledger in one process: the digit counts
    of every subset (summed across partitions), then the lines of the nonconforming subsets alone. The screen
    between them reads only the counts; after them each nonconforming subset is tested again with its
    recurring amounts set aside, and drilled into (``digits.marks_without_recurring``).
    """
    empty = pl.DataFrame(schema={"entity_id": pl.String, "journal_id": pl.String, "line_number": pl.Int32,
                                 "explanation": pl.String})
    if "benford_outlier" in settings.disabled_tests:
        return empty, "disabled in the settings"
    try:
        from auditray.je import digits
    except ImportError:
        return empty, "the digit tests (auditray.je.digits) are not installed"
    groupings = [tuple(g) for g in settings.benford_by] if settings.benford_by else list(digits.DEFAULT_SUBSETS)
    present = [g for g in groupings if all(coverage.get(c, rows) > 0 for c in g)]
    if not present:
        fields = sorted({c for g in groupings for c in g if coverage.get(c, rows) == 0})
        return empty, f"the ledger has no {', '.join(fields)}: the digit subsets cannot be formed"
    columns = sorted({*KEYS, "line_number", "amount", "effective_date", *(c for g in present for c in g)})
    told = any(coverage.get(c, 0) for c in ("entered_by", "source", "document_type"))
    inferred = settings.benford_manual_only and line_rule.infer_manual and told
    # The digit tests look at manual entries (auditray.je.digits.manual_population): where the ledger does not
    # mark every line, manual lines are told from system ones as for every other test (``prepare_lines``).
    manual_only = settings.benford_manual_only and bool(coverage.get("manual_entry", 0) or inferred)

    def tested(lines: pl.LazyFrame) -> pl.LazyFrame:
        if inferred:
            lines = prepare_lines(conform(lines, line_rule), line_rule).select(*columns, manual=pl.col("_manual"))
        else:
            lines = conform(lines).select(*columns, manual=pl.col("manual_entry"))
        return lines.filter(pl.col("manual").fill_null(False)).drop("manual") if manual_only else \
            lines.drop("manual")

    counts = run_lines(LazyComputation(
        "je_digit_counts", lambda lines: digits.screen_counts(tested(lines), present, entry_key=KEYS),
        combine=digits.sum_counts, partition_by=tuple(KEYS)))
    subsets, comparisons = digits.screen(counts, present)
    if digits.failing_subsets(subsets).is_empty():
        return empty, None
    members = run_lines(LazyComputation(
        "je_digit_subset_lines", lambda lines: digits.subset_lines(tested(lines), subsets, keep=columns)))
    marks = digits.marks_without_recurring(members, subsets, comparisons, entry_key=KEYS)
    if marks.is_empty():
        return empty, None
    flags = digits.flags_from_marks(marks)
    return flags.select(*digits.LINE_KEY, explanation="benford_explanation").with_columns(
        pl.col("line_number").cast(pl.Int32)), None


def _benford_entries(lines: pl.DataFrame) -> pl.DataFrame:
    return (lines.group_by(KEYS).agg(benford_explanation=pl.col("explanation").min())
            .sort(KEYS) if lines.height else
            pl.DataFrame(schema={"entity_id": pl.String, "journal_id": pl.String, "benford_explanation": pl.String}))


def fit_models(journals: pl.DataFrame, context: rules.EntryContext,
               settings: JETestSettings) -> dict[str, anomaly_model.EntityModel]:
    """One seeded isolation forest per entity, fitted on a reproducible sample of its entries."""
    models = {}
    keyed = journals.select(KEYS).with_row_index("_row")
    for entity in keyed["entity_id"].unique().sort().to_list():
        part = keyed.filter(pl.col("entity_id") == entity)
        chosen = anomaly_model.fit_sample(part.select(KEYS), settings.ml_max_fit_entries, settings.ml_seed)
        sample = journals[part["_row"].gather(pl.Series(chosen, dtype=pl.UInt32))]
        # Sorted: the forest's subsampling is by row position, so the fit needs the same row order every time.
        frame = rules.with_context(sample, context).sort(KEYS)
        features = anomaly_model.entry_features(frame, holidays=context.holidays,
                                                business_weekdays=context.business_weekdays)
        models[entity] = anomaly_model.fit_entity_model(
            entity, features.to_numpy(), part.height, trees=settings.ml_trees, seed=settings.ml_seed,
            tail_share=settings.ml_tail_share)
    return models


_EXPLAIN_COLUMNS = ("entity_id", "debit_cents", "max_z_ratio", "max_z_account", "debit_account", "credit_account",
                    "pair_journals", "entered_by", "user_account_journals", "user_journals", "entity_journals",
                    "entry_time", "n_lines")


class _Judge:
    """The per-partition judgement of entries: context, model score, test strengths, risk and reasons.

    Called on a partition, it judges and explains it whole (the Ray engine's map). The local engine judges
    slice by slice with ``assess`` and explains every tripped entry at once with ``explain``: explaining is
    some fifty text expressions over the few entries that tripped a test, whose cost per call, not per entry,
    would otherwise be paid once per slice.
    """

    def __init__(self, context: rules.EntryContext, models: dict[str, anomaly_model.EntityModel],
                 weights: dict[str, float], settings: JETestSettings) -> None:
        self.context, self.models, self.weights, self.settings = context, models, weights, settings
        self.tables = rules.ContextTables(context)
        self.columns = [c for c in ENTRY_COLUMNS if c not in ("risk_rank", "amount", "line_count")]

    def __call__(self, journals: pl.DataFrame) -> pl.DataFrame:
        tripped, quiet = self.assess(journals)
        return pl.concat([self.explain(tripped), quiet])

    def assess(self, journals: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(entries that tripped a test, with everything their explanations need; the others, finished)."""
        context = self.context
        frame = rules.with_context(journals, context, self.tables)
        if self.models:
            features = anomaly_model.entry_features(frame, holidays=context.holidays,
                                                    business_weekdays=context.business_weekdays)
            scored = anomaly_model.score_entries(frame.select(_EXPLAIN_COLUMNS), features, self.models)
        else:
            scored = pl.select(ml_score=pl.repeat(None, frame.height, dtype=pl.Float64),
                               ml_outlier=pl.repeat(False, frame.height, dtype=pl.Boolean),
                               ml_strength=pl.repeat(0.0, frame.height, dtype=pl.Float64),
                               ml_explanation=pl.repeat(None, frame.height, dtype=pl.String))
        frame = rules.score_entries(frame.hstack(scored), context)
        frame = frame.with_columns(risk_score=risk_score(self.weights)).with_columns(
            risk_band=risk_band(pl.col("risk_score"), self.settings))
        tripped = frame.filter(pl.col("risk_score") > 0)
        # Most entries trip nothing: only the columns they keep are copied.
        quiet = frame.select(c for c in (*self.columns, "debit_cents", "n_lines") if c in frame.columns).filter(
            pl.col("risk_score") <= 0)
        quiet = quiet.with_columns(tests=pl.lit([], dtype=pl.List(pl.String)),
                                   test_scores=pl.lit([], dtype=pl.List(pl.Float64)),
                                   explanations=pl.lit([], dtype=pl.List(pl.String)))
        return tripped, self._finish(quiet)

    def explain(self, tripped: pl.DataFrame) -> pl.DataFrame:
        """The tripped entries with their tests, scores and reasons, finished."""
        explained = rules.explain_entries(tripped, self.context).with_columns(**tripped_lists(self.weights))
        return self._finish(explained)

    def _finish(self, entries: pl.DataFrame) -> pl.DataFrame:
        return entries.select(*self.columns, amount=cents_to_money(pl.col("debit_cents")).cast(MONEY_SUM_DTYPE),
                              line_count=pl.col("n_lines"))


def rank(judged: pl.DataFrame) -> pl.DataFrame:
    """Entries from the riskiest down: risk, then model score, then a fixed hash of entity and journal.

    A total order, the same on every engine and every run. Ties of risk and model score (entries that tripped
    nothing, with the model off) are broken by a 64-bit hash of the entry's key rather than by the key's text:
    a multi-column sort with text keys costs seconds on millions of entries, while three stable one-key sorts
    cost a fraction of one. Should two tied entries ever share a hash, their text decides.
    """
    keys = judged.select("risk_score", "ml_score", _tie=tie_break()).with_row_index("_row")
    # Least significant key first; each stable sort keeps the order of the keys sorted before it.
    keys = (keys.sort("_tie")
            .sort("ml_score", descending=True, nulls_last=True, maintain_order=True)
            .sort("risk_score", descending=True, maintain_order=True))
    # Sorted by the three keys, equal keys sit side by side: a clash is a row equal to the one before it.
    clash = keys.select(pl.all_horizontal([pl.col(c).eq_missing(pl.col(c).shift()) for c in ("risk_score", "ml_score",
                                                                                            "_tie")]).any()).item()
    if clash:
        ordered = judged.sort(["risk_score", "ml_score", "entity_id", "journal_id"],
                              descending=[True, True, False, False], nulls_last=True)
    else:
        ordered = _in_order(judged, keys["_row"], tripped=int((keys["risk_score"] > 0).sum()))
    return ordered.with_columns(risk_rank=pl.int_range(1, ordered.height + 1, dtype=pl.Int64)).select(ENTRY_COLUMNS)


def _in_order(judged: pl.DataFrame, rows: pl.Series, *, tripped: int) -> pl.DataFrame:
    """``judged``'s rows in the order ``rows`` gives, the ``tripped`` first ones being the entries with a risk.

    The entries with no risk (nearly all of them) tripped no test: their lists are empty, so only their
    other columns are gathered and the lists are set afresh (gathering millions of list values, from the
    many pieces the judgement made, costs several times more).
    """
    lists = [name for name, dtype in judged.schema.items() if isinstance(dtype, pl.List)]
    listed = pl.any_horizontal([pl.col(c).list.len() > 0 for c in lists]) if lists else pl.lit(False)
    if judged.select(((pl.col("risk_score") <= 0) & listed).any()).item():
        return _gathered(judged, rows)
    quiet = _gathered(judged.drop(lists), rows.slice(tripped)).with_columns(
        pl.lit([], dtype=judged.schema[c]).alias(c) for c in lists)
    return pl.concat([judged[rows.head(tripped)], quiet.select(judged.columns)])


def _gathered(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """``frame[rows]`` for a frame in many pieces, a column at a time: gathering from one piece is several
    times faster than from many, and putting one column, not the whole frame, in one piece first keeps the
    peak memory at the frame and its result (two columns at a time, on two threads)."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="auditray-je-rank") as pool:
        return pl.DataFrame(list(pool.map(lambda name: frame[name].rechunk().gather(rows), frame.columns)))


_RANK_SEED = 2401


def tie_break() -> pl.Expr:
    """The last key of the ranking: a fixed 64-bit hash of entity and journal (the same in every run)."""
    return pl.struct("entity_id", "journal_id").hash(seed=_RANK_SEED)


# --- The population summary --------------------------------------------------------------------------


@dataclass
class JournalTotals:
    """What the population summary needs of the journal summary, taken before the summary is dropped."""

    journals: int
    per_entity: pl.DataFrame
    by_period: pl.DataFrame
    outside_fiscal_year: dict[str, int]


def population_totals(journals: pl.DataFrame, facts: dict[str, EntityFacts]) -> JournalTotals:
    """Entries, manual entries, dates, balance and period coverage per entity, from the journal summary."""
    per_entity = journals.group_by("entity_id").agg(
        journals=pl.len(), manual_journals=pl.col("manual").sum(),
        first_effective=pl.col("effective_date").min(), last_effective=pl.col("effective_date").max(),
        unbalanced=(pl.col("balance_cents") != 0).sum(),
        unbalanced_net=pl.col("balance_cents").filter(pl.col("balance_cents") != 0).sum(),
        unbalanced_abs=pl.col("balance_cents").abs().sum(),
    )
    by_period = (grouping.group_by(journals, ("entity_id", "fiscal_year", "period"), pl.len().alias("journals"),
                                   pl.col("debit_cents").sum().alias("debits"))
                 .sort("entity_id", "fiscal_year", "period"))
    bounds = pl.DataFrame([(e, f.fiscal_year_start, f.fiscal_year_end) for e, f in facts.items()],
                          schema={"entity_id": pl.String, "_start": pl.Date, "_end": pl.Date}, orient="row")
    outside = (journals.select("entity_id", "effective_date").join(bounds, on="entity_id", how="left")
               .filter((pl.col("effective_date") < pl.col("_start")) | (pl.col("effective_date") > pl.col("_end")))
               .group_by("entity_id").len())
    return JournalTotals(journals=journals.height, per_entity=per_entity, by_period=by_period,
                         outside_fiscal_year={e: int(n) for e, n in outside.iter_rows()})


def population_summary(*, journals: JournalTotals, accounts: pl.DataFrame, facts: dict[str, EntityFacts],
                       coverage: dict[str, int], rows: int, not_run: dict[str, str], sequence: pl.DataFrame,
                       gaps: pl.DataFrame, duplicates: pl.DataFrame, entries: pl.DataFrame, settings: JETestSettings,
                       trial_balance: pl.DataFrame | None, limits: pl.DataFrame,
                       models: dict[str, anomaly_model.EntityModel], max_missing: int,
                       prevalence: pl.DataFrame, worked: Sequence[date] = (),
                       worked_by_interfaces: Sequence[date] = (),
                       hours: Sequence[int] = (), standard: pl.DataFrame, closed: pl.DataFrame,
                       weekdays: pl.DataFrame) -> dict[str, Any]:
    """What the population is and how whole it is, per entity, before any entry is judged (AS 2401 .61)."""
    entities: dict[str, Any] = {}
    totals = accounts.group_by("entity_id").agg(
        lines=pl.col("lines").sum(), debits=pl.col("debit_cents").sum(), credits=pl.col("credit_cents").sum(),
        net=pl.col("activity_cents").sum(), accounts=pl.len())
    per_entity, by_period = journals.per_entity, journals.by_period
    breaks = sequence.filter(pl.col("missing") > max_missing)
    bands = entries.group_by("entity_id", "risk_band").len()
    tripped = (entries.select("entity_id", "tests").explode("tests").drop_nulls("tests")
               .group_by("entity_id", "tests").len())
    for row in totals.join(per_entity, on="entity_id").sort("entity_id").iter_rows(named=True):
        entity = row["entity_id"]
        patterns = (standard.filter(pl.col("entity_id") == entity)
                    .sort("pattern_months", "pattern_top_cents", descending=True, maintain_order=True))
        fact = facts[entity]
        periods = by_period.filter(pl.col("entity_id") == entity)
        entity_gaps = gaps.filter(pl.col("entity_id") == entity)
        entity_limits = limits.filter(pl.col("entity_id") == entity)
        entities[entity] = {
            "control_totals": {
                "lines": int(row["lines"]), "journals": int(row["journals"]),
                "manual_journals": int(row["manual_journals"]), "accounts": int(row["accounts"]),
                "debits": money_text(row["debits"]), "credits": money_text(row["credits"]),
                "net": money_text(row["net"]),
            },
            "period_coverage": {
                "first_effective_date": row["first_effective"].isoformat(),
                "last_effective_date": row["last_effective"].isoformat(),
                "fiscal_year": [fact.fiscal_year_start.isoformat(), fact.fiscal_year_end.isoformat()],
                "periods": [{"fiscal_year": p["fiscal_year"], "period": p["period"], "journals": p["journals"],
                             "debits": money_text(p["debits"])} for p in periods.iter_rows(named=True)],
                "entries_outside_fiscal_year": journals.outside_fiscal_year.get(entity, 0),
            },
            "unbalanced_entries": {"count": int(row["unbalanced"]), "net": money_text(row["unbalanced_net"] or 0),
                                   "gross": money_text(row["unbalanced_abs"])},
            "sequence": {
                "gaps": entity_gaps.height, "missing_numbers": int(entity_gaps["missing"].sum() or 0),
                "gaps_at_year_boundary": int(entity_gaps["at_year_boundary"].sum()),
                "range_breaks": breaks.filter(pl.col("entity_id") == entity).height,
                "examples": [f"{g['missing']} missing before {g['journal_id']}" for g in
                             entity_gaps.head(10).iter_rows(named=True)],
            },
            "duplicates": duplicates.filter(pl.col("entity_id") == entity).height,
            "standard_entry_patterns": {
                "count": patterns.height,
                "examples": [f"{p['entered_by']} keyed {p['pattern_source'] + ' ' if p['pattern_source'] else ''}"
                             f"{p['debit_account']} / {p['credit_account']} in "
                             f"{p['pattern_months']} months, up to {money_text(p['pattern_top_cents'])}"
                             for p in patterns.head(10).iter_rows(named=True)],
            },
            "facts": fact.to_dict(),
            "approval_limits": {r["entered_by"]: {"limit": money_text(r["limit_cents"]), "basis": r["limit_basis"]}
                                for r in entity_limits.iter_rows(named=True)},
            "model": ({"fitted_on": models[entity].fitted_on, "population": models[entity].population,
                       "tail_share": models[entity].tail_share} if entity in models else None),
            "risk_bands": {b: int(n) for _, b, n in bands.filter(pl.col("entity_id") == entity).iter_rows()},
            "tests_tripped": {t: int(n) for _, t, n in tripped.filter(pl.col("entity_id") == entity)
                              .sort("tests").iter_rows()},
            # Tests common enough in this entity to weigh less (auditray.je.scoring, common_test_share).
            "common_tests": {r["test"]: {"entries": int(r["entries"]), "share": round(r["share"], 6),
                                         "weight_factor": round(r["weight_factor"], 6)}
                             for r in prevalence.filter((pl.col("entity_id") == entity)
                                                        & (pl.col("weight_factor") < 1)).iter_rows(named=True)},
        }
    summary: dict[str, Any] = {
        "lines": rows,
        "journals": journals.journals,
        "entities": entities,
        "field_coverage": {f: {"values": n, "share": round(n / rows, 6) if rows else 0.0}
                           for f, n in coverage.items()},
        "tests_run": [t for t in TEST_IDS if t not in not_run],
        "tests_not_run": dict(sorted(not_run.items())),
        "risk_bands": {b: int(n) for b, n in entries.group_by("risk_band").len().iter_rows()},
        "tests_tripped": {t: int(n) for t, n in tripped.group_by("tests").agg(pl.col("len").sum())
                          .sort("tests").iter_rows()},
        "completeness": completeness(trial_balance, accounts),
        "holidays_worked": {
            "days": [d.isoformat() for d in worked],
            "by_interfaces": [d.isoformat() for d in worked_by_interfaces],
            "basis": f"calendar holidays on which at least {WORKED_HOLIDAY_SHARE:.0%} of an ordinary working day's "
                     "entries were keyed, leaving out the users who post every day, days off included (a revenue "
                     "engine, a point of sale): working days for the period-end windows; a person's entry on one "
                     f"trips holiday_posting at {rules.WORKED_HOLIDAY_STRENGTH} strength. by_interfaces: the "
                     "holidays on which the interfaces posted as much of their ordinary day's: an interface's "
                     "posting on one does not trip holiday_posting",
        },
        "closed_days": {
            "days": [{"entity_id": r["entity_id"], "date": r["entry_date"].isoformat(),
                      "entries": r["closed_day_entries"], "ordinary_day": r["closed_day_usual"]}
                     for r in closed.iter_rows(named=True)],
            "basis": f"working days, not calendar holidays, on which an entity keyed at most {CLOSED_DAY_SHARE:.0%} "
                     f"of its median working day's entries (a median of at least {CLOSED_DAY_MIN_DAY}), unless that "
                     f"weekday is as quiet on more than {CLOSED_WEEKDAY_MAX_SHARE:.0%} of its days: days its office "
                     "was closed; an entry keyed on one trips holiday_posting (not inferred when the "
                     "engagement states its holidays)",
        },
        "standard_entries": {
            "min_months": settings.standard_entry_min_months,
            "max_spread": settings.standard_entry_max_spread,
            "amount_tolerance": settings.standard_entry_amount_tolerance,
            "basis": "one user's entries from one source to one main debit and credit account keyed in at least "
                     "min_months different months, the middle half of the months' largest amounts within a factor max_spread "
                     "(AS 2401 .58, ISA 240 A42: standard entries); an entry of such a pattern, "
                     "no larger than amount_tolerance times the pattern's largest amount in any other month and "
                     "no smaller than the lower quartile of its months' largest amounts divided by max_spread, "
                     f"trips high_value, manual_to_sensitive_account and period_end at {rules.STANDARD_ENTRY_STRENGTH} "
                     "strength, an interface's does not trip high_value (0 months: not recognised)",
        },
        "weekdays_worked": {
            "days": [{"entity_id": r["entity_id"], "by": "people" if r["worked_manual"] else "interfaces",
                      "weekday": rules.ISO_DAY_NAMES[r["entry_weekday"]], "dates_keyed": r["worked_weekday_dates"],
                      "dates": r["weekday_dates"]} for r in weekdays.iter_rows(named=True)],
            "basis": f"days outside the business week on which an entity's interfaces, or apart from them its people, "
                     f"keyed entries on at least {WORKED_WEEKDAY_SHARE:.0%} of that weekday's dates in the fiscal "
                     "year: an interface's posting on a day its interfaces work does not trip weekend_posting, a "
                     f"person's entry on a day its people work trips it at {rules.WORKED_WEEKDAY_STRENGTH} strength "
                     "(not inferred when the engagement states its business weekdays)",
        },
        "hours_worked": {
            "hours": [f"{h:02d}:00-{h:02d}:59" for h in hours],
            "basis": f"hours next to business hours in which people keyed at least {WORKED_HOUR_SHARE:.0%} of an "
                     "ordinary office hour's manual entries: a manual entry keyed in one trips after_hours at "
                     f"{rules.WORKED_HOUR_STRENGTH} strength",
        },
    }
    return summary


def completeness(trial_balance: pl.DataFrame | None, accounts: pl.DataFrame) -> dict[str, Any]:
    """Does the GL activity roll the trial balance forward, account by account (AS 2401 .61; ISA 240 A43)?"""
    if trial_balance is None:
        return {"checked": False, "reason": "no trial balance given (pass --tb)"}
    from auditray.completeness import roll_forward

    tb = trial_balance
    if "period" in tb.columns and tb["period"].n_unique() > 1:
        # A monthly trial balance: the last period of the latest year carries the year's closing balance.
        latest = tb.group_by("entity_id").agg(pl.col("fiscal_year").max().alias("_year"))
        tb = tb.join(latest, on="entity_id").filter(pl.col("fiscal_year") == pl.col("_year"))
        last = tb.group_by("entity_id").agg(pl.col("period").max().alias("_period"))
        tb = tb.join(last, on="entity_id").filter(pl.col("period") == pl.col("_period"))
    if "opening_balance" not in tb.columns:
        tb = tb.with_columns(opening_balance=pl.lit(0).cast(pl.Decimal(18, 2)))
    activity = accounts.select(
        "entity_id", "gl_account_number",
        activity=cents_to_money(pl.col("activity_cents")).cast(MONEY_SUM_DTYPE), lines=pl.col("lines"))
    rolled = roll_forward(tb, activity)
    off = rolled.filter(pl.col("difference") != 0)
    return {
        "checked": True,
        "accounts": rolled.height,
        "accounts_with_differences": off.height,
        "gl_accounts_missing_from_tb": rolled.filter(~pl.col("in_tb")).height,
        "tb_accounts_without_gl_activity": rolled.filter(~pl.col("in_gl") & (pl.col("closing") != pl.col("opening")))
        .height,
        "total_absolute_difference": str(off["difference"].abs().sum() if off.height else 0),
        "differences": [{"entity_id": r["entity_id"], "gl_account_number": r["gl_account_number"],
                         "opening": str(r["opening"]), "activity": str(r["activity"]), "closing": str(r["closing"]),
                         "difference": str(r["difference"])} for r in off.head(50).iter_rows(named=True)],
        "rolls_forward": off.height == 0,
    }


# --- Outputs -----------------------------------------------------------------------------------------


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, or of a directory's Parquet files (their names and contents, in order)."""
    target = Path(path)
    digest = hashlib.sha256()
    files = sorted(target.rglob("*.parquet")) if target.is_dir() else [target]
    for file in files:
        if target.is_dir():
            digest.update(str(file.relative_to(target)).encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def write_outputs(analysis: JEAnalysis, out_dir: str | Path, *, inputs: dict[str, Any] | None = None,
                  code_version: str | None = None, parameters: dict[str, Any] | None = None) -> dict[str, Path]:
    """entries.parquet, lines.parquet, population.json, settings.json; written to a temporary directory
    beside ``out_dir`` and renamed into place, so a reader never sees half a result."""
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        analysis.entries.write_parquet(staging / "entries.parquet")
        analysis.lines.write_parquet(staging / "lines.parquet")
        (staging / "population.json").write_text(json.dumps(analysis.population, indent=2, default=str) + "\n")
        weights = test_weights(analysis.settings)
        record = {
            "created_at": datetime.now(UTC).isoformat(),
            "code_version": code_version,
            "engine": analysis.engine,
            "inputs": inputs or {},
            "parameters": parameters or {},
            "settings": analysis.settings.effective(),
            "catalogue": [{**row, "effective_weight": weights[row["id"]]} for row in catalogue_table()],
            "tests_not_run": analysis.not_run,
            "facts": {e: f.to_dict() for e, f in analysis.facts.items()},
            "risk_formula": "risk = 1 - prod_i (1 - w_i * f_i * s_i), f_i = min(1, sqrt(common_test_share / share "
                            "of the entity's entries tripping test i)); bands: high >= "
                            f"{analysis.settings.high_risk_from}, medium >= {analysis.settings.medium_risk_from}",
        }
        (staging / "settings.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
        if target.exists():
            retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {name: target / name for name in ("entries.parquet", "lines.parquet", "population.json", "settings.json")}


def detection_report(entries: pl.DataFrame, labels: pl.DataFrame, *, top_share: float = 0.01) -> dict[str, Any]:
    """How many labelled entries each test found, and how many sit in the top ``top_share`` by risk.

    For synthetic ledgers with known anomalies (``auditray generate`` writes labels.parquet): recall per
    kind is the share of planted entries of that kind whose tests include the kind's test id.
    """
    planted = labels.select("entity_id", "journal_id", "kind").unique()
    joined = planted.join(entries.select("entity_id", "journal_id", "tests", "risk_rank"),
                          on=["entity_id", "journal_id"], how="left")
    per_kind = (joined.with_columns(found=pl.col("tests").list.contains(pl.col("kind")).fill_null(False))
                .group_by("kind").agg(planted=pl.len(), found=pl.col("found").sum()).sort("kind"))
    cut = max(1, int(np.floor(entries.height * top_share)))
    planted_entries = planted.select("entity_id", "journal_id").unique()
    in_top = planted_entries.join(entries.filter(pl.col("risk_rank") <= cut).select("entity_id", "journal_id"),
                                  on=["entity_id", "journal_id"], how="semi").height
    return {
        "entries": entries.height,
        "top_entries": cut,
        "planted_entries": planted_entries.height,
        "planted_in_top": in_top,
        "top_capture": in_top / planted_entries.height if planted_entries.height else None,
        "recall": {k: {"planted": int(p), "found": int(f), "recall": round(f / p, 4)}
                   for k, p, f in per_kind.iter_rows()},
    }


__all__ = ["ENTRY_COLUMNS", "JEAnalysis", "analyze", "detection_report", "rank", "sha256_of", "write_outputs"]
