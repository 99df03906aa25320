"""The audit trail, read as an auditor's checklist: every event chains to the one before it, tampering
is found and named (edited, deleted, reordered), nothing forks under concurrent writers, and an event
commits only with the change it records."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from auditray import audit_trail
from auditray.audit_trail import GENESIS_HASH, ChainHead, record, verify
from auditray.store import (
    AlreadyExists,
    AuditChainConflict,
    AuditEvent,
    DatasetCreate,
    JobRunCreate,
    OrganizationCreate,
    make_engine,
    session_scope,
)
from auditray.store import services as svc
from sqlalchemy import Engine, update
from sqlalchemy.exc import DBAPIError

from tests.store_fixtures import Tenant, drop_append_only_triggers

AUDIT = AuditEvent.__table__


def append(engine: Engine, count: int, *, org_id: int | None = None, action: str = "test.append") -> None:
    with session_scope(engine) as session:
        for n in range(count):
            record(
                session,
                actor="system",
                action=action,
                resource_type="test",
                resource_id=n,
                org_id=org_id,
                details={"n": n},
            )


def verify_now(engine: Engine, **kwargs: object) -> audit_trail.VerificationResult:
    with session_scope(engine) as session:
        return verify(session, **kwargs)


def all_events(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as session:
        return audit_trail.events(session, limit=10_000)


def tamper(engine: Engine, *statements: Callable) -> None:
    """Run raw writes on the audit table, as someone with database access would, triggers dropped."""
    drop_append_only_triggers(engine)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(statement())


# --- The chain --------------------------------------------------------------------------------------


def test_the_first_event_chains_from_the_genesis_hash_and_hashes_its_canonical_content(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        event = record(
            session,
            actor="ann@firm.example",
            action="engagement.create",
            resource_type="engagement",
            resource_id=7,
            org_id=None,
            details={"materiality": Decimal("12345678901234.56"), "b": [1, 2], "a": "ü"},
        )
    stored = all_events(engine)[0]
    assert (stored.seq, stored.prev_hash) == (1, GENESIS_HASH)
    assert stored.details == {"materiality": "12345678901234.56", "b": [1, 2], "a": "ü"}
    # The canonical form, written out by hand: sorted keys, no spaces, ISO UTC time, Decimal as string.
    at = stored.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    canonical = (
        '{"action":"engagement.create","actor":"ann@firm.example","at":"' + at + '",'
        '"details":{"a":"ü","b":[1,2],"materiality":"12345678901234.56"},'
        '"org_id":null,"prev_hash":"' + "0" * 64 + '","resource_id":"7","resource_type":"engagement","seq":1}'
    )
    assert stored.hash == event.hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_every_event_names_the_hash_of_the_one_before(engine: Engine) -> None:
    append(engine, 5)
    chain = all_events(engine)
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert [e.prev_hash for e in chain] == [GENESIS_HASH] + [e.hash for e in chain[:-1]]
    assert len({e.hash for e in chain}) == 5


def test_an_intact_chain_verifies_with_its_count(engine: Engine) -> None:
    assert verify_now(engine).ok and verify_now(engine).count == 0
    append(engine, 12)
    result = verify_now(engine)
    assert result.ok and bool(result)
    assert result.count == 12
    assert result.first_bad_seq is None and "intact: 12 events" in result.message


def test_details_are_stored_as_they_were_hashed(engine: Engine) -> None:
    moment = datetime(2024, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)
    with session_scope(engine) as session:
        record(
            session,
            actor="system",
            action="test.types",
            resource_type="test",
            resource_id=None,
            org_id=None,
            details={
                "when": moment,
                "day": moment.date(),
                "amount": Decimal("-0.10"),
                "ratio": 0.25,
                "nested": {"tags": ("x", "y")},
                "none": None,
            },
        )
    (event,) = all_events(engine)
    assert event.details == {
        "when": "2024-12-31T23:59:59.123456+00:00",
        "day": "2024-12-31",
        "amount": "-0.10",
        "ratio": 0.25,
        "nested": {"tags": ["x", "y"]},
        "none": None,
    }
    assert verify_now(engine).ok


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"action": "Engagement Create"}, ValueError),
        ({"actor": "  "}, ValueError),
        ({"details": {"x": float("nan")}}, ValueError),
        ({"details": {1: "key is not a string"}}, TypeError),
        ({"details": {"x": object()}}, TypeError),
        ({"details": {"at": datetime(2024, 1, 1)}}, ValueError),  # naive time is ambiguous evidence
    ],
)
def test_malformed_events_are_refused(engine: Engine, kwargs: dict, error: type[Exception]) -> None:
    fields = {
        "actor": "system",
        "action": "test.bad",
        "resource_type": "test",
        "resource_id": 1,
        "org_id": None,
        "details": {},
    }
    fields.update(kwargs)
    with pytest.raises(error), session_scope(engine) as session:
        record(session, **fields)
    assert all_events(engine) == []


# --- Same transaction --------------------------------------------------------------------------------


def test_an_event_of_a_rolled_back_transaction_never_existed(engine: Engine) -> None:
    append(engine, 2)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        record(session, actor="system", action="test.lost", resource_type="test", resource_id=1, org_id=None)
        raise RuntimeError("the state change failed after the event was written")
    append(engine, 1, action="test.kept")
    chain = all_events(engine)
    assert [(e.seq, e.action) for e in chain] == [(1, "test.append"), (2, "test.append"), (3, "test.kept")]
    assert verify_now(engine).ok


# --- Database-level protection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"]
)
def test_the_database_refuses_to_update_or_delete_events(engine: Engine, statement: str) -> None:
    append(engine, 3)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert verify_now(engine).count == 3


def test_the_database_refuses_a_second_event_with_the_same_predecessor(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer working from a stale head (as if the lock were bypassed) cannot fork the chain."""
    append(engine, 3)
    stale = ChainHead(seq=2, hash=all_events(engine)[1].hash)
    monkeypatch.setattr(audit_trail, "head", lambda session: stale)
    with pytest.raises(AuditChainConflict, match="refused the fork"), session_scope(engine) as session:
        record(session, actor="system", action="test.fork", resource_type="test", resource_id=1, org_id=None)
    monkeypatch.undo()
    result = verify_now(engine)
    assert result.ok and result.count == 3


