"""``auditray tb ...``: map a trial balance to the standard chart, override, reconcile, draft statements."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer

from auditray.cli.app import tb_app

CLIENT_HELP = "Client key: its saved overrides and last period's mapping are used, and this run is saved."
TB_HELP = ("Trial balance: any file ingestion accepts (CSV, Parquet, Excel; ADS, QuickBooks, Xero, NetSuite "
           "headers or a --mapping file), or a mapped TB written by `auditray tb map`.")


def _decimal(value: str | None, param: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{value!r} is not an amount", param_hint=param) from None
    if not amount.is_finite() or amount < 0:
        raise typer.BadParameter(f"{value!r} must be a non-negative amount", param_hint=param)
    return amount


def _read_tb(path: Path, *, mapping: Path | None, entity: str | None, fiscal_year: int | None, period: int | None,
             period_end: str | None = None, param: str = "INPUT"):
    from auditray.ingest import IngestError
    from auditray.tb.io import read_trial_balance

    try:
        return read_trial_balance(path, mapping=mapping, entity_id=entity, fiscal_year=fiscal_year, period=period,
                                  period_end=period_end)
    except IngestError as rejected:
        hint = ""
        if "fiscal_year" in str(rejected) or "period" in str(rejected):
            hint = ("\nHint: an export without fiscal year/period columns and without an 'As of <date>' title "
                    "needs --period-end YYYY-MM-DD (or --fiscal-year and --period).")
        raise typer.BadParameter(f"{rejected}{hint}", param_hint=param) from None


def _store(org: str | None):
    from auditray.cli.data_cmds import resolve_org
    from auditray.settings import get_settings
    from auditray.store import init_db, make_engine, session_scope

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.resolved_database_url)
    db = make_engine(settings.resolved_database_url)
    with session_scope(db) as session:
        org_id = resolve_org(session, org)
    return db, org_id, settings


def _echo_review(mapped, limit: int = 20) -> None:
    import polars as pl

    review = mapped.filter(pl.col("needs_review"))
    if review.is_empty():
        return
    typer.echo(f"Needs review ({review.height}):")
    for row in review.head(limit).iter_rows(named=True):
        typer.echo(f"  {row['entity_id']} {row['gl_account_number']:<10} {str(row['gl_account_name'])[:40]:<40} "
                   f"suggested {row['suggested_fsli'] or '-':<30} {row['confidence']:.2f}  {row['mapping_reason']}")
    if review.height > limit:
        typer.echo(f"  ... and {review.height - limit} more (see the output file)")


@tb_app.command("map")
def tb_map(
    input_path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="INPUT", help=TB_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .parquet, .csv or .json."),
    client: str = typer.Option(None, "--client", help=CLIENT_HELP),
    org: str = typer.Option(None, help="Organization slug (default: the only one); with --client."),
    engagement: int = typer.Option(None, help="Engagement the mapping is evidence for; with --client."),
    entity: str = typer.Option(None, help="Entity id for files without a Business_Unit_Code column."),
    fiscal_year: int = typer.Option(None, "--fiscal-year", help="Fiscal year for exports without one."),
    period: int = typer.Option(None, "--period", min=1, max=99, help="Period for exports without one."),
    period_end: str = typer.Option(None, "--period-end", help="Period-end date (YYYY-MM-DD) for TB exports without one."),
    mapping: Path = typer.Option(None, exists=True, dir_okay=False, help="Column-mapping file for the export."),
    chart: Path = typer.Option(None, exists=True, dir_okay=False,
                               help="The client's chart of accounts: its account types narrow the mapping."),
    rules: list[Path] = typer.Option(None, "--rules", exists=True, dir_okay=False,
                                     help="Client or industry rule file(s) (YAML), ahead of the defaults."),
    industry: str = typer.Option(None, help="A shipped industry rule set (saas, construction)."),
    threshold: float = typer.Option(0.7, min=0.01, max=1.0, help="Below this confidence an account goes to review."),
    retrain: bool = typer.Option(False, "--retrain", help="Retrain the classifier with the firm's overrides."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Map each account to a standard-chart line item: fsli, confidence, mapping_source, needs_review.

    Layers: the client's overrides, last period's mapping, keyword and account-number rules, then the
    classifier. Below --threshold nothing is guessed: the account is flagged for review with a suggestion.
    With --client the run is saved and recorded in the audit trail.
    """
    if out.suffix.lower() not in (".parquet", ".csv", ".json"):
        raise typer.BadParameter("write .parquet, .csv or .json", param_hint="--out")
    if (engagement or retrain or org) and not client:
        raise typer.BadParameter("--engagement, --org and --retrain work with --client", param_hint="--client")
    from auditray.tb.rules import RuleError

    tb = _read_tb(input_path, mapping=mapping, entity=entity, fiscal_year=fiscal_year, period=period, period_end=period_end)
    chart_frame = None
    if chart is not None:
        from auditray.ingest import IngestError
        from auditray.tb.io import read_chart

        try:
            chart_frame = read_chart(chart, entity_id=entity)
        except IngestError as rejected:
            raise typer.BadParameter(str(rejected), param_hint="--chart") from None
    from auditray.tb.io import write_table
    from auditray.tb.mapping import mapping_summary

    try:
        if client:
            from auditray.cli.data_cmds import cli_actor
            from auditray.tb.service import map_for_client

            db, org_id, settings = _store(org)
            result = map_for_client(tb, db=db, org_id=org_id, client_key=client, actor=cli_actor(),
                                    rule_files=rules or (), industry=industry, threshold=threshold, retrain=retrain,
                                    chart=chart_frame, engagement_id=engagement, source_name=input_path.name,
                                    settings=settings)
            mapped, recorded = result.mapped, result.recorded
        else:
            from auditray.tb.parallel import normalize_trial_balances
            from auditray.tb.service import build_mapper

            mapped = normalize_trial_balances(tb, build_mapper(rule_files=rules or (), industry=industry,
                                                               threshold=threshold), chart=chart_frame)
            recorded = None
    except RuleError as error:
        raise typer.BadParameter(str(error), param_hint="--rules") from None
    write_table(mapped, out)
    summary = {**mapping_summary(mapped), "out": str(out),
               "recorded": bool(recorded), "output_sha256": recorded["output_sha256"] if recorded else None}
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    by_source = ", ".join(f"{k} {v}" for k, v in summary["by_source"].items())
    typer.echo(f"{summary['accounts']} accounts: {summary['mapped']} mapped ({by_source}); "
               f"{summary['needs_review']} need review. Written to {out}")
    if recorded:
        typer.echo(f"Saved for client {client!r}; audit event tb.mapping_run, decisions {recorded['output_sha256'][:16]}")
    else:
        typer.echo("Not saved: pass --client to keep this mapping for next period and record it in the audit trail.")
    _echo_review(mapped)


