"""Datasets: upload a client file (validated cell by cell, registered all or nothing) and read them."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile

from auditray.api.deps import CurrentPrincipal, State, engagement_for
from auditray.api.errors import ApiError, ErrorResponse, not_found
from auditray.api.schemas import MAX_ID, DataRequestOut, DatasetOut, Id, UploadResult
from auditray.store import api_services
from auditray.store import services as svc
from auditray.store.auth_models import DataRequestStatus
from auditray.store.models import Role

router = APIRouter(tags=["datasets"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
           409: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def _save_upload(upload: UploadFile, folder: Path, max_bytes: int) -> Path:
    """Stream the upload to disk under its (sanitised) file name, refusing more than ``max_bytes``."""
    name = _SAFE_NAME.sub("_", Path(upload.filename or "upload").name).strip(" .") or "upload"
    target = folder / name[:200]
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, "payload_too_large", f"{name}: uploads are limited to {max_bytes:,} bytes")
            out.write(chunk)
    return target


@router.post("/engagements/{engagement_id}/datasets", response_model=UploadResult, status_code=201,
             responses=_ERRORS)
def upload_dataset(
    engagement_id: Id,
    principal: CurrentPrincipal,
    state: State,
    file: Annotated[UploadFile, File(description="CSV, Parquet or Excel export from the client's system")],
    kind: Annotated[Literal["gl_detail", "trial_balance", "chart_of_accounts"], Form()],
    name: Annotated[str | None, Form(max_length=200)] = None,
    entity_id: Annotated[str | None, Form(max_length=64)] = None,
    request_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> UploadResult:
    """Validate and register a client file. A rejected file answers 422 with the full validation report
    (every problem by file, row, column and value) and leaves nothing behind. Client contacts upload only
    against an open file request of the same kind."""
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "dataset.upload")
        if principal.actor.role == Role.client_contact and request_id is None:
            raise ApiError(403, "forbidden", "client contacts upload only files that were requested: give request_id")
        if request_id is not None:
            request = api_services.get_request(session, request_id, org_id=principal.org_id,
                                               engagement_id=engagement_id)
            if request.status != DataRequestStatus.open:
                raise ApiError(409, "conflict", f"file request {request_id} is {request.status}, not open")
            if request.kind != kind:
                raise ApiError(422, "validation_error",
                               f"file request {request_id} asks for {request.kind}, not {kind}")
    from auditray import datasets
    from auditray.ingest import IngestError, MappingError

    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=_uploads_dir(state)))
    try:
        path = _save_upload(file, folder, state.api.max_upload_mb * 1024 * 1024)
        try:
            dataset = datasets.ingest(path, kind, org_id=principal.org_id, actor=principal.actor.email,
                                      engagement_id=engagement_id, name=name, entity_id=entity_id,
                                      settings=state.settings)
        except IngestError as error:
            raise ApiError(422, "ingest_rejected", error.report.summary(), details=error.report.to_dict()) from None
        except MappingError as error:
            raise ApiError(422, "ingest_rejected", str(error)) from None
        except datasets.DuplicateDataset as error:
            raise ApiError(409, "duplicate_dataset", str(error)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    fulfilled = None
    if request_id is not None:
        with state.write() as session:
            fulfilled = DataRequestOut.model_validate(api_services.fulfil_request(
                session, request_id=request_id, engagement_id=engagement_id, org_id=principal.org_id,
                dataset=dataset, actor=principal.actor.email))
    profile = dataset.profile or {}
    validation = {"ok": True, "rows": dataset.row_count, "format": profile.get("source_format"),
                  "mapping": profile.get("column_mapping"), "warnings": profile.get("warnings", []),
                  "control_totals": profile.get("control_totals")}
    return UploadResult(dataset=DatasetOut.model_validate(dataset), validation=validation, request=fulfilled)


def _uploads_dir(state) -> Path:
    folder = state.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@router.get("/engagements/{engagement_id}/datasets", response_model=list[DatasetOut], responses=_ERRORS)
def list_datasets(engagement_id: Id, principal: CurrentPrincipal, state: State) -> list[DatasetOut]:
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "dataset.read")
        return [DatasetOut.model_validate(d) for d in svc.list_datasets(session, org_id=principal.org_id,
                                                                        engagement_id=engagement_id)]


@router.get("/datasets/{dataset_id}", response_model=DatasetOut, responses=_ERRORS)
def read_dataset(dataset_id: Id, principal: CurrentPrincipal, state: State) -> DatasetOut:
    with state.read() as session:
        dataset = svc.get_dataset(session, dataset_id, org_id=principal.org_id)
        if dataset.engagement_id is None:
            raise not_found(f"dataset {dataset_id}")
        engagement_for(session, principal, dataset.engagement_id, "dataset.read")
        return DatasetOut.model_validate(dataset)
