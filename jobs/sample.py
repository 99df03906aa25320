"""Audit sampling as a Ray Job: ``python -m jobs.sample select mus DATA --sample-size N --engine ray ...``.

The arguments are those of ``auditray sample`` (``size``, ``evaluate``, ``select``), so a selection
submitted to a cluster is the one an auditor would get at a terminal, stored with its run when
``--engagement`` is given. Locally it starts Ray itself; under ``ray job submit`` it joins the
job's cluster. Example::

    ray job submit --working-dir . -- python -m jobs.sample select mus s3://bucket/ledger \\
        --tolerable-misstatement 250000 --expected-misstatement 25000 --seed 42 --engine ray \\
        --engagement 7 --json
"""

from __future__ import annotations

import sys

import jobs  # noqa: F401  (makes auditray importable from an uploaded working_dir)


def main(argv: list[str] | None = None) -> None:
    from auditray.cli import commands  # noqa: F401  (registers the command modules)
    from auditray.cli.app import app

    args = list(sys.argv[1:] if argv is None else argv)
    app(args=["sample", *args], prog_name="python -m jobs.sample")


if __name__ == "__main__":
    main()
