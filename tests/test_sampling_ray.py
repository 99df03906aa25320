"""Monetary-unit selection on Ray Data picks the same items as the local engine.

The population is shuffled across several Parquet files, so the cumulative monetary units every
hit depends on cross file and block boundaries; the Ray engine must still agree with the local
engine item for item, reason for reason, and on the population's fingerprint.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from auditray.sampling import PopulationError
from auditray.sampling.distributed import select_mus_ray
from auditray.sampling.select import select_sample

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def split_population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auditray.generate import GeneratorConfig, generate_engagement

    out = tmp_path_factory.mktemp("mus-ray")
    generate_engagement(GeneratorConfig(seed=5, n_lines=20_000, export_formats=()), out / "generated")
    ledger = pl.read_parquet(sorted((out / "generated" / "gl_detail").glob("*.parquet")))
    parts = out / "population"
    parts.mkdir()
    for i, part in enumerate(ledger.sample(fraction=1.0, shuffle=True, seed=1).iter_slices(5_500)):
        part.write_parquet(parts / f"part-{i}.parquet")
    return parts


@pytest.mark.parametrize(("selection", "absolute"), [("fixed", False), ("cell", True)])
def test_ray_selects_the_same_items_as_the_local_engine(ray_session, split_population: Path, selection: str,
                                                        absolute: bool) -> None:
    files = sorted(str(p) for p in split_population.glob("*.parquet"))
    assert len(files) == 4
    local = select_sample("mus", split_population, seed=13, sample_size=120, selection=selection, absolute=absolute)
    on_ray = select_mus_ray(files, seed=13, sample_size=120, method=selection, absolute=absolute,
                            source=str(split_population), partitions=3)
    assert on_ray.items.equals(local.items)
    assert on_ray.size >= 100
    for part in ("population", "derived", "seed", "selected_items"):
        assert on_ray.documentation[part] == local.documentation[part], part
    assert on_ray.documentation["parameters"]["engine"] == "ray"


def test_ray_refuses_duplicate_keys_across_files(ray_session, split_population: Path, tmp_path: Path) -> None:
    first = pl.read_parquet(split_population / "part-0.parquet")
    first.head(1).write_parquet(tmp_path / "again.parquet")
    files = [*sorted(str(p) for p in split_population.glob("*.parquet")), str(tmp_path / "again.parquet")]
    with pytest.raises(PopulationError, match="not unique") as refused:
        select_mus_ray(files, seed=1, sample_size=10, partitions=2)
    assert f"{tmp_path / 'again.parquet'}, row 1" in str(refused.value)


def test_ray_names_the_file_and_row_of_a_bad_amount(ray_session, tmp_path: Path) -> None:
    pl.DataFrame({"invoice": ["A", "B"], "book_value": ["10.00", "1.005"]}).write_parquet(tmp_path / "p.parquet")
    with pytest.raises(PopulationError) as refused:
        select_mus_ray([str(tmp_path / "p.parquet")], seed=1, sample_size=1)
    assert refused.value.problems[0][1:3] == (2, "book_value")
