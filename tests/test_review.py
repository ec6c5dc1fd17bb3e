"""Editorial review on a real SQLite file: the transition table per role, self-approval, the append-only audit log,
versions, accounts (argon2, tokens, rate limit) and re-review when a re-ingest changes a cited passage."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from clinqa.cli import cli
from clinqa.engine import Engine
from clinqa.review import (
    AccountError,
    Article,
    ArticleState,
    AuthError,
    NotPermitted,
    RateLimited,
    ReviewService,
    ReviewStateError,
    Role,
    User,
    workflow,
)
from clinqa.review.accounts import LoginLimiter
from clinqa.review.diffs import replacement, word_diff
from clinqa.review.service import slug
from clinqa.store import Database, IntegrityViolation, open_store
from clinqa.types import (
    Answer,
    AnswerStatus,
    ChangeKind,
    DocumentChange,
    Passage,
    Sentence,
    SentenceSource,
)

from .conftest import SEED_PAGE, Location, fresh_location, need_shared
from .transitions import AUTHORING, REVIEWING

S = ArticleState
PASSWORD = "correct horse battery"
# argon2id with small parameters keeps the many accounts of these tests fast; one test checks the real defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

# Written out independently of workflow.TRANSITIONS: what each role may do.
EXPECTED = {
    Role.READER: set(),
    Role.AUTHOR: AUTHORING,
    Role.REVIEWER: AUTHORING | REVIEWING,
    Role.ADMIN: AUTHORING | REVIEWING,
}
ACTING = {Role.READER: "rita", Role.AUTHOR: "avery", Role.REVIEWER: "ravi", Role.ADMIN: "ada"}


def an_answer(question: str = "What is next for recurrent osteosarcoma?", passage_id: str | None = None) -> Answer:
    passage_id = passage_id or f"doc#{uuid.uuid4().hex[:12]}"
    sentence = Sentence(
        text="Patients with recurrent osteosarcoma should be assessed for surgical resectability.",
        source=SentenceSource(document_id="doc", section="Recurrent Osteosarcoma", passage_id=passage_id),
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


@dataclass
class Board:
    service: ReviewService
    db: Database
    users: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.users[name]

    def snapshot(self, article_id: str) -> tuple[object, ...]:
        s = self.service
        return s.article(article_id), s.versions(article_id), s.audit(article_id)


@pytest.fixture(scope="module")
def board(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    store = open_store(fresh_location(request, tmp_path_factory.mktemp("review")))
    service = ReviewService(store.db, hasher=FAST_HASHER)
    people = {
        "alice": Role.AUTHOR,  # writes the articles
        "avery": Role.AUTHOR,
        "rhea": Role.REVIEWER,  # moves articles through review
        "ravi": Role.REVIEWER,
        "ada": Role.ADMIN,
        "rita": Role.READER,
    }
    users = {name: service.add_user(name, PASSWORD, role) for name, role in people.items()}
    yield Board(service, store.db, users)
    store.close()


def removal(*passage_ids: str, document_id: str = "doc") -> DocumentChange:
    return DocumentChange(
        document_id=document_id,
        kind=ChangeKind.UPDATED,
        at=dt.datetime.now(dt.UTC),
        old_hash="old",
        new_hash="new",
        passages_added=(),
        passages_removed=passage_ids,
    )


def article_in(board: Board, state: ArticleState) -> Article:
    """A fresh article of alice's, brought to `state` by allowed moves (rhea reviews)."""
    s, passage = board.service, f"doc#{uuid.uuid4().hex[:12]}"
    article = s.save_article(an_answer(passage_id=passage), board["alice"])
    steps = {
        S.DRAFT: [],
        S.SUBMITTED: [S.SUBMITTED],
        S.UNDER_REVIEW: [S.SUBMITTED, S.UNDER_REVIEW],
        S.APPROVED: [S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED],
        S.CHANGES_REQUESTED: [S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED],
        S.REJECTED: [S.SUBMITTED, S.UNDER_REVIEW, S.REJECTED],
        S.NEEDS_REREVIEW: [S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED],
    }[state]
    for to in steps:
        article = act(board, article.id, board["alice" if to is S.SUBMITTED else "rhea"], to)
    if state is S.NEEDS_REREVIEW:
        (article,) = s.on_document_changed(removal(passage), {}, {})
    assert article.state is state
    return article


