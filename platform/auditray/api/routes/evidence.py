"""Evidence packs: seal a finished run into a signed zip; verify a pack someone hands you."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from auditray import evidence
from auditray.api import findings as findings_backend
from auditray.api.deps import CurrentPrincipal, State, require
from auditray.api.errors import ApiError, ErrorResponse
from auditray.api.routes.runs import run_for
from auditray.api.schemas import Id, PackVerificationOut, PublicKeyOut

router = APIRouter(tags=["evidence"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
           409: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}
MAX_PACK_BYTES = 512 * 1024 * 1024


@router.post("/runs/{run_id}/evidence-pack", responses={**_ERRORS, 200: {
    "content": {"application/zip": {}}, "description": "The signed evidence pack"}})
def create_pack(run_id: Id, principal: CurrentPrincipal, state: State) -> Response:
    """Seal a finished run: inputs' hashes, parameters, code version, results, findings and dispositions,
    and the audit events, listed with their SHA-256 in a manifest signed with Ed25519."""
    with state.write() as session:
        run = run_for(session, principal, run_id, "evidence.create")
        findings = findings_backend.findings_for_pack(session, org_id=principal.org_id, run=run)
        pack = evidence.build_pack(session, run_id=run.id, org_id=principal.org_id, actor=principal.actor.email,
                                   secret=state.settings.secret_key, findings=findings)
    return Response(pack.data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{pack.file_name}"',
        "X-Manifest-SHA256": pack.manifest_sha256})


@router.post("/evidence/verify", response_model=PackVerificationOut, responses=_ERRORS)
def verify_pack(principal: CurrentPrincipal, state: State,
                file: Annotated[UploadFile, File(description="An evidence pack (zip)")]) -> PackVerificationOut:
    """Check a pack's signature (and that this server signed it) and every file against its manifest."""
    require(principal, "evidence.verify")
    data = file.file.read(MAX_PACK_BYTES + 1)
    if len(data) > MAX_PACK_BYTES:
        raise ApiError(413, "payload_too_large", f"evidence packs are limited to {MAX_PACK_BYTES:,} bytes")
    result = evidence.verify_pack(data, secret=state.settings.secret_key)
    return PackVerificationOut(**result.to_dict(), message=result.message)


@router.get("/evidence/public-key", response_model=PublicKeyOut)
def public_key(state: State) -> PublicKeyOut:
    """The public key evidence packs are signed with: give it to whoever must verify packs offline."""
    public = evidence.public_key_hex(state.settings.secret_key)
    return PublicKeyOut(algorithm=evidence.ALGORITHM, public_key=public, key_id=evidence.key_id(public))
