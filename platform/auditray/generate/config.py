"""Parameters of a synthetic engagement and the summary of what was generated."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

GENERATOR_VERSION = "1.0.0"
EXPORT_FORMATS = ("ads_csv", "sap_csv")
# Below this an entity has too few entries for a year of payroll, depreciation and month-end closes.
MIN_ENTITY_LINES = 4_000

# Every kind of planted anomaly, in the order the journal-entry tests look for them.
ANOMALY_KINDS = (
    "unbalanced_entry", "sequence_gap", "duplicate_entry", "high_value", "round_amount", "recurring_ending",
    "unusual_user", "manual_to_sensitive_account", "weekend_posting", "holiday_posting", "after_hours",
    "period_end", "post_closing", "backdated", "missing_description", "suspicious_keyword",
    "seldom_used_account", "rare_account_pair", "below_approval_threshold", "split_entry", "suspense_account",
    "benford_outlier", "ml_outlier",
)


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Same config (including ``seed``) => byte-identical output.

    ``n_lines`` is a target: the ledger lands within a few per cent of it. ``anomaly_rate`` is the
    share of journals that carry a planted anomaly, spread evenly over the kinds, with a floor of a
    few journals per kind and entity so that even small ledgers contain every kind; 0 gives a clean
    ledger. ``fiscal_year`` names the year in which the fiscal year ends.
    """

    seed: int = 42
    n_lines: int = 200_000
    n_entities: int = 3
    fiscal_year: int = 2025
    fiscal_year_start_month: int = 1
    anomaly_rate: float = 0.02
    closing_business_days: int = 20
    close_window_business_days: int = 4
    approval_limit: Decimal = Decimal("10000.00")
    export_formats: tuple[str, ...] = ()
    monthly_trial_balances: bool = False
    max_chunk_lines: int = 250_000

    def __post_init__(self) -> None:
        if self.n_lines < MIN_ENTITY_LINES * self.n_entities:
            raise ValueError(f"n_lines must be at least {MIN_ENTITY_LINES:,} per entity "
                             f"({MIN_ENTITY_LINES * self.n_entities:,} here)")
        if not 0 <= self.anomaly_rate <= 0.2:
            raise ValueError("anomaly_rate must be between 0 and 0.2")
        if not 1 <= self.n_entities <= 50:
            raise ValueError("n_entities must be between 1 and 50")
        if not 1900 < self.fiscal_year < 2200:
            raise ValueError("fiscal_year out of range")
        unknown = set(self.export_formats) - set(EXPORT_FORMATS)
        if unknown:
            raise ValueError(f"unknown export formats {sorted(unknown)}; expected any of {EXPORT_FORMATS}")
        if Decimal(self.approval_limit) <= 0:
            raise ValueError("approval_limit must be positive")
        if self.max_chunk_lines < 10_000:
            raise ValueError("max_chunk_lines must be at least 10,000")
        object.__setattr__(self, "approval_limit", Decimal(self.approval_limit).quantize(Decimal("0.01")))
        object.__setattr__(self, "export_formats", tuple(self.export_formats))

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["approval_limit"] = str(self.approval_limit)
        values["export_formats"] = list(self.export_formats)
        return values


@dataclass(frozen=True)
class GeneratedEngagement:
    """Where the engagement was written and what it holds."""

    out_dir: Path
    gl_detail_files: tuple[Path, ...]
    trial_balance: Path
    trial_balance_prior: Path
    chart_of_accounts: Path
    users: Path
    labels: Path
    labels_csv: Path
    engagement: Path
    exports: dict[str, Path] = field(default_factory=dict)
    trial_balance_monthly: Path | None = None
    n_lines: int = 0
    n_journals: int = 0
    n_labels: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)
    entities: tuple[str, ...] = ()
    elapsed_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "entities": list(self.entities),
            "gl_detail_files": len(self.gl_detail_files),
            "lines": self.n_lines,
            "journals": self.n_journals,
            "labels": self.n_labels,
            "label_counts": dict(self.label_counts),
            "exports": {k: str(v) for k, v in self.exports.items()},
            "elapsed_seconds": round(self.elapsed_seconds, 2),
        }
