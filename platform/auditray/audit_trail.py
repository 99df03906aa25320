"""The append-only, hash-chained audit trail: who did what to which engagement, dataset or run, and when.

Each event's ``hash`` is SHA-256 over the canonical serialisation of all its fields, ``prev_hash``
included, so every event vouches for the whole history before it (the documentation must let a
reviewer tell who performed and who reviewed the work and when: AU-C 230.09 / ISA 230.9, AS 1215.06).
The first event chains from ``GENESIS_HASH``.

``record`` appends inside the caller's transaction: the state change and its event commit together or
not at all. Writers never fork the chain: on PostgreSQL ``record`` takes a transaction-scoped advisory
lock before reading the head; on SQLite the store's engines begin every transaction with
``BEGIN IMMEDIATE``, so the transaction already holds the database's single write lock. Behind both,
``seq``, ``prev_hash`` and ``hash`` are UNIQUE, so a writer that bypassed the lock is refused by the
database rather than allowed to branch the chain.

``verify`` re-derives every hash and names the first event that was edited, deleted or reordered. It
proves the chain is internally consistent; to detect someone truncating the newest events or rewriting
the whole tail, keep the ``head()`` somewhere they cannot reach (a report, an e-mail, a ticket) and pass
it back as ``expected_head``.

Example::

    with session_scope(engine) as session:
        engagement.state = EngagementState.fieldwork
        record(session, actor="ann@firm.example", action="engagement.transition",
               resource_type="engagement", resource_id=engagement.id,
               details={"from": "planning", "to": "fieldwork"}, org_id=engagement.org_id)
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Literal

from sqlalchemy import or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from sqlmodel import select as select_model

from auditray.store.exceptions import AuditChainConflict
from auditray.store.models import AuditEvent, User
from auditray.store.types import utc_now

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"
# One advisory-lock key ("AUDITRAY" in ASCII, fits a signed bigint): the trail is a single chain across
# tenants, so all its writers take turns.
CHAIN_LOCK_KEY = 0x4155444954524159
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_VERIFY_PAGE = 1000

Problem = Literal["edited", "deleted", "reordered", "truncated"]


@dataclass(frozen=True)
class ChainHead:
    """The newest event's number and hash: publish it to make later truncation detectable."""

    seq: int
    hash: str


@dataclass(frozen=True)
class VerificationResult:
    """What ``verify`` found: ok with the number of events checked, or the first bad event and why."""

    ok: bool
    count: int
    message: str
    first_bad_seq: int | None = None
    problem: Problem | None = None

    def __bool__(self) -> bool:
        return self.ok


