"""Answer quality across cancers: status, facts, bottom line and treatment-algorithm checks on three knowledge
bases, plus MedQuAD CancerGov pairs.

    python -m benchmarks.answers [--kb seed,pdq20,pdq271] [--split tune|report|all] [--check] [--fresh]
                                 [--dump FILE] [--medquad-limit N] [--questions DIR]

Knowledge bases (built once under .bench/answers-<kb>.sqlite; rebuilt with --fresh or when their file list
changes): `seed` (the 2014 osteosarcoma page of ../shared/seeds/), `pdq20` (the pages of benchmarks/kb20.txt),
`pdq271` (all of ../shared/data/pdq/pdq/). Questions: benchmarks/questions/*.jsonl (format in the README there).
A question is expected answerable on a knowledge base that holds one of its documents, expected refused otherwise.
"""

from __future__ import annotations

import argparse
import fcntl
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.answer_metrics import (
    ISSUE_NAMES,
    MEDQUAD_HEADERS,
    ROW_HEADERS,
    MedQuadPair,
    MedQuadRecord,
    Question,
    Record,
    algorithm_issues,
    fact_label,
    fact_present,
    failure_line,
    grouped_rows,
    is_algorithm,
    latency,
    load_medquad,
    load_questions,
    load_section_patterns,
    measure,
    measure_medquad,
    medquad_row,
    norm,
    option_steps,
    row,
    sentence_text,
    split_of,
    spread,
)
from benchmarks.common import DATA, ROOT, SHARED, WORK, machine, peak_rss_mb, require, table
from clinqa.engine import Engine
from clinqa.ingest import parse_file
from clinqa.settings import settings
from clinqa.store import migrate_database
from clinqa.types import Answer, Sentence

PDQ = DATA / "pdq" / "pdq"
SEED = SHARED / "seeds" / "000_e9b37f1732a04d97.txt"
KB20 = ROOT / "benchmarks" / "kb20.txt"
QUESTIONS = ROOT / "benchmarks" / "questions"
MEDQUAD = DATA / "medquad" / "cancergov_dev.jsonl"
SECTIONS = ROOT / "benchmarks" / "medquad_sections.tsv"
KBS = ("seed", "pdq20", "pdq271")
FAILURE_LINES = 40
ISSUE_LINES = 40

# --- knowledge bases --------------------------------------------------------------------------------------------


def kb_files(name: str) -> list[Path]:
    if name == "seed":
        files = [SEED]
    elif name == "pdq20":
        names = [line.strip() for line in KB20.read_text().splitlines() if line.strip() and line[0] != "#"]
        files = [PDQ / n for n in names]
    elif name == "pdq271":
        files = sorted(require(PDQ).glob("*.md"))
    else:
        raise SystemExit(f"unknown knowledge base {name!r} (expected one of {', '.join(KBS)})")
    return [require(f) for f in files]