@tb_app.command("override")
def tb_override(
    client: str = typer.Argument(..., help="Client key."),
    account: str = typer.Argument(..., help="The client's account number."),
    fsli: str = typer.Argument(None, help="Standard-chart line item (see `auditray tb chart`)."),
    reason: str = typer.Option(..., "--reason", help="Why: the file must show the auditor's judgement."),
    name: str = typer.Option(None, "--name", help="The account's name (used to retrain the classifier)."),
    remove: bool = typer.Option(False, "--remove", help="Withdraw the override instead."),
    org: str = typer.Option(None, help="Organization slug (default: the only one)."),
    engagement: int = typer.Option(None, help="Engagement the decision belongs to."),
) -> None:
    """Record an auditor's mapping of one client account; it wins from now on and is audited."""
    from auditray.cli.data_cmds import cli_actor
    from auditray.store import StoreError, session_scope
    from auditray.store.mappings import remove_override, set_override
    from auditray.tb.standard_chart import standard_chart

    if not remove:
        chart = standard_chart()
        if not fsli:
            raise typer.BadParameter("give the line item (or --remove)", param_hint="FSLI")
        if fsli not in chart.codes:
            import difflib

            close = difflib.get_close_matches(fsli.lower(), chart.codes, n=3, cutoff=0.6) or [
                c for c in chart.codes if fsli.lower() in c][:3]
            raise typer.BadParameter(f"{fsli!r} is not a line item of the standard chart"
                                     + (f"; did you mean {', '.join(close)}?" if close else
                                        "; see `auditray tb chart`"), param_hint="FSLI")
    db, org_id, _ = _store(org)
    try:
        with session_scope(db) as session:
            if remove:
                remove_override(session, org_id=org_id, client_key=client, gl_account_number=account,
                                actor=cli_actor(), reason=reason)
                typer.echo(f"Override of account {account} for {client!r} withdrawn.")
            else:
                set_override(session, org_id=org_id, client_key=client, gl_account_number=account, fsli=fsli,
                             reason=reason, actor=cli_actor(), account_name=name, engagement_id=engagement)
                typer.echo(f"Account {account} of {client!r} -> {fsli} (tb.override_set recorded).")
    except StoreError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None


