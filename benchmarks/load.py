"""Web load: the real `clinqa serve` under N concurrent clients, 1 worker against 2 (or any list), on SQLite and on
PostgreSQL, in one run — throughput, latency per route, errors, server memory.

    python -m benchmarks.load [--pages 400] [--clients 50] [--seconds 60] [--workers 1,2] [--backends sqlite,postgres]
                              [--answer-processes 0]

Each setup starts `clinqa --db KB serve --workers N` on 127.0.0.1 (a free port; loopback only); with
`--answer-processes 0,1`, each worker count twice: answers on threads, then in 1 child process per worker
(`web.answer_processes`). It waits until `GET /` answers, asks one warm-up question, then runs the clients for the
given time. Each client has its own connection and cookies; it POSTs /api/ask with the questions of
`benchmarks/pdq_questions.jsonl`, round-robin over all clients, and after every 5th ask GETs / and the
/sources/{id} page of that answer's first source; after every 10th it logs in (GET /login, POST /login: a real
argon2 check), so its later pages resolve a session. Clients start no request after the deadline. Any status
≥ 400, unreadable answer or exception is an error, and the exit status is 1 if there was one. Server memory is
the sum of the peak resident memory (VmHWM) of every process of the server (with N > 1: uvicorn's supervisor, its
N workers, multiprocessing's resource tracker; the answer processes), read before it is stopped.

Both knowledge bases hold the same PDQ pages: the first `--pages` of ../shared/data/pdq in ingest order (0: all of
them), in .bench/load-N.sqlite and in a database `load_N` of an embedded PostgreSQL kept in .bench/postgres. Each
run first ingests those pages (minutes the first time; then a second, as nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from benchmarks.common import DATA, ROOT, WORK, database_url, machine, postgres_server, require, table

HOST = "127.0.0.1"  # loopback only: the benchmark never talks to any other address
QUESTIONS = ROOT / "benchmarks" / "pdq_questions.jsonl"
PAGE_EVERY = 5
LOGIN_EVERY = 10
MAX_REQUESTS_PER_CLIENT = 100_000  # a bound on the loop besides the deadline
STARTUP_TIMEOUT_S = 300.0  # each worker loads the index before it serves
USER, PASSWORD = "loadtest", "load-test-password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROUTES = {
    "POST /api/ask": ["/api/ask"],
    "GET /": ["GET /"],
    "GET /sources/{id}": ["GET /sources/{id}"],
    "pages (both)": ["GET /", "GET /sources/{id}"],
    "login (GET + POST)": ["GET /login", "POST /login"],
}


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

    @property
    def elapsed(self) -> float:
        return self.last - self.first if self.requests else 0.0


@dataclass
class Run:
    backend: str
    workers: int
    answer_processes: int
    results: Results
    startup_s: float
    memory_mb: float | None
    server_log: str


def load_questions() -> list[str]:
    return [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# --- the knowledge bases --------------------------------------------------------------------------------------


def ensure_user(location: Path | str) -> None:
    """The benchmark's login account (real argon2 parameters), made once per knowledge base."""
    from clinqa.engine import Engine
    from clinqa.review import AccountError, Role

    engine = Engine(location)
    try:
        engine.review().add_user(USER, PASSWORD, Role.READER)
    except AccountError:
        pass  # made by an earlier run
    finally:
        engine.close()


def benchmark_pages(count: int) -> list[Path]:
    from clinqa.engine import find_sources

    pages = find_sources([require(DATA / "pdq")]).guidelines
    return pages[:count] if count else pages


def ingest(location: str, pages: list[Path]) -> None:
    """The pages into the knowledge base (only what is missing or changed), its index saved."""
    from clinqa.engine import Engine

    engine = Engine(location)
    try:
        report = engine.ingest(pages)
    finally:
        engine.close()
    print(f"  {report.documents_added} pages added, {report.documents_unchanged} unchanged, {report.seconds:.0f} s")


@contextmanager
def knowledge_base(backend: str, pages: int) -> Iterator[str]:
    """The benchmark knowledge base on `backend`, its pages ingested (the PostgreSQL server runs until the exit)."""
    name = f"load_{pages}" if pages else "load_all"
    print(f"{backend}: the first {pages or 'all'} PDQ pages …", flush=True)
    if backend == "sqlite":
        WORK.mkdir(exist_ok=True)
        location = str((WORK / f"{name.replace('_', '-')}.sqlite").resolve())
        ingest(location, benchmark_pages(pages))
        yield location
        return
    with postgres_server(WORK / "postgres") as admin:
        url = database_url(admin, name)[0]
        ingest(url, benchmark_pages(pages))
        yield url


