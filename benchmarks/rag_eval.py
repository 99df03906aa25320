"""Regulation search quality and speed: recall@5 and MRR per method, p50/p95 search latency.

Ingests the starter corpus into a temporary LanceDB (or uses --uri), runs every question of
tests/data/rag/eval.jsonl through vector, full-text and hybrid search, and prints the scores for the
"dev" half (used while improving retrieval) and the "holdout" half (written before any tuning and
never inspected question by question), then latency percentiles over all searches.

    .venv/bin/python benchmarks/rag_eval.py            # the report
    .venv/bin/python benchmarks/rag_eval.py --misses   # dev questions whose relevant chunks were missed

Targets: hybrid recall@5 >= 0.9; p95 search latency < 100 ms on the development machine (2 cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
EVAL_SET = REPO / "tests" / "data" / "rag" / "eval.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", help="an existing corpus to evaluate (default: ingest the starter corpus into a temp dir)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="list dev questions with missed chunks (never holdout)")
    parser.add_argument("--latency-rounds", type=int, default=3, help="extra hybrid passes for the latency figures")
    args = parser.parse_args()

    from auditray.rag.embeddings import clear_query_cache
    from auditray.rag.evaluation import evaluate, load_eval_set, percentile
    from auditray.rag.ingest import ingest_starter_corpus
    from auditray.rag.search import search
    from auditray.rag.store import count_chunks

    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        uri = args.uri or str(Path(tmp) / "lancedb")
        if not args.uri:
            started = time.perf_counter()
            result = ingest_starter_corpus(uri=uri)
            print(f"ingested starter corpus: {len(result.documents)} documents, {result.chunks} chunks, "
                  f"version {result.version} ({result.tag}) in {time.perf_counter() - started:.1f} s")
        print(f"chunks in corpus: {count_chunks(uri)}")
        questions = load_eval_set(EVAL_SET)
        search("warm up the model and the table handle", uri=uri)

        scores, latencies, details = evaluate(questions, uri=uri, k=args.k)
        print(f"\n{len(questions)} questions ({sum(q.split == 'dev' for q in questions)} dev, "
              f"{sum(q.split == 'holdout' for q in questions)} holdout); k = {args.k}")
        print(f"{'method':<10}{'split':<9}{'n':>4}{'recall@' + str(args.k):>11}{'hit@' + str(args.k):>8}{'MRR':>8}")
        for score in scores:
            print(f"{score.mode:<10}{score.split:<9}{score.questions:>4}{score.recall_at_k:>11.3f}"
                  f"{score.hit_at_k:>8.3f}{score.mrr:>8.3f}")

        # The evaluation pass above embeds each question once (vector first), so later modes hit the query
        # cache; the latency figures below clear it before every search.
        timings: dict[str, list[float]] = {"vector": latencies["vector"], "fulltext": latencies["fulltext"],
                                           "hybrid (uncached query)": []}
        for _ in range(args.latency_rounds):
            for question in questions:
                clear_query_cache()
                started = time.perf_counter()
                search(question.question, mode="hybrid", k=args.k, uri=uri)
                timings["hybrid (uncached query)"].append((time.perf_counter() - started) * 1000)
        print("\nsearch latency (ms, end to end incl. query embedding; vector = first embedding of each question)")
        for mode, values in ((m, v) for m, v in timings.items() if v):
            print(f"  {mode:<24} n={len(values):<4} p50={percentile(values, 50):6.1f}  p95={percentile(values, 95):6.1f}"
                  f"  max={max(values):6.1f}")

        if args.misses:
            by_id = {q.id: q for q in questions}
            print("\ndev questions with a relevant chunk outside the top k (hybrid):")
            for row in details:
                question = by_id[row["id"]]
                if row["mode"] == "hybrid" and question.split == "dev" and row["recall"] < 1:
                    print(f"  {row['id']} recall={row['recall']:.2f} {question.question}")
                    print(f"     wants {list(question.refs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
