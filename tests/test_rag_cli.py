"""``auditray corpus``: ingest the starter corpus, search it, list versions, and the audit trail records it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_cli import auditray


@pytest.mark.slow
def test_ingest_then_search_from_the_command_line(tmp_path: Path) -> None:
    env = {"AUDITRAY_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    ingested = auditray("corpus", "ingest", "--starter", "--json", env=env)
    assert ingested.returncode == 0, ingested.stderr
    result = json.loads(ingested.stdout)
    assert result["tag"] == f"ingest-v{result['version']}" and result["chunks"] >= 250

    again = auditray("corpus", "ingest", "--starter", env=env)
    assert again.returncode == 0 and "nothing changed" in again.stdout

    found = auditray("corpus", "search", "journal entries made after year end", "--standard", "AS 2401", "-k", "3",
                     "--json", env=env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits["version"] == result["version"] and len(hits["hits"]) == 3
    assert {h["standard"] for h in hits["hits"]} == {"AS 2401"} and hits["hits"][0]["citation"] == "PCAOB AS 2401.61"

    listed = auditray("corpus", "versions", "--json", env=env)
    assert [json.loads(line)["tag"] for line in listed.stdout.splitlines()] == [result["tag"]]

    log = auditray("audit", "log", env=env)
    assert "corpus.ingest" in log.stdout and result["tag"] in log.stdout


def plain(text: str) -> str:
    """Typer's error box without its frame and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_bad_corpus_arguments_get_clear_errors(tmp_path: Path) -> None:
    env = {"AUDITRAY_DATA_DIR": str(tmp_path / "data")}
    missing = auditray("corpus", "ingest", str(tmp_path / "nope"), env=env)
    assert missing.returncode == 2 and "no such file or directory" in plain(missing.stderr)
    nothing = auditray("corpus", "ingest", env=env)
    assert nothing.returncode == 2 and "--starter" in plain(nothing.stderr)
    mode = auditray("corpus", "search", "x", "--mode", "semantic", env=env)
    assert mode.returncode == 2 and "hybrid, vector, fulltext" in plain(mode.stderr)
    bad_date = auditray("corpus", "ingest", str(tmp_path), "--effective-date", "2024-13-01", env=env)
    assert bad_date.returncode == 2 and "not a date" in plain(bad_date.stderr)
    empty = auditray("corpus", "versions", env=env)
    assert empty.returncode == 0 and "empty" in empty.stdout
