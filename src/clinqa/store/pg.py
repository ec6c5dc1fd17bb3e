"""The PostgreSQL driver (psycopg 3) behind `Database`: `?` placeholders become psycopg's `%s`. The threads of a
server worker share a small pool of connections (psycopg_pool): a statement borrows one for as long as it runs,
and a transaction keeps one for its thread from BEGIN to COMMIT, so one thread's transaction never holds up
another thread's reads."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from clinqa.errors import StoreError
from clinqa.settings import settings
from clinqa.store.db import Database, Dialect, Fetched, IntegrityViolation, Rows, redacted

CONNECT_TIMEOUT_S = 10.0


@lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """`?` → `%s`, a literal `%` doubled. The stores' SQL has no `?` inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase(Database):
    """A pool of connections in autocommit mode (`store.pool_size` at most)."""

    dialect: Dialect = "postgres"

    def __init__(self, url: str, pool_size: int | None = None) -> None:
        super().__init__()
        self.location = redacted(url)
        self._pinned = threading.local()  # the connection of this thread's open transaction
        size = pool_size or settings().store.pool_size
        self.pool = ConnectionPool(
            url, min_size=1, max_size=size, kwargs={"autocommit": True}, open=False, timeout=CONNECT_TIMEOUT_S
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except (psycopg.Error, PoolTimeout) as ex:
            self.pool.close()
            raise StoreError(f"{self.location}: cannot connect ({ex})") from ex

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        with self._connection() as connection, self._errors():
            cursor = connection.execute(to_psycopg(sql), tuple(args) or None)  # type: ignore[arg-type]
            return Fetched(cursor.rowcount, cursor.fetchall() if cursor.description else [])

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with self._connection() as connection, self._errors(), connection.cursor() as cursor:
                cursor.executemany(to_psycopg(sql), rows)  # type: ignore[arg-type]

    def insert_rows(self, table: str, rows: Iterable[Sequence[Any]]) -> None:
        """Append whole rows by COPY (the fast path of an ingest), on this thread's transaction's connection."""
        rows = list(rows)
        if not rows:
            return
        with (
            self._connection() as connection,
            self._errors(),
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def script(self, sql: str) -> None:
        with self._connection() as connection, self._errors():
            connection.execute(sql.encode("utf-8"))  # no parameters: sent as one simple query, several statements

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._pinned, "connection", None) is not None:
            yield  # part of this thread's open transaction
            return
        with self._borrowed() as connection:
            self._pinned.connection = connection
            try:
                with self._errors(), connection.transaction():
                    yield
            finally:
                self._pinned.connection = None

    def tables(self) -> set[str]:
        rows = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {r[0] for r in rows}

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's transaction's connection, else one borrowed for one statement."""
        pinned = getattr(self._pinned, "connection", None)
        if pinned is not None:
            yield pinned
            return
        with self._borrowed() as connection:
            yield connection

    @contextmanager
    def _borrowed(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.pool.connection() as connection:
                yield connection
        except PoolTimeout as ex:
            raise StoreError(f"{self.location}: no free connection ({ex})") from ex

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.IntegrityError as ex:
            raise IntegrityViolation(str(ex)) from ex
        except psycopg.Error as ex:
            raise StoreError(f"{self.location}: {ex}") from ex
