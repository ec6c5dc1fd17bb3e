"""The storage protocol every backend implements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from clinqa.types import (
    Audience,
    Document,
    DocumentChange,
    DocumentSummary,
    LinkedAbstract,
    Passage,
    PatientContext,
    Reference,
    Thread,
    Trial,
    Turn,
)


class Store(Protocol):
    def close(self) -> None: ...

    def generation(self) -> int:
        """A counter bumped by every change of the corpus; derived indexes record the one they reflect."""
        ...

    def document_hash(self, document_id: str) -> str | None: ...

    def source_documents(self) -> dict[str, tuple[str, str]]:
        """Source path -> (document id, content hash) of every stored document: lets re-ingest skip unchanged
        files unparsed, and still know which document id each one claims."""
        ...

    def put_document(
        self, document: Document, vectors: Mapping[str, bytes], model: str, trials: Iterable[Trial] = ()
    ) -> DocumentChange:
        """Insert or atomically replace a document (with its passages' new vectors and the trials it names, in
        the same transaction) and record the change."""
        ...

    def get_document(self, document_id: str) -> Document: ...

    def documents(self) -> list[DocumentSummary]: ...

    def document_count(self) -> int:
        """How many documents are stored (one query, for health checks and the empty-knowledge-base message)."""
        ...

    def passages(self, passage_ids: Iterable[str]) -> dict[str, Passage]: ...

    def following(self, passage: Passage, limit: int) -> list[Passage]:
        """Up to `limit` passages that come right after `passage` in its section (its document, under the same
        headings), nearest first; none past the section's end."""
        ...

    def preceding(self, passage: Passage, limit: int) -> list[Passage]:
        """Up to `limit` passages right before `passage` in its section, nearest first; none past the section's
        start."""
        ...

    def section_starts(self, document_id: str) -> list[Passage]:
        """The first passage of each section of a document (each heading path), in page order."""
        ...

    def references(self, document_id: str) -> dict[int, Reference]: ...

    def abstracts(self, pmids: Iterable[str]) -> dict[str, LinkedAbstract]: ...

    def iter_passages(self) -> Iterator[Passage]:
        """Every passage, in a stable order (document id, ordinal)."""
        ...

    def embeddings(self, model: str, text_hashes: Iterable[str]) -> dict[str, bytes]: ...

    def changes(self, document_id: str | None = None) -> list[DocumentChange]: ...

    def put_trials(self, trials: Iterable[Trial]) -> int:
        """Insert or replace trial records (one transaction); returns how many were written."""
        ...

    def trials(self) -> list[Trial]: ...

    def create_thread(self, audience: Audience, patient: PatientContext, owner: str, expires_at: dt.datetime) -> Thread:
        """A new conversation of `owner`'s, with a random 128-bit id, kept until `expires_at`."""
        ...

    def get_thread(self, thread_id: str, owner: str, now: dt.datetime) -> Thread:
        """`NotFound` unless the thread exists, is `owner`'s and has not expired at `now`."""
        ...

    def add_turn(self, thread_id: str, turn: Turn, patient: PatientContext) -> None:
        """Append a turn and store the patient context as of it."""
        ...

    def threads(self, owner: str | None, now: dt.datetime) -> list[Thread]:
        """The unexpired threads of `owner`, or of everyone (None)."""
        ...

    def purge_threads(self, now: dt.datetime) -> int:
        """Delete the threads expired at `now`; how many."""
        ...
