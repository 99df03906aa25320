"""One front door for every selection method, over files or a registered dataset, on either engine.

The command line, the Ray Job and notebooks all come through here, so they select the same
items for the same inputs. Random, systematic, stratified and risk-based selection run in-process
(they need the population in canonical order, which fits one machine well into the millions of
items); monetary-unit selection runs on Ray when the engine says so and the population is
Parquet, with the same result as the local engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from auditray.sampling.errors import PopulationError, SamplingInputError
from auditray.sampling.population import load_population
from auditray.sampling.randomness import new_seed
from auditray.sampling.selection import (
    Selection,
    mus_planner,
    select_mus,
    select_random,
    select_risk_based,
    select_stratified,
    select_systematic,
)

if TYPE_CHECKING:
    from auditray.settings import Settings

Method = Literal["random", "systematic", "mus", "stratified", "risk"]
METHODS: tuple[str, ...] = ("random", "systematic", "mus", "stratified", "risk")


def dataset_source(dataset_id: int, *, org_id: int, settings: Settings | None = None) -> tuple[list[str], str]:
    """The Parquet files of a registered dataset, and how the documentation names it."""
    from auditray import datasets
    from auditray.settings import get_settings
    from auditray.store import make_engine, session_scope
    from auditray.store.services import get_dataset

    settings = settings or get_settings()
    db = make_engine(settings.resolved_database_url)
    try:
        with session_scope(db) as session:
            dataset = get_dataset(session, dataset_id, org_id=org_id)
            label = f"dataset {dataset.id} ({dataset.name}, sha256 {dataset.content_sha256})"
            uri = dataset.uri
    finally:
        db.dispose()
    return datasets.dataset_files(uri), label


def _parquet_only(files: Sequence[str | Path]) -> bool:
    return all(str(f).lower().endswith(".parquet") for f in files)


def _expand(source: str | Path | Sequence[str | Path]) -> list[str]:
    items = [source] if isinstance(source, (str, Path)) else list(source)
    out: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out.extend(str(p) for p in sorted(path.rglob("*")) if p.suffix.lower() in (".parquet", ".csv"))
        else:
            out.append(str(path))
    return out


def select_sample(
    method: Method,
    source: str | Path | Sequence[str | Path] | None = None,
    *,
    dataset_id: int | None = None,
    org_id: int | None = None,
    keys: Sequence[str] | None = None,
    amount: str | None = None,
    seed: int | None = None,
    engine: Literal["local", "ray", "auto"] = "local",
    settings: Settings | None = None,
    partitions: int | None = None,
    **options: Any,
) -> Selection:
    """Select a sample by ``method`` from population files or a registered dataset.

    ``options`` are the method's own: ``sample_size`` (all), ``interval``, ``selection`` ("fixed" or
    "cell"), ``absolute`` and the planning figures ``tolerable_misstatement``, ``expected_misstatement``,
    ``risk``, ``plan_method`` (mus); ``strata``, ``boundaries``, ``allocation``, ``top_threshold``
    (stratified); ``score_column``, ``threshold``, ``top`` (risk). A missing seed is drawn and recorded.
    """
    if method not in METHODS:
        raise SamplingInputError("method", f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if (source is None) == (dataset_id is None):
        raise SamplingInputError("source", "give a population file (or directory) or a registered dataset, not both")
    if dataset_id is not None:
        if org_id is None:
            raise SamplingInputError("org_id", "a registered dataset is looked up within an organization")
        files, label = dataset_source(dataset_id, org_id=org_id, settings=settings)
    else:
        files = _expand(source)
        label = str(source) if isinstance(source, (str, Path)) else ", ".join(str(s) for s in source)
    if not files:
        raise PopulationError([(label, None, None, "no Parquet or CSV files found")])
    seed = new_seed() if seed is None else seed

    if method == "mus":
        planner = None
        if options.get("tolerable_misstatement") is not None:
            planner = mus_planner(options["tolerable_misstatement"], options.get("expected_misstatement") or 0,
                                  options.get("risk") or "0.05", options.get("plan_method") or "table")
        mus_options = {"sample_size": options.get("sample_size"), "interval": options.get("interval"),
                       "method": options.get("selection") or "fixed", "absolute": bool(options.get("absolute")),
                       "plan": planner, "seed": seed}
        if engine != "local" and _parquet_only(files):
            from auditray.engine import resolve_engine

            rows = _parquet_rows(files)
            if resolve_engine(engine, rows, settings) == "ray":
                from auditray.sampling.distributed import select_mus_ray

                return select_mus_ray(files, keys=keys, amount=amount, settings=settings, source=label,
                                      partitions=partitions, **mus_options)
        population = load_population(files, keys=keys, amount=amount, label=label)
        return select_mus(population, **mus_options)

    extra = [options.get("score_column") or "risk_score"] if method == "risk" else []
    population = load_population(files, keys=keys, amount=amount, label=label, columns=extra)
    size = options.get("sample_size")
    if method == "random":
        return select_random(population, size, seed=seed)
    if method == "systematic":
        return select_systematic(population, size, seed=seed)
    if method == "stratified":
        return select_stratified(population, size, strata=options.get("strata") or 3,
                                 boundaries=options.get("boundaries"), allocation=options.get("allocation") or "neyman",
                                 top_threshold=options.get("top_threshold"), seed=seed)
    return select_risk_based(population, score_column=options.get("score_column") or "risk_score",
                             threshold=options.get("threshold"), top=options.get("top"),
                             sample_size=size or 0, seed=seed)


def _parquet_rows(files: Sequence[str]) -> int | None:
    try:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except (OSError, ValueError):
        return None
