"""Many trial balances at once: Ray Data gives exactly the local engine's mapping and reconciliation."""

from __future__ import annotations

import polars as pl
import pytest
from auditray.tb.checks import reconcile_to_gl
from auditray.tb.parallel import normalize_trial_balances

from tests.tb_helpers import mapper

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engagement(tmp_path_factory: pytest.TempPathFactory):
    from auditray.generate import GeneratorConfig, generate_engagement

    return generate_engagement(GeneratorConfig(seed=21, n_lines=16_000, n_entities=4),
                               tmp_path_factory.mktemp("tb_parallel"))


def test_local_and_ray_map_every_entity_and_period_identically(ray_session: None, engagement, tmp_path) -> None:
    current = pl.read_parquet(engagement.trial_balance)
    prior = pl.read_parquet(engagement.trial_balance_prior)
    both = pl.concat([current, prior])
    chart = pl.read_parquet(engagement.chart_of_accounts)
    files = [tmp_path / "tb.parquet", tmp_path / "tb_prior.parquet"]
    current.write_parquet(files[0])
    prior.write_parquet(files[1])
    the_mapper = mapper().with_context()
    local = normalize_trial_balances(both, the_mapper, chart=chart, engine="local")
    on_ray = normalize_trial_balances([str(f) for f in files], the_mapper, chart=chart, engine="ray", partitions=3)
    assert local.height == both.height == on_ray.height
    assert local.select(pl.struct("entity_id", "fiscal_year", "period").n_unique()).item() == 8
    assert on_ray.equals(local)


def test_local_and_ray_reconcile_identically(ray_session: None, engagement) -> None:
    tb = pl.read_parquet(engagement.trial_balance)
    gl = engagement.out_dir / "gl_detail"
    local = reconcile_to_gl(tb, gl, engine="local")
    on_ray = reconcile_to_gl(tb, gl, engine="ray")
    assert local.reconciled
    assert on_ray.accounts.equals(local.accounts)
    assert on_ray.totals.equals(local.totals)
