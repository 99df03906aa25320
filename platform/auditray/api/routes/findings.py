"""Findings: filter and page them, record dispositions with comments and evidence attachments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse
from sqlmodel import select

from auditray.api import findings as backend
from auditray.api.deps import CurrentPrincipal, State, engagement_for
from auditray.api.errors import ApiError, ErrorResponse, not_found
from auditray.api.schemas import AttachmentOut, DispositionRequest, Id, Limit, Offset
from auditray.store import api_services
from auditray.store.auth_models import Attachment

router = APIRouter(tags=["findings"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
           409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, }


def _finding_for(session, principal, finding_id: int, action: str):
    if not backend.available():
        raise not_found(f"finding {finding_id}")  # no findings store, so no such finding
    finding = backend.get_finding(session, finding_id, org_id=principal.org_id)
    if finding is None:
        raise not_found(f"finding {finding_id}")
    if finding.engagement_id is None:
        raise not_found(f"finding {finding_id}")
    engagement_for(session, principal, finding.engagement_id, action)
    return finding


@router.get("/engagements/{engagement_id}/findings", responses=_ERRORS)
def list_findings(
    engagement_id: Id,
    principal: CurrentPrincipal,
    state: State,
    run_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    test: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_]+$", description="A test id")] = None,
    risk_band: Annotated[str | None, Query(pattern=r"^(low|medium|high)$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(open|cleared|exception|escalated)$")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> dict:
    """The engagement's findings, filtered by run, test, risk band or disposition status, a page at a time."""
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "finding.read")
        rows, total = backend.list_findings(session, org_id=principal.org_id, engagement_id=engagement_id,
                                            run_id=run_id, risk_band=risk_band, test=test, status=status,
                                            offset=offset, limit=limit)
        return {"items": [backend.to_dict(r) for r in rows], "total": total, "offset": offset, "limit": limit}


@router.get("/findings/{finding_id}", responses=_ERRORS)
def read_finding(finding_id: Id, principal: CurrentPrincipal, state: State) -> dict:
    with state.read() as session:
        return backend.to_dict(_finding_for(session, principal, finding_id, "finding.read"))


@router.get("/findings/{finding_id}/dispositions", responses=_ERRORS)
def list_dispositions(finding_id: Id, principal: CurrentPrincipal, state: State) -> list[dict]:
    with state.read() as session:
        _finding_for(session, principal, finding_id, "finding.read")
        return [backend.to_dict(r) for r in backend.history(session, finding_id, org_id=principal.org_id)]


@router.post("/findings/{finding_id}/dispositions", status_code=201, responses=_ERRORS)
def record_disposition(finding_id: Id, body: DispositionRequest, principal: CurrentPrincipal, state: State) -> dict:
    """Clear, except or escalate a finding with a comment and evidence attachments; audited.

    Attachments are uploaded first (POST /engagements/{id}/attachments) and named here by id; the
    disposition records them as ``attachment:<id>?sha256=<hash>`` in its evidence.
    """
    with state.write() as session:
        finding = _finding_for(session, principal, finding_id, "finding.disposition")
        evidence = []
        for attachment_id in body.attachment_ids:
            row = api_services.get_attachment(session, attachment_id, org_id=principal.org_id)
            if row.engagement_id != finding.engagement_id:
                raise ApiError(422, "validation_error",
                               f"attachment {attachment_id} belongs to another engagement")
            evidence.append(f"attachment:{row.id}?sha256={row.sha256}")
        row = backend.record_disposition(session, finding_id=finding_id, org_id=principal.org_id,
                                         disposition=body.disposition, comment=body.comment,
                                         evidence_uri=" ".join(evidence) or None, actor=principal.actor.email)
        return backend.to_dict(row)


@router.post("/engagements/{engagement_id}/attachments", response_model=AttachmentOut, status_code=201,
             responses=_ERRORS)
def upload_attachment(engagement_id: Id, principal: CurrentPrincipal, state: State,
                      file: Annotated[UploadFile, File(description="Evidence for a disposition")]) -> AttachmentOut:
    """Store a piece of evidence (by SHA-256) to attach to dispositions of this engagement's findings."""
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "finding.disposition")
        row = api_services.store_attachment(
            session, org_id=principal.org_id, engagement_id=engagement_id, file_name=file.filename or "attachment",
            content_type=file.content_type, stream=file.file, data_dir=state.settings.data_dir,
            actor=principal.actor.email, max_bytes=state.api.max_attachment_mb * 1024 * 1024)
        return AttachmentOut.model_validate(row)


@router.get("/engagements/{engagement_id}/attachments", response_model=list[AttachmentOut], responses=_ERRORS)
def list_attachments(engagement_id: Id, principal: CurrentPrincipal, state: State) -> list[AttachmentOut]:
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "finding.read")
        rows = session.exec(select(Attachment).where(Attachment.engagement_id == engagement_id,
                                                     Attachment.org_id == principal.org_id)
                            .order_by(Attachment.id)).all()
        return [AttachmentOut.model_validate(r) for r in rows]


@router.get("/attachments/{attachment_id}", responses={**_ERRORS, 200: {"content": {"application/octet-stream": {}}}})
def download_attachment(attachment_id: Id, principal: CurrentPrincipal, state: State) -> FileResponse:
    with state.read() as session:
        row = api_services.get_attachment(session, attachment_id, org_id=principal.org_id)
        engagement_for(session, principal, row.engagement_id, "finding.read")
    return FileResponse(row.uri, media_type=row.content_type or "application/octet-stream", filename=row.file_name)
