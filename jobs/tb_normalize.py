"""Trial-balance normalization as a Ray Job: map every entity's TB, reconcile it to the GL, draft statements.

``python -m jobs.tb_normalize --tb TB.parquet [--prior PRIOR.parquet] [--gl GL_DIR] [--chart COA.parquet]
--out DIR [--engine ray] [--client ID] [--materiality X]``

Locally it starts Ray itself; under ``ray job submit`` it joins the job's cluster. With ``--client`` the
mapping is saved for next period, recorded in the audit trail, and the run is a job run of the store.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jobs  # noqa: F401  (makes auditray importable from an uploaded working_dir)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobs.tb_normalize", description=__doc__.splitlines()[0])
    parser.add_argument("--tb", nargs="+", required=True, help="trial balance file(s) or directory (canonical Parquet)")
    parser.add_argument("--prior", nargs="+", help="prior-year trial balance file(s) for comparatives")
    parser.add_argument("--gl", nargs="+", help="GL Parquet file(s) or directory, for the TB-to-GL roll-forward")
    parser.add_argument("--chart", help="chart of accounts (Parquet): its account types narrow the mapping")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--engine", choices=["local", "ray", "auto"], default="ray", help="batch engine")
    parser.add_argument("--partitions", type=int, default=None, help="Ray partitions (default: 2 per CPU)")
    parser.add_argument("--client", help="client key: use and save its overrides and prior-period mapping")
    parser.add_argument("--org", help="organization slug (default: the only one); with --client")
    parser.add_argument("--engagement", type=int, help="engagement id the run belongs to; with --client")
    parser.add_argument("--threshold", type=float, default=0.7, help="review threshold")
    parser.add_argument("--materiality", help="overall materiality (fluctuation threshold default)")
    parser.add_argument("--performance-materiality", help="performance materiality (fluctuation threshold)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def _read(paths: list[str] | None):
    import polars as pl
    from auditray.engine import _parquet_paths

    if not paths:
        return None
    return pl.concat([pl.read_parquet(p) for p in _parquet_paths(paths)], how="vertical_relaxed")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    import polars as pl
    from auditray.settings import get_settings
    from auditray.tb.checks import reconcile_to_gl, trial_balance_totals
    from auditray.tb.fluctuations import FluxThresholds, fluctuations
    from auditray.tb.io import write_table
    from auditray.tb.mapping import mapping_summary
    from auditray.tb.parallel import normalize_trial_balances
    from auditray.tb.ratios import key_ratios
    from auditray.tb.service import build_mapper
    from auditray.tb.statements import balance_sheet, income_statement, lead_schedules, statement_value
    from auditray.version import code_version

    settings = get_settings()
    tb = _read(args.tb)
    prior = _read(args.prior)
    chart = pl.read_parquet(args.chart) if args.chart else None
    store = None
    if args.client:
        from auditray.cli.data_cmds import cli_actor, resolve_org
        from auditray.store import JobRunCreate, init_db, make_engine, session_scope
        from auditray.store import services as svc
        from auditray.store.mappings import client_overrides, prior_period_mappings
        from auditray.tb.service import _earliest_period

        init_db(settings.resolved_database_url)
        db = make_engine(settings.resolved_database_url)
        with session_scope(db) as session:
            org_id = resolve_org(session, args.org)
            run = svc.start_run(session, JobRunCreate(kind="tb_normalize", engagement_id=args.engagement,
                                                      parameters={"tb": args.tb, "client": args.client,
                                                                  "engine": args.engine},
                                                      code_version=code_version()),
                                org_id=org_id, actor=cli_actor())
            overrides = client_overrides(session, org_id=org_id, client_key=args.client)
            prior_maps = prior_period_mappings(session, org_id=org_id, client_key=args.client,
                                               before=_earliest_period(tb))
        store = (db, org_id, run.id, cli_actor())
        mapper = build_mapper(threshold=args.threshold, settings=settings).with_context(overrides=overrides,
                                                                                        prior=prior_maps)
    else:
        mapper = build_mapper(threshold=args.threshold, settings=settings)
    try:
        mapped = normalize_trial_balances(tb, mapper, chart=chart, engine=args.engine, partitions=args.partitions,
                                          settings=settings)
        mapped_prior = (normalize_trial_balances(prior, mapper, chart=chart, engine=args.engine,
                                                 partitions=args.partitions, settings=settings)
                        if prior is not None else None)
        out: Path = args.out
        write_table(mapped, out / "mapped_tb.parquet")
        summary: dict[str, Any] = {"mapping": mapping_summary(mapped), "out": str(out)}
        totals = trial_balance_totals(tb)
        summary["tb_balances"] = bool(totals["balanced"].all())
        if args.gl:
            reconciliation = reconcile_to_gl(tb, args.gl if len(args.gl) > 1 else args.gl[0], engine=args.engine,
                                             settings=settings)
            write_table(reconciliation.accounts, out / "reconciliation.parquet")
            summary["reconciliation"] = reconciliation.summary()
        bs, inc = balance_sheet(mapped), income_statement(mapped)
        write_table(bs, out / "balance_sheet.csv")
        write_table(inc, out / "income_statement.csv")
        write_table(key_ratios(bs, inc), out / "ratios.csv")
        schedules = lead_schedules(mapped, mapped_prior)
        write_table(schedules.summary, out / "lead_schedules.csv")
        write_table(schedules.detail, out / "lead_schedule_accounts.csv")
        entities = sorted(set(bs["entity_id"].to_list()))
        summary["statements_balance"] = all(statement_value(bs, e, "difference") == Decimal(0) for e in entities)
        if mapped_prior is not None and (args.materiality or args.performance_materiality):
            flux = fluctuations(mapped, mapped_prior, FluxThresholds.from_materiality(
                materiality=args.materiality, performance_materiality=args.performance_materiality))
            write_table(flux, out / "fluctuations.csv")
            summary["fluctuations_flagged"] = int(flux["flagged"].sum())
        if store is not None:
            from auditray.store import RunStatus, session_scope
            from auditray.store import services as svc
            from auditray.store.mappings import save_mapping_run

            db, org_id, run_id, actor = store
            with session_scope(db) as session:
                summary["recorded"] = save_mapping_run(session, mapped, org_id=org_id, client_key=args.client,
                                                       actor=actor, engagement_id=args.engagement, run_id=run_id,
                                                       mapper=mapper.fingerprint())["output_sha256"]
                svc.finish_run(session, run_id=run_id, status=RunStatus.succeeded, org_id=org_id, actor=actor,
                               result_uri=str(out))
    except BaseException as error:
        if store is not None:
            from auditray.store import RunStatus, session_scope
            from auditray.store import services as svc

            db, org_id, run_id, actor = store
            with session_scope(db) as session:
                svc.finish_run(session, run_id=run_id, status=RunStatus.failed, org_id=org_id, actor=actor,
                               error=f"{type(error).__name__}: {error}")
        raise
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        m = summary["mapping"]
        print(f"{m['accounts']} accounts in {len(m['entities'])} entities: {m['mapped']} mapped, "
              f"{m['needs_review']} to review; statements balance: {summary['statements_balance']}; "
              f"written to {out}")
    return summary


if __name__ == "__main__":
    main()
