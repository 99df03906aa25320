"""Selecting sample items: random, systematic, monetary-unit, stratified and risk-based.

Every selection is reproducible and documented (AU-C 530 .A12-.A14 / ISA 530 .8 and A12-A13 on
selection, AU-C 230 / ISA 230 on documentation): the population is in canonical order with its
SHA-256 fingerprint (``population.py``), the random numbers come from a seeded SHA-256 counter
(``randomness.py``), and each selected item carries the reason it was chosen.

Monetary-unit selection (AICPA Audit Sampling, ch. 6). Each cent of positive book value is a
sampling unit. Items whose book value is at or above the sampling interval J form the *top
stratum*: each is taken individually and examined in full, and it leaves the cumulative sequence.
The *remaining population* (positive items below J, canonical order) is sampled at the same
interval: ``fixed`` takes the units at start, start + J, start + 2J, ... from a random start in
[1, J]; ``cell`` takes one random unit in each successive J-unit cell (a point beyond the end of
the final, partial cell selects nothing). Either way every unit of the remaining population has
probability 1/J, which is what the Stringer evaluation with interval J assumes. Items with zero
or negative book values carry no units and cannot be selected: they are reported as excluded and
need their own procedures (or sample on absolute values with ``absolute=True``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from auditray.contract.money import MONEY_DTYPE
from auditray.sampling.errors import PopulationError, SamplingInputError
from auditray.sampling.population import CENTS, Population, canonical_sort, format_money
from auditray.sampling.randomness import AuditRandom, new_seed

RNG_DESCRIPTION = (
    "SHA-256 counter: draw i of stream s is SHA-256('auditray-sample|<seed>|<s>|<i>') as a big-endian "
    "integer, reduced modulo the range; distinct positions by a partial Fisher-Yates shuffle"
)
SELECTION_COLUMNS = ("selection_order", "stratum", "reason", "monetary_unit")


@dataclass
class Selection:
    """The chosen items (keys, amount, why) and the documentation that lets anyone re-perform it."""

    items: pl.DataFrame
    documentation: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.items.height

    def write(self, path: str | Path) -> tuple[Path, Path]:
        """Write the items (Parquet, or CSV by extension) and ``<name>.json`` beside them, atomically."""
        import json
        import os

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc_path = path.with_suffix(".json")
        temp_items = path.with_name(f".{path.name}.tmp")
        temp_doc = doc_path.with_name(f".{doc_path.name}.tmp")
        try:
            if path.suffix.lower() == ".csv":
                self.items.write_csv(temp_items)
            else:
                self.items.write_parquet(temp_items)
            temp_doc.write_text(json.dumps(self.documentation, indent=2, default=str) + "\n")
            os.replace(temp_items, path)
            os.replace(temp_doc, doc_path)
        finally:
            for temp in (temp_items, temp_doc):
                temp.unlink(missing_ok=True)
        return path, doc_path


def _code_version() -> str:
    from auditray.version import code_version

    return code_version()


def _document(population: Population, method: str, standard: str, seed: int, parameters: dict,
              derived: dict, selected: int) -> dict:
    return {
        "method": method,
        "standard": standard,
        "population": population.describe(),
        "seed": seed,
        "random_numbers": RNG_DESCRIPTION,
        "parameters": parameters,
        "derived": derived,
        "selected_items": selected,
        "code_version": _code_version(),
    }


def _finish(population: Population, chosen: pl.DataFrame, *, extra: Sequence[str] = ()) -> pl.DataFrame:
    """Selected rows in canonical order with the standard columns."""
    keys = list(population.key_columns)
    amount = population.amount_column
    if "monetary_unit" not in chosen.columns:
        chosen = chosen.with_columns(pl.lit(None, dtype=pl.Int64).alias("monetary_unit"))
    chosen = canonical_sort(chosen, keys)
    return chosen.select(
        *keys,
        pl.col(amount).cast(MONEY_DTYPE),
        *extra,
        pl.col("selection_order").cast(pl.Int64),
        pl.col("stratum").cast(pl.String),
        pl.col("reason").cast(pl.String),
        pl.col("monetary_unit").cast(pl.Int64),
    )


def _check_size(sample_size: int, available: int, what: str = "items") -> None:
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
        raise SamplingInputError("sample_size", f"sample size must be a whole number >= 1, got {sample_size}")
    if sample_size > available:
        raise SamplingInputError(
            "sample_size", f"sample size {sample_size:,} exceeds the {available:,} {what} in the population"
        )


# --- Random and systematic ----------------------------------------------------------------------------


def select_random(population: Population, sample_size: int, *, seed: int | None = None) -> Selection:
    """Simple random selection without replacement (AU-C 530 .A13 / ISA 530 A13(a))."""
    n_items = population.size
    _check_size(sample_size, n_items)
    seed = new_seed() if seed is None else seed
    rng = AuditRandom(seed, "random")
    positions = rng.positions(n_items, sample_size)
    order = {p: i + 1 for i, p in enumerate(positions)}
    frame = population.frame.with_row_index("__position")
    chosen = frame.filter(pl.col("__position").is_in(positions))
    chosen = chosen.with_columns(
        pl.col("__position").replace_strict(order, return_dtype=pl.Int64).alias("selection_order"),
        pl.lit("population").alias("stratum"),
    ).with_columns(
        pl.format("random draw {} of {}: position {} of {} in canonical order",
                  pl.col("selection_order"), pl.lit(sample_size), pl.col("__position") + 1,
                  pl.lit(n_items)).alias("reason")
    )
    doc = _document(population, "random", "AU-C 530 .A13; ISA 530 A13(a): random selection", seed,
                    {"sample_size": sample_size}, {"draws": rng.draws}, chosen.height)
    return Selection(_finish(population, chosen), doc)


def select_systematic(population: Population, sample_size: int, *, seed: int | None = None) -> Selection:
    """Systematic selection with a random start: every (N / n)-th item (AU-C 530 .A13 / ISA 530 A13(b)).

    Positions are floor((r + i x N) / n) for a random r in [0, N): exact integer arithmetic for any
    N / n, so exactly n distinct items, the first in the first interval.
    """
    n_items = population.size
    _check_size(sample_size, n_items)
    seed = new_seed() if seed is None else seed
    rng = AuditRandom(seed, "systematic")
    start = rng.below(n_items)
    positions = [(start + i * n_items) // sample_size for i in range(sample_size)]
    order = {p: i + 1 for i, p in enumerate(positions)}
    interval = Fraction(n_items, sample_size)
    chosen = population.frame.with_row_index("__position").filter(pl.col("__position").is_in(positions))
    chosen = chosen.with_columns(
        pl.col("__position").replace_strict(order, return_dtype=pl.Int64).alias("selection_order"),
        pl.lit("population").alias("stratum"),
    ).with_columns(
        pl.format("systematic: position {} of {} = floor((start {} + {} x {}) / {}) + 1",
                  pl.col("__position") + 1, pl.lit(n_items), pl.lit(start), pl.col("selection_order") - 1,
                  pl.lit(n_items), pl.lit(sample_size)).alias("reason")
    )
    derived = {"interval_items": f"{float(interval):.4f}", "random_start_items": f"{start / sample_size:.4f}",
               "random_start_numerator": start}
    doc = _document(population, "systematic", "AU-C 530 .A13; ISA 530 A13(b): systematic selection", seed,
                    {"sample_size": sample_size}, derived, chosen.height)
    return Selection(_finish(population, chosen), doc)


# --- Monetary-unit selection ----------------------------------------------------------------------------


# Given the population's positive book value in cents: the sample size and the planning facts to record.
MUSPlanner = Callable[[int], tuple[int, dict]]


def mus_planner(tolerable_misstatement: Decimal | str | int, expected_misstatement: Decimal | str | int = 0,
                risk: Decimal | str | float = "0.05", method: Literal["table", "formula"] = "table") -> MUSPlanner:
    """Plan the sample from the population's own book value (``mus.mus_sample_size``) when it is known."""
    from auditray.sampling.mus import mus_sample_size

    def plan(positive_cents: int) -> tuple[int, dict]:
        planned = mus_sample_size(Decimal(positive_cents) / 100, tolerable_misstatement, expected_misstatement,
                                  risk, method)
        return planned.sample_size, planned.to_dict()

    return plan