def current(service: ReviewService, article_id: str) -> int:
    """The version someone who opens the article now sees: the one their move acts on."""
    return service.article(article_id).current_version


def act(board: Board, article_id: str, user: User, to: ArticleState, comment: str = "looked at it") -> Article:
    s = board.service
    if to is S.DRAFT:
        return s.new_version(article_id, an_answer(), user, comment, version=current(s, article_id))
    if to is S.NEEDS_REREVIEW:  # no user action leads there; the pure check is what a caller would hit
        article = s.article(article_id)
        return workflow.transition(article, user, to, comment, version=article.current_version)
    method = {
        S.SUBMITTED: s.submit,
        S.UNDER_REVIEW: s.start_review,
        S.APPROVED: s.approve,
        S.CHANGES_REQUESTED: s.request_changes,
        S.REJECTED: s.reject,
    }[to]
    return method(article_id, user, comment, version=current(s, article_id))


# --- the transition table ----------------------------------------------------------------------------------


def test_the_workflow_table_is_the_expected_one() -> None:
    for role, moves in EXPECTED.items():
        assert workflow.TRANSITIONS[role] == moves, role
    assert workflow.TRANSITIONS[workflow.SYSTEM] == {(state, S.NEEDS_REREVIEW) for state in S}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("from_state", list(S))
@pytest.mark.parametrize("to_state", list(S))
def test_each_transition_per_role(board: Board, role: Role, from_state: ArticleState, to_state: ArticleState) -> None:
    article = article_in(board, from_state)
    user = board[ACTING[role]]
    before = board.snapshot(article.id)
    if (from_state, to_state) in EXPECTED[role]:
        after = act(board, article.id, user, to_state)
        assert after.state is to_state and board.service.article(article.id) == after
        *_, event = board.service.audit(article.id)
        assert (event.actor, event.from_state, event.to_state, event.comment) == (
            user.username,
            from_state,
            to_state,
            "looked at it",
        )
        assert len(board.service.audit(article.id)) == len(before[2]) + 1  # type: ignore[arg-type]
        new_versions = 1 if to_state is S.DRAFT else 0
        assert len(board.service.versions(article.id)) == len(before[1]) + new_versions  # type: ignore[arg-type]
    else:
        with pytest.raises(ReviewStateError) as refused:
            act(board, article.id, user, to_state)
        assert article.id in str(refused.value)
        assert board.snapshot(article.id) == before  # state, versions and audit log untouched


@pytest.mark.parametrize("role", list(Role))
def test_who_may_save_an_article(board: Board, role: Role) -> None:
    user = board[ACTING[role]]
    if role is Role.READER:
        before = board.service.articles()
        with pytest.raises(NotPermitted, match="may not save"):
            board.service.save_article(an_answer(), user)
        assert board.service.articles() == before
    else:
        article = board.service.save_article(an_answer(), user)
        assert (article.state, article.current_version, article.author) == (S.DRAFT, 1, user.username)
        (event,) = board.service.audit(article.id)
        assert (event.actor, event.from_state, event.to_state) == (user.username, None, S.DRAFT)


def test_a_role_refusal_names_the_roles_that_may(board: Board) -> None:
    article = article_in(board, S.UNDER_REVIEW)
    with pytest.raises(
        NotPermitted, match=r"avery \(author\) may not .* under review to approved; only reviewers or admins may"
    ):
        board.service.approve(article.id, board["avery"], version=current(board.service, article.id))
    with pytest.raises(ReviewStateError, match="is approved; it cannot go to submitted"):
        approved = article_in(board, S.APPROVED)
        board.service.submit(approved.id, board["alice"], version=approved.current_version)


