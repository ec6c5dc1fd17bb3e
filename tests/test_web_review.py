"""Accounts, sessions, articles and their review through the web app and the JSON API, in-process (Starlette's
test client) on a copy of the test knowledge base: login, CSRF, API tokens, every allowed transition and the main
forbidden ones, article pages, print view, Markdown export, escaping, unknown ids."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clinqa.review import ArticleState, AuditEvent, Role, User
from clinqa.types import ChangeKind, DocumentChange
from clinqa.web.app import create_app
from clinqa.web.backend import Web
from clinqa.web.sessions import SESSION_COOKIE

from .conftest import OSTEOSARCOMA_HP, ROOT, Location, copy_kb
from .transitions import ALL_USER_MOVES

S = ArticleState
PASSWORD = "correct horse battery"
QUESTION = "What is the 5-year survival after complete resection of pulmonary metastases in recurrent osteosarcoma?"
ABDOMINAL = "How late can abdominal metastases occur in osteosarcoma?"
PEOPLE = {
    "alice": Role.AUTHOR,
    "avery": Role.AUTHOR,
    "rhea": Role.REVIEWER,
    "ravi": Role.REVIEWER,
    "ada": Role.ADMIN,
    "rita": Role.READER,
    "lockout": Role.AUTHOR,  # only the rate-limit test logs in as lockout
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    app: FastAPI
    web: Web
    users: dict[str, User]
    tokens: dict[str, str]

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False, **kwargs)

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def snapshot(self, article_id: str) -> tuple[object, ...]:
        """Everything a refused change must leave as it was."""
        review = self.web.engine.review()
        return review.article(article_id), review.versions(article_id), review.audit(article_id)

    def audit(self, article_id: str) -> list[AuditEvent]:
        return self.web.engine.review().audit(article_id)

    def state(self, article_id: str) -> ArticleState:
        return self.web.engine.review().article(article_id).state

    def version(self, article_id: str) -> int:
        """The current version: what someone who opens the article now sees, and acts on."""
        return self.web.engine.review().article(article_id).current_version


def open_site(db: Location) -> Site:
    app = create_app(db)
    web: Web = app.state.web
    review = web.engine.review()
    # argon2id with small parameters keeps logins fast; test_review checks the real defaults.
    review.accounts.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    users = {name: review.add_user(name, PASSWORD, role) for name, role in PEOPLE.items()}
    tokens = {name: review.create_token(user) for name, user in users.items()}
    return Site(app, web, users, tokens)


@pytest.fixture(scope="module")
def site(kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    opened = open_site(copy_kb(kb_path, tmp_path_factory.mktemp("web-review")))
    yield opened
    opened.web.engine.close()


def log_in(site: Site, name: str, **kwargs: Any) -> TestClient:
    client = site.client(**kwargs)
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf": csrf_in(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def csrf_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def shown_version(html: str) -> str:
    """The version the review forms of an article page act on (their hidden field)."""
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "no review form on the page"
    return found.group(1)


def session_csrf(client: TestClient) -> str:
    """The session's CSRF token, from the logout form every page carries."""
    return csrf_in(client.get("/articles").text)


def save(site: Site, name: str = "alice", question: str = QUESTION) -> str:
    response = site.client().post("/api/articles", json={"question": question}, headers=site.auth(name))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def move(
    site: Site, article_id: str, name: str, to: ArticleState, comment: str | None = None, version: int | None = None
) -> Any:
    """A move through the API, on the version given or else the current one (as just seen)."""
    body = {"to": to.value, "version": site.version(article_id) if version is None else version}
    body |= {"comment": comment} if comment else {}
    return site.client().post(f"/api/articles/{article_id}/transitions", json=body, headers=site.auth(name))


def moved(site: Site, article_id: str, name: str, to: ArticleState, comment: str | None = None) -> None:
    response = move(site, article_id, name, to, comment)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == to.value


