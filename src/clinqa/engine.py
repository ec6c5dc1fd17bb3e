"""The engine facade: the one object the CLI and the web layer talk to."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from clinqa.answer.answerer import Answerer
from clinqa.answer.cards import Card, answer_cards
from clinqa.answer.threads import CLI_OWNER, retention, standalone_question
from clinqa.clinical.fhir import prefetch_resources, record_resources
from clinqa.clinical.followup import follow_up, starts_anew
from clinqa.clinical.next_steps import next_steps_question, patient_topic
from clinqa.clinical.patient import extract_patient, load_patient_file, merge
from clinqa.clinical.record import read_record
from clinqa.clinical.regimens import Normaliser
from clinqa.errors import IngestError
from clinqa.ingest import SUPPORTED_SUFFIXES as GUIDELINE_SUFFIXES
from clinqa.ingest import content_hash, find_files, parse_source, read_source
from clinqa.ingest.pubmed import LITERATURE_SUFFIXES, is_literature_file, parse_literature
from clinqa.packages import utc_now
from clinqa.readings import embedding_key, embedding_text
from clinqa.retrieve.dense import Encoder, encoder, model_name
from clinqa.retrieve.index import (
    SearchIndex,
    VectorSource,
    build_index,
    load_drug_names,
    load_index,
    save_index,
)
from clinqa.retrieve.retriever import HybridRetriever, RetrievalConfig
from clinqa.retrieve.specificity import word_specificity
from clinqa.retrieve.vectors import VectorStore
from clinqa.review import Article, ArticleState, NotPermitted, ReviewService, User
from clinqa.store import SQLStore, index_dir, is_url, open_store
from clinqa.trials import condition_names, parse_trial_records, rank_trials, trials_in_guideline
from clinqa.trials.parse import SUPPORTED_SUFFIXES as TRIAL_SUFFIXES
from clinqa.types import (
    Answer,
    Audience,
    ChangeKind,
    Document,
    DocumentChange,
    DocumentSummary,
    IngestFailure,
    IngestReport,
    PatientContext,
    Thread,
    Trial,
    TrialMatch,
    Turn,
)

Progress = Callable[[Path], None]
ANSWER_TRIALS = 5  # trials listed in an answer; `clinqa trials` lists them all


@dataclass
class Engine:
    """Ingest sources and answer questions over one knowledge base."""

    db: Path | str  # a SQLite file, or a postgresql:// URL
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    model: str = field(default_factory=model_name)
    # How often a long-lived engine (a server worker) asks the database whether another process has ingested:
    # the generation is read at most this often, and the derived index reloaded when it moved.
    generation_check_s: float = 1.0
    # When the corpus has moved on and no index of it is saved yet, an engine that serves one goes on serving it
    # this long (the ingesting process saves the new one when it is done; a whole-corpus ingest moves the
    # generation at every document) before it builds one itself. 0: build at once.
    index_wait_s: float = 0.0

    def __post_init__(self) -> None:
        self.db = self.db if is_url(self.db) else Path(self.db)
        self.store: SQLStore = open_store(self.db)
        self._index: SearchIndex | None = None
        self._answerers: dict[str, Answerer] = {}
        self._normaliser: Normaliser | None = None
        self._normaliser_generation = -1
        self._trials: list[Trial] | None = None  # parsed once; dropped by every ingest
        self._trial_text: dict[str, str] = {}
        self._review: ReviewService | None = None
        self._checked_at = -float("inf")  # time.monotonic() of the last generation check
        self._outdated_since: float | None = None  # since when the index served is older than the corpus
        # Threads of one server worker share the engine: one of them reloads the index, the others wait for it.
        self._index_lock = threading.RLock()

    @property
    def index_dir(self) -> Path:
        """Where the derived search indexes live: `store.index_dir`, else beside a SQLite file (`kb.sqlite.index`)
        or, for a database URL, a folder of that database's own in the user cache directory."""
        return index_dir(self.db)

    def close(self) -> None:
        self.store.close()

    # --- ingest -------------------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders. A file that fails is reported and the rest still go in; so is every path
        not read (see `find_sources`) and a second file claiming a document id with other content."""
        started = time.perf_counter()
        self._trials = None
        report = IngestReport()
        found = find_sources(map(Path, paths))
        report.failed.extend(IngestFailure(path=p.path, reason=p.reason) for p in found.problems)
        known = self.store.source_documents()
        seen: dict[str, tuple[str, str]] = {}  # document id -> (path, content hash) that claimed it in this run
        for path in found.guidelines:
            try:
                self._ingest_file(path, known, seen, report)
            except IngestError as ex:
                report.failed.append(IngestFailure(path=ex.path, reason=ex.reason))
            if progress:
                progress(path)
        for path in found.trials:
            self._ingest_trials(path, report)
            if progress:
                progress(path)
        for path in found.literature:
            self._ingest_literature(path, seen, report)
            if progress:
                progress(path)
        if report.documents_added or report.documents_updated or self._stale():
            self.refresh_index()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_trials(self, path: Path, report: IngestReport) -> None:
        """A registry file's trials; a bad record is reported and the file's other records still go in."""
        report.trials += self.store.put_trials(_records(parse_trial_records, path, report))

    def _ingest_literature(self, path: Path, seen: dict[str, tuple[str, str]], report: IngestReport) -> None:
        """A file of PubMed records: each record is a document of its own, stored (or replaced) in its own
        transaction; a bad record is reported by its PMID and the file's other records still go in."""
        for document in _records(parse_literature, path, report):
            try:
                _claim(seen, document.id, path, document.content_hash)  # the id names the PMID
            except IngestError as ex:
                report.failed.append(IngestFailure(path=ex.path, reason=ex.reason))
                continue
            self._store_document(document, report)

    def ingest_documents(self, documents: Iterable[Document]) -> IngestReport:
        """Ingest already-parsed documents (library use, benchmarks)."""
        started = time.perf_counter()
        report = IngestReport()
        for document in documents:
            self._store_document(document, report)
        if report.documents_added or report.documents_updated or self._stale():
            self.refresh_index()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_file(
        self, path: Path, known: dict[str, tuple[str, str]], seen: dict[str, tuple[str, str]], report: IngestReport
    ) -> None:
        raw = read_source(path)  # read once: the hash and the parse see the same bytes
        digest = content_hash(raw)
        stored = known.get(str(path))
        if stored is not None and stored[1] == digest:
            _claim(seen, stored[0], path, digest)
            report.documents_unchanged += 1
            return
        document = parse_source(path, raw)
        first = seen.get(document.id)
        if first is not None and first[1] == document.content_hash:
            reason = f"same document (id {document.id}) as {first[0]}, ingested from there"
            report.skipped.append(IngestFailure(path=str(path), reason=reason))
            return
        _claim(seen, document.id, path, document.content_hash)
        self._store_document(document, report)

    def _store_document(self, document: Document, report: IngestReport) -> None:
        old_hash = self.store.document_hash(document.id)
        if old_hash == document.content_hash:
            report.documents_unchanged += 1
            return
        vectors = self._new_vectors(document)
        if old_hash:
            # Articles citing a passage about to be replaced are flagged first, with the diff: a crash between
            # the two writes then leaves an article flagged needlessly, never an approved one citing stale text.
            self._sources_changing(document, old_hash)
        trials = trials_in_guideline(document)
        change = self.store.put_document(document, vectors, self.model, trials)  # one transaction: both or neither
        report.trials += len(trials)
        if change.old_hash is None:
            report.documents_added += 1
        else:
            report.documents_updated += 1
        report.passages += len(document.passages)
        report.references += len(document.references)

    def _sources_changing(self, document: Document, old_hash: str) -> None:
        """Approved articles citing a passage the new version drops go back to the reviewers, with the diff."""
        old = {p.id: p for p in self.store.get_document(document.id).passages}
        new = {p.id: p for p in document.passages}
        removed = tuple(sorted(set(old) - set(new)))
        if not removed:
            return
        change = DocumentChange(
            document_id=document.id,
            kind=ChangeKind.UPDATED,
            at=utc_now(),
            old_hash=old_hash,
            new_hash=document.content_hash,
            passages_added=tuple(sorted(set(new) - set(old))),
            passages_removed=removed,
        )
        added = {i: new[i] for i in change.passages_added}
        self.review().on_document_changed(change, {i: old[i] for i in removed}, added)

    def review(self) -> ReviewService:
        """Accounts and the editorial review of articles, on this knowledge base."""
        with self._index_lock:
            if self._review is None:
                self._review = ReviewService(self.store.db)
            return self._review

    def save_article(
        self,
        question: str,
        author: User,
        audience: Audience = "clinician",
        patient: PatientContext | None = None,
    ) -> Article:
        """Answer the question (not kept as a conversation) and save the answer as a draft article."""
        answer = self.ask(question, patient=patient, audience=audience, remember=False)
        return self.review().save_article(answer, author)

    def regenerate_article(self, article_id: str, author: User, comment: str | None = None, *, version: int) -> Article:
        """Answer the article's question again from the current sources, for the same audience, as a new
        draft version replacing `version` (`StaleVersion` when that is no longer the current one)."""
        service = self.review()
        service.check_version(article_id, version)  # before answering: a stale request costs no answer
        audience = service.version(article_id).answer.audience
        answer = self.ask(service.article(article_id).title, audience=audience, remember=False)
        return service.new_version(article_id, answer, author, comment, version=version)

    def move_article(
        self, article_id: str, actor: User, to: ArticleState, comment: str | None = None, *, version: int
    ) -> Article:
        """One review transition by `actor` on `version` (the one they saw; `StaleVersion` when it is no longer
        the current one); a move to draft regenerates the answer as a new version."""
        service = self.review()
        moves = {
            ArticleState.SUBMITTED: service.submit,
            ArticleState.UNDER_REVIEW: service.start_review,
            ArticleState.APPROVED: service.approve,
            ArticleState.CHANGES_REQUESTED: service.request_changes,
            ArticleState.REJECTED: service.reject,
        }
        if to is ArticleState.DRAFT:
            return self.regenerate_article(article_id, actor, comment, version=version)
        if to not in moves:
            service.article(article_id)  # NotFound first, as for every other move
            raise NotPermitted("only the system sends an article to needs re-review, when a cited source changes")
        return moves[to](article_id, actor, comment, version=version)

    def _new_vectors(self, document: Document) -> dict[str, bytes]:
        texts = (embedding_text(p, document.title) for p in document.passages)
        keys = {embedding_key(t): t for t in texts}
        have = self.store.embeddings(self.model, keys)
        todo = [k for k in keys if k not in have]
        if not todo:
            return {}
        vectors = self._encoder().encode([keys[k] for k in todo])
        return {k: v.astype(np.float16).tobytes() for k, v in zip(todo, vectors, strict=True)}

    # --- index --------------------------------------------------------------------------------------------

    def _encoder(self) -> Encoder:
        return encoder(self.model)

    def query_encoder(self) -> Callable[[str], np.ndarray]:
        return lambda query: self._encoder().encode([query])[0]

    def _stale(self) -> bool:
        return load_index(self.index_dir, self.store.generation(), self.model, self._vectors_in_database()) is None

    def _vectors_in_database(self) -> VectorStore | None:
        """The store, when it searches passage vectors itself (PostgreSQL with pgvector)."""
        return self.store if isinstance(self.store, VectorStore) else None

    def refresh_index(self) -> SearchIndex:
        generation = self.store.generation()
        index = build_index(
            self.store,
            self.model,
            VectorSource(self.store, self.model, lambda t: self._encoder().encode(t)),
            generation,
            self._vectors_in_database(),
        )
        save_index(index, self.index_dir)
        with self._index_lock:
            self._index, self._answerers = index, {}
            self._checked_at = time.monotonic()
        return index

    def index(self) -> SearchIndex:
        """The search index of the corpus as stored now: reloaded (or rebuilt) when another process has ingested
        since, which is checked at most every `generation_check_s`."""
        current = self._index
        if current is not None and time.monotonic() - self._checked_at < self.generation_check_s:
            return current
        with self._index_lock:
            generation = self.store.generation()
            if self._index is None or self._index.generation != generation:
                self._index = self._index_of(generation)
            self._checked_at = time.monotonic()
            return self._index

    def _index_of(self, generation: int) -> SearchIndex:
        """The saved index of `generation`; else the one served, for up to `index_wait_s`; else one built now."""
        saved = load_index(self.index_dir, generation, self.model, self._vectors_in_database())
        if saved is not None:
            self._answerers, self._outdated_since = {}, None
            return saved
        now = time.monotonic()
        if self._index is not None:
            self._outdated_since = self._outdated_since if self._outdated_since is not None else now
            if now - self._outdated_since < self.index_wait_s:
                return self._index
        self._outdated_since = None
        return self.refresh_index()

    # --- questions ----------------------------------------------------------------------------------------

    def answerer(self, audience: Audience = "clinician") -> Answerer:
        index = self.index()
        with self._index_lock:
            known = self._answerers.get(audience)
            if known is not None and known.index is index:
                return known
            retriever = HybridRetriever(index, self.query_encoder(), self.retrieval)
            answerer = Answerer(
                index=index,
                retriever=retriever,
                store=self.store,
                documents={d.id: d for d in self.store.documents()},
                normaliser=self.normaliser(),
                trials=self.trials_for_answer,
                audience=audience,
            )
            self._answerers[audience] = answerer
            return answerer

    def warm_up(self) -> None:
        """Load now what the first answers would otherwise wait for: the index and the answerer, the drug-name
        lookup, the English word frequencies that weigh a question's words."""
        self.answerer()
        self.normaliser().agents("doxorubicin")
        word_specificity("the")

    def normaliser(self) -> Normaliser:
        """Drug and regimen names, with the drug variants the corpus uses (built with the index)."""
        index = self.index()
        with self._index_lock:
            if self._normaliser is None or self._normaliser_generation != index.generation:
                self._normaliser = Normaliser(load_drug_names(self.index_dir))
                self._normaliser_generation = index.generation
            return self._normaliser

    def match_trials(self, patient: PatientContext) -> list[TrialMatch]:
        """Stored trials with a verdict per criterion for this patient, eligible ones first."""
        return rank_trials(self._stored_trials(), patient)

    def trials_for_answer(self, patient: PatientContext) -> list[TrialMatch]:
        """The few trials an answer lists: for the patient's condition, eligible first."""
        if not patient.diagnosis:
            return []
        names = condition_names(patient.diagnosis)
        texts = self._trial_texts()
        candidates = [t for t in self._stored_trials() if any(n in texts[t.id] for n in names)]
        on_condition = [
            m
            for m in rank_trials(candidates, patient)
            if any(c.criterion == "condition" and c.verdict == "met" for c in m.criteria)
        ]
        return on_condition[:ANSWER_TRIALS]

    def _stored_trials(self) -> list[Trial]:
        trials = self._trials
        if trials is None:
            trials = self.store.trials()
            # The texts first: a thread that sees the trials finds their texts.
            self._trial_text = {t.id: " ".join([t.title, *t.conditions]).lower() for t in trials}
            self._trials = trials
        return trials

    def _trial_texts(self) -> dict[str, str]:
        self._stored_trials()
        return self._trial_text

    def patient_from_text(self, text: str) -> PatientContext:
        """Patient details written in words ("16-year-old, second recurrence, after MAP")."""
        return extract_patient(text, self.normaliser())

    def load_patient(self, path: Path, patient_id: str | None = None) -> PatientContext:
        """A patient file: JSON fields, or a FHIR record (`patient_id` chooses among several patients)."""
        return load_patient_file(path, self.normaliser(), patient_id)

    def patient_from_record(self, data: object, source: str, patient_id: str | None = None) -> PatientContext:
        """The patient of a FHIR record sent by a client: a decoded Bundle or resource, or its text (JSON or
        NDJSON)."""
        return read_record(record_resources(data, source), self.normaliser(), source, patient_id)

    def patient_from_prefetch(self, prefetch: dict[str, object], patient_id: str) -> PatientContext:
        """The patient `patient_id` of a CDS Hooks prefetch (Patient, Conditions, medications)."""
        return read_record(prefetch_resources(prefetch), self.normaliser(), "CDS Hooks prefetch", patient_id)

    def patient_view(self, prefetch: dict[str, object], patient_id: str, site: str) -> list[Card]:
        """CDS Hooks `patient-view`: a card answering the "what next" question of the patient in `prefetch`, its
        links on `site` (clinqa's address); no card for a patient without a cancer diagnosis (nothing to say)."""
        patient = self.patient_from_prefetch(prefetch, patient_id)
        topic = patient_topic(patient)
        if topic is None:
            return []
        answer = self.ask(next_steps_question(topic), patient=patient, remember=False)
        return answer_cards(answer, topic, site)

    def ask(
        self,
        question: str,
        patient: PatientContext | None = None,
        thread_id: str | None = None,
        audience: Audience = "clinician",
        remember: bool = True,
        owner: str = CLI_OWNER,
    ) -> Answer:
        """Answer a question. With `thread_id` it continues that conversation of `owner`'s (`NotFound` for an
        unknown, expired or someone else's thread): the patient context and the earlier question carry over. With
        `remember`, the turn is stored (a new thread of `owner`'s when none is given), unless the retention
        setting keeps nothing."""
        thread = self.store.get_thread(thread_id, owner, utc_now()) if thread_id else None
        standalone, context, read_question = question, patient, True
        if thread is not None:
            # A follow-up updates the conversation's patient (new sites, lines, resectability); a question about
            # another disease or patient starts afresh, inheriting nothing.
            said = extract_patient(question, self.normaliser())
            said = merge(said, patient) if patient else said
            if not starts_anew(thread.patient, said, question):
                previous = thread.turns[-1].standalone if thread.turns else None
                standalone = standalone_question(question, previous)
                context, read_question = follow_up(thread.patient, said, question), False
        chosen = thread.audience if thread else audience
        # A patient reader's answer keeps every safety sentence the clinician's answer gives.
        clinician = self.answerer("clinician")
        keep = (
            clinician.ask(standalone, context, read_question=read_question).sentences() if chosen == "patient" else None
        )
        answer = self.answerer(chosen).ask(standalone, context, keep, read_question=read_question)
        answer = answer.model_copy(update={"question": question.strip(), "audience": chosen})
        if not remember or retention() <= dt.timedelta(0):
            return answer
        if thread is None:
            now = utc_now()
            self.store.purge_threads(now)  # expired conversations go at each new one, as well as on `serve`
            thread = self.store.create_thread(chosen, PatientContext(), owner, now + retention())
        turn = Turn(question=question.strip(), standalone=standalone, status=answer.status.value, at=utc_now())
        self.store.add_turn(thread.id, turn, answer.patient or context or PatientContext())
        return answer.model_copy(update={"thread_id": thread.id})

    def threads(self, owner: str | None = None) -> list[Thread]:
        """The unexpired conversations of `owner`, or of everyone (None: an administrator's view)."""
        return self.store.threads(owner, utc_now())

    def thread(self, thread_id: str, owner: str) -> Thread:
        """`owner`'s conversation; `NotFound` for an unknown, expired or someone else's one."""
        return self.store.get_thread(thread_id, owner, utc_now())

    def purge_threads(self, now: dt.datetime | None = None) -> int:
        """Delete the expired conversations; how many were deleted."""
        return self.store.purge_threads(now or utc_now())

    # --- browsing -----------------------------------------------------------------------------------------

    def documents(self) -> list[DocumentSummary]:
        return self.store.documents()

    def document(self, document_id: str) -> Document:
        return self.store.get_document(document_id)

    def changes(self, document_id: str | None = None) -> list[DocumentChange]:
        return self.store.changes(document_id)


