"""Run kinds: every analysis the API (and the client) can start, registered in one place and run on Ray.

A run kind names an analysis (``completeness``, ``je_analysis``, ``tb_normalization``, ``sampling``), the
pydantic model of its parameters and the function that does the work. ``start`` validates the
parameters, checks that every dataset they name belongs to the engagement (and to the tenant), records
the run with its code version and input hashes in the store and the audit trail, and hands the work
to a launcher: by default a Ray task, so the API answers at once and the work runs on the cluster.
While it works the function reports progress and log lines through its ``RunContext``; its result
tables are written as Parquet under the datasets URI and the run is closed as succeeded or failed.

Registering a kind::

    class MyParameters(BaseModel):
        gl_dataset: Annotated[int, DatasetInput("gl_detail")]
        threshold: Decimal = Decimal("1000.00")

    def my_analysis(ctx: RunContext, params: MyParameters) -> RunOutput:
        lines = ctx.scan(params.gl_dataset).collect()
        ctx.progress(0.5, "half way")
        return RunOutput(tables={"flags": ...}, summary={"flagged": 12})

    register(RunKind(name="my_analysis", title="My analysis", parameters=MyParameters, execute=my_analysis))

``auditray.run_kinds`` registers journal-entry analysis, TB normalization and sampling (thin adapters
over each capability's entry point). A capability may also register kinds in a ``runs`` module of its
package (``auditray.je.runs``, ``auditray.tb.runs``, ``auditray.sampling.runs``): ``kinds()`` imports those
that exist, on the API side and inside the Ray worker alike; a later registration of a name wins.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Engine
    from sqlmodel import Session

    from auditray.settings import Settings
    from auditray.store import Dataset, JobRun

log = logging.getLogger(__name__)

# Modules that register run kinds when imported; missing ones are skipped (their capability has not
# landed, or is not installed on this node).
PROVIDERS: tuple[str, ...] = ("auditray.run_kinds", "auditray.je.runs", "auditray.tb.runs", "auditray.sampling.runs")
SUMMARY_FILE = "summary.json"
PROGRESS_INTERVAL_S = 0.5


@dataclass(frozen=True)
class DatasetInput:
    """Marks a parameter as a dataset id of the given kind(s): checked against the engagement at start."""

    kinds: tuple[str, ...]

    def __init__(self, *kinds: str) -> None:
        object.__setattr__(self, "kinds", tuple(kinds))


@dataclass
class RunOutput:
    """What a run produced: named result tables (Parquet) and a small JSON-able summary."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunKind:
    """One kind of analysis: its parameters, the function that runs it, and the CPUs its task asks for."""

    name: str
    title: str
    parameters: type[BaseModel]
    execute: Callable[[RunContext, Any], RunOutput]
    description: str = ""
    num_cpus: float = 1.0

    def inputs(self) -> dict[str, DatasetInput]:
        """The parameters that name datasets, with the dataset kinds each accepts."""
        found: dict[str, DatasetInput] = {}
        for name, info in self.parameters.model_fields.items():
            for meta in info.metadata:
                if isinstance(meta, DatasetInput):
                    found[name] = meta
        return found

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "inputs": {k: list(v.kinds) for k, v in self.inputs().items()},
                "parameters_schema": self.parameters.model_json_schema()}


_REGISTRY: dict[str, RunKind] = {}
_discovered = False
_discovery_lock = threading.Lock()
discovery_errors: dict[str, str] = {}


def register(kind: RunKind) -> RunKind:
    """Add (or replace, on re-import) a run kind."""
    if not kind.name.replace("_", "").isalnum() or not kind.name.islower():
        raise ValueError(f"run kind names are lower_snake_case, not {kind.name!r}")
    _REGISTRY[kind.name] = kind
    return kind


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    with _discovery_lock:
        if _discovered:
            return
        for module in PROVIDERS:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name is None or not module.startswith(error.name):
                    discovery_errors[module] = f"{type(error).__name__}: {error}"
                    log.warning("run kinds of %s not loaded: %s", module, error)
            except Exception as error:  # noqa: BLE001 - one broken capability must not take the API down
                discovery_errors[module] = f"{type(error).__name__}: {error}"
                log.warning("run kinds of %s not loaded: %s", module, error)
        _discovered = True


