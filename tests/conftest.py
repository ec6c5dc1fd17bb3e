"""Shared fixtures: real files from ../shared, a real SQLite knowledge base, the real embedding model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clinqa.config import starter_corpus
from clinqa.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
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


def need_shared() -> None:
    if not OSTEOSARCOMA_HP.is_file():
        pytest.skip("../shared/data is not beside the project")


@pytest.fixture(scope="session")
def kb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge base with the seed page, a few real PDQ summaries and the starter corpus."""
    need_shared()
    path = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    engine = Engine(path)
    report = engine.ingest([SEED_PAGE, *[p for p in CORPUS_SAMPLE if p.is_file()], starter_corpus(), TRIALS_SAMPLE])
    assert not report.failed, report.failed
    engine.close()
    return path


@pytest.fixture()
def engine(kb_path: Path) -> Iterator[Engine]:
    e = Engine(kb_path)
    yield e
    e.close()
