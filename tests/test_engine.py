"""One computation, two engines: the local and Ray engines give identical results."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from auditray.completeness import ACCOUNT_ACTIVITY
from auditray.contract.money import MONEY_SUM_DTYPE, cents_to_money
from auditray.engine import BatchComputation, ClusterBlocks, resolve_engine, run, run_kept


def ledger_lines(n_journals: int = 5_000, seed: int = 7) -> pl.DataFrame:
    """Balanced two-to-four-line journals, plus a few deliberately unbalanced ones."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 5, n_journals)
    journal = np.repeat(np.arange(n_journals), sizes)
    cents = rng.integers(1, 10_000_000, journal.size)
    # Make each journal balance: its last line takes minus the sum of the others.
    ends = np.cumsum(sizes) - 1
    starts = ends - sizes + 1
    for s, e in zip(starts, ends):
        cents[e] = -cents[s:e].sum()
    cents[ends[:7]] += 1  # seven journals off by one cent
    return pl.DataFrame(
        {
            "entity_id": np.where(journal % 3 == 0, "US01", "DE01"),
            "journal_id": [f"J{j:06d}" for j in journal],
            "gl_account_number": rng.choice(["1000", "1200", "2000", "4000", "5000", "6100"], journal.size),
            "cents": cents,
        }
    ).with_columns(amount=cents_to_money(pl.col("cents"))).drop("cents")


def unbalanced_journals(lines: pl.DataFrame) -> pl.DataFrame:
    return (
        lines.group_by("entity_id", "journal_id")
        .agg(total=pl.col("amount").cast(MONEY_SUM_DTYPE).sum(), lines=pl.len())
        .filter(pl.col("total") != 0)
    )


UNBALANCED = BatchComputation(
    name="unbalanced_journals",
    map=unbalanced_journals,
    partition_by=("entity_id", "journal_id"),
    sort_by=("entity_id", "journal_id"),
)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> tuple[pl.DataFrame, list[str]]:
    lines = ledger_lines()
    folder = tmp_path_factory.mktemp("ledger")
    # Journals split across files on purpose: per-journal logic must still see whole journals.
    paths = []
    for i, part in enumerate(lines.sample(fraction=1.0, shuffle=True, seed=3).iter_slices(4_000)):
        path = folder / f"part-{i:03d}.parquet"
        part.write_parquet(path)
        paths.append(str(path))
    return lines, paths


def test_account_activity_is_identical_on_both_engines(ledger, ray_session) -> None:
    lines, paths = ledger
    local = run(ACCOUNT_ACTIVITY, paths, engine="local")
    on_ray = run(ACCOUNT_ACTIVITY, paths, engine="ray")
    assert local.equals(on_ray)
    # And both agree with the exact total computed from the raw cents.
    assert local["activity"].sum() == lines["amount"].cast(MONEY_SUM_DTYPE).sum()
    assert local["lines"].sum() == lines.height


def test_per_journal_logic_sees_whole_journals_on_ray(ledger, ray_session) -> None:
    _, paths = ledger
    local = run(UNBALANCED, paths, engine="local")
    on_ray = run(UNBALANCED, paths, engine="ray", partitions=5)
    assert local.height == 7
    assert local.equals(on_ray)
    assert set(local["total"].to_list()) == {Decimal("0.01")}


def test_in_memory_frames_run_on_both_engines(ray_session) -> None:
    lines = ledger_lines(500, seed=11)
    assert run(UNBALANCED, lines, engine="local").equals(run(UNBALANCED, lines.to_arrow(), engine="ray"))


def test_a_result_kept_in_the_object_store_feeds_the_next_computation(ledger, ray_session) -> None:
    """A multi-node cluster shares no disk: an intermediate result stays where the workers put it."""
    _, paths = ledger
    signed = BatchComputation("signed", map=lambda f: f.select("entity_id", "journal_id", "gl_account_number",
                                                               "amount", positive=pl.col("amount") > 0),
                              columns=("entity_id", "journal_id", "gl_account_number", "amount"),
                              partition_by=("entity_id", "journal_id"))
    in_memory, kept = run_kept(signed, paths, partitions=3)
    assert isinstance(kept, ClusterBlocks)
    assert kept.rows == in_memory.height == run(signed, paths, engine="local").height
    assert len(kept.refs) > 1
    assert run(ACCOUNT_ACTIVITY, kept, engine="ray").equals(run(ACCOUNT_ACTIVITY, paths, engine="local"))
    with pytest.raises(ValueError, match="only a computation whose partitions are final"):
        run_kept(ACCOUNT_ACTIVITY, paths)


def test_auto_engine_picks_ray_for_large_inputs_or_a_configured_cluster(settings) -> None:
    assert resolve_engine("auto", 10, settings) == "local"
    assert resolve_engine("auto", settings.auto_ray_min_rows, settings) == "ray"
    assert resolve_engine("local", 10**9, settings) == "local"
    clustered = settings.model_copy(update={"ray_address": "ray://head:10001"})
    assert resolve_engine("auto", 10, clustered) == "ray"


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        run(UNBALANCED, ledger_lines(10), engine="spark")  # type: ignore[arg-type]


