"""The PostgreSQL driver (psycopg 3) behind `Database`: `?` placeholders become psycopg's `%s`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg

from clinqa.errors import StoreError
from clinqa.store.db import Database, Dialect, IntegrityViolation, Rows, redacted


@lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """`?` → `%s`, a literal `%` doubled. The stores' SQL has no `?` inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase(Database):
    """One connection in autocommit mode."""

    dialect: Dialect = "postgres"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.location = redacted(url)
        try:
            self.raw = psycopg.connect(url, autocommit=True)
        except psycopg.Error as ex:
            raise StoreError(f"{self.location}: cannot connect ({ex})") from ex

    def tables(self) -> set[str]:
        rows = self._execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()", ())
        return {r[0] for r in rows}

    def close(self) -> None:
        self.raw.close()

    def _execute(self, sql: str, args: Sequence[Any]) -> Rows:
        cursor = self.raw.cursor()
        cursor.execute(to_psycopg(sql), tuple(args) or None)  # type: ignore[arg-type]
        return cursor

    def _executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        if rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(to_psycopg(sql), rows)  # type: ignore[arg-type]

    def _insert_rows(self, table: str, rows: list[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _script(self, sql: str) -> None:
        self.raw.execute(sql.encode("utf-8"))  # no parameters: sent as one simple query, several statements

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.IntegrityError as ex:
            raise IntegrityViolation(str(ex)) from ex
        except psycopg.Error as ex:
            raise StoreError(f"{self.location}: {ex}") from ex
