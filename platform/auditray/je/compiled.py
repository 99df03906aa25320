"""Numba kernels for the per-entry loops of the anomaly model, compiled on first use and cached on disk.

Importing this module loads no numba: ``auditray --help`` and the CLI's light commands stay fast, and a
process that never scores entries never compiles anything. Every kernel treats each row on its own and sums
in a fixed order, so results do not depend on threads or on how the entries were partitioned.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

# Feature kinds of the empirical tails, as integers for the kernel.
RIGHT, BOTH, CATEGORY = 0, 1, 2
# Entries walked through one tree before the next tree: a block's nodes and features stay in cache.
BLOCK = 1024


@cache
def tail_minimum() -> Callable[..., Any]:
    """``kernel(distinct, below, offsets, kinds, n, matrix, out)``: per row, the smallest per-feature tail
    probability.

    Feature j's distinct fit-sample values are ``distinct[offsets[j]:offsets[j + 1]]`` and ``below`` (one
    longer per feature, starting at ``offsets[j] + j``) counts the fit values below each of them. A feature's
    tail probability is (count + 1) / (n + 1), count being the fit entries at least as extreme: at or above
    the value ("right"), in the nearer tail doubled ("both"), with the same yes/no value ("category"),
    exactly as ``EntityModel.tail_probabilities`` computes it from the sorted values.
    """
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True, cache=True, nogil=True)
    def kernel(distinct, below, offsets, kinds, n, matrix, out):  # pragma: no cover
        width = matrix.shape[1]
        for i in prange(matrix.shape[0]):
            smallest = 1.0
            for j in range(width):
                values = distinct[offsets[j]:offsets[j + 1]]
                counts = below[offsets[j] + j:offsets[j + 1] + j + 1]
                x = np.float64(matrix[i, j])
                if kinds[j] == CATEGORY:
                    yes = n - counts[np.searchsorted(values, 0.5, side="left")]
                    count = yes if x > 0.5 else n - yes
                else:
                    at_least = n - counts[np.searchsorted(values, x, side="left")]
                    if kinds[j] == RIGHT:
                        count = at_least
                    else:
                        at_most = counts[np.searchsorted(values, x, side="right")]
                        count = min(2 * min(at_least, at_most), n)
                smallest = min(smallest, (count + 1) / (n + 1))
            out[i] = smallest

    return kernel


@cache
def share_at_least() -> Callable[..., Any]:
    """``kernel(sorted_sample, values, out)``: per value, (entries of the sample >= it, + 1) / (n + 1)."""
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True, cache=True, nogil=True)
    def kernel(sorted_sample, values, out):  # pragma: no cover
        n = sorted_sample.shape[0]
        for i in prange(values.shape[0]):
            out[i] = (n - np.searchsorted(sorted_sample, values[i], side="left") + 1) / (n + 1)

    return kernel


@cache
def forest_path_lengths() -> Callable[..., Any]:
    """``kernel(values, width, threshold, child_feature, leaf_depth, roots, depth, out)``: per row, the sum
    over the trees of its path length (``auditray.je.forest.CompiledForest`` holds the arrays)."""
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True, cache=True, nogil=True, fastmath=False, boundscheck=False)
    def walk(values, width, threshold, child, leaf_depth, roots, depth, out):  # pragma: no cover
        # ``values`` is the row-major matrix flattened; indices are unsigned so that no negative-index
        # wrap-around check sits in the innermost loop.
        n = out.shape[0]
        blocks = (n + BLOCK - 1) // BLOCK
        for b in prange(blocks):
            start = b * BLOCK
            size = min(n, start + BLOCK) - start
            base = np.empty(size, dtype=np.uint64)
            for k in range(size):
                base[k] = np.uint64((start + k) * width)
            nodes = np.empty(size, dtype=np.uint32)
            for t in range(roots.shape[0]):
                for k in range(size):
                    nodes[k] = roots[t]
                for _ in range(depth):
                    for k in range(size):
                        node = nodes[k]
                        word = child[node]  # the first child in the high bits, the feature in the low byte
                        step = values[base[k] + (word & np.uint32(255))] > threshold[node]
                        nodes[k] = (word >> np.uint32(8)) + np.uint32(step)
                for k in range(size):
                    out[start + k] += leaf_depth[nodes[k]]

    return walk


def warm_up() -> None:
    """Compile (or load from the disk cache) every kernel for the argument types the model passes them, on
    inputs of one element: the first real call then finds them ready."""
    import numpy as np

    one = np.zeros(1)
    matrix = np.zeros((1, 1), dtype=np.float32)
    tail_minimum()(one, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.int64),
                   1, matrix, one.copy())
    share_at_least()(one, one, one.copy())
    forest_path_lengths()(matrix.reshape(-1), np.uint64(1), np.zeros(1, dtype=np.float32),
                          np.zeros(1, dtype=np.uint32), one, np.zeros(1, dtype=np.uint32), 0, one.copy())


__all__ = ["BLOCK", "BOTH", "CATEGORY", "RIGHT", "forest_path_lengths", "share_at_least", "tail_minimum",
           "warm_up"]
