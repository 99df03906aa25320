"""One error format, request ids, rate limits, health, metrics and the schema: what every caller relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from auditray.api.config import ApiSettings
from auditray.api.ratelimit import TokenBucketLimiter
from fastapi.testclient import TestClient

from tests.api_support import World, build_world

HEAVY = ("ray", "torch", "lancedb", "polars", "pyarrow", "sqlalchemy", "fastapi", "httpx")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("core"), None, with_data=False, with_passwords=False)


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details", "request_id"}, body
    assert body["error"]["request_id"] == response.headers["X-Request-ID"]
    return body["error"]


def test_every_kind_of_error_has_the_one_format(world: World) -> None:
    client, alpha = world.client, world.alpha
    partner = alpha.headers("partner")
    assert _error(client.get("/no/such/route"))["code"] == "not_found"
    assert _error(client.delete("/health"))["code"] == "method_not_allowed"
    assert _error(client.get("/me"))["code"] == "unauthorized"
    invalid = _error(client.post("/engagements", headers=partner, json={"name": ""}))
    assert invalid["code"] == "validation_error" and invalid["details"][0]["location"][0] == "body"
    assert "client_name" in str(invalid["details"])
    money = _error(client.post("/engagements", headers=partner, json={
        "client_name": "c", "name": "n", "fiscal_year": 2025, "period_start": "2025-01-01",
        "period_end": "2025-12-31", "materiality": 1000.5, "performance_materiality": "10.00"}))
    assert "never a float" in str(money["details"])
    bad_path = _error(client.get("/engagements/not-a-number", headers=partner))
    assert bad_path["code"] == "validation_error" and bad_path["details"][0]["location"] == ["path", "engagement_id"]
    assert _error(client.get("/engagements/999999", headers=partner))["code"] == "not_found"
    forbidden = _error(client.get("/users", headers=alpha.headers("staff")))
    assert forbidden["code"] == "forbidden" and "staff role may not" in forbidden["message"]
    finalized = _error(client.patch(f"/engagements/{alpha.engagements['finalized']}", headers=partner,
                                    json={"name": "late edit"}))
    assert finalized["code"] == "engagement_finalized"


def test_an_unexpected_failure_answers_500_with_only_the_request_id(tmp_path: Path) -> None:
    world = build_world(tmp_path, None, with_data=False, with_passwords=False)

    @world.app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    response = TestClient(world.app, raise_server_exceptions=False).get("/boom", headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 500
    error = _error(response)
    assert error == {"code": "internal_error", "message": "an unexpected error occurred; quote the request id",
                     "details": None, "request_id": "trace-42"}
    assert "secret internals" not in response.text


def test_request_ids_are_echoed_or_assigned(world: World) -> None:
    echoed = world.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assigned = world.client.get("/health")
    assert len(assigned.headers["X-Request-ID"]) == 32
    hostile = world.client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["X-Request-ID"] != "x" * 500, "an over-long id is replaced, never echoed"


def test_each_user_gets_a_token_bucket_and_429_says_when_to_retry(tmp_path: Path) -> None:
    world = build_world(tmp_path, None, with_data=False, with_passwords=False,
                        api_settings=ApiSettings(rate_per_second=0.5, rate_burst=3, login_per_minute=2))
    staff, senior = world.alpha.headers("staff"), world.alpha.headers("senior")
    statuses = [world.client.get("/me", headers=staff).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = world.client.get("/me", headers=staff)
    assert _error(refused)["code"] == "rate_limited" and 1 <= int(refused.headers["Retry-After"]) <= 2
    assert world.client.get("/me", headers=senior).status_code == 200, "buckets are per user"
    logins = [world.client.post("/auth/login", json={"email": "x@y.example", "password": "p"}).status_code
              for _ in range(3)]
    assert logins == [401, 401, 429], "sign-in attempts are limited per client address"


def test_the_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucketLimiter(rate=2.0, burst=2)
    assert bucket.take("u", now=0.0) == 0.0 and bucket.take("u", now=0.0) == 0.0
    assert bucket.take("u", now=0.0) == pytest.approx(0.5)
    assert bucket.take("u", now=0.5) == 0.0
    assert bucket.take("u", now=10.0) == 0.0 and bucket.take("u", now=10.0) == 0.0, "never more than the burst"
    assert bucket.take("u", now=10.0) > 0


def test_health_checks_the_database(world: World, tmp_path: Path) -> None:
    healthy = world.client.get("/health")
    assert healthy.status_code == 200 and healthy.json()["database"] == "ok"
    assert "completeness" in healthy.json()["run_kinds"]
    from auditray.api import create_app
    from auditray.runs import InlineLauncher

    from tests.api_support import make_settings

    settings = make_settings(tmp_path / "gone", f"sqlite:///{tmp_path / 'gone.db'}")
    app = create_app(settings, launcher=InlineLauncher())
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # the database file is now a directory: unreadable
    app.state.auditray.db.dispose()
    broken = TestClient(app).get("/health")
    assert broken.status_code == 503 and broken.json()["status"] == "degraded"


def test_metrics_count_requests_by_route_template(world: World) -> None:
    world.client.get(f"/engagements/{world.alpha.engagements['fieldwork']}", headers=world.alpha.headers("partner"))
    text = world.client.get("/metrics").text
    assert 'auditray_api_requests_total{method="GET",route="/engagements/{engagement_id}",status="200"}' in text
    assert "auditray_api_request_duration_seconds_bucket" in text


def test_the_openapi_schema_documents_the_one_error_format(world: World) -> None:
    schema = world.client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(schema)
    create = schema["paths"]["/engagements"]["post"]["responses"]
    assert create["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schema["components"]["securitySchemes"])
    assert world.client.get("/docs").status_code == 200


def test_import_auditray_stays_light_until_the_client_is_used() -> None:
    code = (f"import sys, auditray; before = [m for m in {HEAVY!r} if m in sys.modules]; auditray.Client; "
            "print(before, 'httpx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] True"


@pytest.mark.parametrize("argv", [["serve", "--help"], ["evidence", "--help"], ["evidence", "verify", "--help"],
                                  ["users", "--help"], ["users", "create", "--help"]])
def test_api_commands_help_imports_no_heavy_library(argv: list[str]) -> None:
    code = (
        "import sys\nfrom auditray.cli import main\nsys.argv = ['auditray', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
    assert "Usage" in out
    assert out.strip().splitlines()[-1] == "LOADED []"


def test_the_first_admin_is_created_from_the_command_line_and_signs_in(tmp_path: Path) -> None:
    import os

    from auditray.api import create_app
    from auditray.runs import InlineLauncher

    from tests.api_support import make_settings

    env = {**os.environ, "AUDITRAY_DATA_DIR": str(tmp_path / "data"), "AUDITRAY_ENV": "test"}

    def cli(*args: str, password: str = "first admin passphrase") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "auditray.cli", "users", *args, "--password-stdin"],
                              input=password + "\n", env=env, capture_output=True, text=True, timeout=120,
                              check=False)

    missing_org = cli("create", "ada@firm.example", "--org", "firm")
    assert missing_org.returncode == 2 and "--org-name" in missing_org.stderr
    weak = cli("create", "ada@firm.example", "--org", "firm", "--org-name", "Firm LLP", password="short")
    assert weak.returncode == 2 and "12 characters" in weak.stderr
    created = cli("create", "ada@firm.example", "--org", "firm", "--org-name", "Firm LLP")
    assert created.returncode == 0, created.stderr
    assert "created ada@firm.example (admin) in firm" in created.stdout
    assert cli("create", "ada@firm.example", "--org", "firm").returncode == 2, "emails are unique"
    settings = make_settings(tmp_path / "data")
    client = TestClient(create_app(settings, launcher=InlineLauncher()))
    tokens = client.post("/auth/login", json={"email": "ada@firm.example", "password": "first admin passphrase"})
    assert tokens.status_code == 200, tokens.text
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}).json()
    assert me["user"]["role"] == "admin" and me["organization"]["slug"] == "firm"
