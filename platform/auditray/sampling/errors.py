"""Errors that name what was wrong: the argument, or the file, row and column."""

from __future__ import annotations


class SamplingInputError(ValueError):
    """A sampling parameter the guide's method cannot use; ``field`` names it (e.g. ``expected_rate``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self):
        # Picklable, so the error crosses process boundaries (Ray workers) intact.
        return (type(self), (self.field, self.message))


class PopulationError(ValueError):
    """A population or misstatements file that cannot be sampled or evaluated as it stands.

    ``problems`` lists each one as ``(file, row, column, message)``; rows count from 1 for the first
    data row of a Parquet file and are file lines (header = line 1) for CSV.
    """

    def __init__(self, problems: list[tuple[str, int | None, str | None, str]], limit: int = 20) -> None:
        self.problems = problems
        shown = [_describe(p) for p in problems[:limit]]
        more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
        super().__init__("\n".join(shown) + more)
        self.limit = limit

    def __reduce__(self):
        return (type(self), (self.problems, self.limit))


def _describe(problem: tuple[str, int | None, str | None, str]) -> str:
    file, row, column, message = problem
    where = [file]
    if row is not None:
        where.append(f"row {row}")
    if column:
        where.append(f"column {column!r}")
    return f"{', '.join(where)}: {message}"