# --- the server -----------------------------------------------------------------------------------------------


def start_server(db: str, port: int, workers: int, processes: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from clinqa.cli import main; main()", "--db", db]
    command += ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "CLINQA_DB"}
    env["CLINQA_WEB__ANSWER_PROCESSES"] = str(processes)
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
    server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown (the supervisor stops its workers)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)


def process_tree(pid: int) -> list[int]:
    found = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found += process_tree(int(child))
    return found


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def server_memory_mb(pid: int) -> float | None:
    """The sum of the peak resident memory of the server's processes."""
    peaks = [peak_rss_mb(p) for p in process_tree(pid)]
    return sum(p for p in peaks if p is not None) if peaks and peaks[0] is not None else None


# --- the clients ----------------------------------------------------------------------------------------------


async def timed(
    client: httpx.AsyncClient, results: Results, kind: str, method: str, url: str, **kwargs: object
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        results.record(kind, started, type(exc).__name__)
        return None
    ok = response.status_code < 400  # a login answers 303
    results.record(kind, started, None if ok else f"HTTP {response.status_code} {error_text(response)}")
    return response if ok else None


def error_text(response: httpx.Response) -> str:
    """The error message of a JSON error (`{"error": …}`), else nothing."""
    try:
        return str(response.json().get("error", ""))[:120]
    except ValueError:
        return ""


async def log_in(client: httpx.AsyncClient, results: Results) -> None:
    form = await timed(client, results, "GET /login", "GET", "/login")
    # The login form's token: a logged-in page also has the logout form's, with the session's token.
    found = CSRF.search(form.text.split('action="/login"', 1)[-1]) if form is not None else None
    if found is not None:
        login = {"username": USER, "password": PASSWORD, "csrf": found.group(1)}
        await timed(client, results, "POST /login", "POST", "/login", data=login)


async def ask(client: httpx.AsyncClient, results: Results, question: str) -> str | None:
    """The id of the answer's first source (None for none, or a failed ask)."""
    started = time.perf_counter()
    response = await timed(client, results, "/api/ask", "POST", "/api/ask", json={"question": question})
    if response is None:
        return None
    try:
        answer = response.json()
        results.statuses[str(answer["status"])] += 1
        return str(answer["sources"][0]["id"]) if answer["sources"] else None
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        # counted as a second record of the same request would inflate the count: mark it failed instead
        results.latencies["/api/ask"].pop()
        results.record("/api/ask", started, f"unreadable answer ({type(exc).__name__})")
        return None


async def run_client(
    base: str, timeout: float, questions: list[str], turn: itertools.count[int], deadline: float, results: Results
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=timeout, trust_env=False) as client:
        for n in range(MAX_REQUESTS_PER_CLIENT):
            if time.perf_counter() >= deadline:
                return
            source = await ask(client, results, questions[next(turn) % len(questions)])
            if n % PAGE_EVERY == PAGE_EVERY - 1 and time.perf_counter() < deadline:
                await timed(client, results, "GET /", "GET", "/")
                if source is not None:
                    await timed(client, results, "GET /sources/{id}", "GET", f"/sources/{quote(source, safe='')}")
            if n % LOGIN_EVERY == LOGIN_EVERY - 1 and time.perf_counter() < deadline:
                await log_in(client, results)


async def load(base: str, clients: int, seconds: float, timeout: float, questions: list[str]) -> Results:
    results = Results()
    deadline = time.perf_counter() + seconds
    turn = itertools.count()
    tasks = [asyncio.create_task(run_client(base, timeout, questions, turn, deadline, results)) for _ in range(clients)]
    try:
        # A client past the deadline finishes at most an ask, two pages and a login, each bounded by the timeout.
        done, pending = await asyncio.wait(tasks, timeout=seconds + 5 * timeout + 10)
        for _ in pending:
            results.errors["client cancelled at the hard time limit"] += 1
        for task in done:
            if task.exception() is not None:
                results.errors[f"client crashed: {task.exception()!r}"] += 1
    finally:  # also on Ctrl-C: no client outlives the run
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


def measure(backend: str, db: str, workers: int, processes: int, args: argparse.Namespace, questions: list[str]) -> Run:
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="clinqa-load-") as tmp:
        log = Path(tmp) / "server.log"
        server = start_server(db, port, workers, processes, log)
        try:
            startup = wait_until_up(server, base)
            with httpx.Client(base_url=base, timeout=STARTUP_TIMEOUT_S, trust_env=False) as client:
                client.post("/api/ask", json={"question": questions[0]}).raise_for_status()
            results = asyncio.run(load(base, args.clients, args.seconds, args.timeout, questions))
            if server.poll() is not None:
                results.errors[f"server exited during the run (status {server.returncode})"] += 1
            memory = server_memory_mb(server.pid)
        finally:
            stop_server(server)
        return Run(backend, workers, processes, results, startup, memory, log.read_text(errors="replace").strip())