@pytest.mark.parametrize("to_state", [S.CHANGES_REQUESTED, S.REJECTED])
def test_changes_requested_and_rejection_need_a_comment(board: Board, to_state: ArticleState) -> None:
    article = article_in(board, S.UNDER_REVIEW)
    before = board.snapshot(article.id)
    with pytest.raises(ReviewStateError, match="needs a comment"):
        act(board, article.id, board["ravi"], to_state, comment="  ")
    assert board.snapshot(article.id) == before


@pytest.mark.parametrize("writer", ["rhea", "ada"])
def test_nobody_approves_a_version_they_wrote(board: Board, writer: str) -> None:
    s = board.service
    article = s.save_article(an_answer(), board[writer])
    s.submit(article.id, board[writer], version=current(s, article.id))
    s.start_review(
        article.id, board[writer], version=current(s, article.id)
    )  # reviewing one's own is allowed; approving it is not
    before = board.snapshot(article.id)
    with pytest.raises(NotPermitted, match=f"{writer} wrote version 1 .* may not approve it"):
        s.approve(article.id, board[writer], version=current(s, article.id))
    assert board.snapshot(article.id) == before
    approved = s.approve(article.id, board["ravi"], version=current(s, article.id))
    assert (approved.approved_version, approved.approved_by) == (1, "ravi")
    # ravi writes version 2: now ravi may not approve, the first writer may.
    s.new_version(article.id, an_answer(), board["ravi"], version=current(s, article.id))
    s.submit(article.id, board["ravi"], version=current(s, article.id))
    s.start_review(article.id, board[writer], version=current(s, article.id))
    with pytest.raises(NotPermitted):
        s.approve(article.id, board["ravi"], version=current(s, article.id))
    assert s.approve(article.id, board[writer], version=current(s, article.id)).approved_version == 2


def test_the_role_stored_now_counts_not_the_one_at_login(board: Board) -> None:
    s = board.service
    former = s.add_user("former-reviewer", PASSWORD, Role.REVIEWER)
    article = article_in(board, S.UNDER_REVIEW)
    s.set_role("former-reviewer", Role.READER, by=board["ada"])
    with pytest.raises(NotPermitted):
        s.approve(article.id, former, version=current(s, article.id))
    with pytest.raises(NotPermitted, match="only admins"):
        s.set_role("former-reviewer", Role.ADMIN, by=board["ravi"])


# --- audit log ---------------------------------------------------------------------------------------------


def test_the_audit_log_records_who_when_from_to_and_why(board: Board) -> None:
    s = board.service
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    article = s.save_article(an_answer(), board["alice"])
    s.submit(article.id, board["alice"], "ready for the board", version=current(s, article.id))
    s.start_review(article.id, board["rhea"], version=current(s, article.id))
    s.request_changes(article.id, board["rhea"], "cite the level of evidence", version=current(s, article.id))
    s.new_version(
        article.id, an_answer(), board["alice"], "added the level of evidence", version=current(s, article.id)
    )
    s.submit(article.id, board["alice"], version=current(s, article.id))
    s.start_review(article.id, board["ravi"], version=current(s, article.id))
    s.approve(article.id, board["ravi"], "accurate", version=current(s, article.id))
    events = s.audit(article.id)
    assert [(e.actor, e.from_state, e.to_state, e.comment) for e in events] == [
        ("alice", None, S.DRAFT, "version 1"),
        ("alice", S.DRAFT, S.SUBMITTED, "ready for the board"),
        ("rhea", S.SUBMITTED, S.UNDER_REVIEW, None),
        ("rhea", S.UNDER_REVIEW, S.CHANGES_REQUESTED, "cite the level of evidence"),
        ("alice", S.CHANGES_REQUESTED, S.DRAFT, "added the level of evidence"),
        ("alice", S.DRAFT, S.SUBMITTED, None),
        ("ravi", S.SUBMITTED, S.UNDER_REVIEW, None),
        ("ravi", S.UNDER_REVIEW, S.APPROVED, "accurate"),
    ]
    assert all(e.article_id == article.id and started <= e.at <= dt.datetime.now(dt.UTC) for e in events)


