"""``ingest``: regulation documents in, a new tagged version of the corpus out, with its audit event.

Every file is read and chunked before anything is written, so one bad file rejects the whole batch
with every problem named and the corpus untouched. Only new or changed chunks are embedded; a
document's chunks that disappeared are deleted in the same commit that writes the new ones. The
ingest is a state change of the platform, so when a database session is given it records a
``corpus.ingest`` audit event; if that fails the corpus is restored to the version before.

Example::

    result = ingest(["standards/"], actor="ann@firm.example", session=session)
    print(result.tag, result.added, result.updated, result.removed)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditray.rag import store
from auditray.rag.chunking import MAX_CHARS, Chunk, chunk_document
from auditray.rag.documents import SUFFIXES, CorpusError, SourceDocument, read_document
from auditray.rag.injection import scan

if TYPE_CHECKING:
    from sqlmodel import Session

    from auditray.settings import Settings

STARTER_CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: the version and tag it created (None when nothing changed) and the counts."""

    uri: str
    version: int | None
    tag: str | None
    documents: list[str]
    chunks: int
    added: int
    updated: int
    removed: int
    unchanged: int
    flagged: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.tag is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """The supported files named, directories searched recursively, in a stable order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                           and not p.name.startswith("."))
            if not found:
                raise CorpusError(f"{path}: the directory holds no {', '.join(sorted(SUFFIXES))} files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CorpusError(f"{path}: no such file or directory")
    return files


def ingest(
    paths: Sequence[str | Path] | str | Path,
    *,
    source: str | None = None,
    standard: str | None = None,
    title: str | None = None,
    effective_date: date | str | None = None,
    url: str | None = None,
    org_id: int | None = None,
    settings: Settings | None = None,
    uri: str | None = None,
    session: Session | None = None,
    actor: str | None = None,
    max_chars: int = MAX_CHARS,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Read, chunk, embed and store documents; replace the chunks of documents ingested before.

    ``source``/``standard``/``title``/``effective_date``/``url`` are used for files whose front matter
    or sidecar does not say. ``org_id`` makes the documents visible to that tenant only (licensed full
    texts); None adds them to the corpus every tenant shares. With ``session`` the ingest records a
    ``corpus.ingest`` audit event by ``actor`` in that transaction (the caller commits).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if session is not None and not actor:
        raise ValueError("an audited ingest needs an actor (a user's email or 'system')")
    uri = uri or _uri(settings)
    defaults = {"source": source, "standard": standard, "title": title, "effective_date": effective_date,
                "url": url}
    documents = read_all(collect_files(paths), defaults, org_id=org_id)
    chunks: list[Chunk] = []
    for document in documents:
        chunks.extend(chunk_document(document, max_chars=max_chars))
    _refuse_duplicate_ids(chunks)

    plan = store.plan_changes(uri, [d.metadata.document_id for d in documents], chunks)
    document_ids = [d.metadata.document_id for d in documents]
    flagged = {c.chunk_id: sorted({f.kind for f in scan(c.text, f"chunk:{c.chunk_id}")}) for c in chunks}
    flagged = {chunk_id: kinds for chunk_id, kinds in flagged.items() if kinds}
    if plan.is_empty:
        current = store.open_corpus(uri)
        if progress:
            progress(len(chunks))
        return IngestResult(uri=uri, version=current.version if current else None, tag=None,
                            documents=document_ids, chunks=len(chunks), added=0, updated=0, removed=0,
                            unchanged=len(plan.unchanged), flagged=flagged)

    vectors = _vectors(plan.to_write, progress)
    if progress and plan.unchanged:
        progress(len(plan.unchanged))
    paths_by_document = {d.metadata.document_id: d.path.name for d in documents}
    written = store.apply_changes(uri, plan, vectors, org_id=org_id, paths=paths_by_document, flags=flagged)
    result = IngestResult(uri=uri, version=written.version, tag=written.tag, documents=document_ids,
                          chunks=len(chunks), added=len(plan.new), updated=len(plan.changed),
                          removed=len(plan.removed_ids), unchanged=len(plan.unchanged), flagged=flagged)
    if session is not None:
        _record(session, result, actor=actor, org_id=org_id, written=written)
    return result


def _vectors(chunks: Sequence[Chunk], progress: Callable[[int], None] | None) -> list[Any]:
    """Vectors for the chunks: from the shipped starter-corpus cache when the text matches, else the model."""
    from auditray.rag.embeddings import embed_texts
    from auditray.rag.vector_cache import cached_vectors

    cache = cached_vectors()
    vectors: list[Any] = [cache.get(c.content_hash) for c in chunks]
    if progress and any(v is not None for v in vectors):
        progress(sum(v is not None for v in vectors))
    missing = [i for i, v in enumerate(vectors) if v is None]
    for start in range(0, len(missing), 64):
        batch = missing[start:start + 64]
        for i, vector in zip(batch, embed_texts([chunks[i].search_text for i in batch]), strict=True):
            vectors[i] = vector
        if progress:
            progress(len(batch))
    return vectors


def ingest_starter_corpus(**kwargs: Any) -> IngestResult:
    """The summaries shipped with Auditray (``auditray/rag/corpus``), shared by every tenant."""
    return ingest([STARTER_CORPUS], **kwargs)


def read_all(files: Sequence[Path], defaults: Mapping[str, Any], *, org_id: int | None = None) -> list[SourceDocument]:
    """Every file parsed, or one error that lists every file that could not be."""
    documents, problems = [], []
    for path in files:
        try:
            documents.append(read_document(path, defaults, org_id=org_id))
        except CorpusError as problem:
            problems.append(str(problem))
    if problems:
        raise CorpusError("nothing was ingested:\n  " + "\n  ".join(problems))
    seen: dict[str, Path] = {}
    for document in documents:
        earlier = seen.setdefault(document.metadata.document_id, document.path)
        if earlier != document.path:
            raise CorpusError(f"{earlier} and {document.path} both have document id "
                              f"{document.metadata.document_id!r}; give one an 'id' in its front matter")
    return documents


def _refuse_duplicate_ids(chunks: Sequence[Chunk]) -> None:
    seen: dict[str, Chunk] = {}
    for chunk in chunks:
        other = seen.setdefault(chunk.chunk_id, chunk)
        if other is not chunk:  # pragma: no cover - a hash collision or a chunking bug
            raise CorpusError(f"two chunks share id {chunk.chunk_id} ({other.citation}, {chunk.citation})")


def _record(session: Session, result: IngestResult, *, actor: str, org_id: int | None,
            written: store.WriteResult) -> None:
    from auditray.audit_trail import record

    try:
        record(session, actor=actor, action="corpus.ingest", resource_type="regulation_corpus",
               resource_id=result.tag, org_id=org_id,
               details={"version": result.version, "previous_version": written.previous_version,
                        "documents": result.documents, "chunks": result.chunks, "added": result.added,
                        "updated": result.updated, "removed": result.removed, "flagged": result.flagged})
    except Exception:
        # The corpus must not change without its audit event.
        store.undo_write(result.uri, written)
        raise


def _uri(settings: Settings | None) -> str:
    if settings is None:
        from auditray.settings import get_settings

        settings = get_settings()
    return settings.resolved_lancedb_uri
