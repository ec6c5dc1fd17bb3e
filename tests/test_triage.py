"""A question's kind is read from the sentence that asks, not from the case it describes."""

from __future__ import annotations

import pytest

from clinqa.answer.triage import QuestionKind, asked_kinds, is_yes_no, the_ask


def test_the_ask_is_the_last_sentence_with_a_question_mark() -> None:
    question = "58F, stage IIIA lung cancer, completed chemoradiation. No progression on restaging. What next?"
    assert the_ask(question) == "What next?"
    assert the_ask("Dose of cabazitaxel after docetaxel") == "Dose of cabazitaxel after docetaxel"


@pytest.mark.parametrize(
    ("question", "treated", "kind"),
    [
        # "high-risk" describes the case; the ask is about treatment.
        ("High-risk neuroblastoma in first relapse after induction. What gives the best response?", True, "treatment"),
        # "after diagnosis" describes the case; the ask is about consolidation.
        ("B-ALL relapsed 14 months after diagnosis. What consolidation before HSCT?", True, "treatment"),
        # A general ask about a patient with treatment behind them asks what to do next.
        ("22F Ewing sarcoma, second relapse after two regimens. Anything left to try?", True, "treatment"),
        # The same ask about an untreated patient keeps the kinds of the whole question.
        ("Osteosarcoma of the femur in a teenager. What is it?", False, "general"),
        ("Stage III colon cancer after resection. What is the 5-year survival?", False, "prognosis"),
        ("How is a suspected osteosarcoma biopsied?", False, "diagnosis"),
    ],
)
def test_kind_comes_from_the_ask(question: str, treated: bool, kind: str) -> None:
    assert asked_kinds(question, treated)[0] is QuestionKind(kind)


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Does adjuvant imatinib improve survival?", True),
        ("My mom has early CLL and feels fine. Wouldn't starting treatment now help her live longer?", True),
        ("Isn't surgery the better choice here?", True),
        ("72M, stage III colon cancer, resected. What adjuvant therapy?", False),
        ("Is there a role for radiation in this setting?", True),
    ],
)
def test_a_yes_no_question_is_read_from_its_asking_sentence(question: str, yes_no: bool) -> None:
    assert is_yes_no(question) is yes_no
