"""Regulation search and answers: the corpus of standards, hybrid search, grounded answers with citations.

- ``ingest(paths, ...)``: Markdown, text, HTML and PDF into cited chunks in LanceDB (one tagged version
  per ingest, with its audit event when a session is given); ``ingest_starter_corpus()`` loads the
  summaries shipped with Auditray.
- ``search(query, mode="hybrid"|"vector"|"fulltext", source=, standard=, org_id=, version=)``.
- ``ask(question, ...)``: an extractive (or, with the GPU LLM configured, generated) answer that cites
  its chunks, passes the grounding check and is screened for prompt injection.
- ``versions()``: the tagged ingests.

The API routes ``/rag/search`` and ``/rag/ask`` call ``search`` and ``ask``; the permissions are
``rag.search``, ``rag.ask`` and ``rag.ingest`` (``auditray.permissions``).
"""

from auditray.rag.answer import Answer, ask
from auditray.rag.documents import CorpusError
from auditray.rag.ingest import IngestResult, ingest, ingest_starter_corpus
from auditray.rag.search import CorpusEmpty, Hit, SearchResult, search
from auditray.rag.store import CorpusVersion, list_versions

SEARCH_ACTION = "rag.search"
ASK_ACTION = "rag.ask"
INGEST_ACTION = "rag.ingest"


def versions(settings=None, uri: str | None = None) -> list[CorpusVersion]:
    """Every tagged ingest of the corpus, oldest first."""
    if uri is None:
        from auditray.settings import get_settings

        uri = (settings or get_settings()).resolved_lancedb_uri
    return list_versions(uri)


__all__ = [
    "ASK_ACTION", "INGEST_ACTION", "SEARCH_ACTION", "Answer", "CorpusEmpty", "CorpusError", "CorpusVersion", "Hit",
    "IngestResult", "SearchResult", "ask", "ingest", "ingest_starter_corpus", "search", "versions",
]
