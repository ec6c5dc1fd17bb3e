"""Accounts on a real SQLite file: API tokens with an id, a name and an expiry, listed and revoked; role changes,
disabling and password resets by an admin or the local operator, each one row of the append-only audit log; an
older knowledge base upgraded in place. Through the review service, the real CLI (click's runner) and the real web
app (Starlette's test client): a revoked or expired token and a disabled user are refused at once."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from httpx import Response

from clinqa.cli import cli
from clinqa.errors import NotFound
from clinqa.review import AccountError, AuthError, NotPermitted, ReviewService, Role
from clinqa.review.accounts import LOCAL_OPERATOR, token_digest
from clinqa.review.models import AccountAction
from clinqa.settings import configure, reset
from clinqa.store import IntegrityViolation, SchemaOutdated, SQLiteStore, migrate_database, open_store
from clinqa.types import Answer, AnswerStatus, Sentence, SentenceSource
from clinqa.web.app import create_app

from .conftest import Location

A = AccountAction
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new horse battery"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # test_review checks the real defaults
PEOPLE = {"ada": Role.ADMIN, "alice": Role.AUTHOR, "ravi": Role.REVIEWER, "rita": Role.READER}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(autouse=True)
def token_ttl() -> Iterator[None]:
    configure(accounts={"token_ttl_days": 30})
    yield
    reset()


@pytest.fixture()
def service(db_location: Location) -> Iterator[ReviewService]:
    store = open_store(db_location)
    service = ReviewService(store.db, hasher=FAST_HASHER)
    for name, role in PEOPLE.items():
        service.add_user(name, PASSWORD, role)
    yield service
    store.close()


def an_answer(question: str) -> Answer:
    sentence = Sentence(
        text="Patients with recurrent osteosarcoma should be assessed for surgical resectability.",
        source=SentenceSource(document_id="doc", section="Recurrent Osteosarcoma", passage_id="doc#p1"),
        citations=[1],
    )
    return Answer(
        status=AnswerStatus.ANSWERED,
        question=question,
        bottom_line=[sentence],
        sections=[],
        references=[],
        sources=[],
        disclaimer="Not a substitute for clinical judgement.",
    )


# --- tokens ------------------------------------------------------------------------------------------------


def test_a_token_is_listed_by_id_and_name_never_by_itself(service: ReviewService) -> None:
    accounts = service.accounts
    info, token = accounts.issue_token(service.user("alice"), "  ci   pipeline ")
    assert token.startswith("clinqa_")
    (listed,) = accounts.tokens("alice")
    assert listed == info and listed.name == "ci pipeline" and listed.username == "alice"
    assert listed.expires_at - listed.created_at == dt.timedelta(days=30)  # accounts.token_ttl_days
    assert listed.status(accounts.clock()) == "active" and listed.last_used_at is None
    assert token not in listed.model_dump_json() and token_digest(token) not in listed.model_dump_json()
    stored = repr(service.store.db.execute("SELECT * FROM api_tokens").fetchall())
    assert token not in stored and token_digest(token) in stored
    assert service.user_for_token(token).username == "alice"
    (used,) = accounts.tokens("alice")
    assert used.last_used_at is not None
    with pytest.raises(NotFound):
        accounts.tokens("nobody")
    with pytest.raises(AccountError, match="at most 64"):
        accounts.issue_token(service.user("alice"), "x" * 65)


def test_an_expired_token_is_refused_like_an_unknown_one(service: ReviewService) -> None:
    accounts = service.accounts
    info, token = accounts.issue_token(service.user("alice"))
    accounts.clock = lambda: info.expires_at - dt.timedelta(seconds=1)
    assert service.user_for_token(token).username == "alice"
    accounts.clock = lambda: info.expires_at
    with pytest.raises(AuthError) as expired:
        service.user_for_token(token)
    with pytest.raises(AuthError) as unknown:
        service.user_for_token("clinqa_" + "x" * 43)
    assert str(expired.value) == str(unknown.value)
    assert accounts.tokens("alice")[0].status(accounts.clock()) == "expired"


def test_a_revoked_token_is_refused_at_once(service: ReviewService) -> None:
    accounts = service.accounts
    alice = service.user("alice")
    info, token = accounts.issue_token(alice, "laptop")
    with pytest.raises(NotPermitted, match="only admins"):
        accounts.revoke_token(info.id, by=service.user("ravi"))  # not ravi's token, and ravi is no admin
    assert service.user_for_token(token).username == "alice"
    revoked = accounts.revoke_token(info.id, by=service.user("ada"))
    assert revoked.revoked_at is not None and revoked.status(accounts.clock()) == "revoked"
    with pytest.raises(AuthError):
        service.user_for_token(token)
    own, own_token = accounts.issue_token(alice, "phone")
    assert accounts.revoke_token(own.id, by=alice).revoked_at is not None  # anyone may revoke their own
    with pytest.raises(AuthError):
        service.user_for_token(own_token)
    with pytest.raises(NotFound):
        accounts.revoke_token("no-such-token")


# --- users -------------------------------------------------------------------------------------------------


def test_an_admin_changes_roles_disables_enables_and_resets_passwords(service: ReviewService) -> None:
    accounts, ada = service.accounts, service.user("ada")
    assert accounts.set_role("alice", Role.REVIEWER, by=ada).role is Role.REVIEWER
    assert service.user("alice").role is Role.REVIEWER
    _, token = accounts.issue_token(service.user("alice"))
    assert accounts.disable("alice", by=ada).disabled
    with pytest.raises(AuthError, match="disabled"):
        service.authenticate("alice", PASSWORD)
    with pytest.raises(AuthError, match="wrong username or password"):
        service.authenticate("alice", "not the password")  # disabled is told only to who knows the password
    with pytest.raises(AuthError):
        service.user_for_token(token)
    with pytest.raises(AccountError, match="disabled"):
        accounts.issue_token(service.user("alice"))
    assert not accounts.enable("alice", by=ada).disabled
    assert service.authenticate("alice", PASSWORD).username == "alice"
    assert service.user_for_token(token).username == "alice"  # refused while disabled, not revoked
    accounts.reset_password("alice", NEW_PASSWORD, by=ada)
    with pytest.raises(AuthError):
        service.authenticate("alice", PASSWORD)
    assert service.authenticate("alice", NEW_PASSWORD).username == "alice"
    with pytest.raises(AccountError, match="at least 8"):
        accounts.reset_password("alice", "short", by=ada)
    with pytest.raises(NotFound):
        accounts.disable("nobody", by=ada)


def test_only_an_admin_or_the_local_operator_manages_accounts(service: ReviewService) -> None:
    accounts = service.accounts
    changes = (
        lambda by: accounts.set_role("rita", Role.ADMIN, by=by),
        lambda by: accounts.disable("rita", by=by),
        lambda by: accounts.enable("rita", by=by),
        lambda by: accounts.reset_password("rita", NEW_PASSWORD, by=by),
        lambda by: accounts.add_user("newcomer", PASSWORD, Role.ADMIN, by=by),
    )
    for name in ("alice", "ravi", "rita"):
        for change in changes:
            with pytest.raises(NotPermitted, match="only admins"):
                change(service.user(name))
    assert service.user("rita").role is Role.READER and not service.user("rita").disabled
    assert [e.actor for e in accounts.events("rita")] == [LOCAL_OPERATOR]  # its creation only
    assert accounts.set_role("rita", Role.AUTHOR).role is Role.AUTHOR  # the local operator
    # The role stored now counts: an admin demoted since (the object still says admin) manages nothing.
    ada = service.user("ada")
    accounts.add_user("root", PASSWORD, Role.ADMIN)
    accounts.set_role("ada", Role.READER, by=service.user("root"))
    with pytest.raises(NotPermitted, match="only admins"):
        accounts.disable("rita", by=ada)
    accounts.set_role("ada", Role.ADMIN)
    accounts.disable("ada", by=service.user("root"))
    with pytest.raises(NotPermitted, match="disabled"):
        accounts.disable("rita", by=ada)
    with pytest.raises(AccountError, match="own account"):
        accounts.disable("root", by=service.user("root"))
    for reserved in (LOCAL_OPERATOR, "system"):
        with pytest.raises(AccountError, match="username"):
            accounts.add_user(reserved, PASSWORD, Role.AUTHOR)


def test_every_account_change_is_one_row_of_the_append_only_audit_log(service: ReviewService) -> None:
    accounts, ada = service.accounts, service.user("ada")
    info, _ = accounts.issue_token(service.user("alice"), "ci")
    accounts.set_role("alice", Role.REVIEWER, by=ada)
    accounts.disable("alice", by=ada)
    accounts.enable("alice")
    accounts.reset_password("alice", NEW_PASSWORD, by=ada)
    accounts.revoke_token(info.id, by=ada)
    events = accounts.events("alice")
    assert [(e.action, e.actor) for e in events] == [
        (A.USER_ADDED, LOCAL_OPERATOR),
        (A.TOKEN_CREATED, "alice"),
        (A.ROLE_CHANGED, "ada"),
        (A.DISABLED, "ada"),
        (A.ENABLED, LOCAL_OPERATOR),
        (A.PASSWORD_RESET, "ada"),
        (A.TOKEN_REVOKED, "ada"),
    ]
    assert events[0].detail == "role author" and events[2].detail == "author → reviewer"
    assert f"token {info.id} (ci), expires" in str(events[1].detail) and info.id in str(events[-1].detail)
    assert all(e.username == "alice" for e in events)
    assert NEW_PASSWORD not in repr(events) and PASSWORD not in repr(events)
    # A change that changes nothing writes nothing.
    accounts.enable("alice", by=ada)
    accounts.set_role("alice", Role.REVIEWER, by=ada)
    accounts.revoke_token(info.id, by=ada)
    assert accounts.events("alice") == events
    assert {e.username for e in accounts.events()} == set(PEOPLE)
    with pytest.raises(NotFound):
        accounts.events("nobody")
    for sql in ("UPDATE audit_log SET actor='mallory'", "DELETE FROM audit_log"):
        with pytest.raises(IntegrityViolation, match="append-only"):
            service.store.db.execute(sql)
    assert accounts.events("alice") == events


def test_account_events_stay_out_of_an_articles_audit_log(service: ReviewService) -> None:
    article = service.save_article(an_answer("Osteosarcoma relapse?"), service.user("alice"))
    assert article.id == "osteosarcoma-relapse"
    service.accounts.add_user("osteosarcoma-relapse", PASSWORD, Role.READER)  # a username equal to the article id
    assert [e.actor for e in service.audit(article.id)] == ["alice"]
    assert [e.action for e in service.accounts.events("osteosarcoma-relapse")] == [A.USER_ADDED]


# Account tables as the first release made them.
OLD_ACCOUNT_TABLES = """
CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE api_tokens (token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at TEXT NOT NULL);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL, actor TEXT NOT NULL,
    at TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, comment TEXT);
