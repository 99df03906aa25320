"""Per-line flags for the entries that tripped a test: which line of an entry carries which sign.

The entry keeps its strongest line for each line-level test (AS 2401 .61(a), (e): accounts and amounts
are properties of lines); the reviewer then needs to see which lines those were. Only lines of entries that
tripped at least one test are written, each with the entry's tests and risk beside its own line tests.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from auditray.je.population import ACCOUNT_KEYS, KEYS, LazyComputation, LineRules, conform, prepare_lines

LINE_TESTS = ("round_amount", "manual_to_sensitive_account", "seldom_used_account", "suspense_account",
              "benford_outlier")


def line_flags_core(rules: LineRules, flagged: pl.DataFrame, accounts: pl.DataFrame, seldom: pl.DataFrame,
                    benford: pl.DataFrame) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    table = accounts.select(*ACCOUNT_KEYS, "is_sensitive", "is_suspense", "usage", "regular_use")
    wanted = flagged.select(pl.struct(KEYS).alias("_key"))["_key"].implode()

    def core(lines: pl.LazyFrame) -> pl.LazyFrame:
        # A filter on the entry's key, pushed down to the Parquet reader, keeps the other lines (most of the
        # ledger) from ever being materialised; a join would read and hash them all.
        chosen = conform(lines, rules).filter(pl.struct(KEYS).is_in(wanted))
        prepared = (prepare_lines(chosen, rules)
                    .join(flagged.lazy(), on=KEYS, how="inner")
                    .join(table.lazy(), on=ACCOUNT_KEYS, how="left")
                    .join(seldom.lazy(), on="entity_id", how="left")
                    .join(benford.lazy().with_columns(_benford=pl.lit(True)),
                          on=[*KEYS, "line_number"], how="left"))
        cents = pl.col("_cents")
        hits = {
            "round_amount": (cents != 0) & (cents % rules.round_unit_cents == 0),
            "manual_to_sensitive_account": pl.col("_manual").fill_null(True) & pl.col("is_sensitive"),
            "seldom_used_account": (pl.col("usage") <= pl.col("seldom_max")) & ~pl.col("regular_use"),
            "suspense_account": pl.col("is_suspense"),
            "benford_outlier": pl.col("_benford"),
        }
        line_tests = pl.concat_list([pl.when(hit.fill_null(False)).then(pl.lit(name))
                                     for name, hit in hits.items()]).list.drop_nulls()
        return prepared.select(
            *KEYS, "line_number", "gl_account_number", "amount", "effective_date", "entered_by",
            pl.col("_manual").alias("manual"), line_tests.alias("line_tests"), "risk_score", "risk_band",
            "entry_tests",
        )

    return core


def line_flags(rules: LineRules, flagged: pl.DataFrame, accounts: pl.DataFrame, seldom: pl.DataFrame,
               benford: pl.DataFrame) -> LazyComputation:
    return LazyComputation("je_line_flags", line_flags_core(rules, flagged, accounts, seldom, benford),
                           sort_by=(*KEYS, "line_number"))


__all__ = ["LINE_TESTS", "line_flags"]
