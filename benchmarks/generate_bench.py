"""Speed and memory of the synthetic ledger generator and of ingestion.

    .venv/bin/python benchmarks/generate_bench.py [--lines 1000000 10000000] [--ingest-lines 1000000]

Each step runs in its own process so its peak resident memory is its own. Prints one line per step:
lines, seconds, lines per second and peak RSS. Figures depend on the machine and on what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATE = """
import json, resource, sys
from auditray.generate import GeneratorConfig, generate_engagement
config = GeneratorConfig(seed=1, n_lines=int(sys.argv[1]), export_formats=tuple(sys.argv[3:]))
result = generate_engagement(config, sys.argv[2])
print(json.dumps({"lines": result.n_lines, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

INGEST = """
import json, resource, sys
from auditray.ingest import stage
staged = stage(sys.argv[1], "gl_detail", staging_dir=sys.argv[2])
print(json.dumps({"lines": staged.rows, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; wall time, and the child's own peak RSS as it reports it."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = seconds
    return result


def report(step: str, figures: dict) -> None:
    lines = figures["lines"]
    print(f"{step:<34} {lines:>12,} lines {figures['seconds']:>8.2f} s {lines / figures['seconds']:>12,.0f} lines/s "
          f"peak RSS {figures['peak_rss_mib']:>7,.0f} MiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--ingest-lines", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for n in sorted(args.lines):
            report("generate (Parquet)", measure(GENERATE, str(n), str(root / f"gen-{n}")))
        export = root / "export"
        measure(GENERATE, str(args.ingest_lines), str(export), "ads_csv")
        csv = export / "exports" / "gl_detail_ads.csv"
        report("ingest ADS CSV (validate + stage)", measure(INGEST, str(csv), str(root / "staging")))


if __name__ == "__main__":
    main()
