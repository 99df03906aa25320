"""The API on Ray Serve: the deployment's wiring in local testing mode, then one real ``serve.run`` over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from auditray.api.local import free_port
from auditray.api.serve import DEPLOYMENT_NAME, build_app

from tests.api_support import build_world, generate_ledger

REPO = Path(__file__).resolve().parent.parent


def _overrides(world) -> dict:
    s = world.settings
    return {"env": "test", "data_dir": str(s.data_dir), "database_url": s.resolved_database_url, "engine": "local",
            "secret_key": s.secret_key.get_secret_value()}


def test_the_deployment_builds_the_app_in_the_replica(tmp_path: Path) -> None:
    """Serve's local testing mode runs the replica in this process: same constructor, same late-bound app."""
    from ray import serve

    world = build_world(tmp_path, None, with_data=False, with_passwords=False)
    handle = serve.run(build_app({"settings": _overrides(world), "launcher": "inline"}), name="api-local-test",
                       _local_testing_mode=True)
    health = handle.self_check.remote("/health").result()
    assert health["status"] == 200 and health["body"]["database"] == "ok"
    refused = handle.self_check.remote("/me").result()
    assert refused["status"] == 401 and refused["body"]["error"]["code"] == "unauthorized"
    assert refused["body"]["error"]["request_id"] == refused["headers"]["x-request-id"]


def test_the_serve_config_declares_the_api_application() -> None:
    from ray.serve.schema import ServeDeploySchema

    config = ServeDeploySchema(**yaml.safe_load((REPO / "serve_apps" / "serve_config.yaml").read_text()))
    api = next(app for app in config.applications if app.name == "api")
    assert api.import_path == "serve_apps.api:build_app" and api.route_prefix == "/"
    deployment = next(d for d in api.deployments if d.name == DEPLOYMENT_NAME)
    assert deployment.ray_actor_options.num_cpus == 0
    assert config.logging_config.enable_access_log is False


@pytest.mark.slow
def test_the_api_answers_over_http_on_ray_serve_and_runs_work_as_ray_tasks(ray_session, tmp_path: Path) -> None:
    from ray import serve

    world = build_world(tmp_path, generate_ledger(tmp_path / "ledger"), with_passwords=False)
    alpha = world.alpha
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        serve.run(build_app({"settings": _overrides(world), "num_replicas": 1,
                             "ray_actor_options": {"num_cpus": 0}}), name="api", route_prefix="/")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            assert http.get("/health").json()["status"] == "ok"
            me = http.get("/me", headers=alpha.headers("senior"))
            assert me.status_code == 200 and me.json()["user"]["email"] == alpha.emails["senior"]
            assert me.headers["x-request-id"]
            foreign = http.get(f"/engagements/{alpha.engagements['fieldwork']}", headers=world.beta.headers("partner"))
            assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
            run = http.post(f"/engagements/{alpha.engagements['fieldwork']}/runs", headers=alpha.headers("senior"),
                            json={"kind": "completeness", "parameters": {
                                "gl_dataset": alpha.datasets["gl_detail"],
                                "tb_dataset": alpha.datasets["trial_balance"], "engine": "local"}})
            assert run.status_code == 202, run.text
            import time

            deadline = time.monotonic() + 120
            while (status := http.get(f"/runs/{run.json()['id']}", headers=alpha.headers("senior")).json())[
                    "status"] == "running":
                assert time.monotonic() < deadline, status
                time.sleep(0.2)
            assert status["status"] == "succeeded", status
            metrics = http.get("/metrics").text
            assert 'route="/runs/{run_id}"' in metrics
    finally:
        serve.delete("api")
        serve.shutdown()
