"""Search the regulation corpus three ways: vector, full-text (BM25) and hybrid (reciprocal-rank fusion).

Vector search finds passages that mean what the auditor asked even in other words; full-text search
finds the exact terms and paragraph numbers ("AS 2401", "tolerable rate"); hybrid fuses the two
rankings by reciprocal rank (Cormack, Clarke & Büttcher 2009, k = 60), which needs no score
calibration between BM25 and cosine. Every result names the table version it read.

Example::

    result = search("when do I test journal entries made after year end?", standard="AS 2401")
    for hit in result.hits:
        print(hit.citation, hit.score)
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from auditray.rag.embeddings import embed_query
from auditray.rag.store import TEXT_COLUMN, open_corpus, sql_string
from auditray.rag.vocabulary import expand_query

if TYPE_CHECKING:
    from auditray.settings import Settings

Mode = Literal["vector", "fulltext", "hybrid"]
MODES: tuple[str, ...] = ("vector", "fulltext", "hybrid")
RRF_K = 60
CANDIDATES = 50
_COLUMNS = ["chunk_id", "document_id", "source", "standard", "paragraph", "citation", "title", "heading",
            "text", "url", "effective_date", "notice", "page", "flags"]


class CorpusEmpty(LookupError):
    """Nothing has been ingested yet."""


@dataclass(frozen=True)
class Hit:
    """One passage found, with its citation and how each method ranked it (1 = best; None = not found)."""

    chunk_id: str
    citation: str
    text: str
    source: str
    standard: str
    paragraph: str
    title: str
    heading: str
    document_id: str
    score: float
    vector_score: float | None = None
    text_score: float | None = None
    vector_rank: int | None = None
    text_rank: int | None = None
    url: str | None = None
    effective_date: date | None = None
    notice: str | None = None
    page: int | None = None
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["effective_date"] = self.effective_date.isoformat() if self.effective_date else None
        out["flags"] = list(self.flags)
        return out


@dataclass(frozen=True)
class SearchResult:
    """The hits of one search and the corpus version they came from."""

    query: str
    expanded_query: str
    mode: str
    hits: list[Hit]
    version: int
    filters: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "expanded_query": self.expanded_query, "mode": self.mode,
                "version": self.version, "filters": self.filters, "elapsed_ms": round(self.elapsed_ms, 2),
                "hits": [hit.to_dict() for hit in self.hits]}


def search(
    query: str,
    *,
    mode: Mode = "hybrid",
    k: int = 5,
    source: str | Sequence[str] | None = None,
    standard: str | Sequence[str] | None = None,
    org_id: int | None = None,
    version: int | str | None = None,
    settings: Settings | None = None,
    uri: str | None = None,
    candidates: int = CANDIDATES,
    expand: bool = True,
) -> SearchResult:
    """The ``k`` best passages for ``query``.

    ``source`` / ``standard`` restrict the corpus (one value or several, e.g. ``standard=["AS 2401",
    "ISA 240"]``). ``org_id`` limits a tenant to the shared corpus plus its own licensed texts; None
    searches everything (local use). ``version`` searches an earlier ingest (a number or an
    ``ingest-v<N>`` tag) to reproduce an old answer.
    """
    started = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    query = (query or "").strip()
    if not query:
        raise ValueError("the search query is empty")
    if not 1 <= k <= 100:
        raise ValueError(f"k must be between 1 and 100, not {k}")
    table, pinned = _pinned_table(uri or _uri(settings), version)
    where = corpus_filter(source=source, standard=standard, org_id=org_id)
    expanded = expand_query(query) if expand else query
    depth = max(k, candidates)

    vector_rows = _vector_rows(table, expanded, where, depth) if mode in ("vector", "hybrid") else []
    text_rows = _text_rows(table, expanded, where, depth) if mode in ("fulltext", "hybrid") else []
    hits = fuse(vector_rows, text_rows, mode=mode)[:k]
    filters = {"source": source, "standard": standard, "org_id": org_id}
    return SearchResult(query=query, expanded_query=expanded, mode=mode, hits=hits, version=pinned,
                        filters={key: value for key, value in filters.items() if value is not None},
                        elapsed_ms=(time.perf_counter() - started) * 1000)


def corpus_filter(*, source: str | Sequence[str] | None = None, standard: str | Sequence[str] | None = None,
                  org_id: int | None = None) -> str | None:
    """The SQL predicate for the filters (values quoted, so user input cannot change the query)."""
    clauses = []
    sources = _values(source)
    if sources:
        clauses.append(f"source IN ({', '.join(sql_string(s.upper()) for s in sources)})")
    standards = _values(standard)
    if standards:
        clauses.append(f"standard IN ({', '.join(sql_string(normalise_standard(s)) for s in standards)})")
    if org_id is not None:
        clauses.append(f"(org_id IS NULL OR org_id = {int(org_id)})")
    return " AND ".join(clauses) or None


def normalise_standard(name: str) -> str:
    """"as2401" and "AS  2401" are "AS 2401"; "isa 240" is "ISA 240"."""
    name = re.sub(r"\s+", " ", name.strip())
    match = re.match(r"^(AS|ISA|ASC|AU-C|AT-C|QC|ISQM)\s?(\d[\d-]*)$", name, re.IGNORECASE)
    return f"{match.group(1).upper()} {match.group(2)}" if match else name


def fuse(vector_rows: list[dict[str, Any]], text_rows: list[dict[str, Any]], *, mode: str = "hybrid",
         rrf_k: int = RRF_K) -> list[Hit]:
    """Reciprocal-rank fusion: score = sum over methods of 1 / (k + rank); single methods keep their order."""
    merged: dict[str, dict[str, Any]] = {}
    for rank, row in enumerate(vector_rows, start=1):
        entry = merged.setdefault(row["chunk_id"], {"row": row})
        entry["vector_rank"], entry["vector_score"] = rank, 1.0 - float(row["_distance"])
    for rank, row in enumerate(text_rows, start=1):
        entry = merged.setdefault(row["chunk_id"], {"row": row})
        entry["text_rank"], entry["text_score"] = rank, float(row["_score"])
    hits = []
    for entry in merged.values():
        if mode == "vector":
            score = entry["vector_score"]
        elif mode == "fulltext":
            score = entry["text_score"]
        else:
            score = sum(1.0 / (rrf_k + entry[rank]) for rank in ("vector_rank", "text_rank") if rank in entry)
        hits.append(_hit(entry["row"], score, entry))
    # Ties (the same fused score) go to the passage the embedding ranks higher, then to a stable id.
    hits.sort(key=lambda h: (-h.score, h.vector_rank or 10**6, h.text_rank or 10**6, h.chunk_id))
    return hits


def _hit(row: dict[str, Any], score: float, entry: dict[str, Any]) -> Hit:
    return Hit(
        chunk_id=row["chunk_id"], citation=row["citation"], text=row["text"], source=row["source"],
        standard=row["standard"], paragraph=row["paragraph"], title=row["title"], heading=row["heading"],
        document_id=row["document_id"], score=float(score), vector_score=entry.get("vector_score"),
        text_score=entry.get("text_score"), vector_rank=entry.get("vector_rank"),
        text_rank=entry.get("text_rank"), url=row.get("url"), effective_date=row.get("effective_date"),
        notice=row.get("notice"), page=row.get("page"), flags=tuple(row.get("flags") or ()),
    )


def _vector_rows(table, query: str, where: str | None, depth: int) -> list[dict[str, Any]]:
    builder = table.search(embed_query(query), vector_column_name="vector").distance_type("cosine")
    if where:
        builder = builder.where(where, prefilter=True)
    return builder.select([*_COLUMNS, "_distance"]).limit(depth).to_list()


def _text_rows(table, query: str, where: str | None, depth: int) -> list[dict[str, Any]]:
    from lancedb.query import MatchQuery

    terms = _fts_terms(query)
    if not terms:
        return []
    builder = table.search(MatchQuery(terms, TEXT_COLUMN), query_type="fts")
    if where:
        builder = builder.where(where, prefilter=True)
    return builder.select([*_COLUMNS, "_score"]).limit(depth).to_list()


def _fts_terms(query: str) -> str:
    """Words only: punctuation and operators in a question must not become query syntax."""
    return " ".join(re.findall(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*", query))


def _pinned_table(uri: str, version: int | str | None):
    """A handle fixed at one version, so both methods of a hybrid search read the same corpus."""
    latest = open_corpus(uri, version)
    if latest is None:
        raise CorpusEmpty(f"the regulation corpus at {uri} is empty: run `auditray corpus ingest` first")
    number = latest.version
    if version is not None:
        return latest, number
    return open_corpus(uri, number), number


def _values(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [v.strip() for v in value if v and v.strip()]


def _uri(settings: Settings | None) -> str:
    if settings is None:
        from auditray.settings import get_settings

        settings = get_settings()
    return settings.resolved_lancedb_uri
