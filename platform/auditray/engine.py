"""One computation, two engines.

A batch computation is written once as pure polars functions and runs either in-process
(the embedded default) or across Ray Data, with identical results:

- ``map`` turns one partition of the input into a partial result. Without ``partition_by`` a
  partition is any slice of rows; with it, a partition holds every row of each key it contains
  (all lines of a journal entry, all entries of an account), so per-group logic is exact.
- ``combine`` folds the concatenated partial results into the final one (sums of sums, counts
  of counts); it must give the same answer however the rows were partitioned.
- ``sort_by`` fixes the output order, so both engines return equal frames.

The local engine treats the whole input as one partition; the Ray engine hash-partitions by
``partition_by`` (one ``map_groups`` call per partition, never per key) or maps blocks as they come.
"""

from __future__ import annotations

import io
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    from auditray.settings import Settings

EngineName = Literal["local", "ray", "auto"]


@dataclass(frozen=True)
class ClusterBlocks:
    """A table left in the Ray object store as the blocks its workers computed (``run_kept``).

    A later computation over it reads the blocks where they lie: nothing is written to a disk that every
    node would have to share, and nothing is put back from the driver.
    """

    refs: tuple
    rows: int


Source = str | Path | Sequence[str | Path] | pl.DataFrame | pa.Table | ClusterBlocks

_PARTITION = "__auditray_partition"


@dataclass(frozen=True)
class BatchComputation:
    """A computation over a table: per-partition ``map``, then ``combine`` of the partial results."""

    name: str
    map: Callable[[pl.DataFrame], pl.DataFrame]
    combine: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    partition_by: tuple[str, ...] = ()
    sort_by: tuple[str, ...] = ()
    # Input columns to read; None reads all.
    columns: tuple[str, ...] | None = None

    def finish(self, partials: pl.DataFrame) -> pl.DataFrame:
        out = self.combine(partials) if self.combine else partials
        return out.sort(list(self.sort_by)) if self.sort_by else out


