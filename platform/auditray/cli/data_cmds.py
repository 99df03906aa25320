"""``auditray ingest`` and ``auditray datasets ...``: client files in, registered datasets out."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer

from auditray.cli.app import app, datasets_app

KINDS_HELP = "gl_detail (journal-entry lines), trial_balance or chart_of_accounts."


def cli_actor() -> str:
    """Who the audit trail names for work done at this terminal."""
    return f"cli:{getpass.getuser()}"


def resolve_org(session, slug: str | None) -> int:
    """The organization named by --org, or the only one there is."""
    from sqlmodel import select

    from auditray.store import Organization

    orgs = session.exec(select(Organization)).all()
    if slug:
        for org in orgs:
            if org.slug == slug:
                return org.id
        raise typer.BadParameter(f"no organization with slug {slug!r}", param_hint="--org")
    if len(orgs) == 1:
        return orgs[0].id
    if not orgs:
        raise typer.BadParameter("the store has no organization yet; run `auditray demo` first", param_hint="--org")
    raise typer.BadParameter(f"pick one of {', '.join(o.slug for o in orgs)}", param_hint="--org")


@app.command("ingest")
def ingest_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, Parquet or Excel file."),
    kind: str = typer.Option("gl_detail", "--kind", "-k", help=KINDS_HELP),
    mapping: Path = typer.Option(None, exists=True, dir_okay=False,
                                 help="Column-mapping file (YAML, JSON or TOML) for exports not recognised."),
    entity: str = typer.Option(None, help="Entity id for files without a Business_Unit_Code/BUKRS column (default: DEFAULT)."),
    org: str = typer.Option(None, help="Organization slug (default: the only one)."),
    engagement: int = typer.Option(None, help="Engagement id the dataset is evidence for."),
    name: str = typer.Option(None, help="Dataset name (default: the file name)."),
    period_end: str = typer.Option(
        None, "--period-end", metavar="YYYY-MM-DD",
        help="Trial balance period end when the file has no fiscal year/period columns (default: the date "
             "in the report title, e.g. 'As of December 31, 2025'); fiscal year and period assume a calendar year."),
    check: bool = typer.Option(False, "--check", help="Only validate and print the report; store nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report or the dataset as JSON."),
) -> None:
    """Validate a client export against the data contract and register it as a dataset.

    Headers are recognised for the AICPA Audit Data Standard, SAP (BKPF/BSEG), QuickBooks, Xero and
    NetSuite exports; otherwise pass --mapping. Every problem is reported at once by file, row and
    column, and a rejected file leaves nothing behind. Exits 1 when the file is rejected.
    """
    from auditray.ingest import IngestError, validate_source

    end = _period_end(period_end)
    if check:
        report = validate_source(path, kind, mapping=mapping, entity_id=entity, period_end=end)
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str) if as_json else str(report))
        raise typer.Exit(0 if report.ok else 1)

    from auditray import datasets
    from auditray.settings import get_settings
    from auditray.store import init_db, make_engine, session_scope

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.resolved_database_url)
    with session_scope(make_engine()) as session:
        org_id = resolve_org(session, org)
    try:
        dataset = datasets.ingest(path, kind, org_id=org_id, actor=cli_actor(), engagement_id=engagement,
                                  name=name, mapping=mapping, entity_id=entity, settings=settings,
                                  period_end=end)
    except IngestError as rejected:
        typer.echo(json.dumps(rejected.report.to_dict(), indent=2, default=str) if as_json else str(rejected),
                   err=True)
        raise typer.Exit(1) from None
    except datasets.DuplicateDataset as duplicate:
        typer.echo(str(duplicate), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(dataset.model_dump_json(indent=2))
    else:
        typer.echo(f"registered dataset {dataset.id}: {dataset.kind}, {dataset.row_count:,} rows, "
                   f"sha256 {dataset.content_sha256[:16]}..., at {dataset.uri}")


def _period_end(text: str | None):
    """--period-end as a date, or a clear error naming the option."""
    if text is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2025-12-31", param_hint="--period-end") from None


@datasets_app.command("list")
def list_datasets(
    org: str = typer.Option(None, help="Organization slug (default: the only one)."),
    engagement: int = typer.Option(None, help="Only this engagement's datasets."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """List registered datasets with their row counts, schema versions and content hashes."""
    from auditray.store import make_engine, session_scope
    from auditray.store.services import list_datasets as query

    with session_scope(make_engine()) as session:
        org_id = resolve_org(session, org)
        rows = query(session, org_id=org_id, engagement_id=engagement)
    for d in rows:
        if as_json:
            typer.echo(d.model_dump_json())
        else:
            typer.echo(f"{d.id:>5}  {d.kind:<18} {d.row_count:>12,}  v{d.schema_version}  "
                       f"{d.content_sha256[:16]}  {d.name}")