def test_the_audit_log_is_append_only(board: Board) -> None:
    article = article_in(board, S.APPROVED)
    before = board.service.audit(article.id)
    for sql in ("UPDATE audit_log SET actor='mallory' WHERE article_id=?", "DELETE FROM audit_log WHERE article_id=?"):
        with pytest.raises(IntegrityViolation, match="append-only"):
            board.db.execute(sql, (article.id,))
    assert board.service.audit(article.id) == before


# --- versions ----------------------------------------------------------------------------------------------


def test_the_approved_version_stays_visible_until_a_newer_one_is_approved(board: Board) -> None:
    s = board.service
    article = s.save_article(an_answer("What is the role of sorafenib?"), board["alice"])
    assert s.visible_version(article.id) is None  # nothing for readers before an approval
    for to in (S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED):
        act(board, article.id, board["alice" if to is S.SUBMITTED else "rhea"], to)
    first = s.visible_version(article.id)
    assert first is not None and first.number == 1
    revised = s.new_version(
        article.id, an_answer("What is the role of sorafenib today?"), board["avery"], version=current(s, article.id)
    )
    assert (revised.state, revised.current_version, revised.approved_version) == (S.DRAFT, 2, 1)
    assert revised.author == "alice" and revised.current_author == "avery"
    for to in (S.SUBMITTED, S.UNDER_REVIEW):
        act(board, article.id, board["avery" if to is S.SUBMITTED else "rhea"], to)
        assert s.visible_version(article.id) == first
    s.reject(article.id, board["rhea"], "version 1 was better", version=current(s, article.id))
    assert s.visible_version(article.id) == first  # a rejected revision does not withdraw the approved one
    s.new_version(
        article.id, an_answer("What is the role of sorafenib now?"), board["avery"], version=current(s, article.id)
    )
    for to in (S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED):
        act(board, article.id, board["avery" if to is S.SUBMITTED else "ravi"], to)
    visible = s.visible_version(article.id)
    assert visible is not None and visible.number == 3 and visible.created_by == "avery"
    assert visible.answer.question == "What is the role of sorafenib now?"
    assert [v.number for v in s.versions(article.id)] == [1, 2, 3]
    assert s.version(article.id, 1) == first


def test_rejecting_the_approved_version_on_re_review_withdraws_it(board: Board) -> None:
    article = article_in(board, S.NEEDS_REREVIEW)
    board.service.start_review(article.id, board["ravi"], version=current(board.service, article.id))
    rejected = board.service.reject(
        article.id, board["ravi"], "the new guideline contradicts it", version=current(board.service, article.id)
    )
    assert rejected.approved_version is None and board.service.visible_version(article.id) is None


def test_only_an_answered_question_becomes_an_article(board: Board) -> None:
    abstained = an_answer().model_copy(update={"status": AnswerStatus.INSUFFICIENT_EVIDENCE, "bottom_line": []})
    with pytest.raises(ReviewStateError, match="insufficient_evidence"):
        board.service.save_article(abstained, board["alice"])


def test_article_ids_are_url_safe_stable_and_unique(board: Board) -> None:
    question = "What's next after 4 lines of chemo (doxorubicin, ifosfamide) — für Ärzte?"
    assert slug(question) == "what-s-next-after-4-lines-of-chemo-doxorubicin-ifosfamide"
    first = board.service.save_article(an_answer(question), board["alice"])
    second = board.service.save_article(an_answer(question), board["alice"])
    assert (first.id, second.id) == (slug(question), slug(question) + "-2")
    board.service.new_version(
        first.id, an_answer("Another wording"), board["alice"], version=current(board.service, first.id)
    )
    assert board.service.article(first.id).title == question  # the id and title stay


# --- accounts ----------------------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2_hashes_only(db_location: Location) -> None:
    store = open_store(db_location)
    service = ReviewService(store.db)  # the real default parameters
    secret = "a very private passphrase"
    user = service.add_user("Grace", secret, Role.REVIEWER)
    assert user.username == "grace" and "password_hash" not in user.model_dump()
    (stored,) = store.db.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$") and secret not in stored
    if isinstance(db_location, Path):
        store.db.execute("PRAGMA wal_checkpoint(FULL)")
        assert secret.encode() not in db_location.read_bytes()
    assert service.authenticate("grace", secret) == user
    assert service.authenticate(" GRACE ", secret) == user
    with pytest.raises(AuthError, match="wrong username or password"):
        service.authenticate("grace", "not the passphrase")
    with pytest.raises(AuthError, match="wrong username or password"):
        service.authenticate("nobody", secret)
    store.close()


