"""Scale: up to a million passages on SQLite and on PostgreSQL, built from the real PDQ passages.

    python -m benchmarks.scale [--passages 100000] [--backends sqlite,postgres] [--reuse]

Needs `.bench/pdq.sqlite` (`python -m benchmarks.pdq --fresh`). Its documents are repeated under distinct ids
(`<id>~<copy>`), each copy's text varied (a different seventh of the words dropped, the title marked) and each
vector the real one plus Gaussian noise (sigma 0.01 per dimension, cosine ~0.98 to the original), normalised,
so that embedding does not dominate; the real encoder's throughput is measured apart. Documents go in through the
store (`put_document`; COPY on PostgreSQL); on PostgreSQL the HNSW index is built once after the load. Then
per backend: load time, index build time and size, and in a fresh worker process retrieval latency at k=30 over
the development questions (plain, and kept to 5 % of the documents as a disease filter keeps them; a first pass
over cold caches, then the steady state) and its peak memory. `--reuse` measures retrieval again on the knowledge
bases an earlier run of that size left (the load is long; the latencies want a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT, WORK, machine, peak_rss_mb, require, table
from benchmarks.pgserver import add_full_text_index, new_database, postgres_server
from clinqa.engine import Engine
from clinqa.readings import embedding_key, embedding_text
from clinqa.retrieve.dense import encoder, model_name
from clinqa.retrieve.retriever import HybridRetriever
from clinqa.types import Document, Passage

SOURCE = WORK / "pdq.sqlite"
QUESTION_FILES = [
    *sorted((ROOT / "benchmarks" / "questions").glob("*.jsonl")),
    ROOT / "benchmarks" / "pdq_questions.jsonl",
]
HNSW = "CREATE INDEX passage_vectors_by_cosine ON passage_vectors USING hnsw (vector vector_cosine_ops)"
NOISE = 0.01


def real_documents(engine: Engine) -> Iterator[tuple[Document, dict[str, np.ndarray]]]:
    """Every stored PDQ document with its passages' vectors (by embedding key, float32)."""
    for summary in engine.store.documents():
        document = engine.store.get_document(summary.id)
        keys = [embedding_key(embedding_text(p, document.title)) for p in document.passages]
        stored = engine.store.embeddings(engine.model, keys)
        yield document, {k: np.frombuffer(v, dtype=np.float16).astype(np.float32) for k, v in stored.items()}


def variant(
    document: Document, vectors: dict[str, np.ndarray], copy: int, rng: np.random.Generator
) -> tuple[Document, dict[str, bytes]]:
    """Copy `copy` of a document: distinct ids, a varied text, vectors near the real ones."""
    title = document.title if copy == 0 else f"{document.title} (copy {copy})"
    passages = []
    for p in document.passages:
        words = p.text.split()
        text = p.text if copy == 0 else " ".join(w for i, w in enumerate(words) if (i + copy) % 7 or len(words) < 4)
        passages.append(
            Passage(
                id=f"{p.id}~{copy}",
                document_id=f"{document.id}~{copy}",
                ordinal=p.ordinal,
                section_path=p.section_path,
                kind=p.kind,
                text=text,
                citations=p.citations if copy == 0 else (),
            )
        )
    out: dict[str, bytes] = {}
    for old, new in zip(document.passages, passages, strict=True):
        real = vectors.get(embedding_key(embedding_text(old, document.title)))
        if real is None:
            continue
        noisy = real + (rng.normal(0.0, NOISE, real.shape) if copy else 0.0)
        out[embedding_key(embedding_text(new, title))] = (noisy / np.linalg.norm(noisy)).astype(np.float16).tobytes()
    copied = document.model_copy(
        update={
            "id": f"{document.id}~{copy}",
            "title": title,
            "passages": tuple(passages),
            "content_hash": f"{document.content_hash}~{copy}",
        }
    )
    return copied, out


def load(target: Engine, source: list[tuple[Document, dict[str, np.ndarray]]], size: int) -> int:
    """Copies of the source documents into `target` until it holds `size` passages; how many it holds."""
    rng = np.random.default_rng(7)
    passages, copy = 0, 0
    while passages < size:
        for document, vectors in source:
            if passages >= size:
                break
            copied, copied_vectors = variant(document, vectors, copy, rng)
            target.store.put_document(copied, copied_vectors, target.model)
            passages += len(copied.passages)
        copy += 1
    return passages


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def build(
    name: str, location: Path | str, source: list[tuple[Document, dict[str, np.ndarray]]], size: int
) -> dict[str, object]:
    """Load and index one backend; its figures."""
    figures: dict[str, object] = {"backend": name}
    engine = Engine(location)
    db = engine.store.db
    if db.dialect == "postgres":
        db.execute("DROP INDEX passage_vectors_by_cosine")  # built once after the load, as a bulk load should
    started = time.perf_counter()
    figures["passages"] = load(engine, source, size)
    figures["load_s"] = time.perf_counter() - started
    if db.dialect == "postgres":
        started = time.perf_counter()
        db.execute("SET maintenance_work_mem = '4GB'")
        db.execute(HNSW)
        db.execute("ANALYZE")
        figures["hnsw_s"] = time.perf_counter() - started
        figures["hnsw_mb"] = db.execute("SELECT pg_relation_size('passage_vectors_by_cosine')").fetchone()[0] / 1e6
        started = time.perf_counter()
        figures["gin_mb"] = add_full_text_index(db)
        figures["gin_s"] = time.perf_counter() - started
        figures["database_mb"] = db.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6
    else:
        figures["database_mb"] = Path(location).stat().st_size / 1e6
    started = time.perf_counter()
    engine.refresh_index()
    figures["worker_index_s"] = time.perf_counter() - started
    figures["worker_index_mb"] = folder_mb(engine.index_dir)
    figures["build_peak_rss_mb"] = peak_rss_mb()
    engine.close()
    figures.update(served(location))
    return figures


