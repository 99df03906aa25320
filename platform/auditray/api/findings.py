"""The bridge to the findings store (journal-entry testing's ``Finding`` and ``FindingDisposition``).

The findings store is its own capability (``auditray.store.findings``, migration 0003). The API reads and
writes findings only through its services (``list_findings``, ``get_finding``, ``finding_history``,
``record_disposition``), so every disposition lands in the audit trail exactly as that capability records
it. On a server without it the findings routes still check permissions and tenants, then answer 404 with
code ``not_available`` (not a 5xx: the server works, the capability is not installed).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from auditray.api.errors import ApiError

PAGE = 10_000


def backend() -> ModuleType | None:
    try:
        from auditray.store import findings
    except ImportError:
        return None
    return findings


def available() -> bool:
    return backend() is not None


def unavailable() -> ApiError:
    return ApiError(404, "not_available", "findings are not available on this server (the journal-entry testing "
                    "capability is not installed)")


def _module() -> ModuleType:
    module = backend()
    if module is None:
        raise unavailable()
    return module


def get_finding(session: Any, finding_id: int, *, org_id: int) -> Any | None:
    """The finding of this tenant, or None."""
    from auditray.store import NotFound

    try:
        return _module().get_finding(session, finding_id, org_id=org_id)
    except NotFound:
        return None


def list_findings(session: Any, *, org_id: int, engagement_id: int | None = None, run_id: int | None = None,
                  risk_band: str | None = None, test: str | None = None, status: str | None = None,
                  offset: int = 0, limit: int = 100) -> tuple[list[Any], int]:
    """A page of findings (riskiest first) and the number matching the filters."""
    from sqlalchemy import func, select

    module = _module()
    rows = module.list_findings(session, org_id, run_id=run_id, engagement_id=engagement_id, band=risk_band,
                                test=test, status=status, limit=limit, offset=offset)
    finding = module.Finding
    count = select(func.count()).select_from(finding).where(finding.org_id == org_id)
    for column, value in ((finding.engagement_id, engagement_id), (finding.run_id, run_id),
                          (finding.risk_band, risk_band), (finding.status, status)):
        if value is not None:
            count = count.where(column == value)
    if test is not None:
        count = count.where(finding.tests_index.contains(f",{test},", autoescape=True))
    return rows, session.execute(count).scalar_one()


def history(session: Any, finding_id: int, *, org_id: int) -> list[Any]:
    return _module().finding_history(session, finding_id, org_id=org_id)


def record_disposition(session: Any, *, finding_id: int, org_id: int, disposition: str, comment: str,
                       evidence_uri: str | None, actor: str) -> Any:
    return _module().record_disposition(session, finding_id, disposition, comment, evidence_uri,
                                        org_id=org_id, actor=actor)


def to_dict(row: Any) -> dict[str, Any]:
    module = _module()
    public = module.FindingDispositionPublic if isinstance(row, module.FindingDisposition) else module.FindingPublic
    return public.model_validate(row, from_attributes=True).model_dump(mode="json")


def findings_for_pack(session: Any, *, org_id: int, run: Any) -> list[dict[str, Any]] | None:
    """The run's findings, each with its disposition history, for an evidence pack; None without the store."""
    if not available():
        return None
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        rows, _ = list_findings(session, org_id=org_id, run_id=run.id, offset=offset, limit=PAGE)
        for row in rows:
            item = to_dict(row)
            item["dispositions"] = [to_dict(d) for d in history(session, row.id, org_id=org_id)]
            out.append(item)
        if len(rows) < PAGE:
            return out
        offset += PAGE
