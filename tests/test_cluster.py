"""The scale-out manifests stay consistent with the code they run."""

from __future__ import annotations

import re
from pathlib import Path

import ray
import yaml

from tests.conftest import REPO_ROOT

CLUSTER = REPO_ROOT / "cluster"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_raycluster_runs_the_ray_version_we_pin() -> None:
    manifest = load(CLUSTER / "kuberay" / "raycluster.yaml")
    assert manifest["kind"] == "RayCluster" and manifest["apiVersion"] == "ray.io/v1"
    assert manifest["spec"]["rayVersion"] == ray.__version__
    assert f"rayproject/ray:{ray.__version__}-py311" in (CLUSTER / "Dockerfile").read_text()


def test_every_node_group_reads_its_settings_from_the_one_secret() -> None:
    manifest = load(CLUSTER / "kuberay" / "raycluster.yaml")
    secret = load(CLUSTER / "kuberay" / "settings-secret.example.yaml")
    groups = [manifest["spec"]["headGroupSpec"], *manifest["spec"]["workerGroupSpecs"]]
    for group in groups:
        for container in group["template"]["spec"]["containers"]:
            assert {"secretRef": {"name": secret["metadata"]["name"]}} in container["envFrom"]
    assert secret["stringData"]["AUDITRAY_ENV"] == "production"
    assert all(key.startswith("AUDITRAY_") for key in secret["stringData"])


def test_ray_jobs_name_entrypoints_that_exist() -> None:
    job = load(CLUSTER / "kuberay" / "rayjob-demo.yaml")
    module = re.match(r"python -m (jobs\.\w+)", job["spec"]["entrypoint"]).group(1)
    assert (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file()
