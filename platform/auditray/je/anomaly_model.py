"""An unsupervised score per journal entry: how unlike the entity's other entries it is, and why.

ISA 240 A44 and AS 2401 .61 point at entries that are unusual in nature; the rule battery names the
characteristics an auditor knows to look for, and this model finds entries unusual in ways nobody wrote a
rule for. Two detectors are fitted per entity, on up to ``ml_max_fit_entries`` entries drawn reproducibly
(seeded) from the population, over features an auditor can read:

- ``amount``: log10 of the entry's debits;
- ``amount_vs_account``: the robust z of the line furthest from its account's usual amount (Nigrini's
  relative size factor, in log space);
- ``pair_rarity``, ``user_account_rarity``, ``user_rarity``: -log10 of how often the entity uses the entry's
  debit/credit pair, how often the poster uses its main account, how much of the ledger the poster keys;
- timing: ``hour`` keyed, ``off_day`` (weekend or holiday), ``lag`` (days keyed after the effective date),
  ``days_to_period_end``; ``manual``; ``lines``.

1. **Empirical tails** (ECOD: Li et al., "ECOD: Unsupervised Outlier Detection Using Empirical Cumulative
   Distribution Functions", IEEE TKDE 2022): for each feature, the share of the entity's entries at least as
   extreme (one tail for "bigger is stranger" features, both for the hour and the day in the period, the
   value's frequency for yes/no features). An entry's tail probability is that of its most extreme feature,
   so one wildly unusual property (a bank charge 300 times the account's median) is not averaged away by
   ten ordinary ones, and the explanation is that property, in words.
2. **Isolation forest** (Liu, Ting and Zhou, 2008; seeded): entries isolated by few random splits, i.e.
   unusual in a combination of features none of which is extreme alone. scikit-learn fits it;
   ``auditray.je.forest`` scores it (the same scores, compiled, several times faster on millions of entries).

``ml_score`` = 1 - min(p_tail, p_forest), p being the share of the fit sample at least as extreme on that
detector's statistic: 0.999 means "more unusual than 99.9 % of the entity's entries". ``ml_outlier`` trips for p_tail <= ``ml_tail_share``
or p_forest <= ``ml_tail_share`` / 5 (a forest-only call has no single extreme property to point at, so it
gets the smaller budget). The model is fitted once on the driver and scored in every partition, so both
engines give identical scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import polars as pl

from auditray.je import compiled
from auditray.je.forest import CompiledForest

FEATURES: tuple[str, ...] = ("amount", "amount_vs_account", "pair_rarity", "user_account_rarity", "user_rarity",
                             "hour", "off_day", "lag", "days_to_period_end", "manual", "lines")
# How each feature is extreme: "right" (larger is stranger), "both" tails, or "category" (rare value).
TAILS = {"amount": "right", "amount_vs_account": "right", "pair_rarity": "right", "user_account_rarity": "right",
         "user_rarity": "right", "hour": "both", "off_day": "category", "lag": "right",
         "days_to_period_end": "both", "manual": "category", "lines": "right"}
# Spread floors per feature, for describing deviations from the median.
_MIN_SCALE = {"amount": 0.25, "amount_vs_account": 1.0, "pair_rarity": 0.5, "user_account_rarity": 0.5,
              "user_rarity": 0.5, "hour": 1.0, "lag": 0.5, "days_to_period_end": 3.0, "lines": 0.3,
              "off_day": 1.0, "manual": 1.0}
FOREST_SHARE = 0.2  # of ml_tail_share: the forest's own budget of outliers


def entry_features(frame: pl.DataFrame, *, holidays: list[date], business_weekdays: list[int]) -> pl.DataFrame:
    """The model's features (float32) from the journal summary joined with its context."""
    off = [d for d in range(1, 8) if d not in business_weekdays]
    holiday = pl.Series(holidays, dtype=pl.Date).implode()
    entity_journals = pl.col("entity_journals").cast(pl.Float64)
    user_journals = pl.col("user_journals").cast(pl.Float64).fill_null(entity_journals)
    off_day = (pl.col("effective_date").dt.weekday().is_in(off) | pl.col("effective_date").is_in(holiday)
               | pl.col("entry_date").dt.weekday().is_in(off).fill_null(False)
               | pl.col("entry_date").is_in(holiday).fill_null(False))
    hour = (pl.col("entry_time").dt.hour().cast(pl.Float64) + pl.col("entry_time").dt.minute() / 60).fill_null(12.0)
    lag = (pl.col("entry_date") - pl.col("effective_date")).dt.total_days().fill_null(0).clip(lower_bound=0)
    days_to_end = (pl.col("next_period_end") - pl.col("effective_date")).dt.total_days().fill_null(15)
    columns = {
        "amount": (pl.col("debit_cents").cast(pl.Float64) / 100 + 1).log10(),
        "amount_vs_account": pl.col("max_z").fill_null(0.0),
        "pair_rarity": -(pl.col("pair_journals").cast(pl.Float64).fill_null(entity_journals) / entity_journals)
        .log10(),
        "user_account_rarity": -((pl.col("user_account_journals").cast(pl.Float64).fill_null(user_journals) + 0.5)
                                 / (user_journals + 1)).log10(),
        "user_rarity": -(user_journals / entity_journals).log10(),
        "hour": hour,
        "off_day": off_day.cast(pl.Float64),
        "lag": lag.cast(pl.Float64).log1p(),
        "days_to_period_end": days_to_end.cast(pl.Float64),
        "manual": pl.col("manual").fill_null(True).cast(pl.Float64),
        "lines": pl.col("n_lines").cast(pl.Float64).log(),
    }
    return frame.select(**{f"f_{name}": expr.fill_nan(0.0).fill_null(0.0).cast(pl.Float32)
                           for name, expr in columns.items()})


