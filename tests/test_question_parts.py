"""A question that asks several things is read as its parts, each answered by its own best sentence."""

from __future__ import annotations

import pytest

from clinqa.answer.parts import case_weighed, part_query, question_parts
from clinqa.answer.scoring import QueryTerms
from clinqa.retrieve.expand import Expansion


@pytest.mark.parametrize(
    ("question", "case", "parts"),
    [
        (
            "Stage IIIB cervical cancer: standard treatment, and does adding pembrolizumab help?",
            "Stage IIIB cervical cancer:",
            ("standard treatment", "does adding pembrolizumab help?"),
        ),
        (
            "How heritable is prostate cancer, and what are the main risk factors?",
            "",
            ("How heritable is prostate cancer", "what are the main risk factors?"),
        ),
        (
            "Does LDCT screening reduce lung cancer deaths, and by how much?",
            "",
            ("Does LDCT screening reduce lung cancer deaths", "by how much?"),
        ),
        (
            "My mother has myeloma. Can it be cured, and how long do people live with it?",
            "My mother has myeloma.",
            ("Can it be cured", "how long do people live with it?"),
        ),
        # A clause that sets the scene is the case, not a part.
        (
            "In metastatic bladder cancer - is gemcitabine/cisplatin as effective as MVAC?",
            "In metastatic bladder cancer",
            ("is gemcitabine/cisplatin as effective as MVAC?",),
        ),
        (
            "If recurrent osteosarcoma can't be resected, can chemotherapy alone achieve control?",
            "",
            ("If recurrent osteosarcoma can't be resected, can chemotherapy alone achieve control?",),
        ),
        # A comma before a verb closes an aside: one question.
        (
            "What dose of BCG, in mg per instillation, is used for induction?",
            "",
            ("What dose of BCG, in mg per instillation, is used for induction?",),
        ),
        # "When, and how often" is one thing asked.
        (
            "Newborn of a parent with retinoblastoma: when, and how often, should the eyes be examined?",
            "Newborn of a parent with retinoblastoma:",
            ("when how often, should the eyes be examined?",),
        ),
    ],
)
def test_a_question_is_read_as_its_case_and_the_things_it_asks(
    question: str, case: str, parts: tuple[str, ...]
) -> None:
    read = question_parts(question)
    assert read.case == case.strip()
    assert read.parts == parts
    assert read.several == (len(parts) > 1)


def test_a_part_weighs_its_own_terms_fully_and_the_cases_by_half() -> None:
    q = QueryTerms(
        {"cervic": 2.0, "standard": 1.0, "treatment": 1.0, "add": 1.0, "pembrolizumab": 5.0},
        {"keytruda": 2.0},
    )
    expansions = [Expansion("pembrolizumab", "keytruda", "drug")]
    first = part_query(q, "standard treatment", "cervical cancer:", expansions)
    assert first is not None
    assert first.weights == {"cervic": 1.0, "standard": 1.0, "treatment": 1.0}
    assert "keytruda" not in first.expansion  # an expansion of another part's word
    second = part_query(q, "does adding pembrolizumab help?", "cervical cancer:", expansions)
    assert second is not None and second.weights["pembrolizumab"] == 5.0 and "keytruda" in second.expansion
    assert part_query(q, "standard treatment with pembrolizumab added", "cervical cancer", expansions) is None


def test_terms_only_the_case_names_weigh_half_those_the_question_asks() -> None:
    read = question_parts("9-year-old, spine MRI clean and CSF negative. What radiation dose is standard?")
    q = QueryTerms({"spine": 2.0, "mri": 2.0, "csf": 3.0, "radiat": 2.0, "dose": 2.0, "standard": 1.0}, {})
    weighed = case_weighed(q, read)
    assert weighed.weights == {"spine": 1.0, "mri": 1.0, "csf": 1.5, "radiat": 2.0, "dose": 2.0, "standard": 1.0}
    assert case_weighed(q, question_parts("What radiation dose is standard?")) is q  # no case: as asked
