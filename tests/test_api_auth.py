"""Signing in and out: passwords, tokens, refresh rotation, revocation at once, lockout, API keys, secrets.

The store-heavy flows run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from auditray.api import create_app
from auditray.api.app import InsecureConfiguration, refuse_weak_secrets
from auditray.settings import Settings
from pydantic import ValidationError

from tests.api_support import PASSWORD, World, build_world


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    """Both firms, no datasets, on the parametrized database (SQLite and PostgreSQL)."""
    world = build_world(tmp_path, None, database_url=db_url, with_data=False)
    yield world
    world.app.state.auditray.db.dispose()


@pytest.fixture
def sqlite_world(tmp_path: Path) -> World:
    return build_world(tmp_path, None, with_data=False)


def login(world: World, email: str, password: str = PASSWORD):
    return world.client.post("/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(world: World, firm) -> list[str]:
    body = world.client.get("/audit/events?limit=1000", headers=firm.headers("admin")).json()
    return [event["action"] for event in body["items"]]


def test_login_gives_an_hour_of_access_and_a_week_of_refresh(sqlite_world: World) -> None:
    world = sqlite_world
    response = login(world, world.alpha.emails["partner"])
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert 3590 <= tokens["expires_in"] <= 3600
    assert 7 * 86400 - 10 <= tokens["refresh_expires_in"] <= 7 * 86400
    me = world.client.get("/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.json()["user"]["email"] == world.alpha.emails["partner"]
    assert me.json()["permissions"]["engagement.create"] == "all"
    assert "auth.login" in audit_actions(world, world.alpha)


def test_five_failures_in_a_row_lock_the_account_even_against_the_right_password(world: World) -> None:
    email = world.alpha.emails["staff"]
    unknown = login(world, "nobody@alpha.example", "whatever password")
    for attempt in range(4):
        refused = login(world, email, f"wrong password {attempt}")
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == unknown.json()["error"]["message"] == "invalid email or password"
    locked = login(world, email, "wrong password 5")
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "account_locked"
    assert 800 <= int(locked.headers["Retry-After"]) <= 900
    still = login(world, email)
    assert still.status_code == 423, "the right password must not open a locked account"
    actions = audit_actions(world, world.alpha)
    assert actions.count("auth.login_failed") == 4
    assert actions.count("auth.lockout") == 1 and "auth.login_refused" in actions


def test_a_refresh_token_works_once_and_a_replay_ends_the_session(world: World) -> None:
    first = login(world, world.alpha.emails["partner"]).json()
    second = world.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert world.client.get("/me", headers=bearer(second.json()["access_token"])).status_code == 200
    replay = world.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "refresh_reused"
    # The whole session is over: the newest tokens stop working too.
    assert world.client.get("/me", headers=bearer(second.json()["access_token"])).status_code == 401
    again = world.client.post("/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert again.status_code == 401
    assert "auth.refresh_reused" in audit_actions(world, world.alpha)


def test_logout_takes_effect_on_the_next_request(sqlite_world: World) -> None:
    world = sqlite_world
    tokens = login(world, world.alpha.emails["partner"]).json()
    assert world.client.get("/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert world.client.post("/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    after = world.client.get("/me", headers=bearer(tokens["access_token"]))
    assert after.status_code == 401 and "ended" in after.json()["error"]["message"]
    assert world.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    # Other sessions of the same user are untouched.
    assert world.client.get("/me", headers=world.alpha.headers("partner")).status_code == 200


def test_revocation_deactivation_and_role_changes_act_at_once(world: World) -> None:
    alpha, client = world.alpha, world.client
    admin, staff_id = alpha.headers("admin"), alpha.users["staff"]
    staff = alpha.headers("staff")
    new_engagement = {"client_name": "Promoted Client", "name": "FY2026", "fiscal_year": 2026,
                      "period_start": "2026-01-01", "period_end": "2026-12-31", "materiality": "100.00",
                      "performance_materiality": "75.00"}
    assert client.post("/engagements", headers=staff, json=new_engagement).status_code == 403
    assert client.patch(f"/users/{staff_id}", headers=admin, json={"role": "manager"}).status_code == 200
    assert client.post("/engagements", headers=staff, json=new_engagement).status_code == 201

    revoked = client.post(f"/users/{alpha.users['senior']}/revoke-sessions", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["sessions_ended"] == 1
    assert client.get("/me", headers=alpha.headers("senior")).status_code == 401

    assert client.patch(f"/users/{staff_id}", headers=admin, json={"is_active": False}).status_code == 200
    assert client.get("/me", headers=staff).status_code == 401
    assert login(world, alpha.emails["staff"]).status_code == 401


def test_an_organization_keeps_at_least_one_admin(sqlite_world: World) -> None:
    alpha = sqlite_world.alpha
    response = sqlite_world.client.patch(f"/users/{alpha.users['admin']}", headers=alpha.headers("admin"),
                                         json={"role": "partner"})
    assert response.status_code == 409 and "last active admin" in response.json()["error"]["message"]


def test_changing_your_password_ends_your_sessions(sqlite_world: World) -> None:
    world, alpha = sqlite_world, sqlite_world.alpha
    tokens = login(world, alpha.emails["partner"]).json()
    weak = world.client.post("/me/password", headers=bearer(tokens["access_token"]),
                             json={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    wrong = world.client.post("/me/password", headers=bearer(tokens["access_token"]),
                              json={"current_password": "not it", "new_password": "a brand new passphrase"})
    assert wrong.status_code == 401
    changed = world.client.post("/me/password", headers=bearer(tokens["access_token"]),
                                json={"current_password": PASSWORD, "new_password": "a brand new passphrase"})
    assert changed.status_code == 204
    assert world.client.get("/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert login(world, alpha.emails["partner"]).status_code == 401
    assert login(world, alpha.emails["partner"], "a brand new passphrase").status_code == 200


def test_api_keys_are_shown_once_stored_hashed_and_revocable(sqlite_world: World) -> None:
    world = sqlite_world
    alpha, client = world.alpha, world.client
    admin = alpha.headers("admin")
    created = client.post(f"/users/{alpha.users['service']}/api-keys", headers=admin, json={"name": "etl"})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("ark_") and created.json()["prefix"] in key
    listed = client.get(f"/users/{alpha.users['service']}/api-keys", headers=admin).json()
    assert all("key" not in item for item in listed) and len(listed) == 2
    from auditray.store import make_engine

    engine = make_engine(world.settings.resolved_database_url)
    with engine.connect() as connection:
        stored = " ".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM api_keys").all())
    engine.dispose()
    assert key not in stored and key.split("_", 2)[2] not in stored
    assert client.get("/me", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/me", headers=bearer(key)).status_code == 200
    assert client.get("/me", headers={"X-API-Key": key[:-2] + "xx"}).status_code == 401
    assert client.delete(f"/api-keys/{created.json()['id']}", headers=admin).status_code == 200
    assert client.get("/me", headers={"X-API-Key": key}).status_code == 401
    person = client.post(f"/users/{alpha.users['staff']}/api-keys", headers=admin, json={"name": "no"})
    assert person.status_code == 409, "people sign in with passwords; keys are for service accounts"
    assert {"apikey.create", "apikey.revoke"} <= set(audit_actions(world, alpha))


def test_forged_expired_and_misused_tokens_are_refused(sqlite_world: World) -> None:
    world, alpha = sqlite_world, sqlite_world.alpha
    good = jwt.decode(alpha.tokens["partner"], options={"verify_signature": False})
    forged = jwt.encode(good, "another server's secret, long enough for HS256", algorithm="HS256")
    unsigned = jwt.encode(good, None, algorithm="none")
    expired_claims = {**good, "exp": int(time.time()) - 60}
    from auditray.auth.keys import derive_key

    expired = jwt.encode(expired_claims, derive_key(world.settings.secret_key, "jwt"), algorithm="HS256")
    for token, expected in ((forged, "not valid"), (unsigned, "not valid"), (expired, "expired"),
                            (alpha.refresh["partner"], "refresh token was given"), ("garbage", "not valid")):
        response = world.client.get("/me", headers=bearer(token))
        assert response.status_code == 401, token
        assert expected in response.json()["error"]["message"]
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert world.client.get("/me").status_code == 401


def test_production_refuses_default_or_weak_secrets(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="AUDITRAY_SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path)
    weak = Settings.model_construct(env="production", secret_key=Settings().secret_key, data_dir=tmp_path)
    with pytest.raises(InsecureConfiguration):
        refuse_weak_secrets(weak)
    repetitive = Settings(env="production", data_dir=tmp_path, secret_key="a" * 40)
    with pytest.raises(InsecureConfiguration):
        create_app(repetitive, migrate=False)
    strong = Settings(env="production", data_dir=tmp_path, secret_key="Vg8m2Qx-7wPz3Lr9Tk1Jc5Nd0Hs6Fb4Ya")
    create_app(strong)
