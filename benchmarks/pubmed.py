"""PubMed ingest speed: the 616 real records of ../shared/data/pubmed into a fresh SQLite knowledge base.

    python -m benchmarks.pubmed

Prints records/s for parsing alone (the three formats read into Documents) and for the whole ingest (parse, embed
the abstract passages with the configured model, store each record in its own transaction, rebuild the index),
then records/s for a second ingest of the same files, where every record is unchanged and nothing is embedded.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import DATA, machine, require
from clinqa.engine import Engine, find_sources
from clinqa.ingest.pubmed import parse_literature


def main() -> None:
    folder = require(DATA / "pubmed")
    files = find_sources([folder]).literature
    started = time.perf_counter()
    records = sum(len(docs) + len(errors) for docs, errors in map(parse_literature, files))
    parsed = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "kb.sqlite")
        first = engine.ingest(files)
        again = engine.ingest(files)
        engine.close()
    print(machine())
    print(f"{records} records in {len(files)} files; {first.passages} abstract passages; {len(first.failed)} failed")
    print(f"parse only:     {records / parsed:8.0f} records/s ({parsed:.2f} s)")
    print(f"first ingest:   {records / first.seconds:8.0f} records/s ({first.seconds:.1f} s, embedding included)")
    print(f"second ingest:  {records / again.seconds:8.0f} records/s ({again.seconds:.1f} s, all unchanged)")


if __name__ == "__main__":
    main()
