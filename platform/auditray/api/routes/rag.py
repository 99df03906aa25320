"""Regulation search and answers, through ``auditray.rag`` (when installed), limited to the caller's tenant."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter

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
