"""``auditray demo``: the demo engagement end to end on the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from auditray.cli.app import app


@app.command("demo")
def demo(
    lines: int = typer.Option(200_000, min=20_000, help="Journal-entry lines to generate."),
    seed: int = typer.Option(42, help="Generator seed: the same seed gives the same engagement."),
    engine: str = typer.Option("ray", help="local, ray or auto: where the batch computations run."),
    data_dir: Path = typer.Option(None, help="Data directory (default: AUDITRAY_DATA_DIR or ~/.auditray)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON at the end."),
) -> None:
    """Run a demo engagement: firm, team, engagement, synthetic ledger, ingestion, completeness, journal-entry
    testing with findings recorded, trial-balance mapping, a controls-test sample, audit trail."""
    run_demo_command(lines=lines, seed=seed, engine=engine, data_dir=data_dir, as_json=as_json)


def run_demo_command(*, lines: int, seed: int, engine: str, data_dir: Path | None, as_json: bool) -> None:
    """Shared by ``auditray demo`` and the ``jobs.demo`` Ray Job entrypoint."""
    from auditray.cli.progress import line_progress
    from auditray.demo import run_demo
    from auditray.settings import Settings, get_settings

    settings = Settings(data_dir=data_dir) if data_dir else get_settings()
    if engine not in ("local", "ray", "auto"):
        raise typer.BadParameter("expected local, ray or auto", param_hint="--engine")
    typer.echo(f"Auditray demo on {'the embedded default' if settings.is_embedded else 'the configured cluster'}: "
               f"data in {settings.data_dir}, store {settings.describe()['database_url']}")
    with line_progress("generating ledger", lines) as advance:
        result = run_demo(settings, lines=lines, seed=seed, engine=engine, say=typer.echo, progress=advance)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    ok = result.audit_trail_ok and result.roll_forward_differences == 0
    typer.echo(f"Demo {'completed' if ok else 'FAILED'} in {sum(result.timings.values()):.1f}s {result.timings}")
    raise typer.Exit(0 if ok else 1)
