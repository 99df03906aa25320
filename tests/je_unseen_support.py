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


def detection_figures(entries: pl.DataFrame, labels: pl.DataFrame, keys: tuple[str, ...] = ("entity_id", "journal_id")
                      ) -> dict:
    """Per planted kind (and convention): planted and found; planted share of the top 1 % and 5 %; clean
    entries per test, with how many of them a person keyed."""
    keys = list(keys)
    judged = labels.join(entries.select(*keys, "tests", "risk_rank"), on=keys, how="left")
    planted = judged.filter(pl.col("role") == "planted").with_columns(
        group=pl.when(pl.col("convention").is_null()).then(pl.col("kind"))
        .otherwise(pl.format("{} ({})", pl.col("kind"), pl.col("convention"))))
    recall = (planted.with_columns(found=pl.col("tests").list.contains(pl.col("kind")))
              .group_by("group").agg(planted=pl.len(), found=pl.col("found").sum()).sort("group"))
    clean = judged.filter(pl.col("role") == "clean")
    tripped = (clean.select(*keys, "person", "tests").explode("tests").drop_nulls("tests")
               .group_by("tests").agg(entries=pl.len(), keyed_by_people=pl.col("person").sum()).sort("tests"))
    return {
        "entries": entries.height, "planted": planted.height, "clean": clean.height,
        "recall": {k: {"planted": int(p), "found": int(f)} for k, p, f in recall.iter_rows()},
        **top_shares(entries, planted),
        "clean_trips": {t: {"entries": int(n), "keyed_by_people": int(m)} for t, n, m in tripped.iter_rows()},
    }


def clean_of(run: Run) -> pl.DataFrame:
    """The entries the builder made honest, beside what the battery said of them."""
    return run.judged.filter(pl.col("role") == "clean")


def planted_of(run: Run, kind: str | None = None) -> pl.DataFrame:
    """The planted entries (of one kind), beside what the battery said of them."""
    planted = run.judged.filter(pl.col("role") == "planted")
    return planted if kind is None else planted.filter(pl.col("kind") == kind)


def money_cents(text: str) -> int:
    """'1,234.56' (the population summary's money text) -> cents."""
    return round(float(text.replace(",", "")) * 100)


def score_of(run: Run, test_id: str, keys: tuple[str, ...] = ("entity_id", "journal_id")) -> pl.DataFrame:
    """Every entry with its strength on ``test_id`` (0 where it did not trip)."""
    keys = list(keys)
    return (run.judged.drop("test_scores").join(scores_of(run.entries, test_id, keys), on=keys, how="left")
            .with_columns(pl.col("test_scores").fill_null(0.0)))


def judged_run(export: Path, work: Path, labels: pl.DataFrame, title: str, *options: str) -> Run:
    """The CLI over ``export`` (``analyze_export``), every entry the builder made (``labels``) beside what the
    battery said about it, and the detection figures, printed under ``title``."""
    import time

    started = time.perf_counter()
    summary = analyze_export(export, work / "results", work / "data", *options)
    entries = pl.read_parquet(work / "results" / "entries.parquet")
    keys = ["entity_id", "journal_id"]
    judged = labels.join(entries.select(*keys, "tests", "test_scores", "risk_rank", "risk_band", "risk_score",
                                        "manual", "explanations"), on=keys, how="left")
    figures = detection_figures(entries, labels)
    print(f"\n{title} ({time.perf_counter() - started:.1f} s):\n" + json.dumps(figures, indent=1))
    return Run(summary, work / "results", entries, judged, figures)
