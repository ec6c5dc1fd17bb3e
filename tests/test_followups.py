"""Follow-up questions update the conversation's patient; another disease or patient starts afresh.
Runs on the starter corpus alone (no ../shared needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clinqa.clinical.followup import follow_up, starts_anew
from clinqa.clinical.patient import extract_patient
from clinqa.clinical.regimens import Normaliser
from clinqa.config import starter_corpus
from clinqa.engine import Engine
from clinqa.types import AnswerStatus
from tests.conftest import fresh_location

FIRST = "What's next for osteosarcoma after MAP and IE, with bone and lung metastases, unresectable?"


@pytest.fixture(scope="module")
def starter(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(fresh_location(request, tmp_path_factory.mktemp("followups")))
    assert not engine.ingest([starter_corpus()]).failed
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return Normaliser()


def test_only_in_the_lung_replaces_the_sites(normaliser: Normaliser) -> None:
    base = extract_patient(FIRST, normaliser)
    assert base.sites == ["bone", "lung"] and base.resectable is False
    text = "and if the metastases are only in the lung?"
    updated = follow_up(base, extract_patient(text, normaliser), text)
    assert updated.sites == ["lung"]
    assert updated.prior_agents == base.prior_agents, "therapies carry over"
    assert not updated.conflicts


def test_a_new_detail_replaces_the_old_one_without_a_conflict(normaliser: Normaliser) -> None:
    base = extract_patient(FIRST, normaliser)
    text = "and if the nodules became resectable?"
    updated = follow_up(base, extract_patient(text, normaliser), text)
    assert updated.resectable is True and not updated.conflicts
    assert updated.sites == base.sites, "sites the follow-up does not mention stay"


def test_another_disease_or_patient_starts_afresh(normaliser: Normaliser) -> None:
    base = extract_patient(FIRST, normaliser)
    other = "What is the first-line treatment for metastatic breast cancer?"
    assert starts_anew(base, extract_patient(other, normaliser), other)
    new_patient = "A different patient: 9-year-old with newly diagnosed osteosarcoma, what is the standard therapy?"
    assert starts_anew(base, extract_patient(new_patient, normaliser), new_patient)
    same = "and if she also had gemcitabine and docetaxel?"
    assert not starts_anew(base, extract_patient(same, normaliser), same)


def test_a_thread_carries_the_updated_patient(starter: Engine) -> None:
    first = starter.ask(FIRST)
    assert first.status is AnswerStatus.ANSWERED and first.thread_id
    second = starter.ask("and if the metastases are only in the lung?", thread_id=first.thread_id)
    assert second.patient is not None
    assert second.patient.sites == ["lung"]
    assert "ifosfamide" in second.patient.prior_agents
    third = starter.ask("What is the outlook for metastatic prostate cancer?", thread_id=first.thread_id)
    assert third.patient is None or not third.patient.prior_agents, "an unrelated question inherits no therapies"
    assert third.status is AnswerStatus.INSUFFICIENT_EVIDENCE, "the starter corpus has no prostate page"
    assert third.note and "prostate" in third.note


def test_a_patient_reader_is_told_when_no_patient_page_covers_the_answer(starter: Engine) -> None:
    answer = starter.ask(
        "My son's osteosarcoma came back in his lungs, what are his chances?", audience="patient", remember=False
    )
    assert answer.status is AnswerStatus.ANSWERED
    assert answer.note and "health professionals" in answer.note
