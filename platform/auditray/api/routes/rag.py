"""Regulation search and answers, through ``auditray.rag`` (when installed), limited to the caller's tenant."""

from __future__ import annotations

import importlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from auditray.api.deps import CurrentPrincipal, State, require
from auditray.api.errors import ApiError, ErrorResponse
from auditray.api.schemas import RagAskRequest, RagSearchRequest

router = APIRouter(tags=["regulation search"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
           429: {"model": ErrorResponse}, }


def _function(name: str, *modules: str):
    for module_name in ("auditray.rag", *modules):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        function = getattr(module, name, None)
        if callable(function):
            return function
    raise ApiError(404, "not_available", f"regulation {name} is not available on this server yet")


def _as_dict(result: Any) -> dict:
    if hasattr(result, "to_dict"):
        return result.to_dict()
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json")
    return dict(result)


def _call(function, *args, **kwargs) -> dict:
    try:
        return _as_dict(function(*args, **kwargs))
    except ValueError as error:
        raise ApiError(422, "validation_error", str(error)) from None
    except LookupError as error:  # CorpusEmpty: a state of this server, not a failure of it
        raise ApiError(409, "corpus_empty", str(error)) from None


@router.post("/rag/search", responses=_ERRORS)
def rag_search(body: RagSearchRequest, principal: CurrentPrincipal, state: State) -> dict:
    """The passages of the regulation corpus that best answer the query, each with its citation."""
    require(principal, "rag.search")
    search = _function("search", "auditray.rag.search")
    return _call(search, body.query, mode=body.mode, k=body.k, source=body.source, standard=body.standard,
                 org_id=principal.org_id, settings=state.settings)


@router.post("/rag/ask", responses=_ERRORS)
def rag_ask(body: RagAskRequest, principal: CurrentPrincipal, state: State) -> dict:
    """An answer grounded in the corpus, listing the passages it cites."""
    require(principal, "rag.ask")
    ask = _function("ask", "auditray.rag.answer", "auditray.rag.ask")
    import inspect

    accepted = inspect.signature(ask).parameters
    kwargs = {"k": body.k, "source": body.source, "standard": body.standard, "org_id": principal.org_id,
              "settings": state.settings}
    if not any(p.kind == p.VAR_KEYWORD for p in accepted.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    return _call(ask, body.question, **kwargs)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024


@router.post("/rag/documents", status_code=201, responses=_ERRORS)
def rag_ingest(
    principal: CurrentPrincipal,
    state: State,
    files: Annotated[list[UploadFile], File(description="Markdown, text, HTML or PDF documents")],
    source: Annotated[str | None, Form(max_length=100, description="PCAOB, AICPA, IAASB, SEC, FASB, ...")] = None,
    standard: Annotated[str | None, Form(max_length=100)] = None,
    title: Annotated[str | None, Form(max_length=300)] = None,
    effective_date: Annotated[str | None, Form(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    url: Annotated[str | None, Form(max_length=2000)] = None,
) -> dict:
    """Add your firm's licensed texts to the corpus, visible to your organization only (admins).

    Re-sending a changed document replaces its chunks; every ingest is a tagged corpus version and an
    audit event. The corpus every firm shares is maintained from the command line (``auditray corpus``).
    """
    require(principal, "rag.ingest")
    ingest = _function("ingest", "auditray.rag.ingest")
    folder = Path(tempfile.mkdtemp(prefix="corpus-upload-", dir=_uploads(state)))
    try:
        paths = []
        for upload in files:
            name = _SAFE_NAME.sub("_", Path(upload.filename or "document").name).strip(" .") or "document"
            target = folder / name[:200]
            data = upload.file.read(MAX_DOCUMENT_BYTES + 1)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise ApiError(413, "payload_too_large", f"{name}: documents are limited to {MAX_DOCUMENT_BYTES:,} bytes")
            target.write_bytes(data)
            paths.append(target)
        with state.write() as session:
            return _call(ingest, paths, source=source, standard=standard, title=title, effective_date=effective_date,
                         url=url, org_id=principal.org_id, settings=state.settings, session=session,
                         actor=principal.actor.email)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _uploads(state) -> Path:
    folder = state.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
