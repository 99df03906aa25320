"""Precomputed vectors for the starter corpus, so ingesting it needs no model time.

The vector of a chunk depends only on its ``search_text`` and the model, so it is stored by the chunk's
content hash (``corpus/vectors.npz``, float16, about 0.3 MB). At ingest, any chunk whose hash is in the
file takes its vector from there; every other chunk, and every chunk of a user's own documents, is
embedded by the model. Editing a summary changes its hash, so a stale file is never used for it: the
edited chunk is embedded afresh (regenerate the file with ``python -m auditray.rag.vector_cache``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from auditray.rag.embeddings import DIMENSIONS, MODEL_NAME

CACHE_PATH = Path(__file__).resolve().parent / "corpus" / "vectors.npz"


@lru_cache(maxsize=1)
def cached_vectors() -> dict[str, np.ndarray]:
    """content hash -> normalised float32 vector (empty when the file is missing or for another model)."""
    if not CACHE_PATH.is_file():
        return {}
    with np.load(CACHE_PATH, allow_pickle=False) as data:
        if str(data["model"]) != MODEL_NAME or data["vectors"].shape[1:] != (DIMENSIONS,):
            return {}
        vectors = data["vectors"].astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return dict(zip(data["content_hashes"].tolist(), vectors, strict=True))


def write_cache(path: Path = CACHE_PATH) -> int:
    """Embed every starter chunk with the model and store the vectors; returns how many."""
    from auditray.rag.embeddings import embed_texts
    from auditray.rag.evaluation import starter_chunks

    chunks = starter_chunks()
    vectors = embed_texts([c.search_text for c in chunks])
    np.savez_compressed(path, model=np.array(MODEL_NAME), content_hashes=np.array([c.content_hash for c in chunks]),
                        vectors=vectors.astype(np.float16))
    cached_vectors.cache_clear()
    return len(chunks)


if __name__ == "__main__":  # pragma: no cover - maintenance command
    print(f"wrote {write_cache()} vectors to {CACHE_PATH}")
