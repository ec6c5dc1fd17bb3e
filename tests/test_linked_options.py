"""A guideline's option lists often name each option in a few words linked to the section holding its evidence
("- [Nivolumab](#_21)."): the item is content, not navigation, and a "what next" answer offers it with what its
study found. The fixture page is written for these tests, laid out as PDQ treatment pages are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clinqa.engine import Engine
from clinqa.ingest import parse_file
from clinqa.types import Answer, AnswerStatus

from .conftest import fresh_location

PAGE = Path(__file__).parent / "fixtures" / "linked" / "pleural-mesothelioma-hp.md"
QUESTION = "Pleural mesothelioma progressing after cisplatin and pemetrexed: what are the next options?"


def test_list_items_that_link_to_their_section_are_passages_and_navigation_is_not() -> None:
    texts = [p.text for p in parse_file(PAGE).passages]
    assert "Nivolumab." in texts
    assert "Gemcitabine with ramucirumab." in texts
    assert not [t for t in texts if "Patient Version" in t]


@pytest.fixture(scope="module")
def answer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Answer]:
    engine = Engine(fresh_location(request, tmp_path_factory.mktemp("linked")))
    report = engine.ingest([PAGE])
    assert not report.failed, report.failed
    yield engine.ask(QUESTION, remember=False)
    engine.close()


def step(answer: Answer, title_part: str) -> list[str]:
    return [s.text for sec in answer.sections if title_part in sec.title for s in sec.sentences]


def test_a_linked_option_is_offered_with_the_finding_of_its_evidence_section(answer: Answer) -> None:
    assert answer.status is AnswerStatus.ANSWERED
    new = step(answer, "not yet received")
    assert "Nivolumab." in new
    finding = new[new.index("Nivolumab.") + 1]
    assert "10.2 months" in finding  # the result of its own section, not the first-line one
    assert "Gemcitabine with ramucirumab." in new
    assert any("13.8 months" in t for t in new)
    bottom = " ".join(s.text for s in answer.bottom_line)
    assert "10.2 months" in bottom or "13.8 months" in bottom


def test_options_for_untreated_patients_or_received_agents_are_not_offered_as_new(answer: Answer) -> None:
    new = step(answer, "not yet received")
    assert not [t for t in new if "not received previous systemic therapy" in t]
    assert "Pemetrexed." not in new
    assert "Pemetrexed." in step(answer, "already received")