def knowledge_base(name: str, fresh: bool) -> Path:
    """The KB's database, built in its own process when missing, asked for, or its file list changed. A lock
    file makes a second run wait for a build in progress instead of deleting it."""
    db = WORK / f"answers-{name}.sqlite"
    manifest = WORK / f"answers-{name}.files"
    listing = "\n".join(str(f.relative_to(SHARED)) for f in kb_files(name)) + "\n"
    with (WORK / f"answers-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = manifest.read_text() if manifest.exists() else None
        if fresh or not db.exists() or current != listing:
            for p in [*WORK.glob(f"answers-{name}.sqlite*"), manifest]:
                shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
            subprocess.run([sys.executable, "-m", "benchmarks.answers", "--build", name], check=True)
            manifest.write_text(listing)
        else:
            migrate_database(db)  # a cached KB made before the latest schema
    return db


def build(name: str) -> None:
    """(internal, own process) Ingest one KB, so the question phase's peak memory is that of serving it."""
    engine = Engine(WORK / f"answers-{name}.sqlite")
    report = engine.ingest(kb_files(name))
    print(
        f"ingest {name}: {report.documents} documents, {report.passages} passages, {len(report.failed)} failed, "
        f"{report.seconds:.1f} s, peak memory {peak_rss_mb():.0f} MB"
    )
    for failure in report.failed:
        print(f"  failed: {failure.path}: {failure.reason}")
    engine.close()


# --- --check ------------------------------------------------------------------------------------------------------


def _slug(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")


def source_files() -> dict[str, Path]:
    """Document id -> source file, for every page a question may name."""
    files = [SEED, *PDQ.glob("*.md"), *(DATA / "pdq").glob("cancer-types/*.md")]
    return {_slug(f): f for f in files}


def document_text(path: Path) -> str:
    """The normalised text of a page as the file writes it and as clinqa's parser reads it (markers removed)."""
    passages = " ".join(p.text for p in parse_file(path).passages)
    return norm(path.read_text(encoding="utf-8")) + " \n " + norm(passages)


def check(questions: Sequence[Question]) -> int:
    """Every fact must have a phrase found in one of the question's documents; prints each failure."""
    files = source_files()
    texts: dict[str, str] = {}
    failures: list[str] = []
    for q in questions:
        for doc in q.documents:
            if doc not in files:
                failures.append(f"{q.id}: document {doc} has no source file")
            elif doc not in texts:
                texts[doc] = document_text(files[doc])
        pages = [texts[d] for d in q.documents if d in texts]
        failures += [
            f"{q.id}: fact not in its documents: {fact_label(f)}"
            for f in q.facts
            if not any(fact_present(f, page) for page in pages)
        ]
    facts = sum(len(q.facts) for q in questions)
    in_kbs = {_slug(SEED), *(_slug(f) for f in PDQ.glob("*.md"))}
    for doc in sorted({d for q in questions for d in q.documents} - in_kbs):
        print(f"warning: {doc} is in no knowledge base, so its questions are refused everywhere")
    print(f"checked {len(questions)} questions, {facts} facts: {len(failures)} failures")
    print("\n".join(failures))
    return 1 if failures else 0


# --- asking ---------------------------------------------------------------------------------------------------------


def timed(engine: Engine, question: str, audience: str | None) -> tuple[Answer, float]:
    started = time.perf_counter()
    answer = engine.ask(question, audience="patient" if audience == "patient" else "clinician", remember=False)
    return answer, 1000 * (time.perf_counter() - started)


def warm_up(engine: Engine, questions: Sequence[Question]) -> None:
    engine.warm_up()
    engine.ask("What is the treatment of recurrent cancer?", remember=False)
    if any(q.audience == "patient" for q in questions):
        engine.ask("What is the treatment of recurrent cancer?", audience="patient", remember=False)


def ask_questions(
    engine: Engine, questions: Sequence[Question], held: set[str], titles: dict[str, str]
) -> list[Record]:
    records = []
    for q in questions:
        answerable = any(d in held for d in q.documents)
        if not answerable and not q.refuse_elsewhere:
            continue  # a question whose topic other pages cover in other words: only scored where it is answerable
        answer, ms = timed(engine, q.question, q.audience)
        record = measure(q, answerable, answer, ms)
        if q.kind == "what_next":
            record.issues = algorithm_issues(answer, q.cancer, titles)
        records.append(record)
    return records


def ask_medquad(engine: Engine, pairs: Sequence[MedQuadPair]) -> list[MedQuadRecord]:
    patterns = load_section_patterns(SECTIONS)
    records = []
    for pair in pairs:
        answer, ms = timed(engine, pair.question, None)
        records.append(measure_medquad(pair, answer, ms, patterns))
    return records


def medquad_pairs(held: set[str], split: str, limit: int) -> list[MedQuadPair]:
    if not MEDQUAD.exists():
        return []
    pairs = [p for p in load_medquad(MEDQUAD) if p.pages() & held and split in ("all", split_of(p.id))]
    return spread(pairs, limit)


# --- printing -------------------------------------------------------------------------------------------------------


def print_split(label: str, records: Sequence[Record]) -> None:
    rows = [row("overall", records)]
    rows += grouped_rows(records, lambda r: r.question.cancer, "cancer")
    rows += grouped_rows(records, lambda r: r.question.kind, "kind")
    print(f"\n### Split {label}: {len(records)} questions\n")
    print(table(ROW_HEADERS, rows))
    print(f"\nlatency: {latency([r.ms for r in records])}; peak memory so far {peak_rss_mb():.0f} MB")


def print_issues(records: Sequence[Record]) -> None:
    what_next = [r for r in records if r.question.kind == "what_next"]
    if not what_next:
        return
    issues = [(r, i) for r in what_next for i in r.issues]
    counts = [[name, sum(i.check == name for _, i in issues)] for name in ISSUE_NAMES]
    offered = sum(len(sentences) for r in what_next for _, sentences in option_steps(r.answer))
    shaped = sum(is_algorithm(r.answer) for r in what_next)
    print(
        f"\n### Treatment-algorithm checks: {len(what_next)} what_next answers, {shaped} given as algorithm steps, "
        f"{offered} option-step sentences\n"
    )
    print(table(["check", "option-step sentences flagged"], counts))
    lines = [f"- {r.question.id} [{i.check}] {_step(i.step)}: {_cut(sentence_text(i.sentence))}" for r, i in issues]
    _print_capped(lines, ISSUE_LINES)


def print_medquad(records: Sequence[MedQuadRecord]) -> None:
    if not records:
        print("\n### MedQuAD: no pair's page is in this knowledge base")
        return
    groups: dict[str, list[MedQuadRecord]] = {}
    for r in records:
        groups.setdefault(r.pair.qtype, []).append(r)
    rows = [medquad_row("overall", records)] + [medquad_row(t, groups[t]) for t in sorted(groups)]
    print(f"\n### MedQuAD CancerGov: {len(records)} pairs whose page this knowledge base holds\n")
    print(table(MEDQUAD_HEADERS, rows))
    print(f"\nlatency: {latency([r.ms for r in records])}")


def _print_capped(lines: Sequence[str], cap: int) -> None:
    print("\n".join(lines[:cap]))
    if len(lines) > cap:
        print(f"… and {len(lines) - cap} more (--dump FILE writes them all)")


def _step(title: str) -> str:
    return title.removeprefix("Treatment algorithm: ")


def _cut(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- --dump ---------------------------------------------------------------------------------------------------------


def dump_record(r: Record) -> list[str]:
    q, a = r.question, r.answer
    expected = "answerable" if r.expected_answerable else "refused"
    out = [f"### {q.id} ({q.kind}, {q.split}) — {a.status.value}, expected {expected}", "", f"> {q.question}", ""]
    if r.expected_answerable and r.missing_facts():
        out += [f"Missing facts: {'; '.join(r.missing_facts())}", ""]
    flagged: dict[int, list[str]] = {}  # marks per sentence: the benchmark's checks, then clinqa's own flags
    for issue in r.issues:
        flagged.setdefault(id(issue.sentence), []).append(f"**⚠ {issue.check}**")
    for s in a.sentences():
        marks = (
            f"_(flag: {f.kind.value} {f.agent or ''})_".replace(" )", ")") for f in a.flags if f.sentence == s.text
        )
        flagged.setdefault(id(s), []).extend(marks)
    if a.patient and not a.patient.is_empty():
        out += [f"Patient understood: {a.patient.model_dump_json(exclude_defaults=True)}", ""]
    if a.bottom_line:
        out += ["**Bottom line**", "", *(_dump_sentence(s, flagged) for s in a.bottom_line), ""]
    for section in a.sections:
        out += [f"**{section.title}**", "", *(_dump_sentence(s, flagged) for s in section.sentences), ""]
    if a.note:
        out += [f"Note: {a.note}", ""]
    return out


def _dump_sentence(s: Sentence, flagged: dict[int, list[str]]) -> str:
    marks = "".join(f" {m}" for m in flagged.get(id(s), []))
    return f"- {sentence_text(s)} `[{s.source.document_id} › {s.source.section}]`{marks}"


def dump_medquad(r: MedQuadRecord) -> str:
    first = r.answer.bottom_line[0] if r.answer.bottom_line else None
    where = f"{first.source.document_id} › {first.source.section}" if first else "no bottom line"
    return f"- {r.pair.id} ({r.pair.qtype}) {r.pair.question} — {r.answer.status.value}, `{where}`"


def write_dump(path: Path, results: dict[str, tuple[list[Record], list[MedQuadRecord]]]) -> None:
    lines = ["# clinqa answers for review", ""]
    for kb, (records, medquad) in results.items():
        lines += [f"## Knowledge base {kb}", ""]
        what_next = [r for r in records if r.question.kind == "what_next"]
        others = [r for r in records if r.question.kind != "what_next"]
        for r in [*what_next, *others]:
            lines += dump_record(r)
        if medquad:
            lines += ["### MedQuAD pairs (first bottom-line sentence's page and section)", ""]
            lines += [dump_medquad(r) for r in medquad] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"\nanswers written to {path}")


# --- main -----------------------------------------------------------------------------------------------------------


def run_kb(
    kb: str, questions: Sequence[Question], args: argparse.Namespace
) -> tuple[list[Record], list[MedQuadRecord]]:
    engine = Engine(knowledge_base(kb, args.fresh))
    documents = engine.documents()
    held, titles = {d.id for d in documents}, {d.id: d.title for d in documents}
    print(f"\n## Knowledge base {kb}: {len(documents)} documents, {sum(d.passages for d in documents)} passages")
    warm_up(engine, questions)
    records = ask_questions(engine, questions, held, titles)
    splits = ["tune", "report"] if args.split == "all" else [args.split]
    for split in splits:
        print_split(split, [r for r in records if r.question.split == split])
    print_issues(records)
    print_retrieval(engine, records)
    medquad = ask_medquad(engine, medquad_pairs(held, args.split, args.medquad_limit))
    print_medquad(medquad)
    engine.close()
    return records, medquad


def print_retrieval(engine: Engine, records: Sequence[Record]) -> None:
    """The retriever and the selection measured apart: the share of the facts of answerable questions found in
    the passages retrieval returns (the engine's hybrid retriever, as configured, top `retrieval.passages`), beside
    the share the answer states. A fact retrieved but not stated is lost by selection; one not retrieved, by
    retrieval."""
    answerable = [r for r in records if r.expected_answerable]
    if not answerable:
        return
    retriever = engine.answerer().retriever
    k = settings().retrieval.passages
    retrieved: dict[str, list[bool]] = {}
    for r in answerable:
        hits = retriever.search(r.question.question, k=k).hits
        passages = engine.store.passages(h.passage_id for h in hits)
        text = norm(" ".join(p.text for p in passages.values()))
        retrieved[r.question.id] = [fact_present(f, text) for f in r.question.facts]
    rows = []
    for name, group in _by_kind(answerable):
        got = [ok for r in group for ok in retrieved[r.question.id]]
        said = [ok for r in group for ok in r.facts_present]
        rows.append([name, len(group), _pct(got), _pct(said)])
    print(f"\n### Retrieval and selection apart: facts in the top {k} retrieved passages and in the answer\n")
    print(table(["", "answerable questions", "facts retrieved %", "facts in the answer %"], rows))


def _by_kind(records: Sequence[Record]) -> list[tuple[str, list[Record]]]:
    kinds = sorted({r.question.kind for r in records})
    return [("overall", list(records)), *((f"kind {k}", [r for r in records if r.question.kind == k]) for k in kinds)]


def _pct(flags: Sequence[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):.0f}" if flags else "–"


def print_summary(results: dict[str, tuple[list[Record], list[MedQuadRecord]]], split: str) -> None:
    rows = [row(kb, records) for kb, (records, _) in results.items()]
    print(f"\n## Summary, split {split}\n")
    print(table(["knowledge base", *ROW_HEADERS[1:]], rows))
    for kb, (records, _) in results.items():
        failures = [failure_line(r) for r in records if r.failed()]
        print(f"\n### Failures on {kb}: {len(failures)} of {len(records)} questions\n")
        _print_capped(failures, FAILURE_LINES)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kb", default=",".join(KBS), help="comma-separated knowledge bases")
    parser.add_argument("--split", choices=["tune", "report", "all"], default="all")
    parser.add_argument("--check", action="store_true", help="verify every fact phrase is in its documents")
    parser.add_argument("--fresh", action="store_true", help="rebuild the knowledge bases")
    parser.add_argument("--dump", type=Path, help="write every answer as Markdown for review")
    parser.add_argument("--medquad-limit", type=int, default=200, help="MedQuAD pairs asked per knowledge base")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="folder of question *.jsonl files")
    parser.add_argument("--build", help=argparse.SUPPRESS)  # internal: ingest one KB in its own process
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    WORK.mkdir(exist_ok=True)
    if args.build:
        build(args.build)
        return
    questions = load_questions(args.questions)
    if args.check:
        raise SystemExit(check(questions))
    chosen = [q for q in questions if args.split in ("all", q.split)]
    kbs = [k.strip() for k in args.kb.split(",") if k.strip()]
    print(f"# Answer quality — {machine()}\n\n{len(chosen)} questions (split {args.split}), KBs {', '.join(kbs)}")
    results = {kb: run_kb(kb, chosen, args) for kb in kbs}
    print_summary(results, args.split)
    if args.dump:
        write_dump(args.dump, results)


if __name__ == "__main__":
    main()