@dataclass
class Sources:
    """What an ingest of some paths reads: guideline files, trial registry files, and the paths it will not."""

    guidelines: list[Path]
    trials: list[Path]
    problems: list[IngestError]
    literature: list[Path] = field(default_factory=list)  # PubMed records


def find_sources(paths: Iterable[Path]) -> Sources:
    """The guideline, trial and PubMed files under `paths`, and one IngestError per path that will not be read:
    missing, an unlistable folder, a folder without such files, a pipe or device, a link loop or a link out of
    `paths`. A `.xml` or `.txt` file holds PubMed records when its content says so (`is_literature_file`)."""
    suffixes = (*GUIDELINE_SUFFIXES, *TRIAL_SUFFIXES, *LITERATURE_SUFFIXES)
    found = find_files(paths, suffixes, "guideline, trial or PubMed files")
    literature = [p for p in found.files if is_literature_file(p)]
    others = [p for p in found.files if p not in literature]
    trials = [p for p in others if p.suffix.lower() in TRIAL_SUFFIXES]
    guidelines = [p for p in others if p.suffix.lower() not in TRIAL_SUFFIXES]
    return Sources(guidelines, trials, found.problems, literature)


def _claim(seen: dict[str, tuple[str, str]], document_id: str, path: Path, content_hash: str) -> None:
    """Records that `path` holds `document_id` in this run; the first file to claim an id keeps it, and a later
    one with other content is refused rather than silently replacing it or being dropped."""
    first = seen.setdefault(document_id, (str(path), content_hash))
    if first[1] != content_hash:
        raise IngestError(
            str(path),
            f"has the same document id ({document_id}) as {first[0]} but other content; not ingested "
            "(rename or remove one of them)",
        )


Record = TypeVar("Record")


def _records(
    parse: Callable[[Path], tuple[list[Record], list[IngestError]]], path: Path, report: IngestReport
) -> list[Record]:
    """The records a file of many holds; a file that cannot be read, and each record that cannot, is reported
    in `report` (the others are returned)."""
    try:
        records, errors = parse(path)
    except IngestError as ex:
        report.failed.append(IngestFailure(path=ex.path, reason=ex.reason))
        return []
    report.failed.extend(IngestFailure(path=e.path, reason=e.reason) for e in errors)
    return records