# --- Tampering is detected and the first bad event named ---------------------------------------------


def test_an_edited_event_is_named(engine: Engine) -> None:
    append(engine, 6)
    tamper(engine, lambda: update(AUDIT).where(AUDIT.c.seq == 4).values(details={"n": 300}))
    result = verify_now(engine)
    assert not result.ok
    assert (result.first_bad_seq, result.problem, result.count) == (4, "edited", 3)
    at = all_events(engine)[3].at.astimezone(UTC).isoformat(timespec="microseconds")
    assert result.message == f"event 4 (test.append at {at}) was edited: its hash does not match its content"


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "mallory@firm.example"},
        {"action": "test.harmless"},
        {"org_id": None, "resource_id": "99"},
        {"resource_type": "other"},
        {"at": datetime(2020, 1, 1, tzinfo=UTC)},
        {"prev_hash": "f" * 64},
    ],
    ids=lambda change: "+".join(change),
)
def test_any_edited_field_is_detected(engine: Engine, change: dict) -> None:
    append(engine, 3, org_id=None)
    tamper(engine, lambda: update(AUDIT).where(AUDIT.c.seq == 2).values(**change))
    result = verify_now(engine)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 2, "edited")


def test_an_event_edited_and_re_hashed_is_still_named(engine: Engine) -> None:
    append(engine, 5)
    target = all_events(engine)[2]
    forged_details = {"n": 999}
    forged_hash = audit_trail.event_hash(
        seq=target.seq,
        at=target.at,
        org_id=target.org_id,
        actor=target.actor,
        action=target.action,
        resource_type=target.resource_type,
        resource_id=target.resource_id,
        details=forged_details,
        prev_hash=target.prev_hash,
    )
    tamper(
        engine, lambda: update(AUDIT).where(AUDIT.c.seq == 3).values(details=forged_details, hash=forged_hash)
    )
    result = verify_now(engine)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 3, "edited")
    assert "re-hashed after event 4" in result.message


def test_a_deleted_event_is_named(engine: Engine) -> None:
    append(engine, 6)
    tamper(engine, lambda: AUDIT.delete().where(AUDIT.c.seq == 3))
    result = verify_now(engine)
    assert (result.ok, result.first_bad_seq, result.problem, result.count) == (False, 3, "deleted", 2)
    assert result.message.startswith("event 3 was deleted: the chain jumps from event 2 to event 4 (")


def test_deleting_the_first_events_is_detected(engine: Engine) -> None:
    append(engine, 4)
    tamper(engine, lambda: AUDIT.delete().where(AUDIT.c.seq <= 2))
    result = verify_now(engine)
    assert (result.first_bad_seq, result.problem) == (1, "deleted")
    assert result.message.startswith("events 1 to 2 were deleted: the chain jumps from the genesis hash")


