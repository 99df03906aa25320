"""Completeness of the ledger: does GL activity roll the trial balance forward?

AS 2401 .61 and ISA 240 A43 expect the auditor to test journal entries from a complete
population. The first check is that opening balance + GL activity = closing balance for every
account; differences mean the ledger extract is incomplete or the TB is not the one it feeds.
"""

from __future__ import annotations

import polars as pl

from auditray.contract.money import MONEY_SUM_DTYPE
from auditray.engine import BatchComputation


def _activity_partials(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.group_by("entity_id", "gl_account_number").agg(
        activity=pl.col("amount").cast(MONEY_SUM_DTYPE).sum(),
        debits=pl.col("amount").filter(pl.col("amount") > 0).cast(MONEY_SUM_DTYPE).sum(),
        credits=pl.col("amount").filter(pl.col("amount") < 0).cast(MONEY_SUM_DTYPE).sum(),
        lines=pl.len().cast(pl.Int64),
    )


def _combine_activity(partials: pl.DataFrame) -> pl.DataFrame:
    return partials.group_by("entity_id", "gl_account_number").agg(
        pl.col("activity").sum(), pl.col("debits").sum(), pl.col("credits").sum(), pl.col("lines").sum()
    )


ACCOUNT_ACTIVITY = BatchComputation(
    name="account_activity",
    map=_activity_partials,
    combine=_combine_activity,
    sort_by=("entity_id", "gl_account_number"),
    columns=("entity_id", "gl_account_number", "amount"),
)


def roll_forward(trial_balance: pl.DataFrame, activity: pl.DataFrame) -> pl.DataFrame:
    """One row per account in either the TB or the GL, with the difference that breaks the roll-forward.

    ``difference = closing - (opening + activity)``; zero for a complete ledger. With a TB of several
    periods, each entity's latest period is the one the year's activity must reach. Accounts with GL
    activity but no TB row, or a TB movement but no GL activity, show up with the missing side as 0
    and ``in_tb`` / ``in_gl`` flags so the auditor sees which side is missing.
    """
    if {"fiscal_year", "period"} <= set(trial_balance.columns):
        # A TB export may hold every month: the roll-forward is to the latest period of each entity.
        year = pl.col("fiscal_year") == pl.col("fiscal_year").max().over("entity_id")
        trial_balance = trial_balance.filter(year)
        trial_balance = trial_balance.filter(pl.col("period") == pl.col("period").max().over("entity_id"))
    tb = trial_balance.group_by("entity_id", "gl_account_number").agg(
        opening=pl.col("opening_balance").cast(MONEY_SUM_DTYPE).sum(),
        closing=pl.col("closing_balance").cast(MONEY_SUM_DTYPE).sum(),
    )
    joined = tb.join(
        activity.select("entity_id", "gl_account_number", "activity", "lines"),
        on=["entity_id", "gl_account_number"],
        how="full",
        coalesce=True,
    )
    zero = pl.lit(0).cast(MONEY_SUM_DTYPE)
    return (
        joined.with_columns(
            in_tb=pl.col("closing").is_not_null(),
            in_gl=pl.col("lines").is_not_null(),
            opening=pl.col("opening").fill_null(zero),
            closing=pl.col("closing").fill_null(zero),
            activity=pl.col("activity").fill_null(zero),
            lines=pl.col("lines").fill_null(0),
        )
        .with_columns(difference=pl.col("closing") - pl.col("opening") - pl.col("activity"))
        .sort("entity_id", "gl_account_number")
    )
