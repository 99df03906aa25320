"""The random numbers behind every selection: a SHA-256 counter, re-performable by anyone.

The i-th random number of stream ``s`` for seed ``seed`` is SHA-256 of the UTF-8 text
``auditray-sample|<seed>|<s>|<i>``, read as a 256-bit big-endian integer; an integer in [0, m) is
that number modulo m (the bias, below m / 2**256, is nil for any population). Unlike a library
generator this cannot change with a Python, NumPy or Polars upgrade, and a reviewer can recompute
any draw with a command-line SHA-256 tool.
"""

from __future__ import annotations

import hashlib
import secrets


def new_seed() -> int:
    """A fresh seed for a caller who named none; it is recorded with the selection like any other."""
    return secrets.randbelow(2**31 - 1) + 1


class AuditRandom:
    """Counter-based draws for one seed and stream; ``draws`` counts how many were taken."""

    def __init__(self, seed: int, stream: str = "main") -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"a seed is a whole number >= 0, got {seed!r}")
        self.seed = seed
        self.stream = stream
        self.draws = 0

    def number(self, index: int) -> int:
        text = f"auditray-sample|{self.seed}|{self.stream}|{index}"
        return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")

    def below(self, bound: int) -> int:
        """The next integer in [0, bound)."""
        if bound < 1:
            raise ValueError("bound must be at least 1")
        value = self.number(self.draws) % bound
        self.draws += 1
        return value

    def positions(self, population: int, count: int) -> list[int]:
        """``count`` distinct positions in [0, population), in draw order (a partial Fisher-Yates shuffle).

        Draw i picks j = i + below(population - i) and swaps positions i and j of the virtual list
        0..population-1; only swapped entries are stored, so memory is O(count).
        """
        if not 0 <= count <= population:
            raise ValueError(f"cannot draw {count} distinct items from {population}")
        moved: dict[int, int] = {}
        chosen: list[int] = []
        for i in range(count):
            j = i + self.below(population - i)
            at_i, at_j = moved.get(i, i), moved.get(j, j)
            moved[j] = at_i
            chosen.append(at_j)
        return chosen