def test_roll_forward_uses_each_entitys_latest_period_of_a_monthly_trial_balance() -> None:
    from auditray.completeness import roll_forward

    money = pl.Decimal(18, 2)
    monthly = pl.DataFrame(
        {"entity_id": ["US01"] * 3, "fiscal_year": [2025] * 3, "period": [1, 2, 12],
         "gl_account_number": ["1000"] * 3, "opening_balance": [Decimal(100)] * 3,
         "closing_balance": [Decimal(120), Decimal(90), Decimal(150)]},
        schema_overrides={"opening_balance": money, "closing_balance": money},
    )
    activity = pl.DataFrame({"entity_id": ["US01"], "gl_account_number": ["1000"], "activity": [Decimal(50)],
                             "lines": [4]}, schema_overrides={"activity": pl.Decimal(38, 2)})
    check = roll_forward(monthly, activity)
    assert check["closing"].to_list() == [Decimal(150)]
    assert check["difference"].to_list() == [Decimal(0)]


def _write_blocks(lines: pl.DataFrame, folder, blocks: int) -> list[str]:
    """Each entity's journals in order, cut into about ``blocks`` files (as an export per company code)."""
    paths = []
    for entity in lines.partition_by("entity_id", maintain_order=True):
        keys = entity.select("entity_id", "journal_id").unique(maintain_order=True)
        for chunk in keys.iter_slices(max(1, keys.height // blocks + 1)):
            path = folder / f"block-{len(paths):03d}.parquet"
            entity.join(chunk, on=["entity_id", "journal_id"], how="semi").write_parquet(path)
            paths.append(str(path))
    return paths


def test_files_holding_whole_journals_are_grouped_without_a_shuffle(tmp_path, ray_session) -> None:
    from auditray.engine import key_disjoint_groups

    lines = ledger_lines().sort("entity_id", "journal_id")
    paths = _write_blocks(lines, tmp_path, blocks=6)
    groups = key_disjoint_groups(paths, ("entity_id", "journal_id"), target_rows=lines.height // 4)
    assert groups is not None and 3 <= len(groups) <= 6
    assert sorted(p for g in groups for p in g) == sorted(paths)
    # Ray maps each group of files whole (no partitions asked for): the same result as the local engine.
    assert run(UNBALANCED, paths, engine="ray").equals(run(UNBALANCED, paths, engine="local"))


def test_files_whose_journals_overlap_are_not_grouped(ledger) -> None:
    from auditray.engine import key_disjoint_groups

    _, shuffled = ledger
    assert key_disjoint_groups(shuffled, ("entity_id", "journal_id"), target_rows=1_000) is None


def test_a_file_holding_two_entities_is_bounded_by_both(tmp_path) -> None:
    from auditray.engine import key_disjoint_groups

    lines = ledger_lines(300).sort("entity_id", "journal_id")
    both = tmp_path / "both.parquet"
    lines.filter(pl.col("journal_id") < "J000100").write_parquet(both)  # DE01 and US01 journals below 100
    # Its keys run from (DE01, J000000) to (US01, J000099): a DE01 journal numbered above 100 may lie in
    # either file as far as the statistics can tell.
    later = tmp_path / "later.parquet"
    lines.filter((pl.col("journal_id") >= "J000100") & (pl.col("entity_id") == "DE01")).write_parquet(later)
    assert key_disjoint_groups([str(both), str(later)], ("entity_id", "journal_id"), target_rows=10_000) is None
    # One entity per file: the ranges are the entities' own, and disjoint; groups follow the keys' order.
    de, us = tmp_path / "de.parquet", tmp_path / "us.parquet"
    lines.filter(pl.col("entity_id") == "DE01").write_parquet(de)
    lines.filter(pl.col("entity_id") == "US01").write_parquet(us)
    groups = key_disjoint_groups([str(us), str(de)], ("entity_id", "journal_id"), target_rows=10_000)
    assert groups is not None and [p for g in groups for p in g] == [str(de), str(us)]


def test_a_file_larger_than_a_partition_is_one_only_while_a_worker_can_hold_it(tmp_path, monkeypatch) -> None:
    """A dataset ingested as one file of a few hundred thousand lines is read whole by one task (a shuffle
    of it on Ray costs many times more); a file beyond FILE_GROUP_MAX_ROWS is spread by hash partitioning."""
    from auditray import engine
    from auditray.engine import file_groups, key_disjoint_groups

    lines = ledger_lines(2_000).sort("entity_id", "journal_id")
    paths = _write_blocks(lines, tmp_path, blocks=2)
    largest = max(pl.scan_parquet(p).select(pl.len()).collect().item() for p in paths)
    keys = ("entity_id", "journal_id")
    assert key_disjoint_groups(paths, keys, target_rows=largest) is not None
    alone = key_disjoint_groups(paths, keys, target_rows=largest - 1)
    assert alone is not None and sorted(p for g in alone for p in g) == sorted(paths)
    groups = file_groups(paths, target_rows=largest - 1)
    assert groups is not None and len(groups) >= 2 and [p for g in groups for p in g] == paths
    monkeypatch.setattr(engine, "FILE_GROUP_MAX_ROWS", largest - 1)
    assert key_disjoint_groups(paths, keys, target_rows=largest - 1) is None
    assert file_groups(paths, target_rows=largest - 1) is None


def test_files_without_statistics_are_not_grouped(tmp_path) -> None:
    import pyarrow.parquet as pq
    from auditray.engine import key_disjoint_groups

    lines = ledger_lines(200).sort("entity_id", "journal_id")
    path = tmp_path / "bare.parquet"
    pq.write_table(lines.to_arrow(), path, write_statistics=False)
    assert key_disjoint_groups([str(path)], ("entity_id", "journal_id"), target_rows=100) is None
