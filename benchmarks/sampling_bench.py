"""Audit sampling speed: the arithmetic commands, and monetary-unit selection local vs on Ray.

    .venv/bin/python benchmarks/sampling_bench.py [--lines 2000000] [--partitions 4]

Prints wall-clock seconds (and the local engine's peak memory) for: generating the ledger,
fingerprinting the population, MUS selection on the local engine, MUS selection on Ray (same
items, checked), and the sample-size / evaluation commands as a user runs them. Figures depend
on the machine and on whatever else it runs; the script prints the CPU count it saw.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--sample-size", type=int, default=200)
    args = parser.parse_args()

    from auditray.generate import GeneratorConfig, generate_engagement
    from auditray.sampling.distributed import select_mus_ray
    from auditray.sampling.population import load_population
    from auditray.sampling.selection import select_mus

    print(f"CPUs: {os.cpu_count()}; lines: {args.lines:,}")
    with tempfile.TemporaryDirectory() as tmp:
        clock = time.perf_counter()
        generate_engagement(GeneratorConfig(seed=1, n_lines=args.lines, export_formats=()), Path(tmp))
        files = sorted(str(p) for p in (Path(tmp) / "gl_detail").glob("*.parquet"))
        print(f"generate: {time.perf_counter() - clock:.1f} s, {len(files)} Parquet files")

        clock = time.perf_counter()
        population = load_population(files)
        print(f"load + validate + canonical order + SHA-256: {time.perf_counter() - clock:.1f} s "
              f"({population.size:,} items)")
        clock = time.perf_counter()
        local = select_mus(population, sample_size=args.sample_size, seed=7)
        print(f"MUS selection, local engine: {time.perf_counter() - clock:.2f} s ({local.size} items); peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

        import ray

        clock = time.perf_counter()
        ray.init(include_dashboard=False, log_to_driver=False)
        print(f"ray.init: {time.perf_counter() - clock:.1f} s")
        for attempt in (1, 2):
            clock = time.perf_counter()
            on_ray = select_mus_ray(files, sample_size=args.sample_size, seed=7, partitions=args.partitions)
            print(f"MUS selection on Ray (read, sample sort, fingerprint, select; run {attempt}): "
                  f"{time.perf_counter() - clock:.1f} s; same items as local: {on_ray.items.equals(local.items)}; "
                  f"same fingerprint: {on_ray.documentation['population']['sha256'] == population.sha256}")
        ray.shutdown()

    for argv in (["sample", "size", "attribute", "--tolerable-rate", "0.05", "--expected-rate", "0.0175", "--json"],
                 ["sample", "size", "mus", "--population-value", "3000000", "--tolerable-misstatement", "125000",
                  "--expected-misstatement", "25000", "--json"],
                 ["sample", "evaluate", "attribute", "--sample-size", "200", "--deviations", "4", "--json"]):
        clock = time.perf_counter()
        subprocess.run([sys.executable, "-m", "auditray.cli", *argv], check=True, capture_output=True)
        print(f"auditray {' '.join(argv[:3])}: {time.perf_counter() - clock:.2f} s (whole process)")


if __name__ == "__main__":
    main()
