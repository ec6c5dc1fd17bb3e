"""Web load: the real `clinqa serve` under N concurrent clients — throughput, latency, errors, server memory.

    python -m benchmarks.load [--db .bench/pdq.sqlite] [--clients 50] [--seconds 60]

Starts `clinqa --db DB serve` on 127.0.0.1 (a free port; loopback only), waits until `GET /` answers, asks one
warm-up question (the index load, reported on its own), then runs the clients for the given time. Each client
POSTs /api/ask with the questions of `benchmarks/pdq_questions.jsonl`, round-robin over all clients, and after
every 5th ask also GETs / and the /sources/{id} page of that answer's first source. Clients start no request
after the deadline; requests in flight finish (or time out). Any non-2xx, unreadable answer or exception is an
error, and the exit status is 1 if there was one. The server's peak memory is its VmHWM, read before it is
stopped. The knowledge base is the one `python -m benchmarks.pdq` builds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from benchmarks.common import ROOT, WORK, machine, require, table

HOST = "127.0.0.1"  # loopback only: the benchmark never talks to any other address
QUESTIONS = ROOT / "benchmarks" / "pdq_questions.jsonl"
PAGE_EVERY = 5
MAX_REQUESTS_PER_CLIENT = 100_000  # a bound on the loop besides the deadline
STARTUP_TIMEOUT_S = 120.0


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms, successful and failed alike
    errors: Counter[str] = field(default_factory=Counter)  # "kind: reason" -> count
    statuses: Counter[str] = field(default_factory=Counter)  # answer statuses of /api/ask
    first: float = math.inf
    last: float = 0.0

    def record(self, kind: str, started: float, error: str | None) -> None:
        now = time.perf_counter()
        self.latencies.setdefault(kind, []).append(1000 * (now - started))
        self.first = min(self.first, started)
        self.last = max(self.last, now)
        if error is not None:
            self.errors[f"{kind}: {error}"] += 1

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def load_questions() -> list[str]:
    return [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from clinqa.cli import main; main()", "--db", str(db)]
    command += ["serve", "--host", HOST, "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != "CLINQA_DB"}
    with log.open("wb") as out:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_until_up(server: subprocess.Popen[bytes], base: str) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=5.0, trust_env=False) as client:
        while time.perf_counter() - started < STARTUP_TIMEOUT_S:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with status {server.returncode} before answering")
            try:
                if client.get("/").status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer GET / within {STARTUP_TIMEOUT_S:.0f} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


async def timed(
    client: httpx.AsyncClient, results: Results, kind: str, method: str, url: str, **kwargs: object
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        results.record(kind, started, type(exc).__name__)
        return None
    ok = 200 <= response.status_code < 300
    results.record(kind, started, None if ok else f"HTTP {response.status_code}")
    return response if ok else None


async def run_client(
    client: httpx.AsyncClient,
    questions: list[str],
    turn: itertools.count[int],
    deadline: float,
    results: Results,
) -> None:
    for n in range(MAX_REQUESTS_PER_CLIENT):
        if time.perf_counter() >= deadline:
            return
        question = questions[next(turn) % len(questions)]
        started = time.perf_counter()
        response = await timed(client, results, "/api/ask", "POST", "/api/ask", json={"question": question})
        source: str | None = None
        if response is not None:
            try:
                answer = response.json()
                results.statuses[str(answer["status"])] += 1
                source = answer["sources"][0]["id"] if answer["sources"] else None
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                # counted as a second record of the same request would inflate the count: mark it failed instead
                results.latencies["/api/ask"].pop()
                results.record("/api/ask", started, f"unreadable answer ({type(exc).__name__})")
                continue
        if n % PAGE_EVERY == PAGE_EVERY - 1:
            if time.perf_counter() >= deadline:
                return
            await timed(client, results, "GET /", "GET", "/")
            if source is not None:
                await timed(client, results, "GET /sources/{id}", "GET", f"/sources/{quote(source, safe='')}")


async def load(base: str, clients: int, seconds: float, timeout: float, questions: list[str]) -> Results:
    results = Results()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits, trust_env=False) as client:
        deadline = time.perf_counter() + seconds
        turn = itertools.count()
        tasks = [asyncio.create_task(run_client(client, questions, turn, deadline, results)) for _ in range(clients)]
        try:
            # A client past the deadline finishes at most an ask and two pages, each bounded by the timeout.
            done, pending = await asyncio.wait(tasks, timeout=seconds + 3 * timeout + 10)
            for _ in pending:
                results.errors["client cancelled at the hard time limit"] += 1
            for task in done:
                if task.exception() is not None:
                    results.errors[f"client crashed: {task.exception()!r}"] += 1
        finally:  # also on Ctrl-C: no client outlives the connection pool
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return results


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_rows(results: Results, kinds: dict[str, list[str]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for name, members in kinds.items():
        values = [v for k in members for v in results.latencies.get(k, [])]
        failed = sum(n for key, n in results.errors.items() if key.split(": ", 1)[0] in members)
        if not values:
            rows.append([name, 0, failed, "-", "-", "-", "-"])
            continue
        stats = [f"{percentile(values, p):.0f}" for p in (50, 95, 99)]
        rows.append([name, len(values), failed, *stats, f"{max(values):.0f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=WORK / "pdq.sqlite")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients start new requests")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, seconds")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.timeout <= 0:
        parser.error("--clients, --seconds and --timeout must be positive")
    db = require(args.db).resolve()
    questions = load_questions()
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="clinqa-load-") as tmp:
        log = Path(tmp) / "server.log"
        server = start_server(db, port, log)
        try:
            startup = wait_until_up(server, base)
            warm = Results()
            with httpx.Client(base_url=base, timeout=STARTUP_TIMEOUT_S, trust_env=False) as client:
                started = time.perf_counter()
                response = client.post("/api/ask", json={"question": questions[0]})
                warm.record("warm-up", started, None if response.is_success else f"HTTP {response.status_code}")
            results = asyncio.run(load(base, args.clients, args.seconds, args.timeout, questions))
            crashed = server.poll() is not None
            if crashed:
                results.errors[f"server exited during the run (status {server.returncode})"] += 1
            results.errors.update(warm.errors)
            peak = None if crashed else peak_rss_mb(server.pid)
        except KeyboardInterrupt:
            raise SystemExit("interrupted; the server was stopped") from None
        finally:
            stop_server(server)
        server_log = log.read_text(errors="replace").strip()

    elapsed = results.last - results.first if results.requests else 0.0
    asks = len(results.latencies.get("/api/ask", []))
    failed = sum(results.errors.values())
    print(f"Web load — {machine()}\n")
    print(
        f"server: clinqa serve on {HOST}:{port}, knowledge base {db.name} ({db.stat().st_size / 2**20:.0f} MB); "
        f"up in {startup:.1f} s; first ask (index load) {warm.latencies['warm-up'][0]:.0f} ms"
    )
    print(
        f"load: {args.clients} clients for {args.seconds:g} s, {len(questions)} questions round-robin, "
        f"pages after every {PAGE_EVERY}th ask\n"
    )
    kinds = {
        "POST /api/ask": ["/api/ask"],
        "GET /": ["GET /"],
        "GET /sources/{id}": ["GET /sources/{id}"],
        "pages (both)": ["GET /", "GET /sources/{id}"],
    }
    print(table(["request", "count", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"], latency_rows(results, kinds)))
    print(
        f"\n{results.requests} requests in {elapsed:.1f} s: {results.requests / elapsed if elapsed else 0:.1f} req/s "
        f"({asks / elapsed if elapsed else 0:.1f} asks/s); errors: {failed}"
    )
    print("answer statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(results.statuses.items())))
    print(f"server peak memory (VmHWM): {f'{peak:.0f} MB' if peak is not None else 'unknown'}")
    for reason, n in results.errors.most_common():
        print(f"error: {reason} × {n}")
    if server_log:
        print("\nserver log (last lines):\n" + "\n".join(server_log.splitlines()[-20:]))
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