@dataclass(frozen=True)
class MUSDesign:
    """Everything a monetary-unit selection depends on, fixed before any item is looked at."""

    interval_cents: int
    method: Literal["fixed", "cell"]
    seed: int
    absolute: bool = False


def selection_value(cents: pl.Expr, absolute: bool) -> pl.Expr:
    """The monetary units an item carries: its positive book value (or |amount| with ``absolute``)."""
    return cents.abs() if absolute else pl.when(cents > 0).then(cents).otherwise(0)


def interval_for(positive_total_cents: int, sample_size: int | None, interval: Decimal | str | None) -> int:
    """The sampling interval in cents: as given, or BV / n rounded down to the cent."""
    if interval is not None:
        cents = (Decimal(str(interval)) * 100).to_integral_value(rounding=ROUND_FLOOR)
        if cents < 1:
            raise SamplingInputError("interval", f"the sampling interval must be at least 0.01, got {interval}")
        return int(cents)
    if sample_size is None:
        raise SamplingInputError("sample_size", "give a sample size, an interval or the planning figures")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
        raise SamplingInputError("sample_size", f"sample size must be a whole number >= 1, got {sample_size}")
    if positive_total_cents < sample_size:
        raise SamplingInputError(
            "sample_size", f"the population's {format_money(positive_total_cents)} cannot give {sample_size:,} units"
        )
    return positive_total_cents // sample_size


