"""Period-over-period fluctuations: which balances moved more than the auditor would expect?

Analytical procedures (AU-C 520.05 / ISA 520.5, AS 2305) compare recorded amounts with expectations and
investigate differences above a threshold the auditor sets. Here the expectation is the prior period and a
change is flagged when it exceeds BOTH an amount threshold and a percentage threshold: a large percentage
on a trivial balance is noise, a large amount on a huge balance may be ordinary growth.

Defaults tied to materiality (AU-C 320 / ISA 320): the amount threshold is performance materiality when
given, else 75% of overall materiality (the common performance-materiality rate); the percentage
threshold is 10%. A line with no prior balance has no percentage: it is flagged on the amount alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl

from auditray.contract.money import MONEY_SUM_DTYPE
from auditray.tb.statements import lead_schedules

DEFAULT_PERCENT_THRESHOLD = Decimal("0.10")
PERFORMANCE_MATERIALITY_RATE = Decimal("0.75")


@dataclass(frozen=True)
class FluxThresholds:
    amount: Decimal
    percent: Decimal

    @classmethod
    def from_materiality(
        cls,
        *,
        amount: Decimal | str | None = None,
        percent: Decimal | str | None = None,
        materiality: Decimal | str | None = None,
        performance_materiality: Decimal | str | None = None,
    ) -> FluxThresholds:
        """Explicit thresholds win; otherwise performance materiality, else 75% of materiality."""
        if amount is None:
            if performance_materiality is not None:
                amount = Decimal(performance_materiality)
            elif materiality is not None:
                amount = (Decimal(materiality) * PERFORMANCE_MATERIALITY_RATE).quantize(Decimal("0.01"))
            else:
                raise ValueError("give an amount threshold, performance materiality or materiality")
        amount = Decimal(amount)
        pct = Decimal(percent) if percent is not None else DEFAULT_PERCENT_THRESHOLD
        if amount < 0 or pct < 0:
            raise ValueError("fluctuation thresholds must not be negative")
        return cls(amount=amount, percent=pct)


def _percent(change: Decimal | None, prior: Decimal | None) -> Decimal | None:
    if change is None or prior is None or prior == 0:
        return None
    return (change / abs(prior)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def fluctuations(
    current: pl.DataFrame,
    prior: pl.DataFrame,
    thresholds: FluxThresholds,
    *,
    level: str = "fsli",
    use_suggestions: bool = True,
) -> pl.DataFrame:
    """Current vs prior closing balances by line item (``level="fsli"``) or account (``"account"``).

    Both frames are mapped trial balances. ``change = current - prior`` (debit positive), ``percent`` is
    the change over the absolute prior balance; ``flagged`` when |change| >= amount threshold and
    (|percent| >= percent threshold or no prior balance).
    """
    if level not in ("fsli", "account"):
        raise ValueError("level is 'fsli' or 'account'")
    schedules = lead_schedules(current, prior, use_suggestions=use_suggestions)
    if level == "fsli":
        frame = schedules.summary.select("entity_id", "fsli", "label", pl.col("closing").alias("current"),
                                         pl.col("prior_year").alias("prior"))
        keys = ["entity_id", "fsli"]
    else:
        frame = schedules.detail.select("entity_id", "fsli", "gl_account_number", "gl_account_name",
                                        pl.col("closing").alias("current"), pl.col("prior_year").alias("prior"))
        keys = ["entity_id", "gl_account_number"]
    frame = frame.with_columns(pl.col("current").fill_null(0).cast(MONEY_SUM_DTYPE),
                               pl.col("prior").fill_null(0).cast(MONEY_SUM_DTYPE))
    frame = frame.with_columns(change=pl.col("current") - pl.col("prior"))
    changes = frame["change"].to_list()
    priors = frame["prior"].to_list()
    percents = [_percent(c, p) for c, p in zip(changes, priors, strict=True)]
    flagged, reasons = [], []
    for change, pct in zip(changes, percents, strict=True):
        over_amount = abs(change) >= thresholds.amount and change != 0
        over_percent = pct is None or abs(pct) >= thresholds.percent
        flag = over_amount and over_percent
        flagged.append(flag)
        if not flag:
            reasons.append(None)
        elif pct is None:
            reasons.append(f"new balance of {change} (no prior balance), above {thresholds.amount}")
        else:
            reasons.append(f"moved {change} ({pct:.2%}), above {thresholds.amount} and {thresholds.percent:.0%}")
    return frame.with_columns(
        percent=pl.Series(percents, dtype=pl.Decimal(38, 4)),
        flagged=pl.Series(flagged, dtype=pl.Boolean),
        reason=pl.Series(reasons, dtype=pl.String),
        amount_threshold=pl.lit(thresholds.amount).cast(MONEY_SUM_DTYPE),
        percent_threshold=pl.lit(thresholds.percent).cast(pl.Decimal(38, 4)),
    ).sort(*keys)
