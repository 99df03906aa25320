"""``auditray sample ...``: sample sizes, evaluations and reproducible selections.

The arithmetic commands (``size``, ``evaluate``) import only the pure-Python maths, so they answer
at once; ``select`` imports polars (and Ray for ``--engine ray``) inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from auditray.cli.app import sample_app

size_app = typer.Typer(help="Sample sizes: attribute (tests of controls) and monetary-unit.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Evaluate a sample: upper deviation rate or upper misstatement limit.",
                           no_args_is_help=True)
select_app = typer.Typer(help="Select sample items reproducibly, documented and (with --engagement) stored.",
                         no_args_is_help=True)
sample_app.add_typer(size_app, name="size")
sample_app.add_typer(evaluate_app, name="evaluate")
sample_app.add_typer(select_app, name="select")

RATE_HELP = "as a fraction: 0.05 = 5%"


def _bad_input(error: Exception) -> typer.BadParameter:
    """A library input error as a command-line error naming the option."""
    field = getattr(error, "field", None)
    hint = f"--{field.replace('_', '-')}" if field else None
    return typer.BadParameter(str(error), param_hint=hint)


def _print(result: dict, as_json: bool, text: str) -> None:
    from auditray.sampling import json_ready

    typer.echo(json.dumps(json_ready(result), indent=2, default=str) if as_json else text)


def _fail_on_file(error: Exception) -> None:
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(1)


# --- size --------------------------------------------------------------------------------------------


@size_app.command("attribute")
def size_attribute(
    tolerable_rate: str = typer.Option(..., "--tolerable-rate", help=f"Tolerable deviation rate, {RATE_HELP}."),
    expected_rate: str = typer.Option("0", "--expected-rate", help=f"Expected population deviation rate, {RATE_HELP}."),
    risk: str = typer.Option("0.05", "--risk", help=f"Risk of overreliance (assessing control risk too low), {RATE_HELP}."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Attribute sample size for a test of controls (AICPA Audit Sampling, Appendix A, Tables A-1/A-2).

    The smallest n with P(X <= ceil(n x expected rate) | n, tolerable rate) <= risk (binomial).
    """
    from auditray.sampling.attribute import attribute_sample_size
    from auditray.sampling.errors import SamplingInputError

    try:
        plan = attribute_sample_size(tolerable_rate, expected_rate, risk)
    except SamplingInputError as bad:
        raise _bad_input(bad) from None
    note = f"\nNote: {plan.to_dict()['note']}" if plan.exact_rule_sample_size is not None else ""
    _print(plan.to_dict(), as_json,
           f"Sample size {plan.sample_size} ({plan.expected_deviations} expected deviations); "
           f"risk of overreliance achieved {plan.achieved_risk:.4f}{note}")