def kinds() -> dict[str, RunKind]:
    """Every registered run kind, by name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


class UnknownRunKind(LookupError):
    pass


def get_kind(name: str) -> RunKind:
    registered = kinds()
    if name not in registered:
        raise UnknownRunKind(f"unknown run kind {name!r}; known kinds: {', '.join(registered) or 'none'}")
    return registered[name]


# --- Where results live -----------------------------------------------------------------------------


def results_uri(settings: Settings, *, org_id: int, run_id: int) -> str:
    return f"{settings.resolved_datasets_uri.rstrip('/')}/_runs/org-{org_id}/run-{run_id}"


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def write_results(uri: str, output: RunOutput) -> list[str]:
    """Write the tables and summary under ``uri`` all at once (temp name, then rename); return file names."""
    import pyarrow.parquet as pq

    from auditray.audit_trail import canonical_details, canonical_json

    names = []
    for name in output.tables:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"result table names are identifiers, not {name!r}")
        names.append(f"{name}.parquet")
    summary = canonical_json(canonical_details(_plain(output.summary)))
    if _is_local(uri):
        final = Path(uri.removeprefix("file://"))
        staging = final.with_name(f".{final.name}.{uuid.uuid4().hex}")
        staging.mkdir(parents=True)
        try:
            for name, frame in output.tables.items():
                frame.write_parquet(staging / f"{name}.parquet")
            (staging / SUMMARY_FILE).write_text(summary)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    else:
        import pyarrow.fs as pafs

        fs, base = pafs.FileSystem.from_uri(uri)
        fs.create_dir(base, recursive=True)
        for name, frame in output.tables.items():
            pq.write_table(frame.to_arrow(), f"{base}/{name}.parquet", filesystem=fs)
        with fs.open_output_stream(f"{base}/{SUMMARY_FILE}") as stream:
            stream.write(summary.encode())
    return [*sorted(names), SUMMARY_FILE]


def _plain(value: Any) -> Any:
    """JSON-ready summary values: exact Decimals kept, numpy scalars and odd types as plain values or text."""
    import math
    from datetime import date, datetime, time

    if value is None or isinstance(value, (bool, int, str, Decimal, datetime, date, time)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy and polars scalars
        return _plain(value.item())
    return str(value)


def result_tables(uri: str) -> list[str]:
    """Names of the result tables stored under ``uri`` (without ``.parquet``)."""
    from auditray.datasets import dataset_files

    return sorted(Path(f).stem for f in dataset_files(uri))


def read_result(uri: str, table: str) -> pl.DataFrame:
    import polars as pl

    if table not in result_tables(uri):
        raise KeyError(f"the run has no result table {table!r}")
    return pl.read_parquet(f"{uri.rstrip('/')}/{table}.parquet")


def read_summary(uri: str) -> dict[str, Any]:
    import json

    if _is_local(uri):
        path = Path(uri.removeprefix("file://")) / SUMMARY_FILE
        return json.loads(path.read_text()) if path.is_file() else {}
    import pyarrow.fs as pafs

    fs, base = pafs.FileSystem.from_uri(uri)
    with fs.open_input_stream(f"{base}/{SUMMARY_FILE}") as stream:
        return json.loads(stream.read())


# --- The context a run works in ---------------------------------------------------------------------


class RunContext:
    """What a running analysis may touch: its tenant's datasets, its progress, its log."""

    def __init__(self, *, run_id: int, org_id: int, engagement_id: int | None, actor: str, kind: str,
                 settings: Settings, engine: Engine) -> None:
        self.run_id, self.org_id, self.engagement_id = run_id, org_id, engagement_id
        self.actor, self.kind, self.settings, self.engine = actor, kind, settings, engine
        self._last_progress = 0.0
        self._last_fraction = -1.0

    @contextmanager
    def session(self) -> Iterator[Session]:
        from auditray.store import session_scope

        with session_scope(self.engine) as session:
            yield session

    def dataset(self, dataset_id: int) -> Dataset:
        """A dataset of this run's tenant (never another's)."""
        from auditray.store.services import get_dataset

        with self.session() as session:
            return get_dataset(session, dataset_id, org_id=self.org_id)

    def scan(self, dataset_id: int) -> pl.LazyFrame:
        from auditray.datasets import scan

        return scan(self.dataset(dataset_id))

    def files(self, dataset_id: int) -> list[str]:
        from auditray.datasets import dataset_files

        return dataset_files(self.dataset(dataset_id).uri)

    def log(self, message: str, level: str = "info") -> None:
        from auditray.store.auth_models import RunLogLine

        with self.session() as session:
            session.add(RunLogLine(org_id=self.org_id, run_id=self.run_id, level=level, message=str(message)))

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report how far the run has got (0-1); written at most twice a second.

        Raises ``RunCancelled`` when the run was cancelled meanwhile: reporting progress is where a run
        learns that it should stop.
        """
        from auditray.store import InvalidRunState
        from auditray.store.services import update_run_progress

        fraction = min(max(float(fraction), 0.0), 1.0)
        if message:
            self.log(message)
        now = time.monotonic()
        if fraction <= self._last_fraction or (now - self._last_progress < PROGRESS_INTERVAL_S and fraction < 1.0):
            return
        try:
            with self.session() as session:
                update_run_progress(session, run_id=self.run_id, progress=fraction, org_id=self.org_id)
        except InvalidRunState as stopped:
            raise RunCancelled(str(stopped)) from None
        self._last_progress, self._last_fraction = now, fraction


class RunCancelled(Exception):
    """The run was closed (cancelled) while it worked: stop, and keep no partial result."""


# --- Starting and executing -------------------------------------------------------------------------


class InvalidRunParameters(ValueError):
    """The parameters do not fit the run kind or name datasets the run may not use."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