@tb_app.command("overrides")
def tb_overrides(
    client: str = typer.Argument(None, help="Client key (default: every client)."),
    org: str = typer.Option(None, help="Organization slug (default: the only one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """List the auditors' saved overrides."""
    from auditray.store import session_scope
    from auditray.store.mappings import list_overrides

    db, org_id, _ = _store(org)
    with session_scope(db) as session:
        rows = list_overrides(session, org_id=org_id, client_key=client)
    for o in rows:
        if as_json:
            typer.echo(json.dumps({"client": o.client_key, "account": o.gl_account_number, "name": o.account_name,
                                   "fsli": o.fsli, "reason": o.reason, "set_by": o.set_by,
                                   "set_at": o.set_at.isoformat()}))
        else:
            typer.echo(f"{o.client_key:<16} {o.gl_account_number:<10} {o.fsli:<32} {o.set_by:<24} {o.reason}")


@tb_app.command("reconcile")
def tb_reconcile(
    tb_path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="TB", help=TB_HELP),
    gl_path: Path = typer.Argument(..., exists=True, metavar="GL",
                                   help="General ledger: Parquet file or directory (canonical gl_detail), or any "
                                        "GL export ingestion accepts."),
    entity: str = typer.Option(None, help="Entity id for files without one."),
    fiscal_year: int = typer.Option(None, "--fiscal-year", help="Fiscal year for TB exports without one."),
    period: int = typer.Option(None, "--period", min=1, max=99, help="Period for TB exports without one."),
    period_end: str = typer.Option(None, "--period-end", help="Period-end date (YYYY-MM-DD) for TB exports without one."),
    mapping: Path = typer.Option(None, exists=True, dir_okay=False, help="Column-mapping file for the TB."),
    engine: str = typer.Option("local", help="local, ray or auto."),
    out: Path = typer.Option(None, "--out", "-o", help="Write every account's roll-forward (.parquet/.csv/.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Does the TB balance, and does opening + GL activity = closing for every account?

    Lists every difference and the accounts found on one side only. Exits 1 when anything does not
    reconcile.
    """
    if engine not in ("local", "ray", "auto"):
        raise typer.BadParameter("local, ray or auto", param_hint="--engine")
    from auditray.tb.checks import reconcile_to_gl
    from auditray.tb.io import write_table

    tb = _read_tb(tb_path, mapping=mapping, entity=entity, fiscal_year=fiscal_year, period=period, period_end=period_end, param="TB")
    gl: object = gl_path
    if gl_path.is_file() and gl_path.suffix.lower() != ".parquet":
        from auditray.ingest import IngestError, read_source

        try:
            gl = read_source(gl_path, "gl_detail", entity_id=entity)
        except IngestError as rejected:
            raise typer.BadParameter(str(rejected), param_hint="GL") from None
    reconciliation = reconcile_to_gl(tb, gl, engine=engine)
    if out is not None:
        write_table(reconciliation.accounts, out)
    summary = reconciliation.summary()
    if as_json:
        typer.echo(json.dumps(summary, default=str))
    else:
        for row in reconciliation.totals.iter_rows(named=True):
            state = "balances" if row["balanced"] else f"DOES NOT BALANCE (net {row['closing_net']})"
            typer.echo(f"{row['entity_id']} FY{row.get('fiscal_year')} P{row.get('period')}: {row['accounts']} "
                       f"accounts, debits {row['debits']} credits {row['credits']}: {state}")
        counts = summary["by_status"]
        typer.echo(f"Roll-forward: {counts['agrees']} agree, {counts['difference']} differ, "
                   f"{counts['in_gl_not_in_tb']} in the GL only, {counts['tb_movement_without_gl']} moved without "
                   f"GL lines, {counts['no_activity']} unchanged without GL lines.")
        for row in reconciliation.exceptions.head(50).iter_rows(named=True):
            typer.echo(f"  {row['entity_id']} {row['gl_account_number']:<10} {row['status']:<24} opening "
                       f"{row['opening']} + activity {row['activity']} vs closing {row['closing']}: "
                       f"difference {row['difference']}")
        typer.echo("Reconciled." if reconciliation.reconciled else "NOT reconciled: follow up the items above.")
    raise typer.Exit(0 if reconciliation.reconciled else 1)


@tb_app.command("statements")
def tb_statements(
    tb_path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="TB", help=TB_HELP),
    prior: Path = typer.Option(None, "--prior", exists=True, dir_okay=False,
                               help="Prior-year trial balance (any accepted format) for comparatives."),
    out: Path = typer.Option(None, "--out", "-o", file_okay=False,
                             help="Directory for lead schedules, statements, ratios and fluctuations (CSV)."),
    materiality: str = typer.Option(None, help="Overall materiality: sets the fluctuation amount threshold."),
    performance_materiality: str = typer.Option(None, "--performance-materiality",
                                                help="Performance materiality (the default amount threshold)."),
    amount_threshold: str = typer.Option(None, "--amount-threshold", help="Fluctuation amount threshold."),
    percent_threshold: str = typer.Option("0.10", "--percent-threshold", help="Fluctuation threshold (0.10 = 10%)."),
    days: int = typer.Option(365, min=1, max=366, help="Days in the period, for DSO, DPO and inventory days."),
    entity: str = typer.Option(None, help="Entity id for files without one."),
    fiscal_year: int = typer.Option(None, "--fiscal-year", help="Fiscal year for exports without one."),
    period: int = typer.Option(None, "--period", min=1, max=99, help="Period for exports without one."),
    period_end: str = typer.Option(None, "--period-end", help="Period-end date (YYYY-MM-DD) for TB exports without one."),
    mapping: Path = typer.Option(None, exists=True, dir_okay=False, help="Column-mapping file for the TB(s)."),
    threshold: float = typer.Option(0.7, min=0.01, max=1.0, help="Review threshold when the TB is not yet mapped."),
    as_json: bool = typer.Option(False, "--json", help="Print statements and ratios as JSON."),
) -> None:
    """Draft balance sheet and income statement, lead schedules, key ratios and fluctuations.

    An unmapped TB is mapped first (accounts awaiting review are drafted on their suggested line).
    Total assets = total liabilities + equity once the year's net income is shown within equity.
    """
    amount = _decimal(amount_threshold, "--amount-threshold")
    pct = _decimal(percent_threshold, "--percent-threshold")
    mat = _decimal(materiality, "--materiality")
    pm = _decimal(performance_materiality, "--performance-materiality")
    import polars as pl

    from auditray.tb.fluctuations import FluxThresholds, fluctuations
    from auditray.tb.io import write_table
    from auditray.tb.parallel import normalize_trial_balances
    from auditray.tb.ratios import key_ratios
    from auditray.tb.service import build_mapper
    from auditray.tb.statements import balance_sheet, income_statement, lead_schedules

    mapper = None

    def mapped_tb(path: Path, param: str) -> pl.DataFrame:
        nonlocal mapper
        frame = _read_tb(path, mapping=mapping, entity=entity, fiscal_year=fiscal_year, period=period, period_end=period_end, param=param)
        if "fsli" in frame.columns:
            return frame
        mapper = mapper or build_mapper(threshold=threshold)
        return normalize_trial_balances(frame, mapper)

    current = mapped_tb(tb_path, "TB")
    prior_frame = mapped_tb(prior, "--prior") if prior is not None else None
    bs, inc = balance_sheet(current), income_statement(current)
    ratios = key_ratios(bs, inc, days=days)
    schedules = lead_schedules(current, prior_frame)
    flux = None
    if prior_frame is not None:
        if amount is None and mat is None and pm is None:
            raise typer.BadParameter("fluctuations need --amount-threshold, --performance-materiality or "
                                     "--materiality", param_hint="--prior")
        flux = fluctuations(current, prior_frame, FluxThresholds.from_materiality(
            amount=amount, percent=pct, materiality=mat, performance_materiality=pm))
    if out is not None:
        write_table(schedules.summary, out / "lead_schedules.csv")
        write_table(schedules.detail, out / "lead_schedule_accounts.csv")
        write_table(bs, out / "balance_sheet.csv")
        write_table(inc, out / "income_statement.csv")
        write_table(ratios, out / "ratios.csv")
        write_table(current, out / "mapped_tb.parquet")
        if flux is not None:
            write_table(flux, out / "fluctuations.csv")
    if as_json:
        def rows(frame: pl.DataFrame) -> list[dict]:
            return frame.with_columns(pl.col(pl.Decimal).cast(pl.String)).to_dicts()

        typer.echo(json.dumps({"balance_sheet": rows(bs), "income_statement": rows(inc), "ratios": rows(ratios),
                               "fluctuations": rows(flux.filter(pl.col("flagged"))) if flux is not None else None},
                              default=str))
        return
    for statement, title in ((bs, "Balance sheet"), (inc, "Income statement")):
        for (entity_id,), part in statement.group_by("entity_id", maintain_order=True):
            typer.echo(f"\n{title}: {entity_id}")
            for row in part.iter_rows(named=True):
                indent = "  " if row["kind"] == "line" else ""
                typer.echo(f"  {indent}{row['label']:<58} {row['amount']:>18,.2f}"
                           + (f"   ({row['unreviewed_accounts']} awaiting review)" if row["unreviewed_accounts"]
                              else ""))
    typer.echo("\nKey ratios")
    for row in ratios.iter_rows(named=True):
        typer.echo(f"  {row['entity_id']} {row['label']:<30} {row['value'] if row['value'] is not None else 'n/a'}")
    if flux is not None:
        flagged = flux.filter(pl.col("flagged"))
        typer.echo(f"\nFluctuations flagged: {flagged.height}")
        for row in flagged.iter_rows(named=True):
            typer.echo(f"  {row['entity_id']} {row['fsli']:<32} {row['reason']}")
    if out is not None:
        typer.echo(f"\nWritten to {out}/")


@tb_app.command("chart")
def tb_chart(as_json: bool = typer.Option(False, "--json", help="Print JSON lines.")) -> None:
    """The standard chart: line items and sub-lines, normal side, statement, US GAAP concepts."""
    from auditray.tb.standard_chart import standard_chart

    for line in sorted(standard_chart().lines, key=lambda line: line.sort_order):
        if as_json:
            typer.echo(json.dumps({"code": line.code, "parent": line.parent, "class": line.account_class,
                                   "section": line.section, "normal_side": line.normal_side, "label": line.label,
                                   "us_gaap": list(line.us_gaap)}))
        else:
            name = f"  {line.code}" if line.parent else line.code
            typer.echo(f"{name:<40} {line.account_class:<10} {line.normal_side:<7} {line.label}")


@tb_app.command("evaluate")
def tb_evaluate(
    threshold: float = typer.Option(0.7, min=0.01, max=1.0, help="Review threshold."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Accuracy of the automatic mapping and share sent to review, on the held-back labelled names."""
    from auditray.tb.evaluate import evaluate_held_back
    from auditray.tb.service import build_mapper

    evaluation, _ = evaluate_held_back(build_mapper(threshold=threshold))
    typer.echo(json.dumps(evaluation.to_dict()) if as_json else str(evaluation))
