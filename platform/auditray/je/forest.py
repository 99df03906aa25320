"""The isolation forest, compiled for scoring millions of entries.

scikit-learn fits the forest (Liu, Ting and Zhou, 2008); its ``score_samples`` walks every tree over the
whole matrix with a branch per node, which on ten million entries costs more than the rest of the analysis.
``CompiledForest`` holds the same trees with each node's two children side by side and every leaf turned
into a node that points at itself, so that a walk is ``max_depth`` branch-free steps,
``node = child[node] + (x[feature[node]] > threshold[node])``, run by numba over blocks of entries on both
cores. The path lengths, and so the scores, are scikit-learn's: s(x, n) = 2 ** (-E[h(x)] / c(n)), equal to
``-IsolationForest.score_samples`` (``tests/test_je_forest.py`` checks the two agree).

Each entry's path lengths are summed over the trees in a fixed order, so a score never depends on how the
entries were split into partitions, blocks or threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditray.je.compiled import forest_path_lengths

_EULER_GAMMA = 0.5772156649015329


def average_path_length(n: np.ndarray) -> np.ndarray:
    """c(n): the average path length of an unsuccessful search in a binary search tree of n points (the
    paper's normalisation, and the depth credited to a leaf still holding n training points)."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + _EULER_GAMMA) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _float32_at_most(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 not above each threshold: for a float32 feature x, x <= t exactly when x <= this,
    so the walk compares in float32 and still takes scikit-learn's branch (it compares in float64)."""
    narrow = threshold.astype(np.float32)
    above = narrow.astype(np.float64) > threshold
    narrow[above] = np.nextafter(narrow[above], np.float32(-np.inf))
    return narrow


@dataclass(frozen=True)
class CompiledForest:
    """Every tree of a fitted ``IsolationForest`` as flat node arrays, children side by side."""

    threshold: np.ndarray  # float32; go to the second child when x > threshold, as scikit-learn does
    # uint32: the first child's global index (a leaf's is itself) << 8 | the node's feature (0 at a leaf,
    # whose threshold is +inf, so it stays put): one load gives both.
    child_feature: np.ndarray
    leaf_depth: np.ndarray  # float64: depth of the node (root 0) + c(training points in it)
    roots: np.ndarray  # uint32: each tree's root node
    depth: int  # the deepest leaf: steps per walk
    normaliser: float  # trees x c(max_samples)

    @classmethod
    def from_sklearn(cls, forest: object) -> CompiledForest:
        features, thresholds, children, depths, roots = [], [], [], [], []
        offset, deepest = 0, 0
        for tree_features, estimator in zip(forest.estimators_features_, forest.estimators_, strict=True):
            tree = estimator.tree_
            # Breadth-first renumbering: the children of a node get consecutive numbers.
            order, position, node_depth = [0], {0: 0}, {0: 0}
            for node in order:
                left, right = int(tree.children_left[node]), int(tree.children_right[node])
                if left != -1:
                    for kid in (left, right):
                        position[kid] = len(order)
                        node_depth[kid] = node_depth[node] + 1
                        order.append(kid)
            count = len(order)
            feature = np.zeros(count, dtype=np.uint32)
            threshold = np.full(count, np.inf)
            child = np.arange(offset, offset + count, dtype=np.uint32)
            depth = np.zeros(count, dtype=np.float64)
            mapping = np.asarray(tree_features)  # a tree fitted on a subset numbers features within it
            for new, node in enumerate(order):
                depth[new] = node_depth[node]
                if tree.children_left[node] != -1:
                    feature[new] = mapping[tree.feature[node]]
                    threshold[new] = tree.threshold[node]
                    child[new] = offset + position[int(tree.children_left[node])]
            samples = tree.n_node_samples[np.array(order)]
            features.append(feature)
            thresholds.append(threshold)
            children.append(child)
            depths.append(depth + average_path_length(samples))
            roots.append(offset)
            deepest = max(deepest, max(node_depth.values()))
            offset += count
        normaliser = len(forest.estimators_) * float(average_path_length(np.array([forest.max_samples_]))[0])
        feature, child = np.concatenate(features), np.concatenate(children)
        if feature.max(initial=0) > 255 or offset >= 2 ** 24:
            raise ValueError("the compiled forest holds at most 256 features and 16 million nodes")
        return cls(threshold=_float32_at_most(np.concatenate(thresholds)),
                   child_feature=(child << np.uint32(8)) | feature, leaf_depth=np.concatenate(depths),
                   roots=np.array(roots, dtype=np.uint32), depth=deepest, normaliser=normaliser)

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """The anomaly score of each row, in (0, 1]: near 1 for entries isolated by few splits."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        total = np.zeros(matrix.shape[0], dtype=np.float64)
        if matrix.shape[0]:
            forest_path_lengths()(matrix.reshape(-1), np.uint64(matrix.shape[1]), self.threshold,
                                  self.child_feature, self.leaf_depth, self.roots, self.depth, total)
        if self.normaliser == 0:
            return np.ones_like(total)
        return 2.0 ** (-total / self.normaliser)


__all__ = ["CompiledForest", "average_path_length"]
