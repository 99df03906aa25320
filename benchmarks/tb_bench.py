"""Trial-balance normalization at scale: 1,000 trial balances of 500 accounts, mapped and reconciled.

    .venv/bin/python benchmarks/tb_bench.py [--tbs 1000] [--accounts 500] [--lines-per-account 3]
                                            [--engines local,ray] [--partitions N]

Builds ``--tbs`` balanced trial balances (one entity each), every account named in one of the styles the
labelled set holds (US numbered, abbreviations, QuickBooks, Xero, UK, SKR03/04, PCG, PGC, Dutch) and
numbered in its chart's layout, plus a GL of ``--lines-per-account`` lines per account that rolls each
TB forward except for a few planted one-cent breaks. Then, on each engine: maps every TB
(``normalize_trial_balances``, partitioned by entity and period) and reconciles every TB to the GL
(``ACCOUNT_ACTIVITY`` + roll-forward), and checks that Ray gives exactly the local result.

Prints wall-clock seconds and accounts per second. Figures depend on the machine and on whatever else it
runs (the CPU count it saw and the load average are printed).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def build(tbs: int, accounts: int, lines_per_account: int, seed: int, out: Path) -> tuple[Path, Path, int]:
    """Write trial_balance.parquet and gl/part-*.parquet; returns their paths and the planted breaks."""
    import numpy as np
    import polars as pl
    from auditray.contract.money import cents_to_money
    from auditray.tb.labelled import labelled_accounts

    rng = np.random.default_rng(seed)
    pool = labelled_accounts().select("chart_style", "gl_account_number", "gl_account_name", "fsli")
    styles = pool["chart_style"].unique().sort().to_list()
    by_style = {s: pool.filter(pl.col("chart_style") == s) for s in styles}
    frames = []
    for tb in range(tbs):
        style = styles[tb % len(styles)]
        names = by_style[style]
        pick = rng.integers(0, names.height, size=accounts)
        base_numbers = names["gl_account_number"].fill_null("").to_list()
        numbers = []
        for k, i in enumerate(pick):
            stem = base_numbers[i] or f"{1000 + k}"
            numbers.append(f"{stem}-{k:03d}")
        closing = rng.integers(-5_000_000, 5_000_000, size=accounts)
        opening = np.where(rng.random(accounts) < 0.6, closing - rng.integers(-800_000, 800_000, size=accounts), 0)
        closing[-1] -= closing.sum()
        opening[-1] -= opening.sum()
        frames.append(pl.DataFrame({
            "entity_id": f"TB{tb:04d}",
            "fiscal_year": 2025,
            "period": 12,
            "gl_account_number": numbers,
            "gl_account_name": [names["gl_account_name"][int(i)] for i in pick],
            "opening_cents": opening,
            "closing_cents": closing,
        }))
    tb_frame = pl.concat(frames).with_columns(
        pl.col("fiscal_year").cast(pl.Int16), pl.col("period").cast(pl.Int8),
        opening_balance=cents_to_money(pl.col("opening_cents")),
        closing_balance=cents_to_money(pl.col("closing_cents")),
    )
    movement = (tb_frame["closing_cents"] - tb_frame["opening_cents"]).to_numpy()
    n = len(movement)
    # Split each account's movement into lines; plant a one-cent break in about one account in 10,000.
    parts = rng.integers(1, 100, size=(n, lines_per_account)).astype(np.float64)
    parts /= parts.sum(axis=1, keepdims=True)
    lines = np.floor(parts * movement[:, None]).astype(np.int64)
    lines[:, -1] += movement - lines.sum(axis=1)
    breaks = rng.random(n) < 1e-4
    lines[breaks, 0] += 1
    gl = pl.DataFrame({
        "entity_id": np.repeat(tb_frame["entity_id"].to_numpy(), lines_per_account),
        "gl_account_number": np.repeat(tb_frame["gl_account_number"].to_numpy(), lines_per_account),
        "amount_cents": lines.reshape(-1),
    }).with_columns(amount=cents_to_money(pl.col("amount_cents"))).drop("amount_cents")
    tb_path = out / "trial_balance.parquet"
    tb_frame.drop("opening_cents", "closing_cents").write_parquet(tb_path)
    gl_dir = out / "gl"
    gl_dir.mkdir()
    chunk = max(1, gl.height // 8)
    for i, start in enumerate(range(0, gl.height, chunk)):
        gl.slice(start, chunk).write_parquet(gl_dir / f"part-{i:05d}.parquet")
    return tb_path, gl_dir, int(breaks.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tbs", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--lines-per-account", type=int, default=3)
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import polars as pl
    from auditray.settings import Settings
    from auditray.tb.checks import reconcile_to_gl
    from auditray.tb.mapping import mapping_summary
    from auditray.tb.parallel import normalize_trial_balances
    from auditray.tb.service import build_mapper

    print(f"CPUs: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f} (the machine is shared: figures are "
          f"noisy); {args.tbs:,} trial balances x {args.accounts} accounts")
    with tempfile.TemporaryDirectory() as tmp:
        clock = time.perf_counter()
        tb_path, gl_dir, planted = build(args.tbs, args.accounts, args.lines_per_account, args.seed, Path(tmp))
        tb = pl.read_parquet(tb_path)
        print(f"build: {time.perf_counter() - clock:.1f} s; {tb.height:,} TB rows, "
              f"{tb.height * args.lines_per_account:,} GL lines, {planted} planted one-cent breaks")
        clock = time.perf_counter()
        mapper = build_mapper(settings=Settings(data_dir=Path(tmp) / "data"))
        print(f"classifier (trained at first use): {time.perf_counter() - clock:.1f} s")
        results = {}
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            if engine == "ray":
                import ray
                from auditray.engine import ensure_ray

                clock = time.perf_counter()
                ensure_ray()
                print(f"ray start: {time.perf_counter() - clock:.1f} s ({ray.cluster_resources().get('CPU')} CPUs)")
            clock = time.perf_counter()
            mapped = normalize_trial_balances(str(tb_path), mapper, engine=engine, partitions=args.partitions)
            map_seconds = time.perf_counter() - clock
            clock = time.perf_counter()
            reconciliation = reconcile_to_gl(tb, str(gl_dir), engine=engine)
            rec_seconds = time.perf_counter() - clock
            summary = mapping_summary(mapped)
            rec = reconciliation.summary()
            print(f"[{engine}] map: {map_seconds:.1f} s ({mapped.height / map_seconds:,.0f} accounts/s; "
                  f"{summary['mapped']:,} mapped, {summary['needs_review']:,} to review); "
                  f"reconcile: {rec_seconds:.1f} s ({rec['exceptions']} exceptions found, {planted} planted); "
                  f"total {map_seconds + rec_seconds:.1f} s; peak RSS of this process "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
            results[engine] = (mapped, reconciliation.accounts)
        if "local" in results and "ray" in results:
            same_map = results["ray"][0].equals(results["local"][0])
            same_rec = results["ray"][1].equals(results["local"][1])
            print(f"ray == local: mapping {same_map}, reconciliation {same_rec}")


if __name__ == "__main__":
    main()
