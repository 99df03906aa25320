"""Journal-entry testing speed and memory at 1M, 3M and 10M lines, beside a bare polars pass.

    .venv/bin/python benchmarks/je_bench.py                      # 1M, 3M, 10M; local and Ray
    .venv/bin/python benchmarks/je_bench.py --sizes 1m --engines local

For each size (a generated ledger, seed 11, anomaly rate 0.5 %, canonical Parquet) it measures, each in a
fresh process so that peak memory is that measurement's own:

- ``baseline``: one bare polars pass over the same Parquet: read, group by journal id, sum the amounts;
- ``battery``: the whole rule battery (population checks, statistics, the 22 rule-based tests, digit tests,
  scoring, outputs in memory) with the model switched off;
- ``analysis``: the whole analysis, model included (``ml`` = analysis - battery);
- ``analysis_ray``: the whole analysis on the Ray engine (a local Ray started in the process; its workers'
  memory is not in the peak, which is the driver's resident set; the driver's private peak, without the
  object-store pages it has read, is printed beside it).

Targets on the 2-core machine the issue names: battery within 5x the baseline, the whole analysis under
30 s for 10M lines, peak memory under 3 GiB, time linear in lines. The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

SIZES = {"1m": 1_000_000, "3m": 3_000_000, "10m": 10_000_000}


class PrivateMemory:
    """The process's peak private (anonymous) memory, sampled every 50 ms from /proc/self/status.

    On Ray the driver's resident set also counts the object-store pages it has read (shared memory that the
    store, not the driver, owns): this is the part that is the driver's alone."""

    def __init__(self) -> None:
        import threading

        self.peak, self._done = 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("RssAnon:"):
                        self.peak = max(self.peak, int(line.split()[1]) * 1024)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def measure(kind: str, source: str) -> dict:
    import polars as pl

    started = time.perf_counter()
    extra: dict = {}
    if kind == "baseline":
        files = sorted(str(p) for p in Path(source).rglob("*.parquet"))
        out = pl.scan_parquet(files).group_by("entity_id", "journal_id").agg(pl.col("amount").sum()).collect()
        extra["journals"] = out.height
    else:
        from auditray.je.analyze import analyze
        from auditray.je.settings import JETestSettings

        settings = JETestSettings(ml_enabled=(kind != "battery"))
        engine = "ray" if kind == "analysis_ray" else "local"
        watcher = None
        if engine == "ray":
            import ray

            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
            watcher = PrivateMemory()
            started = time.perf_counter()
        analysis = analyze(source, settings=settings, engine=engine)
        extra = {"journals": analysis.entries.height, "stages": analysis.timings,
                 "flagged": int((analysis.entries["risk_score"] > 0).sum())}
        if watcher is not None:
            extra["private_peak_bytes"] = watcher.stop()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"kind": kind, "seconds": round(seconds, 3), "peak_bytes": peak, **extra}


def ensure_ledger(root: Path, name: str, lines: int) -> Path:
    target = root / f"je-{name}"
    if not (target / "gl_detail").is_dir():
        from auditray.generate import GeneratorConfig, generate_engagement

        print(f"generating {lines:,} lines into {target} ...", flush=True)
        generate_engagement(GeneratorConfig(seed=11, n_lines=lines, anomaly_rate=0.005), target)
    return target / "gl_detail"


def run_child(kind: str, source: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--measure", kind, "--source", str(source)],
                            capture_output=True, text=True, check=False)
    # Ray's workers may still log after the measurement's own line: the result is the last JSON line.
    lines = [line for line in result.stdout.strip().splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} on {source} failed (exit {result.returncode}):\n{result.stdout[-1000:]}\n"
                           f"{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,3m,10m", help="comma-separated: 1m, 3m, 10m")
    parser.add_argument("--engines", default="local,ray", help="comma-separated: local, ray")
    parser.add_argument("--kinds", default=None,
                        help="comma-separated subset of baseline, battery, analysis, analysis_ray")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "auditray-bench")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.source)))
        return

    engines = args.engines.split(",")
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} (shared machine: figures are noisy)")
    rows = []
    for name in args.sizes.split(","):
        source = ensure_ledger(args.data_dir, name, SIZES[name])
        kinds = ["baseline", "battery", "analysis"] + (["analysis_ray"] if "ray" in engines else [])
        if args.kinds:
            kinds = ["baseline", *[k for k in args.kinds.split(",") if k != "baseline"]]
        results = {kind: run_child(kind, source) for kind in kinds}
        lines = SIZES[name]
        base = results["baseline"]["seconds"]
        for kind, r in results.items():
            rows.append((name, kind, r["seconds"], lines / r["seconds"], r["seconds"] / base, r["peak_bytes"] / 2**30))
            if "private_peak_bytes" in r:
                print(f"{name} {kind}: driver peak {r['peak_bytes'] / 2**30:.2f} GiB resident, of which private "
                      f"(not object-store pages) at most {r['private_peak_bytes'] / 2**30:.2f} GiB", flush=True)
            if "stages" in r:
                print(f"{name} {kind}: stages {json.dumps(r['stages'])}", flush=True)
        if "analysis" in results and "battery" in results:
            ml = results["analysis"]["seconds"] - results["battery"]["seconds"]
            rows.append((name, "ml (analysis - battery)", ml, lines / ml if ml > 0 else float("nan"), ml / base, None))

    print(f"\n{'size':<5} {'measurement':<25} {'seconds':>9} {'lines/s':>12} {'x baseline':>11} {'peak GiB':>9}")
    for name, kind, seconds, rate, ratio, peak in rows:
        peak_text = f"{peak:9.2f}" if peak is not None else f"{'':>9}"
        print(f"{name:<5} {kind:<25} {seconds:9.2f} {rate:12,.0f} {ratio:11.2f} {peak_text}")


if __name__ == "__main__":
    main()
