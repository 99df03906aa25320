"""Trial balances that roll forward from the ledger to the cent.

Closing balance = opening balance + the sum of the year's GL lines on the account, for every
account; the prior year's closing balances are this year's opening balances (retained earnings
after closing the prior-year result into them), so period-over-period analytics and the
rollforward test of TB-to-GL completeness both have something real to work on.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from auditray.contract import TRIAL_BALANCE
from auditray.contract.money import cents_to_money
from auditray.generate.calendar import FiscalCalendar
from auditray.generate.planning import EntityPlan


def _money(cents: np.ndarray) -> pa.Array:
    series = pl.Series("cents", np.asarray(cents, np.int64))
    return pl.select(cents_to_money(pl.lit(series))).to_series().to_arrow().cast(TRIAL_BALANCE.field(
        "closing_balance").type)


def _table(entity: EntityPlan, fiscal_year: int, rows: list[tuple[int, object, np.ndarray, np.ndarray, np.ndarray]]
           ) -> pa.Table:
    parts = []
    chart = entity.chart
    for period, end, accounts, opening, closing in rows:
        n = len(accounts)
        parts.append(pa.table({
            "entity_id": pa.array([entity.profile.entity_id] * n, pa.string()),
            "fiscal_year": pa.array(np.full(n, fiscal_year, np.int16)),
            "period": pa.array(np.full(n, period, np.int8)),
            "period_end_date": pa.array(np.full(n, np.datetime64(end, "D"))),
            "gl_account_number": pa.array([chart.numbers[a] for a in accounts], pa.string()),
            "gl_account_name": pa.array([chart.names[a] for a in accounts], pa.string()),
            "opening_balance": _money(opening[accounts]),
            "closing_balance": _money(closing[accounts]),
            "amount_currency": pa.array([entity.profile.currency] * n, pa.string()),
        }, schema=TRIAL_BALANCE.schema))
    return pa.concat_tables(parts) if parts else TRIAL_BALANCE.schema.empty_table()


def trial_balance(entity: EntityPlan, calendar: FiscalCalendar, activity: np.ndarray,
                  monthly: bool = False) -> pa.Table:
    """This year's trial balance at period 12 (or at every period end when ``monthly``).

    ``activity`` holds the entity's GL lines summed per period and account, in cents.
    """
    opening = entity.opening
    closing_by_period = opening + np.cumsum(activity, axis=0)
    accounts = np.flatnonzero((opening != 0) | (activity != 0).any(axis=0))
    periods = range(1, 13) if monthly else (12,)
    rows = [(p, calendar.periods[p - 1].end, accounts, opening, closing_by_period[p - 1]) for p in periods]
    return _table(entity, calendar.fiscal_year, rows)


def prior_trial_balance(entity: EntityPlan, calendar: FiscalCalendar) -> pa.Table:
    """Last year's closing trial balance, period 12, before its result was closed to retained earnings."""
    accounts = np.flatnonzero((entity.prior_opening != 0) | (entity.prior_closing != 0))
    end = calendar.start - timedelta(days=1)
    return _table(entity, calendar.fiscal_year - 1, [(12, end, accounts, entity.prior_opening, entity.prior_closing)])