def test_deleting_and_renumbering_is_detected(engine: Engine) -> None:
    append(engine, 5)
    tamper(
        engine,
        lambda: AUDIT.delete().where(AUDIT.c.seq == 3),
        lambda: update(AUDIT).where(AUDIT.c.seq == 4).values(seq=3),
        lambda: update(AUDIT).where(AUDIT.c.seq == 5).values(seq=4),
    )
    result = verify_now(engine)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_swapped_events_are_named_as_reordered(engine: Engine) -> None:
    append(engine, 6)
    tamper(
        engine,
        lambda: update(AUDIT).where(AUDIT.c.seq == 2).values(seq=-2),
        lambda: update(AUDIT).where(AUDIT.c.seq == 5).values(seq=2),
        lambda: update(AUDIT).where(AUDIT.c.seq == -2).values(seq=5),
    )
    result = verify_now(engine)
    assert (result.ok, result.first_bad_seq, result.problem, result.count) == (False, 2, "reordered", 1)
    assert "was recorded as event 5, after event 4, but now sits at position 2" in result.message


def test_an_event_moved_to_the_end_is_named_as_reordered(engine: Engine) -> None:
    append(engine, 5)
    tamper(engine, lambda: update(AUDIT).where(AUDIT.c.seq == 3).values(seq=100))
    result = verify_now(engine)
    assert (result.first_bad_seq, result.problem) == (3, "reordered")
    assert "now sits at position 100" in result.message


def test_only_the_first_of_several_tampered_events_is_named(engine: Engine) -> None:
    append(engine, 8)
    tamper(
        engine,
        lambda: update(AUDIT).where(AUDIT.c.seq == 6).values(actor="mallory"),
        lambda: AUDIT.delete().where(AUDIT.c.seq == 7),
        lambda: update(AUDIT).where(AUDIT.c.seq == 3).values(details={"n": -1}),
    )
    assert verify_now(engine).first_bad_seq == 3


def test_truncating_the_newest_events_is_detected_against_a_published_head(engine: Engine) -> None:
    append(engine, 5)
    with session_scope(engine) as session:
        published = audit_trail.head(session)
    assert published == ChainHead(seq=5, hash=all_events(engine)[-1].hash)
    assert verify_now(engine, expected_head=published).ok
    tamper(engine, lambda: AUDIT.delete().where(AUDIT.c.seq >= 4))
    # Without the published head a shortened chain is indistinguishable from a young one...
    assert verify_now(engine).ok
    # ...with it, the truncation is named.
    result = verify_now(engine, expected_head=published)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 4, "truncated")


def test_a_rewritten_tail_is_detected_against_a_published_head(engine: Engine) -> None:
    append(engine, 3)
    with session_scope(engine) as session:
        published = audit_trail.head(session)
    tamper(engine, lambda: AUDIT.delete().where(AUDIT.c.seq == 3))
    append(engine, 1, action="test.forged")
    assert verify_now(engine).ok  # internally consistent, re-chained from event 2
    result = verify_now(engine, expected_head=published)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 3, "edited")


def test_verification_pages_through_long_chains(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_trail, "_VERIFY_PAGE", 7)
    append(engine, 30)
    assert verify_now(engine).count == 30
    tamper(engine, lambda: update(AUDIT).where(AUDIT.c.seq == 22).values(actor="mallory"))
    assert verify_now(engine).first_bad_seq == 22


# --- Reading the trail ------------------------------------------------------------------------------


def test_events_filter_by_tenant_action_resource_time_and_page(
    engine: Engine, tenant: Tenant, make_tenant: Callable[[str], Tenant], make_engagement: Callable[..., int]
) -> None:
    first = make_engagement()
    second = make_engagement(name="FY2024 review of interim information")
    rival = make_tenant("rival")
    with session_scope(engine) as session:
        svc.transition_engagement(
            session,
            engagement_id=first,
            to_state="fieldwork",
            org_id=tenant.org_id,
            actor=tenant.partner_email,
        )
        svc.start_run(
            session,
            JobRunCreate(kind="je_tests", engagement_id=first),
            org_id=tenant.org_id,
            actor="system",
        )

    with session_scope(engine) as session:
        ours = audit_trail.events(session, org_id=tenant.org_id)
        assert [e.action for e in ours] == [
            "organization.create",
            "user.create",
            "engagement.create",
            "engagement.create",
            "engagement.transition",
            "run.start",
        ]
        assert all(e.org_id == rival.org_id for e in audit_trail.events(session, org_id=rival.org_id))
        assert [e.resource_id for e in audit_trail.events(session, action="engagement.create")] == [
            str(first),
            str(second),
        ]
        history = audit_trail.events(session, resource=f"engagement:{first}")
        assert [e.action for e in history] == ["engagement.create", "engagement.transition"]
        assert audit_trail.events(session, resource=("engagement", first)) == history
        assert len(audit_trail.events(session, resource="engagement")) == 3
        assert [e.action for e in audit_trail.events(session, action="run.*")] == ["run.start"]
        assert [e.actor for e in audit_trail.events(session, actor="system", org_id=tenant.org_id)] == [
            "system",
            "system",
            "system",
        ]
        everything = audit_trail.events(session)
        assert [e.seq for e in audit_trail.events(session, limit=2, offset=3)] == [4, 5]
        assert audit_trail.events(session, limit=1, newest_first=True)[0].seq == everything[-1].seq
        cut = everything[4].at
        assert [e.seq for e in audit_trail.events(session, since=cut)] == [
            e.seq for e in everything if e.at >= cut
        ]
        assert audit_trail.events(session, until=everything[0].at) == []
        assert audit_trail.events(session, since=datetime.now(UTC) + timedelta(days=1)) == []