# --- the report -----------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def route_cells(results: Results, members: list[str]) -> str:
    values = [v for k in members for v in results.latencies.get(k, [])]
    return f"{percentile(values, 50):.0f} / {percentile(values, 95):.0f}" if values else "-"


def summary(runs: list[Run]) -> str:
    headers = ["backend", "workers", "answer processes", "requests", "errors", "req/s", "asks/s"]
    headers += [f"{name} p50 / p95 ms" for name in ROUTES] + ["server memory (MB)"]
    rows: list[list[object]] = []
    for run in runs:
        r = run.results
        asks = len(r.latencies.get("/api/ask", []))
        rate = r.requests / r.elapsed if r.elapsed else 0.0
        memory = f"{run.memory_mb:.0f}" if run.memory_mb is not None else "unknown"
        row: list[object] = [
            run.backend,
            run.workers,
            run.answer_processes or "threads",
            r.requests,
            sum(r.errors.values()),
            f"{rate:.1f}",
        ]
        row.append(f"{asks / r.elapsed if r.elapsed else 0:.1f}")
        rows.append(row + [route_cells(r, members) for members in ROUTES.values()] + [memory])
    return table(headers, rows)


def details(run: Run) -> str:
    r = run.results
    lines = [
        f"\n{run.backend}, {run.workers} worker(s), answer processes {run.answer_processes}: "
        f"up in {run.startup_s:.1f} s"
    ]
    lines.append("answer statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items())))
    lines += [f"error: {reason} × {n}" for reason, n in r.errors.most_common()]
    if run.server_log:
        lines.append("server log (last lines):\n" + "\n".join(run.server_log.splitlines()[-10:]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400, help="the first N PDQ pages (0: all 1,433)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to compare")
    parser.add_argument(
        "--answer-processes", default="0", help="comma-separated web.answer_processes to compare (0: threads)"
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients start new requests")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, seconds")
    args = parser.parse_args()
    backends = args.backends.split(",")
    workers = [int(w) for w in args.workers.split(",")]
    processes = [int(p) for p in args.answer_processes.split(",")]
    if args.clients < 1 or args.seconds <= 0 or args.timeout <= 0 or min(workers) < 1:
        parser.error("--clients, --seconds, --timeout and --workers must be positive")
    if min(processes) < 0:
        parser.error("--answer-processes must not be negative (0: answers on threads)")
    if not set(backends) <= {"sqlite", "postgres"}:
        parser.error("--backends: sqlite, postgres or both")
    questions = load_questions()
    runs: list[Run] = []
    for backend in backends:
        with knowledge_base(backend, args.pages) as db:
            ensure_user(db)
            for count, answering in itertools.product(workers, processes):
                print(f"{backend}, {count} worker(s), answer processes {answering} …", flush=True)
                runs.append(measure(backend, db, count, answering, args, questions))
    print(f"\nWeb load — {machine()}")
    print(
        f"{args.pages or 'all'} PDQ pages; {args.clients} clients for {args.seconds:g} s per setup, "
        f"{len(questions)} questions round-robin, pages after every {PAGE_EVERY}th ask, "
        f"a login after every {LOGIN_EVERY}th\n"
    )
    print(summary(runs))
    for run in runs:
        print(details(run))
    if any(run.results.errors for run in runs):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
