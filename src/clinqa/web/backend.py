"""`Web`: the engine of one server worker, its review service and the login sessions. Every handler reaches the
engine through here. There is no lock around it: the database keeps writes whole (one transaction each), the
engine reloads its index under a lock of its own, and answers, which are CPU-bound, run on a few threads of their
own (`web.answer_threads`), or in child processes of lower priority (`web.answer_processes`), so page views,
session look-ups and logins never wait for a free thread behind one (and, with processes, not for the CPU either)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from clinqa.answer.cards import Card
from clinqa.clinical.patient import merge
from clinqa.engine import Engine
from clinqa.errors import NotFound
from clinqa.review import Article, ArticleState, ArticleVersion, AuditEvent, NotPermitted, Role, User
from clinqa.review.models import AccountEvent
from clinqa.review.workflow import permitted_moves
from clinqa.settings import settings
from clinqa.types import Answer, Document, DocumentSummary, PatientContext, Thread
from clinqa.web.answer_pool import AnswerPool
from clinqa.web.sessions import Session, Sessions

MAX_COMMENT_CHARS = 4_000
MAX_ID_CHARS = 200  # thread, article and document ids are far shorter
RECORD_FIELD = "patient_record"  # the request field (API) and form file (ask page) of a FHIR record


def within_question_limit(text: str) -> str:
    """A question or patient description is at most `web.max_question_chars` long (read at each request)."""
    limit = settings().web.max_question_chars
    if len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    return text


QuestionText = Annotated[str, AfterValidator(within_question_limit)]


def storable(patient: PatientContext | None) -> PatientContext | None:
    """Patient details that can be written down: text with a lone UTF-16 surrogate (which JSON may carry) cannot,
    and is refused here rather than failing when the conversation is stored."""
    if patient is not None:
        try:
            patient.model_dump_json()
        except ValueError as ex:  # PydanticSerializationError: surrogates not allowed
            raise ValueError("holds text that is not valid Unicode") from ex
    return patient


PatientDetails = Annotated[PatientContext | None, AfterValidator(storable)]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: QuestionText = Field(min_length=1)
    audience: Literal["clinician", "patient"] = "clinician"
    patient: PatientDetails = None
    patient_record: dict[str, Any] | str | None = Field(
        default=None,
        description="The patient as a FHIR R4 record: a Bundle (or one resource) as a JSON object, or its text"
        " (a Bundle, or NDJSON: one resource a line); `patient` fields, when given too, are laid over it",
    )
    thread_id: str | None = Field(
        default=None, max_length=MAX_ID_CHARS, description="Continue this conversation (yours only)"
    )


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of a request (their role as stored now) and their session."""

    user: User
    session: Session


@dataclass(frozen=True)
class ArticlePage:
    """What an article page shows: the article, the version shown, and what the viewer may do."""

    article: Article
    shown: ArticleVersion
    versions: list[int]  # the versions the viewer may open (authors, reviewers and admins: all of them)
    moves: list[ArticleState]  # the transitions the viewer may make now

    @property
    def published(self) -> int:
        """The version readers see: the approved one, or before any approval the pending one."""
        return self.article.approved_version or self.article.current_version


