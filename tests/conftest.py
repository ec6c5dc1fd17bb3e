"""Shared fixtures: real files from ../shared, a real SQLite knowledge base, the real embedding model.

The core answer tests (`engine`, `answer_kb_path`) fall back to the starter corpus and clinqa's own fixture pages
(`tests/fixtures/pages/`) when ../shared is not beside the project; `CLINQA_TEST_SHARED` points elsewhere (a path
that does not exist runs the suite as a checkout without ../shared would).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinqa.config import starter_corpus
from clinqa.engine import Engine

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


def have_shared() -> bool:
    return OSTEOSARCOMA_HP.is_file()


def need_shared() -> None:
    if not have_shared():
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


@pytest.fixture(scope="session")
def answer_kb_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The knowledge base of the core answer tests: `kb_path` with ../shared; without it, the starter corpus
    (recurrent osteosarcoma) and the fixture pages (nine more cancers and an osteosarcoma patient version)."""
    if have_shared():
        path: Path = request.getfixturevalue("kb_path")
        return path
    path = tmp_path_factory.mktemp("kb-fixtures") / "kb.sqlite"
    engine = Engine(path)
    report = engine.ingest([starter_corpus(), FIXTURE_PAGES])
    assert not report.failed, report.failed
    engine.close()
    return path


@pytest.fixture()
def engine(answer_kb_path: Path) -> Iterator[Engine]:
    e = Engine(answer_kb_path)
    yield e
    e.close()
