"""Patient-aware answers over real PDQ pages: the treatment algorithm, flags, trials, threads, audience."""

from __future__ import annotations

import re

from clinqa.answer.threads import CLI_OWNER
from clinqa.engine import Engine
from clinqa.types import Answer, AnswerStatus, FlagKind, PatientContext

from .conftest import need_shared

SEED_QUESTION = (
    "What's next for an osteosarcoma patient after 4 lines of chemo "
    "(doxorubicin, ifosfamide, dacarbazine, gemcitabine with docetaxel)?"
)
PRIOR = ["doxorubicin", "ifosfamide", "dacarbazine", "gemcitabine", "docetaxel"]


def section(answer: Answer, prefix: str) -> list[str]:
    return [s.text for sec in answer.sections if sec.title.startswith(prefix) for s in sec.sentences]


def test_seed_question_gets_a_sourced_treatment_algorithm(engine: Engine) -> None:
    answer = engine.ask(SEED_QUESTION, remember=False)
    assert answer.status is AnswerStatus.ANSWERED
    assert answer.patient is not None and answer.patient.prior_agents == PRIOR
    titles = [s.title for s in answer.sections]
    steps = [t for t in titles if t.startswith("Treatment algorithm")]
    assert steps == sorted(steps), "steps keep the guideline's order"
    for step in ("1. Clinical trial", "2. Surgery", "3a. Systemic options not yet received", "4. Local and palliative"):
        assert any(step in t for t in titles) or any(step in s.text for s in answer.bottom_line), step
    for sec in answer.sections:
        if sec.title.startswith("Treatment algorithm"):
            assert all(s.source.passage_id for s in sec.sentences)
            assert any(s.citations for s in sec.sentences), f"{sec.title} cites no reference"


def test_agents_already_received_are_flagged_and_never_offered_as_new(engine: Engine) -> None:
    answer = engine.ask(SEED_QUESTION, remember=False)
    flagged = {f.agent for f in answer.flags if f.kind is FlagKind.PREVIOUSLY_RECEIVED}
    mentioned = {a for s in answer.sentences() for a in engine.normaliser().agents(f"{s.label or ''} {s.text}")}
    assert mentioned & set(PRIOR) <= flagged, "every received agent the answer names is flagged"
    for sentence in section(answer, "Treatment algorithm: 3a"):
        agents = engine.normaliser().agents(sentence)
        assert not agents or not set(agents) <= set(PRIOR), f"only received agents, offered as new: {sentence}"
    for flag in answer.flags:
        assert flag.reason and flag.sentence in {s.text for s in answer.sentences()}


def test_ifosfamide_response_rate_is_marked_as_not_applying(engine: Engine) -> None:
    answer = engine.ask(SEED_QUESTION, remember=False)
    naive = [f for f in answer.flags if f.kind is FlagKind.POPULATION_MISMATCH and f.agent == "ifosfamide"]
    assert naive, [f.model_dump() for f in answer.flags]
    assert "not received ifosfamide" in naive[0].reason


def test_unknown_age_and_resectability_are_said(engine: Engine) -> None:
    patient = PatientContext(diagnosis="osteosarcoma", recurrent=True)
    answer = engine.ask("What are the options for recurrent osteosarcoma?", patient=patient, remember=False)
    kinds = {f.kind for f in answer.flags}
    assert FlagKind.UNKNOWN_ELIGIBILITY in kinds


def test_trials_are_listed_with_verdicts_for_the_patient(engine: Engine) -> None:
    need_shared()  # the registry sample: trials named only in guideline text are not listed (see test_answers_across)
    question = (
        "What next for a 16-year-old with a second recurrence of osteosarcoma in the lung, two resectable nodules?"
    )
    answer = engine.ask(question, remember=False)
    assert answer.patient is not None
    assert answer.patient.age == 16 and answer.patient.recurrence_number == 2 and answer.patient.resectable is True
    assert answer.trials, "trials from the registry sample and the guideline text"
    for match in answer.trials:
        assert match.id.startswith("NCT")
        assert {c.verdict for c in match.criteria} <= {"met", "not_met", "unknown"}
        assert all(c.reason for c in match.criteria)
    eligible = [m.eligible for m in answer.trials]
    assert eligible == sorted(eligible, reverse=True), "eligible trials first"


def test_a_follow_up_continues_the_thread(engine: Engine) -> None:
    first = engine.ask("What's next for a 15-year-old with relapsed osteosarcoma in the lung?")
    assert first.thread_id
    follow = engine.ask("and if the nodules are in both lungs?", thread_id=first.thread_id)
    assert follow.thread_id == first.thread_id
    assert follow.status is AnswerStatus.ANSWERED
    assert follow.patient is not None and follow.patient.age == 15 and follow.patient.bilateral is True
    thread = engine.thread(first.thread_id, CLI_OWNER)
    assert [t.question for t in thread.turns] == [first.question, follow.question]
    assert "osteosarcoma" in thread.turns[1].standalone and "both lungs" in thread.turns[1].standalone
    assert first.thread_id in {t.id for t in engine.threads()}


def test_patient_audience_prefers_patient_versions(engine: Engine) -> None:
    question = "How is osteosarcoma treated?"
    clinician = engine.ask(question, remember=False)
    patient = engine.ask(question, audience="patient", remember=False)
    assert patient.audience == "patient"
    patient_docs = {d.id for d in patient.sources if "-patient-" in d.id}
    clinician_docs = {d.id for d in clinician.sources if "-patient-" in d.id}
    assert len(patient_docs) >= len(clinician_docs)
    assert patient_docs, [d.id for d in patient.sources]


def test_contradictions_are_reported_not_chosen(engine: Engine) -> None:
    answer = engine.ask("Options for a 12-year-old adult with recurrent osteosarcoma?", remember=False)
    assert answer.patient is not None and answer.patient.conflicts


def test_patient_mode_explains_terms_from_patient_pages_and_keeps_safety(engine: Engine) -> None:
    question = "How is osteosarcoma treated and what are the side effects of treatment?"
    clinician = engine.ask(question, remember=False)
    patient = engine.ask(question, audience="patient", remember=False)
    assert patient.status is AnswerStatus.ANSWERED
    explained = [s for sec in patient.sections if sec.title == "What the terms mean" for s in sec.sentences]
    assert explained, [sec.title for sec in patient.sections]
    assert all("-patient-" in s.source.document_id for s in explained)
    safety = re.compile(r"toxicit|side effect|risk of|serious|fatal|death", re.IGNORECASE)
    patient_texts = {s.text for s in patient.sentences()}
    for sentence in clinician.sentences():
        if safety.search(sentence.text):
            assert sentence.text in patient_texts, f"safety sentence dropped for the patient: {sentence.text}"
