"""The repository layout keeps Python's own ``platform`` module reachable.

Our library lives under ``platform/auditray`` but ``platform/`` is not a package: if it were,
``import platform`` would find it instead of the standard module and break Ray and numpy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def test_platform_directory_is_not_a_package() -> None:
    assert (REPO_ROOT / "platform" / "auditray" / "__init__.py").is_file()
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()


def test_import_platform_gives_the_standard_module_with_repo_root_on_path() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import platform, auditray;"
        "print(platform.__file__); print(platform.python_version()); print(auditray.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO_ROOT)], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout.splitlines()
    assert Path(out[0]).resolve().parent == STDLIB
    assert out[1] == sys.version.split()[0]
    assert Path(out[2]).resolve().is_relative_to(REPO_ROOT / "platform" / "auditray")


WORKER_DRIVER = """
import json, os, sys
import ray

ray.init(address=sys.argv[1], runtime_env={"working_dir": sys.argv[2], "excludes": EXCLUDES}, log_to_driver=False)


@ray.remote
def inspect_worker():
    import platform as std_platform

    import auditray
    import numpy

    return {"platform": std_platform.__file__, "system": std_platform.system(), "cwd": os.getcwd(),
            "auditray": auditray.__file__, "numpy": numpy.__version__}


print(json.dumps(ray.get(inspect_worker.remote())))
"""


def test_import_platform_inside_a_ray_worker_with_the_repo_as_working_dir(ray_session) -> None:
    """A second driver joins the session's cluster with the repo as working_dir, like ``ray job submit``."""
    import ray

    excludes = [".venv", ".git", "**/__pycache__", "*.parquet", "notebooks", "benchmarks"]
    driver = WORKER_DRIVER.replace("EXCLUDES", repr(excludes))
    address = ray.get_runtime_context().gcs_address
    result = subprocess.run(
        [sys.executable, "-c", driver, address, str(REPO_ROOT)],
        capture_output=True, text=True, timeout=240, cwd="/", check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(seen["platform"]).resolve().parent == STDLIB
    assert seen["system"] == "Linux"
    # The worker really ran inside the uploaded copy of the repo, where platform/ sits in the cwd.
    assert (Path(seen["cwd"]) / "platform" / "auditray").is_dir()
    assert not (Path(seen["cwd"]) / "platform" / "__init__.py").exists()


@pytest.mark.parametrize("folder", ["serve_apps", "jobs", "notebooks", "panel_apps", "cluster", "tests", "benchmarks"])
def test_the_designed_layout_is_in_place(folder: str) -> None:
    assert (REPO_ROOT / folder).is_dir()
