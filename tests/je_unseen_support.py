"""What the unseen-ledger modules share: the CLI run as an auditor starts it, and what a run left behind."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


def analyze_export(export: Path, out: Path, data_dir: Path, *options: str) -> dict:
    """``auditray je analyze EXPORT --out OUT [OPTIONS]`` with default settings, as an auditor would run it."""
    result = subprocess.run(
        [sys.executable, "-m", "auditray.cli", "je", "analyze", str(export), "--out", str(out), "--no-record",
         "--json", *options], check=False, capture_output=True, text=True, timeout=600,
        env={**os.environ, "AUDITRAY_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{"):])


def top_shares(entries: pl.DataFrame, planted: pl.DataFrame) -> dict:
    """How many of the planted entries (with their ``risk_rank``) the riskiest 1 % and 5 % of entries hold."""
    shares = {}
    for share in (0.01, 0.05):
        cut = max(1, math.floor(entries.height * share))
        shares[f"top_{round(share * 100)}pct"] = {
            "entries": cut, "planted_in": int((planted["risk_rank"] <= cut).sum()),
            "share": round(float((planted["risk_rank"] <= cut).mean()), 4)}
    return shares


def scores_of(entries: pl.DataFrame, test_id: str, keys: list[str]) -> pl.DataFrame:
    """(keys, test_scores): each entry that tripped ``test_id``, with how strongly."""
    return (entries.select(*keys, "tests", "test_scores").explode("tests", "test_scores")
            .filter(pl.col("tests") == test_id).select(*keys, "test_scores"))


@dataclass
class Run:
    summary: dict
    out: Path
    entries: pl.DataFrame
    judged: pl.DataFrame  # every entry as the builder made it, beside what the battery said about it
    figures: dict = field(default_factory=dict)

    @property
    def population(self) -> dict:
        return json.loads((self.out / "population.json").read_text())

    def facts(self, company: str) -> dict:
        return self.population["entities"][company]["facts"]
