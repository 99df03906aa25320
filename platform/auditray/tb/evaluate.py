"""How good is the automatic mapping? Measured on labelled names the mapper never learned from.

The held-back split of the labelled names (``labelled.held_back_accounts``) is mapped the way a client's
trial balance would be: each chart style (a US chart, a SKR03 chart, a QuickBooks file, ...) as one trial
balance, so the number layout is detected from the chart itself. No balances are given, so the
balance-side evidence is not used: the figures are a floor for real trial balances.

Reported: the share sent to review, and top-1 accuracy of what was mapped automatically (the figure an
auditor relies on when accepting the automatic mappings).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl

from auditray.tb.mapping import AccountMapper, map_trial_balance


@dataclass(frozen=True)
class MappingEvaluation:
    accounts: int
    automatic: int
    correct_automatic: int
    needs_review: int
    suggestion_correct: int

    @property
    def automatic_accuracy(self) -> float:
        return self.correct_automatic / self.automatic if self.automatic else 0.0

    @property
    def review_share(self) -> float:
        return self.needs_review / self.accounts if self.accounts else 0.0

    @property
    def suggestion_accuracy(self) -> float:
        """How often the suggestion offered for review is already the right line item."""
        return self.suggestion_correct / self.needs_review if self.needs_review else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "automatic_accuracy": round(self.automatic_accuracy, 4),
                "review_share": round(self.review_share, 4),
                "suggestion_accuracy": round(self.suggestion_accuracy, 4)}

    def __str__(self) -> str:
        return (f"{self.accounts} accounts: {self.automatic} mapped automatically, "
                f"{self.automatic_accuracy:.1%} correct; {self.needs_review} sent to review "
                f"({self.review_share:.1%}), whose suggestion is right {self.suggestion_accuracy:.0%} of the time")


def labelled_as_trial_balances(labelled: pl.DataFrame) -> pl.DataFrame:
    """Labelled names as trial-balance rows: one entity per chart style, balances unknown."""
    return labelled.select(
        pl.col("chart_style").alias("entity_id"),
        pl.lit(2025, dtype=pl.Int16).alias("fiscal_year"),
        pl.lit(12, dtype=pl.Int8).alias("period"),
        pl.coalesce(pl.col("gl_account_number"), pl.lit("")).alias("gl_account_number"),
        "gl_account_name",
        pl.lit(None, dtype=pl.Decimal(18, 2)).alias("opening_balance"),
        pl.lit(None, dtype=pl.Decimal(18, 2)).alias("closing_balance"),
        pl.col("fsli").alias("expected_fsli"),
    )


def evaluate_mapping(mapper: AccountMapper, labelled: pl.DataFrame) -> tuple[MappingEvaluation, pl.DataFrame]:
    """Map ``labelled`` (columns chart_style, gl_account_number, gl_account_name, fsli) and score it.

    Returns the figures and the mapped rows with ``expected_fsli``, for the auditor to read the misses.
    """
    mapped = map_trial_balance(labelled_as_trial_balances(labelled), mapper)
    automatic = mapped.filter(~pl.col("needs_review"))
    review = mapped.filter(pl.col("needs_review"))
    evaluation = MappingEvaluation(
        accounts=mapped.height,
        automatic=automatic.height,
        correct_automatic=int((automatic["fsli"] == automatic["expected_fsli"]).sum()),
        needs_review=review.height,
        suggestion_correct=int((review["suggested_fsli"] == review["expected_fsli"]).fill_null(False).sum()),
    )
    return evaluation, mapped


def evaluate_held_back(mapper: AccountMapper) -> tuple[MappingEvaluation, pl.DataFrame]:
    """The headline figures: the mapper on the held-back names."""
    from auditray.tb.labelled import held_back_accounts

    return evaluate_mapping(mapper, held_back_accounts())
