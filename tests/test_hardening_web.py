"""Hostile input through the web app, in-process over a copy of the test knowledge base: every page rendered with
markup, script addresses and template syntax in every field that reaches HTML; integer parameters out of range;
bodies over the limit, declared or chunked; review moves made on a version that is no longer current; who may read
a conversation, and for how long it is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from clinqa.answer.threads import CLI_OWNER, browser_owner
from clinqa.cli import cli
from clinqa.engine import Engine
from clinqa.errors import NotFound
from clinqa.review import ArticleState
from clinqa.settings import Settings, configure, settings
from clinqa.store import SQLiteStore, migrate_database, open_database, open_store
from clinqa.types import (
    ChangeKind,
    CriterionVerdict,
    DocumentChange,
    Flag,
    FlagKind,
    Passage,
    PatientContext,
    PriorTherapy,
    SourceDocument,
    TrialMatch,
)
from clinqa.web.app import create_app
from clinqa.web.edge import body_limit
from clinqa.web.owners import OWNER_COOKIE

from .conftest import Location, copy_kb, every_row
from .test_web_review import QUESTION, Site, csrf_in, log_in, move, open_site, save, session_csrf

S = ArticleState
# Markup, an attribute break-out, template syntax and rich markup: each must come out as the text it is.
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> {{ "zq" ~ "xj" }} [/]'
HOSTILE_ID = HOSTILE.replace("/", "")  # as a path segment
EVALUATED = "zqxj"  # what the template syntax above would print if it were ever evaluated
SCRIPT_URL = 'javascript:fetch("/articles")//'
HOSTILE_PAGE = """---
title: '<script>alert(1)</script> "><img src=x onerror=alert(2)> {{ "zq" ~ "xj" }} [/] osteosarcoma in the lung'
url: 'javascript:fetch("/articles")//'
lastReviewed: '2024-05-01'
---

# Osteosarcoma in the lung

## &lt;script&gt;alert(3)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(4)&gt; {{ "zq" ~ "xj" }} [/] Surgery

Osteosarcoma that comes back in the lung is removed by surgery &lt;script&gt;alert(5)&lt;/script&gt; \
&quot;&gt;&lt;img src=x onerror=alert(6)&gt; {{ "zq" ~ "xj" }} [/bold] when every nodule can be taken out.[1]

###### References

