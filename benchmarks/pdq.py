"""Clinical questions over the full PDQ corpus: ingest time, re-ingest time, retrieval quality, `ask` latency,
abstention and peak memory, against a plain BM25 baseline in the same run.

    python -m benchmarks.pdq [--fresh]

Questions: `benchmarks/pdq_questions.jsonl` (60 answerable, each with the document and phrases of the passage
that answers it; 6 the corpus cannot answer; 4 non-clinical), written for clinqa.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import DATA, ROOT, WORK, machine, peak_rss_mb, require, table
from benchmarks.pgserver import (
    copy_knowledge_base,
    full_text_rows,
    new_database,
    postgres_server,
)
from clinqa.engine import Engine
from clinqa.retrieve.retriever import HybridRetriever, RetrievalConfig
from clinqa.types import AnswerStatus

QUESTIONS = ROOT / "benchmarks" / "pdq_questions.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    document: str | None
    answer_phrases: list[str]
    kind: str


def load_questions() -> list[Question]:
    return [Question(**json.loads(line)) for line in QUESTIONS.read_text().splitlines() if line.strip()]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def variants(weights: list[float]) -> dict[str, RetrievalConfig]:
    return {
        "BM25 baseline": RetrievalConfig(use_dense=False, expansion_weight=0.0),
        "BM25 + expansion": RetrievalConfig(use_dense=False),
        "hybrid convex (clinqa)": RetrievalConfig(),
        "hybrid RRF": RetrievalConfig(fusion="rrf"),
        **{f"convex, dense weight {w}": RetrievalConfig(dense_weight=w) for w in weights},
    }


def retrieval_rows(
    engine: Engine,
    questions: list[Question],
    configs: dict[str, RetrievalConfig],
    make: Callable[[RetrievalConfig], HybridRetriever] | None = None,
) -> list[list[object]]:
    """Success@k and MRR@10 of the passage that holds every answer phrase. `make`: the retriever for a config
    (clinqa's own by default)."""
    index = engine.index()
    rows: list[list[object]] = []
    for name, config in configs.items():
        retriever = make(config) if make else HybridRetriever(index, engine.query_encoder(), config)
        ranks = []
        started = time.perf_counter()
        for q in questions:
            hits = retriever.search(q.question, k=20).hits
            passages = engine.store.passages(h.passage_id for h in hits)
            phrases = [_norm(p) for p in q.answer_phrases]
            rank = next(
                (i + 1 for i, h in enumerate(hits) if all(p in _norm(passages[h.passage_id].text) for p in phrases)),
                None,
            )
            ranks.append(rank)
        ms = 1000 * (time.perf_counter() - started) / len(questions)
        rows.append(
            [
                name,
                f"{_share(ranks, 1):.2f}",
                f"{_share(ranks, 5):.2f}",
                f"{_share(ranks, 20):.2f}",
                f"{statistics.mean(1 / r if r and r <= 10 else 0 for r in ranks):.3f}",
                f"{ms:.1f}",
            ]
        )
    return rows


def _share(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r and r <= k) / len(ranks)


def ask_rows(engine: Engine, questions: list[Question]) -> tuple[list[list[object]], dict[str, float]]:
    engine.ask("warm-up question about osteosarcoma survival")
    latencies: list[float] = []
    outcomes = {"answered (as expected)": 0, "abstained (as expected)": 0, "abstained wrongly": 0, "wrong status": 0}
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q.question)
        latencies.append(1000 * (time.perf_counter() - started))
        expected = {"unanswerable": AnswerStatus.INSUFFICIENT_EVIDENCE, "out_of_scope": AnswerStatus.OUT_OF_SCOPE}
        if q.kind in expected:
            key = "abstained (as expected)" if answer.status is expected[q.kind] else "wrong status"
        else:
            key = "answered (as expected)" if answer.status is AnswerStatus.ANSWERED else "abstained wrongly"
        outcomes[key] += 1
    latencies.sort()
    stats = {
        "p50": statistics.median(latencies),
        "p95": statistics.quantiles(latencies, n=20)[18],
        "max": latencies[-1],
    }
    return [[k, v] for k, v in outcomes.items()], stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="ingest into a new knowledge base (full timing)")
    parser.add_argument("--corpus", type=Path, default=DATA / "pdq")
    parser.add_argument("--serve-only", action="store_true", help="(internal) the question phase, in its own process")
    parser.add_argument("--weights", default="", help="comma-separated dense weights to compare as well")
    parser.add_argument(
        "--backends",
        action="store_true",
        help="retrieval quality on SQLite and PostgreSQL in one run (after an ingest)",
    )
    args = parser.parse_args()
    require(args.corpus)
    WORK.mkdir(exist_ok=True)
    db = WORK / "pdq.sqlite"
    if args.backends:
        compare_backends(Engine(db))
        return
    if args.serve_only:
        serve(Engine(db), [float(w) for w in args.weights.split(",") if w])
        return
    if args.fresh:
        for p in WORK.glob("pdq.sqlite*"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    engine = Engine(db)
    report = engine.ingest([args.corpus])
    print(
        f"ingest: {report.documents} documents ({report.documents_added} added, {report.documents_unchanged} "
        f"unchanged), {report.passages} passages, {len(report.failed)} failed, {report.seconds:.1f} s"
    )
    print(f"peak memory while ingesting: {peak_rss_mb():.0f} MB")
    again = engine.ingest([args.corpus])
    print(f"unchanged re-ingest: {again.seconds:.1f} s")
    engine.close()
    # Questions run in a fresh process, so its peak memory is that of serving the corpus, not of ingesting it.
    command = [sys.executable, "-m", "benchmarks.pdq", "--serve-only", "--corpus", str(args.corpus)]
    subprocess.run([*command, "--weights", args.weights], check=True)


def compare_backends(engine: Engine) -> None:
    """Retrieval quality of the SQLite knowledge base and of a PostgreSQL copy of it, with PostgreSQL's full-text
    search as the lexical run beside BM25."""
    answerable = [q for q in load_questions() if q.document]
    headers = ["backend", "retriever", "S@1", "S@5", "S@20", "MRR@10", "ms/query"]
    rows = [["SQLite", *row] for row in retrieval_rows(engine, answerable, variants([]))]
    with tempfile.TemporaryDirectory() as folder, postgres_server(Path(folder)) as admin:
        target = Engine(new_database(admin, "pdq"))
        started = time.perf_counter()
        passages = copy_knowledge_base(engine, target)
        print(f"copied {passages} passages to PostgreSQL and indexed in {time.perf_counter() - started:.0f} s")
        rows += [["PostgreSQL", *row] for row in retrieval_rows(target, answerable, variants([]))]
        rows += full_text_rows(target, lambda configs, make: retrieval_rows(target, answerable, configs, make))
        target.close()
    print(f"\nPDQ questions, both backends — {machine()}\n")
    print(table(headers, rows))


def serve(engine: Engine, weights: list[float]) -> None:
    started = time.perf_counter()
    engine.index()
    print(f"index load: {time.perf_counter() - started:.2f} s")
    questions = load_questions()
    answerable = [q for q in questions if q.document]
    print(f"\nPDQ questions — {machine()}\n")
    rows = retrieval_rows(engine, answerable, variants(weights))
    print(table(["retriever", "S@1", "S@5", "S@20", "MRR@10", "ms/query"], rows))
    outcome_rows, stats = ask_rows(engine, questions)
    print()
    print(table(["ask outcome", "questions"], outcome_rows))
    print(
        f"\nask latency over {len(questions)} questions (warm): p50 {stats['p50']:.0f} ms, "
        f"p95 {stats['p95']:.0f} ms, max {stats['max']:.0f} ms"
    )
    print(f"peak memory while serving (VmHWM of the question process): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