@dataclass
class EntityModel:
    """The fitted detectors of one entity, with the reference points its explanations use."""

    entity_id: str
    forest: CompiledForest
    forest_scores: np.ndarray  # sorted forest scores of the fit sample
    feature_values: list[np.ndarray]  # sorted values of each feature in the fit sample
    tail_scores: np.ndarray  # sorted -log10(most extreme feature's tail probability) of the fit sample
    medians: np.ndarray
    scales: np.ndarray
    tail_share: float
    fitted_on: int
    population: int

    def tail_probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """Per entry and feature: the share of the fit sample at least as extreme (smoothed, never 0)."""
        n = len(self.feature_values[0])
        out = np.ones(matrix.shape, dtype=np.float64)
        for j, name in enumerate(FEATURES):
            values, x = self.feature_values[j], matrix[:, j].astype(np.float64)
            kind = TAILS[name]
            if kind == "category":
                # Yes/no features: the share of the sample with the entry's value.
                share_yes = (n - np.searchsorted(values, 0.5, side="left"))
                count = np.where(x > 0.5, share_yes, n - share_yes)
            else:
                at_least = n - np.searchsorted(values, x, side="left")
                if kind == "right":
                    count = at_least
                else:
                    at_most = np.searchsorted(values, x, side="right")
                    count = np.minimum(2 * np.minimum(at_least, at_most), n)
            out[:, j] = (count + 1) / (n + 1)
        return out

    def smallest_tail_probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """Per entry, the smallest of its features' tail probabilities (a compiled loop: no entries x
        features matrix of probabilities for millions of entries)."""
        values, below, offsets = self._distinct_values
        kinds = np.array([_KIND_CODES[TAILS[name]] for name in FEATURES], dtype=np.int64)
        out = np.empty(matrix.shape[0], dtype=np.float64)
        if matrix.shape[0]:
            compiled.tail_minimum()(values, below, offsets, kinds, len(self.feature_values[0]),
                                    np.ascontiguousarray(matrix, dtype=np.float32), out)
        return out

    @cached_property
    def _distinct_values(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each feature's distinct fit values and, for each, how many fit values lie below it: searching a
        few hundred distinct hours or line counts is much cheaper than searching 100,000 sorted values."""
        distinct, below = [], []
        for sample in self.feature_values:
            unique, counts = np.unique(sample, return_counts=True)
            distinct.append(unique)
            below.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        offsets = np.cumsum([0] + [len(v) for v in distinct]).astype(np.int64)
        return np.concatenate(distinct), np.concatenate(below), offsets

    def tail_probability(self, smallest: np.ndarray) -> np.ndarray:
        """The share of the fit sample whose most extreme feature is at least as extreme as this entry's.

        Taking the most extreme of eleven features is a multiple comparison; ranking it against the same
        statistic over the fit sample calibrates it, so ``ml_tail_share`` really is the share flagged.
        """
        return _share_at_least(self.tail_scores, _tail_score(smallest))

    def forest_probability(self, matrix: np.ndarray) -> np.ndarray:
        return _share_at_least(self.forest_scores, self.forest.scores(matrix))


_KIND_CODES = {"right": compiled.RIGHT, "both": compiled.BOTH, "category": compiled.CATEGORY}


def _tail_score(smallest: np.ndarray) -> np.ndarray:
    return -np.log10(smallest)


def _share_at_least(sorted_sample: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    if len(values):
        compiled.share_at_least()(np.ascontiguousarray(sorted_sample, dtype=np.float64),
                                  np.ascontiguousarray(values, dtype=np.float64), out)
    return out


def fit_entity_model(entity_id: str, features: np.ndarray, population: int, *, trees: int, seed: int,
                     tail_share: float) -> EntityModel:
    """Fit both detectors on ``features`` (the entity's fit sample)."""
    from sklearn.ensemble import IsolationForest

    features = np.ascontiguousarray(features, dtype=np.float32)
    fitted = IsolationForest(n_estimators=trees, max_samples=min(256, len(features)), random_state=seed,
                             n_jobs=1)
    fitted.fit(features)
    forest = CompiledForest.from_sklearn(fitted)
    scores = np.sort(forest.scores(features))
    medians = np.median(features, axis=0).astype(np.float64)
    mad = np.median(np.abs(features - medians), axis=0) * 1.4826
    floors = np.array([_MIN_SCALE[name] for name in FEATURES], dtype=np.float64)
    model = EntityModel(entity_id=entity_id, forest=forest, forest_scores=scores,
                        feature_values=[np.sort(features[:, j].astype(np.float64)) for j in range(len(FEATURES))],
                        tail_scores=np.empty(0), medians=medians, scales=np.maximum(mad, floors),
                        tail_share=tail_share, fitted_on=len(features), population=population)
    model.tail_scores = np.sort(_tail_score(model.smallest_tail_probabilities(features)))
    return model


def fit_sample(keys: pl.DataFrame, limit: int, seed: int) -> np.ndarray:
    """Row positions of the fit sample: every row, or the ``limit`` rows whose keys hash lowest.

    Chosen by the entries' keys (entity and journal), not by their row positions, so the sample is the
    same whatever order the engine returned the entries in.
    """
    n = keys.height
    if n <= limit:
        return np.arange(n)
    hashes = keys.select(pl.struct(keys.columns).hash(seed=seed)).to_series().to_numpy()
    return np.sort(np.argpartition(hashes, limit - 1)[:limit])


def score_entries(frame: pl.DataFrame, features: pl.DataFrame, models: dict[str, EntityModel]) -> pl.DataFrame:
    """``ml_score``, ``ml_outlier``, ``ml_strength`` and ``ml_explanation`` for each entry of ``frame``."""
    n = frame.height
    score = np.full(n, np.nan)
    strength = np.zeros(n)
    outlier = np.zeros(n, dtype=bool)
    explanation: list[str | None] = [None] * n
    matrix = np.ascontiguousarray(features.to_numpy(), dtype=np.float32)
    entity = frame["entity_id"]
    for entity_id, model in models.items():
        rows = (entity == entity_id).arg_true().to_numpy()
        if not rows.size:
            continue
        values = matrix[rows] if rows.size < n else matrix
        p_tail = model.tail_probability(model.smallest_tail_probabilities(values))
        p_forest = model.forest_probability(values)
        p = np.minimum(p_tail, p_forest)
        score[rows] = 1 - p
        by_tail = p_tail <= model.tail_share
        by_forest = p_forest <= model.tail_share * FOREST_SHARE
        hit = by_tail | by_forest
        outlier[rows] = hit
        budget = np.where(by_tail, model.tail_share, model.tail_share * FOREST_SHARE)
        evidence = np.where(by_tail, p_tail, p_forest)
        strength[rows] = np.where(hit, 0.6 + 0.4 * np.clip(np.log10(budget / evidence) / 2, 0, 1), 0.0)
        flagged = np.flatnonzero(hit)
        if flagged.size:
            positions = rows[flagged]
            # Only the flagged few need every feature's tail probability, for their explanations.
            tails = model.tail_probabilities(matrix[positions])
            subset = frame[positions.tolist()].iter_rows(named=True)
            for k, (row, entry) in enumerate(zip(positions, subset, strict=True)):
                explanation[int(row)] = _explain(entry, matrix[row], tails[k], model, float(p[flagged[k]]),
                                                 bool(by_tail[flagged[k]]))
    return pl.DataFrame({
        "ml_score": pl.Series(score, dtype=pl.Float64).fill_nan(None),
        "ml_outlier": pl.Series(outlier, dtype=pl.Boolean),
        "ml_strength": pl.Series(strength, dtype=pl.Float64),
        "ml_explanation": pl.Series(explanation, dtype=pl.String),
    })


def _explain(entry: dict, values: np.ndarray, tails: np.ndarray, model: EntityModel, p: float,
             by_tail: bool) -> str:
    if by_tail:
        order = [int(j) for j in np.argsort(tails, kind="stable")[:3] if tails[j] <= max(0.01, tails.min())]
        reasons = [f"{_phrase(FEATURES[j], entry, float(values[j]), float(model.medians[j]))} (as unusual as "
                   f"{tails[j]:.2%} of its entries)" for j in order]
    else:
        deviation = np.abs(values.astype(np.float64) - model.medians) / model.scales
        order = [int(j) for j in np.argsort(-deviation, kind="stable")[:3]]
        reasons = ["an unusual combination: " + ", ".join(
            _phrase(FEATURES[j], entry, float(values[j]), float(model.medians[j])) for j in order)]
    return f"unusual for {entry['entity_id']}, more so than {1 - p:.2%} of its entries: " + "; ".join(reasons)


def _phrase(name: str, entry: dict, value: float, median: float) -> str:
    if name == "amount":
        return f"amount {entry['debit_cents'] / 100:,.2f}, {10 ** (value - median):,.1f}x the entity's median entry"
    if name == "amount_vs_account":
        ratio = entry.get("max_z_ratio")
        account = entry.get("max_z_account")
        if ratio is not None and math.isfinite(ratio):
            size = f"{ratio:,.0f}x" if ratio >= 1 else f"1/{1 / max(ratio, 1e-12):,.0f} of"
            return f"a line {size} the median amount of account {account}"
        return f"a line far from the usual amount of account {account}"
    if name == "pair_rarity":
        return (f"account pair {entry.get('debit_account')} / {entry.get('credit_account')} used by "
                f"{entry.get('pair_journals')} journal(s)")
    if name == "user_account_rarity":
        return (f"{entry.get('entered_by')} posts to {entry.get('debit_account')} in "
                f"{entry.get('user_account_journals') or 0} of {entry.get('user_journals')} entries")
    if name == "user_rarity":
        return f"{entry.get('entered_by')} posted {entry.get('user_journals')} of {entry.get('entity_journals')} journals"
    if name == "hour":
        keyed = entry.get("entry_time")
        return f"keyed at {keyed.strftime('%H:%M')}" if keyed is not None else "keyed at an unusual time"
    if name == "off_day":
        return "dated or keyed on a weekend or holiday" if value else "dated and keyed on a working day"
    if name == "lag":
        return f"keyed {round(math.expm1(value))} days after its effective date"
    if name == "days_to_period_end":
        return f"effective {value:.0f} days before the period end"
    if name == "manual":
        return "keyed by hand" if value else "system-generated"
    if name == "lines":
        return f"{entry.get('n_lines')} lines (usually {math.exp(median):.0f})"
    return name


__all__ = ["FEATURES", "EntityModel", "entry_features", "fit_entity_model", "fit_sample", "score_entries"]
