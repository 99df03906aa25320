"""What ingestion found wrong with a file, all of it at once.

An auditor fixing a client export wants every problem in one pass, each pointing at the cell a
spreadsheet user would open: file, row (header = row 1, first data row = row 2; for Excel the
sheet row), the column as the file names it, and the value found there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

# Problem kinds, in the order a report explains them.
ERROR_KINDS: dict[str, str] = {
    "unreadable_file": "the file could not be read",
    "bad_mapping": "the column-mapping file is invalid",
    "mapping_column_not_found": "the mapping names a column the file does not have",
    "missing_column": "a required field has no column",
    "ambiguous_column": "a column name appears more than once",
    "empty_file": "the file has no data rows",
    "ambiguous_date_format": "day/month order cannot be told from the values",
    "missing_value": "a required value is empty",
    "bad_date": "not a date",
    "bad_time": "not a time of day",
    "bad_amount": "not a number",
    "too_many_decimals": "more than 2 decimal places",
    "amount_out_of_range": "does not fit Decimal(18, 2)",
    "bad_indicator": "unknown debit/credit indicator",
    "sign_conflict": "negative amount with a debit indicator",
    "bad_integer": "not a whole number in range",
    "bad_boolean": "not a yes/no value",
    "duplicate_key": "the same key on more than one row",
}


@dataclass(frozen=True)
class Issue:
    """One problem: where it is and what was found there."""

    kind: str
    message: str
    file: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        found = "" if self.value is None else f": {self.value!r}"
        return f"{where}: {self.message}{found}"


@dataclass
class ValidationReport:
    """Everything ingestion decided and found, for the auditor and for the audit trail.

    ``errors`` lists at most ``max_listed`` issues; ``counts`` always holds the true total per kind.
    ``mapping`` says which source column (or constant, or derivation) fed each canonical field.
    """

    source: str
    kind: str
    profile: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0
    max_listed: int = 1000

    @property
    def ok(self) -> bool:
        return not self.counts

    @property
    def error_count(self) -> int:
        return sum(self.counts.values())

    def add(self, issue: Issue) -> None:
        """Count an issue and list it while there is room."""
        self.counts[issue.kind] = self.counts.get(issue.kind, 0) + 1
        if len(self.errors) < self.max_listed:
            self.errors.append(issue)

    def extend(self, issues: list[Issue], totals: dict[str, int]) -> None:
        """Add issues already capped elsewhere, with their true totals per kind."""
        for kind, total in totals.items():
            if total:
                self.counts[kind] = self.counts.get(kind, 0) + total
        room = max(self.max_listed - len(self.errors), 0)
        self.errors.extend(select_listed(issues, room))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def summary(self) -> str:
        status = "accepted" if self.ok else f"REJECTED with {self.error_count} error(s)"
        line = f"{self.source} as {self.kind}: {status}"
        if self.rows:
            line += f"; {self.rows} data row(s)"
        return line

    def __str__(self) -> str:
        lines = [self.summary()]
        if self.profile:
            lines.append(f"Profile: {self.profile}")
        if self.mapping:
            lines.append("Columns: " + ", ".join(f"{k} <- {v}" for k, v in self.mapping.items()))
        if self.counts:
            lines.append("Errors by kind: " + ", ".join(
                f"{kind} {n} ({ERROR_KINDS.get(kind, kind)})" for kind, n in self._ordered_counts()))
        for message in self.warnings:
            lines.append(f"Warning: {message}")
        for issue in self.errors:
            lines.append(f"  - [{issue.kind}] {issue}")
        unlisted = self.error_count - len(self.errors)
        if unlisted > 0:
            lines.append(f"  ... and {unlisted} more (counts above are complete)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data, for the audit trail and the API."""
        return {
            "source": self.source,
            "kind": self.kind,
            "ok": self.ok,
            "profile": self.profile,
            "rows": self.rows,
            "mapping": dict(self.mapping),
            "counts": dict(self._ordered_counts()),
            "warnings": list(self.warnings),
            "errors": [asdict(issue) for issue in self.errors],
            "errors_listed": len(self.errors),
            "errors_total": self.error_count,
        }

    def _ordered_counts(self) -> list[tuple[str, int]]:
        order = {kind: i for i, kind in enumerate(ERROR_KINDS)}
        return sorted(self.counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


class IngestError(Exception):
    """The file was rejected; ``report`` holds every problem found."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(str(report))


# Every kind gets a few listed entries before the remaining room goes in row order, so a flood of
# one problem (a whole column of bad dates) cannot hide a duplicate key further down.
_PER_KIND_FLOOR = 20


def select_listed(issues: list[Issue], room: int) -> list[Issue]:
    """The issues to list when only ``room`` fit: a few of every kind first, then by row."""
    if len(issues) <= room:
        return sorted(issues, key=_issue_order)
    ordered = sorted(issues, key=_issue_order)
    floor = max(1, min(_PER_KIND_FLOOR, room // max(1, len({i.kind for i in issues}))))
    taken: set[int] = set()
    per_kind: Counter[str] = Counter()
    for i, issue in enumerate(ordered):
        if len(taken) >= room:
            break
        if per_kind[issue.kind] < floor:
            per_kind[issue.kind] += 1
            taken.add(i)
    for i in range(len(ordered)):
        if len(taken) >= room:
            break
        taken.add(i)
    return [ordered[i] for i in sorted(taken)]


def _issue_order(issue: Issue) -> tuple[int, str]:
    return (issue.row if issue.row is not None else -1, issue.column or "")
