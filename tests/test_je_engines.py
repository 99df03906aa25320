"""One analysis, two engines: local and Ray give the same flags, the same scores and the same reasons.

Population statistics are map + combine computations, entries are judged per partition against them, and
the model is fitted once on the driver: however Ray partitions the ledger, every entry's result is the same.
"""

from __future__ import annotations

import pytest
from auditray.engine import key_disjoint_groups
from auditray.generate import GeneratorConfig, generate_engagement
from auditray.je.analyze import analyze
from polars.testing import assert_frame_equal


@pytest.mark.slow
def test_local_and_ray_engines_give_identical_results(ray_session, tmp_path) -> None:
    generated = generate_engagement(GeneratorConfig(seed=8, n_lines=8_000, n_entities=2, anomaly_rate=0.02),
                                    tmp_path / "ledger")
    source = tmp_path / "ledger" / "gl_detail"
    local = analyze(source, engine="local")
    distributed = analyze(source, engine="ray", partitions=3)
    assert distributed.engine == "ray"
    assert local.entries.height == generated.n_journals
    assert local.entries["tests"].list.len().sum() > 0
    # The digit tests' two passes (counts, then the lines behind the nonconforming subsets) run on the engine.
    assert local.entries["tests"].list.contains("benford_outlier").sum() > 0
    assert_frame_equal(local.entries, distributed.entries)
    assert_frame_equal(local.lines, distributed.lines)
    assert local.population == distributed.population
    assert local.not_run == distributed.not_run
    # Left to itself, Ray reads the generator's journal-ordered files group by group, with no shuffle.
    assert key_disjoint_groups(source, ("entity_id", "journal_id"), target_rows=1_000) is not None
    by_files = analyze(source, engine="ray")
    assert_frame_equal(local.entries, by_files.entries)
    assert_frame_equal(local.lines, by_files.lines)
    assert local.population == by_files.population


@pytest.mark.slow
def test_the_engines_agree_on_a_ledger_that_names_its_accounts_and_references_its_documents(ray_session,
                                                                                             tmp_path) -> None:
    """The fields only some exports carry (the account's name on every line, the source document's reference)
    are read on Ray as locally: the account profile's one pass on Ray reads the names too."""
    import polars as pl

    generate_engagement(GeneratorConfig(seed=9, n_lines=8_000, n_entities=2, anomaly_rate=0.02), tmp_path / "ledger")
    lines = pl.read_parquet(tmp_path / "ledger" / "gl_detail")
    chart = pl.read_parquet(tmp_path / "ledger" / "chart_of_accounts.parquet").select(
        "entity_id", "gl_account_number", named="gl_account_name")
    lines = (lines.join(chart, on=["entity_id", "gl_account_number"], how="left")
             .with_columns(gl_account_name=pl.col("named"),
                           document_reference=pl.when(~pl.col("manual_entry"))
                           .then(pl.format("REF-{}", pl.col("journal_id"))))
             .drop("named"))
    source = tmp_path / "named"
    source.mkdir()
    for number, part in enumerate(lines.partition_by("entity_id", maintain_order=True)):
        part.write_parquet(source / f"part-{number}.parquet")
    local = analyze(source, engine="local")
    distributed = analyze(source, engine="ray", partitions=3)
    assert local.accounts["line_name"].drop_nulls().len() > 0
    assert_frame_equal(local.accounts, distributed.accounts)
    assert_frame_equal(local.entries, distributed.entries)
    assert local.population == distributed.population
