"""The regulation corpus in LanceDB: one table of chunks with their vectors and a native full-text index.

Every ingest that changes the corpus ends as one tagged table version (``ingest-v<N>``), and every
search and answer names the version it read, so an answer in a workpaper can be re-derived later
from exactly the corpus it came from (AS 1215.06 / ISA 230.8: another auditor must be able to see
what was done and on what basis). Tagged versions survive ``cleanup_old_versions``.

Table handles are cached per process (opening a table costs more than a search); the latest handle
checks for versions written by other processes on every read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from auditray.rag.chunking import Chunk
from auditray.rag.embeddings import DIMENSIONS

if TYPE_CHECKING:
    import pyarrow as pa
    from lancedb.table import LanceTable

TABLE_NAME = "regulation_corpus"
TAG_PREFIX = "ingest-v"
TEXT_COLUMN = "search_text"
_PINNED_HANDLES = 4
_lock = threading.Lock()
_handles: dict[tuple[str, int | str | None], LanceTable] = {}


def corpus_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([
        pa.field("chunk_id", pa.string(), nullable=False),
        pa.field("document_id", pa.string(), nullable=False),
        pa.field("org_id", pa.int64()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("standard", pa.string(), nullable=False),
        pa.field("paragraph", pa.string(), nullable=False),
        pa.field("citation", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("heading", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field(TEXT_COLUMN, pa.string(), nullable=False),
        pa.field("ordinal", pa.int32(), nullable=False),
        pa.field("page", pa.int32()),
        pa.field("effective_date", pa.date32()),
        pa.field("url", pa.string()),
        pa.field("notice", pa.string()),
        pa.field("path", pa.string()),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("vector", pa.list_(pa.float32(), DIMENSIONS), nullable=False),
    ])


def connect(uri: str):
    """A LanceDB connection that sees other processes' commits on every read."""
    import lancedb

    return lancedb.connect(uri, read_consistency_interval=timedelta(0))


def open_corpus(uri: str, version: int | str | None = None) -> LanceTable | None:
    """The corpus table (latest, or checked out at a version number or tag), cached; None if never ingested."""
    key = (uri, version)
    with _lock:
        table = _handles.get(key)
        if table is not None:
            return table
        db = connect(uri)
        if TABLE_NAME not in _table_names(db):
            return None
        table = db.open_table(TABLE_NAME)
        if version is not None:
            try:
                table.checkout(version)
            except (ValueError, RuntimeError, OSError) as missing:
                raise LookupError(f"the corpus has no version {version!r}: {missing}") from None
        _handles[key] = table
        # Searches pin the version they read; keep only the newest few pinned handles per corpus.
        pinned = sorted(k[1] for k in _handles if k[0] == uri and isinstance(k[1], int))
        for stale in pinned[:-_PINNED_HANDLES]:
            del _handles[(uri, stale)]
        return table


def forget_handles(uri: str | None = None) -> None:
    """Drop cached handles (all, or one corpus's), e.g. after the directory was deleted."""
    with _lock:
        for key in [k for k in _handles if uri is None or k[0] == uri]:
            del _handles[key]


def _table_names(db) -> list[str]:
    listed = db.list_tables()
    return list(getattr(listed, "tables", listed))


@dataclass(frozen=True)
class ChangePlan:
    """What an ingest will do to the stored chunks of the documents it names."""

    new: list[Chunk]
    changed: list[Chunk]
    unchanged: list[Chunk]
    removed_ids: list[str]

    @property
    def to_write(self) -> list[Chunk]:
        return self.new + self.changed

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.changed or self.removed_ids)


def plan_changes(uri: str, document_ids: Iterable[str], chunks: Sequence[Chunk]) -> ChangePlan:
    """Compare the incoming chunks with what is stored for the same documents (by id and content hash)."""
    table = open_corpus(uri)
    stored: dict[str, str] = {}
    ids = sorted(set(document_ids))
    if table is not None and ids:
        rows = (table.search().where(f"document_id IN ({_sql_list(ids)})")
                .select(["chunk_id", "content_hash"]).limit(None).to_arrow())
        stored = dict(zip(rows["chunk_id"].to_pylist(), rows["content_hash"].to_pylist(), strict=True))
    new, changed, unchanged = [], [], []
    for chunk in chunks:
        previous = stored.get(chunk.chunk_id)
        if previous is None:
            new.append(chunk)
        elif previous != chunk.content_hash:
            changed.append(chunk)
        else:
            unchanged.append(chunk)
    incoming = {c.chunk_id for c in chunks}
    return ChangePlan(new, changed, unchanged, sorted(set(stored) - incoming))


@dataclass(frozen=True)
class WriteResult:
    version: int
    previous_version: int | None
    tag: str