1. &lt;script&gt;alert(7)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(8)&gt; Writer A: Lung surgery. 2001.
"""
SAFE_SCHEMES = ("http", "https", "mailto")
BANNED_TAGS = {"script", "img", "iframe", "object", "embed", "svg", "math", "base", "frame", "style"}
CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)


@dataclass
class Hostile:
    site: Site
    document_id: str
    article_id: str


@pytest.fixture(scope="module")
def hostile(kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """A site whose knowledge base holds a hostile guideline page and a hostile article (answer, patient,
    references, trials, flags, comments and a source change), each value built from HOSTILE or SCRIPT_URL."""
    folder = tmp_path_factory.mktemp("hostile-web")
    site = open_site(copy_kb(kb_path, folder))
    page = folder / "hostile-guideline.md"
    page.write_text(HOSTILE_PAGE, encoding="utf-8")
    engine = site.web.engine
    report = engine.ingest([page])
    assert not report.failed, report.failed
    (document_id,) = [d.id for d in engine.documents() if "osteosarcoma in the lung" in d.title]
    article_id = engine.review().save_article(hostile_answer(engine), site.users["alice"]).id
    for name, to in (("alice", S.SUBMITTED), ("rhea", S.UNDER_REVIEW), ("ravi", S.APPROVED)):
        assert move(site, article_id, name, to, HOSTILE).status_code == 200
    flag_with_hostile_diff(site, article_id)
    yield Hostile(site, document_id, article_id)
    site.web.engine.close()


def hostile_answer(engine: Engine) -> Any:
    """A real answer, with every displayed field replaced by hostile text or a script address."""
    answer = engine.ask(QUESTION, remember=False)
    first = answer.bottom_line[0]
    sentence = first.model_copy(update={"text": f"{first.text} {HOSTILE}", "label": HOSTILE})
    references = [
        answer.references[0].model_copy(update={"text": HOSTILE, "pmid": None, "pubmed_url": None, "url": SCRIPT_URL}),
        answer.references[0].model_copy(update={"n": 99, "text": HOSTILE, "pmid": HOSTILE, "pubmed_url": SCRIPT_URL}),
    ]
    patient = PatientContext(
        age=16,
        diagnosis=HOSTILE,
        recurrence_number=2,
        sites=[HOSTILE],
        prior_therapies=[PriorTherapy(described=HOSTILE, agents=[HOSTILE], line=1)],
        not_received=[HOSTILE],
        conflicts=[HOSTILE],
    )
    return answer.model_copy(
        update={
            "question": f"{QUESTION} {HOSTILE}",
            "note": HOSTILE,
            "bottom_line": [sentence, *answer.bottom_line[1:]],
            "references": references,
            "patient": patient,
            "trials": [
                TrialMatch(
                    id=HOSTILE,
                    title=HOSTILE,
                    status=HOSTILE,
                    criteria=[CriterionVerdict(criterion=HOSTILE, verdict="met", reason=HOSTILE)],
                )
            ],
            "flags": [Flag(kind=FlagKind.PREVIOUSLY_RECEIVED, agent=HOSTILE, sentence=sentence.text, reason=HOSTILE)],
            "sources": [SourceDocument(id=HOSTILE, title=HOSTILE, url=SCRIPT_URL, updated=None)],
            "disclaimer": HOSTILE,
        }
    )


def flag_with_hostile_diff(site: Site, article_id: str) -> None:
    """The system's re-review flag, its passage diff made of hostile text."""
    review = site.web.engine.review()
    visible = review.visible_version(article_id)
    assert visible is not None
    cited = visible.cited_passages[0]
    document_id = cited.split("#")[0]

    def passage(passage_id: str, text: str) -> Passage:
        return Passage(
            id=passage_id, document_id=document_id, ordinal=1, section_path=(HOSTILE,), kind="paragraph", text=text
        )

    change = DocumentChange(
        document_id=document_id,
        kind=ChangeKind.UPDATED,
        at=dt.datetime.now(dt.UTC),
        old_hash="old",
        new_hash="new",
        passages_added=(f"{document_id}#new",),
        passages_removed=(cited,),
    )
    new = f"{document_id}#new"
    flagged = review.on_document_changed(
        change, {cited: passage(cited, f"old {HOSTILE}")}, {new: passage(new, f"new {HOSTILE} words")}
    )
    assert flagged and flagged[0].source_changes


# --- every page, hostile values everywhere --------------------------------------------------------------------


class PageScan(HTMLParser):
    """The tags, attributes and text of a page, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_safe(response: httpx.Response, where: str) -> str:
    """No server error, the strict CSP, and for HTML: no script, no event handler, no link but http(s), mailto
    or a path on this site, and template syntax printed as written. Returns the page's text."""
    assert response.status_code < 500, (where, response.status_code, response.text[:500])
    policy = response.headers.get("content-security-policy", "")
    assert all(d in policy for d in CSP_DIRECTIVES), (where, policy)
    assert response.headers.get("x-content-type-options") == "nosniff", where
    if not response.headers.get("content-type", "").startswith("text/html"):
        assert "Traceback" not in response.text, where
        return ""
    scan = PageScan()
    scan.feed(response.text)
    for tag, attrs in scan.tags:
        assert tag not in BANNED_TAGS, (where, tag, attrs)
        assert not (tag == "meta" and any(name == "http-equiv" for name, _ in attrs)), (where, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, name, value)
            if name in ("href", "src", "action", "formaction") and value:
                scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", value)
                assert scheme is None or scheme.group(1).lower() in SAFE_SCHEMES, (where, tag, name, value)
    assert EVALUATED not in response.text, where
    assert "Traceback" not in response.text, where
    return "".join(scan.text)


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    form: tuple[str, ...]  # the form fields it reads