def approved(site: Site, question: str = QUESTION) -> str:
    """An article of alice's, approved by ravi after rhea started the review."""
    article_id = save(site, "alice", question)
    moved(site, article_id, "alice", S.SUBMITTED)
    moved(site, article_id, "rhea", S.UNDER_REVIEW)
    moved(site, article_id, "ravi", S.APPROVED)
    return article_id


def flag_source_changed(site: Site, article_id: str) -> None:
    """What a re-ingest does when a passage the approved version cites is replaced (the system's move)."""
    review = site.web.engine.review()
    visible = review.visible_version(article_id)
    assert visible is not None
    change = DocumentChange(
        document_id=visible.cited_passages[0].split("#")[0],
        kind=ChangeKind.UPDATED,
        at=dt.datetime.now(dt.UTC),
        old_hash="old",
        new_hash="new",
        passages_added=(),
        passages_removed=(visible.cited_passages[0],),
    )
    review.on_document_changed(change, {}, {})


# --- login, sessions, CSRF ----------------------------------------------------------------------------------


def test_login_starts_a_session_in_an_http_only_same_site_cookie(site: Site) -> None:
    client = site.client()
    form = client.get("/login")
    assert form.status_code == 200 and 'type="password"' in form.text
    response = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf": csrf_in(form.text), "next": "/articles"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/articles"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = client.get("/articles")
    assert "alice (author)" in page.text and "Log out" in page.text


def test_the_session_cookie_is_secure_over_https(site: Site) -> None:
    client = site.client(base_url="https://testserver")
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf": csrf_in(form.text)},
        follow_redirects=False,
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_wrong_password_or_unknown_user_is_refused_without_a_session(site: Site) -> None:
    for name, password in (("alice", "not the password"), ("nobody", PASSWORD)):
        client = site.client()
        form = client.get("/login")
        response = client.post("/login", data={"username": name, "password": password, "csrf": csrf_in(form.text)})
        assert response.status_code == 401 and "wrong username or password" in response.text
        assert SESSION_COOKIE not in client.cookies and "Log in" in client.get("/articles").text


def test_login_without_its_form_token_is_refused(site: Site) -> None:
    client = site.client()
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 403 and SESSION_COOKIE not in client.cookies