def test_account_rules(board: Board) -> None:
    s = board.service
    with pytest.raises(AccountError, match="taken"):
        s.add_user("alice", PASSWORD, Role.AUTHOR)
    with pytest.raises(AccountError, match="at least 8"):
        s.add_user("shortpw", "1234567", Role.AUTHOR)
    for bad in ("system", "a", "has space", "x" * 40):
        with pytest.raises(AccountError, match="username"):
            s.add_user(bad, PASSWORD, Role.AUTHOR)
    with pytest.raises(NotPermitted, match="only admins"):
        s.add_user("newbie", PASSWORD, Role.AUTHOR, by=board["ravi"])
    assert s.add_user("newbie", PASSWORD, Role.AUTHOR, by=board["ada"]).role is Role.AUTHOR
    assert "newbie" in [u.username for u in s.users()]


def test_api_tokens_are_stored_as_sha256_only(board: Board) -> None:
    s = board.service
    token = s.create_token(board["rhea"])
    assert token.startswith("clinqa_") and len(token) > 40
    digests = [r[0] for r in board.db.execute("SELECT token_sha256 FROM api_tokens")]
    assert hashlib.sha256(token.encode()).hexdigest() in digests and token not in digests
    assert s.user_for_token(token) == board["rhea"]
    assert s.create_token(board["rhea"]) != token
    for wrong in (token[:-1], "", "clinqa_" + "x" * 43):
        with pytest.raises(AuthError):
            s.user_for_token(wrong)


def test_failed_logins_are_rate_limited_per_username(board: Board) -> None:
    clock = [1000.0]
    limiter = LoginLimiter(board.db, max_failures=5, window_s=300, clock=lambda: clock[0])
    s = ReviewService(board.db, hasher=FAST_HASHER, limiter=limiter)
    for _ in range(5):
        with pytest.raises(AuthError):
            s.authenticate("avery", "wrong password")
    with pytest.raises(RateLimited, match="try again in 300 s") as limited:
        s.authenticate("avery", PASSWORD)  # refused even with the right password
    assert limited.value.retry_after_s == 300
    assert s.authenticate("alice", PASSWORD).username == "alice"  # other usernames are not affected
    clock[0] += 301
    assert s.authenticate("avery", PASSWORD).username == "avery"
    # A success clears the count: four more failures do not lock the account.
    for _ in range(4):
        with pytest.raises(AuthError):
            s.authenticate("avery", "wrong password")
    assert s.authenticate("avery", PASSWORD).username == "avery"


def test_logs_hold_no_password_token_or_question(board: Board, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="clinqa")
    s = board.service
    s.add_user("logged", "a secret passphrase", Role.AUTHOR)
    with pytest.raises(AuthError):
        s.authenticate("logged", "another secret phrase")
    with pytest.raises(AuthError):
        s.authenticate("my password typed here", "x")  # a password typed into the username field
    token = s.create_token(board["rhea"])
    question = "What next for Mrs Example, 16, after MAP?"
    article = s.save_article(an_answer(question), board["alice"])
    s.submit(article.id, board["alice"], version=current(s, article.id))
    assert "failed login for user logged" in caplog.text and "failed login for an unknown username" in caplog.text
    assert "from draft to submitted by alice" in caplog.text
    for secret in (
        "a secret passphrase",
        "another secret phrase",
        "my password typed here",
        token,
        question,
        article.id,
    ):
        assert secret not in caplog.text


# --- re-review when a source passage changes ---------------------------------------------------------------