def page_routes(app: Any) -> list[Page]:
    """Every route that answers a browser (all but the JSON API), from the app's own OpenAPI description, with
    the form fields each reads: a page added later is covered without touching this test."""
    spec = app.openapi()
    pages = []
    for path, operations in spec["paths"].items():
        if path.startswith(("/api/", "/cds-services")):
            continue  # JSON services: their hostile input is tested with the API (and tests/test_cds_hooks.py)
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            form = (content.get("application/x-www-form-urlencoded") or content.get("multipart/form-data") or {}).get(
                "schema", {}
            )
            name = form.get("$ref", "").rsplit("/", 1)[-1]
            fields = tuple(spec["components"]["schemas"][name]["properties"]) if name else ()
            pages.append(Page(method.upper(), path, fields))
    return pages


def test_every_page_escapes_hostile_values_and_sends_a_strict_csp(hostile: Hostile) -> None:
    site = hostile.site
    clients = {"anonymous": site.client(), "reviewer": log_in(site, "rhea")}
    stored = {"article_id": hostile.article_id, "document_id": hostile.document_id}
    query = {"question": f"{QUESTION} {HOSTILE}", "passage": HOSTILE, "next": f"/{HOSTILE}", "audience": "clinician"}
    shown: dict[tuple[str, str, str, str], str] = {}
    routes = sorted(page_routes(site.app), key=lambda r: r.path == "/logout")  # log out last
    assert len(routes) >= 14
    for route in routes:
        names = re.findall(r"\{(\w+)\}", route.path)
        unknown = [n for n in names if n not in stored]
        assert not unknown, f"add a hostile value for the path parameter(s) {unknown} of {route.path}"
        # The stored hostile records, then ids that are themselves hostile (an error page repeats them).
        for kind, values in (("stored", stored), ("hostile id", dict.fromkeys(names, HOSTILE_ID))):
            path = route.path.format(**values)
            for who, client in clients.items():
                where = (who, route.method, route.path, kind)
                if route.method == "GET":
                    response = client.get(path, params=query)
                else:
                    response = client.post(path, data=form_values(route, client), follow_redirects=False)
                    if response.is_redirect:
                        assert response.headers["location"].startswith("/"), where
                shown[where] = assert_safe(response, str(where))
    # The hostile values did reach the pages, as text.
    for path in ("/sources/{document_id}", "/articles/{article_id}", "/articles/{article_id}/print"):
        page = shown[("reviewer", "GET", path, "stored")]
        assert "<script>alert(1)</script>" in page and '"><img src=x onerror=alert(2)>' in page, path
    article = shown[("reviewer", "GET", "/articles/{article_id}", "stored")]
    assert "Source updated" in article and "Patient as understood" in article and "Clinical trials" in article
    assert shown[("reviewer", "GET", "/articles/{article_id}/audit", "stored")].count("<script>alert(1)</script>") >= 3
    assert "<script>alert(1)</script>" in shown[("anonymous", "POST", "/ask", "stored")]
    assert HOSTILE_ID in shown[("anonymous", "GET", "/articles/{article_id}", "hostile id")]  # "no article …"
    source = clients["anonymous"].get(f"/sources/{hostile.document_id}").text
    assert "Original page" in source and "javascript:" not in source.split("Original page")[0][-200:]