class Web:
    """The engine and the sessions of one server worker, shared by its request threads."""

    def __init__(
        self,
        engine: Engine,
        sessions: Sessions | None = None,
        answer_threads: int | None = None,
        answer_processes: int | None = None,
    ) -> None:
        self.engine = engine
        self.sessions = sessions or Sessions(engine.store.db)
        web = settings().web
        self.answer_threads = answer_threads or web.answer_threads
        self.answer_processes = web.answer_processes if answer_processes is None else answer_processes
        self._answer_slots: anyio.CapacityLimiter | None = None
        self._pool: AnswerPool | None = None  # started at the first answer

    async def answering(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """`Engine.<method>(*args, **kwargs)`, a call that computes an answer: in an answer process when the
        worker has them, else on one of the answer threads; a request waits for a free one without holding a
        thread of the pool that serves pages."""
        if self.answer_processes > 0:
            return await self._answer_pool().call(method, *args, **kwargs)
        if self._answer_slots is None:
            self._answer_slots = anyio.CapacityLimiter(self.answer_threads)
        call = getattr(self.engine, method)
        return await anyio.to_thread.run_sync(lambda: call(*args, **kwargs), limiter=self._answer_slots)

    def _answer_pool(self) -> AnswerPool:
        if self._pool is None:
            niceness = settings().web.answer_niceness
            self._pool = AnswerPool(self.engine.db, self.answer_processes, niceness, self.engine.index_wait_s)
        return self._pool

    def ready_to_answer(self) -> None:
        """Load what answers need before the first question: the answer processes' engines when answers run in
        them (this process then never loads the embedding model), else this engine's answerer."""
        if self.answer_processes > 0:
            self._answer_pool().start()
        else:
            self.engine.answerer()

    def close(self) -> None:
        """Stop the answer processes, if any (the engine stays open)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # --- questions and sources ----------------------------------------------------------------------------

    async def ask(self, request: AskRequest, owner: str | None) -> Answer:
        """The answer; the question is kept as a conversation of `owner`'s, or not kept at all (None)."""
        patient = await anyio.to_thread.run_sync(self.patient_of, request)  # a FHIR record is read here
        answer: Answer = await self.answering(
            "ask",
            request.question,
            patient=patient,
            thread_id=request.thread_id,
            audience=request.audience,
            remember=owner is not None,
            owner=owner or "",
        )
        return answer

    def patient_of(self, request: AskRequest) -> PatientContext | None:
        """The patient of a request: its fields laid over the patient of its FHIR record (`RecordError` when the
        record cannot be read, naming the resource)."""
        if request.patient_record is None:
            return request.patient
        record = self.engine.patient_from_record(request.patient_record, RECORD_FIELD)
        return merge(record, request.patient) if request.patient else record

    async def patient_view(self, prefetch: dict[str, object], patient_id: str, site: str) -> list[Card]:
        """The CDS Hooks `patient-view` cards for the patient of a prefetch (an answer: on an answer thread)."""
        cards: list[Card] = await self.answering("patient_view", prefetch, patient_id, site)
        return cards

    def document(self, document_id: str) -> Document:
        return self.engine.document(document_id)

    def documents(self) -> list[DocumentSummary]:
        return self.engine.documents()

    def health(self) -> tuple[int, int]:
        """Documents in the knowledge base and the corpus generation, read from the database now."""
        return self.engine.store.document_count(), self.engine.store.generation()

    def patient_from_text(self, text: str) -> PatientContext | None:
        if not text.strip():
            return None
        return self.engine.patient_from_text(text)

    def threads(self) -> list[Thread]:
        """Every unexpired conversation (administrators)."""
        return self.engine.threads()

    def thread(self, thread_id: str, owner: str | None) -> Thread:
        """`owner`'s conversation: `NotFound` for anyone else's, as for an unknown one."""
        if owner is None:
            raise NotFound(f"no thread with id {thread_id!r}")
        return self.engine.thread(thread_id, owner)

    def purge_threads(self) -> int:
        return self.engine.purge_threads()

    # --- accounts and sessions ----------------------------------------------------------------------------

    def log_in(self, username: str, password: str) -> Session:
        """A new session; `AuthError` for a wrong username or password, `RateLimited` after too many."""
        user = self.engine.review().authenticate(username, password)
        return self.sessions.start(user.username)

    def viewer(self, session_token: str | None) -> Viewer | None:
        """The logged-in user of a session cookie; None for no, an unknown or an expired session."""
        session = self.sessions.get(session_token)
        if session is None:
            return None
        try:
            return Viewer(self.engine.review().user(session.username), session)
        except NotFound:
            return None

    def token_user(self, token: str) -> User:
        return self.engine.review().user_for_token(token)

    def account_events(self) -> list[AccountEvent]:
        """The audit log of changes to accounts and their API tokens, oldest first."""
        return self.engine.review().accounts.events()

    # --- articles -----------------------------------------------------------------------------------------

    async def save_article(self, ask: AskRequest, author: User) -> Article:
        """Answer the question (on an answer thread) and save the answer as a draft article."""
        article: Article = await self.answering("save_article", ask.question, author, ask.audience, ask.patient)
        return article

    async def move_article(
        self, article_id: str, actor: User, to: ArticleState, comment: str | None, version: int
    ) -> Article:
        """One review move; a move to draft answers the question again, hence on an answer thread."""
        article: Article = await self.answering("move_article", article_id, actor, to, comment, version=version)
        return article

    def articles(self) -> list[Article]:
        return self.engine.review().articles()

    def queue(self) -> list[Article]:
        return self.engine.review().queue()

    def article(self, article_id: str) -> tuple[Article, ArticleVersion | None]:
        """The article and the version readers see (None before the first approval)."""
        review = self.engine.review()
        return review.article(article_id), review.visible_version(article_id)

    def audit(self, article_id: str) -> tuple[Article, list[AuditEvent]]:
        """The article and its audit log, oldest event first."""
        review = self.engine.review()
        return review.article(article_id), review.audit(article_id)

    def article_page(self, article_id: str, number: int | None, user: User | None) -> ArticlePage:
        """The approved version, or before any approval the pending one (shown as pending). Authors, reviewers
        and admins may open any version by number; readers only the one published."""
        review = self.engine.review()
        article = review.article(article_id)
        published = article.approved_version or article.current_version  # as ArticlePage.published
        editor = user is not None and user.role is not Role.READER
        if number not in (None, published) and not editor:
            raise NotPermitted("only authors, reviewers and admins may open versions that are not published")
        shown = review.version(article_id, number or published)
        versions = list(range(1, article.current_version + 1)) if editor else [published]
        # The review forms act on the version on the page: only the current version's page has them.
        current = shown.number == article.current_version
        moves = permitted_moves(article, user) if user is not None and current else []
        return ArticlePage(article, shown, versions, moves)
