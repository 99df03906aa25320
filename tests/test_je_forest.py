"""The compiled isolation forest and tail kernels give scikit-learn's and numpy's numbers exactly."""

from __future__ import annotations

import numpy as np
import pytest
from auditray.je.anomaly_model import FEATURES, fit_entity_model
from auditray.je.forest import CompiledForest, average_path_length
from sklearn.ensemble import IsolationForest


def _data(seed: int, rows: int = 5_000, width: int = 6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(rows, width)).astype(np.float32)
    matrix[:, 0] = np.round(matrix[:, 0])  # a discrete feature: many values sit exactly on thresholds' sides
    matrix[: rows // 50] *= 8  # a few outliers
    return matrix


@pytest.mark.parametrize("max_features", [1.0, 0.5])
@pytest.mark.parametrize("max_samples", [256, 37, 2])
def test_scores_equal_scikit_learn(max_features: float, max_samples: int) -> None:
    fit = _data(1)
    forest = IsolationForest(n_estimators=60, max_samples=max_samples, max_features=max_features,
                             random_state=3).fit(fit)
    compiled = CompiledForest.from_sklearn(forest)
    scored = np.vstack([_data(2), fit[:100]])
    expected = -forest.score_samples(scored)
    assert np.allclose(compiled.scores(scored), expected, rtol=0, atol=1e-12)
    # The ranking an auditor sees is the same, not merely close.
    assert (np.argsort(compiled.scores(scored), kind="stable") == np.argsort(expected, kind="stable")).mean() > 0.999


def test_a_value_exactly_on_a_threshold_takes_scikit_learns_branch() -> None:
    fit = _data(4, rows=600, width=3)
    forest = IsolationForest(n_estimators=20, max_samples=128, random_state=0).fit(fit)
    compiled = CompiledForest.from_sklearn(forest)
    tree = forest.estimators_[0].tree_
    inner = np.flatnonzero(tree.children_left != -1)
    probes = np.repeat(fit[:len(inner)], 3, axis=0)
    for k, node in enumerate(inner[: len(probes) // 3]):
        feature, threshold = tree.feature[node], tree.threshold[node]
        # The float32 nearest the float64 threshold, and its two neighbours.
        at = np.float32(threshold)
        probes[3 * k, feature] = np.nextafter(at, np.float32(-np.inf))
        probes[3 * k + 1, feature] = at
        probes[3 * k + 2, feature] = np.nextafter(at, np.float32(np.inf))
    assert np.allclose(compiled.scores(probes), -forest.score_samples(probes), rtol=0, atol=1e-12)


def test_average_path_length_is_the_papers_c_of_n() -> None:
    # c(n) = 2 H(n-1) - 2(n-1)/n with H(i) ~ ln(i) + Euler's constant; c(1) = 0, c(2) = 1.
    assert list(average_path_length(np.array([0, 1, 2]))) == [0.0, 0.0, 1.0]
    assert average_path_length(np.array([256]))[0] == pytest.approx(2 * (np.log(255) + 0.5772156649) - 2 * 255 / 256)


def test_no_entries_score_to_nothing() -> None:
    forest = IsolationForest(n_estimators=10, random_state=0).fit(_data(5, rows=300))
    assert CompiledForest.from_sklearn(forest).scores(np.empty((0, 6), dtype=np.float32)).shape == (0,)


def test_the_compiled_tail_minimum_equals_the_per_feature_probabilities() -> None:
    rng = np.random.default_rng(7)
    width = len(FEATURES)
    fit = rng.normal(size=(3_000, width)).astype(np.float32)
    for j, name in enumerate(FEATURES):
        if name in ("off_day", "manual"):
            fit[:, j] = (fit[:, j] > 1).astype(np.float32)
    model = fit_entity_model("E1", fit, 3_000, trees=20, seed=0, tail_share=0.01)
    scored = np.vstack([rng.normal(size=(2_000, width)).astype(np.float32) * 3, fit[:50]])
    per_feature = model.tail_probabilities(scored)
    assert np.array_equal(model.smallest_tail_probabilities(scored), per_feature.min(axis=1))
    # The calibration against the fit sample: the share of fit entries at least as extreme.
    fit_scores = -np.log10(per_feature.min(axis=1))
    expected = (len(model.tail_scores) - np.searchsorted(model.tail_scores, fit_scores, side="left") + 1) \
        / (len(model.tail_scores) + 1)
    assert np.array_equal(model.tail_probability(model.smallest_tail_probabilities(scored)), expected)
