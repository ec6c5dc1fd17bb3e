"""The knowledge base's SQL, written once for both backends (`?` placeholders, upserts both dialects know): one
transaction per document. The backends (sqlite.py, postgres.py) add only how they connect and how vectors travel."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from clinqa.errors import NotFound
from clinqa.packages import utc_now
from clinqa.store.db import Database
from clinqa.store.migrate import check_schema
from clinqa.types import (
    Audience,
    ChangeKind,
    Citation,
    Document,
    DocumentChange,
    DocumentSummary,
    LinkedAbstract,
    LiteratureRecord,
    Passage,
    PatientContext,
    Reference,
    Section,
    Thread,
    Trial,
    Turn,
)


class SQLStore:
    """The `Store` on a `Database`: the SQL both backends share. A backend subclass names how vectors travel."""

    _VECTOR_IN = "?"  # the placeholder of a vector written to embeddings.vector
    _VECTOR_OUT = "vector"  # the expression that reads it back

    def __init__(self, db: Database) -> None:
        self.db = db
        try:
            check_schema(db)
        except BaseException:
            db.close()
            raise

    def _vector_param(self, vector: bytes) -> object:
        """A float16 vector as the database takes it."""
        return vector

    def _vector_bytes(self, stored: Any) -> bytes:
        """A stored vector as float16 bytes."""
        return bytes(stored)

    def close(self) -> None:
        self.db.close()

    def generation(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    def document_hash(self, document_id: str) -> str | None:
        row = self.db.execute("SELECT content_hash FROM documents WHERE id=?", (document_id,)).fetchone()
        return row[0] if row else None

    def source_documents(self) -> dict[str, tuple[str, str]]:
        rows = self.db.execute("SELECT source_path, id, content_hash FROM documents")
        return {r[0]: (r[1], r[2]) for r in rows}

    def put_document(
        self, document: Document, vectors: Mapping[str, bytes], model: str, trials: Iterable[Trial] = ()
    ) -> DocumentChange:
        now = utc_now()
        with self.db.transaction():
            self._insert_trials(trials, now)
            old = self.db.execute("SELECT content_hash FROM documents WHERE id=?", (document.id,)).fetchone()
            old_ids = {r[0] for r in self.db.execute("SELECT id FROM passages WHERE document_id=?", (document.id,))}
            self.db.execute("DELETE FROM documents WHERE id=?", (document.id,))
            self._insert_document(document, now)
            self.db.executemany(
                f"INSERT INTO embeddings (text_hash, model, vector) VALUES (?, ?, {self._VECTOR_IN})"
                " ON CONFLICT DO NOTHING",
                ((h, model, self._vector_param(v)) for h, v in vectors.items()),
            )
            new_ids = {p.id for p in document.passages}
            change = DocumentChange(
                document_id=document.id,
                kind=ChangeKind.UPDATED if old else ChangeKind.ADDED,
                at=now,
                old_hash=old[0] if old else None,
                new_hash=document.content_hash,
                passages_added=tuple(sorted(new_ids - old_ids)),
                passages_removed=tuple(sorted(old_ids - new_ids)),
            )
            self.db.execute(
                "INSERT INTO document_changes (document_id, kind, at, old_hash, new_hash, passages_added,"
                " passages_removed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    change.document_id,
                    change.kind.value,
                    change.at.isoformat(),
                    change.old_hash,
                    change.new_hash,
                    json.dumps(change.passages_added),
                    json.dumps(change.passages_removed),
                ),
            )
            self.db.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key='generation'")
        return change

    def _insert_document(self, d: Document, now: dt.datetime) -> None:
        sections = json.dumps([s.model_dump(mode="json") for s in d.sections])
        self.db.execute(
            "INSERT INTO documents (id, title, url, audience, updated, source_path, format, content_hash, sections,"
            " ingested_at, kind, pmid, literature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                d.id,
                d.title,
                d.url,
                d.audience,
                d.updated.isoformat() if d.updated else None,
                d.source_path,
                d.format,
                d.content_hash,
                sections,
                now.isoformat(),
                d.kind,
                d.literature.pmid if d.literature else None,
                d.literature.model_dump_json() if d.literature else None,
            ),
        )
        self.db.insert_rows(
            "passages",
            (
                (
                    p.id,
                    d.id,
                    p.ordinal,
                    _headings(p.section_path),
                    p.kind,
                    p.text,
                    json.dumps([c.model_dump(mode="json") for c in p.citations]),
                    p.text_hash,
                )
                for p in d.passages
            ),
        )
        self.db.insert_rows(
            "doc_references",
            ((d.id, r.number, r.text, r.pmid) for r in d.references),
        )

    def get_document(self, document_id: str) -> Document:
        row = self.db.execute(
            "SELECT id, title, url, audience, updated, source_path, format, content_hash, sections, kind, literature"
            " FROM documents WHERE id=?",
            (document_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no document with id {document_id!r}")
        passages = [
            _passage(r)
            for r in self.db.execute(f"{_PASSAGE_SELECT} WHERE document_id=? ORDER BY ordinal", (document_id,))
        ]
        return Document(
            id=row[0],
            title=row[1],
            url=row[2],
            audience=row[3],
            updated=_date(row[4]),
            source_path=row[5],
            format=row[6],
            content_hash=row[7],
            sections=tuple(Section(**s) for s in json.loads(row[8])),
            passages=tuple(passages),
            references=tuple(self.references(document_id).values()),
            kind=row[9],
            literature=_literature(row[10]),
        )

    def document_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def documents(self) -> list[DocumentSummary]:
        rows = self.db.execute(
            "SELECT d.id, d.title, d.url, d.audience, d.updated,"
            " (SELECT COUNT(*) FROM passages p WHERE p.document_id = d.id),"
            " (SELECT COUNT(*) FROM doc_references r WHERE r.document_id = d.id), d.kind, d.literature"
            " FROM documents d ORDER BY d.id"
        )
        return [
            DocumentSummary(
                id=r[0],
                title=r[1],
                url=r[2],
                audience=r[3],
                updated=_date(r[4]),
                passages=r[5],
                references=r[6],
                kind=r[7],
                study_design=record.study_design if (record := _literature(r[8])) else None,
            )
            for r in rows
        ]

    def abstracts(self, pmids: Iterable[str]) -> dict[str, LinkedAbstract]:
        """The ingested PubMed records among `pmids`, by PMID: what a guideline reference citing one links to."""
        found: dict[str, LinkedAbstract] = {}
        sql = "SELECT pmid, id, literature FROM documents WHERE kind='primary_literature' AND pmid IN ({marks})"
        for r in self.db.execute_in(sql, pmids):
            record = LiteratureRecord.model_validate_json(r[2])
            found[r[0]] = LinkedAbstract(
                document_id=r[1], conclusion=record.conclusion, study_design=record.study_design
            )
        return found

    def passages(self, passage_ids: Iterable[str]) -> dict[str, Passage]:
        return {r[0]: _passage(r) for r in self.db.execute_in(_PASSAGE_SELECT + " WHERE id IN ({marks})", passage_ids)}

    def following(self, passage: Passage, limit: int) -> list[Passage]:
        return self._in_section(passage, limit, 1)

    def preceding(self, passage: Passage, limit: int) -> list[Passage]:
        return self._in_section(passage, limit, -1)

    def _in_section(self, passage: Passage, limit: int, step: int) -> list[Passage]:
        """Up to `limit` passages next to `passage` under the same headings, walking `step` (1: on, -1: back)
        until the section ends; only those rows are read (`_headings` writes and finds a section path)."""
        low, high = sorted((passage.ordinal + step, passage.ordinal + step * limit))
        rows = self.db.execute(
            f"{_PASSAGE_SELECT} WHERE document_id=? AND section_path=? AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
            (passage.document_id, _headings(passage.section_path), low, high),
        )
        by_ordinal = {r[2]: r for r in rows}
        run = []
        ordinal = passage.ordinal + step
        while ordinal in by_ordinal:
            run.append(_passage(by_ordinal[ordinal]))
            ordinal += step
        return run

    def section_starts(self, document_id: str) -> list[Passage]:
        rows = self.db.execute(
            f"{_PASSAGE_SELECT} WHERE document_id=? AND ordinal IN"
            " (SELECT MIN(ordinal) FROM passages WHERE document_id=? GROUP BY section_path) ORDER BY ordinal",
            (document_id, document_id),
        )
        return [_passage(r) for r in rows]

    def references(self, document_id: str) -> dict[int, Reference]:
        rows = self.db.execute(
            "SELECT number, text, pmid FROM doc_references WHERE document_id=? ORDER BY number",
            (document_id,),
        )
        return {r[0]: Reference(number=r[0], text=r[1], pmid=r[2]) for r in rows}

    def iter_passages(self) -> Iterator[Passage]:
        yield from (_passage(r) for r in self.db.execute(f"{_PASSAGE_SELECT} ORDER BY document_id, ordinal"))

    def embeddings(self, model: str, text_hashes: Iterable[str]) -> dict[str, bytes]:
        sql = f"SELECT text_hash, {self._VECTOR_OUT} FROM embeddings WHERE model=? AND text_hash IN ({{marks}})"
        return {r[0]: self._vector_bytes(r[1]) for r in self.db.execute_in(sql, text_hashes, before=[model])}

    def changes(self, document_id: str | None = None) -> list[DocumentChange]:
        sql = "SELECT document_id, kind, at, old_hash, new_hash, passages_added, passages_removed FROM document_changes"
        args: tuple[str, ...] = ()
        if document_id is not None:
            sql += " WHERE document_id=?"
            args = (document_id,)
        return [
            DocumentChange(
                document_id=r[0],
                kind=ChangeKind(r[1]),
                at=dt.datetime.fromisoformat(r[2]),
                old_hash=r[3],
                new_hash=r[4],
                passages_added=tuple(json.loads(r[5])),
                passages_removed=tuple(json.loads(r[6])),
            )
            for r in self.db.execute(sql + " ORDER BY id", args)
        ]

    def put_trials(self, trials: Iterable[Trial]) -> int:
        with self.db.transaction():
            return self._insert_trials(trials, utc_now())

    def _insert_trials(self, trials: Iterable[Trial], now: dt.datetime) -> int:
        rows = [(t.id, t.source, t.model_dump_json(), now.isoformat()) for t in trials]
        self.db.executemany(
            "INSERT INTO trials (id, source, record, ingested_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
            " SET source=excluded.source, record=excluded.record, ingested_at=excluded.ingested_at",
            rows,
        )
        return len(rows)

    def trials(self) -> list[Trial]:
        return [Trial.model_validate_json(r[0]) for r in self.db.execute("SELECT record FROM trials ORDER BY id")]

    def create_thread(self, audience: Audience, patient: PatientContext, owner: str, expires_at: dt.datetime) -> Thread:
        thread_id = secrets.token_hex(16)  # 128 random bits: not guessed, not enumerated
        now = utc_now()
        self.db.execute(
            "INSERT INTO threads (id, owner, created_at, expires_at, audience, patient) VALUES (?, ?, ?, ?, ?, ?)",
            (thread_id, owner, _instant(now), _instant(expires_at), audience, patient.model_dump_json()),
        )
        return Thread(id=thread_id, created_at=now, expires_at=expires_at, audience=audience, patient=patient, turns=[])

    def get_thread(self, thread_id: str, owner: str, now: dt.datetime) -> Thread:
        """The thread when `owner` owns it and it has not expired; `NotFound` otherwise (whether another owner's
        thread exists is not revealed)."""
        row = self.db.execute(
            f"{_THREAD_SELECT} WHERE id=? AND owner=? AND expires_at > ?", (thread_id, owner, _instant(now))
        ).fetchone()
        if row is None:
            raise NotFound(f"no thread with id {thread_id!r}")
        return self._thread(row)

    def _thread(self, row: tuple) -> Thread:  # type: ignore[type-arg]
        turns = [
            Turn(question=r[0], standalone=r[1], status=r[2], at=dt.datetime.fromisoformat(r[3]))
            for r in self.db.execute(
                "SELECT question, standalone, status, at FROM thread_turns WHERE thread_id=? ORDER BY n", (row[0],)
            )
        ]
        return Thread(
            id=row[0],
            created_at=dt.datetime.fromisoformat(row[1]),
            expires_at=dt.datetime.fromisoformat(row[2]),
            audience=row[3],
            patient=PatientContext.model_validate_json(row[4]),
            turns=turns,
        )

    def add_turn(self, thread_id: str, turn: Turn, patient: PatientContext) -> None:
        with self.db.transaction():
            n = self.db.execute("SELECT COUNT(*) FROM thread_turns WHERE thread_id=?", (thread_id,)).fetchone()[0]
            self.db.execute(
                "INSERT INTO thread_turns VALUES (?, ?, ?, ?, ?, ?)",
                (thread_id, n + 1, turn.question, turn.standalone, turn.status, turn.at.isoformat()),
            )
            self.db.execute("UPDATE threads SET patient=? WHERE id=?", (patient.model_dump_json(), thread_id))

    def threads(self, owner: str | None, now: dt.datetime) -> list[Thread]:
        """The unexpired threads of `owner` (of everyone: None), oldest first."""
        where, args = ("WHERE expires_at > ?", [_instant(now)])
        if owner is not None:
            where, args = (where + " AND owner=?", [*args, owner])
        rows = self.db.execute(f"{_THREAD_SELECT} {where} ORDER BY created_at, id", args).fetchall()
        return [self._thread(r) for r in rows]

    def purge_threads(self, now: dt.datetime) -> int:
        """Delete the threads expired at `now`, with their turns; how many were deleted."""
        with self.db.transaction():
            return self.db.execute("DELETE FROM threads WHERE expires_at <= ?", (_instant(now),)).rowcount


_THREAD_SELECT = "SELECT id, created_at, expires_at, audience, patient FROM threads"


def _instant(at: dt.datetime) -> str:
    """A UTC time as stored for threads: one fixed format, so the text compares as the time does."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


_PASSAGE_SELECT = "SELECT id, document_id, ordinal, section_path, kind, text, citations FROM passages"


def _headings(path: tuple[str, ...]) -> str:
    """A passage's section path as stored, and as looked up: one JSON text for one path."""
    return json.dumps(path)


def _passage(r: tuple) -> Passage:  # type: ignore[type-arg]
    return Passage(
        id=r[0],
        document_id=r[1],
        ordinal=r[2],
        section_path=tuple(json.loads(r[3])),
        kind=r[4],
        text=r[5],
        citations=tuple(Citation(**c) for c in json.loads(r[6])),
    )


def _literature(value: str | None) -> LiteratureRecord | None:
    return LiteratureRecord.model_validate_json(value) if value else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
