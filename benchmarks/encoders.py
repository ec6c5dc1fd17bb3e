"""Dense encoders: throughput on real PDQ paragraphs, query latency and load time, per packaged model.

python -m benchmarks.encoders [--passages 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.common import DATA, machine, require, table
from clinqa.ingest import discover, parse_file
from clinqa.readings import embedding_text
from clinqa.retrieve.dense import MODELS, Encoder, onnx_file, tokenizer_file

QUERIES = [
    "5-year survival after resection of pulmonary metastases in osteosarcoma",
    "ifosfamide response in recurrent osteosarcoma",
    "number needed to screen with low-dose CT",
    "olanzapine for chemotherapy-induced nausea",
    "regorafenib progression-free survival",
]


def paragraphs(limit: int) -> list[str]:
    texts: list[str] = []
    for path in discover([require(DATA / "pdq" / "pdq")]):
        document = parse_file(path)
        texts.extend(embedding_text(p, document.title) for p in document.passages)
        if len(texts) >= limit:
            break
    return texts[:limit]


def measure(name: str, texts: list[str]) -> list[object]:
    started = time.perf_counter()
    encoder = Encoder(MODELS[name], onnx_file(name), tokenizer_file())
    encoder.encode(["warm up"])
    load = time.perf_counter() - started
    started = time.perf_counter()
    encoder.encode(texts)
    elapsed = time.perf_counter() - started
    encoder.tokenizer.no_padding()  # count real tokens (truncated as the model reads them), not padding
    tokens = sum(len(e.ids) for e in encoder.tokenizer.encode_batch(texts))
    encoder.tokenizer.enable_padding()
    latencies = []
    for _ in range(4):
        for query in QUERIES:
            t = time.perf_counter()
            encoder.encode([query])
            latencies.append(1000 * (time.perf_counter() - t))
    return [
        name,
        f"{len(texts) / elapsed:.0f}",
        f"{tokens / elapsed:,.0f}",
        f"{statistics.quantiles(latencies, n=20)[18]:.1f}",
        f"{load:.2f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    args = parser.parse_args()
    texts = paragraphs(args.passages)
    rows = [measure(name, texts) for name in MODELS]
    print(f"Encoders on {len(texts)} PDQ passages (title + heading + text) — {machine()}\n")
    print(table(["model", "passages/s", "tokens/s", "query p95 ms", "load s"], rows))


if __name__ == "__main__":
    main()