class Launcher(Protocol):
    def submit(self, run: JobRun, kind: RunKind, settings: Settings) -> None: ...

    def cancel(self, run_id: int) -> bool: ...


def validate_parameters(kind: RunKind, parameters: Mapping[str, Any]) -> BaseModel:
    from pydantic import ValidationError

    try:
        return kind.parameters.model_validate(dict(parameters))
    except ValidationError as error:
        raise InvalidRunParameters(
            f"parameters do not fit run kind {kind.name!r}",
            details=error.errors(include_url=False, include_context=False, include_input=False),
        ) from None


def check_inputs(session: Session, kind: RunKind, params: BaseModel, *, org_id: int,
                 engagement_id: int | None) -> dict[str, Dataset]:
    """Every dataset the parameters name: of this tenant, of this engagement, of an accepted kind."""
    from auditray.store import NotFound
    from auditray.store.services import get_dataset

    found: dict[str, Dataset] = {}
    for name, spec in kind.inputs().items():
        dataset_id = getattr(params, name)
        if dataset_id is None:
            continue
        try:
            dataset = get_dataset(session, int(dataset_id), org_id=org_id)
        except NotFound:
            raise InvalidRunParameters(f"{name}: dataset {dataset_id} not found") from None
        if engagement_id is not None and dataset.engagement_id != engagement_id:
            raise InvalidRunParameters(f"{name}: dataset {dataset_id} belongs to another engagement")
        if spec.kinds and dataset.kind not in spec.kinds:
            raise InvalidRunParameters(
                f"{name}: dataset {dataset_id} is {dataset.kind}, not {' or '.join(spec.kinds)}")
        found[name] = dataset
    return found


def start(
    session: Session,
    kind_name: str,
    parameters: Mapping[str, Any],
    *,
    org_id: int,
    engagement_id: int,
    actor: Any,
) -> tuple[JobRun, RunKind]:
    """Validate and record a run (status running) with its inputs in the audit trail; launch it after commit.

    The caller commits and then calls ``launcher.submit`` so the Ray task never races an uncommitted row.
    """
    from auditray import audit_trail
    from auditray.store import JobRunCreate
    from auditray.store.auth_models import RunLogLine
    from auditray.store.services import start_run
    from auditray.version import code_version

    kind = get_kind(kind_name)
    params = validate_parameters(kind, parameters)
    inputs = check_inputs(session, kind, params, org_id=org_id, engagement_id=engagement_id)
    run = start_run(session, JobRunCreate(engagement_id=engagement_id, kind=kind.name,
                                          parameters=params.model_dump(mode="json"), code_version=code_version()),
                    org_id=org_id, actor=actor)
    described = {name: {"dataset_id": d.id, "kind": d.kind, "content_sha256": d.content_sha256,
                        "row_count": d.row_count} for name, d in inputs.items()}
    audit_trail.record(session, actor=actor, action="run.inputs", resource_type="run", resource_id=run.id,
                       org_id=org_id, details={"inputs": described})
    for name, d in inputs.items():
        session.add(RunLogLine(org_id=org_id, run_id=run.id,
                               message=f"input {name}: dataset {d.id} ({d.kind}, {d.row_count:,} rows, "
                                       f"sha256 {d.content_sha256})"))
    session.flush()
    return run, kind