def form_values(route: Page, client: TestClient) -> dict[str, str]:
    """A hostile value for every form field the route reads (a valid CSRF token, so the form gets through)."""
    values = {
        "question": f"{QUESTION} {HOSTILE}",
        "patient_details": f"16-year-old {HOSTILE}",
        "audience": "clinician",
        "thread_id": HOSTILE,
        "patient_record": "",  # no file: a hostile record is tests/test_cds_hooks.py's (a form posts none here)
        "comment": HOSTILE,
        "to": "changes_requested",
        "version": "1",
        "username": HOSTILE,
        "password": HOSTILE,
        "next": f"/{HOSTILE}",
    }
    fields = route.form
    if "csrf" in fields:
        page = client.get("/login") if route.path == "/login" else client.get("/articles")
        values["csrf"] = csrf_in(page.text) if 'name="csrf"' in page.text else HOSTILE
    unknown = [f for f in fields if f not in values]
    assert not unknown, f"add a hostile value for the form field(s) {unknown} of {route.path}"
    return {f: values[f] for f in fields}


# --- settings overrides ---------------------------------------------------------------------------------------


@pytest.fixture()
def restore_settings() -> Iterator[Settings]:
    """The process settings, put back as they were after the test."""
    before = settings()
    yield before
    configure(**{name: dict(values) for name, values in before.model_dump().items()})


# --- integer parameters ----------------------------------------------------------------------------------------

HUGE = "99999999999999999999"  # past SQLite's 64-bit integers


def test_out_of_range_version_numbers_are_a_422_naming_the_parameter(hostile: Hostile) -> None:
    site, article_id = hostile.site, hostile.article_id
    reviewer = log_in(site, "rhea")
    for path in (f"/articles/{article_id}", f"/articles/{article_id}/print", f"/articles/{article_id}.md"):
        for value in (HUGE, "-1", "0", "1e3"):
            page = reviewer.get(path, params={"version": value})
            assert page.status_code == 422 and "version" in page.text and "Traceback" not in page.text, (path, value)
    for value in (int(HUGE), -1, 0, 2**63):
        response = move(site, article_id, "rhea", S.UNDER_REVIEW, version=value)
        assert response.status_code == 422 and response.json()["field"] == "version", value
    form = {"to": "under_review", "csrf": session_csrf(reviewer), "version": HUGE}
    assert reviewer.post(f"/articles/{article_id}/transitions", data=form).status_code == 422
    review = site.web.engine.review()
    with pytest.raises(NotFound, match="no version"):
        review.version(article_id, int(HUGE))


def test_the_command_line_refuses_out_of_range_numbers(hostile: Hostile) -> None:
    db = str(hostile.site.web.engine.db)
    for option, args in (
        ("--version", ["review", "show", hostile.article_id, "--version", HUGE]),
        ("--version", ["review", "approve", hostile.article_id, "--version", HUGE, "--token", "x"]),
        ("--port", ["serve", "--port", HUGE]),
    ):
        result = CliRunner().invoke(cli, ["--db", db, *args])
        assert result.exit_code == 2 and option in result.output and result.exception is not None
        assert isinstance(result.exception, SystemExit), result.exception  # a usage error, not a crash


# --- the body limit ---------------------------------------------------------------------------------------------

CHUNK = 16 * 1024


async def post_chunked(app: Any, path: str, total: int, content_type: str) -> tuple[httpx.Response, int]:
    """POST a body of `total` bytes in chunks, with no Content-Length; how many bytes the app pulled."""
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < total:
            sent += CHUNK
            yield b"x" * CHUNK

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(path, content=body(), headers={"content-type": content_type})
    return response, sent


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/ask", "application/json"),
        ("/ask", "application/x-www-form-urlencoded"),
        ("/login", "application/x-www-form-urlencoded"),
    ],
)
def test_a_chunked_body_is_read_only_up_to_the_limit(hostile: Hostile, path: str, content_type: str) -> None:
    limit = body_limit("POST", path, content_type.encode())
    total = 64 * 1024 * 1024  # a 64 MiB body: the server stops after the limit and one chunk
    response, sent = anyio.run(post_chunked, hostile.site.app, path, total, content_type)
    assert response.status_code == 413 and str(limit) in response.text
    assert sent <= limit + CHUNK < total, sent
    assert "script-src 'none'" in response.headers["content-security-policy"]


