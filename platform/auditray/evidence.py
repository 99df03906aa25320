"""Evidence packs: one run, sealed, so a reviewer or regulator can check it was not altered.

A pack is a zip holding everything needed to re-perform or inspect the run: the input datasets' hashes
(and registration metadata), the parameters, the code version, the result tables and summary, the run's
log, the findings and their dispositions, and the audit-trail events that recorded it all. The
``manifest.json`` lists every file with its SHA-256 and size; the manifest itself is signed with Ed25519
(``signature.json``). The signing key is derived from the server secret, so the server can always
re-check its packs, and the public key can be handed to anyone to check them without the secret.

This is the documentation that lets an experienced auditor with no connection to the engagement see
what was done, on what, with what result, and who did and reviewed it (AS 1215.06 / AU-C 230.08 /
ISA 230.8), and shows it has not changed since (AS 1215.14-.16, AU-C 230.A25).

``build_pack`` assembles and signs; ``verify_pack`` checks the signature, every file's hash, and that no
file was added or removed. The zip is deterministic: the same run and inputs give the same bytes except
for ``created_at``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from auditray.audit_trail import canonical_details, canonical_json
from auditray.auth.keys import derive_key

if TYPE_CHECKING:
    from sqlmodel import Session

    from auditray.store import JobRun

FORMAT = "auditray-evidence-pack/1"
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
ALGORITHM = "Ed25519"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _signing_key(secret: SecretStr | str):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(derive_key(secret, "evidence-pack-ed25519"))


def public_key_hex(secret: SecretStr | str) -> str:
    """The public half of the pack-signing key: publish it so others can verify packs without the secret."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return _signing_key(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def key_id(public_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(canonical_details({"v": value})["v"], indent=2, sort_keys=True, ensure_ascii=False)
            + "\n").encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class EvidencePack:
    """The zip's bytes and the manifest it carries."""

    data: bytes
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def file_name(self) -> str:
        return f"evidence-run-{self.manifest['run']['id']}.zip"


def _zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[path])
    return buffer.getvalue()


def _event_dict(event: Any) -> dict[str, Any]:
    return {"seq": event.seq, "at": event.at, "org_id": event.org_id, "actor": event.actor, "action": event.action,
            "resource_type": event.resource_type, "resource_id": event.resource_id, "details": event.details,
            "prev_hash": event.prev_hash, "hash": event.hash}


def build_pack(
    session: Session,
    *,
    run_id: int,
    org_id: int,
    actor: Any,
    secret: SecretStr | str,
    findings: list[dict[str, Any]] | None = None,
) -> EvidencePack:
    """Assemble and sign the pack of one finished run, and record its creation in the audit trail."""
    from sqlmodel import select

    from auditray import audit_trail, runs
    from auditray.store import InvalidRunState
    from auditray.store.auth_models import RunLogLine
    from auditray.store.models import FINISHED_STATUSES
    from auditray.store.services import get_dataset, get_engagement, get_organization, get_run
    from auditray.store.types import utc_now

    run: JobRun = get_run(session, run_id, org_id=org_id)
    if run.status not in FINISHED_STATUSES:
        raise InvalidRunState(f"run {run_id} is {run.status}; an evidence pack seals a finished run")
    organization = get_organization(session, org_id)
    engagement = get_engagement(session, run.engagement_id, org_id=org_id) if run.engagement_id else None

    files: dict[str, bytes] = {}
    inputs: list[dict[str, Any]] = []
    try:
        kind = runs.get_kind(run.kind)
        input_names = kind.inputs()
    except runs.UnknownRunKind:
        input_names = {}
    for name in input_names:
        dataset_id = run.parameters.get(name)
        if dataset_id is None:
            continue
        dataset = get_dataset(session, int(dataset_id), org_id=org_id)
        inputs.append({"parameter": name, "dataset_id": dataset.id, "kind": dataset.kind, "name": dataset.name,
                       "content_sha256": dataset.content_sha256, "source_sha256": dataset.source_sha256,
                       "source_name": dataset.source_name, "row_count": dataset.row_count,
                       "schema_version": dataset.schema_version, "registered_at": dataset.created_at,
                       "registered_by": dataset.created_by,
                       "control_totals": (dataset.profile or {}).get("control_totals")})

    results: dict[str, Any] = {}
    if run.result_uri:
        for table in runs.result_tables(run.result_uri):
            buffer = io.BytesIO()
            runs.read_result(run.result_uri, table).write_parquet(buffer)
            files[f"results/{table}.parquet"] = buffer.getvalue()
        results = runs.read_summary(run.result_uri)
        files["results/summary.json"] = _json_bytes(results)

    log_lines = session.exec(
        select(RunLogLine).where(RunLogLine.run_id == run.id, RunLogLine.org_id == org_id)
        .order_by(RunLogLine.id)
    ).all()
    files["run/log.json"] = _json_bytes([{"at": line.at, "level": line.level, "message": line.message}
                                         for line in log_lines])
    files["run/inputs.json"] = _json_bytes(inputs)
    if findings is not None:
        files["findings/findings.json"] = _json_bytes(findings)

    events = audit_trail.events(session, org_id=org_id, resource=("run", run.id), limit=10_000)
    for item in inputs:
        events += audit_trail.events(session, org_id=org_id, resource=("dataset", item["dataset_id"]), limit=1000)
    finding_ids = {str(f.get("id")) for f in findings or [] if f.get("id") is not None}
    if finding_ids:
        events += [e for e in audit_trail.events(session, org_id=org_id, resource="finding", limit=10_000)
                   if e.resource_id in finding_ids]
    events = sorted({e.seq: e for e in events}.values(), key=lambda e: e.seq)
    files["audit/events.json"] = _json_bytes([_event_dict(e) for e in events])

    head = audit_trail.head(session)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": utc_now(),
        "created_by": audit_trail.actor_name(actor),
        "organization": {"id": organization.id, "slug": organization.slug, "name": organization.name},
        "engagement": None if engagement is None else {
            "id": engagement.id, "client_name": engagement.client_name, "name": engagement.name,
            "fiscal_year": engagement.fiscal_year, "period_start": engagement.period_start,
            "period_end": engagement.period_end, "state": engagement.state,
            "materiality": engagement.materiality, "performance_materiality": engagement.performance_materiality},
        "run": {"id": run.id, "kind": run.kind, "status": run.status, "parameters": run.parameters,
                "code_version": run.code_version, "created_by": run.created_by, "created_at": run.created_at,
                "started_at": run.started_at, "finished_at": run.finished_at, "error": run.error},
        "inputs": [{k: item[k] for k in ("parameter", "dataset_id", "kind", "content_sha256", "row_count")}
                   for item in inputs],
        "results_summary": results,
        "audit_head": None if head is None else {"seq": head.seq, "hash": head.hash},
        "files": [{"path": path, "sha256": _sha256(data), "size": len(data)} for path, data in sorted(files.items())],
    }
    manifest_bytes = canonical_json(canonical_details(manifest)).encode("utf-8")
    manifest_sha = _sha256(manifest_bytes)
    public = public_key_hex(secret)
    signature = {
        "algorithm": ALGORITHM,
        "public_key": public,
        "key_id": key_id(public),
        "manifest_sha256": manifest_sha,
        "signature": _signing_key(secret).sign(manifest_bytes).hex(),
    }
    files[MANIFEST] = manifest_bytes
    files[SIGNATURE] = _json_bytes(signature)
    audit_trail.record(session, actor=actor, action="evidence.create", resource_type="run", resource_id=run.id,
                       org_id=org_id, details={"manifest_sha256": manifest_sha, "key_id": signature["key_id"],
                                               "files": len(manifest["files"])})
    return EvidencePack(data=_zip(files), manifest=json.loads(manifest_bytes), manifest_sha256=manifest_sha)