@size_app.command("mus")
def size_mus(
    population_value: str = typer.Option(..., "--population-value", help="Book value of the population (BV)."),
    tolerable_misstatement: str = typer.Option(..., "--tolerable-misstatement", help="Tolerable misstatement (TM)."),
    expected_misstatement: str = typer.Option("0", "--expected-misstatement", help="Expected misstatement (EM)."),
    risk: str = typer.Option("0.05", "--risk", help=f"Risk of incorrect acceptance, {RATE_HELP}."),
    method: str = typer.Option("table", "--method",
                               help="table: the guide's Appendix C method (exact Poisson/gamma); formula: "
                                    "BV x RF / (TM - EM x EF) with the guide's factors."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Monetary-unit sample size and sampling interval (AICPA Audit Sampling, ch. 6 and Appendix C)."""
    from auditray.sampling.errors import SamplingInputError
    from auditray.sampling.mus import mus_sample_size, parse_amount

    amounts = {}
    for name, value in (("population_value", population_value), ("tolerable_misstatement", tolerable_misstatement),
                        ("expected_misstatement", expected_misstatement)):
        parsed = parse_amount(value)
        if parsed is None:
            raise typer.BadParameter(f"{value!r} is not an amount", param_hint=f"--{name.replace('_', '-')}")
        amounts[name] = parsed
    if method not in ("table", "formula"):
        raise typer.BadParameter("choose table or formula", param_hint="--method")
    try:
        plan = mus_sample_size(amounts["population_value"], amounts["tolerable_misstatement"],
                               amounts["expected_misstatement"], risk, method)
    except SamplingInputError as bad:
        raise _bad_input(bad) from None
    _print(plan.to_dict(), as_json,
           f"Sample size {plan.sample_size}; sampling interval {plan.sampling_interval:,} ({plan.method} method)")


# --- evaluate ----------------------------------------------------------------------------------------


@evaluate_app.command("attribute")
def evaluate_attribute(
    sample_size: int = typer.Option(..., "--sample-size", help="Items examined."),
    deviations: int = typer.Option(..., "--deviations", help="Deviations found."),
    risk: str = typer.Option("0.05", "--risk", help=f"Risk of overreliance, {RATE_HELP}."),
    tolerable_rate: str = typer.Option(None, "--tolerable-rate", help=f"Tolerable rate for the conclusion, {RATE_HELP}."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Upper deviation rate of a test of controls (AICPA Audit Sampling, Appendix A, Tables A-3/A-4)."""
    from auditray.sampling.attribute import evaluate_attribute_sample
    from auditray.sampling.errors import SamplingInputError

    try:
        result = evaluate_attribute_sample(sample_size, deviations, risk, tolerable_rate)
    except SamplingInputError as bad:
        raise _bad_input(bad) from None
    conclusion = f"; {result.conclusion}" if result.conclusion else ""
    _print(result.to_dict(), as_json,
           f"Upper deviation rate {result.upper_deviation_rate * 100:.1f}% "
           f"(sample rate {result.sample_deviation_rate * 100:.2f}%){conclusion}")


@evaluate_app.command("mus")
def evaluate_mus(
    population_value: str = typer.Option(..., "--population-value", help="Book value of the population (BV)."),
    sample_size: int = typer.Option(..., "--sample-size", help="Sample size n (the interval is BV / n)."),
    misstatements: Path = typer.Option(..., "--misstatements", dir_okay=False,
                                       help="CSV with book_value,audit_value (and optionally item) per sample item."),
    tolerable_misstatement: str = typer.Option(..., "--tolerable-misstatement", help="Tolerable misstatement (TM)."),
    risk: str = typer.Option("0.05", "--risk", help=f"Risk of incorrect acceptance, {RATE_HELP}."),
    factors: str = typer.Option("guide", "--factors",
                                help="guide: the guide's factors rounded up to 0.01; exact: gamma.ppf unrounded."),
    interval: str = typer.Option(None, "--interval", help="The interval used for selection, if not BV / n."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Upper misstatement limit by the Stringer bound, and the conclusion (AICPA Audit Sampling, ch. 6).

    Exits 1 with every bad row named (file, line, column) if the misstatements file cannot be used;
    items with zero or negative book values are refused, since MUS can never select them.
    """
    from auditray.sampling.errors import PopulationError, SamplingInputError
    from auditray.sampling.mus import evaluate_mus_sample, parse_amount, read_misstatements

    amounts = {}
    for name, value in (("population_value", population_value), ("tolerable_misstatement", tolerable_misstatement),
                        ("interval", interval)):
        if value is None:
            continue
        parsed = parse_amount(value)
        if parsed is None:
            raise typer.BadParameter(f"{value!r} is not an amount", param_hint=f"--{name.replace('_', '-')}")
        amounts[name] = parsed
    if factors not in ("guide", "exact"):
        raise typer.BadParameter("choose guide or exact", param_hint="--factors")
    try:
        rows = read_misstatements(misstatements)
    except PopulationError as bad:
        _fail_on_file(bad)
    try:
        result = evaluate_mus_sample(amounts["population_value"], sample_size, rows, amounts["tolerable_misstatement"],
                                     risk, factor_basis=factors, interval=amounts.get("interval"))
    except SamplingInputError as bad:
        raise _bad_input(bad) from None
    except PopulationError as bad:
        _fail_on_file(bad)
    _print(result.to_dict(), as_json,
           f"Basic precision {result.basic_precision:,} + projected misstatement {result.projected_misstatement:,} "
           f"+ incremental allowance {result.incremental_allowance:,} = upper misstatement limit "
           f"{result.upper_misstatement_limit:,} against tolerable {result.tolerable_misstatement:,}: "
           f"{result.conclusion}")


# --- select ------------------------------------------------------------------------------------------

SOURCE_HELP = "Population file or directory (CSV or Parquet); or use --dataset."


def _run_selection(method: str, source: Path | None, dataset: int | None, org: str | None, engagement: int | None,
                   keys: list[str] | None, amount: str | None, seed: int | None, out: Path | None, as_json: bool,
                   engine: str = "local", **options) -> None:
    from auditray.sampling.errors import PopulationError, SamplingInputError
    from auditray.sampling.select import select_sample

    org_id = None
    settings = None
    if dataset is not None or engagement is not None:
        from auditray.cli.data_cmds import resolve_org
        from auditray.settings import get_settings
        from auditray.store import init_db, make_engine, session_scope

        settings = get_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        init_db(settings.resolved_database_url)
        db = make_engine(settings.resolved_database_url)
        with session_scope(db) as session:
            org_id = resolve_org(session, org)
        db.dispose()
    key_list = [k.strip() for part in (keys or []) for k in part.split(",") if k.strip()] or None
    try:
        selection = select_sample(method, source, dataset_id=dataset, org_id=org_id, keys=key_list, amount=amount,
                                  seed=seed, engine=engine, settings=settings, **options)
    except SamplingInputError as bad:
        raise _bad_input(bad) from None
    except PopulationError as bad:
        _fail_on_file(bad)

    written = []
    run = None
    if engagement is not None:
        from auditray.cli.data_cmds import cli_actor
        from auditray.sampling.record import record_selection
        from auditray.store.exceptions import StoreError

        try:
            run = record_selection(selection, org_id=org_id, actor=cli_actor(), engagement_id=engagement,
                                   settings=settings)
        except StoreError as refused:
            _fail_on_file(refused)
        written.append(str(Path(run.result_uri) / "selection.parquet"))
    if out is not None:
        items_path, _ = selection.write(out)
        written.append(str(items_path))
    elif engagement is None:
        default = Path(f"selection-{method}-seed{selection.documentation['seed']}.parquet")
        items_path, _ = selection.write(default)
        written.append(str(items_path))
    summary = {
        "method": selection.documentation["method"],
        "selected_items": selection.size,
        "seed": selection.documentation["seed"],
        "population_sha256": selection.documentation["population"]["sha256"],
        "population_items": selection.documentation["population"]["items"],
        "files": written,
        "run_id": run.id if run is not None else None,
        "result_uri": run.result_uri if run is not None else None,
        "derived": selection.documentation["derived"],
    }
    _print(summary, as_json,
           f"Selected {selection.size:,} items of {summary['population_items']:,} "
           f"({summary['method']}, seed {summary['seed']}, population sha256 {summary['population_sha256'][:16]}...)"
           f"\nWritten: {', '.join(written)}" + (f"\nStored as run {run.id}" if run is not None else ""))


def _common(source, dataset, org, engagement, key, amount, seed, out, as_json):
    return {"source": source, "dataset": dataset, "org": org, "engagement": engagement, "keys": key,
            "amount": amount, "seed": seed, "out": out, "as_json": as_json}


SourceArg = typer.Argument(None, help=SOURCE_HELP)
DatasetOpt = typer.Option(None, "--dataset", help="A registered dataset id instead of a file.")
OrgOpt = typer.Option(None, "--org", help="Organization slug (default: the only one).")
EngagementOpt = typer.Option(None, "--engagement", help="Store the selection as a run of this engagement.")
KeyOpt = typer.Option(None, "--key", help="Item key column(s), repeatable or comma-separated (default: recognised).")
AmountOpt = typer.Option(None, "--amount", help="Amount column (default: amount or book_value).")
SeedOpt = typer.Option(None, "--seed", help="Random seed (default: drawn and recorded).")
OutOpt = typer.Option(None, "--out", help="Selection file (.parquet or .csv); the documentation goes beside it as .json.")
JsonOpt = typer.Option(False, "--json", help="Print JSON.")


@select_app.command("random")
def select_random_cmd(
    source: Path = SourceArg, sample_size: int = typer.Option(..., "--sample-size", help="Items to select."),
    dataset: int = DatasetOpt, org: str = OrgOpt, engagement: int = EngagementOpt, key: list[str] = KeyOpt,
    amount: str = AmountOpt, seed: int = SeedOpt, out: Path = OutOpt, as_json: bool = JsonOpt,
) -> None:
    """Simple random selection without replacement (AU-C 530 .A13; ISA 530 A13)."""
    _run_selection("random", **_common(source, dataset, org, engagement, key, amount, seed, out, as_json),
                   sample_size=sample_size)


@select_app.command("systematic")
def select_systematic_cmd(
    source: Path = SourceArg, sample_size: int = typer.Option(..., "--sample-size", help="Items to select."),
    dataset: int = DatasetOpt, org: str = OrgOpt, engagement: int = EngagementOpt, key: list[str] = KeyOpt,
    amount: str = AmountOpt, seed: int = SeedOpt, out: Path = OutOpt, as_json: bool = JsonOpt,
) -> None:
    """Systematic selection: every N/n-th item from a random start (AU-C 530 .A13; ISA 530 A13)."""
    _run_selection("systematic", **_common(source, dataset, org, engagement, key, amount, seed, out, as_json),
                   sample_size=sample_size)


@select_app.command("mus")
def select_mus_cmd(
    source: Path = SourceArg,
    sample_size: int = typer.Option(None, "--sample-size", help="Sample size n (interval = BV / n)."),
    interval: str = typer.Option(None, "--interval", help="Sampling interval instead of a sample size."),
    tolerable_misstatement: str = typer.Option(None, "--tolerable-misstatement",
                                               help="Plan n from the population's BV with this TM."),
    expected_misstatement: str = typer.Option("0", "--expected-misstatement", help="EM for planning."),
    risk: str = typer.Option("0.05", "--risk", help=f"Risk of incorrect acceptance for planning, {RATE_HELP}."),
    plan_method: str = typer.Option("table", "--method", help="Planning method: table or formula."),
    cell: bool = typer.Option(False, "--cell", help="Cell selection (a random point per interval), not fixed interval."),
    absolute: bool = typer.Option(False, "--absolute", help="Sample on absolute amounts (credits too)."),
    engine: str = typer.Option("local", "--engine", help="local, ray or auto (Ray for large Parquet populations)."),
    partitions: int = typer.Option(None, "--partitions", help="Ray: number of sorted blocks."),
    dataset: int = DatasetOpt, org: str = OrgOpt, engagement: int = EngagementOpt, key: list[str] = KeyOpt,
    amount: str = AmountOpt, seed: int = SeedOpt, out: Path = OutOpt, as_json: bool = JsonOpt,
) -> None:
    """Monetary-unit selection: top stratum plus fixed-interval (or cell) hits (AICPA Audit Sampling, ch. 6)."""
    if sum(x is not None for x in (sample_size, interval, tolerable_misstatement)) != 1:
        raise typer.BadParameter("give exactly one of --sample-size, --interval or --tolerable-misstatement",
                                 param_hint="--sample-size")
    if engine not in ("local", "ray", "auto"):
        raise typer.BadParameter("choose local, ray or auto", param_hint="--engine")
    _run_selection("mus", **_common(source, dataset, org, engagement, key, amount, seed, out, as_json),
                   engine=engine, sample_size=sample_size, interval=interval,
                   tolerable_misstatement=tolerable_misstatement, expected_misstatement=expected_misstatement,
                   risk=risk, plan_method=plan_method, selection="cell" if cell else "fixed", absolute=absolute,
                   partitions=partitions)


@select_app.command("stratified")
def select_stratified_cmd(
    source: Path = SourceArg, sample_size: int = typer.Option(..., "--sample-size", help="Items across the strata."),
    strata: int = typer.Option(3, "--strata", help="Equal-value bands of |amount|."),
    boundary: list[str] = typer.Option(None, "--boundary", help="Explicit band boundary (repeatable) instead."),
    allocation: str = typer.Option("neyman", "--allocation", help="neyman, proportional or equal."),
    top_threshold: str = typer.Option(None, "--top-threshold", help="Take every item with |amount| at or above this."),
    dataset: int = DatasetOpt, org: str = OrgOpt, engagement: int = EngagementOpt, key: list[str] = KeyOpt,
    amount: str = AmountOpt, seed: int = SeedOpt, out: Path = OutOpt, as_json: bool = JsonOpt,
) -> None:
    """Stratified random selection by amount bands (AU-C 530 .A7-.A8; ISA 530 Appendix 1)."""
    _run_selection("stratified", **_common(source, dataset, org, engagement, key, amount, seed, out, as_json),
                   sample_size=sample_size, strata=strata, boundaries=boundary or None, allocation=allocation,
                   top_threshold=top_threshold)


@select_app.command("risk")
def select_risk_cmd(
    source: Path = SourceArg,
    score_column: str = typer.Option("risk_score", "--score-column", help="Column holding the risk score."),
    threshold: float = typer.Option(None, "--threshold", help="Scores at or above this are high risk."),
    top: int = typer.Option(None, "--top", help="Or: the N highest scores are high risk."),
    sample_size: int = typer.Option(0, "--sample-size", help="Random items from the lower-risk remainder."),
    dataset: int = DatasetOpt, org: str = OrgOpt, engagement: int = EngagementOpt, key: list[str] = KeyOpt,
    amount: str = AmountOpt, seed: int = SeedOpt, out: Path = OutOpt, as_json: bool = JsonOpt,
) -> None:
    """All high-risk items plus a random sample of the rest (ISA 240 .32(a), A41-A44; AS 2401 .61)."""
    _run_selection("risk", **_common(source, dataset, org, engagement, key, amount, seed, out, as_json),
                   sample_size=sample_size, score_column=score_column, threshold=threshold, top=top)
