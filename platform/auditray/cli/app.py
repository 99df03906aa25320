"""The Typer application and its command groups; command modules attach to these."""

import typer

app = typer.Typer(
    name="auditray",
    help="Audit analytics on Ray: generate and ingest ledgers, test journal entries, sample, and keep the audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Markdown mode reflows docstring paragraphs instead of keeping their source line breaks.
    rich_markup_mode="markdown",
    add_completion=False,
)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
db_app = typer.Typer(help="The metadata store (SQLite by default, PostgreSQL at scale).", no_args_is_help=True)
datasets_app = typer.Typer(help="Registered datasets.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(datasets_app, name="datasets")
je_app = typer.Typer(help="Journal-entry testing (PCAOB AS 2401 .58-.62, ISA 240 .32, A41-A45).", no_args_is_help=True)
sample_app = typer.Typer(help="Audit sampling: attribute and monetary-unit sampling (AICPA Audit Sampling guide).",
                         no_args_is_help=True)
tb_app = typer.Typer(help="Trial-balance normalization: map, reconcile and draft the statements.", no_args_is_help=True)
corpus_app = typer.Typer(help="The regulation corpus: ingest, search and ask.", no_args_is_help=True)
app.add_typer(je_app, name="je")
app.add_typer(sample_app, name="sample")
app.add_typer(tb_app, name="tb")
app.add_typer(corpus_app, name="corpus")