def pack(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Several named frames as one (name, Arrow IPC bytes) frame: the partial results of computations that
    share one pass travel together, however each is shaped."""
    payloads = []
    for frame in frames.values():
        buffer = io.BytesIO()
        frame.write_ipc(buffer)
        payloads.append(buffer.getvalue())
    return pl.DataFrame({"name": list(frames), "payload": payloads}, schema={"name": pl.String, "payload": pl.Binary})


def unpack(packed: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """:func:`pack`'s frames by name, those of one name from several partitions stacked."""
    found: dict[str, list[pl.DataFrame]] = {}
    for name, payload in packed.select("name", "payload").iter_rows():
        found.setdefault(name, []).append(pl.read_ipc(io.BytesIO(payload)))
    return {name: pl.concat(frames, how="vertical_relaxed") for name, frames in found.items()}


def resolve_engine(engine: EngineName, rows: int | None, settings: Settings | None = None) -> str:
    """``auto`` means Ray when a cluster is configured or the input is large, local otherwise."""
    if engine != "auto":
        return engine
    from auditray.settings import get_settings

    settings = settings or get_settings()
    if settings.ray_address or (rows is not None and rows >= settings.auto_ray_min_rows):
        return "ray"
    return "local"


def run(
    computation: BatchComputation,
    source: Source,
    *,
    engine: EngineName = "local",
    settings: Settings | None = None,
    partitions: int | None = None,
) -> pl.DataFrame:
    """Run ``computation`` over ``source`` (Parquet files or directories, or a frame in memory)."""
    chosen = resolve_engine(engine, _row_count(source), settings)
    if chosen == "local":
        return _run_local(computation, source)
    if chosen == "ray":
        return _run_ray(computation, source, settings=settings, partitions=partitions)[0]
    raise ValueError(f"unknown engine {engine!r}; expected local, ray or auto")


def run_kept(computation: BatchComputation, source: Source, *, settings: Settings | None = None,
             partitions: int | None = None) -> tuple[pl.DataFrame, ClusterBlocks]:
    """On Ray, a row-wise computation's result (no ``combine``, no ``sort_by``) in the driver's memory and
    also kept in the object store as ``ClusterBlocks``, for further computations over it."""
    if computation.combine is not None or computation.sort_by:
        raise ValueError(f"{computation.name}: only a computation whose partitions are final can be kept")
    result, refs = _run_ray(computation, source, settings=settings, partitions=partitions, keep=True)
    return result, ClusterBlocks(tuple(refs), result.height)


def _parquet_paths(source: str | Path | Sequence[str | Path]) -> list[str]:
    items = [source] if isinstance(source, (str, Path)) else list(source)
    paths: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*.parquet"))
            if not found:
                raise FileNotFoundError(f"{p} holds no Parquet files")
            paths.extend(found)
        else:
            paths.append(str(item))
    return paths


# Key values this long may have been truncated in a writer's statistics: not trusted as bounds.
_TRUSTED_KEY_LENGTH = 64


def key_disjoint_groups(source: Source, keys: Sequence[str], target_rows: int) -> list[list[str]] | None:
    """The source's Parquet files in groups of about ``target_rows`` rows, such that every key lies wholly in
    one group; ``None`` when the files' own statistics cannot prove that no key spans two files, or when a
    file alone holds more than ``target_rows`` and ``FILE_GROUP_MAX_ROWS`` rows (it would make one partition
    too large for its worker; the hash partitioning then spreads it). A smaller file, such as a dataset
    ingested as one file, is one group, read whole by one task, rather than shuffled.

    Ledgers are exported and ingested journal by journal, so a file usually holds a contiguous range of
    (entity, journal) keys. Each row group's key range is read from the footer (no data is read): where no
    range of one file meets a range of another, a partitioned computation can run file group by file group,
    with no shuffle on Ray and no repeated reading locally, and still see every row of each key together.
    """
    if isinstance(source, (pl.DataFrame, pa.Table, ClusterBlocks)) or not keys:
        return None
    import pyarrow.parquet as pq

    spans: list[tuple[tuple, tuple, int]] = []
    sizes: dict[int, tuple[tuple, int, str]] = {}
    try:
        paths = _parquet_paths(source)
        for number, path in enumerate(paths):
            metadata = pq.ParquetFile(path).metadata
            file_spans = _key_spans(metadata, list(keys))
            if file_spans is None:
                return None
            if metadata.num_rows > max(target_rows, FILE_GROUP_MAX_ROWS):
                return None
            spans += [(low, high, number) for low, high in file_spans]
            first = min((low for low, _ in file_spans), default=())
            sizes[number] = (first, metadata.num_rows, path)
    except (OSError, ValueError):
        return None
    if _spans_meet_across_files(spans):
        return None
    return _in_groups([(path, count) for _, count, path in sorted(sizes.values(), key=lambda item: item[0])],
                      target_rows)


def _in_groups(sized: list[tuple[str, int]], target_rows: int) -> list[list[str]]:
    """Files (path, rows) in their order, in groups of about ``target_rows`` rows."""
    groups: list[list[str]] = []
    rows = 0
    for path, count in sized:
        if not groups or rows >= target_rows:
            groups.append([])
            rows = 0
        groups[-1].append(path)
        rows += count
    return groups


# A Parquet file this large is not read whole by one task: Ray Data splits it by row groups instead.
FILE_GROUP_MAX_ROWS = 2_000_000


def file_groups(source: Source, target_rows: int) -> list[list[str]] | None:
    """The source's Parquet files in groups of about ``target_rows`` rows (a larger file alone), for a
    computation that any split of the rows will do; ``None`` for a source that is not Parquet files or holds a
    file of more than ``FILE_GROUP_MAX_ROWS`` rows."""
    if isinstance(source, (pl.DataFrame, pa.Table, ClusterBlocks)):
        return None
    import pyarrow.parquet as pq

    try:
        sized = [(path, pq.ParquetFile(path).metadata.num_rows) for path in _parquet_paths(source)]
    except (OSError, ValueError):
        return None
    if any(count > FILE_GROUP_MAX_ROWS for _, count in sized):
        return None
    return _in_groups(sized, target_rows)


def _spans_meet_across_files(spans: list[tuple[tuple, tuple, int]]) -> bool:
    """Whether a key range of one file meets a key range of another (sweep in order of the ranges' starts,
    keeping the two highest ends seen, of different files)."""
    top: list[tuple[tuple, int]] = []  # (end, file), at most two, of different files, highest first
    for low, high, file in sorted(spans, key=lambda span: span[0]):
        others = [end for end, owner in top if owner != file]
        if others and low <= others[0]:
            return True
        entries = [(end, owner) for end, owner in top if owner != file]
        mine = max([high] + [end for end, owner in top if owner == file])
        top = sorted([*entries, (mine, file)], key=lambda item: item[0], reverse=True)[:2]
    return False


def _key_spans(metadata: object, keys: list[str]) -> list[tuple[tuple, tuple]] | None:
    """(lowest, highest) bound of each row group's keys in tuple order, or None when the statistics do not say.

    The tuple of the key columns' minimums is a lower bound of every key in the row group (a key differs from
    it first in a column where its value is above that column's minimum), the tuple of maximums an upper one.
    """
    names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
    if any(k not in names for k in keys):
        return None
    spans = []
    for group in range(metadata.num_row_groups):
        low, high = [], []
        for key in keys:
            stats = metadata.row_group(group).column(names.index(key)).statistics
            if stats is None or not stats.has_min_max or not stats.has_null_count or stats.null_count:
                return None
            if any(isinstance(v, (str, bytes)) and len(v) >= _TRUSTED_KEY_LENGTH for v in (stats.min, stats.max)):
                return None
            low.append(stats.min)
            high.append(stats.max)
        spans.append((tuple(low), tuple(high)))
    return spans


def _row_count(source: Source) -> int | None:
    if isinstance(source, ClusterBlocks):
        return source.rows
    if isinstance(source, (pl.DataFrame, pa.Table)):
        return source.num_rows if isinstance(source, pa.Table) else source.height
    try:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in _parquet_paths(source))
    except (OSError, ValueError):
        return None


