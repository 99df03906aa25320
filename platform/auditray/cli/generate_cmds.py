"""``auditray generate``: seeded synthetic engagements with planted anomalies."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from auditray.cli.app import app


@app.command("generate")
def generate(
    out: Path = typer.Argument(..., file_okay=False, help="Directory to write the engagement into."),
    lines: int = typer.Option(200_000, min=3_000, help="Target number of journal-entry lines (streams; 10M+ fine)."),
    entities: int = typer.Option(3, min=1, max=50, help="Number of legal entities."),
    seed: int = typer.Option(42, help="Same seed and options give byte-identical files."),
    fiscal_year: int = typer.Option(2025, help="Calendar year in which the fiscal year ends."),
    anomaly_rate: float = typer.Option(0.02, min=0.0, max=0.2,
                                       help="Share of journals with a planted anomaly; 0 gives a clean ledger."),
    export: list[str] = typer.Option([], help="Also export the GL as ads_csv and/or sap_csv (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write a realistic multi-entity engagement: GL detail (Parquet parts), trial balances, chart of
    accounts, users, engagement facts, and the labels of every planted anomaly in a separate file."""
    from auditray.cli.progress import line_progress
    from auditray.generate import GeneratorConfig, generate_engagement

    try:
        config = GeneratorConfig(seed=seed, n_lines=lines, n_entities=entities, fiscal_year=fiscal_year,
                                 anomaly_rate=anomaly_rate, export_formats=tuple(export))
    except ValueError as bad:
        raise typer.BadParameter(str(bad)) from None
    with line_progress("generating ledger", lines) as advance:
        generated = generate_engagement(config, out, progress=advance)
    summary = generated.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    typer.echo(f"{summary['lines']:,} lines in {summary['journals']:,} journals for {', '.join(summary['entities'])} "
               f"in {summary['elapsed_seconds']}s -> {out}")
    typer.echo(f"{summary['labels']:,} planted anomalies (labels in {generated.labels_csv.name})")
