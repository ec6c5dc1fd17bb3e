"""End to end in a real headless Chromium (Debian `chromium`, driven by Playwright): ask, follow a citation to
its passage, save an article, submit, log in as a reviewer, approve, see the banner change; re-ingest a changed
source and see the article flagged. Screenshots go to $CLINQA_SCREENSHOTS when it is set (docs/screenshots)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinqa.engine import Engine
from clinqa.review.models import Role

from .conftest import SEED_PAGE, need_shared

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
QUESTION = "What is the 5-year survival after complete resection of pulmonary metastases in recurrent osteosarcoma?"
PASSWORDS = {"alice": "alice-long-password-1", "bob": "bob-long-password-2"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """A server on loopback over a knowledge base holding a copy of the seed page; users alice and bob."""
    need_shared()
    import uvicorn

    from clinqa.web.app import create_app

    folder = tmp_path_factory.mktemp("browser")
    source = Path(shutil.copy(SEED_PAGE, folder / "recurrent-osteosarcoma-2014.txt"))
    db = folder / "kb.sqlite"
    engine = Engine(db)
    engine.ingest([source])
    engine.review().add_user("alice", PASSWORDS["alice"], Role.AUTHOR)
    engine.review().add_user("bob", PASSWORDS["bob"], Role.REVIEWER)
    engine.close()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", db, source
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def shot(page: object, name: str) -> None:
    folder = os.environ.get("CLINQA_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def log_in(page: object, base: str, user: str) -> None:
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.fill("#username", user)  # type: ignore[attr-defined]
    page.fill("#password", PASSWORDS[user])  # type: ignore[attr-defined]
    page.click("button:has-text('Log in')")  # type: ignore[attr-defined]


def test_ask_review_approve_and_flag_on_source_change(site: tuple[str, Path, Path], browser: object) -> None:
    base, db, source = site
    page = browser.new_page(viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    page.goto(base)
    shot(page, "ask")
    page.fill("#question", QUESTION)
    page.check("input[name=audience][value=clinician]")
    page.click("button:has-text('Ask')")
    page.wait_for_selector("text=Bottom line")
    assert "20% to 45%" in page.inner_text("main")
    shot(page, "answer")

    # Follow a citation to the exact passage it came from.
    page.click(".bottom-line a.src >> nth=0")
    page.wait_for_selector(".passage.highlight")
    assert "20% to 45%" in page.inner_text(".passage.highlight")
    shot(page, "source")

    # Alice saves the answer as an article and submits it.
    log_in(page, base, "alice")
    page.goto(base)
    page.fill("#question", QUESTION)
    page.click("button:has-text('Ask')")
    page.click("button:has-text('Save as article')")
    page.wait_for_selector(".banner")
    assert "Pending human review" in page.inner_text(".banner")
    article_url = page.url
    page.click("button:has-text('Submit for review')")
    page.wait_for_selector("text=Submitted")
    page.click("button:has-text('Log out')")

    # Bob, a reviewer, starts the review and approves: the banner changes.
    log_in(page, base, "bob")
    page.goto(article_url)
    page.click("button:has-text('Start review')")
    page.wait_for_selector("button:has-text('Approve')")
    page.click("button:has-text('Approve')")
    page.wait_for_selector(".banner-approved")
    assert page.inner_text(".banner-approved").startswith("Approved by bob")
    shot(page, "article-approved")

    # The source changes: a re-ingest flags the approved article for re-review, with the diff.
    text = source.read_text()
    source.write_text(text.replace("5-year survival rate of 20% to 45%", "5-year survival rate of 25% to 45%"))
    engine = Engine(db)
    assert engine.ingest([source]).documents_updated == 1
    engine.close()
    page.goto(article_url)
    page.wait_for_selector(".source-changes")
    changes = page.inner_text(".source-changes")
    assert "needs re-review" in changes.lower() and "25%" in changes
    shot(page, "article-source-updated")
    page.goto(f"{base}/review")
    assert article_url.rsplit("/", 1)[-1] in page.content()
    page.close()