@dataclass
class PackVerification:
    """What ``verify_pack`` found; ``ok`` only when the signature and every file check out."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    manifest_sha256: str | None = None
    key_id: str | None = None
    trusted_key: bool | None = None
    run_id: int | None = None
    organization: str | None = None
    files_checked: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def message(self) -> str:
        if self.ok:
            return (f"evidence pack of run {self.run_id} ({self.organization}) is intact: signature valid "
                    f"(key {self.key_id}), {self.files_checked} files match the manifest")
        return "evidence pack FAILED verification: " + "; ".join(self.problems)


def verify_pack(data: bytes, *, secret: SecretStr | str | None = None,
                public_key: str | None = None) -> PackVerification:
    """Check the pack's signature and every file; with ``secret`` or ``public_key`` also that we signed it."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    result = PackVerification(ok=False)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        result.problems.append(f"not a readable zip file: {error}")
        return result
    contents: dict[str, bytes] = {}
    corrupted: list[str] = []
    for info in infos:
        try:
            contents[info.filename] = archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as error:
            corrupted.append(info.filename)
            result.problems.append(f"{info.filename} was altered: it can no longer be read ({error})")
    if MANIFEST not in contents or SIGNATURE not in contents:
        result.problems.append(f"the pack lacks {MANIFEST} or {SIGNATURE}")
        return result
    manifest_bytes = contents[MANIFEST]
    try:
        manifest = json.loads(manifest_bytes)
        signature = json.loads(contents[SIGNATURE])
        listed = {f["path"]: f for f in manifest["files"]}
        result.run_id = manifest["run"]["id"]
        result.organization = manifest["organization"]["slug"]
        signed_by = str(signature["public_key"])
        signature_bytes = bytes.fromhex(signature["signature"])
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(signed_by))
    except (ValueError, KeyError, TypeError) as error:
        result.problems.append(f"the manifest or signature is malformed: {error}")
        return result
    result.manifest_sha256 = _sha256(manifest_bytes)
    result.key_id = key_id(signed_by)
    if manifest.get("format") != FORMAT:
        result.problems.append(f"unknown pack format {manifest.get('format')!r}")
    if signature.get("algorithm") != ALGORITHM:
        result.problems.append(f"unknown signature algorithm {signature.get('algorithm')!r}")
    if signature.get("manifest_sha256") != result.manifest_sha256:
        result.problems.append("the manifest's SHA-256 differs from the one that was signed")
    try:
        key.verify(signature_bytes, manifest_bytes)
    except InvalidSignature:
        result.problems.append("the manifest's signature is not valid: the manifest was altered or re-signed")
    expected = public_key or (public_key_hex(secret) if secret is not None else None)
    if expected is not None:
        result.trusted_key = expected.lower() == signed_by.lower()
        if not result.trusted_key:
            result.problems.append(f"signed by key {result.key_id}, not by this server's key {key_id(expected)}")
    for path, entry in sorted(listed.items()):
        if path in corrupted:
            continue
        if path not in contents:
            result.problems.append(f"{path} is listed in the manifest but missing from the pack")
            continue
        body = contents[path]
        if _sha256(body) != entry.get("sha256") or len(body) != entry.get("size"):
            result.problems.append(f"{path} was altered: its SHA-256 does not match the manifest")
        else:
            result.files_checked += 1
    for path in sorted(set(contents) - set(listed) - {MANIFEST, SIGNATURE} - set(corrupted)):
        result.problems.append(f"{path} is in the pack but not in the manifest")
    result.ok = not result.problems
    return result
