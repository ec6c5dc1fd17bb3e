"""Patient-aware answering over the full PDQ corpus: what the patient steps (context extraction, treatment
algorithm, applicability flags, trial matching) add to `ask` latency, and the seed question's answer.

    python -m benchmarks.patient      # after `python -m benchmarks.pdq` has built .bench/pdq.sqlite

The same questions run through the core engine alone and through the patient-aware engine, in one process.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from benchmarks.common import DATA, WORK, machine, require
from benchmarks.pdq import load_questions
from clinqa.answer.answerer import Answerer
from clinqa.engine import Engine
from clinqa.types import Answer, FlagKind

SEED = (
    "What's next for an osteosarcoma patient after 4 lines of chemo "
    "(doxorubicin, ifosfamide, dacarbazine, gemcitabine with docetaxel)?"
)
PATIENT_QUESTIONS = [
    SEED,
    "What next for a 16-year-old with a second recurrence of osteosarcoma in the lung, two resectable nodules?",
    "Relapsed Ewing sarcoma in a 14-year-old after VDC/IE, bone metastases, ECOG 1: options?",
    "Options for a 67-year-old with relapsed AML after azacitidine and venetoclax?",
    "What next for metastatic colorectal cancer after FOLFOX and FOLFIRI with bevacizumab?",
    "Next treatment for a 58-year-old with platinum-resistant recurrent ovarian cancer after carboplatin/paclitaxel?",
    "Recurrent glioblastoma in a 45-year-old after temozolomide and radiation — what are the options?",
    "A 9-year-old with relapsed neuroblastoma after dinutuximab: what next?",
    "What next for a 70-year-old with multiple myeloma progressing on lenalidomide, no prior daratumumab?",
    "Options for unresectable recurrent soft tissue sarcoma after doxorubicin and ifosfamide in a 40-year-old?",
]


def timed(answerer: Answerer, question: str) -> tuple[float, Answer]:
    started = time.perf_counter()
    answer = answerer.ask(question)
    return 1000 * (time.perf_counter() - started), answer


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> None:
    engine = Engine(require(WORK / "pdq.sqlite"))
    report = engine.ingest([require(DATA / "trials")])
    print(f"trial records ingested: {report.trials} ({len(report.failed)} refused)")
    aware = engine.answerer()
    plain = replace(aware, patient_aware=False)
    questions = [q.question for q in load_questions()] + PATIENT_QUESTIONS
    aware.ask(SEED)
    plain.ask(SEED)
    base, full, added = [], [], []
    for question in questions:
        t_plain, _ = timed(plain, question)
        t_full, _ = timed(aware, question)
        base.append(t_plain)
        full.append(t_full)
        added.append(t_full - t_plain)
    print(f"\nPatient-aware ask over {len(questions)} questions, full PDQ corpus — {machine()}\n")
    print(f"core engine alone:  p50 {statistics.median(base):.0f} ms, p95 {p95(base):.0f} ms")
    print(f"patient-aware:      p50 {statistics.median(full):.0f} ms, p95 {p95(full):.0f} ms")
    print(f"added per question: p50 {statistics.median(added):.0f} ms, p95 {p95(added):.0f} ms")
    _, seed = timed(aware, SEED)
    print(f"\nSeed question: {seed.status.value}; sections:")
    for section in seed.sections:
        cited = sum(1 for s in section.sentences if s.citations)
        print(f"  {section.title}: {len(section.sentences)} sentences, {cited} with citations")
    by_kind = {k.value: sum(1 for f in seed.flags if f.kind is k) for k in FlagKind}
    print(f"flags: {by_kind}; flagged agents: {sorted({f.agent for f in seed.flags if f.agent})}")
    print(f"trials listed: {len(seed.trials)} ({sum(m.eligible for m in seed.trials)} without a failed criterion)")


if __name__ == "__main__":
    main()
