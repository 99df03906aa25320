"""The dataset store: validated Parquet under the datasets URI, registered in the metadata store.

A dataset becomes visible in one step. Ingestion stages canonical Parquet under the data
directory; ``ingest`` then moves it under ``<datasets_uri>/org-<id>/<kind>/<uuid>`` (a rename on
a local disk, a copy to object storage) and registers it, with its control totals, in the same
transaction as its audit event. If registration fails the moved files are deleted again, and a
rejected file never gets that far, so nothing is ever partially written.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from auditray.contract.money import MONEY_SUM_DTYPE

if TYPE_CHECKING:
    from auditray.ingest import StagedDataset
    from auditray.settings import Settings
    from auditray.store import Dataset
    from auditray.store.services import Actor


class DuplicateDataset(Exception):
    """The same content is already registered for this engagement: evidence is registered once."""


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _local_path(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def dataset_files(uri: str) -> list[str]:
    """The Parquet files of a dataset, in a stable order (what the engines read)."""
    if is_local(uri):
        return sorted(str(p) for p in _local_path(uri).rglob("*.parquet"))
    import pyarrow.fs as pafs

    fs, base = pafs.FileSystem.from_uri(uri)
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    scheme = uri.split("://", 1)[0]
    return sorted(f"{scheme}://{i.path}" for i in infos if i.path.endswith(".parquet"))


def scan(dataset: Dataset | str) -> pl.LazyFrame:
    """A lazy frame over a registered dataset (or a dataset URI)."""
    uri = dataset if isinstance(dataset, str) else dataset.uri
    return pl.scan_parquet(dataset_files(uri))


def control_totals(files: list[str], kind: str) -> dict[str, Any]:
    """Record counts and amount totals per entity: what the client's own reports must agree with."""
    frame = pl.scan_parquet(files)
    if kind == "gl_detail":
        totals = frame.group_by("entity_id").agg(
            lines=pl.len(),
            journals=pl.col("journal_id").n_unique(),
            debits=pl.col("amount").filter(pl.col("amount") > 0).cast(MONEY_SUM_DTYPE).sum(),
            credits=pl.col("amount").filter(pl.col("amount") < 0).cast(MONEY_SUM_DTYPE).sum(),
            first_effective_date=pl.col("effective_date").min(),
            last_effective_date=pl.col("effective_date").max(),
        )
    elif kind == "trial_balance":
        totals = frame.group_by("entity_id").agg(
            accounts=pl.len(),
            closing_balance=pl.col("closing_balance").cast(MONEY_SUM_DTYPE).sum(),
            opening_balance=pl.col("opening_balance").cast(MONEY_SUM_DTYPE).sum(),
        )
    else:
        totals = frame.group_by("entity_id").agg(accounts=pl.len())
    rows = totals.sort("entity_id").collect().to_dicts()
    return {row.pop("entity_id"): {k: str(v) if v is not None else None for k, v in row.items()} for row in rows}


def _move_into_store(staged_dir: Path, dest_uri: str) -> None:
    if is_local(dest_uri):
        dest = _local_path(dest_uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged_dir, dest)
        return
    import pyarrow.fs as pafs

    pafs.copy_files(str(staged_dir), dest_uri, destination_filesystem=pafs.FileSystem.from_uri(dest_uri)[0])
    shutil.rmtree(staged_dir, ignore_errors=True)


def remove(uri: str) -> None:
    """Delete a dataset's files (used to undo a registration that did not commit)."""
    if is_local(uri):
        shutil.rmtree(_local_path(uri), ignore_errors=True)
        return
    import pyarrow.fs as pafs

    fs, base = pafs.FileSystem.from_uri(uri)
    fs.delete_dir(base)


def register_staged(
    staged: StagedDataset,
    *,
    org_id: int,
    actor: Actor,
    engagement_id: int | None = None,
    name: str | None = None,
    settings: Settings | None = None,
) -> Dataset:
    """Move a staged dataset into the store and register it with its audit event, atomically."""
    from auditray.settings import get_settings
    from auditray.store import DatasetCreate, make_engine, session_scope
    from auditray.store.services import find_datasets_by_content, register_dataset

    settings = settings or get_settings()
    files = dataset_files(str(staged.path))
    profile = {
        "source_format": staged.profile,
        "column_mapping": dict(staged.report.mapping),
        "warnings": list(staged.report.warnings),
        "control_totals": control_totals(files, staged.kind),
    }
    dest_uri = f"{settings.resolved_datasets_uri.rstrip('/')}/org-{org_id}/{staged.kind}/{uuid.uuid4().hex}"
    engine = make_engine(settings.resolved_database_url)
    moved = False
    try:
        with session_scope(engine) as session:
            existing = [
                d for d in find_datasets_by_content(session, org_id=org_id, content_sha256=staged.content_sha256)
                if d.engagement_id == engagement_id and d.kind == staged.kind
            ]
            if existing:
                raise DuplicateDataset(
                    f"{staged.source_name}: the same {staged.kind} content is already registered as dataset "
                    f"{existing[0].id} ({existing[0].name}); it is not registered twice"
                )
            _move_into_store(Path(staged.path), dest_uri)
            moved = True
            dataset = register_dataset(
                session,
                DatasetCreate(
                    engagement_id=engagement_id,
                    kind=staged.kind,
                    name=name or staged.source_name,
                    uri=dest_uri,
                    row_count=staged.rows,
                    schema_version=staged.schema_version,
                    content_sha256=staged.content_sha256,
                    source_sha256=staged.source_sha256,
                    source_name=staged.source_name,
                    profile=profile,
                ),
                org_id=org_id,
                actor=actor,
            )
        # Leaving the block committed the row and its audit event together.
    except BaseException:
        if moved:
            remove(dest_uri)
        raise
    finally:
        shutil.rmtree(staged.path, ignore_errors=True)
        engine.dispose()
    return dataset


def ingest(
    path: str | Path,
    kind: str,
    *,
    org_id: int,
    actor: Actor,
    engagement_id: int | None = None,
    name: str | None = None,
    mapping: Any = None,
    entity_id: str | None = None,
    settings: Settings | None = None,
    period_end: Any = None,
) -> Dataset:
    """Validate a client file, store it as canonical Parquet and register it; all or nothing.

    ``period_end`` (a date or ISO text) names the period a trial balance without fiscal year and
    period columns closes (see ``auditray.ingest.stage``).

    Raises ``auditray.ingest.IngestError`` (the full validation report) for a bad file and
    ``DuplicateDataset`` for content already registered to the engagement.
    """
    from auditray.ingest import stage
    from auditray.settings import get_settings

    settings = settings or get_settings()
    staging = settings.data_dir / "staging"
    staged = stage(path, kind, staging_dir=staging, mapping=mapping, entity_id=entity_id, period_end=period_end)
    return register_staged(staged, org_id=org_id, actor=actor, engagement_id=engagement_id, name=name,
                           settings=settings)
