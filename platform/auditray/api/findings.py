"""The bridge to the findings store (journal-entry testing's Finding and FindingDisposition).

The findings store is its own capability (``auditray.store.findings``, migration 0003). The API reads
and writes findings only through its services (``list_findings``, ``record_disposition``, ...), so every
disposition lands in the audit trail exactly as the JE capability records it. Until that module exists
the findings routes still check permissions and tenants, then answer 501.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from auditray.api.errors import ApiError

CANDIDATE_MODULES = ("auditray.store.findings", "auditray.je.findings", "auditray.je.store")


def _module_with(name: str) -> Callable | None:
    for module_name in CANDIDATE_MODULES:
        try:
            module: ModuleType = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        function = getattr(module, name, None)
        if callable(function):
            return function
    return None


def _model(name: str) -> Any:
    for module_name in CANDIDATE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, name):
            return getattr(module, name)
    return None


def available() -> bool:
    return _model("Finding") is not None and _module_with("list_findings") is not None


def unavailable() -> ApiError:
    return ApiError(501, "not_available", "findings are not available on this server yet (the journal-entry "
                    "testing capability is not installed)")


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call a findings service with the keyword arguments it declares (others are dropped)."""
    function = _module_with(name)
    if function is None:
        raise unavailable()
    parameters = inspect.signature(function).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in parameters}
    return function(*args, **kwargs)


def get_finding(session: Any, finding_id: int, *, org_id: int) -> Any:
    """The finding of this tenant, or None."""
    model = _model("Finding")
    if model is None:
        raise unavailable()
    getter = _module_with("get_finding")
    if getter is not None:
        from auditray.store import NotFound

        try:
            return call("get_finding", session, finding_id, org_id=org_id)
        except NotFound:
            return None
    row = session.get(model, finding_id)
    return row if row is not None and getattr(row, "org_id", None) == org_id else None


def engagement_of(session: Any, finding: Any) -> int | None:
    engagement_id = getattr(finding, "engagement_id", None)
    if engagement_id is None and getattr(finding, "run_id", None) is not None:
        from auditray.store.models import JobRun

        run = session.get(JobRun, finding.run_id)
        engagement_id = run.engagement_id if run is not None else None
    return engagement_id


def to_dict(row: Any) -> dict[str, Any]:
    if hasattr(row, "model_dump"):
        return row.model_dump(mode="json")
    if isinstance(row, dict):
        return row
    return dict(row.__dict__)


def findings_for_pack(session: Any, *, org_id: int, run: Any) -> list[dict[str, Any]] | None:
    """The run's findings, each with its dispositions, for an evidence pack; None when there is no store."""
    if not available():
        return None
    rows = call("list_findings", session, org_id=org_id, run_id=run.id, engagement_id=run.engagement_id,
                limit=1_000_000, offset=0)
    rows = rows[0] if isinstance(rows, tuple) else rows
    out = []
    for row in rows:
        item = to_dict(row)
        if _module_with("list_dispositions") is not None:
            item["dispositions"] = [to_dict(d) for d in call("list_dispositions", session, finding_id=item["id"],
                                                               org_id=org_id)]
        out.append(item)
    return out
