"""CDS Hooks `patient-view` latency over HTTP, against `POST /api/ask` of the same question and record in the same
run: a real `clinqa serve` on a free port, calls one after another (one client), p50 and p95 of each.

python -m benchmarks.cds_hooks --db .bench/pdq.sqlite [--runs 40] [--record FILE --patient-id ID]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from tests.test_workers import clinqa, free_port, wait_until_up

from benchmarks.common import ROOT, WORK, machine, table
from clinqa.clinical.fhir import load_resources
from clinqa.clinical.next_steps import next_steps_question, patient_topic
from clinqa.engine import Engine
from clinqa.web.cds_hooks import SERVICE_ID, patient_view_call

RECORD = ROOT / "tests" / "fixtures" / "fhir" / "relapsed-osteosarcoma.json"


def timed(client: httpx.Client, path: str, body: dict[str, Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post(path, json=body)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=WORK / "pdq.sqlite")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--record", type=Path, default=RECORD)
    parser.add_argument("--patient-id", default="ost-1")
    args = parser.parse_args()
    resources = load_resources(args.record)
    engine = Engine(args.db)
    topic = patient_topic(engine.load_patient(args.record, args.patient_id))
    engine.close()
    assert topic, f"{args.record} holds no cancer diagnosis"
    call = patient_view_call(resources, args.patient_id, "benchmark")
    ask = {"question": next_steps_question(topic), "patient_record": args.record.read_text(encoding="utf-8")}
    port = free_port()
    command = clinqa(args.db, "serve", "--port", str(port))
    env = {k: v for k, v in os.environ.items() if k != "CLINQA_DB"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, trust_env=False) as client:
            wait_until_up(server, client)
            timed(client, f"/cds-services/{SERVICE_ID}", call, 3)  # warm: first answers load caches
            timed(client, "/api/ask", ask, 3)
            hook = timed(client, f"/cds-services/{SERVICE_ID}", call, args.runs)
            plain = timed(client, "/api/ask", ask, args.runs)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"CDS Hooks patient-view vs POST /api/ask, {args.runs} calls each, one client — {machine()}")
    print(f"knowledge base {args.db.name}; record {args.record.name}; question: {ask['question']}\n")
    rows = [
        [name, f"{statistics.median(t) * 1000:.0f}", f"{p95(t) * 1000:.0f}"]
        for name, t in (("POST /cds-services/" + SERVICE_ID, hook), ("POST /api/ask (same question and record)", plain))
    ]
    print(table(["call", "p50 ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()
