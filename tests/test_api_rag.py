"""Regulation search through the API: a firm's licensed texts stay the firm's (real MiniLM, real LanceDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api_support import World, build_world

LICENSED = """---
source: AICPA
standard: AU-C 240
title: Firm methodology excerpt on journal entries
---

# Journal entries near period end

Our firm's methodology requires the engagement team to test every manual journal entry posted to
revenue accounts in the last five business days of the period, and to obtain the approver's evidence
for each one (firm policy JE-7, quarterly override rotation).
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("rag"), None, with_data=False, with_passwords=False)


@pytest.mark.slow
def test_a_firms_licensed_texts_are_searchable_by_that_firm_only(world: World) -> None:
    client, alpha, beta = world.client, world.alpha, world.beta
    refused = client.post("/rag/documents", headers=alpha.headers("partner"),
                          files={"files": ("methodology.md", LICENSED.encode(), "text/markdown")})
    assert refused.status_code == 403, "only admins add to the corpus"
    ingested = client.post("/rag/documents", headers=alpha.headers("admin"),
                           files={"files": ("methodology.md", LICENSED.encode(), "text/markdown")})
    assert ingested.status_code == 201, ingested.text
    assert ingested.json()["chunks"] >= 1
    query = {"query": "override rotation policy JE-7 for manual revenue entries", "k": 3}
    found = client.post("/rag/search", headers=alpha.headers("staff"), json=query)
    assert found.status_code == 200, found.text
    assert any("JE-7" in hit["text"] for hit in found.json()["hits"])
    foreign = client.post("/rag/search", headers=beta.headers("partner"), json=query)
    assert foreign.status_code in (200, 409), foreign.text
    hits = foreign.json().get("hits", [])
    assert not any("JE-7" in hit["text"] for hit in hits) and "alpha" not in foreign.text.lower()
    answer = client.post("/rag/ask", headers=alpha.headers("senior"),
                         json={"question": "What does policy JE-7 require for manual revenue entries at period end?"})
    assert answer.status_code == 200, answer.text
    assert client.post("/rag/ask", headers=alpha.headers("client_contact"),
                       json={"question": "what is JE-7?"}).status_code == 403
    events = client.get("/audit/events", headers=alpha.headers("admin"), params={"action": "corpus.*"}).json()
    assert events["total"] >= 1, "the ingest is in the firm's audit trail"
    assert Path(world.settings.resolved_lancedb_uri).exists()
