"""The Serve side of regulation search: the batched embedding deployment for real, the LLM app's guard rails."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

TEXTS = [
    "When must journal entries made after year end be tested?",
    "How large should an attribute sample be for a test of controls?",
    "Management refuses to sign the representation letter.",
    "Negative confirmation requests for small receivable balances.",
    "Going concern: management's plans to sell assets.",
]


@pytest.mark.slow
def test_the_embedding_deployment_returns_the_librarys_vectors(ray_session) -> None:
    import httpx
    from auditray.rag.embeddings import embed_texts
    from ray import serve

    from serve_apps.embeddings import build_app

    expected = embed_texts(TEXTS)
    try:
        handle = serve.run(build_app({"num_replicas": 1, "ray_actor_options": {"num_cpus": 0},
                                      "max_batch_size": 8, "batch_wait_timeout_s": 0.05}),
                           name="embeddings", route_prefix="/embeddings")
        single = np.array(handle.embed.remote(TEXTS[0]).result(timeout_s=180))
        np.testing.assert_allclose(single, expected[0], atol=1e-5)
        # Concurrent single requests are grouped by @serve.batch and each still gets its own vector back.
        responses = [handle.embed.remote(text) for text in TEXTS]
        np.testing.assert_allclose(np.array([r.result(timeout_s=60) for r in responses]), expected, atol=1e-5)
        many = np.array(handle.embed_many.remote(TEXTS).result(timeout_s=60))
        np.testing.assert_allclose(many, expected, atol=1e-5)
        assert many.shape == (len(TEXTS), 384) and np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
        with pytest.raises(Exception, match="non-empty string"):
            handle.embed.remote("   ").result(timeout_s=60)

        response = httpx.post("http://127.0.0.1:8000/embeddings", json={"input": TEXTS[:2]}, timeout=60)
        assert response.status_code == 200
        body = response.json()
        assert [d["index"] for d in body["data"]] == [0, 1] and body["model"] == "all-MiniLM-L6-v2"
        np.testing.assert_allclose(np.array([d["embedding"] for d in body["data"]]), expected[:2], atol=1e-5)
        refused = httpx.post("http://127.0.0.1:8000/embeddings", json={"input": []}, timeout=60)
        assert refused.status_code == 400 and "input" in refused.json()["error"]["message"]
    finally:
        serve.shutdown()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed: this is a GPU node")
def test_building_the_llm_app_on_a_cpu_machine_names_the_gpu_extra() -> None:
    from serve_apps import llm  # importing the module needs no vLLM

    with pytest.raises(llm.GPUExtraMissing, match=re.escape("pip install 'auditray[gpu]'")):
        llm.build_app({"model_path": "/models/any"})


def test_the_serve_config_deploys_embeddings_and_documents_the_optional_gpu_llm() -> None:
    import yaml
    from ray.serve.schema import ServeApplicationSchema, ServeDeploySchema

    text = (REPO_ROOT / "serve_apps" / "serve_config.yaml").read_text()
    config = ServeDeploySchema(**yaml.safe_load(text))
    [embeddings] = [app for app in config.applications if app.name == "embeddings"]
    assert embeddings.import_path == "serve_apps.embeddings:build_app" and embeddings.route_prefix == "/embeddings"
    assert "llm" not in {app.name for app in config.applications}, "the GPU-only app must stay opt-in"
    # The documented LLM block is a valid application once uncommented.
    block = text[text.index("  # - name: llm"):]
    lines = [line.replace("  # ", "  ", 1) for line in block.splitlines() if line.startswith("  # ")]
    [llm] = yaml.safe_load("\n".join(lines))
    app = ServeApplicationSchema(**llm)
    assert app.import_path == "serve_apps.llm:build_app" and "GPU NODES ONLY" in text
