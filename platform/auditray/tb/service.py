"""A mapping run for a client: the store's overrides and last period's mapping in, the decisions saved.

The front doors (``auditray tb map``, ``jobs.tb_normalize``, notebooks) call this; the mapping itself is
``auditray.tb.mapping`` and the store's part ``auditray.store.mappings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from auditray.engine import EngineName
from auditray.tb.classifier import load_classifier, override_examples
from auditray.tb.mapping import DEFAULT_THRESHOLD, AccountMapper, mapping_summary
from auditray.tb.parallel import normalize_trial_balances
from auditray.tb.rules import load_rules

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from auditray.settings import Settings


def build_mapper(
    *,
    rule_files: Sequence[str | Path] = (),
    industry: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    override_pairs: Sequence[tuple[str, str]] = (),
    use_embeddings: bool = False,
    settings: Settings | None = None,
) -> AccountMapper:
    """Rules (client file, industry set, defaults) and the classifier, retrained on ``override_pairs``
    (account name, line item) when given."""
    classifier = load_classifier(override_examples(override_pairs), use_embeddings=use_embeddings,
                                 settings=settings)
    return AccountMapper(rules=load_rules(*rule_files, industry=industry), classifier=classifier,
                         threshold=threshold)


@dataclass
class MappingRun:
    mapped: pl.DataFrame
    summary: dict[str, Any]
    # The audit event's details when the run was saved for a client.
    recorded: dict[str, Any] | None = None


def _earliest_period(tb: pl.DataFrame) -> tuple[int, int]:
    first = tb.select(pl.col("fiscal_year").cast(pl.Int64), pl.col("period").cast(pl.Int64)).sort(
        "fiscal_year", "period").row(0)
    return int(first[0]), int(first[1])


def map_for_client(
    tb: pl.DataFrame,
    *,
    db: Engine,
    org_id: int,
    client_key: str,
    actor: str,
    rule_files: Sequence[str | Path] = (),
    industry: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    retrain: bool = False,
    chart: pl.DataFrame | None = None,
    engagement_id: int | None = None,
    engine: EngineName = "local",
    save: bool = True,
    source_name: str | None = None,
    settings: Settings | None = None,
) -> MappingRun:
    """Map ``tb`` for a client: its overrides first, then last saved period's mapping, then the layers.

    ``retrain`` adds the firm's overrides (all its clients' account names and line items) to the
    classifier's training data. ``save`` stores the decisions as the periods' mappings, with one
    ``tb.mapping_run`` audit event.
    """
    from auditray.store import session_scope
    from auditray.store.mappings import (
        client_overrides,
        org_override_examples,
        prior_period_mappings,
        save_mapping_run,
    )

    with session_scope(db) as session:
        overrides = client_overrides(session, org_id=org_id, client_key=client_key)
        prior = prior_period_mappings(session, org_id=org_id, client_key=client_key, before=_earliest_period(tb),
                                      entity_ids=sorted({str(e) for e in tb["entity_id"].unique().to_list()}))
        pairs = org_override_examples(session, org_id=org_id) if retrain else []
    mapper = build_mapper(rule_files=rule_files, industry=industry, threshold=threshold, override_pairs=pairs,
                          settings=settings).with_context(overrides=overrides, prior=prior)
    mapped = normalize_trial_balances(tb, mapper, chart=chart, engine=engine, settings=settings)
    recorded = None
    if save:
        with session_scope(db) as session:
            recorded = save_mapping_run(session, mapped, org_id=org_id, client_key=client_key, actor=actor,
                                        engagement_id=engagement_id, mapper=mapper.fingerprint(),
                                        source_name=source_name)
    return MappingRun(mapped=mapped, summary=mapping_summary(mapped), recorded=recorded)