def test_replacement_is_the_most_similar_passage_of_the_same_section() -> None:
    def passage(pid: str, ordinal: int, text: str, section: tuple[str, ...] = ("Recurrent",)) -> Passage:
        return Passage(id=pid, document_id="doc", ordinal=ordinal, section_path=section, kind="paragraph", text=text)

    old = passage("doc#old", 3, "Abdominal metastases are rare but may occur as late as 4 years after diagnosis.")
    edited = passage(
        "doc#new", 3, "Abdominal metastases are very rare but may occur as late as 5 years after diagnosis."
    )
    other = passage("doc#other", 4, "Sorafenib gave rare objective responses in recurrent osteosarcoma.")
    elsewhere = passage("doc#far", 3, old.text.replace("rare", "uncommon"), section=("Metastatic",))
    assert replacement(old, [other, edited, elsewhere]) == edited
    assert replacement(old, [elsewhere]) is None
    assert replacement(old, [passage("doc#x", 9, "Something else entirely about lung nodules.")]) is None


def test_word_diff_marks_removed_and_inserted_words() -> None:
    assert word_diff("metastases are rare after 4 years", "metastases are very rare after 5 years") == [
        ("equal", "metastases are"),
        ("insert", "very"),
        ("equal", "rare after"),
        ("delete", "4"),
        ("insert", "5"),
        ("equal", "years"),
    ]


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    need_shared()
    folder = tmp_path / "sources"
    folder.mkdir()
    return Path(shutil.copy(SEED_PAGE, folder / "recurrent-osteosarcoma-2014.txt"))


def approve_as_board(service: ReviewService, answer: Answer, users: dict[str, User]) -> Article:
    article = service.save_article(answer, users["alice"])
    service.submit(article.id, users["alice"], "from the 2014 page", version=current(service, article.id))
    service.start_review(article.id, users["rhea"], version=current(service, article.id))
    return service.approve(article.id, users["ravi"], "matches the source", version=current(service, article.id))


def test_a_changed_cited_passage_sends_the_article_back_for_re_review(db_location: Location, seed_copy: Path) -> None:
    engine = Engine(db_location)
    assert engine.ingest([seed_copy]).documents_added == 1
    service = engine.review()
    users = {
        name: service.add_user(name, PASSWORD, role)
        for name, role in (("alice", Role.AUTHOR), ("rhea", Role.REVIEWER), ("ravi", Role.REVIEWER))
    }
    answer = engine.ask("How late can abdominal metastases occur in osteosarcoma?", remember=False)
    cited = engine.store.passages(s.source.passage_id for s in answer.sentences())
    (changed,) = [p for p in cited.values() if "Abdominal metastases are rare" in p.text]
    article = approve_as_board(service, answer, users)
    other_answer = engine.ask("Does samarium-153-EDTMP help pain from bone metastases?", remember=False)
    assert changed.id not in {s.source.passage_id for s in other_answer.sentences()}
    other = approve_as_board(service, other_answer, users)
    assert service.queue() == []

    seed_copy.write_text(
        seed_copy.read_text().replace("Abdominal metastases are rare", "Abdominal metastases are very rare")
    )
    assert engine.ingest([seed_copy]).documents_updated == 1

    flagged = service.article(article.id)
    assert flagged.state is S.NEEDS_REREVIEW and flagged.source_updated
    assert [a.id for a in service.queue()] == [article.id]
    assert service.article(other.id).state is S.APPROVED  # cites nothing that changed
    (diff,) = flagged.source_changes
    assert (diff.document_id, diff.passage_id) == ("recurrent-osteosarcoma-2014", changed.id)
    assert diff.old_text == changed.text and "Abdominal metastases are rare" in diff.old_text
    assert diff.new_text is not None and "Abdominal metastases are very rare" in diff.new_text
    assert diff.new_text == changed.text.replace("are rare", "are very rare")
    assert diff.new_passage_id in {p.id for p in engine.document("recurrent-osteosarcoma-2014").passages}
    event = service.audit(article.id)[-1]
    assert (event.actor, event.from_state, event.to_state) == ("system", S.APPROVED, S.NEEDS_REREVIEW)
    assert "recurrent-osteosarcoma-2014" in (event.comment or "")
    visible = service.visible_version(article.id)
    assert visible is not None and visible.number == 1  # readers still see it, marked as source updated

    # The board re-reviews: changes requested, the author regenerates from the new text, a reviewer approves.
    service.start_review(article.id, users["rhea"], version=current(service, article.id))
    service.request_changes(
        article.id, users["rhea"], "regenerate from the updated page", version=current(service, article.id)
    )
    regenerated = engine.ask(article.title, remember=False)
    service.new_version(article.id, regenerated, users["alice"], version=current(service, article.id))
    service.submit(article.id, users["alice"], version=current(service, article.id))
    service.start_review(article.id, users["ravi"], version=current(service, article.id))
    approved = service.approve(article.id, users["ravi"], version=current(service, article.id))
    assert approved.approved_version == 2 and not approved.source_updated and service.queue() == []
    visible = service.visible_version(article.id)
    assert visible is not None and diff.new_passage_id in visible.cited_passages
    engine.close()