def _run_local(computation: BatchComputation, source: Source) -> pl.DataFrame:
    if isinstance(source, ClusterBlocks):
        import ray

        source = pl.concat([pl.from_arrow(ray.get(ref)) for ref in source.refs], how="vertical_relaxed")
    if isinstance(source, pa.Table):
        frame = pl.from_arrow(source).lazy()
    elif isinstance(source, pl.DataFrame):
        frame = source.lazy()
    else:
        frame = pl.scan_parquet(_parquet_paths(source))
    if computation.columns is not None:
        # Read only the columns the computation needs: a ledger has twenty, most computations use three.
        frame = frame.select(computation.columns)
    return computation.finish(computation.map(frame.collect()))


def ensure_ray(settings: Settings | None = None) -> None:
    """Connect to the configured cluster, or start Ray locally for the embedded default."""
    import ray

    if ray.is_initialized():
        return
    from auditray.settings import get_settings

    settings = settings or get_settings()
    kwargs: dict = {"include_dashboard": False, "log_to_driver": False}
    if settings.ray_address:
        import auditray

        # A cluster whose image does not install auditray still gets it from the driver.
        kwargs["runtime_env"] = {"py_modules": [str(Path(auditray.__file__).parent)]}
        ray.init(address=settings.ray_address, **kwargs)
    else:
        ray.init(num_cpus=settings.ray_num_cpus or os.cpu_count(), **kwargs)


