"""The ``auditray`` command line: thin over the library, light where it should be, clear on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("ray", "torch", "lancedb", "polars", "pyarrow", "sqlalchemy", "sentence_transformers")


def auditray(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditray.cli", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=600)


@pytest.mark.parametrize("argv", [["--help"], ["ingest", "--help"], ["audit", "--help"], ["generate", "--help"],
                                  ["demo", "--help"]])
def test_help_imports_no_heavy_library(argv: list[str]) -> None:
    code = (
        "import sys\nfrom auditray.cli import main\nsys.argv = ['auditray', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
    assert "Usage" in out
    assert out.strip().splitlines()[-1] == "LOADED []"


def test_contract_command_lists_the_ads_names() -> None:
    result = auditray("contract", "gl_detail")
    assert result.returncode == 0
    assert "journal_id" in result.stdout and "Journal_ID" in result.stdout and "required" in result.stdout


def test_settings_command_masks_the_database_password(tmp_path: Path) -> None:
    result = auditray("settings", "--json", env={"AUDITRAY_DATABASE_URL": "postgresql://a:hunter2@db/x",
                                                  "AUDITRAY_DATA_DIR": str(tmp_path)})
    shown = json.loads(result.stdout)
    assert "hunter2" not in result.stdout and shown["database_url"].startswith("postgresql://a:***@")


def test_ingest_check_reports_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "gl.csv"
    bad.write_text("Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,GL_Account_Number,Amount\n"
                   "US01,1,1,2025-13-01,1000,10.00\nUS01,1,2,2025-01-01,4000,ten\n")
    result = auditray("ingest", str(bad), "--check", env={"AUDITRAY_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1
    assert "row 2" in result.stdout and "Effective_Date" in result.stdout
    assert "row 3" in result.stdout and "'ten'" in result.stdout
    assert not (tmp_path / "data").exists(), "--check must store nothing"


def test_audit_verify_names_the_edited_event(tmp_path: Path) -> None:
    env = {"AUDITRAY_DATA_DIR": str(tmp_path)}
    assert auditray("db", "upgrade", env=env).returncode == 0
    import sqlite3

    from auditray.store import OrganizationCreate, make_engine, session_scope
    from auditray.store import services as svc

    engine = make_engine(f"sqlite:///{tmp_path / 'auditray.db'}")
    with session_scope(engine) as session:
        for slug in ("alpha", "beta", "gamma"):
            svc.create_organization(session, OrganizationCreate(name=slug.title(), slug=slug))
    engine.dispose()
    ok = auditray("audit", "verify", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    db = sqlite3.connect(tmp_path / "auditray.db")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    db.execute("UPDATE audit_events SET details = '{\"name\": \"Mallory\", \"slug\": \"beta\"}' WHERE seq = 2")
    db.commit()
    db.close()
    broken = auditray("audit", "verify", "--json", env=env)
    assert broken.returncode == 1
    verdict = json.loads(broken.stdout)
    assert verdict["first_bad_seq"] == 2 and verdict["problem"] == "edited"