def test_an_unchanged_reingest_flags_nothing(db_location: Location, seed_copy: Path) -> None:
    engine = Engine(db_location)
    engine.ingest([seed_copy])
    service = engine.review()
    users = {
        name: service.add_user(name, PASSWORD, role)
        for name, role in (("alice", Role.AUTHOR), ("rhea", Role.REVIEWER), ("ravi", Role.REVIEWER))
    }
    article = approve_as_board(service, engine.ask("How late can abdominal metastases occur?", remember=False), users)
    seed_copy.write_text(seed_copy.read_text() + "\n")  # another file hash, the same document
    engine.ingest([seed_copy])
    assert service.article(article.id).state is S.APPROVED and service.queue() == []
    engine.close()


# --- command line ------------------------------------------------------------------------------------------


def test_review_from_the_command_line(db_location: Location, seed_copy: Path) -> None:
    db = db_location

    def run(*args: str, password: str | None = PASSWORD) -> str:
        result = CliRunner().invoke(cli, ["--db", str(db), *args], input=f"{password}\n" if password else None)
        assert result.exit_code == 0, result.output
        return result.stdout

    def queued() -> list[str]:
        return [a["id"] for a in json.loads(run("review", "list", "--json", password=None))]

    run("ingest", str(seed_copy), password=None)
    for name, role in (("alice", "author"), ("rhea", "reviewer"), ("ravi", "reviewer")):
        run("users", "add", name, "--role", role, "--password-stdin")
    assert "rhea" in run("users", "list", password=None) and "reviewer" in run("users", "list", password=None)
    saved = run(
        "articles",
        "save",
        "How late can abdominal metastases occur in osteosarcoma?",
        "--as",
        "alice",
        "--password-stdin",
    )
    article_id = saved.strip()
    assert article_id == "how-late-can-abdominal-metastases-occur-in-osteosarcoma"
    run("articles", "submit", article_id, "--version", "1", "--as", "alice")  # the hidden prompt
    assert queued() == [article_id]
    token = run("users", "token", "rhea", "--password-stdin").split()[0]
    run("review", "start", article_id, "--version", "1", "--token", token, password=None)
    result = CliRunner().invoke(
        cli, ["--db", str(db), "review", "approve", article_id, "--version", "1", "--as", "ravi"], input="no\n"
    )
    assert result.exit_code == 1 and "wrong username or password" in result.output
    run("review", "approve", article_id, "--version", "1", "--as", "ravi", "--comment", "accurate")
    assert queued() == []
    seed_copy.write_text(
        seed_copy.read_text().replace("Abdominal metastases are rare", "Abdominal metastases are very rare")
    )
    run("ingest", str(seed_copy), password=None)
    assert queued() == [article_id]
    shown = " ".join(run("review", "show", article_id, password=None).split())
    assert "needs re-review" in shown and "Abdominal metastases are rare" in shown and "very" in shown
    assert "system" in shown and "accurate" in shown
    result = CliRunner().invoke(
        cli, ["--db", str(db), "review", "reject", article_id, "--version", "1", "--as", "ravi"], input="x\n"
    )
    assert result.exit_code == 1
