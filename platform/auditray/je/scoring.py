"""The composite risk score of a journal entry, its band, and the tests it tripped with their reasons.

    risk = 1 - prod_i (1 - w_i * s_i)

``s_i`` in [0, 1] is the entry's strength on test i (its strongest line for line-level tests), ``w_i`` the
test's weight (catalogue default or the engagement's override). Read it as the chance that at least one of
the independent warning signs is real, if each sign alone were right with probability w_i * s_i: one strong
sign gives its own weight, and several weak signs raise the risk together, as an auditor weighing AS 2401
.61's characteristics would (two signs of 0.5 make 0.75, three make 0.875). The score is monotone in every
test, stays in [0, 1], and does not depend on the order of the tests.

Bands: ``high`` from ``high_risk_from``, ``medium`` from ``medium_risk_from``, ``low`` below.

Common signs weigh less: a test that trips more than ``common_test_share`` (2 %) of an entity's entries is a
trait of that ledger (a business that posts at weekends, an ERP that writes no descriptions) rather than a
warning sign, and would otherwise fill the medium band. Its weight is scaled by sqrt(common_test_share /
its share): a test tripped by 8 % of entries weighs half, by 32 % a quarter. The entries still list it.
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


def prevalence(entries: pl.DataFrame, weights: dict[str, float], common_share: float) -> pl.DataFrame:
    """Per entity and tripped test: entries, share of the entity's entries, and the weight factor."""
    totals = entries.group_by("entity_id").agg(_entries=pl.len())
    tripped = (entries.filter(pl.col("tests").list.len() > 0).select("entity_id", "tests").explode("tests")
               .group_by("entity_id", "tests").agg(entries=pl.len()))
    share = pl.col("entries") / pl.col("_entries")
    factor = (pl.when((pl.lit(common_share) > 0) & (share > common_share))
              .then((pl.lit(common_share) / share).sqrt()).otherwise(1.0))
    return (tripped.join(totals, on="entity_id").rename({"tests": "test"})
            .with_columns(share=share, weight_factor=factor).drop("_entries").sort("entity_id", "test")
            .filter(pl.col("test").is_in([t for t, w in weights.items() if w > 0])))


def weigh_by_prevalence(entries: pl.DataFrame, weights: dict[str, float],
                        settings: JETestSettings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The entries with risk and band recomputed where one of their tests is common in their entity, and the
    prevalence table. Entries whose tests are all rare keep the risk their judgement gave them."""
    table = prevalence(entries, weights, settings.common_test_share)
    common = table.filter(pl.col("weight_factor") < 1)
    if common.is_empty():
        return entries, table
    weight_table = pl.DataFrame({"test": list(weights), "_weight": list(weights.values())},
                                schema={"test": pl.String, "_weight": pl.Float64})
    lists = (entries.with_row_index("_row").filter(pl.col("tests").list.len() > 0)
             .select("_row", "entity_id", test="tests", _strength="test_scores").explode(["test", "_strength"])
             .join(common.select("entity_id", "test", "weight_factor"), on=["entity_id", "test"], how="left")
             .join(weight_table, on="test", how="left")
             .group_by("_row").agg(
                 _adjusted=pl.col("weight_factor").is_not_null().any(),
                 _survival=(1 - pl.col("_weight") * pl.col("weight_factor").fill_null(1.0) * pl.col("_strength"))
                 .product())
             .filter(pl.col("_adjusted")))
    risk = entries["risk_score"].to_numpy().copy()
    risk[lists["_row"].to_numpy()] = (1 - lists["_survival"]).clip(0.0, 1.0).to_numpy()
    out = entries.with_columns(risk_score=pl.Series(risk, dtype=pl.Float64)).with_columns(
        risk_band=risk_band(pl.col("risk_score"), settings))
    return out, table


__all__ = ["prevalence", "risk_band", "risk_score", "test_weights", "tripped_lists", "weigh_by_prevalence"]