def execute(kind_name: str, run_id: int, org_id: int, engagement_id: int | None, actor: str,
            parameters: dict[str, Any], settings: Settings) -> str:
    """Do one run's work and close it in the store; returns the final status. Runs inside the Ray task."""
    from auditray.store import InvalidRunState, make_engine, session_scope
    from auditray.store.services import finish_run

    engine = make_engine(settings.resolved_database_url)
    context = RunContext(run_id=run_id, org_id=org_id, engagement_id=engagement_id, actor=actor, kind=kind_name,
                         settings=settings, engine=engine)
    uri = results_uri(settings, org_id=org_id, run_id=run_id)
    try:
        try:
            kind = get_kind(kind_name)
            params = kind.parameters.model_validate(parameters)
            context.log(f"{kind.title} started on {os.uname().nodename} (pid {os.getpid()})")
            started = time.perf_counter()
            output = kind.execute(context, params)
            files = write_results(uri, output)
            context.log(f"wrote {', '.join(files)} in {time.perf_counter() - started:.2f} s")
        except RunCancelled:
            context.log("the run was cancelled; the work stopped", level="warning")
            return "cancelled"
        except Exception as failure:  # noqa: BLE001 - every failure is recorded on the run, then reported
            context.log("".join(traceback.format_exception(failure))[-20_000:], level="error")
            try:
                with session_scope(engine) as session:
                    finish_run(session, run_id=run_id, status="failed", org_id=org_id, actor=actor,
                               error=f"{type(failure).__name__}: {failure}"[:5000])
            except InvalidRunState:
                return "cancelled"
            return "failed"
        try:
            with session_scope(engine) as session:
                finish_run(session, run_id=run_id, status="succeeded", org_id=org_id, actor=actor, result_uri=uri)
        except InvalidRunState:
            # Cancelled while the results were being written: they are not the run's results.
            remove_results(uri)
            context.log("the run was cancelled before it could finish; its results were discarded", "warning")
            return "cancelled"
        return "succeeded"
    finally:
        engine.dispose()


def remove_results(uri: str) -> None:
    if _is_local(uri):
        shutil.rmtree(Path(uri.removeprefix("file://")), ignore_errors=True)
    else:
        import pyarrow.fs as pafs

        fs, base = pafs.FileSystem.from_uri(uri)
        fs.delete_dir(base)


def cancel(session: Session, run_id: int, *, org_id: int, actor: Any, reason: str | None = None) -> JobRun:
    """Close a running run as cancelled (audited); its worker stops at its next progress report."""
    from auditray.audit_trail import actor_name
    from auditray.store.services import finish_run

    why = f"cancelled by {actor_name(actor)}" + (f": {reason}" if reason else "")
    return finish_run(session, run_id=run_id, status="cancelled", org_id=org_id, actor=actor, error=why)


def fail_if_running(run_id: int, org_id: int, actor: str, error: str, settings: Settings) -> None:
    """Close a run whose worker died before it could close the run itself."""
    from auditray.store import InvalidRunState, RunStatus, make_engine, session_scope
    from auditray.store.services import finish_run, get_run

    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            if get_run(session, run_id, org_id=org_id).status == RunStatus.running:
                finish_run(session, run_id=run_id, status="failed", org_id=org_id, actor=actor, error=error)
    except InvalidRunState:
        pass
    finally:
        engine.dispose()


_remote_execute = None


def _remote() -> Any:
    global _remote_execute
    if _remote_execute is None:
        import ray

        _remote_execute = ray.remote(max_retries=0)(execute)
    return _remote_execute


