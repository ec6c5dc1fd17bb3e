"""One connection wrapper for both backends: the stores' SQL is written once, with `?` placeholders, and runs on
SQLite and PostgreSQL alike. Transactions are explicit (`with db.transaction():`; a nested one joins the outer),
and a broken constraint is one exception type, `DuplicateKey`, whichever backend raised it."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from clinqa.config import POSTGRES_SCHEMES
from clinqa.errors import StoreError

Dialect = Literal["sqlite", "postgres"]
INSTALL_HINT = "PostgreSQL support is an optional extra: pip install 'clinqa[postgres]'"


class IntegrityViolation(StoreError):
    """A write broke a constraint of the database (a duplicate key, an append-only table)."""


class Rows(Protocol):
    """What a query returns on either backend."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


@dataclass
class Fetched:
    """A statement's rows, read in full while it held the connection: no statement stays open on a connection
    that other threads use (an open read on SQLite would pin an old snapshot and make that connection's next
    write fail at once as busy)."""

    rowcount: int
    rows: list[Any] = field(default_factory=list)

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


def is_url(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


IN_CHUNK = 500  # values in one IN list


class Database:
    """A connection in autocommit mode; `transaction()` groups writes. Subclasses adapt one driver."""

    dialect: Dialect
    location: str  # the file path, or the URL without its password
    _BEGIN = "BEGIN"

    def __init__(self) -> None:
        # Where one connection serves several threads (an in-memory SQLite database): a transaction holds the lock
        # from BEGIN to COMMIT, so another thread's statement neither joins it nor lands in the middle of it.
        self._lock = threading.RLock()
        self._depth = 0

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        with self._lock, self._errors():
            return self._execute(sql, args)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock, self._errors():
            self._executemany(sql, list(rows))

    def execute_in(self, sql: str, values: Iterable[Any], before: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of `sql`, whose `{marks}` is the placeholder list of an IN over `values` (each once), run in
        chunks of `IN_CHUNK` (the drivers' parameter limits); `before` are the parameters ahead of the list."""
        wanted = list(dict.fromkeys(values))
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            yield from self.execute(sql.replace("{marks}", ",".join("?" * len(chunk))), [*before, *chunk])

    def insert_rows(self, table: str, rows: Iterable[Sequence[Any]]) -> None:
        """Append whole rows to `table` (the fast path of an ingest: COPY on PostgreSQL)."""
        with self._lock, self._errors():
            self._insert_rows(table, list(rows))

    def script(self, sql: str) -> None:
        """Run several statements (a migration file), inside the current transaction."""
        with self._lock, self._errors():
            self._script(sql)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT, rolled back on any error; inside another transaction it is part of that one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self._errors():
                self._execute(self._BEGIN, ())
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._execute("ROLLBACK", ())
                raise
            self._depth = 0
            with self._errors():
                self._execute("COMMIT", ())

    def tables(self) -> set[str]:
        """The names of the tables in the database (in the current schema on PostgreSQL)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # --- what each driver provides -------------------------------------------------------------------------

    def _execute(self, sql: str, args: Sequence[Any]) -> Rows:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _script(self, sql: str) -> None:
        raise NotImplementedError

    def _insert_rows(self, table: str, rows: list[Sequence[Any]]) -> None:
        if rows:
            self._executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        yield


class SQLiteDatabase(Database):
    """One SQLite file in WAL mode, a connection per thread: readers never wait for one another or for a writer,
    and writers take the database's lock at BEGIN (IMMEDIATE), others waiting up to 5 s. An in-memory database
    (":memory:") is one connection the threads share, under the lock."""

    dialect: Dialect = "sqlite"
    _BEGIN = "BEGIN IMMEDIATE"

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.location = str(path)
        self._shared = self.location == ":memory:"
        self._local = threading.local()  # this thread's connection and transaction depth
        self._opened: list[sqlite3.Connection] = []
        self._opening = threading.Lock()
        if not self._shared:
            Path(self.location).parent.mkdir(parents=True, exist_ok=True)
        self._first = self._connect()  # fails here, naming the file, when it is no SQLite database

    @property
    def raw(self) -> sqlite3.Connection:
        """This thread's connection (the shared one for an in-memory database)."""
        if self._shared:
            return self._first
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(self.location, isolation_level=None, check_same_thread=False, timeout=5.0)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as ex:
            raise StoreError(f"{self.location}: not a clinqa knowledge base ({ex})") from ex
        with self._opening:
            self._opened.append(connection)
        return connection

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        if self._shared:
            return super().execute(sql, args)
        with self._errors():
            return self._execute(sql, args)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self._shared:
            return super().executemany(sql, rows)
        with self._errors():
            self._executemany(sql, list(rows))

    def insert_rows(self, table: str, rows: Iterable[Sequence[Any]]) -> None:
        if self._shared:
            return super().insert_rows(table, rows)
        with self._errors():
            self._insert_rows(table, list(rows))

    def script(self, sql: str) -> None:
        if self._shared:
            return super().script(sql)
        with self._errors():
            self._script(sql)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT on this thread's connection; inside another of this thread's, part of that one."""
        if self._shared:
            with super().transaction():
                yield
            return
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        with self._errors():
            self._execute(self._BEGIN, ())
        self._local.depth = 1
        try:
            yield
        except BaseException:
            self._local.depth = 0
            self._execute("ROLLBACK", ())
            raise
        self._local.depth = 0
        with self._errors():
            self._execute("COMMIT", ())

    def tables(self) -> set[str]:
        return {r[0] for r in self.raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def close(self) -> None:
        with self._opening:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()

    def _execute(self, sql: str, args: Sequence[Any]) -> Rows:
        cursor = self.raw.execute(sql, args)
        return Fetched(cursor.rowcount, cursor.fetchall() if cursor.description else [])

    def _executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def _script(self, sql: str) -> None:
        # executescript would COMMIT first; statement by statement keeps the migration in its transaction.
        for statement in split_statements(sql):
            self.raw.execute(statement)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as ex:
            raise IntegrityViolation(str(ex)) from ex
        except sqlite3.DatabaseError as ex:
            raise StoreError(f"{self.location}: {ex}") from ex


def split_statements(sql: str) -> list[str]:
    """The statements of a SQLite script (`sqlite3.complete_statement` knows where a trigger body ends)."""
    statements, pending = [], ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(s.strip().startswith("--") or not s.strip() for s in pending.splitlines()):
        raise StoreError(f"an incomplete statement at the end of a script: {pending.strip()[:80]}")
    return statements


def open_database(location: Path | str) -> Database:
    """A SQLite file, or a PostgreSQL database given by a postgresql:// URL."""
    if is_url(location):
        try:
            from clinqa.store.pg import PostgresDatabase
        except ImportError as ex:  # psycopg is an optional dependency
            raise StoreError(f"{redacted(str(location))}: {INSTALL_HINT} ({ex})") from ex
        return PostgresDatabase(str(location))
    return SQLiteDatabase(location)
