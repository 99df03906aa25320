"""The composite risk score of a journal entry, its band, and the tests it tripped with their reasons.

    risk = 1 - prod_i (1 - w_i * s_i)

``s_i`` in [0, 1] is the entry's strength on test i (its strongest line for line-level tests), ``w_i`` the
test's weight (catalogue default or the engagement's override). Read it as the chance that at least one of
the independent warning signs is real, if each sign alone were right with probability w_i * s_i: one strong
sign gives its own weight, and several weak signs raise the risk together, as an auditor weighing AS 2401
.61's characteristics would (two signs of 0.5 make 0.75, three make 0.875). The score is monotone in every
test, stays in [0, 1], and does not depend on the order of the tests.

Bands: ``high`` from ``high_risk_from``, ``medium`` from ``medium_risk_from``, ``low`` below.
"""

from __future__ import annotations

from functools import reduce

import polars as pl

from auditray.je.catalogue import CATALOGUE, TESTS
from auditray.je.settings import JETestSettings


def test_weights(settings: JETestSettings) -> dict[str, float]:
    """Each test's weight: the catalogue default, the engagement's override, 0 when disabled."""
    weights = {t.id: settings.weights.get(t.id, t.weight) for t in CATALOGUE}
    for test_id in settings.disabled_tests:
        weights[test_id] = 0.0
    return weights


def risk_score(weights: dict[str, float]) -> pl.Expr:
    """1 - prod(1 - w_i * s_i) over the ``s_<id>`` columns."""
    survivals = [(1 - pl.lit(w) * pl.col(f"s_{test_id}")) for test_id, w in weights.items()]
    return (1 - reduce(lambda a, b: a * b, survivals)).clip(0.0, 1.0)


def risk_band(score: pl.Expr, settings: JETestSettings) -> pl.Expr:
    return (pl.when(score >= settings.high_risk_from).then(pl.lit("high"))
            .when(score >= settings.medium_risk_from).then(pl.lit("medium"))
            .otherwise(pl.lit("low")))


def tripped_lists(weights: dict[str, float]) -> dict[str, pl.Expr]:
    """``tests``, ``test_scores`` and ``explanations``: aligned lists over the tests an entry tripped.

    A test with weight 0 (disabled) is never listed. Explanations fall back to the test's title.
    """
    live = [t for t, w in weights.items() if w > 0]
    hit = {t: pl.col(f"s_{t}") > 0 for t in live}
    tests = pl.concat_list([pl.when(hit[t]).then(pl.lit(t)) for t in live]).list.drop_nulls()
    scores = pl.concat_list([pl.when(hit[t]).then(pl.col(f"s_{t}").round(4)) for t in live]).list.drop_nulls()
    reasons = pl.concat_list([
        pl.when(hit[t]).then(pl.col(f"x_{t}").fill_null(pl.lit(TESTS[t].title))) for t in live
    ]).list.drop_nulls()
    return {"tests": tests, "test_scores": scores, "explanations": reasons}


__all__ = ["risk_band", "risk_score", "test_weights", "tripped_lists"]