class RayLauncher:
    """Runs each run as a Ray task; a watcher thread closes runs whose worker died without closing them."""

    def __init__(self) -> None:
        self._pending: dict[Any, tuple[int, int, str, Settings]] = {}
        self._by_run: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def submit(self, run: JobRun, kind: RunKind, settings: Settings) -> None:
        from auditray.engine import ensure_ray

        ensure_ray(settings)
        ref = _remote().options(num_cpus=kind.num_cpus, name=f"auditray-run-{run.id}-{kind.name}").remote(
            kind.name, run.id, run.org_id, run.engagement_id, run.created_by, dict(run.parameters), settings)
        with self._lock:
            self._pending[ref] = (run.id, run.org_id, run.created_by, settings)
            self._by_run[run.id] = ref
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(target=self._watch, name="auditray-run-watcher", daemon=True)
                self._watcher.start()

    def cancel(self, run_id: int) -> bool:
        """Interrupt the run's Ray task if this process launched it (other replicas' runs stop cooperatively)."""
        import ray

        with self._lock:
            ref = self._by_run.get(run_id)
        if ref is None:
            return False
        ray.cancel(ref)
        return True

    def _watch(self) -> None:
        import ray

        while True:
            with self._lock:
                refs = list(self._pending)
            if not refs:
                with self._lock:
                    if not self._pending:
                        self._watcher = None
                        return
                continue
            try:
                done, _ = ray.wait(refs, num_returns=len(refs), timeout=1.0)
            except Exception:  # noqa: BLE001 - Ray shut down under us: nothing left to watch
                with self._lock:
                    self._pending.clear()
                    self._watcher = None
                return
            for ref in done:
                with self._lock:
                    run_id, org_id, actor, settings = self._pending.pop(ref)
                    self._by_run.pop(run_id, None)
                try:
                    ray.get(ref)
                except Exception as error:  # noqa: BLE001 - a crashed worker: record it on the run
                    fail_if_running(run_id, org_id, actor, f"the Ray task died: {type(error).__name__}: {error}"[:5000],
                                    settings)


class InlineLauncher:
    """Runs the work in a background thread of this process: for tests and machines without Ray."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def submit(self, run: JobRun, kind: RunKind, settings: Settings) -> None:
        thread = threading.Thread(target=execute, args=(kind.name, run.id, run.org_id, run.engagement_id,
                                                        run.created_by, dict(run.parameters), settings), daemon=True)
        thread.start()
        self.threads.append(thread)

    def cancel(self, run_id: int) -> bool:
        return False  # threads cannot be interrupted: the run stops at its next progress report

    def join(self, timeout: float = 60.0) -> None:
        for thread in self.threads:
            thread.join(timeout)


# --- The built-in kind: completeness ----------------------------------------------------------------


class CompletenessParameters(BaseModel):
    """Which ledger and trial balance to roll forward, and on which engine."""

    model_config = ConfigDict(extra="forbid")

    gl_dataset: Annotated[int, DatasetInput("gl_detail"), Field(ge=1, description="GL detail dataset id")]
    tb_dataset: Annotated[int, DatasetInput("trial_balance"), Field(ge=1, description="Trial balance dataset id")]
    engine: Literal["local", "ray", "auto"] = "auto"


def _completeness(context: RunContext, params: CompletenessParameters) -> RunOutput:
    import polars as pl

    from auditray.completeness import ACCOUNT_ACTIVITY, roll_forward
    from auditray.engine import run

    gl = context.dataset(params.gl_dataset)
    tb = context.dataset(params.tb_dataset)
    context.progress(0.05, f"GL activity per account over {gl.row_count:,} lines ({params.engine} engine)")
    activity = run(ACCOUNT_ACTIVITY, context.files(gl.id), engine=params.engine, settings=context.settings)
    context.progress(0.7, f"rolling {tb.row_count:,} trial-balance rows forward")
    check = roll_forward(context.scan(tb.id).collect(), activity)
    broken = check.filter(pl.col("difference") != 0)
    context.progress(0.95, f"{check.height:,} accounts checked, {broken.height} differences")
    net = check["activity"].sum()
    return RunOutput(
        tables={"roll_forward": check},
        summary={"accounts": check.height, "differences": broken.height,
                 "net_activity": Decimal(str(net)) if net is not None else Decimal(0),
                 "lines": gl.row_count},
    )


COMPLETENESS = register(RunKind(
    name="completeness",
    title="Population completeness (GL rolls the TB forward)",
    description="opening balance + GL activity = closing balance per account (AS 2401 .61, ISA 240 A43)",
    parameters=CompletenessParameters,
    execute=_completeness,
))