def questions() -> list[str]:
    found = []
    for path in QUESTION_FILES:
        found += [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
    return found


def serve(location: str) -> None:
    """A worker: load the index, answer the retrieval step of every question, plain and filtered; one JSON line."""
    started = time.perf_counter()
    engine = Engine(location)
    index = engine.index()
    load_s = time.perf_counter() - started
    retriever = HybridRetriever(index, engine.query_encoder())
    asked = questions()
    sources = sorted({d.split("~")[0] for d in index.document_ids})
    kept = set(random.Random(7).sample(sources, max(1, len(sources) // 20)))
    weights = np.array([d.split("~")[0] in kept for d in index.document_ids], dtype=np.float32)
    retriever.search("warm-up question about osteosarcoma", k=30)
    result: dict[str, object] = {"questions": len(asked), "index_load_s": load_s}
    # Two passes: the first meets cold caches (the database's pages, the OS's), as a worker does after a start;
    # the second is a worker in its steady state.
    for label in ("first pass ", ""):
        timings: dict[str, list[float]] = {"plain": [], "filtered": []}
        for question in asked:
            for kind, document_weights in (("plain", None), ("filtered", weights)):
                started = time.perf_counter()
                hits = retriever.search(question, k=30, document_weights=document_weights).hits
                timings[kind].append(1000 * (time.perf_counter() - started))
                assert len(hits) == 30 or kind == "filtered"
        for kind, values in timings.items():
            result[f"{label}{kind}_p50_ms"] = statistics.median(values)
            result[f"{label}{kind}_p95_ms"] = statistics.quantiles(values, n=20)[18]
    result["serve_peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def embedding_throughput(texts: list[str]) -> float:
    """Passages per second of the real encoder (the model in the settings)."""
    model = encoder(model_name())
    model.encode(texts[:64])
    started = time.perf_counter()
    model.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the knowledge base whose documents are copied")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure retrieval again on the knowledge bases a previous run of this size built (no load)",
    )
    parser.add_argument("--build", help="(internal) load and index this backend, in a process of its own")
    parser.add_argument("--serve", help="(internal) the worker process, on this knowledge base")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    elif args.build:
        build_backend(args.build, args.source, args.passages)
    elif args.reuse:
        remeasure(args.passages, args.backends.split(","))
    else:
        compare(args.source, args.passages, args.backends.split(","))


def read_source(path: Path) -> list[tuple[Document, dict[str, np.ndarray]]]:
    pdq = Engine(require(path))
    source = list(real_documents(pdq))
    pdq.close()
    return source


def build_backend(name: str, source_path: Path, size: int) -> None:
    """Load and index one backend (its build memory is this process's alone); one JSON line."""
    source = read_source(source_path)
    work = WORK / f"scale-{size}"
    if name == "sqlite":
        figures = build("SQLite", work / "kb.sqlite", source, size)
    else:
        with postgres_server(work / "pg") as admin:
            figures = build("PostgreSQL", new_database(admin, "scale"), source, size)
    print(json.dumps(figures), flush=True)


def remeasure(size: int, backends: list[str]) -> None:
    """Retrieval latency and worker memory again, on the knowledge bases an earlier run of `size` left in its
    folder (a quiet machine for the measurement; loading is not repeated)."""
    work = WORK / f"scale-{size}"
    results = []
    for name in backends:
        if name == "sqlite":
            figures = {"backend": "SQLite", **served(require(work / "kb.sqlite"))}
        else:
            with postgres_server(require(work / "pg")) as admin:
                figures = {"backend": "PostgreSQL", **served(admin.replace("/postgres?", "/scale?", 1))}
        results.append(figures)
        print(json.dumps(figures), flush=True)
    print_table(f"Scale, {size} passages, retrieval measured again", results)


def served(location: Path | str) -> dict[str, object]:
    """The figures of a fresh worker process on `location` (`serve`)."""
    serving = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--serve", str(location)], check=True, capture_output=True, text=True
    )
    figures: dict[str, object] = json.loads(serving.stdout.strip().splitlines()[-1])
    return figures


def print_table(title: str, results: list[dict[str, object]]) -> None:
    keys = sorted({k for r in results for k in r} - {"backend"})
    print(f"\n{title} — {machine()}\n")
    headers = ["figure", *[str(r["backend"]) for r in results]]
    print(table(headers, [[k, *[_fmt(r.get(k)) for r in results]] for k in keys]))


def compare(source_path: Path, size: int, backends: list[str]) -> None:
    started = time.perf_counter()
    source = read_source(source_path)
    passages = sum(len(d.passages) for d, _ in source)
    print(f"source: {len(source)} PDQ documents, {passages} passages, read in {time.perf_counter() - started:.0f} s")
    sample = [embedding_text(p, d.title) for d, _ in source[:40] for p in d.passages][:2000]
    throughput = embedding_throughput(sample)
    print(f"embedding throughput ({model_name()}, {len(sample)} PDQ passages): {throughput:.0f} passages/s")
    del source
    work = WORK / f"scale-{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results = []
    for name in backends:
        command = [sys.executable, "-m", "benchmarks.scale", "--build", name, "--passages", str(size)]
        done = subprocess.run([*command, "--source", str(source_path)], check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print_table(f"Scale, {size} passages", results)


def _fmt(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else "—" if value is None else str(value)


if __name__ == "__main__":
    main()