def test_repeated_failed_logins_are_rate_limited(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        wrong = client.post(
            "/login",
            data={"username": "lockout", "password": "guess", "csrf": csrf_in(client.get("/login").text)},
        )
        assert wrong.status_code == 401
    right = client.post(
        "/login",
        data={"username": "lockout", "password": PASSWORD, "csrf": csrf_in(client.get("/login").text)},
    )
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert "too many failed logins" in right.text and SESSION_COOKIE not in client.cookies


def test_after_login_the_visitor_returns_to_the_page_but_never_to_another_site(site: Site) -> None:
    anonymous = site.client()
    sent = anonymous.get("/review", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/login?next=/review"
    for target, expected in (
        ("/review", "/review"),
        ("//evil.example/x", "/articles"),
        ("https://x.example", "/articles"),
    ):
        client = site.client()
        form = client.get("/login", params={"next": target})
        response = client.post(
            "/login",
            data={"username": "rhea", "password": PASSWORD, "csrf": csrf_in(form.text), "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_unknown_and_expired_sessions_are_logged_out(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    stranger = site.client(cookies={SESSION_COOKIE: "made-up"})
    assert "Log in" in stranger.get("/articles").text
    assert stranger.get("/review", follow_redirects=False).status_code == 303

    client = log_in(site, "rhea")
    assert client.get("/review").status_code == 200
    later = site.web.sessions.clock() + site.web.sessions.ttl_s + 1
    monkeypatch.setattr(site.web.sessions, "clock", lambda: later)
    assert "Log in" in client.get("/articles").text
    assert client.get("/review", follow_redirects=False).headers["location"] == "/login?next=/review"


def test_logout_ends_the_session_and_needs_the_csrf_token(site: Site) -> None:
    client = log_in(site, "alice")
    token = client.cookies[SESSION_COOKIE]
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert site.web.sessions.get(token) is not None
    response = client.post("/logout", data={"csrf": session_csrf(client)}, follow_redirects=False)
    assert response.status_code == 303 and site.web.sessions.get(token) is None
    assert "Log in" in site.client(cookies={SESSION_COOKIE: token}).get("/articles").text


def test_pages_carry_security_headers(site: Site) -> None:
    headers = site.client().get("/articles").headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


# --- articles through the pages -----------------------------------------------------------------------------


def test_an_author_saves_an_answer_as_an_article_from_the_answer_page(site: Site) -> None:
    assert "Save as article" not in site.client().post("/ask", data={"question": QUESTION}).text
    assert "Save as article" not in log_in(site, "rita").post("/ask", data={"question": QUESTION}).text
    client = log_in(site, "alice")
    answer_page = client.post("/ask", data={"question": QUESTION, "patient_details": "16-year-old"})
    assert "Save as article" in answer_page.text
    form = re.search(r'<form class="save-article".*?</form>', answer_page.text, re.S)
    assert form is not None
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0)))
    assert set(fields) == {"csrf", "question", "audience"} and fields["question"] == QUESTION  # no patient details
    saved = client.post("/articles", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    article_id = saved.headers["location"].removeprefix("/articles/")
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200
    assert f'<h1 id="question-heading" class="article-title">{QUESTION}</h1>' in page.text
    assert "Pending human review — educational use only" in page.text and "Bottom line" in page.text
    assert "Submit for review" in page.text and "Approve" not in page.text
    assert f"/articles/{article_id}" in site.client().get("/articles").text


def test_saving_without_or_with_a_wrong_csrf_token_is_refused_and_saves_nothing(site: Site) -> None:
    client = log_in(site, "alice")
    before = len(site.web.articles())
    for data in ({"question": QUESTION}, {"question": QUESTION, "csrf": "forged"}):
        response = client.post("/articles", data=data)
        assert response.status_code == 403 and "Traceback" not in response.text
    assert len(site.web.articles()) == before
    # Without a session the form leads to the login page and saves nothing either.
    anonymous = site.client().post("/articles", data={"question": QUESTION, "csrf": "x"}, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    assert len(site.web.articles()) == before


def test_the_review_forms_take_an_article_from_pending_to_approved(site: Site) -> None:
    article_id = save(site, "alice")
    alice, rhea, ravi = log_in(site, "alice"), log_in(site, "rhea"), log_in(site, "ravi")

    def press(client: TestClient, to: ArticleState, comment: str = "") -> None:
        page = client.get(f"/articles/{article_id}").text
        assert f'name="to" value="{to.value}"' in page
        data = {"to": to.value, "comment": comment, "csrf": csrf_in(page), "version": shown_version(page)}
        response = client.post(f"/articles/{article_id}/transitions", data=data, follow_redirects=False)
        assert response.status_code == 303 and site.state(article_id) is to

    press(alice, S.SUBMITTED, "ready")
    assert 'value="under_review"' not in alice.get(f"/articles/{article_id}").text  # authors do not review
    press(rhea, S.UNDER_REVIEW)
    assert "Pending human review" in site.client().get(f"/articles/{article_id}").text
    press(ravi, S.APPROVED, "matches the sources")
    page = site.client().get(f"/articles/{article_id}").text
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert f"Approved by ravi on {today}" in page and "Pending human review" not in page
    assert "Approved · version 1 · last updated" in page
    audit = [
        (e["actor"], e["to_state"])
        for e in site.client().get(f"/api/articles/{article_id}/audit", headers=site.auth("ada")).json()
    ]
    assert audit == [("alice", "draft"), ("alice", "submitted"), ("rhea", "under_review"), ("ravi", "approved")]


def test_a_review_form_with_a_wrong_or_missing_csrf_token_changes_nothing(site: Site) -> None:
    article_id = save(site, "alice")
    client = log_in(site, "alice")
    before = site.snapshot(article_id)
    for data in ({"to": "submitted", "version": "1"}, {"to": "submitted", "csrf": "forged", "version": "1"}):
        assert client.post(f"/articles/{article_id}/transitions", data=data).status_code == 403
    anonymous = site.client().post(
        f"/articles/{article_id}/transitions", data={"to": "submitted", "csrf": "x", "version": "1"}
    )
    assert "Log in" in anonymous.text  # sent to the login page
    assert site.snapshot(article_id) == before


def test_a_refused_form_shows_why_and_changes_nothing(site: Site) -> None:
    article_id = save(site, "rhea")
    moved(site, article_id, "rhea", S.SUBMITTED)
    moved(site, article_id, "ravi", S.UNDER_REVIEW)
    client = log_in(site, "rhea")
    page = client.get(f"/articles/{article_id}").text
    assert 'value="approved"' not in page and 'value="rejected"' in page  # no button to approve her own version
    before = site.snapshot(article_id)
    form = {"csrf": csrf_in(page), "version": shown_version(page)}
    response = client.post(f"/articles/{article_id}/transitions", data={"to": "approved", **form})
    assert response.status_code == 403 and "may not approve" in response.text
    response = client.post(f"/articles/{article_id}/transitions", data={"to": "rejected", **form})
    assert response.status_code == 409 and "needs a comment" in response.text
    assert site.snapshot(article_id) == before


def test_print_view_and_markdown_export(site: Site) -> None:
    article_id = save(site, "alice")
    printed = site.client().get(f"/articles/{article_id}/print")
    assert printed.status_code == 200 and "/static/print.css" in printed.text
    assert "<form" not in printed.text and "<nav" not in printed.text
    assert QUESTION in printed.text and "Pending human review" in printed.text and "References" in printed.text
    assert site.client().get("/static/print.css").status_code == 200

    exported = site.client().get(f"/articles/{article_id}.md")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/markdown")
    assert f'filename="{article_id}.md"' in exported.headers["content-disposition"]
    text = exported.text
    assert text.startswith(f"# {QUESTION}\n") and text.count(f"# {QUESTION}") == 1
    assert "**Pending human review — educational use only**" in text and "## Bottom line" in text
    assert "## References" in text and "## Disclaimer" in text

    page = site.client().get(f"/articles/{article_id}").text
    assert f'href="/articles/{article_id}/print"' in page and f'href="/articles/{article_id}.md"' in page
    share = re.search(r'href="(mailto:[^"]+)"', page)  # no web.base_url configured: the path alone
    assert share is not None and share.group(1).endswith(f"body=/articles/{article_id}")


def test_an_approved_article_exports_its_approval(site: Site) -> None:
    article_id = approved(site)
    assert "**Approved by ravi on " in site.client().get(f"/articles/{article_id}.md").text
    assert "Approved by ravi on " in site.client().get(f"/articles/{article_id}/print").text


def test_readers_see_the_approved_version_and_editors_any(site: Site) -> None:
    article_id = approved(site)
    moved(site, article_id, "alice", S.DRAFT, "regenerated")  # version 2, a draft; readers still see version 1
    anonymous, reader, reviewer = site.client(), log_in(site, "rita"), log_in(site, "rhea")
    for client in (anonymous, reader):
        page = client.get(f"/articles/{article_id}")
        assert "Approved by ravi" in page.text and "version 1" in page.text
        assert client.get(f"/articles/{article_id}", params={"version": 2}).status_code == 403
        assert client.get(f"/articles/{article_id}.md", params={"version": 2}).status_code == 403
    draft = reviewer.get(f"/articles/{article_id}", params={"version": 2})
    assert draft.status_code == 200 and "Pending human review" in draft.text
    assert reviewer.get(f"/articles/{article_id}", params={"version": 9}).status_code == 404


def test_html_in_a_question_is_escaped_everywhere(site: Site) -> None:
    script = "<script>alert(1)</script>"
    asked = site.client().get("/ask", params={"question": f"{QUESTION} {script}"})
    assert asked.status_code == 200 and script not in asked.text and "&lt;script&gt;" in asked.text
    # The answerer abstains on the unknown words; a saved answer's question is shown the same way.
    engine = site.web.engine
    answer = engine.ask(QUESTION, remember=False).model_copy(update={"question": f"{QUESTION} {script}"})
    article_id = engine.review().save_article(answer, site.users["alice"]).id
    for path in (f"/articles/{article_id}", f"/articles/{article_id}/print", "/articles"):
        page = site.client().get(path).text
        assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    reviewer_queue = log_in(site, "rhea")
    moved(site, article_id, "alice", S.SUBMITTED)
    assert script not in reviewer_queue.get("/review").text


def test_the_review_queue_page_is_for_reviewers(site: Site) -> None:
    article_id = save(site, "alice")
    moved(site, article_id, "alice", S.SUBMITTED)
    for name in ("rhea", "ada"):
        page = log_in(site, name).get("/review")
        assert page.status_code == 200 and f"/articles/{article_id}" in page.text and "Review queue" in page.text
    for name in ("alice", "rita"):
        page = log_in(site, name).get("/review")
        assert page.status_code == 403 and "only reviewers and admins" in page.text


def test_the_audit_log_page_lists_every_change(site: Site) -> None:
    article_id = approved(site)
    assert site.client().get(f"/articles/{article_id}/audit", follow_redirects=False).status_code == 303
    page = log_in(site, "rita").get(f"/articles/{article_id}/audit")
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td><time", page.text)
    assert len(rows) == 4 and "ravi" in page.text and "under review" in page.text and "(created)" in page.text


def test_a_changed_source_shows_the_re_review_banner_with_the_passage_diff(kb_path: Path, tmp_path: Path) -> None:
    """A real re-ingest of the cited guideline, edited, on a knowledge base of this test's own."""
    site = open_site(copy_kb(kb_path, tmp_path))
    try:
        article_id = approved(site, ABDOMINAL)
        edited = tmp_path / OSTEOSARCOMA_HP.name
        edited.write_text(
            OSTEOSARCOMA_HP.read_text().replace("Abdominal metastases are rare", "Abdominal metastases are very rare")
        )
        assert site.web.engine.ingest([edited]).documents_updated == 1
        assert site.state(article_id) is S.NEEDS_REREVIEW
        page = site.client().get(f"/articles/{article_id}").text
        assert "Source updated — needs re-review" in page and "Approved by ravi" in page
        assert "<ins>very</ins>" in page and "types-bone-hp-osteosarcoma-treatment-pdq" in page
        assert "Source updated — needs re-review" in site.client().get(f"/articles/{article_id}.md").text
        reviewer = log_in(site, "rhea")
        assert f"/articles/{article_id}" in reviewer.get("/review").text
        assert 'value="under_review"' in reviewer.get(f"/articles/{article_id}").text
    finally:
        site.web.engine.close()


# --- the JSON API -------------------------------------------------------------------------------------------

# One article through every move a user may make (written out independently of workflow.TRANSITIONS);
# "flag" is the system's move when a cited source changes.
WALK: list[tuple[str, ArticleState | None, str | None]] = [
    ("alice", S.DRAFT, "regenerated"),
    ("alice", S.SUBMITTED, None),
    ("rhea", S.UNDER_REVIEW, None),
    ("rhea", S.CHANGES_REQUESTED, "cite the 2014 page"),
    ("alice", S.SUBMITTED, "no change needed"),
    ("rhea", S.UNDER_REVIEW, None),
    ("ravi", S.CHANGES_REQUESTED, "regenerate please"),
    ("avery", S.DRAFT, None),
    ("avery", S.SUBMITTED, None),
    ("ada", S.UNDER_REVIEW, None),
    ("ada", S.REJECTED, "out of date"),
    ("alice", S.DRAFT, "again"),
    ("alice", S.SUBMITTED, None),
    ("rhea", S.UNDER_REVIEW, None),
    ("ravi", S.APPROVED, "good"),
    ("alice", S.DRAFT, "an edit after approval"),
    ("alice", S.SUBMITTED, None),
    ("ravi", S.UNDER_REVIEW, None),
    ("rhea", S.APPROVED, None),
    ("flag", None, None),
    ("ravi", S.UNDER_REVIEW, None),
    ("ada", S.APPROVED, None),
    ("flag", None, None),
    ("alice", S.DRAFT, "regenerated from the updated source"),
]


def test_every_allowed_transition_through_the_api(site: Site) -> None:
    article_id = save(site, "alice")
    covered = set()
    for name, to, comment in WALK:
        before = site.state(article_id)
        if to is None:
            flag_source_changed(site, article_id)
            assert site.state(article_id) is S.NEEDS_REREVIEW
            continue
        events = len(site.audit(article_id))
        response = move(site, article_id, name, to, comment)
        assert response.status_code == 200, (before, to, response.text)
        article = response.json()
        assert article["id"] == article_id and article["state"] == to.value
        audit = site.client().get(f"/api/articles/{article_id}/audit", headers=site.auth(name)).json()
        assert len(audit) == events + 1
        assert audit[-1] | {"at": None} == {
            "article_id": article_id,
            "actor": name,
            "at": None,
            "from_state": before.value,
            "to_state": to.value,
            "comment": comment,
        }
        covered.add((before, to))
    assert covered == ALL_USER_MOVES
    detail = site.client().get(f"/api/articles/{article_id}").json()
    assert detail["article"]["current_version"] == 6 and detail["visible_version"]["number"] == 5


@pytest.mark.parametrize(
    ("setup", "actor", "to", "comment", "status"),
    [
        ([], "rita", S.SUBMITTED, None, 403),  # readers change nothing
        ([("alice", S.SUBMITTED)], "avery", S.UNDER_REVIEW, None, 403),  # authors do not review
        ([("alice", S.SUBMITTED), ("rhea", S.UNDER_REVIEW)], "alice", S.APPROVED, None, 403),
        ([], "rhea", S.APPROVED, None, 409),  # a draft is not approved, by anyone
        ([("alice", S.SUBMITTED)], "alice", S.SUBMITTED, None, 409),
        ([("alice", S.SUBMITTED), ("rhea", S.UNDER_REVIEW)], "rhea", S.REJECTED, None, 409),  # needs a comment
        ([("alice", S.SUBMITTED), ("rhea", S.UNDER_REVIEW)], "rhea", S.CHANGES_REQUESTED, "  ", 409),
        ([], "ada", S.NEEDS_REREVIEW, None, 403),  # only the system, when a source changes
    ],
)
def test_forbidden_transitions_change_nothing(
    site: Site,
    setup: list[tuple[str, ArticleState]],
    actor: str,
    to: ArticleState,
    comment: str | None,
    status: int,
) -> None:
    article_id = save(site, "alice")
    for name, state in setup:
        moved(site, article_id, name, state)
    before = site.snapshot(article_id)
    response = move(site, article_id, actor, to, comment)
    assert response.status_code == status and response.json()["error"], response.text
    assert site.snapshot(article_id) == before


def test_nobody_approves_a_version_they_wrote(site: Site) -> None:
    article_id = save(site, "rhea")  # a reviewer's own article
    moved(site, article_id, "rhea", S.SUBMITTED)
    moved(site, article_id, "ravi", S.UNDER_REVIEW)
    before = site.snapshot(article_id)
    response = move(site, article_id, "rhea", S.APPROVED)
    assert response.status_code == 403 and "may not approve" in response.json()["error"]
    assert site.snapshot(article_id) == before
    moved(site, article_id, "ravi", S.APPROVED)  # another reviewer may


def test_the_api_needs_a_valid_token_to_act(site: Site) -> None:
    article_id = save(site, "alice")
    before = site.snapshot(article_id)
    client = site.client()
    count = len(site.web.articles())
    for headers in ({}, {"Authorization": "Bearer clinqa_not-a-token"}, {"Authorization": "Basic YWxpY2U6eA=="}):
        response = client.post("/api/articles", json={"question": QUESTION}, headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["error"]
        moved_without = client.post(
            f"/api/articles/{article_id}/transitions", json={"to": "submitted", "version": 1}, headers=headers
        )
        assert moved_without.status_code == 401
        for path in ("/api/review/queue", f"/api/articles/{article_id}/audit", "/api/threads"):
            assert client.get(path, headers=headers).status_code == 401, path
    assert site.snapshot(article_id) == before and len(site.web.articles()) == count
    # A session cookie is no API credential.
    assert (
        log_in(site, "alice")
        .post(f"/api/articles/{article_id}/transitions", json={"to": "submitted", "version": 1})
        .status_code
        == 401
    )


def test_api_saves_articles_for_authors_only(site: Site) -> None:
    response = site.client().post(
        "/api/articles",
        json={"question": QUESTION, "audience": "patient", "patient": {"age": 16}},
        headers=site.auth("avery"),
    )
    assert response.status_code == 201
    article = response.json()
    assert (article["state"], article["author"], article["title"]) == ("draft", "avery", QUESTION)
    detail = site.client().get(f"/api/articles/{article['id']}").json()
    assert detail["article"]["id"] == article["id"] and detail["visible_version"] is None
    refused = site.client().post("/api/articles", json={"question": QUESTION}, headers=site.auth("rita"))
    assert refused.status_code == 403 and "may not save articles" in refused.json()["error"]
    bad = site.client().post("/api/articles", json={"question": ""}, headers=site.auth("alice"))
    assert bad.status_code == 422 and bad.json()["field"] == "question"
    unanswerable = site.client().post(
        "/api/articles", json={"question": "What is the capital of France?"}, headers=site.auth("alice")
    )
    assert unanswerable.status_code == 409 and "only an answered question" in unanswerable.json()["error"]


def test_api_article_shows_the_visible_version_and_state(site: Site) -> None:
    article_id = approved(site)
    detail = site.client().get(f"/api/articles/{article_id}").json()
    assert detail["article"]["state"] == "approved" and detail["article"]["approved_by"] == "ravi"
    assert detail["visible_version"]["number"] == 1 and detail["visible_version"]["answer"]["status"] == "answered"
    listing = site.client().get("/api/articles").json()
    assert article_id in {a["id"] for a in listing}


def test_api_review_queue_is_for_reviewers(site: Site) -> None:
    article_id = save(site, "alice")
    moved(site, article_id, "alice", S.SUBMITTED)
    for name in ("rhea", "ada"):
        queue = site.client().get("/api/review/queue", headers=site.auth(name))
        assert queue.status_code == 200 and article_id in {a["id"] for a in queue.json()}
        assert all(a["state"] in ("submitted", "under_review", "needs_rereview") for a in queue.json())
    refused = site.client().get("/api/review/queue", headers=site.auth("alice"))
    assert refused.status_code == 403 and "only reviewers and admins" in refused.json()["error"]


def test_api_audit_lists_the_changes(site: Site) -> None:
    article_id = approved(site)
    audit = site.client().get(f"/api/articles/{article_id}/audit", headers=site.auth("rita")).json()
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in audit] == [
        (None, "draft", "alice"),
        ("draft", "submitted", "alice"),
        ("submitted", "under_review", "rhea"),
        ("under_review", "approved", "ravi"),
    ]


def test_api_sources_and_threads(site: Site) -> None:
    sources = site.client().get("/api/sources").json()
    assert "types-bone-hp-osteosarcoma-treatment-pdq" in {d["id"] for d in sources}
    assert all({"id", "title", "passages"} <= d.keys() for d in sources)
    asker = site.client()
    thread_id = asker.post("/api/ask", json={"question": QUESTION}).json()["thread_id"]
    thread = asker.get(f"/api/threads/{thread_id}").json()  # the asker's owner cookie
    assert thread["id"] == thread_id and thread["turns"][0]["question"] == QUESTION
    listing = site.client().get("/api/threads", headers=site.auth("ada"))
    assert listing.status_code == 200 and thread_id in {t["id"] for t in listing.json()}
    refused = site.client().get("/api/threads", headers=site.auth("rhea"))
    assert refused.status_code == 403
    spec = site.client().get("/openapi.json").json()
    assert {"/api/articles/{article_id}/transitions", "/api/review/queue", "/api/threads"} <= spec["paths"].keys()


def test_api_rejects_an_unknown_target_state(site: Site) -> None:
    article_id = save(site, "alice")
    response = site.client().post(
        f"/api/articles/{article_id}/transitions", json={"to": "published", "version": 1}, headers=site.auth("alice")
    )
    assert response.status_code == 422 and response.json()["field"] == "to"


def test_unknown_ids_are_404_without_a_stack_trace(site: Site) -> None:
    client, reviewer = site.client(), log_in(site, "rhea")
    for path in ("/articles/no-such-article", "/articles/no-such-article.md", "/articles/no-such-article/print"):
        page = client.get(path)
        assert page.status_code == 404 and "Traceback" not in page.text and "no-such-article" in page.text, path
    assert reviewer.get("/articles/no-such-article/audit").status_code == 404
    auth = site.auth("ada")
    for response in (
        client.get("/api/articles/no-such-article"),
        client.get("/api/articles/no-such-article/audit", headers=auth),
        client.post("/api/articles/no-such-article/transitions", json={"to": "submitted", "version": 1}, headers=auth),
        client.post("/api/articles/no-such-article/transitions", json={"to": "draft", "version": 1}, headers=auth),
        client.post(
            "/api/articles/no-such-article/transitions", json={"to": "needs_rereview", "version": 1}, headers=auth
        ),
        client.get("/api/threads/no-such-thread"),
    ):
        assert response.status_code == 404 and "error" in response.json(), response.text
    csrf = session_csrf(reviewer)
    form = reviewer.post(
        "/articles/no-such-article/transitions", data={"to": "under_review", "csrf": csrf, "version": "1"}
    )
    assert form.status_code == 404 and "Traceback" not in form.text


def test_logs_hold_no_password_token_question_or_article_id(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = log_in(site, "alice")
    bad = site.client()
    bad.post(
        "/login", data={"username": "alice", "password": "a wrong secret", "csrf": csrf_in(bad.get("/login").text)}
    )
    client.post("/ask", data={"question": QUESTION, "patient_details": "16-year-old after MAP and IE"})
    article_id = save(site, "alice")
    moved(site, article_id, "alice", S.SUBMITTED, "private comment")
    # Everything the server side logged (the test client's own lines name the URLs it requested).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "failed login for user alice" in logged
    for secret in (
        PASSWORD,
        "a wrong secret",
        site.tokens["alice"],
        QUESTION,
        article_id,
        "16-year-old",
        "private comment",
    ):
        assert secret not in logged, secret


def test_every_route_is_documented(site: Site) -> None:
    documented = set()
    for method, path in re.findall(r"`(GET|POST) (/[^`?]*)", (ROOT / "docs" / "web.md").read_text()):
        documented.add((method, re.sub(r"\{\w+\}", "{}", path)))
    served = {
        (method.upper(), re.sub(r"\{\w+\}", "{}", path))
        for path, operations in site.app.openapi()["paths"].items()
        for method in operations
    }
    assert len(served) > 20 and served <= documented, served - documented
