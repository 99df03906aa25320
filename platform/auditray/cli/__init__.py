"""The ``auditray`` command line: a thin layer over the library.

Command modules import heavy libraries (Ray, torch, LanceDB, even polars) inside the commands
that need them, so ``--help`` and arithmetic commands answer in well under a second.
"""

from auditray.cli.app import app


def main() -> None:
    # Importing the command modules registers their commands on ``app``.
    from auditray.cli import commands  # noqa: F401

    app()


__all__ = ["app", "main"]
