"""Journal-entry testing as a Ray Job: ``python -m jobs.je_analyze INPUT --out DIR [--engine ray] ...``.

The same analysis as ``auditray je analyze`` (same options, same outputs, same run and findings in the
store), with the Ray engine by default. Locally it starts Ray itself; under ``ray job submit`` it joins
the job's cluster.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jobs  # noqa: F401  (makes auditray importable from an uploaded working_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jobs.je_analyze", description=__doc__.splitlines()[0])
    parser.add_argument("input", help="ledger file (any format ingestion accepts), canonical Parquet, or dataset:ID")
    parser.add_argument("--out", type=Path, required=True, help="output directory (replaced atomically)")
    parser.add_argument("--engine", choices=["local", "ray", "auto"], default="ray", help="batch engine")
    parser.add_argument("--config", type=Path, default=None, help="settings file (TOML, YAML or JSON)")
    parser.add_argument("--tb", type=Path, default=None, help="trial balance, for the completeness check")
    parser.add_argument("--coa", type=Path, default=None, help="chart of accounts")
    parser.add_argument("--engagement", type=int, default=None, help="engagement id")
    parser.add_argument("--org", default=None, help="organization slug (default: the only one)")
    parser.add_argument("--no-record", action="store_true", help="do not register the run and its findings")
    parser.add_argument("--actor", default="job:je_analyze", help="who the audit trail names")
    args = parser.parse_args(argv)

    from auditray.je.run import InputError, run_je_analysis
    from auditray.je.settings import SettingsError

    try:
        outcome = run_je_analysis(args.input, args.out, engine=args.engine, config=args.config, trial_balance=args.tb,
                                  chart=args.coa, engagement_id=args.engagement, org=args.org, actor=args.actor,
                                  record=not args.no_record, progress=lambda stage: print(f"... {stage}", flush=True))
    except (InputError, SettingsError) as bad:
        parser.exit(2, f"{bad}\n")
    population = outcome.analysis.population
    print(json.dumps({"out": str(args.out), "engine": outcome.analysis.engine, "journals": population["journals"],
                      "lines": population["lines"], "risk_bands": population["risk_bands"],
                      "tests_not_run": outcome.analysis.not_run, "run_id": outcome.run_id,
                      "findings_recorded": outcome.findings, "note": outcome.note}, indent=2))


if __name__ == "__main__":
    main()