# --- Concurrent writers ------------------------------------------------------------------------------

WRITERS = 4
EVENTS_PER_WRITER = 15


def _run_concurrently(work: Callable[[int], None], writers: int = WRITERS) -> list[BaseException]:
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(index)
        except BaseException as error:  # noqa: BLE001 - collected and asserted on below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


def test_concurrent_writers_keep_one_unbroken_chain(engine: Engine) -> None:
    def work(index: int) -> None:
        for n in range(EVENTS_PER_WRITER):
            # Each event in its own transaction, from a session of its own, as separate requests would.
            with session_scope(engine) as session:
                record(
                    session,
                    actor=f"writer{index}@firm.example",
                    action="test.concurrent",
                    resource_type="test",
                    resource_id=f"{index}-{n}",
                    org_id=None,
                    details={"n": n},
                )

    assert _run_concurrently(work) == []
    chain = all_events(engine)
    assert [e.seq for e in chain] == list(range(1, WRITERS * EVENTS_PER_WRITER + 1))
    assert {e.resource_id for e in chain} == {
        f"{i}-{n}" for i in range(WRITERS) for n in range(EVENTS_PER_WRITER)
    }
    result = verify_now(engine)
    assert result.ok and result.count == WRITERS * EVENTS_PER_WRITER, result.message


def test_concurrent_services_on_the_same_engagement_serialize_without_deadlock(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()

    def work(index: int) -> None:
        for n in range(5):
            with session_scope(engine) as session:
                svc.register_dataset(
                    session,
                    DatasetCreate(
                        engagement_id=engagement_id,
                        kind="gl_detail",
                        name=f"gl {index}-{n}",
                        uri=f"gl/{index}-{n}.parquet",
                        row_count=n,
                        schema_version="1.0",
                        content_sha256=f"{index:02x}{n:02x}" * 16,
                    ),
                    org_id=tenant.org_id,
                    actor=tenant.partner_email,
                )
                svc.start_run(
                    session,
                    JobRunCreate(kind="je_tests", engagement_id=engagement_id),
                    org_id=tenant.org_id,
                    actor=tenant.partner_email,
                )

    assert _run_concurrently(work) == []
    result = verify_now(engine)
    # 3 setup events (organization, partner, engagement) + 2 per transaction.
    assert result.ok and result.count == 3 + WRITERS * 5 * 2, result.message


def test_concurrent_writers_from_separate_engines_keep_one_chain(db_url: str) -> None:
    """Separate engines stand for separate processes (the CLI and a Ray job, say) sharing one database."""
    from auditray.store import init_db

    init_db(db_url)
    engines = [make_engine(db_url) for _ in range(3)]
    try:

        def work(index: int) -> None:
            for n in range(10):
                with session_scope(engines[index]) as session:
                    record(
                        session,
                        actor="system",
                        action="test.process",
                        resource_type="test",
                        resource_id=f"{index}-{n}",
                        org_id=None,
                    )

        assert _run_concurrently(work, writers=3) == []
        with session_scope(engines[0]) as session:
            result = verify(session)
        assert result.ok and result.count == 30, result.message
    finally:
        for engine in engines:
            engine.dispose()


def test_an_organization_created_concurrently_twice_exists_once(engine: Engine) -> None:
    outcomes: list[str] = []

    def work(index: int) -> None:
        try:
            with session_scope(engine) as session:
                svc.create_organization(session, OrganizationCreate(name="Same LLP", slug="same"))
            outcomes.append("created")
        except AlreadyExists:
            outcomes.append("refused")

    assert _run_concurrently(work) == []
    assert sorted(outcomes) == ["created"] + ["refused"] * (WRITERS - 1)
    assert verify_now(engine).count == 1
