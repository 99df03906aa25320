"""Monetary-unit selection over populations too large for one machine, on a Ray cluster.

MUS needs each item's cumulative position in the whole population, which no partition knows on
its own. So the population is first put in canonical order across the cluster, then walked in
three exact passes over the ordered partitions:

1. Order (a sample sort). Each chunk of each Parquet file (at most ``CHUNK_ROWS`` rows) is read,
   validated and sorted by one task, with the same ``population.prepare`` the local engine uses,
   so bad rows are named by file and row. The driver picks partition boundaries from evenly
   spaced keys of every chunk; each chunk is cut at the boundaries; each partition merges its
   pieces and sorts them. Equal keys always meet in one partition, so duplicates are found.
2. Survey. Each partition reports its totals, its first and last key and its canonical text,
   which the driver hashes partition by partition, in order: the population's fingerprint.
3. Offsets and selection. The driver fixes the interval; each partition reports its top-stratum
   and remaining totals; prefix sums (Python integers, exact) give each its offset into the
   remaining population. The selected monetary units are then fixed on the driver from the seed,
   the interval and the remaining total alone, before any partition is searched, and each
   partition finds the units that fall inside it.

Passes 2 and 3 call the very functions the local engine runs on the whole population as one
block, so both engines select the same items, with the same reasons and the same fingerprint.

Plain Ray tasks rather than Ray Data's ``sort``: the latter defaults to 200 shuffle partitions and
loses each row's file and row number, which an auditor needs when a value is refused.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import polars as pl

from auditray.sampling.errors import PopulationError
from auditray.sampling.population import (
    CENTS,
    FILE,
    HASH_PREFIX,
    ROW,
    Population,
    canonical_lines,
    choose_columns,
    key_text,
    population_stats,
    prepare,
)
from auditray.sampling.selection import (
    MUSDesign,
    MUSPlanner,
    Selection,
    interval_for,
    mus_block_selection,
    mus_block_totals,
    mus_points,
    mus_selection,
    selection_value,
)

if TYPE_CHECKING:
    from auditray.settings import Settings

# The canonical sort key as one string: the keys' text joined by NUL, whose byte-wise order is the
# order of the key tuples (``prepare`` refuses keys containing control characters).
SORT_KEY = "__sort_key"
CHUNK_ROWS = 1_000_000
SAMPLES_PER_CHUNK = 64


def _with_sort_key(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    return frame.with_columns(pl.concat_str(key_text(keys), separator="\x00").alias(SORT_KEY))


def _chunks(files: Sequence[str]) -> list[tuple[str, int, int]]:
    """(file, first row, rows) pieces of at most CHUNK_ROWS rows, from each file's metadata."""
    pieces = []
    for path in files:
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        pieces.extend((path, start, min(CHUNK_ROWS, rows - start)) for start in range(0, max(rows, 1), CHUNK_ROWS))
    return pieces