"""


@pytest.mark.sqlite_only
def test_an_older_knowledge_base_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    made = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(microsecond=0)
    token = "clinqa_" + "k" * 43
    old = sqlite3.connect(path)
    old.executescript(OLD_ACCOUNT_TABLES)
    old.execute(
        "INSERT INTO users VALUES ('u1', 'olga', 'admin', ?, ?)", (FAST_HASHER.hash(PASSWORD), made.isoformat())
    )
    old.execute("INSERT INTO api_tokens VALUES (?, 'u1', ?)", (token_digest(token), made.isoformat()))
    old.execute(
        "INSERT INTO audit_log (article_id, actor, at, to_state) VALUES ('an-article', 'olga', ?, 'draft')",
        (made.isoformat(),),
    )
    old.commit()
    old.close()
    with pytest.raises(SchemaOutdated, match="migrate"):
        SQLiteStore(path)
    assert migrate_database(path).adopted_legacy
    for _ in range(2):  # the second opening finds nothing to do
        store = SQLiteStore(path)
        service = ReviewService(store.db, hasher=FAST_HASHER)
        (legacy,) = service.accounts.tokens("olga")
        assert re.fullmatch(r"[0-9a-f]{12}", legacy.id) and legacy.expires_at == made + dt.timedelta(days=30)
        assert service.user_for_token(token).username == "olga"
        assert [e.actor for e in service.store.audit("an-article")] == ["olga"]
        store.close()
    store = SQLiteStore(path)
    service = ReviewService(store.db, hasher=FAST_HASHER)
    service.accounts.revoke_token(legacy.id)
    service.accounts.disable("olga")
    assert [e.action for e in service.accounts.events("olga")] == [A.TOKEN_REVOKED, A.DISABLED]
    with pytest.raises(AuthError):
        service.user_for_token(token)
    with pytest.raises(IntegrityViolation, match="append-only"):
        store.db.execute("DELETE FROM audit_log")
    store.close()


# --- command line --------------------------------------------------------------------------------------------


def test_account_commands(db_location: Location) -> None:
    db = db_location

    def run(*args: str, lines: tuple[str, ...] = (), code: int = 0) -> Result:
        stdin = "".join(f"{line}\n" for line in lines) or None
        result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["--db", str(db), *args], input=stdin)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result

    for name, role in PEOPLE.items():
        run("users", "add", name, "--role", role.value, "--password-stdin", lines=(PASSWORD,))
    made = run("users", "token", "alice", "--name", "ci", "--password-stdin", lines=(PASSWORD,))
    token = made.stdout.strip()
    assert token.startswith("clinqa_") and "shown only once" in made.stderr
    found = re.search(r"token ([0-9a-f]{12}) \(ci\) for alice, expires", made.stderr)
    assert found, made.stderr
    token_id = found.group(1)
    listing = run("users", "tokens", "alice").stdout
    assert re.search(rf"{token_id}\s.*ci\s.*never\s.*active", listing) and token not in listing
    # Only an admin manages accounts; --as is authenticated like every other --as.
    refused = run("users", "set-role", "rita", "admin", "--as", "alice", "--password-stdin", lines=(PASSWORD,), code=1)
    assert "only admins" in refused.output
    refused = run("users", "disable", "alice", "--as", "ada", "--password-stdin", lines=("wrong",), code=1)
    assert "wrong username or password" in refused.output
    run("users", "set-role", "alice", "reviewer", "--as", "ada", "--password-stdin", lines=(PASSWORD,))
    run("users", "revoke-token", token_id, "--as", "ada", "--password-stdin", lines=(PASSWORD,))
    assert re.search(rf"{token_id}\s.*revoked", run("users", "tokens", "alice").stdout)
    run("users", "disable", "alice", "--as", "ada", "--password-stdin", lines=(PASSWORD,))
    assert re.search(r"alice\s.*reviewer\s.*disabled since", run("users", "list").stdout)
    assert "disabled" in run("users", "token", "alice", "--password-stdin", lines=(PASSWORD,), code=1).output
    run("users", "enable", "alice")  # the local operator
    # --password-stdin: the admin's password, then the new one.
    run("users", "reset-password", "alice", "--as", "ada", "--password-stdin", lines=(PASSWORD, NEW_PASSWORD))
    run("users", "token", "alice", "--password-stdin", lines=(PASSWORD,), code=1)
    run("users", "token", "alice", "--password-stdin", lines=(NEW_PASSWORD,))
    run("users", "reset-password", "rita", lines=(NEW_PASSWORD, NEW_PASSWORD))  # hidden prompt, twice
    run("users", "token", "rita", "--password-stdin", lines=(NEW_PASSWORD,))
    audit = run("users", "audit", "alice").stdout
    for actor, change in (
        (LOCAL_OPERATOR, "added"),
        ("alice", "API token created"),
        ("ada", "role changed"),
        ("ada", "API token revoked"),
        ("ada", "disabled"),
        (LOCAL_OPERATOR, "enabled"),
        ("ada", "password reset"),
    ):
        assert re.search(rf"{actor}\s+│\s+alice\s+│\s+{change}", audit), (actor, change, audit)
    assert "rita" in run("users", "audit").stdout


# --- web app -------------------------------------------------------------------------------------------------


def cli_on(db: Path, *args: str, password: str | None = None) -> None:
    """An account change from the server's shell: the CLI on the same file, another connection."""
    result = CliRunner().invoke(cli, ["--db", str(db), *args], input=f"{password}\n" if password else None)
    assert result.exit_code == 0, (args, result.output)


