"""Commands about the platform itself: its settings and its data contract."""

from __future__ import annotations

import json

import typer

from auditray.cli.app import app


@app.command("settings")
def show_settings(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Show the effective settings (AUDITRAY_* variables and the AUDITRAY_CONFIG file), secrets masked."""
    from auditray.settings import get_settings

    described = get_settings().describe()
    if as_json:
        typer.echo(json.dumps(described, indent=2))
        return
    width = max(map(len, described))
    for key, value in described.items():
        typer.echo(f"{key.ljust(width)}  {value}")


@app.command("contract")
def show_contract(
    kind: str = typer.Argument(None, help="gl_detail, trial_balance or chart_of_accounts; all when omitted."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the contract document as Markdown."),
) -> None:
    """Show the canonical schemas every dataset is validated against (AICPA Audit Data Standards)."""
    from auditray.contract import KINDS, contract_for
    from auditray.contract.docs import render_markdown, render_table

    if markdown:
        typer.echo(render_markdown() if kind is None else render_table(contract_for(kind)), nl=False)
        return
    for c in [contract_for(kind)] if kind else KINDS.values():
        typer.echo(f"{c.kind} (ADS {c.ads_table}); key: {', '.join(c.key)}")
        for f in c.fields:
            flag = "required" if f.required else "optional"
            typer.echo(f"  {f.name:<24} {f.type!s:<18} {flag:<9} {f.ads_name}")