def apply_changes(uri: str, plan: ChangePlan, vectors: Any, *, org_id: int | None,
                  paths: dict[str, str], flags: dict[str, list[str]]) -> WriteResult:
    """Upsert new and changed chunks and delete removed ones in ONE commit, re-index, and tag the version.

    ``merge_insert`` commits the upsert and the deletion together, so a reader never sees a document
    half replaced; the full-text index is rebuilt so BM25 statistics cover the whole corpus.
    """
    import pyarrow as pa

    rows = _rows(plan.to_write, vectors, org_id=org_id, paths=paths, flags=flags)
    db = connect(uri)
    with _lock:
        if TABLE_NAME not in _table_names(db):
            table = db.create_table(TABLE_NAME, data=pa.Table.from_pylist(rows, schema=corpus_schema()))
            previous = None
        else:
            table = db.open_table(TABLE_NAME)
            previous = table.version
            if rows:
                merge = (table.merge_insert("chunk_id").when_matched_update_all()
                         .when_not_matched_insert_all())
                if plan.removed_ids:
                    merge = merge.when_not_matched_by_source_delete(
                        f"chunk_id IN ({_sql_list(plan.removed_ids)})")
                merge.execute(pa.Table.from_pylist(rows, schema=corpus_schema()))
            elif plan.removed_ids:
                table.delete(f"chunk_id IN ({_sql_list(plan.removed_ids)})")
        _build_text_index(table)
        version = table.version
        tag = f"{TAG_PREFIX}{version}"
        table.tags.create(tag, version)
        for key in [k for k in _handles if k[0] == uri and k[1] is None]:
            del _handles[key]
    return WriteResult(version=version, previous_version=previous, tag=tag)


def undo_write(uri: str, written: WriteResult) -> None:
    """Take back an ingest whose audit event could not be recorded: untag it and restore the version before."""
    db = connect(uri)
    with _lock:
        table = db.open_table(TABLE_NAME)
        try:
            table.tags.delete(written.tag)
        except (ValueError, RuntimeError, OSError):  # pragma: no cover - the tag was never created
            pass
        if written.previous_version is None:
            db.drop_table(TABLE_NAME)
        else:
            table.restore(written.previous_version)
            _build_text_index(table)
    forget_handles(uri)


def _build_text_index(table: LanceTable) -> None:
    from lancedb.index import FTS

    # English stemming and stop words: "confirming receivables" finds "confirmation of receivables".
    table.create_index(TEXT_COLUMN, config=FTS(with_position=False, stem=True, remove_stop_words=True,
                                               lower_case=True, ascii_folding=True), replace=True)


def _rows(chunks: Sequence[Chunk], vectors: Any, *, org_id: int | None, paths: dict[str, str],
          flags: dict[str, list[str]]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for chunk, vector in zip(chunks, vectors, strict=True):
        rows.append({
            "chunk_id": chunk.chunk_id, "document_id": chunk.document_id, "org_id": org_id,
            "source": chunk.source, "standard": chunk.standard, "paragraph": chunk.paragraph,
            "citation": chunk.citation, "title": chunk.title, "heading": chunk.heading, "text": chunk.text,
            TEXT_COLUMN: chunk.search_text, "ordinal": chunk.ordinal, "page": chunk.page,
            "effective_date": chunk.effective_date, "url": chunk.url, "notice": chunk.notice,
            "path": paths.get(chunk.document_id), "flags": flags.get(chunk.chunk_id, []),
            "content_hash": chunk.content_hash, "ingested_at": now, "vector": vector,
        })
    return rows


@dataclass(frozen=True)
class CorpusVersion:
    """A tagged ingest: its version number, tag and when it was committed."""

    version: int
    tag: str
    committed_at: datetime | None


def list_versions(uri: str) -> list[CorpusVersion]:
    """Every tagged ingest of the corpus, oldest first."""
    table = open_corpus(uri)
    if table is None:
        return []
    timestamps = {v["version"]: v.get("timestamp") for v in table.list_versions()}
    tags = table.tags.list()
    versions = []
    for tag, info in tags.items():
        number = info["version"] if isinstance(info, dict) else getattr(info, "version", info)
        versions.append(CorpusVersion(version=int(number), tag=tag, committed_at=timestamps.get(number)))
    return sorted(versions, key=lambda v: v.version)


def count_chunks(uri: str, version: int | str | None = None) -> int:
    table = open_corpus(uri, version)
    return 0 if table is None else table.count_rows()


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(sql_string(v) for v in values)


def sql_string(value: str) -> str:
    """A SQL string literal, quotes doubled: filters are built from user input."""
    return "'" + str(value).replace("'", "''") + "'"
