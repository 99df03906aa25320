"""``auditray je analyze``: the journal-entry test battery over a ledger, with risk scores and findings.

Thin over ``auditray.je.run.run_je_analysis``; heavy libraries load inside the command, so
``auditray je --help`` stays instant.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from auditray.cli.app import je_app

_ENGINES = ("local", "ray", "auto")
_STAGES = ("account profile", "journal summary", "population statistics", "digit tests", "anomaly model",
           "judging entries", "flagged lines")


@je_app.command("analyze")
def analyze_command(
    input_spec: str = typer.Argument(..., metavar="INPUT",
                                     help="Ledger: a client export (CSV, Excel, Parquet with ADS/SAP/... headers), "
                                          "canonical Parquet (file or directory), or dataset:ID."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (replaced atomically)."),
    engine: str = typer.Option("local", help="local, ray or auto."),
    config: Path = typer.Option(None, exists=True, dir_okay=False,
                                help="Settings file (TOML, YAML or JSON; or an engagement.json facts file)."),
    tb: Path = typer.Option(None, "--tb", exists=True, dir_okay=False,
                            help="Trial balance, for the completeness roll-forward."),
    coa: Path = typer.Option(None, "--coa", exists=True, dir_okay=False,
                             help="Chart of accounts, for sensitive and suspense accounts."),
    engagement: int = typer.Option(None, "--engagement", help="Engagement id: its materiality and period end, and "
                                                              "the findings are filed under it."),
    org: str = typer.Option(None, help="Organization slug (default: the only one)."),
    record: bool = typer.Option(True, "--record/--no-record",
                                help="Register the run and its findings in the store."),
    top: int = typer.Option(10, help="Entries to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Test every journal entry (AS 2401 .58-.62, ISA 240 .32, A41-A45) and rank them by risk.

    Writes OUT/entries.parquet (one row per entry: risk score, band, tests tripped and why),
    OUT/lines.parquet (the lines of flagged entries), OUT/population.json (completeness, control totals,
    gaps, tests not run) and OUT/settings.json (effective settings, code version, input hashes).
    """
    if engine not in _ENGINES:
        raise typer.BadParameter(f"{engine!r}: expected one of {', '.join(_ENGINES)}", param_hint="--engine")
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    from auditray.cli.data_cmds import cli_actor
    from auditray.cli.progress import line_progress
    from auditray.je.run import InputError, run_je_analysis
    from auditray.je.settings import SettingsError

    try:
        with line_progress("journal-entry testing", len(_STAGES)) as advance:
            outcome = run_je_analysis(input_spec, out, engine=engine, config=config, trial_balance=tb, chart=coa,
                                      engagement_id=engagement, org=org, actor=cli_actor(), record=record,
                                      progress=lambda _stage: advance(1))
    except SettingsError as bad:
        raise typer.BadParameter(str(bad), param_hint="--config") from None
    except InputError as bad:
        typer.echo(str(bad), err=True)
        raise typer.Exit(1) from None
    analysis = outcome.analysis
    summary = {
        "out": str(out),
        "engine": analysis.engine,
        "lines": analysis.population["lines"],
        "journals": analysis.population["journals"],
        "risk_bands": analysis.population["risk_bands"],
        "tests_not_run": analysis.not_run,
        "run_id": outcome.run_id,
        "findings_recorded": outcome.findings,
        "note": outcome.note,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    bands = analysis.population["risk_bands"]
    typer.echo(f"{summary['journals']:,} entries ({summary['lines']:,} lines) tested on {analysis.engine}: "
               f"{bands.get('high', 0):,} high, {bands.get('medium', 0):,} medium, {bands.get('low', 0):,} low risk")
    for test_id, reason in sorted(analysis.not_run.items()):
        typer.echo(f"  not run: {test_id}: {reason}")
    completeness = analysis.population["completeness"]
    if completeness.get("checked"):
        verdict = "rolls forward" if completeness["rolls_forward"] else \
            f"{completeness['accounts_with_differences']} account(s) do not roll forward"
        typer.echo(f"  completeness against the trial balance: {verdict}")
    for row in analysis.entries.head(top).iter_rows(named=True):
        reasons = "; ".join(row["explanations"][:2])
        typer.echo(f"  #{row['risk_rank']:<4} {row['entity_id']} {row['journal_id']}  {row['risk_score']:.3f} "
                   f"{row['risk_band']:<6} {', '.join(row['tests'])}: {reasons}")
    if outcome.registered:
        typer.echo(f"run {outcome.run_id} registered; {outcome.findings:,} findings recorded for review")
    elif outcome.note:
        typer.echo(outcome.note)
    typer.echo(f"wrote {out}/entries.parquet, lines.parquet, population.json, settings.json")
