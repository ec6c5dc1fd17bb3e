"""The same answers on both backends: every development question asked of one knowledge base on SQLite and of
its copy in PostgreSQL (pgvector), and the answers compared whole.

    python -m benchmarks.backend_answers [--kb pdq20] [--limit N]

The SQLite knowledge base is the answer benchmark's (`.bench/answers-<kb>.sqlite`, built when missing); the
PostgreSQL one is copied from it through the store (documents, stored vectors and trials: nothing is embedded
again) on an embedded PostgreSQL server. An answer is the same when its status, note, bottom line, sections (titles,
sentences and their passages), references and trials are. Every difference is listed with where it starts.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from benchmarks.answer_metrics import load_questions
from benchmarks.answers import QUESTIONS, knowledge_base
from benchmarks.common import WORK, machine, table
from benchmarks.pgserver import copy_knowledge_base, new_database, postgres_server
from clinqa.engine import Engine
from clinqa.types import Answer


def answer_key(answer: Answer) -> list[tuple[str, ...]]:
    """What makes two answers the same, in reading order."""
    rows: list[tuple[str, ...]] = [("status", answer.status.value, answer.note or "")]
    rows += [("bottom line", s.text, s.source.passage_id) for s in answer.bottom_line]
    for section in answer.sections:
        rows += [(section.title, s.text, s.source.passage_id) for s in section.sentences]
    rows += [("reference", str(r.n), r.pmid or "", r.text[:80]) for r in answer.references]
    rows += [("trial", t.id, str(t.eligible)) for t in answer.trials]
    return rows


def first_difference(a: Sequence[tuple[str, ...]], b: Sequence[tuple[str, ...]]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"item {i} ({x[0]}): SQLite {x[1][:70]!r} / PostgreSQL {y[1][:70]!r}"
    return f"SQLite has {len(a)} items, PostgreSQL {len(b)}"


def pct(ms: list[float], q: float) -> float:
    return statistics.quantiles(ms, n=100)[int(q) - 1] if len(ms) > 1 else (ms[0] if ms else 0.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", default="pdq20", help="the answer benchmark's knowledge base to compare on")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions (0: all)")
    args = parser.parse_args(argv)
    print(f"# The same answers on SQLite and PostgreSQL ({machine()})\n")
    questions = load_questions(QUESTIONS)
    if args.limit:
        questions = questions[: args.limit]
    sqlite = Engine(knowledge_base(args.kb, fresh=False))
    with postgres_server(WORK / "pg-backend-answers") as admin:
        postgres = Engine(new_database(admin, f"answers_{args.kb}"))
        started = time.perf_counter()
        passages = copy_knowledge_base(sqlite, postgres)
        trials = postgres.store.put_trials(sqlite.store.trials())
        print(f"copied {args.kb}: {passages} passages, {trials} trials in {time.perf_counter() - started:.0f} s\n")
        same, different = 0, []
        times: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
        for q in questions:
            keys = []
            for name, engine in (("SQLite", sqlite), ("PostgreSQL", postgres)):
                t = time.perf_counter()
                answer = engine.ask(q.question, remember=False, audience=q.audience or "clinician")
                times[name].append((time.perf_counter() - t) * 1000)
                keys.append(answer_key(answer))
            if keys[0] == keys[1]:
                same += 1
            else:
                different.append(f"- {q.id}: {first_difference(keys[0], keys[1])}")
        postgres.close()
    sqlite.close()
    rows = [[name, len(ms), f"{pct(ms, 50):.0f}", f"{pct(ms, 95):.0f}"] for name, ms in times.items()]
    print(table(["backend", "questions", "ask p50 ms", "ask p95 ms"], rows))
    print(f"\nidentical answers: {same} of {len(questions)}; different: {len(different)}")
    print("\n".join(different))


if __name__ == "__main__":
    main()
