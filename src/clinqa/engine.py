"""The engine facade: the one object the CLI and the web layer talk to."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clinqa.answer.answerer import Answerer
from clinqa.errors import IngestError
from clinqa.ingest import discover, parse_file
from clinqa.retrieve.dense import Encoder, encoder, model_name
from clinqa.retrieve.index import (
    SearchIndex,
    VectorSource,
    build_index,
    embedding_key,
    embedding_text,
    load_index,
    save_index,
)
from clinqa.retrieve.retriever import HybridRetriever, RetrievalConfig
from clinqa.store import SQLiteStore, Store
from clinqa.types import Answer, Document, DocumentChange, DocumentSummary, IngestFailure, IngestReport

Progress = Callable[[Path], None]


@dataclass
class Engine:
    """Ingest sources and answer questions over one knowledge base."""

    db_path: Path
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    model: str = field(default_factory=model_name)

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        self.store: Store = SQLiteStore(self.db_path)
        self._index: SearchIndex | None = None
        self._answerer: Answerer | None = None

    @property
    def index_dir(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".index")

    def close(self) -> None:
        self.store.close()

    # --- ingest -------------------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders. A file that fails is reported and the rest still go in."""
        started = time.perf_counter()
        report = IngestReport()
        existing = []
        for path in map(Path, paths):
            if path.exists():
                existing.append(path)
            else:  # reported, and the other paths still go in
                report.failed.append(IngestFailure(path=str(path), reason="no such file or directory"))
        files = list(discover(existing))
        known = self.store.source_hashes()
        seen: dict[str, str] = {}
        for path in files:
            try:
                self._ingest_file(path, known, seen, report)
            except IngestError as ex:
                report.failed.append(IngestFailure(path=ex.path, reason=ex.reason))
            if progress:
                progress(path)
        if report.documents_added or report.documents_updated or self._stale():
            self.refresh_index()
        report.seconds = time.perf_counter() - started
        return report

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

    def _ingest_file(self, path: Path, known: dict[str, str], seen: dict[str, str], report: IngestReport) -> None:
        digest = _file_hash(path)
        if known.get(str(path)) == digest:
            report.documents_unchanged += 1
            return
        document = parse_file(path)
        if document.id in seen:
            reason = f"same document (id {document.id}) as {seen[document.id]}, ingested from there"
            report.skipped.append(IngestFailure(path=str(path), reason=reason))
            return
        seen[document.id] = str(path)
        self._store_document(document, report)

    def _store_document(self, document: Document, report: IngestReport) -> None:
        if self.store.document_hash(document.id) == document.content_hash:
            report.documents_unchanged += 1
            return
        change = self.store.put_document(document, self._new_vectors(document), self.model)
        if change.old_hash is None:
            report.documents_added += 1
        else:
            report.documents_updated += 1
        report.passages += len(document.passages)
        report.references += len(document.references)

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
        return load_index(self.index_dir, self.store.generation(), self.model) is None

    def refresh_index(self) -> SearchIndex:
        generation = self.store.generation()
        index = build_index(
            self.store,
            self.model,
            VectorSource(self.store, self.model, lambda t: self._encoder().encode(t)),
            generation,
        )
        save_index(index, self.index_dir)
        self._index, self._answerer = index, None
        return index

    def index(self) -> SearchIndex:
        generation = self.store.generation()
        if self._index is None or self._index.generation != generation:
            self._index = load_index(self.index_dir, generation, self.model) or self.refresh_index()
            self._answerer = None
        return self._index

    # --- questions ----------------------------------------------------------------------------------------

    def answerer(self) -> Answerer:
        index = self.index()
        if self._answerer is None:
            retriever = HybridRetriever(index, self.query_encoder(), self.retrieval)
            self._answerer = Answerer(
                index=index,
                retriever=retriever,
                store=self.store,
                documents={d.id: d for d in self.store.documents()},
            )
        return self._answerer

    def ask(self, question: str) -> Answer:
        return self.answerer().ask(question.strip())

    # --- browsing -----------------------------------------------------------------------------------------

    def documents(self) -> list[DocumentSummary]:
        return self.store.documents()

    def document(self, document_id: str) -> Document:
        return self.store.get_document(document_id)

    def changes(self, document_id: str | None = None) -> list[DocumentChange]:
        return self.store.changes(document_id)


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as ex:
        raise IngestError(str(path), f"cannot read ({ex.strerror})") from ex
