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

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    from auditray.settings import Settings

EngineName = Literal["local", "ray", "auto"]
Source = str | Path | Sequence[str | Path] | pl.DataFrame | pa.Table

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
        return _run_ray(computation, source, settings=settings, partitions=partitions)
    raise ValueError(f"unknown engine {engine!r}; expected local, ray or auto")


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


def _row_count(source: Source) -> int | None:
    if isinstance(source, (pl.DataFrame, pa.Table)):
        return source.num_rows if isinstance(source, pa.Table) else source.height
    try:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in _parquet_paths(source))
    except (OSError, ValueError):
        return None


def _run_local(computation: BatchComputation, source: Source) -> pl.DataFrame:
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
) -> pl.DataFrame:
    import ray
    import ray.data

    ensure_ray(settings)
    context = ray.data.DataContext.get_current()
    # Our front doors show their own progress; Ray Data's per-operator logs would drown it.
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if isinstance(source, pl.DataFrame):
        ds = ray.data.from_arrow(source.to_arrow())
    elif isinstance(source, pa.Table):
        ds = ray.data.from_arrow(source)
    else:
        ds = ray.data.read_parquet(_parquet_paths(source))
    if computation.columns is not None:
        ds = ds.select_columns(list(computation.columns))

    def map_partition(batch: pa.Table) -> pa.Table:
        frame = pl.from_arrow(batch)
        if _PARTITION in frame.columns:
            frame = frame.drop(_PARTITION)
        return computation.map(frame).to_arrow()

    if computation.partition_by:
        n = partitions or max(2, int(ray.cluster_resources().get("CPU", 2)) * 2)
        keys = list(computation.partition_by)

        def tag_partition(batch: pa.Table) -> pa.Table:
            frame = pl.from_arrow(batch)
            # A hash of the key's values with a fixed seed: the same key lands in the same partition
            # on every worker, so each map_groups call sees every row of its keys.
            part = frame.select(pl.struct(keys).hash(seed=0) % n).to_series()
            return frame.with_columns(part.alias(_PARTITION)).to_arrow()

        ds = ds.map_batches(tag_partition, batch_format="pyarrow", batch_size=None)
        # One shuffle partition per engine partition: the default (200) costs seconds even on small inputs.
        mapped = ds.groupby(_PARTITION, num_partitions=n).map_groups(map_partition, batch_format="pyarrow")
    else:
        mapped = ds.map_batches(map_partition, batch_format="pyarrow", batch_size=None)

    tables = [t for t in ray.get(mapped.to_arrow_refs()) if t.num_rows or t.num_columns]
    partials = pl.concat([pl.from_arrow(t) for t in tables], how="vertical_relaxed") if tables else pl.DataFrame()
    if partials.is_empty() and not partials.columns:
        # No rows anywhere: let the local map describe the empty result's shape.
        return _run_local(computation, pl.DataFrame(schema=_empty_schema(source, computation)))
    return computation.finish(partials)


def _empty_schema(source: Source, computation: BatchComputation) -> pl.Schema:
    if isinstance(source, pl.DataFrame):
        return source.schema
    if isinstance(source, pa.Table):
        return pl.from_arrow(source.slice(0, 0)).schema
    return pl.scan_parquet(_parquet_paths(source)).collect_schema()
