"""Shared by the trial-balance tests: one trained classifier per test process, small hand-made TBs."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import polars as pl

from tests.conftest import REPO_ROOT

TB_DATA = REPO_ROOT / "tests" / "data" / "tb"


@lru_cache(maxsize=1)
def classifier_dir() -> Path:
    """A data directory shared by every TB test of this process, so the classifier trains once."""
    return Path(tempfile.mkdtemp(prefix="auditray-tb-tests-"))


@lru_cache(maxsize=1)
def trained_classifier():
    from auditray.settings import Settings
    from auditray.tb.classifier import load_classifier

    return load_classifier(settings=Settings(data_dir=classifier_dir()))


def mapper(**kwargs):
    from auditray.tb.mapping import AccountMapper

    return AccountMapper(classifier=trained_classifier(), **kwargs)


def tb_rows(rows: list[tuple[str, str, str, str | None]], *, entity: str = "E1", fiscal_year: int = 2025,
            period: int = 12) -> pl.DataFrame:
    """A canonical TB from (number, name, closing, opening) rows; amounts as exact strings."""
    return pl.DataFrame(
        {
            "entity_id": [entity] * len(rows),
            "fiscal_year": [fiscal_year] * len(rows),
            "period": [period] * len(rows),
            "gl_account_number": [r[0] for r in rows],
            "gl_account_name": [r[1] for r in rows],
            "opening_balance": [Decimal(r[3]) if r[3] is not None else None for r in rows],
            "closing_balance": [Decimal(r[2]) for r in rows],
        },
        schema_overrides={"fiscal_year": pl.Int16, "period": pl.Int8, "opening_balance": pl.Decimal(18, 2),
                          "closing_balance": pl.Decimal(18, 2)},
    )


def accuracy(mapped: pl.DataFrame, expected: pl.DataFrame, on: str) -> tuple[float, float, pl.DataFrame]:
    """(share of automatic mappings right, share sent to review, the misses) against a labels frame."""
    joined = mapped.join(expected.select(on, pl.col("fsli").alias("expected")), on=on, how="left")
    assert joined["expected"].null_count() == 0, joined.filter(pl.col("expected").is_null())
    automatic = joined.filter(~pl.col("needs_review"))
    right = (automatic["fsli"] == automatic["expected"]).mean() if automatic.height else 0.0
    misses = joined.filter(pl.col("needs_review") | (pl.col("fsli") != pl.col("expected")))
    return float(right), float(joined["needs_review"].mean()), misses
