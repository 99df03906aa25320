"""The demo engagement as a Ray Job: ``python -m jobs.demo [--lines N] [--engine ray] [--data-dir DIR]``.

Locally it starts Ray itself; under ``ray job submit`` it joins the job's cluster.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jobs  # noqa: F401  (makes auditray importable from an uploaded working_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jobs.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="journal-entry lines to generate")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument("--engine", choices=["local", "ray", "auto"], default="ray", help="batch engine")
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (default ~/.auditray)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    import typer
    from auditray.cli.demo_cmds import run_demo_command

    try:
        run_demo_command(lines=args.lines, seed=args.seed, engine=args.engine, data_dir=args.data_dir,
                         as_json=args.json)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None


if __name__ == "__main__":
    main()
