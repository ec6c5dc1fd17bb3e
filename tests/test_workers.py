"""Several server workers over one knowledge base, on the backend under test: what one worker knows (a login, a
failed login, a newly ingested document) every other worker knows; `clinqa serve --workers 2` serves."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from clinqa.engine import Engine
from clinqa.errors import NotFound
from clinqa.ingest import parse_source, read_source
from clinqa.review import Role
from clinqa.web.app import create_app
from clinqa.web.backend import AskRequest, Web
from tests.conftest import FIXTURE_PAGES, Location, copy_kb

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MELANOMA = FIXTURE_PAGES / "melanoma-hp.md"
MELANOMA_QUESTION = "What is the adjuvant treatment of resected stage III melanoma?"


@pytest.fixture()
def kb(kb_path: Location, tmp_path: Path) -> Location:
    """A copy of the test knowledge base with one user, alice."""
    location = copy_kb(kb_path, tmp_path)
    engine = Engine(location)
    review = engine.review()
    review.accounts.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # fast logins
    review.add_user("alice", PASSWORD, Role.AUTHOR)
    engine.close()
    return location


@pytest.fixture()
def two_workers(kb: Location) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps over one knowledge base, each with its own engine and connection, as two worker processes have."""
    apps = [create_app(kb), create_app(kb)]
    yield TestClient(apps[0]), TestClient(apps[1])
    for app in apps:
        app.state.web.engine.close()


def log_in(client: TestClient, password: str = PASSWORD) -> Any:
    form = client.get("/login")
    return client.post(
        "/login",
        data={"username": "alice", "password": password, "csrf": CSRF.findall(form.text)[0]},
        follow_redirects=False,
    )


def test_a_login_on_one_worker_is_known_to_the_other(two_workers: tuple[TestClient, TestClient]) -> None:
    first, second = two_workers
    assert log_in(first).status_code == 303
    second.cookies = first.cookies
    assert "alice" in second.get("/articles").text  # the header names who is logged in
    logout = second.post("/logout", data={"csrf": CSRF.findall(second.get("/articles").text)[0]})
    assert logout.status_code == 200  # followed to the ask page
    first.cookies = second.cookies
    assert "alice" not in first.get("/articles").text


def test_the_login_limit_counts_failures_on_every_worker(two_workers: tuple[TestClient, TestClient]) -> None:
    first, second = two_workers
    statuses = [log_in((first, second)[n % 2], "wrong password").status_code for n in range(5)]
    assert statuses == [401] * 5
    assert log_in(first).status_code == 429  # five failures, spread over both workers: even the right password
    assert log_in(second).status_code == 429


def test_concurrent_writes_of_one_worker_all_land(two_workers: tuple[TestClient, TestClient]) -> None:
    """Threads of two workers start sessions and record failed logins at once: every write is there, whole."""
    webs = [client.app.state.web for client in two_workers]  # type: ignore[attr-defined]

    def write(n: int) -> str:
        web = webs[n % 2]
        web.engine.review().accounts.limiter.failed(f"user{n % 4}")
        return web.sessions.start(f"user{n}").token

    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(write, range(40)))
    found = [webs[1 - n % 2].sessions.get(t) for n, t in enumerate(tokens)]  # each read on the other worker
    assert [session.username if session else None for session in found] == [f"user{n}" for n in range(40)]
    db = webs[0].engine.store.db
    counts = db.execute("SELECT username, COUNT(*) FROM login_failures GROUP BY username ORDER BY username").fetchall()
    assert [tuple(r) for r in counts] == [(f"user{n}", 10) for n in range(4)]


def test_a_worker_answers_from_a_document_another_process_ingested(kb: Location) -> None:
    serving = Engine(kb)
    try:
        before = serving.ask(MELANOMA_QUESTION, remember=False)
        assert not any("Melanoma" in s.title for s in before.sources)
        subprocess.run(clinqa(kb, "ingest", str(MELANOMA)), check=True, capture_output=True, timeout=300)
        time.sleep(serving.generation_check_s)  # the generation is read at most this often
        after = serving.ask(MELANOMA_QUESTION, remember=False)
        assert any("Melanoma" in s.title for s in after.sources), [s.title for s in after.sources]
    finally:
        serving.close()


def test_a_serving_worker_waits_for_the_ingesting_process_to_save_the_new_index(kb: Location) -> None:
    """Mid-ingest the generation has moved but no index of it is saved: the worker answers from the one it has
    rather than building one (a whole-corpus ingest would otherwise have every worker rebuild at every document)."""
    serving = Engine(kb, generation_check_s=0, index_wait_s=60)
    ingesting = Engine(kb)
    try:
        serving.ask(MELANOMA_QUESTION, remember=False)
        ingesting.store.put_document(parse_source(MELANOMA, read_source(MELANOMA)), {}, ingesting.model)
        during = serving.ask(MELANOMA_QUESTION, remember=False)
        assert not any("Melanoma" in s.title for s in during.sources)
        assert serving.index().generation < ingesting.store.generation()
        ingesting.refresh_index()  # what an ingest does once its documents are in
        after = serving.ask(MELANOMA_QUESTION, remember=False)
        assert any("Melanoma" in s.title for s in after.sources), [s.title for s in after.sources]
    finally:
        serving.close()
        ingesting.close()


def clinqa(kb: Location, *args: str) -> list[str]:
    """The command line of `clinqa --db KB ARGS…`, in this interpreter."""
    return [sys.executable, "-c", "from clinqa.cli import main; main()", "--db", str(kb), *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workers(pid: int) -> list[int]:
    """The worker processes of a server (its other child is multiprocessing's resource tracker)."""
    found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def wait_until_up(server: subprocess.Popen[bytes], client: httpx.Client) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read().decode() if server.stdout else server.returncode
        try:
            if client.get("/").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer within 120 s")


def test_serve_with_two_workers(kb: Location) -> None:
    port = free_port()
    command = clinqa(kb, "serve", "--port", str(port), "--workers", "2")
    env = {k: v for k, v in os.environ.items() if k != "CLINQA_DB"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, trust_env=False) as client:
            wait_until_up(server, client)
            assert len(workers(server.pid)) == 2
            answer = client.post("/api/ask", json={"question": "What is the treatment of recurrent osteosarcoma?"})
            assert answer.status_code == 200 and answer.json()["sources"]
            form = client.get("/login")
            login = {"username": "alice", "password": PASSWORD, "csrf": CSRF.findall(form.text)[0]}
            assert client.post("/login", data=login).status_code == 303
        for _ in range(6):  # new connections, taken by either worker: each knows the session
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies=client.cookies, trust_env=False) as other:
                assert "alice" in other.get("/articles").text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_answers_computed_in_answer_processes(kb: Location) -> None:
    """With `web.answer_processes`, a child process with its own engine answers: the same answer as the worker's
    own engine gives, and the engine's errors (another owner's thread) reach the worker as the same error."""
    web = Web(Engine(kb), answer_processes=1)
    try:
        web.ready_to_answer()  # the child starts and loads its engine before the first question
        in_child = anyio.run(web.ask, AskRequest(question=MELANOMA_QUESTION), None)
        at_home = web.engine.ask(MELANOMA_QUESTION, remember=False)
        assert in_child.status is at_home.status
        assert [s.text for s in in_child.sentences()] == [s.text for s in at_home.sentences()]
        with pytest.raises(NotFound, match="nope"):
            anyio.run(web.ask, AskRequest(question=MELANOMA_QUESTION, thread_id="nope"), "alice")
    finally:
        web.close()
        web.engine.close()
