"""Ingest bookkeeping on a real knowledge base (SQLite, or PostgreSQL with CLINQA_TEST_DB=postgres): unchanged,
changed, atomic replacement, recorded changes, schema migrations."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from clinqa.engine import Engine
from clinqa.ingest import parse_file
from clinqa.store import IntegrityViolation
from clinqa.store.db import SQLiteDatabase
from clinqa.types import ChangeKind

from .conftest import SEED_PAGE, Location, need_shared


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    need_shared()
    folder = tmp_path / "sources"
    folder.mkdir()
    return Path(shutil.copy(SEED_PAGE, folder / "recurrent-osteosarcoma-2014.txt"))


def test_seed_page_structure_is_kept(db_location: Location, seed_copy: Path) -> None:
    engine = Engine(db_location)
    report = engine.ingest([seed_copy])
    assert report.documents_added == 1 and not report.failed
    document = engine.document("recurrent-osteosarcoma-2014")
    assert document.updated is not None and document.updated.isoformat() == "2014-12-04"
    assert len(document.references) == 45
    assert any(p.section_path and p.section_path[-1] == "Lung Only Recurrence" for p in document.passages)
    levels = {c.level_of_evidence for p in document.passages for c in p.citations} - {None}
    assert {"3iiDiii", "3iiiA"} <= levels


def test_unchanged_reingest_does_nothing(db_location: Location, seed_copy: Path) -> None:
    engine = Engine(db_location)
    engine.ingest([seed_copy])
    generation = engine.store.generation()
    again = engine.ingest([seed_copy])
    assert again.documents_unchanged == 1 and again.documents_added == again.documents_updated == 0
    assert engine.store.generation() == generation
    assert len(engine.changes()) == 1


def test_changed_document_is_replaced_and_the_change_recorded(db_location: Location, seed_copy: Path) -> None:
    engine = Engine(db_location)
    engine.ingest([seed_copy])
    before = engine.document("recurrent-osteosarcoma-2014")
    text = seed_copy.read_text()
    seed_copy.write_text(text.replace("Abdominal metastases are rare", "Abdominal metastases are very rare"))
    report = engine.ingest([seed_copy])
    assert report.documents_updated == 1
    after = engine.document("recurrent-osteosarcoma-2014")
    assert after.content_hash != before.content_hash
    change = engine.changes("recurrent-osteosarcoma-2014")[-1]
    assert change.kind is ChangeKind.UPDATED and change.old_hash == before.content_hash
    assert len(change.passages_added) == len(change.passages_removed) == 1
    changed = engine.store.passages(change.passages_added)
    assert "very rare" in next(iter(changed.values())).text
    # Every other passage kept its id, so answers citing them stay valid.
    assert {p.id for p in before.passages} - set(change.passages_removed) <= {p.id for p in after.passages}
    answer = engine.ask("How late can abdominal metastases occur in osteosarcoma?")
    assert any("very rare" in s.text for s in answer.sentences())


def test_a_failed_write_leaves_the_old_version_whole(db_location: Location, seed_copy: Path) -> None:
    engine = Engine(db_location)
    engine.ingest([seed_copy])
    before = engine.document("recurrent-osteosarcoma-2014")
    broken = parse_file(seed_copy)
    # Two passages with one id violate the primary key half-way through the write.
    passages = (*broken.passages, broken.passages[0])
    with pytest.raises(IntegrityViolation):
        engine.store.put_document(broken.model_copy(update={"passages": passages, "content_hash": "x"}), {}, "m")
    assert engine.document("recurrent-osteosarcoma-2014") == before
    assert len(engine.changes()) == 1


def test_one_bad_file_does_not_stop_the_others(db_location: Location, seed_copy: Path) -> None:
    (seed_copy.parent / "broken.md").write_text("---\ntitle: [oops\n---\n\nBody text long enough for a passage.\n")
    (seed_copy.parent / "huge.txt").write_bytes(b"a" * (21 * 2**20))
    engine = Engine(db_location)
    report = engine.ingest([seed_copy.parent])
    assert report.documents_added == 1
    failed = {Path(f.path).name: f.reason for f in report.failed}
    assert set(failed) == {"broken.md", "huge.txt"}
    assert "20 MB" in failed["huge.txt"]


def test_the_same_document_at_two_paths_is_skipped_not_failed(
    db_location: Location, seed_copy: Path, tmp_path: Path
) -> None:
    shutil.copy(seed_copy, tmp_path / "recurrent-osteosarcoma-2014.txt")
    engine = Engine(db_location)
    report = engine.ingest([seed_copy, tmp_path / "recurrent-osteosarcoma-2014.txt"])
    assert report.documents_added == 1 and not report.failed and len(report.skipped) == 1


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_knowledge_base_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "not.sqlite"
    bogus.write_text("this is not a database " * 100)
    from clinqa.errors import StoreError

    with pytest.raises(StoreError, match=r"not\.sqlite"):
        Engine(bogus)


def test_a_ten_megabyte_file_without_paragraphs_is_refused_by_name(db_location: Location, seed_copy: Path) -> None:
    words = ("tumor survival patients with the osteosarcoma of and relapse chemotherapy " * 150_000).strip()
    big = seed_copy.parent / "ten-megabytes.txt"
    big.write_text(words + ".\n")
    assert big.stat().st_size > 10 * 2**20
    engine = Engine(db_location)
    report = engine.ingest([seed_copy.parent])
    assert report.documents_added == 1
    (failure,) = report.failed
    assert failure.path.endswith("ten-megabytes.txt") and "paragraph" in failure.reason


def test_an_outdated_schema_is_refused_until_migrated(db_location: Location) -> None:
    from clinqa.errors import StoreError
    from clinqa.store import SchemaOutdated, migrate_database, open_database

    Engine(db_location).close()  # a new, empty knowledge base is created at the latest schema
    db = open_database(db_location)
    # As a knowledge base from before the sessions and document-kind migrations (a PostgreSQL one keeps its others).
    db.execute("DELETE FROM schema_migrations WHERE name IN ('sessions', 'document_kind')")
    db.execute("DROP TABLE login_failures")
    db.execute("DROP TABLE web_sessions")  # as a knowledge base of the first migration has them: not at all
    db.execute("DROP INDEX documents_by_pmid")
    for column in ("kind", "pmid", "literature"):
        db.execute(f"ALTER TABLE documents DROP COLUMN {column}")
    db.close()
    with pytest.raises(SchemaOutdated, match=r"clinqa --db .* migrate"):
        Engine(db_location)
    report = migrate_database(db_location)
    assert [m.name for m in report.applied] == ["sessions", "document_kind"]
    assert migrate_database(db_location).applied == []  # nothing left to do
    Engine(db_location).close()
    db = open_database(db_location)
    db.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'now')")
    db.close()
    with pytest.raises(StoreError, match="newer than this clinqa"):
        Engine(db_location)


@pytest.mark.sqlite_only
def test_a_read_on_another_thread_does_not_wait_for_an_open_transaction(tmp_path: Path) -> None:
    # Each thread has its own SQLite connection (WAL): a page's reads do not queue behind an answer's writes.
    db = SQLiteDatabase(tmp_path / "kb.sqlite")
    db.execute("CREATE TABLE t (x INTEGER)")
    db.execute("INSERT INTO t VALUES (1)")
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(5)
    started = time.perf_counter()
    seen = [r[0] for r in db.execute("SELECT x FROM t")]
    waited = time.perf_counter() - started
    release.set()
    thread.join()
    assert seen == [1] and waited < 1.0, (seen, waited)  # the committed state, at once
    assert sorted(r[0] for r in db.execute("SELECT x FROM t")) == [1, 2]
    db.close()


def test_each_section_starts_where_the_page_first_writes_under_its_headings(db_location: Location) -> None:
    page = Path(__file__).parent / "fixtures" / "linked" / "pleural-mesothelioma-hp.md"
    engine = Engine(db_location)
    assert not engine.ingest([page]).failed
    document = engine.document("pleural-mesothelioma-hp")
    expected: dict[tuple[str, ...], str] = {}
    for p in document.passages:
        expected.setdefault(p.section_path, p.id)
    starts = engine.store.section_starts(document.id)
    assert [p.id for p in starts] == list(expected.values())
    assert [p.ordinal for p in starts] == sorted(p.ordinal for p in starts)
    engine.close()
