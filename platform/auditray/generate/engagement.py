"""Generate a whole synthetic engagement into a directory.

Layout::

    gl_detail/part-00000.parquet ...   canonical GL_DETAIL, one file per chunk (entity, period, days)
    trial_balance.parquet              this year, period 12 (trial_balance_monthly.parquet: periods 1-12)
    trial_balance_prior.parquet        last year's closing trial balance
    chart_of_accounts.parquet          canonical CHART_OF_ACCOUNTS
    users.parquet                      who may post, with roles and approval limits
    labels.parquet, labels.csv         one row per planted journal: entity_id, journal_id, kind, detail
    engagement.json                    calendar, materiality, thresholds, authorised posters, parameters
    exports/gl_detail_ads.csv          (optional) AICPA ADS layout
    exports/gl_detail_sap.csv          (optional) SAP FI line-item layout
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from auditray.contract import SCHEMA_VERSION
from auditray.generate.anomalies import (
    ANOMALY_SIGNATURES,
    BACKDATED_THRESHOLD_DAYS,
    BELOW_APPROVAL_BAND,
    HIGH_VALUE_BAND,
    PERIOD_END_BAND,
    SPLIT_ENTRY_BAND,
)
from auditray.generate.config import ANOMALY_KINDS, GENERATOR_VERSION, GeneratedEngagement, GeneratorConfig
from auditray.generate.ledger import EntityLedger
from auditray.generate.planning import EngagementPlan, EntityPlan, plan_engagement
from auditray.generate.recurring import WINDOWS
from auditray.generate.templates import SUSPICIOUS_KEYWORDS, VOLUME_TEMPLATES
from auditray.generate.trial_balance import prior_trial_balance, trial_balance
from auditray.generate.writer import PARQUET_OPTIONS, LedgerWriter

LABEL_SCHEMA = pa.schema([("entity_id", pa.string()), ("journal_id", pa.string()), ("kind", pa.string()),
                          ("detail", pa.string())])


def generate_engagement(config: GeneratorConfig, out_dir: str | Path,
                        progress: Callable[[int], None] | None = None) -> GeneratedEngagement:
    """Write a seeded synthetic engagement to ``out_dir`` and say what is in it.

    ``progress`` is called with the number of GL lines of every chunk written (for a progress bar).
    Generation streams: memory depends on the chunk size, not on ``n_lines``.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous_output(out)
    plan = plan_engagement(config)
    writer = LedgerWriter(out, config.export_formats)
    labels: list[tuple[str, str, str, str]] = []
    ledgers: list[EntityLedger] = []
    try:
        for entity in plan.entities:
            ledger = EntityLedger(plan, entity)
            for chunk in entity.chunks:
                table, chunk_labels = ledger.generate(chunk)
                writer.write(chunk.part, table)
                labels += chunk_labels
                if progress is not None:
                    progress(table.num_rows)
                del table
            ledgers.append(ledger)
    finally:
        writer.close()

    paths = {name: out / name for name in ("trial_balance.parquet", "trial_balance_prior.parquet",
                                            "chart_of_accounts.parquet", "users.parquet", "labels.parquet",
                                            "labels.csv", "engagement.json")}
    _write(pa.concat_tables([trial_balance(e.entity, plan.calendar, e.activity) for e in ledgers]),
           paths["trial_balance.parquet"])
    monthly = None
    if config.monthly_trial_balances:
        monthly = out / "trial_balance_monthly.parquet"
        _write(pa.concat_tables([trial_balance(e.entity, plan.calendar, e.activity, monthly=True) for e in ledgers]),
               monthly)
    _write(pa.concat_tables([prior_trial_balance(e, plan.calendar) for e in plan.entities]),
           paths["trial_balance_prior.parquet"])
    _write(pa.concat_tables([e.chart.to_arrow() for e in plan.entities]), paths["chart_of_accounts.parquet"])
    _write(pa.concat_tables([e.roster.to_arrow() for e in plan.entities]), paths["users.parquet"])
    labels.sort()
    label_table = pa.Table.from_pylist([dict(zip(LABEL_SCHEMA.names, row)) for row in labels], schema=LABEL_SCHEMA)
    _write(label_table, paths["labels.parquet"])
    pl.from_arrow(label_table).write_csv(paths["labels.csv"])
    label_counts = Counter(kind for _, _, kind, _ in labels)
    metadata = engagement_metadata(plan, ledgers, {k: label_counts.get(k, 0) for k in ANOMALY_KINDS}, writer)
    paths["engagement.json"].write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return GeneratedEngagement(
        out_dir=out, gl_detail_files=tuple(writer.files), trial_balance=paths["trial_balance.parquet"],
        trial_balance_prior=paths["trial_balance_prior.parquet"], chart_of_accounts=paths["chart_of_accounts.parquet"],
        users=paths["users.parquet"], labels=paths["labels.parquet"], labels_csv=paths["labels.csv"],
        engagement=paths["engagement.json"], exports=dict(writer.exports), trial_balance_monthly=monthly,
        n_lines=sum(e.lines for e in ledgers), n_journals=sum(e.journals for e in ledgers), n_labels=len(labels),
        label_counts={k: label_counts.get(k, 0) for k in ANOMALY_KINDS},
        entities=tuple(e.profile.entity_id for e in plan.entities), elapsed_seconds=time.perf_counter() - started,
    )


def _write(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **PARQUET_OPTIONS)