def login_response(client: TestClient, name: str, password: str = PASSWORD) -> Response:
    form = client.get("/login").text
    found = CSRF.search(form)
    assert found, form
    data = {"username": name, "password": password, "csrf": found.group(1)}
    return client.post("/login", data=data, follow_redirects=False)


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> int:
    return login_response(client, name, password).status_code


def test_the_web_refuses_a_revoked_or_expired_token_and_a_disabled_user_at_once(db_location: Location) -> None:
    db = db_location
    app = create_app(db)
    review = app.state.web.engine.review()
    review.accounts.hasher = FAST_HASHER
    for name, role in PEOPLE.items():
        review.add_user(name, PASSWORD, role)
    api = TestClient(app, raise_server_exceptions=False)

    def queue_status(token: str) -> int:
        return api.get("/api/review/queue", headers={"Authorization": f"Bearer {token}"}).status_code

    revoked, token = review.accounts.issue_token(review.user("ravi"), "revoked")
    assert queue_status(token) == 200
    cli_on(db, "users", "revoke-token", revoked.id)
    assert queue_status(token) == 401

    expiring, token = review.accounts.issue_token(review.user("ravi"), "expiring")
    assert queue_status(token) == 200
    review.accounts.clock = lambda: expiring.expires_at
    assert queue_status(token) == 401
    review.accounts.clock = lambda: dt.datetime.now(dt.UTC)

    _, token = review.accounts.issue_token(review.user("ravi"), "disabled")
    browser = TestClient(app, raise_server_exceptions=False)
    assert log_in(browser, "ravi") == 303 and browser.get("/review").status_code == 200
    cli_on(db, "users", "disable", "ravi")
    assert browser.get("/review", follow_redirects=False).headers["location"] == "/login?next=/review"
    assert queue_status(token) == 401
    refused = login_response(TestClient(app, raise_server_exceptions=False), "ravi")
    assert refused.status_code == 401 and "this account is disabled" in refused.text
    cli_on(db, "users", "enable", "ravi")
    assert browser.get("/review", follow_redirects=False).status_code == 303  # ended for good
    assert queue_status(token) == 200  # the token was refused while ravi was disabled; not revoked
    assert log_in(browser, "ravi") == 303 and browser.get("/review").status_code == 200

    cli_on(db, "users", "reset-password", "ravi", "--password-stdin", password=NEW_PASSWORD)
    assert browser.get("/review", follow_redirects=False).status_code == 303
    assert log_in(browser, "ravi", NEW_PASSWORD) == 303 and browser.get("/review").status_code == 200

    cli_on(db, "users", "set-role", "ravi", "reader")  # a role change counts at once
    assert browser.get("/review").status_code == 403
    app.state.web.engine.close()


def test_the_account_audit_page_is_for_admins(db_location: Location) -> None:
    db = db_location
    app = create_app(db)
    review = app.state.web.engine.review()
    review.accounts.hasher = FAST_HASHER
    for name, role in PEOPLE.items():
        review.add_user(name, PASSWORD, role)
    cli_on(db, "users", "disable", "rita")
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/accounts/audit", follow_redirects=False).headers["location"] == "/login?next=/accounts/audit"
    assert log_in(client, "ravi") == 303
    assert client.get("/accounts/audit").status_code == 403
    admin = TestClient(app, raise_server_exceptions=False)
    assert log_in(admin, "ada") == 303
    page = admin.get("/accounts/audit")
    assert page.status_code == 200 and 'href="/accounts/audit"' in page.text
    rows = re.findall(r"<tr>\s*<td><time.*?</tr>", page.text, re.DOTALL)
    assert len(rows) == len(PEOPLE) + 1
    assert re.search(r"local-operator</td>\s*<td>rita</td>\s*<td>disabled", rows[-1])
    app.state.web.engine.close()
