"""Measuring retrieval: recall@k and mean reciprocal rank over a labelled set of auditors' questions.

Each question in the set names the passages that answer it as ``document_id|anchor`` references
(the anchor is the paragraph number, or the heading of an unnumbered section; ``#n`` picks the n-th
chunk of a long paragraph). References are resolved to chunk ids by chunking the corpus, so the set
stays readable and is checked against the corpus on every run: a reference that no longer resolves
is an error, not a silent zero.

recall@k is the share of a question's relevant chunks found in the top k, averaged over questions;
hit@k counts a question as answered when any relevant chunk is in the top k; MRR averages 1 / rank of
the first relevant chunk (0 when none is in the top ``depth``).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditray.rag.chunking import Chunk, chunk_document


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    split: str
    question: str
    refs: tuple[str, ...]
    relevant: tuple[str, ...]


def anchor_index(chunks: Iterable[Chunk]) -> dict[str, str]:
    """``document_id|anchor#ordinal`` -> chunk id, for every chunk."""
    index = {}
    for chunk in chunks:
        anchor = chunk.paragraph or chunk.heading
        index[f"{chunk.document_id}|{anchor}#{chunk.ordinal}"] = chunk.chunk_id
    return index


def starter_chunks() -> list[Chunk]:
    from auditray.rag.ingest import STARTER_CORPUS, collect_files, read_all

    return [c for d in read_all(collect_files([STARTER_CORPUS]), {}) for c in chunk_document(d)]


def load_eval_set(path: str | Path, chunks: Sequence[Chunk] | None = None) -> list[EvalQuestion]:
    """The questions with their references resolved to chunk ids (raises on a dangling reference)."""
    index = anchor_index(chunks if chunks is not None else starter_chunks())
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        relevant = []
        for ref in row["refs"]:
            key = ref if "#" in ref.rsplit("|", 1)[-1] else f"{ref}#0"
            if key not in index:
                raise KeyError(f"{path}, line {number} ({row['id']}): reference {ref!r} names no chunk")
            relevant.append(index[key])
        questions.append(EvalQuestion(id=row["id"], split=row["split"], question=row["question"],
                                      refs=tuple(row["refs"]), relevant=tuple(relevant)))
    return questions


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    relevant = set(relevant)
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str]) -> float:
    relevant = set(relevant)
    for rank, chunk_id in enumerate(ranked, start=1):
        if chunk_id in relevant:
            return 1.0 / rank
    return 0.0


@dataclass(frozen=True)
class MethodScore:
    mode: str
    split: str
    questions: int
    recall_at_k: float
    hit_at_k: float
    mrr: float
    k: int


def evaluate(questions: Sequence[EvalQuestion], *, uri: str, modes: Sequence[str] = ("vector", "fulltext", "hybrid"),
             k: int = 5, depth: int = 20) -> tuple[list[MethodScore], dict[str, list[float]], list[dict[str, Any]]]:
    """Scores per method and split, search latencies (ms) per method, and each question's ranking."""
    from auditray.rag.search import search

    scores: list[MethodScore] = []
    latencies: dict[str, list[float]] = {}
    details: list[dict[str, Any]] = []
    for mode in modes:
        per_question = []
        for question in questions:
            started = time.perf_counter()
            result = search(question.question, mode=mode, k=depth, uri=uri)
            latencies.setdefault(mode, []).append((time.perf_counter() - started) * 1000)
            ranked = [hit.chunk_id for hit in result.hits]
            per_question.append((question, ranked))
            details.append({"id": question.id, "mode": mode, "recall": recall_at_k(ranked, question.relevant, k),
                            "rr": reciprocal_rank(ranked, question.relevant), "top": ranked[:k]})
        for split in sorted({q.split for q in questions}) + ["all"]:
            chosen = [(q, r) for q, r in per_question if split in ("all", q.split)]
            scores.append(MethodScore(
                mode=mode, split=split, questions=len(chosen), k=k,
                recall_at_k=statistics.fmean(recall_at_k(r, q.relevant, k) for q, r in chosen),
                hit_at_k=statistics.fmean(1.0 if recall_at_k(r, q.relevant, k) > 0 else 0.0 for q, r in chosen),
                mrr=statistics.fmean(reciprocal_rank(r, q.relevant) for q, r in chosen),
            ))
    return scores, latencies, details


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