# --- Canonical form ---------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """JSON-ready form of a detail value: Decimal as its string, instants as UTC ISO 8601 (microseconds)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"audit details cannot hold {value!r}")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"audit details cannot hold {value!r}")
        return str(value)
    if isinstance(value, enum.Enum):
        return _canonical(value.value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"audit detail keys must be strings, not {type(key).__name__} ({key!r})")
            out[key] = _canonical(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    raise TypeError(f"audit details cannot hold a {type(value).__name__} ({value!r})")


def _iso(instant: datetime) -> str:
    if instant.utcoffset() is None:
        raise ValueError(f"audit timestamps must be time zone-aware, got {instant!r}")
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The details as they are stored and hashed (Decimal -> str, datetimes -> ISO, enums -> values)."""
    return _canonical(dict(details or {}))


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, no NaN: the same bytes for the same content on every platform."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(
    *,
    seq: int,
    at: datetime,
    org_id: int | None,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical serialisation of an event's fields, prev_hash included."""
    payload = {
        "seq": seq,
        "at": _iso(at),
        "org_id": org_id,
        "actor": actor,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "details": _canonical(dict(details)),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


# --- Writing ----------------------------------------------------------------------------------------


def actor_name(actor: str | User) -> str:
    """The actor as the trail names it: a user's email, or a string such as ``"system"``."""
    name = actor.email if isinstance(actor, User) else actor
    if not isinstance(name, str) or not name.strip():
        raise ValueError("every audit event needs an actor: a user's email or 'system'")
    return name.strip()


def lock_chain(session: Session) -> None:
    """Take the chain's write lock for the rest of the caller's transaction.

    Services call this first, before changing any row, so two transactions never wait on each other's
    rows while one holds the chain (no deadlock). On SQLite the transaction already holds the write lock
    from ``BEGIN IMMEDIATE``; there is nothing more to take.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def head(session: Session) -> ChainHead | None:
    """The newest event, or None for an empty trail."""
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return ChainHead(seq=row.seq, hash=row.hash) if row else None


def record(
    session: Session,
    *,
    actor: str | User,
    action: str,
    resource_type: str,
    resource_id: str | int | None,
    org_id: int | None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction and return it (flushed, not committed).

    ``org_id`` is required (None only for system-wide events) so that no tenant's event is recorded
    without its tenant by accident. Under PostgreSQL the session must use READ COMMITTED (the default):
    a REPEATABLE READ snapshot taken before the lock cannot see the latest head, and the database then
    refuses the append with ``AuditChainConflict``.
    """
    if not _ACTION.match(action):
        raise ValueError(f"action {action!r} must look like 'engagement.transition'")
    if not resource_type or len(resource_type) > 64:
        raise ValueError(f"resource_type {resource_type!r} must be 1-64 characters")
    who = actor_name(actor)
    stored_details = canonical_details(details)
    resource = None if resource_id is None else str(resource_id)
    # Pending changes go first, so a domain error (a duplicate slug, say) surfaces as itself and not as
    # an audit failure.
    session.flush()
    lock_chain(session)
    last = head(session)
    seq = last.seq + 1 if last else 1
    prev_hash = last.hash if last else GENESIS_HASH
    at = utc_now()
    event = AuditEvent(
        seq=seq,
        at=at,
        org_id=org_id,
        actor=who,
        action=action,
        resource_type=resource_type,
        resource_id=resource,
        details=stored_details,
        prev_hash=prev_hash,
        hash=event_hash(
            seq=seq,
            at=at,
            org_id=org_id,
            actor=who,
            action=action,
            resource_type=resource_type,
            resource_id=resource,
            details=stored_details,
            prev_hash=prev_hash,
        ),
    )
    session.add(event)
    try:
        session.flush()
    except IntegrityError as error:
        message = str(error.orig).lower()
        if "audit_events" in message or "prev_hash" in message or "pk_audit_events" in message:
            raise AuditChainConflict(
                f"another writer appended event {seq} at the same time; the database refused the fork. "
                "Retry the transaction."
            ) from error
        raise
    return event


# --- Reading ----------------------------------------------------------------------------------------


def events(
    session: Session,
    *,
    org_id: int | None = None,
    action: str | Sequence[str] | None = None,
    resource: str | tuple[str, str | int | None] | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    newest_first: bool = False,
) -> list[AuditEvent]:
    """A page of events in chain order, filtered.

    ``resource`` is a resource type (``"engagement"``), ``"engagement:12"`` or ``("engagement", 12)``.
    ``action`` ending in ``.*`` matches a family (``"run.*"``). ``since`` is inclusive, ``until``
    exclusive. Pass ``org_id`` for anything a tenant's user will see: None means every tenant.
    """
    if not 1 <= limit <= 10_000:
        raise ValueError("limit must be between 1 and 10000")
    if offset < 0:
        raise ValueError("offset must not be negative")
    query = select_model(AuditEvent)
    if org_id is not None:
        query = query.where(AuditEvent.org_id == org_id)
    if action is not None:
        actions = [action] if isinstance(action, str) else list(action)
        exact = [a for a in actions if not a.endswith(".*")]
        families = [a[:-1] for a in actions if a.endswith(".*")]
        conditions = []
        if exact:
            conditions.append(AuditEvent.action.in_(exact))
        conditions.extend(AuditEvent.action.startswith(prefix, autoescape=True) for prefix in families)
        query = query.where(or_(*conditions))
    if resource is not None:
        if isinstance(resource, str):
            resource_type, _, resource_id = resource.partition(":")
            resource_tuple: tuple[str, str | int | None] = (resource_type, resource_id or None)
        else:
            resource_tuple = resource
        query = query.where(AuditEvent.resource_type == resource_tuple[0])
        if resource_tuple[1] is not None:
            query = query.where(AuditEvent.resource_id == str(resource_tuple[1]))
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq.asc()
    return list(session.exec(query.order_by(order).limit(limit).offset(offset)).all())


# --- Verifying --------------------------------------------------------------------------------------

_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.org_id,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.resource_type,
    AuditEvent.resource_id,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def _recompute(row: Any, seq: int | None = None) -> str:
    return event_hash(
        seq=row.seq if seq is None else seq,
        at=row.at,
        org_id=row.org_id,
        actor=row.actor,
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        details=row.details if isinstance(row.details, Mapping) else {"__not_an_object__": row.details},
        prev_hash=row.prev_hash,
    )


def _describe(row: Any) -> str:
    try:
        when = _iso(row.at)
    except (ValueError, AttributeError):
        when = str(row.at)
    return f"event {row.seq} ({row.action} at {when})"


def _find(session: Session, column: Any, value: Any) -> Any:
    return session.execute(select(*_COLUMNS).where(column == value).limit(1)).first()


def verify(session: Session, *, expected_head: ChainHead | None = None) -> VerificationResult:
    """Walk the chain in ``seq`` order and report the first event that was edited, deleted or reordered.

    Reads the database directly (not the session's cached objects), a page at a time, so it checks what
    is stored and scales to long trails. With ``expected_head`` (a ``head()`` kept elsewhere) it also
    detects that the newest events were removed or the tail rewritten.
    """
    previous: Any = None
    count = 0
    while True:
        query = select(*_COLUMNS).order_by(AuditEvent.seq).limit(_VERIFY_PAGE)
        if previous is not None:
            query = query.where(AuditEvent.seq > previous.seq)
        page = session.execute(query).all()
        if not page:
            break
        for row in page:
            problem = _check(session, row, previous)
            if problem is not None:
                return problem
            previous = row
            count += 1
    if expected_head is not None:
        problem = _check_head(session, previous, expected_head)
        if problem is not None:
            return problem
    if count == 0:
        return VerificationResult(ok=True, count=0, message="the audit trail is empty")
    return VerificationResult(
        ok=True,
        count=count,
        message=f"the audit trail is intact: {count} events, from event 1 to {_describe(previous)}",
    )


def _check(session: Session, row: Any, previous: Any) -> VerificationResult | None:
    expected_seq = previous.seq + 1 if previous is not None else 1
    expected_prev = previous.hash if previous is not None else GENESIS_HASH

    if row.seq != expected_seq:
        # A gap. Either the missing event is gone, or it still exists elsewhere in the chain: the event
        # that should follow `previous` is the one that names previous's hash as its predecessor.
        successor = _find(session, AuditEvent.prev_hash, expected_prev)
        if (
            successor is not None
            and successor.seq != expected_seq
            and _recompute(successor, expected_seq) == successor.hash
        ):
            return VerificationResult(
                ok=False,
                count=expected_seq - 1,
                first_bad_seq=expected_seq,
                problem="reordered",
                message=(
                    f"event {expected_seq} was reordered: it was recorded as event {expected_seq} "
                    f"but now sits at position {successor.seq} ({successor.action})"
                ),
            )
        after = f"event {previous.seq}" if previous is not None else "the genesis hash"
        missing = (
            f"event {expected_seq}"
            if row.seq == expected_seq + 1
            else f"events {expected_seq} to {row.seq - 1}"
        )
        return VerificationResult(
            ok=False,
            count=expected_seq - 1,
            first_bad_seq=expected_seq,
            problem="deleted",
            message=f"{missing} {'was' if row.seq == expected_seq + 1 else 'were'} deleted: "
            f"the chain jumps from {after} to {_describe(row)}",
        )

    if _recompute(row) != row.hash:
        # Content moved from another position still hashes correctly under the seq it was recorded with,
        # which is the position right after the event its prev_hash names.
        predecessor = _find(session, AuditEvent.hash, row.prev_hash)
        if predecessor is not None and predecessor.seq + 1 != row.seq:
            original = predecessor.seq + 1
            if _recompute(row, original) == row.hash:
                return VerificationResult(
                    ok=False,
                    count=row.seq - 1,
                    first_bad_seq=row.seq,
                    problem="reordered",
                    message=(
                        f"{_describe(row)} was reordered: its content was recorded as event {original}, "
                        f"after event {predecessor.seq}, but now sits at position {row.seq}"
                    ),
                )
        return VerificationResult(
            ok=False,
            count=row.seq - 1,
            first_bad_seq=row.seq,
            problem="edited",
            message=f"{_describe(row)} was edited: its hash does not match its content",
        )

    if row.prev_hash != expected_prev:
        # Both events hash correctly on their own, yet they do not link: the earlier one was replaced or
        # re-hashed after the later one was recorded (or the first event no longer starts at genesis).
        if previous is None:
            return VerificationResult(
                ok=False,
                count=0,
                first_bad_seq=row.seq,
                problem="edited",
                message=f"{_describe(row)} was edited: it does not chain from the genesis hash",
            )
        return VerificationResult(
            ok=False,
            count=previous.seq - 1,
            first_bad_seq=previous.seq,
            problem="edited",
            message=(
                f"{_describe(previous)} was edited: it was re-hashed after event {row.seq} had "
                "chained to its original hash"
            ),
        )
    return None


def _check_head(session: Session, last: Any, expected: ChainHead) -> VerificationResult | None:
    if last is None or last.seq < expected.seq:
        ends = f"ends at {_describe(last)}" if last is not None else "is empty"
        return VerificationResult(
            ok=False,
            count=last.seq if last is not None else 0,
            first_bad_seq=(last.seq + 1 if last else 1),
            problem="truncated",
            message=f"events after {last.seq if last else 0} up to the published head {expected.seq} were "
            f"deleted: the chain {ends}",
        )
    anchored = _find(session, AuditEvent.seq, expected.seq) if last.seq != expected.seq else last
    if anchored is None or anchored.hash != expected.hash:
        return VerificationResult(
            ok=False,
            count=expected.seq - 1,
            first_bad_seq=expected.seq,
            problem="edited",
            message=(
                f"event {expected.seq} does not match the published head: the chain was rewritten "
                f"up to or after it"
            ),
        )
    return None
