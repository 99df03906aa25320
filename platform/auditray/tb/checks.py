"""Checks on a trial balance before anyone relies on it: does it balance, and does the ledger roll it forward?

1. The TB balances: debits equal credits, i.e. closing balances (debit positive) sum to exactly zero per
   entity and period; the opening balances too. An unbalanced TB cannot be the source of statements.
2. Opening balance + GL activity = closing balance, per account (the completeness test of the population
   that journal-entry testing draws on: AS 2401 .61, ISA 240 A43; ISA 500 A49 on information produced by
   the entity), with every difference listed, and the accounts that appear on one side only: in the GL
   but not in the TB, and in the TB with a movement the GL does not explain.

All amounts are exact decimals (``Decimal(38, 2)`` sums); nothing goes through floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from auditray.completeness import ACCOUNT_ACTIVITY, roll_forward
from auditray.contract.money import MONEY_SUM_DTYPE
from auditray.engine import EngineName, run

if TYPE_CHECKING:
    from auditray.settings import Settings

TB_KEYS = ("entity_id", "fiscal_year", "period")
STATUSES = ("agrees", "difference", "in_gl_not_in_tb", "tb_movement_without_gl", "no_activity")


def trial_balance_totals(tb: pl.DataFrame) -> pl.DataFrame:
    """Per entity and period: accounts, total debits, total credits, the net (must be 0) and ``balanced``."""
    zero = pl.lit(0).cast(MONEY_SUM_DTYPE)
    closing = pl.col("closing_balance").cast(MONEY_SUM_DTYPE)
    opening = (pl.col("opening_balance").cast(MONEY_SUM_DTYPE) if "opening_balance" in tb.columns
               else pl.lit(None, dtype=MONEY_SUM_DTYPE))
    keys = [k for k in TB_KEYS if k in tb.columns]
    return (
        tb.group_by(keys)
        .agg(
            accounts=pl.len().cast(pl.Int64),
            debits=closing.filter(closing > 0).sum(),
            credits=(-closing.filter(closing < 0)).sum(),
            closing_net=closing.sum(),
            opening_net=opening.sum(),
        )
        .with_columns(
            balanced=(pl.col("closing_net") == zero) & (pl.col("opening_net").fill_null(zero) == zero),
        )
        .sort(keys)
    )


def latest_periods(tb: pl.DataFrame) -> pl.DataFrame:
    """Each entity's latest period of each fiscal year: the closing balances a year's GL rolls to."""
    if "period" not in tb.columns:
        return tb
    keys = [k for k in ("entity_id", "fiscal_year") if k in tb.columns]
    return tb.filter(pl.col("period") == pl.col("period").max().over(keys))


@dataclass(frozen=True)
class Reconciliation:
    """The TB-to-GL reconciliation: every account with its status, and the totals per entity."""

    accounts: pl.DataFrame
    totals: pl.DataFrame

    @property
    def exceptions(self) -> pl.DataFrame:
        """Accounts whose roll-forward breaks, or that one side lacks: what the auditor must follow up."""
        return self.accounts.filter(pl.col("status").is_in(["difference", "in_gl_not_in_tb",
                                                            "tb_movement_without_gl"]))

    @property
    def gl_not_in_tb(self) -> pl.DataFrame:
        return self.accounts.filter(pl.col("status") == "in_gl_not_in_tb")

    @property
    def tb_not_in_gl(self) -> pl.DataFrame:
        """TB accounts without a single GL line (with or without a movement)."""
        return self.accounts.filter(pl.col("status").is_in(["tb_movement_without_gl", "no_activity"]))

    @property
    def reconciled(self) -> bool:
        return self.exceptions.is_empty() and bool(self.totals["balanced"].all())

    def summary(self) -> dict[str, Any]:
        counts = {status: 0 for status in STATUSES}
        for status, count in self.accounts.group_by("status").len().iter_rows():
            counts[status] = int(count)
        total = self.exceptions["difference"].abs().sum() if not self.exceptions.is_empty() else 0
        return {
            "accounts": self.accounts.height,
            "by_status": counts,
            "exceptions": self.exceptions.height,
            "absolute_difference": str(total if total is not None else 0),
            "balanced_entities": int(self.totals["balanced"].sum()),
            "entities": self.totals.height,
            "reconciled": self.reconciled,
        }


def _status() -> pl.Expr:
    return (
        pl.when(~pl.col("in_tb")).then(pl.lit("in_gl_not_in_tb"))
        .when(~pl.col("in_gl") & (pl.col("difference") != 0)).then(pl.lit("tb_movement_without_gl"))
        .when(~pl.col("in_gl")).then(pl.lit("no_activity"))
        .when(pl.col("difference") != 0).then(pl.lit("difference"))
        .otherwise(pl.lit("agrees"))
    )


def account_activity(
    gl: str | Path | list[str | Path] | pl.DataFrame,
    *,
    fiscal_years: list[int] | None = None,
    engine: EngineName = "local",
    settings: Settings | None = None,
) -> pl.DataFrame:
    """GL activity per entity and account (``auditray.completeness.ACCOUNT_ACTIVITY``) on either engine.

    A GL frame is restricted to ``fiscal_years`` when it has a ``fiscal_year`` column; GL files are taken
    as they are (one fiscal year's ledger, as ingestion registers it).
    """
    if isinstance(gl, pl.DataFrame) and fiscal_years and "fiscal_year" in gl.columns:
        gl = gl.filter(pl.col("fiscal_year").is_in(fiscal_years) | pl.col("fiscal_year").is_null())
    return run(ACCOUNT_ACTIVITY, gl, engine=engine, settings=settings)


def reconcile_to_gl(
    tb: pl.DataFrame,
    gl: str | Path | list[str | Path] | pl.DataFrame | None = None,
    *,
    activity: pl.DataFrame | None = None,
    engine: EngineName = "local",
    settings: Settings | None = None,
) -> Reconciliation:
    """Roll the TB forward with the GL (or with precomputed ``activity``) and list every break.

    ``status`` per account: ``agrees``; ``difference`` (closing != opening + activity); ``in_gl_not_in_tb``
    (GL lines on an account the TB does not have); ``tb_movement_without_gl`` (the TB moved but no GL
    line did); ``no_activity`` (in the TB, unchanged, no GL lines: listed, not an exception).
    """
    if activity is None:
        if gl is None:
            raise ValueError("pass the GL (files or a frame) or its account activity")
        years = sorted({int(y) for y in tb["fiscal_year"].unique().to_list() if y is not None}) \
            if "fiscal_year" in tb.columns else None
        activity = account_activity(gl, fiscal_years=years, engine=engine, settings=settings)
    latest = latest_periods(tb)
    if "opening_balance" not in latest.columns:
        raise ValueError("the TB-to-GL roll-forward needs opening balances (ADS Beginning_Balance)")
    accounts = roll_forward(latest.with_columns(pl.col("opening_balance").fill_null(0)), activity)
    names = latest.select("entity_id", "gl_account_number", *(["gl_account_name"] if "gl_account_name" in
                                                              latest.columns else [])).unique(
        subset=["entity_id", "gl_account_number"], keep="first")
    accounts = accounts.join(names, on=["entity_id", "gl_account_number"], how="left").with_columns(
        status=_status())
    ordered = ["entity_id", "gl_account_number", *(["gl_account_name"] if "gl_account_name" in accounts.columns
                                                   else []), "status", "opening", "activity", "closing",
               "difference", "lines", "in_tb", "in_gl"]
    return Reconciliation(accounts=accounts.select(ordered).sort("entity_id", "gl_account_number"),
                          totals=trial_balance_totals(latest))
