"""The Typer application and its command groups; command modules attach to these."""

import typer

app = typer.Typer(
    name="auditray",
    help="Audit analytics on Ray: generate and ingest ledgers, test journal entries, sample, and keep the audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
db_app = typer.Typer(help="The metadata store (SQLite by default, PostgreSQL at scale).", no_args_is_help=True)
datasets_app = typer.Typer(help="Registered datasets.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(datasets_app, name="datasets")
