"""The self-hosted LLM on Ray Serve (GPU nodes only): ``ray.serve.llm`` with vLLM, OpenAI-compatible.

vLLM needs CUDA and is installed only by the ``gpu`` extra (``pip install 'auditray[gpu]'``), so
``ray.serve.llm`` is imported inside ``build_app``: importing this module is safe on any machine,
and building the app on a CPU machine fails with a clear message instead of an ImportError.

The weights come from a local directory (``AUDITRAY_LLM_MODEL_PATH`` or ``args.model_path``) and are
never downloaded. Once deployed (route ``/llm``), point the answerer at it with
``AUDITRAY_LLM_URL=http://<head>:8000/llm`` and ``AUDITRAY_LLM_MODEL=<model_id>``; without it,
``auditray.rag.ask`` answers extractively.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_MODEL_ID = "auditray-llm"
GPU_EXTRA_MESSAGE = (
    "The LLM deployment needs vLLM, which only the 'gpu' extra installs, on a node with a CUDA GPU: "
    "pip install 'auditray[gpu]'. Without it, regulation answers are extractive (no LLM needed)."
)


class GPUExtraMissing(RuntimeError):
    """``ray.serve.llm`` cannot load because vLLM (the ``gpu`` extra) is not installed."""


def build_app(args: dict[str, Any] | None = None):
    """The OpenAI-compatible LLM application for ``import_path: serve_apps.llm:build_app``.

    ``args``: ``model_path`` (default ``$AUDITRAY_LLM_MODEL_PATH``), ``model_id`` (default
    ``$AUDITRAY_LLM_MODEL`` or "auditray-llm"), ``min_replicas``/``max_replicas``, ``accelerator_type``,
    ``engine_kwargs`` (passed to vLLM, e.g. ``max_model_len``, ``tensor_parallel_size``).
    """
    args = dict(args or {})
    try:
        from ray.serve.llm import LLMConfig, build_openai_app
    except ImportError as missing:
        raise GPUExtraMissing(f"{GPU_EXTRA_MESSAGE} ({missing})") from missing

    model_path = args.get("model_path") or os.environ.get("AUDITRAY_LLM_MODEL_PATH")
    if not model_path:
        raise ValueError("set AUDITRAY_LLM_MODEL_PATH (a local directory holding the model) or args.model_path")
    if not Path(model_path).is_dir():
        raise ValueError(f"AUDITRAY_LLM_MODEL_PATH {model_path!r} is not a directory on this node")
    config: dict[str, Any] = {
        "model_loading_config": {"model_id": args.get("model_id") or os.environ.get("AUDITRAY_LLM_MODEL",
                                                                                      DEFAULT_MODEL_ID),
                                 "model_source": str(model_path)},
        "deployment_config": {"autoscaling_config": {"min_replicas": int(args.get("min_replicas", 1)),
                                                     "max_replicas": int(args.get("max_replicas", 1))}},
        "engine_kwargs": {"max_model_len": 8192, **dict(args.get("engine_kwargs") or {})},
        # The weights are local: the replicas must never reach for a model hub.
        "runtime_env": {"env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}},
    }
    if args.get("accelerator_type"):
        config["accelerator_type"] = args["accelerator_type"]
    return build_openai_app({"llm_configs": [LLMConfig(**config)]})