def test_the_body_limit_and_question_length_are_read_from_the_settings(
    hostile: Hostile, restore_settings: Settings
) -> None:
    client = hostile.site.client()
    configure(web={"max_body_bytes": 2048, "max_record_body_bytes": 2048, "max_question_chars": 100})
    declared = client.post("/api/ask", content=b"{" + b" " * 3000 + b"}", headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "2048" in declared.json()["error"]
    long = client.post("/api/ask", json={"question": "osteosarcoma " * 10})
    assert long.status_code == 422 and long.json()["field"] == "question" and "100" in long.json()["error"]
    page = client.post("/ask", data={"question": "osteosarcoma " * 10})
    assert page.status_code == 422 and "100 characters" in page.text
    assert 'maxlength="100"' in client.get("/").text


# --- review moves carry the version they act on ---------------------------------------------------------------


def stale_approval(site: Site) -> tuple[str, TestClient, str]:
    """ravi opens version 1 under review; rhea asks for changes, alice regenerates (version 2) and submits it,
    rhea starts reviewing it. Returns the article, ravi's client and his page from before."""
    article_id = save(site, "alice")
    for name, to in (("alice", S.SUBMITTED), ("rhea", S.UNDER_REVIEW)):
        assert move(site, article_id, name, to).status_code == 200
    ravi = log_in(site, "ravi")
    seen = ravi.get(f"/articles/{article_id}").text
    assert 'name="version" value="1"' in seen and 'value="approved"' in seen
    assert move(site, article_id, "rhea", S.CHANGES_REQUESTED, "regenerate it").status_code == 200
    for name, to in (("alice", S.DRAFT), ("alice", S.SUBMITTED), ("rhea", S.UNDER_REVIEW)):
        assert move(site, article_id, name, to).status_code == 200
    assert site.version(article_id) == 2 and site.state(article_id) is S.UNDER_REVIEW
    return article_id, ravi, seen


def test_an_approval_made_on_an_older_version_is_refused_and_changes_nothing(hostile: Hostile) -> None:
    site = hostile.site
    article_id, ravi, seen = stale_approval(site)
    before = site.snapshot(article_id)
    form = {"to": "approved", "csrf": csrf_in(seen), "version": "1"}  # the form as ravi saw it
    page = ravi.post(f"/articles/{article_id}/transitions", data=form)
    assert page.status_code == 409 and "version 2" in page.text and "reload" in page.text
    api = move(site, article_id, "ravi", S.APPROVED, version=1)
    assert api.status_code == 409 and "version 2" in api.json()["error"]
    assert site.snapshot(article_id) == before  # state, versions and audit log as they were
    current = ravi.get(f"/articles/{article_id}").text
    assert 'name="version" value="2"' in current
    approved = move(site, article_id, "ravi", S.APPROVED, version=2)
    assert approved.status_code == 200 and approved.json()["approved_version"] == 2


def test_every_move_needs_the_version_it_acts_on(hostile: Hostile) -> None:
    site = hostile.site
    article_id = save(site, "alice")
    before = site.snapshot(article_id)
    missing = site.client().post(
        f"/api/articles/{article_id}/transitions", json={"to": "submitted"}, headers=site.auth("alice")
    )
    assert missing.status_code == 422 and missing.json()["field"] == "version"
    for to in (S.SUBMITTED, S.DRAFT):  # a submission, and a regeneration (a new version), of a version not seen
        response = move(site, article_id, "alice", to, version=2)
        assert response.status_code == 409 and "version 1" in response.json()["error"], to
    assert site.snapshot(article_id) == before
    alice = log_in(site, "alice")
    without = alice.post(f"/articles/{article_id}/transitions", data={"to": "submitted", "csrf": session_csrf(alice)})
    assert without.status_code == 422 and "version" in without.text
    assert site.snapshot(article_id) == before


def test_only_the_page_of_the_current_version_has_review_forms(hostile: Hostile) -> None:
    site = hostile.site
    article_id = save(site, "alice")
    for name, to in (("alice", S.SUBMITTED), ("rhea", S.UNDER_REVIEW), ("ravi", S.APPROVED), ("alice", S.DRAFT)):
        assert move(site, article_id, name, to).status_code == 200
    alice = log_in(site, "alice")
    published = alice.get(f"/articles/{article_id}").text  # version 1, the approved one
    assert 'name="version"' not in published and f"/articles/{article_id}?version=2" in published
    draft = alice.get(f"/articles/{article_id}", params={"version": 2}).text
    assert 'name="version" value="2"' in draft and 'value="submitted"' in draft


def test_the_command_line_refuses_a_stale_version(hostile: Hostile) -> None:
    site = hostile.site
    article_id, _, _ = stale_approval(site)
    before = site.snapshot(article_id)
    db = str(site.web.engine.db)

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--db", db, *args])

    approve = run("review", "approve", article_id, "--version", "1", "--token", site.tokens["ravi"])
    assert approve.exit_code == 1 and "version 2" in approve.output and "reload" in approve.output
    missing = run("review", "approve", article_id, "--token", site.tokens["ravi"])
    assert missing.exit_code == 2 and "--version" in missing.output
    submit = run("articles", "submit", article_id, "--version", "1", "--token", site.tokens["alice"])
    assert submit.exit_code == 1
    assert site.snapshot(article_id) == before
    done = run("review", "approve", article_id, "--version", "2", "--token", site.tokens["ravi"])
    assert done.exit_code == 0, done.output
    assert site.state(article_id) is S.APPROVED


def test_the_share_link_uses_the_configured_address_never_the_host_header(
    hostile: Hostile, restore_settings: Settings
) -> None:
    site, article_id = hostile.site, hostile.article_id
    evil = site.client().get(f"/articles/{article_id}", headers={"Host": "evil.example"}).text
    share = re.search(r'href="(mailto:[^"]+)"', evil)
    assert share is not None and "evil.example" not in share.group(1)
    assert share.group(1).endswith(f"body=/articles/{article_id}")  # no address configured: the path alone
    configure(web={"base_url": "https://clinqa.example.org/"})
    page = site.client().get(f"/articles/{article_id}", headers={"Host": "evil.example"}).text
    share = re.search(r'href="(mailto:[^"]+)"', page)
    assert share is not None and "evil.example" not in page
    assert share.group(1).endswith(f"body=https%3A//clinqa.example.org/articles/{article_id}")


# --- conversations: who may read them, for how long ------------------------------------------------------------


def thread_rows(site: Site) -> list[tuple[str, str, str]]:
    return site.web.engine.store.db.execute("SELECT id, owner, expires_at FROM threads").fetchall()


def test_a_conversation_is_read_only_by_its_owner(hostile: Hostile) -> None:
    site = hostile.site
    asker = site.client()
    answer = asker.post("/api/ask", json={"question": QUESTION, "patient": {"age": 16}})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    thread_id = answer.json()["thread_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", thread_id)  # 128 random bits
    cookie = asker.cookies[OWNER_COOKIE]
    set_cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    mine = asker.get(f"/api/threads/{thread_id}")
    assert mine.status_code == 200 and mine.json()["patient"]["age"] == 16
    assert mine.headers["cache-control"] == "no-store"
    unknown = site.client().get(f"/api/threads/{'0' * 32}")
    for stranger in (
        site.client().get(f"/api/threads/{thread_id}"),
        site.client(cookies={OWNER_COOKIE: "guessed"}).get(f"/api/threads/{thread_id}"),
        site.client().get(f"/api/threads/{thread_id}", headers=site.auth("ada")),
        log_in(site, "rhea").get(f"/api/threads/{thread_id}"),
    ):
        assert stranger.status_code == 404 and stranger.json()["error"].startswith("no thread")
        assert stranger.json()["error"].replace(thread_id, "0" * 32) == unknown.json()["error"]  # nothing revealed
    # Someone else's thread is not continued either, and nothing is stored.
    before = thread_rows(site)
    follow = site.client().post("/api/ask", json={"question": "and for the bones?", "thread_id": thread_id})
    assert follow.status_code == 404 and thread_rows(site) == before
    page = site.client().post("/ask", data={"question": "and for the bones?", "thread_id": thread_id})
    assert page.status_code == 404 and "Traceback" not in page.text and thread_rows(site) == before
    # The database holds the cookie's hash, never the cookie.
    owners = {row[0]: row[1] for row in thread_rows(site)}
    assert owners[thread_id] == browser_owner(cookie) == "browser:" + hashlib.sha256(cookie.encode()).hexdigest()
    dump = every_row(site.web.engine.store.db)
    assert cookie not in dump


def test_an_api_token_owns_its_conversations(hostile: Hostile) -> None:
    site = hostile.site
    asked = site.client().post("/api/ask", json={"question": QUESTION}, headers=site.auth("rita"))
    thread_id = asked.json()["thread_id"]
    assert OWNER_COOKIE not in asked.cookies  # a token is enough to own it
    assert site.client().get(f"/api/threads/{thread_id}", headers=site.auth("rita")).status_code == 200
    assert site.client().get(f"/api/threads/{thread_id}", headers=site.auth("rhea")).status_code == 404
    follow = site.client().post(
        "/api/ask", json={"question": "and for bone metastases?", "thread_id": thread_id}, headers=site.auth("rita")
    )
    assert follow.status_code == 200 and follow.json()["thread_id"] == thread_id
    bad = site.client().post("/api/ask", json={"question": QUESTION}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    listing = site.client().get("/api/threads", headers=site.auth("ada"))
    assert listing.status_code == 200 and thread_id in {t["id"] for t in listing.json()}


def test_a_question_link_stores_nothing_and_answer_pages_are_not_cached(hostile: Hostile) -> None:
    site = hostile.site
    before = thread_rows(site)
    link = site.client().get("/ask", params={"question": QUESTION})
    assert link.status_code == 200 and "Bottom line" in link.text and 'name="thread_id"' not in link.text
    assert link.headers["cache-control"] == "no-store" and OWNER_COOKIE not in link.cookies
    assert thread_rows(site) == before
    asker = site.client()
    posted = asker.post("/ask", data={"question": QUESTION, "patient_details": "16-year-old"})
    assert posted.headers["cache-control"] == "no-store" and 'name="thread_id"' in posted.text
    assert len(thread_rows(site)) == len(before) + 1
    thread_id = re.search(r'name="thread_id" value="([0-9a-f]{32})"', posted.text)
    assert thread_id is not None
    follow = asker.post("/ask", data={"question": "and for bone metastases?", "thread_id": thread_id.group(1)})
    assert follow.status_code == 200 and len(thread_rows(site)) == len(before) + 1  # the same conversation
    assert site.client().get("/static/style.css").headers.get("cache-control") != "no-store"


def test_conversations_expire_and_are_purged(hostile: Hostile, restore_settings: Settings) -> None:
    site = hostile.site
    engine = site.web.engine
    answer = engine.ask(QUESTION)
    (row,) = [r for r in thread_rows_unlocked(engine) if r[0] == answer.thread_id]
    created = engine.thread(answer.thread_id, CLI_OWNER).created_at
    assert dt.datetime.fromisoformat(row[2]) - created == dt.timedelta(days=3)  # the default retention
    later = created + dt.timedelta(days=3, seconds=1)
    with pytest.raises(NotFound):
        engine.store.get_thread(answer.thread_id, CLI_OWNER, later)  # expired: gone before any purge
    removed = engine.purge_threads(later)
    assert removed >= 1 and answer.thread_id not in {r[0] for r in thread_rows_unlocked(engine)}
    turns = engine.store.db.execute("SELECT COUNT(*) FROM thread_turns WHERE thread_id=?", (answer.thread_id,))
    assert turns.fetchone()[0] == 0
    configure(privacy={"thread_retention_days": 0})  # keep nothing
    asker = site.client()
    before = thread_rows(site)
    kept = asker.post("/api/ask", json={"question": QUESTION})
    assert kept.status_code == 200 and kept.json()["thread_id"] is None and thread_rows(site) == before


def thread_rows_unlocked(engine: Engine) -> list[tuple[str, str, str]]:
    return engine.store.db.execute("SELECT id, owner, expires_at FROM threads").fetchall()


def expired_thread(db: Location) -> str:
    """A conversation that expired a minute ago, written through the store."""
    store = open_store(db)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    thread = store.create_thread("clinician", PatientContext(age=40), CLI_OWNER, past + dt.timedelta(seconds=1))
    store.close()
    return thread.id


def test_expired_conversations_are_purged_at_startup_at_each_new_one_and_on_command(
    kb_path: Path, tmp_path: Path
) -> None:
    db = copy_kb(kb_path, tmp_path)

    def ids() -> set[str]:
        connection = open_database(db)
        try:
            return {r[0] for r in connection.execute("SELECT id FROM threads")}
        finally:
            connection.close()

    live = ids()  # conversations other tests left in the shared knowledge base, not expired yet
    first = expired_thread(db)
    app = create_app(db)  # what `clinqa serve` starts
    assert ids() == live
    expired_thread(db)
    asked = TestClient(app).post("/api/ask", json={"question": QUESTION})  # a new conversation
    assert ids() == live | {asked.json()["thread_id"]} and first not in ids()
    app.state.web.engine.close()
    for _ in range(2):
        expired_thread(db)
    result = CliRunner().invoke(cli, ["--db", str(db), "threads", "purge"])
    assert result.exit_code == 0 and result.output.strip() == "2 expired conversation(s) deleted"
    assert ids() == live | {asked.json()["thread_id"]}


@pytest.mark.sqlite_only
def test_conversations_stored_without_an_owner_are_dropped(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as old:
        old.executescript(
            "CREATE TABLE threads (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, audience TEXT NOT NULL,"
            " patient TEXT NOT NULL);"
            "CREATE TABLE thread_turns (thread_id TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,"
            " n INTEGER NOT NULL, question TEXT NOT NULL, standalone TEXT NOT NULL, status TEXT NOT NULL,"
            " at TEXT NOT NULL, PRIMARY KEY (thread_id, n));"
            "INSERT INTO threads VALUES ('abc', '2024-01-01T00:00:00+00:00', 'clinician', '{}');"
            "INSERT INTO thread_turns VALUES ('abc', 1, 'John Q. Patient, DOB 1999-03-14', 'x', 'answered', 'x');"
        )
    migrate_database(db)
    store = SQLiteStore(db)
    assert store.db.execute("SELECT COUNT(*) FROM threads").fetchone()[0] == 0
    assert store.db.execute("SELECT COUNT(*) FROM thread_turns").fetchone()[0] == 0
    columns = {r[1] for r in store.db.execute("PRAGMA table_info(threads)")}
    assert {"owner", "expires_at"} <= columns
    store.close()


def test_the_command_line_owns_its_conversations(hostile: Hostile) -> None:
    site = hostile.site
    web_thread = site.client().post("/api/ask", json={"question": QUESTION}).json()["thread_id"]
    db = str(site.web.engine.db)
    asked = CliRunner().invoke(cli, ["--db", db, "ask", "--json", QUESTION])
    cli_thread = json.loads(asked.output)["thread_id"]
    listed = CliRunner().invoke(cli, ["--db", db, "threads"])
    assert listed.exit_code == 0 and cli_thread in listed.output and web_thread not in listed.output
    foreign = CliRunner().invoke(cli, ["--db", db, "ask", "--thread", web_thread, "and for bone metastases?"])
    assert foreign.exit_code == 1 and "no thread" in foreign.output
    assert site.client().get(f"/api/threads/{cli_thread}").status_code == 404