def _load_chunk(path: str, start: int, rows: int, keys: Sequence[str], amount: str) -> tuple[pl.DataFrame, list[str]]:
    frame = pl.scan_parquet(path).select([*keys, amount]).slice(start, rows).collect()
    frame = frame.with_columns(pl.lit(path).alias(FILE), pl.int_range(start + 1, start + 1 + frame.height,
                                                                         dtype=pl.Int64).alias(ROW))
    ordered = _with_sort_key(prepare(frame, tuple(keys), amount, where=path), keys)
    step = max(1, ordered.height // SAMPLES_PER_CHUNK)
    return ordered, ordered[SORT_KEY].gather_every(step).to_list()


def _boundaries(samples: list[str], partitions: int) -> list[str]:
    pooled = sorted(samples)
    if not pooled or partitions < 2:
        return []
    cuts = {pooled[(i * len(pooled)) // partitions] for i in range(1, partitions)}
    return sorted(cuts)


def _cut(frame: pl.DataFrame, boundaries: list[str]) -> list[pl.DataFrame]:
    """Split a sorted chunk at the boundaries: piece p holds keys in [boundary p-1, boundary p)."""
    if not boundaries:
        return [frame]
    at = [0, *frame[SORT_KEY].search_sorted(pl.Series(boundaries, dtype=pl.String), side="left").to_list(),
          frame.height]
    return [frame.slice(lo, hi - lo) for lo, hi in itertools.pairwise(at)]


def _merge(pieces: Sequence[pl.DataFrame], keys: Sequence[str], absolute: bool) -> tuple[pl.DataFrame, dict, bytes]:
    frame = pl.concat(list(pieces), how="vertical_relaxed").sort(SORT_KEY)
    duplicated = frame.filter(pl.col(SORT_KEY).is_duplicated()).head(20)
    survey = {
        "stats": population_stats(frame),
        "first": frame[SORT_KEY][0] if frame.height else None,
        "last": frame[SORT_KEY][-1] if frame.height else None,
        "duplicates": [(r[FILE], r[ROW], {k: r[k] for k in keys}) for r in duplicated.iter_rows(named=True)],
        "units": int(frame.select(selection_value(pl.col(CENTS), absolute).sum()).item() or 0),
    }
    text = ("\n".join(canonical_lines(frame, keys).to_list()) + "\n").encode("utf-8") if frame.height else b""
    return frame, survey, text


def select_mus_ray(
    files: Sequence[str],
    *,
    keys: Sequence[str] | None = None,
    amount: str | None = None,
    sample_size: int | None = None,
    interval: Decimal | str | None = None,
    seed: int,
    method: Literal["fixed", "cell"] = "fixed",
    absolute: bool = False,
    plan: MUSPlanner | None = None,
    settings: Settings | None = None,
    source: str | None = None,
    partitions: int | None = None,
) -> Selection:
    """Monetary-unit selection of Parquet ``files`` on Ray; the same items as ``selection.select_mus``.

    ``partitions`` is the number of ordered partitions (default: one per million rows, at least two).
    """
    import ray

    from auditray.engine import ensure_ray

    files = [str(f) for f in files]
    if not files:
        raise PopulationError([(source or "population", None, None, "no Parquet files to sample")])
    columns = list(pl.scan_parquet(files[0]).collect_schema().names())
    chosen_keys, chosen_amount = choose_columns(columns, keys, amount, where=source or files[0])
    keys = list(chosen_keys)
    pieces = _chunks(files)
    rows = sum(p[2] for p in pieces)
    partitions = partitions or max(2, -(-rows // CHUNK_ROWS))
    ensure_ray(settings)

    load = ray.remote(num_returns=2)(_load_chunk)
    merge = ray.remote(num_returns=3)(lambda keys_, absolute_, *parts: _merge(parts, keys_, absolute_))
    totals_of = ray.remote(lambda frame, design: mus_block_totals(frame, design))
    select_in = ray.remote(
        lambda frame, design, offset, points: mus_block_selection(frame, design, offset, points).drop(
            SORT_KEY, FILE, ROW, "__units", strict=False))

    try:
        loaded = [load.remote(path, start, count, keys, chosen_amount) for path, start, count in pieces]
        samples = [s for _, sample_ref in loaded for s in ray.get(sample_ref)]
        boundaries = _boundaries(samples, partitions)
        if boundaries:
            cut = ray.remote(num_returns=len(boundaries) + 1)(_cut)
            cut_refs = [cut.remote(chunk_ref, boundaries) for chunk_ref, _ in loaded]
        else:
            cut_refs = [[chunk_ref] for chunk_ref, _ in loaded]
        merged = [merge.remote(keys, absolute, *[refs[p] for refs in cut_refs]) for p in range(len(boundaries) + 1)]
        blocks = [m[0] for m in merged]
        surveys = ray.get([m[1] for m in merged])
        _check_order(surveys, keys)
        hasher = hashlib.sha256(HASH_PREFIX)
        for _, _, text_ref in merged:
            hasher.update(ray.get(text_ref))

        stats = {k: sum(s["stats"][k] for s in surveys) for k in surveys[0]["stats"]}
        positive = sum(s["units"] for s in surveys)
        population = Population(frame=pl.DataFrame(), key_columns=tuple(keys), amount_column=chosen_amount,
                                source=source or files[0], sha256=hasher.hexdigest(), files=files, stats=stats)
        if positive == 0:
            raise PopulationError([(population.source, None, chosen_amount,
                                    "the population has no positive book value to sample")])
        sample_size, plan_facts = (sample_size, None) if plan is None else plan(positive)
        design = MUSDesign(interval_for(positive, sample_size, interval), method, seed, absolute)
        per_block = ray.get([totals_of.remote(b, design) for b in blocks])
        offsets, running = [], 0
        for block_totals in per_block:
            offsets.append(running)
            running += block_totals["remaining_cents"]
        totals = {k: sum(t[k] for t in per_block) for k in per_block[0]}
        points, facts = mus_points(design, totals["remaining_cents"])
        ends = [*offsets[1:], running]
        parts = ray.get([
            select_in.remote(b, design, start, [p for p in points if start < p <= end])
            for b, start, end in zip(blocks, offsets, ends, strict=True)
        ])
    except ray.exceptions.RayTaskError as failed:
        cause = getattr(failed, "cause", None)
        if isinstance(cause, PopulationError):
            raise cause from None
        raise
    chosen = pl.concat(parts, how="vertical_relaxed")
    return mus_selection(population, design, totals, points, facts, chosen, sample_size=sample_size,
                         interval=interval, plan=plan_facts, engine="ray")


def _check_order(surveys: list[dict], keys: Sequence[str]) -> None:
    """Partitions must form one ascending run of unique keys: the canonical order, or we stop."""
    problems = []
    for survey in surveys:
        for file, row, key in survey["duplicates"]:
            shown = ", ".join(f"{k}={v!r}" for k, v in key.items())
            problems.append((file, row, None, f"the key ({shown}) is not unique: each item must appear once"))
    bounds = [(s["first"], s["last"]) for s in surveys if s["first"] is not None]
    for (_, last), (first, _) in itertools.pairwise(bounds):
        if first <= last:
            raise RuntimeError("partitions overlap in key order; refusing to select")
    if problems:
        raise PopulationError(problems)