def _run_ray(
    computation: BatchComputation,
    source: Source,
    *,
    settings: Settings | None,
    partitions: int | None,
    keep: bool = False,
) -> tuple[pl.DataFrame, list]:
    import ray
    import ray.data

    ensure_ray(settings)
    context = ray.data.DataContext.get_current()
    # Our front doors show their own progress; Ray Data's per-operator logs would drown it.
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)

    def dataset() -> ray.data.Dataset:
        if isinstance(source, ClusterBlocks):
            ds = ray.data.from_arrow_refs(list(source.refs))
        elif isinstance(source, pl.DataFrame):
            ds = ray.data.from_arrow(source.to_arrow())
        elif isinstance(source, pa.Table):
            ds = ray.data.from_arrow(source)
        else:
            ds = ray.data.read_parquet(_parquet_paths(source))
        return ds.select_columns(list(computation.columns)) if computation.columns is not None else ds

    def map_partition(batch: pa.Table) -> pa.Table:
        frame = pl.from_arrow(batch)
        if _PARTITION in frame.columns:
            frame = frame.drop(_PARTITION)
        return computation.map(frame).to_arrow()

    cpus = int(ray.cluster_resources().get("CPU", 2))
    groups = None
    rows = _row_count(source) or 0
    if computation.partition_by and not partitions:
        groups = key_disjoint_groups(source, computation.partition_by, max(1, rows // (4 * max(1, cpus))))
    elif not computation.partition_by:
        # Any split of the rows will do: each task reads a group of whole files with polars, which costs a
        # fraction of Ray Data's own Parquet reading and conversion to blocks.
        target = math.ceil(rows / partitions) if partitions else rows // (4 * max(1, cpus))
        groups = file_groups(source, max(1, target))
    columns = list(computation.columns) if computation.columns is not None else None
    refs: list | None = None
    if groups is not None:
        # Every key lies in one group of files: each task reads its own files whole, no shuffle needed.

        def map_files(paths: list[str]) -> pa.Table:
            frame = pl.scan_parquet(paths)
            if columns is not None:
                frame = frame.select(columns)
            return computation.map(frame.collect()).to_arrow()

        task = ray.remote(map_files)
        refs = [task.remote(group) for group in groups]
    elif isinstance(source, ClusterBlocks) and not computation.partition_by:
        # The blocks are in the object store already: one plain task per block, without Ray Data's executor.

        def map_block(table: pa.Table) -> pa.Table:
            frame = pl.from_arrow(table)
            return computation.map(frame.select(columns) if columns is not None else frame).to_arrow()

        task = ray.remote(map_block)
        refs = [task.remote(ref) for ref in source.refs]
    elif computation.partition_by:
        n = partitions or max(2, cpus * 2)
        keys = list(computation.partition_by)

        def tag_partition(batch: pa.Table) -> pa.Table:
            frame = pl.from_arrow(batch)
            # A hash of the key's values with a fixed seed: the same key lands in the same partition
            # on every worker, so each map_groups call sees every row of its keys.
            part = frame.select(pl.struct(keys).hash(seed=0) % n).to_series()
            return frame.with_columns(part.alias(_PARTITION)).to_arrow()

        ds = dataset().map_batches(tag_partition, batch_format="pyarrow", batch_size=None)
        # One shuffle partition per engine partition: the default (200) costs seconds even on small inputs.
        mapped = ds.groupby(_PARTITION, num_partitions=n).map_groups(map_partition, batch_format="pyarrow")
    else:
        mapped = dataset().map_batches(map_partition, batch_format="pyarrow", batch_size=None)
    if refs is None:
        refs = mapped.to_arrow_refs()

    # Fetched one block at a time, each converted before the next arrives: the driver never holds every block
    # twice (as Arrow from the object store and as polars).
    frames = []
    for ref in refs:
        table = ray.get(ref)
        if table.num_rows or table.num_columns:
            frames.append(pl.from_arrow(table))
        del table
    partials = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    del frames
    if partials.is_empty() and not partials.columns:
        # No rows anywhere: let the local map describe the empty result's shape.
        empty = _run_local(computation, pl.DataFrame(schema=_empty_schema(source, computation)))
        return empty, [ray.put(empty.to_arrow())] if keep else []
    return computation.finish(partials), refs if keep else []


def _empty_schema(source: Source, computation: BatchComputation) -> pl.Schema:
    if isinstance(source, ClusterBlocks):
        import ray

        return pl.from_arrow(ray.get(source.refs[0]).slice(0, 0)).schema
    if isinstance(source, pl.DataFrame):
        return source.schema
    if isinstance(source, pa.Table):
        return pl.from_arrow(source.slice(0, 0)).schema
    return pl.scan_parquet(_parquet_paths(source)).collect_schema()
