"""``auditray audit ...`` and ``auditray db ...``: the audit trail and the metadata store."""

from __future__ import annotations

import json

import typer

from auditray.cli.app import audit_app, db_app


@audit_app.command("verify")
def audit_verify(as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Walk the hash chain and name the first event that was edited, deleted or reordered.

    Exits 0 when the chain is intact, 1 when it is broken.
    """
    from auditray import audit_trail
    from auditray.store import make_engine, session_scope

    with session_scope(make_engine()) as session:
        result = audit_trail.verify(session)
    if as_json:
        typer.echo(json.dumps({"ok": result.ok, "count": result.count, "message": result.message,
                               "first_bad_seq": result.first_bad_seq, "problem": result.problem}))
    else:
        typer.echo(result.message)
    raise typer.Exit(0 if result.ok else 1)


@audit_app.command("log")
def audit_log(
    action: str = typer.Option(None, help="An action such as dataset.register, or a family such as run.*"),
    resource: str = typer.Option(None, help="A resource type (engagement) or one resource (engagement:3)."),
    org: int = typer.Option(None, help="Only this organization's events."),
    limit: int = typer.Option(50, min=1, max=10_000, help="How many events to show."),
    offset: int = typer.Option(0, min=0, help="How many events to skip."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """List audit-trail events in chain order, filtered and paged."""
    from auditray import audit_trail
    from auditray.store import make_engine, session_scope

    with session_scope(make_engine()) as session:
        rows = audit_trail.events(session, org_id=org, action=action, resource=resource, limit=limit, offset=offset)
        for e in rows:
            if as_json:
                typer.echo(json.dumps({"seq": e.seq, "at": e.at.isoformat(), "org_id": e.org_id, "actor": e.actor,
                                       "action": e.action, "resource": f"{e.resource_type}:{e.resource_id}",
                                       "details": e.details, "hash": e.hash}, default=str))
            else:
                typer.echo(f"{e.seq:>6}  {e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<28} {e.action:<24} "
                           f"{e.resource_type}:{e.resource_id}")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to upgrade to.")) -> None:
    """Create the metadata store, or upgrade an existing one in place (Alembic migrations)."""
    from auditray.settings import get_settings
    from auditray.store import current_revision, init_db, make_engine

    settings = get_settings()
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.resolved_database_url, revision)
    typer.echo(f"store at revision {current_revision(make_engine())}")


@db_app.command("current")
def db_current() -> None:
    """Print the store's schema revision and the revision this code expects."""
    from auditray.store import current_revision, head_revision, make_engine

    typer.echo(f"database: {current_revision(make_engine()) or 'empty'}; code expects: {head_revision()}")
