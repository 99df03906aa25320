"""Many trial balances at once: the mapping as a batch computation, on the local engine or Ray Data.

Partitioned by (entity, fiscal year, period), every account of one trial balance reaches the same ``map``
call, which maps each trial balance on its own, so the chart layout detected for one entity never leaks
into another and both engines give the same rows (sorted by entity, period and account). The mapper
(rules, classifier, overrides) is pickled into the task: Ray ships it to every worker once per task.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from auditray.engine import BatchComputation, EngineName, run
from auditray.tb.mapping import TB_KEYS, AccountMapper, map_trial_balance

if TYPE_CHECKING:
    from auditray.settings import Settings

SORT = (*TB_KEYS, "gl_account_number")


def _map_partition(mapper: AccountMapper, chart: pl.DataFrame | None, frame: pl.DataFrame) -> pl.DataFrame:
    return map_trial_balance(frame, mapper, chart=chart)


def normalization(mapper: AccountMapper, chart: pl.DataFrame | None = None) -> BatchComputation:
    """The mapping of any number of trial balances as one computation for ``auditray.engine.run``."""
    return BatchComputation(
        name="tb_normalize",
        map=partial(_map_partition, mapper, chart),
        partition_by=TB_KEYS,
        sort_by=SORT,
    )


def normalize_trial_balances(
    source: str | Path | list[str | Path] | pl.DataFrame,
    mapper: AccountMapper,
    *,
    chart: pl.DataFrame | None = None,
    engine: EngineName = "local",
    partitions: int | None = None,
    settings: Settings | None = None,
) -> pl.DataFrame:
    """Map every trial balance in ``source`` (Parquet files/directories or a frame) on ``engine``."""
    return run(normalization(mapper, chart), source, engine=engine, partitions=partitions, settings=settings)
