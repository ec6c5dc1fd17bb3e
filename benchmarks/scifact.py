"""SciFact (BEIR, test split): nDCG@10 and Recall@100 of clinqa's retrievers against a plain BM25 baseline.

    python -m benchmarks.scifact            # prints a Markdown table

The corpus goes through the product's own path: each abstract becomes a document with one passage, ingested
with `Engine.ingest_documents`; passage vectors are cached in `.bench/scifact.sqlite` between runs.
Metrics come from `ir-measures` (the trec_eval implementations).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import ir_measures
from ir_measures import R, nDCG

from benchmarks.common import DATA, WORK, machine, require, table
from benchmarks.pgserver import (
    Retrievers,
    copy_knowledge_base,
    full_text_rows,
    new_database,
    postgres_server,
)
from clinqa.engine import Engine
from clinqa.retrieve.dense import model_name
from clinqa.retrieve.retriever import HybridRetriever, RetrievalConfig
from clinqa.types import Document, Passage

SCIFACT = DATA / "scifact"


def documents() -> Iterator[Document]:
    with require(SCIFACT / "corpus.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            doc_id = f"scifact-{row['_id']}"
            text = row["text"].strip()
            yield Document(
                id=doc_id,
                title=row["title"].strip() or doc_id,
                source_path=str(SCIFACT / "corpus.jsonl"),
                format="plain-text",
                content_hash=hashlib.sha256(line.encode()).hexdigest(),
                sections=(),
                passages=(
                    Passage(
                        id=f"{doc_id}#0",
                        document_id=doc_id,
                        ordinal=0,
                        section_path=(),
                        kind="paragraph",
                        text=text or row["title"],
                    ),
                ),
                references=(),
            )


def queries(split: str) -> tuple[dict[str, str], list[ir_measures.Qrel]]:
    qrels = list(ir_measures.read_trec_qrels(_trec_qrels(split)))
    wanted = {q.query_id for q in qrels}
    texts = {}
    with (SCIFACT / "queries.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            if row["_id"] in wanted:
                texts[row["_id"]] = row["text"]
    return texts, qrels


def _trec_qrels(split: str) -> str:
    lines = (require(SCIFACT / "qrels" / f"{split}.tsv")).read_text().splitlines()
    out = []
    for line in lines[1:]:
        query_id, doc_id, score = line.split("\t")[:3]
        out.append(f"{query_id} 0 {doc_id} {score}")
    path = WORK / f"scifact-{split}.qrels"
    path.write_text("\n".join(out) + "\n")
    return str(path)


VARIANTS: dict[str, RetrievalConfig] = {
    "BM25 baseline (no expansion, no dense)": RetrievalConfig(use_dense=False, expansion_weight=0.0),
    "BM25 + medical expansion": RetrievalConfig(use_dense=False),
    "dense only": RetrievalConfig(dense_weight=1.0),
    "hybrid RRF": RetrievalConfig(fusion="rrf"),
    "hybrid convex (clinqa default)": RetrievalConfig(),
    "hybrid convex, min-max normalisation": RetrievalConfig(normalisation="minmax"),
}


def evaluate(
    engine: Engine, split: str, variants: dict[str, RetrievalConfig], make: Retrievers | None = None
) -> list[list[object]]:
    """One row per variant: its name, nDCG@10, R@100, ms/query. `make`: the retriever for a config (clinqa's
    own by default)."""
    texts, qrels = queries(split)
    index = engine.index()
    encode = engine.query_encoder()
    rows: list[list[object]] = []
    for name, config in variants.items():
        retriever = make(config) if make else HybridRetriever(index, encode, config)
        started = time.perf_counter()
        run = []
        for query_id, text in texts.items():
            for hit in retriever.search(text, k=100).hits:
                doc = hit.passage_id.split("#")[0].removeprefix("scifact-")
                run.append(ir_measures.ScoredDoc(query_id, doc, hit.score))
        per_query_ms = 1000 * (time.perf_counter() - started) / len(texts)
        scores = ir_measures.calc_aggregate([nDCG @ 10, R @ 100], qrels, run)
        rows.append([name, f"{scores[nDCG @ 10]:.3f}", f"{scores[R @ 100]:.3f}", f"{per_query_ms:.1f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "train"])
    parser.add_argument("--weights", default="", help="comma-separated dense weights to sweep (convex fusion)")
    parser.add_argument(
        "--backends", default="sqlite", help="sqlite,postgres: also on PostgreSQL, with its lexical candidates"
    )
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    engine = Engine(WORK / f"scifact-{model_name()}.sqlite")
    started = time.perf_counter()
    report = engine.ingest_documents(documents())
    print(
        f"ingest: {report.documents} abstracts in {time.perf_counter() - started:.0f} s "
        f"({report.documents_unchanged} cached)"
    )
    variants = dict(VARIANTS)
    for w in filter(None, args.weights.split(",")):
        variants[f"convex, dense weight {w}"] = replace(RetrievalConfig(), dense_weight=float(w))
    rows = [["SQLite", *row] for row in evaluate(engine, args.split, variants)]
    if "postgres" in args.backends.split(","):
        rows += on_postgres(engine, args.split, variants)
    print(f"\nSciFact {args.split} split, encoder {engine.model} — {machine()}\n")
    print(table(["backend", "retriever", "nDCG@10", "R@100", "ms/query"], rows))


def on_postgres(engine: Engine, split: str, variants: dict[str, RetrievalConfig]) -> list[list[object]]:
    """The same variants on PostgreSQL (vectors through pgvector, BM25 per worker), then its full-text search
    as the lexical run instead of BM25, alone and fused."""
    with tempfile.TemporaryDirectory() as folder, postgres_server(Path(folder)) as admin:
        target = Engine(new_database(admin, "scifact"))
        started = time.perf_counter()
        copy_knowledge_base(engine, target)
        print(f"copied to PostgreSQL and indexed in {time.perf_counter() - started:.0f} s")
        rows = [["PostgreSQL", *row] for row in evaluate(target, split, variants)]
        rows += full_text_rows(target, lambda configs, make: evaluate(target, split, configs, make))
        target.close()
    return rows


if __name__ == "__main__":
    main()