def mus_points(design: MUSDesign, remaining_cents: int) -> tuple[list[int], dict]:
    """The selected monetary units (cumulative cents into the remaining population), ascending.

    Fixed from the seed, the interval and the remaining total alone, so every engine and every
    partitioning selects the same units.
    """
    j = design.interval_cents
    rng = AuditRandom(design.seed, f"mus-{design.method}")
    if design.method == "fixed":
        start = 1 + rng.below(j)
        count = 0 if remaining_cents < start else (remaining_cents - start) // j + 1
        return [start + i * j for i in range(count)], {"random_start_unit": start,
                                                        "random_start": format_money(start)}
    if design.method == "cell":
        cells = -(-remaining_cents // j)
        points = [c * j + 1 + rng.below(j) for c in range(cells)]
        kept = [p for p in points if p <= remaining_cents]
        return kept, {"cells": cells, "points_beyond_end": len(points) - len(kept)}
    raise SamplingInputError("method", f"MUS selection is 'fixed' (interval) or 'cell', got {design.method!r}")


def mus_block_totals(block: pl.DataFrame, design: MUSDesign) -> dict:
    """Per-block figures the offsets and the documentation need (block in canonical order)."""
    value = selection_value(pl.col(CENTS), design.absolute)
    j = design.interval_cents
    row = block.select(
        pl.len().alias("items"),
        (value >= j).sum().alias("top_items"),
        pl.when(value >= j).then(value).otherwise(0).sum().alias("top_cents"),
        ((value > 0) & (value < j)).sum().alias("remaining_items"),
        pl.when(value < j).then(value).otherwise(0).sum().alias("remaining_cents"),
        (value == 0).sum().alias("excluded_items"),
        pl.when(value == 0).then(pl.col(CENTS)).otherwise(0).sum().alias("excluded_cents"),
    ).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def mus_block_selection(block: pl.DataFrame, design: MUSDesign, offset: int, points: Sequence[int]) -> pl.DataFrame:
    """The block's top-stratum items and its items hit by ``points``, given its global cumulative offset.

    ``block`` is a contiguous run of the canonical order; ``offset`` is the remaining population's
    cumulative value before it. Integer cents throughout, so the hits are exact.
    """
    j = design.interval_cents
    value = selection_value(pl.col(CENTS), design.absolute)
    marked = block.with_columns(value.alias("__units"))
    top = marked.filter(pl.col("__units") >= j).with_columns(
        pl.lit("top stratum").alias("stratum"),
        pl.lit(None, dtype=pl.Int64).alias("monetary_unit"),
        pl.format("top stratum: book value {} >= interval {}; taken individually",
                  pl.col(CENTS).map_elements(format_money, return_dtype=pl.String),
                  pl.lit(format_money(j))).alias("reason"),
    )
    remaining = marked.filter((pl.col("__units") > 0) & (pl.col("__units") < j))
    ends = offset + remaining["__units"].cum_sum().to_numpy() if remaining.height else np.zeros(0, np.int64)
    end = int(ends[-1]) if len(ends) else offset
    local = np.asarray([p for p in points if offset < p <= end], dtype=np.int64)
    if len(local) == 0:
        hit = remaining.clear().with_columns(pl.lit(None, dtype=pl.String).alias("stratum"),
                                             pl.lit(None, dtype=pl.Int64).alias("monetary_unit"),
                                             pl.lit(None, dtype=pl.String).alias("reason"))
    else:
        index = np.searchsorted(ends, local, side="left")
        hits = pl.DataFrame({"__index": index, "monetary_unit": local}).group_by("__index", maintain_order=True).agg(
            pl.col("monetary_unit").min(), pl.col("monetary_unit").count().alias("__hits"),
            pl.col("monetary_unit").max().alias("__last"))
        verb = "random point" if design.method == "cell" else "hit"

        def reason(first: int, last: int, count: int) -> str:
            units = f"{first:,}" if count == 1 else f"{first:,} and {last:,}"
            into = format_money(first) if count == 1 else f"{format_money(first)} and {format_money(last)}"
            return (f"{verb}{'s' if count > 1 else ''} at cumulative monetary unit{'s' if count > 1 else ''} "
                    f"{units} (cents: {into} into the remaining population, interval {format_money(j)})")

        hits = hits.with_columns(pl.struct("monetary_unit", "__last", "__hits").map_elements(
            lambda h: reason(h["monetary_unit"], h["__last"], h["__hits"]), return_dtype=pl.String).alias("reason"))
        hit = remaining.with_row_index("__index").join(hits, on="__index", how="inner").with_columns(
            pl.lit("sampled").alias("stratum"),
        ).drop("__index", "__hits", "__last")
    columns = [c for c in block.columns] + ["stratum", "monetary_unit", "reason"]
    return pl.concat([top.select(columns), hit.select(columns)], how="vertical_relaxed")


def describe_mus(design: MUSDesign, totals: dict, points: list[int], point_facts: dict) -> dict:
    j = design.interval_cents
    return {
        "selection": "fixed interval, random start" if design.method == "fixed" else "cell (random point per interval)",
        "sampling_interval": format_money(j),
        "monetary_unit": "0.01 (one cent)",
        "basis": "absolute book values (debits and credits)" if design.absolute else "positive book values",
        "top_stratum": {
            "rule": f"book value >= interval {format_money(j)}: taken individually, examined in full",
            "items": totals["top_items"],
            "book_value": format_money(totals["top_cents"]),
        },
        "remaining_population": {
            "treatment": "positive items below the interval, in canonical order, sampled at the same interval; "
                         "each monetary unit has selection probability 1 / interval",
            "items": totals["remaining_items"],
            "book_value": format_money(totals["remaining_cents"]),
            "selected_units": len(points),
            **point_facts,
        },
        "excluded": {
            "rule": "zero and negative book values carry no monetary units and cannot be selected; "
                    "they need separate procedures" if not design.absolute else "zero amounts carry no units",
            "items": totals["excluded_items"],
            "net_amount": format_money(totals["excluded_cents"]),
        },
    }


def select_mus(
    population: Population,
    *,
    sample_size: int | None = None,
    interval: Decimal | str | None = None,
    seed: int | None = None,
    method: Literal["fixed", "cell"] = "fixed",
    absolute: bool = False,
    plan: MUSPlanner | None = None,
) -> Selection:
    """Monetary-unit selection (AICPA Audit Sampling, ch. 6): top stratum plus fixed-interval or cell hits.

    Give ``sample_size`` (the interval is then BV / n, rounded down to the cent) or ``interval``.
    Or give ``plan``: called with the population's positive book value in cents once it is known, it
    returns the sample size and the planning facts recorded with the selection (see ``mus_planner``).
    """
    seed = new_seed() if seed is None else seed
    frame = population.frame
    positive = int(frame.select(selection_value(pl.col(CENTS), absolute).sum()).item() or 0)
    if positive == 0:
        raise PopulationError([(population.source, None, population.amount_column,
                                "the population has no positive book value to sample")])
    sample_size, plan_facts = (sample_size, None) if plan is None else plan(positive)
    design = MUSDesign(interval_for(positive, sample_size, interval), method, seed, absolute)
    totals = mus_block_totals(frame, design)
    points, facts = mus_points(design, totals["remaining_cents"])
    chosen = mus_block_selection(frame, design, 0, points)
    return mus_selection(population, design, totals, points, facts, chosen, sample_size=sample_size,
                         interval=interval, plan=plan_facts, engine="local")


def mus_selection(population: Population, design: MUSDesign, totals: dict, points: list[int], facts: dict,
                  chosen: pl.DataFrame, *, sample_size: int | None, interval: Decimal | str | None, plan: dict | None,
                  engine: str) -> Selection:
    """Number the chosen items in canonical order and document the selection (both engines end here)."""
    keys = list(population.key_columns)
    chosen = canonical_sort(chosen, keys).with_row_index("selection_order", offset=1)
    parameters = {"sample_size": sample_size, "interval": None if interval is None else str(interval),
                  "selection": design.method, "absolute": design.absolute, "engine": engine}
    if plan:
        parameters["plan"] = plan
    derived = describe_mus(design, totals, points, facts)
    doc = _document(population, f"mus-{design.method}", "AICPA Audit Sampling guide, ch. 6 (monetary-unit sampling); "
                    "AU-C 530 / ISA 530", design.seed, parameters, derived, chosen.height)
    return Selection(_finish(population, chosen), doc)


# --- Stratified and risk-based ----------------------------------------------------------------------------


def _allocate(sizes: list[int], weights: list[float], total: int) -> list[int]:
    """Split ``total`` across strata in proportion to ``weights`` (largest remainder), at most each size.

    Every non-empty stratum gets at least one item when ``total`` allows, so no band goes untested.
    """
    alloc = [0] * len(sizes)
    open_strata = [h for h, size in enumerate(sizes) if size > 0]
    if total >= len(open_strata):
        for h in open_strata:
            alloc[h] = 1
    left = total - sum(alloc)
    while left > 0:
        candidates = [h for h in open_strata if alloc[h] < sizes[h]]
        if not candidates:
            break
        weight = sum(weights[h] for h in candidates)
        shares = {h: (Fraction(weights[h]) / Fraction(weight) * left if weight > 0 else Fraction(left, len(candidates)))
                  for h in candidates}
        floors = {h: min(math.floor(shares[h]), sizes[h] - alloc[h]) for h in candidates}
        given = sum(floors.values())
        for h, extra in floors.items():
            alloc[h] += extra
        left -= given
        by_remainder = sorted(candidates, key=lambda h: (-(shares[h] - math.floor(shares[h])), h))
        for h in by_remainder:
            if left == 0:
                break
            if alloc[h] < sizes[h]:
                alloc[h] += 1
                left -= 1
    return alloc


def _spread(values: list[int]) -> float:
    """Population standard deviation from exact integer sums (deterministic for Neyman allocation)."""
    n = len(values)
    if n < 2:
        return 0.0
    total, squares = sum(values), sum(v * v for v in values)
    return math.sqrt(float(Fraction(n * squares - total * total, n * n)))


def select_stratified(
    population: Population,
    sample_size: int,
    *,
    strata: int = 3,
    boundaries: Sequence[Decimal | str] | None = None,
    allocation: Literal["neyman", "proportional", "equal"] = "neyman",
    top_threshold: Decimal | str | None = None,
    seed: int | None = None,
) -> Selection:
    """Stratified random selection by amount bands (AU-C 530 .A7-.A8 / ISA 530 A8 and Appendix 1).

    Bands on |amount|: explicit ``boundaries`` (lower edges of the upper bands) or ``strata``
    equal-value bands (each holds about the same share of total |amount|). Items at or above
    ``top_threshold`` are taken in full. ``allocation`` splits ``sample_size`` across bands: Neyman
    (size x standard deviation, the most efficient for estimating a total), proportional (size) or
    equal; every non-empty band gets at least one item. Within a band, simple random selection.
    """
    seed = new_seed() if seed is None else seed
    if allocation not in ("neyman", "proportional", "equal"):
        raise SamplingInputError("allocation", f"allocation is neyman, proportional or equal, got {allocation!r}")
    frame = population.frame.with_row_index("__position").with_columns(pl.col(CENTS).abs().alias("__abs"))
    top_cents = None
    if top_threshold is not None:
        top_cents = int((Decimal(str(top_threshold)) * 100).to_integral_value(rounding=ROUND_FLOOR))
        if top_cents <= 0:
            raise SamplingInputError("top_threshold", f"the top-stratum threshold must be positive, got {top_threshold}")
    top = frame.filter(pl.col("__abs") >= top_cents) if top_cents is not None else frame.clear()
    rest = frame.filter(pl.col("__abs") < top_cents) if top_cents is not None else frame
    if rest.height:
        _check_size(sample_size, rest.height, "items below the top stratum")
    if boundaries:
        edges = sorted(int((Decimal(str(b)) * 100).to_integral_value(rounding=ROUND_FLOOR)) for b in boundaries)
        band = pl.sum_horizontal([(pl.col("__abs") >= e).cast(pl.Int64) for e in edges])
        rest = rest.with_columns(band.alias("__band"))
        bands = len(edges) + 1
        limits = [(lo, hi) for lo, hi in zip([0, *edges], [*edges, None], strict=True)]
    else:
        if isinstance(strata, bool) or not isinstance(strata, int) or strata < 1:
            raise SamplingInputError("strata", f"strata must be a whole number >= 1, got {strata}")
        ordered = rest.sort("__abs", "__position")
        total_abs = int(ordered["__abs"].sum() or 0)
        before = (pl.col("__abs").cum_sum() - pl.col("__abs")).cast(pl.Int128)
        # Equal-value bands: an item's band is the share of total |amount| before it, in strata-ths.
        band_of = (before * pl.lit(strata, pl.Int128)) // pl.lit(max(total_abs, 1), pl.Int128)
        rest = ordered.with_columns(band_of.clip(0, strata - 1).cast(pl.Int64).alias("__band")).sort("__position")
        bands = strata
        limits = None
    groups = [rest.filter(pl.col("__band") == h) for h in range(bands)]
    sizes = [g.height for g in groups]
    if allocation == "neyman":
        weights = [size * _spread(g["__abs"].to_list()) for size, g in zip(sizes, groups, strict=True)]
        if not any(weights):
            weights = [float(s) for s in sizes]
    elif allocation == "proportional":
        weights = [float(s) for s in sizes]
    else:
        weights = [1.0 if s else 0.0 for s in sizes]
    alloc = _allocate(sizes, weights, sample_size if rest.height else 0)
    parts = []
    described = []
    for h, (group, take) in enumerate(zip(groups, alloc, strict=True)):
        label = _band_label(h, bands, limits, group)
        described.append({"stratum": label, "items": group.height,
                          "abs_amount": format_money(int(group["__abs"].sum() or 0)), "sample_size": take,
                          "weight": round(weights[h], 6)})
        if take == 0:
            continue
        rng = AuditRandom(seed, f"stratum-{h + 1}")
        positions = rng.positions(group.height, take)
        order = {p: i + 1 for i, p in enumerate(positions)}
        picked = group.with_row_index("__in_band").filter(pl.col("__in_band").is_in(positions)).with_columns(
            pl.col("__in_band").replace_strict(order, return_dtype=pl.Int64).alias("__draw"),
            pl.lit(label).alias("stratum"),
        ).with_columns(
            pl.format("{}: random draw {} of {} among {} items", pl.lit(label), pl.col("__draw"), pl.lit(take),
                      pl.lit(group.height)).alias("reason"))
        parts.append(picked.drop("__in_band", "__draw"))
    if top.height:
        parts.append(top.with_columns(
            pl.lit("top stratum").alias("stratum"),
            pl.format("top stratum: |amount| {} >= threshold {}; taken individually",
                      pl.col("__abs").map_elements(format_money, return_dtype=pl.String),
                      pl.lit(format_money(top_cents))).alias("reason")))
    chosen = pl.concat([p.drop("__band", strict=False) for p in parts], how="vertical_relaxed") if parts else \
        frame.clear().with_columns(pl.lit(None, dtype=pl.String).alias("stratum"),
                                   pl.lit(None, dtype=pl.String).alias("reason"))
    chosen = canonical_sort(chosen, population.key_columns).with_row_index("selection_order", offset=1)
    derived = {
        "bands_on": "absolute amount",
        "band_rule": "explicit boundaries" if boundaries else f"{bands} equal-value bands",
        "allocation": allocation,
        "strata": described,
        "top_stratum": None if top_cents is None else {"threshold": format_money(top_cents), "items": top.height},
    }
    parameters = {"sample_size": sample_size, "strata": strata if not boundaries else None,
                  "boundaries": [str(b) for b in boundaries] if boundaries else None, "allocation": allocation,
                  "top_threshold": None if top_threshold is None else str(top_threshold)}
    doc = _document(population, "stratified", "AU-C 530 .A7-.A8; ISA 530 A8 and Appendix 1: stratification",
                    seed, parameters, derived, chosen.height)
    return Selection(_finish(population, chosen), doc)


def _band_label(h: int, bands: int, limits: list[tuple[int, int | None]] | None, group: pl.DataFrame) -> str:
    """Name a band by its edges (explicit boundaries) or by the amounts it holds (equal-value bands)."""
    if limits is not None:
        lo, hi = limits[h]
        span = f"{format_money(lo)} and above" if hi is None else f"{format_money(lo)} to below {format_money(hi)}"
        return f"stratum {h + 1} of {bands} (|amount| {span})"
    if group.height:
        lo, hi = int(group["__abs"].min()), int(group["__abs"].max())
        return f"stratum {h + 1} of {bands} (|amount| {format_money(lo)} to {format_money(hi)})"
    return f"stratum {h + 1} of {bands} (empty)"


def select_risk_based(
    population: Population,
    *,
    score_column: str,
    threshold: float | None = None,
    top: int | None = None,
    sample_size: int = 0,
    seed: int | None = None,
) -> Selection:
    """All high-risk items plus a random sample of the rest (ISA 240 .32(a), A41-A44; AS 2401 .61).

    High risk is ``score_column >= threshold`` or the ``top`` highest scores (ties broken in canonical
    order). The remaining, lower-risk population keeps a chance of selection through an
    unpredictable random sample of ``sample_size`` items (ISA 240 A44 / AS 2401 .61: an element of
    unpredictability), so no entry is certain to escape testing.
    """
    seed = new_seed() if seed is None else seed
    frame = population.frame
    if score_column not in frame.columns:
        raise PopulationError([(population.source, None, score_column,
                                f"score column not found (columns: {', '.join(c for c in frame.columns if not c.startswith('__'))})")])
    if not frame.schema[score_column].is_numeric():
        raise PopulationError([(population.source, None, score_column,
                                f"the risk score must be numeric, found {frame.schema[score_column]}")])
    missing = frame.filter(pl.col(score_column).is_null())
    if missing.height:
        raise PopulationError([(f, r, score_column, "the risk score is missing")
                               for f, r in missing.select("__file", "__row").head(20).iter_rows()]
                              if "__file" in frame.columns else
                              [(population.source, None, score_column, f"{missing.height} items have no risk score")])
    if (threshold is None) == (top is None):
        raise SamplingInputError("threshold", "give exactly one of a score threshold or a number of top-scored items")
    indexed = frame.with_row_index("__position")
    if threshold is not None:
        high_mask = pl.col(score_column) >= threshold
        rule = f"{score_column} >= {threshold}"
    else:
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise SamplingInputError("top", f"top must be a whole number >= 1, got {top}")
        ranked = indexed.sort([score_column, "__position"], descending=[True, False]).head(top)["__position"]
        high_mask = pl.col("__position").is_in(ranked.to_list())
        rule = f"the {top} highest {score_column}"
    high = indexed.filter(high_mask)
    rest = indexed.filter(~high_mask)
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 0:
        raise SamplingInputError("sample_size", f"sample size must be a whole number >= 0, got {sample_size}")
    if sample_size > rest.height:
        raise SamplingInputError("sample_size", f"sample size {sample_size:,} exceeds the {rest.height:,} "
                                 "lower-risk items")
    reason_high = (pl.format("high risk: {} {} >= threshold {}", pl.lit(score_column), pl.col(score_column),
                             pl.lit(threshold)) if threshold is not None else
                   pl.format("high risk: {} {} among the {} highest", pl.lit(score_column), pl.col(score_column),
                             pl.lit(top)))
    parts = [high.with_columns(pl.lit("high risk").alias("stratum"), reason_high.alias("reason"))]
    rng = AuditRandom(seed, "risk-remaining")
    if sample_size:
        positions = rng.positions(rest.height, sample_size)
        order = {p: i + 1 for i, p in enumerate(positions)}
        picked = rest.with_row_index("__in_rest").filter(pl.col("__in_rest").is_in(positions)).with_columns(
            pl.col("__in_rest").replace_strict(order, return_dtype=pl.Int64).alias("__draw"),
            pl.lit("remaining").alias("stratum"),
        ).with_columns(pl.format("remaining population: random draw {} of {} among {} lower-risk items",
                                 pl.col("__draw"), pl.lit(sample_size), pl.lit(rest.height)).alias("reason"))
        parts.append(picked.drop("__in_rest", "__draw"))
    chosen = canonical_sort(pl.concat(parts, how="vertical_relaxed"), population.key_columns)
    chosen = chosen.with_row_index("selection_order", offset=1)
    derived = {"high_risk_rule": rule, "high_risk_items": high.height, "remaining_items": rest.height,
               "remaining_sample": sample_size}
    parameters = {"score_column": score_column, "threshold": threshold, "top": top, "sample_size": sample_size}
    doc = _document(population, "risk-based", "ISA 240 .32(a), A41-A44; PCAOB AS 2401 .58-.62: all high-risk "
                    "entries plus an unpredictable sample of the rest", seed, parameters, derived, chosen.height)
    return Selection(_finish(population, chosen, extra=[score_column]), doc)
