"""A fuzz run of the OpenAPI schema: no generated request, however odd, gets a server error.

Schemathesis generates requests for every operation of the app's own schema (path and query values,
JSON and multipart bodies, valid and not) and sends them, signed in as a partner's service account of
a firm with data, so requests reach the routes' logic and not only the authentication. Any 5xx fails.
The run is bounded (a few examples per operation, fixed seed) to stay near half a minute.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.api_support import World, build_world, generate_ledger

EXAMPLES = 20
# Sign-in routes hash a password per attempt (argon2, by design slow): fewer examples there.
SLOW = {"POST /auth/login": 3, "POST /auth/token": 3}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from auditray.auth import services as auth
    from auditray.store import UserCreate, make_engine, session_scope
    from auditray.store import services as svc
    from auditray.store.models import Role

    tmp = tmp_path_factory.mktemp("fuzz")
    world = build_world(tmp, generate_ledger(tmp / "ledger"), with_passwords=False)
    alpha = world.alpha
    engine = make_engine(world.settings.resolved_database_url)
    with session_scope(engine) as session:
        robot = svc.create_user(session, UserCreate(email="fuzzer@alpha.example", full_name="Fuzzer",
                                                    role=Role.partner, is_service_account=True),
                                org_id=alpha.org_id, actor="system")
        _, key = auth.create_api_key(session, user_id=robot.id, org_id=alpha.org_id, name="fuzz", actor="system")
    engine.dispose()
    world.fuzz_key = key
    return world


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    headers = {"X-API-Key": world.fuzz_key}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 55
    statuses: set[int] = set()
    for operation in operations:
        budget = SLOW.get(operation.label, EXAMPLES)

        @settings(max_examples=budget, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def call(case) -> None:
            response = case.call(headers=headers)
            statuses.add(response.status_code)
            assert response.status_code < 500, f"{response.status_code} {response.text[:300]}"

        try:
            call()
        except AssertionError as error:
            failures.append(f"{operation.label}: {str(error)[:600]}")
    assert failures == []
    assert {200, 404, 422} <= statuses, "the fuzz must reach the routes, not just the authentication"


def test_the_fuzz_signs_in_as_a_partner(world: World) -> None:
    me = world.client.get("/me", headers={"X-API-Key": world.fuzz_key}).json()
    assert me["user"]["role"] == "partner" and me["user"]["is_service_account"]
    assert Path(world.ledger.exports["ads_csv"]).is_file()
