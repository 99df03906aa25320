"""The run kinds of the other capabilities: journal-entry analysis, TB normalization, audit sampling.

Each adapter is thin: it reads the run's registered datasets (already checked to belong to the run's
engagement and tenant), calls the capability's own entry point, and hands back result tables and a
summary for ``auditray.runs`` to store. A kind is registered only when its capability is installed;
``auditray.runs.kinds()`` imports this module with the other providers.
"""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditray.runs import DatasetInput, RunContext, RunKind, RunOutput, register

EngineChoice = Literal["local", "ray", "auto"]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _engagement(context: RunContext) -> Any:
    from auditray.store.services import get_engagement

    with context.session() as session:
        engagement = get_engagement(session, context.engagement_id, org_id=context.org_id)
        session.expunge(engagement)
    return engagement


def _stepper(context: RunContext, start: float = 0.05, step: float = 0.06, ceiling: float = 0.9):
    """A progress callback for capabilities that report steps as messages, not fractions."""
    done = [0]

    def say(message: str) -> None:
        done[0] += 1
        context.progress(min(ceiling, start + step * done[0]), message)

    return say


# --- Journal-entry testing ---------------------------------------------------------------------------


class JEAnalysisParameters(BaseModel):
    """The ledger to test, optional TB and chart (for completeness and account types), the engine, and
    overrides of the JE test settings (fields of ``auditray.je.settings.JETestSettings``)."""

    model_config = ConfigDict(extra="forbid")

    gl_dataset: Annotated[int, DatasetInput("gl_detail"), Field(ge=1)]
    tb_dataset: Annotated[int | None, DatasetInput("trial_balance"), Field(ge=1)] = None
    coa_dataset: Annotated[int | None, DatasetInput("chart_of_accounts"), Field(ge=1)] = None
    engine: EngineChoice = "local"
    settings: dict[str, Any] = Field(default_factory=dict)


def _je_analysis(context: RunContext, params: JEAnalysisParameters) -> RunOutput:
    from auditray.je.analyze import analyze
    from auditray.je.settings import JETestSettings, settings_from_engagement
    from auditray.store.findings import record_findings

    settings = settings_from_engagement(_engagement(context), JETestSettings.model_validate(params.settings))
    tb = context.scan(params.tb_dataset).collect() if params.tb_dataset else None
    chart = context.scan(params.coa_dataset).collect() if params.coa_dataset else None
    analysis = analyze(context.files(params.gl_dataset), settings=settings, engine=params.engine, trial_balance=tb,
                       chart=chart, engine_settings=context.settings, progress=_stepper(context))
    # Findings join the run for review (AS 2401 .61: entries selected for testing are followed up).
    with context.session() as session:
        findings = record_findings(session, context.run_id, analysis.entries, org_id=context.org_id,
                                   actor=context.actor, bands=settings.record_bands)
    context.progress(0.95, f"{findings:,} entries in bands {', '.join(settings.record_bands)} recorded as findings")
    return RunOutput(tables={"entries": analysis.entries, "lines": analysis.lines},
                     summary={"engine": analysis.engine, "findings": findings, "population": analysis.population,
                              "not_run": analysis.not_run, "timings": analysis.timings})


# --- Trial-balance normalization -----------------------------------------------------------------------


class TBNormalizationParameters(BaseModel):
    """The trial balance to map to financial-statement line items, for which client (default: the
    engagement's client), with which rules and confidence threshold."""

    model_config = ConfigDict(extra="forbid")

    tb_dataset: Annotated[int, DatasetInput("trial_balance"), Field(ge=1)]
    coa_dataset: Annotated[int | None, DatasetInput("chart_of_accounts"), Field(ge=1)] = None
    client_key: str | None = Field(default=None, max_length=200)
    industry: str | None = Field(default=None, max_length=64)
    threshold: float | None = Field(default=None, gt=0, lt=1)
    retrain: bool = False
    save: bool = True
    engine: EngineChoice = "local"


def _tb_normalization(context: RunContext, params: TBNormalizationParameters) -> RunOutput:
    from auditray.tb.mapping import DEFAULT_THRESHOLD
    from auditray.tb.service import map_for_client

    engagement = _engagement(context)
    dataset = context.dataset(params.tb_dataset)
    tb = context.scan(params.tb_dataset).collect()
    chart = context.scan(params.coa_dataset).collect() if params.coa_dataset else None
    context.progress(0.1, f"mapping {tb.height:,} trial-balance rows of {engagement.client_name}")
    mapped = map_for_client(tb, db=context.engine, org_id=context.org_id,
                            client_key=params.client_key or engagement.client_name, actor=context.actor,
                            industry=params.industry, threshold=params.threshold or DEFAULT_THRESHOLD,
                            retrain=params.retrain, chart=chart, engagement_id=context.engagement_id,
                            engine=params.engine, save=params.save, source_name=dataset.name,
                            settings=context.settings)
    return RunOutput(tables={"mapped": mapped.mapped}, summary={"mapping": mapped.summary,
                                                               "saved": mapped.recorded is not None})


# --- Audit sampling ----------------------------------------------------------------------------------


class SamplingParameters(BaseModel):
    """A reproducible selection from a registered population: method, size or planning figures, seed.

    ``options`` are the method's own (``interval``, ``selection``, ``tolerable_misstatement``,
    ``expected_misstatement``, ``risk``, ``strata``, ``allocation``, ``score_column``, ``threshold``, ...;
    see ``auditray.sampling.select.select_sample``).
    """

    model_config = ConfigDict(extra="forbid")

    population_dataset: Annotated[int, DatasetInput(), Field(ge=1)]
    method: Literal["random", "systematic", "mus", "stratified", "risk"]
    sample_size: int | None = Field(default=None, ge=1, le=1_000_000)
    seed: int | None = Field(default=None, ge=0)
    keys: list[str] | None = None
    amount: str | None = None
    engine: EngineChoice = "local"
    options: dict[str, Any] = Field(default_factory=dict)


def _sampling(context: RunContext, params: SamplingParameters) -> RunOutput:
    from auditray.sampling.select import select_sample

    context.progress(0.1, f"{params.method} selection from dataset {params.population_dataset}")
    selection = select_sample(params.method, dataset_id=params.population_dataset, org_id=context.org_id,
                              keys=params.keys, amount=params.amount, seed=params.seed, engine=params.engine,
                              settings=context.settings, sample_size=params.sample_size, **params.options)
    return RunOutput(tables={"selection": selection.items}, summary=selection.documentation)


if _installed("auditray.je.analyze") and _installed("auditray.store.findings"):
    register(RunKind(name="je_analysis", title="Journal-entry testing",
                     description="the JE test battery with anomaly scores; medium and high risk entries become "
                                 "findings (AS 2401 .58-.62, ISA 240 .32, A41-A45)",
                     parameters=JEAnalysisParameters, execute=_je_analysis))
if _installed("auditray.tb.service"):
    register(RunKind(name="tb_normalization", title="Trial-balance normalization",
                     description="map accounts to financial-statement line items; low-confidence ones to review",
                     parameters=TBNormalizationParameters, execute=_tb_normalization))
if _installed("auditray.sampling.select"):
    register(RunKind(name="sampling", title="Audit sampling selection",
                     description="random, systematic, monetary-unit, stratified or risk-based selection, "
                                 "reproducible from its seed (AU-C 530, AS 2315)",
                     parameters=SamplingParameters, execute=_sampling))