def _remove_previous_output(out: Path) -> None:
    """A re-run into the same directory must not leave parts of a larger earlier run behind."""
    for pattern in ("gl_detail/part-*.parquet", "exports/gl_detail_*.csv", "trial_balance_monthly.parquet"):
        for stale in out.glob(pattern):
            stale.unlink()


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}" if cents % 100 else f"{cents // 100}.00"


def _entity_metadata(entity: EntityPlan, ledger: EntityLedger) -> dict[str, Any]:
    chart, roster, t = entity.chart, entity.roster, entity.thresholds
    revenue = [i for i, a in enumerate(chart.accounts) if a.subtype == "revenue"]
    prior_revenue = -int(entity.prior_closing[revenue].sum())
    approvers = [u for u, r in zip(roster.user_ids, roster.roles) if r in ("senior_accountant", "controller", "cfo")]
    return {
        "entity_id": entity.profile.entity_id,
        "legal_name": entity.profile.legal_name,
        "country": entity.profile.country,
        "currency": entity.profile.currency,
        "prior_year_revenue": _money(prior_revenue),
        "materiality_basis": "1% of prior-year revenue, rounded down to two significant digits",
        "materiality": _money(t.materiality),
        "performance_materiality": _money(t.performance_materiality),
        "clearly_trivial": _money(t.clearly_trivial),
        "high_value_threshold": _money(t.high_value),
        "everyday_manual_entry_cap": _money(t.manual_cap),
        "period_end_unusual_amount": _money(int(t.high_value * PERIOD_END_BAND[0])),
        "approval_limit": _money(t.approval_limit),
        "authorised_posters": [u for u, ok in zip(roster.user_ids, roster.authorised) if ok],
        "approvers": approvers,
        "suspense_accounts": chart.subtype_accounts("suspense"),
        "sensitive_accounts": [n for n, s in zip(chart.numbers, chart.sensitive) if s],
        "seldom_used_accounts": [n for n, s in zip(chart.numbers, chart.seldom) if s],
        "intercompany_accounts": chart.subtype_accounts("intercompany"),
        "lines": ledger.lines,
        "journals": ledger.journals,
        "gl_detail_parts": [c.part for c in entity.chunks],
    }


def _batch_windows() -> dict[str, list[list[str]]]:
    """When each batch user posts: the windows of its volume templates and recurring entries."""
    def hhmm(seconds: int) -> str:
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"

    windows: dict[str, set[tuple[int, int]]] = {}
    for t in VOLUME_TEMPLATES:
        if t.user:
            windows.setdefault(t.user, set()).add(t.window)
    for user, window in WINDOWS.items():
        windows.setdefault(user, set()).add(window)
    return {user: [[hhmm(a), hhmm(b)] for a, b in sorted(spans)] for user, spans in sorted(windows.items())}


def engagement_metadata(plan: EngagementPlan, ledgers: list[EntityLedger], label_counts: dict[str, int],
                        writer: LedgerWriter) -> dict[str, Any]:
    config, cal = plan.config, plan.calendar
    return {
        "generator": "auditray.generate",
        "generator_version": GENERATOR_VERSION,
        "schema_version": SCHEMA_VERSION,
        "seed": config.seed,
        "parameters": config.to_dict(),
        "fiscal_year": config.fiscal_year,
        "fiscal_period_start": cal.start.isoformat(),
        "fiscal_period_end": cal.end.isoformat(),
        "periods": [{"period": p.number, "start": p.start.isoformat(), "end": p.end.isoformat()}
                    for p in cal.periods],
        "closing_date": cal.closing_date.isoformat(),
        "close_window_business_days": config.close_window_business_days,
        "business_hours": {"start": "08:00:00", "end": "18:00:00", "weekdays": "Monday-Friday",
                           "applies_to": "entries keyed by people (manual_entry = true)"},
        "batch_windows": _batch_windows(),
        "holiday_calendar": "US federal holidays, observed dates (5 U.S.C. 6103)",
        "holidays": [{"date": d.isoformat(), "name": n} for d, n in cal.holidays_named
                     if cal.start.year <= d.year <= cal.closing_date.year],
        "approval_limit": str(config.approval_limit),
        "thresholds": {
            "high_value": "performance materiality of the entity",
            "high_value_planted_band": list(HIGH_VALUE_BAND),
            "backdated_days": BACKDATED_THRESHOLD_DAYS,
            "below_approval_band": list(BELOW_APPROVAL_BAND),
            "split_entry_band": list(SPLIT_ENTRY_BAND),
            "period_end_business_days": 2,
            "period_end_unusual_share_of_high_value": PERIOD_END_BAND[0],
            "round_amount": "a multiple of 1,000.00",
            "high_value_note": "in small ledgers (a few hundred invoices a year) performance materiality is only "
                               "a few invoices' worth, so some sub-ledger entries exceed it too; the planted "
                               "high-value entries are manual",
        },
        "anomaly_signatures": ANOMALY_SIGNATURES,
        "suspicious_keywords": list(SUSPICIOUS_KEYWORDS),
        "entities": [_entity_metadata(e.entity, e) for e in ledgers],
        "anomaly_kinds": list(ANOMALY_KINDS),
        "label_counts": label_counts,
        "files": {
            "gl_detail": sorted(str(p.relative_to(p.parent.parent)) for p in writer.files),
            "exports": {fmt: str(Path("exports") / p.name) for fmt, p in writer.exports.items()},
        },
    }
