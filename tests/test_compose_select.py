"""Selecting the bottom line never fails, whatever the candidates' scores (a best score below zero once raised
IndexError and a 500), and an ordinary question on a two-page knowledge base is answered or refused, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from clinqa.answer.compose import Candidate, ComposeLimits, rank_candidates, select
from clinqa.answer.scoring import coverage, weigh_terms
from clinqa.answer.sentences import split_passage
from clinqa.answer.triage import QuestionKind
from clinqa.cli import cli
from clinqa.config import starter_corpus
from clinqa.types import Passage
from tests.conftest import fresh_location

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pages"


def _passage(
    document: str, text: str, section: str = "Treatment", ordinal: int = 0, kind: str = "paragraph"
) -> Passage:
    return Passage(
        id=f"{document}#{ordinal}",
        document_id=document,
        ordinal=ordinal,
        section_path=(section,),
        kind=kind,
        text=text,
        citations=(),
    )


def _candidates(scores: list[float]) -> list[Candidate]:
    text = " ".join(f"Sentence number {i} says something about treatment." for i in range(len(scores)))
    passage = _passage("d", text)
    sentences = split_passage(passage)
    return [
        Candidate(s, frozenset({f"t{i}"}), 0.5, score)
        for i, (s, score) in enumerate(zip(sentences, scores, strict=True))
    ]


def test_negative_scores_still_give_a_bottom_line() -> None:
    bottom, body = select(_candidates([-0.2, -0.3, -0.9]), ComposeLimits())
    assert bottom and bottom[0].score == -0.2
    assert all(c not in bottom for c in body)


def test_no_candidates_give_nothing() -> None:
    assert select([], ComposeLimits()) == ([], [])


def test_a_two_page_knowledge_base_answers_without_a_traceback(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    db = str(fresh_location(request, tmp_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db, "ingest", str(starter_corpus()), str(FIXTURES / "ewing-sarcoma-hp.md")])
    assert result.exit_code == 0, result.output
    asked = runner.invoke(cli, ["--db", db, "ask", "--json", "What do osteosarcoma patients receive before surgery?"])
    assert asked.exit_code == 0, asked.output
    assert asked.exception is None


def test_a_trial_design_stating_the_dose_leads_a_dose_question() -> None:
    # A trial's design usually ranks below its findings; for a dose question it is where the dose is stated.
    passage = Passage(
        id="hcc#1",
        document_id="hcc",
        ordinal=0,
        section_path=("Treatment of advanced disease", "Multikinase inhibitors"),
        kind="paragraph",
        text=(
            "Patients were randomly assigned to receive drugx at 10 mg daily or drugy at 200 mg twice daily. "
            "Median overall survival with drugx was 13 months, compared with 12 months with drugy."
        ),
        citations=(),
    )
    q = weigh_terms(["drugx"], [], [], {"drugx": 3.0}, 0.5)
    dose = rank_candidates([(1.0, passage)], {}, q, [QuestionKind.DOSE], lambda _d: 1.0)
    outcome = rank_candidates([(1.0, passage)], {}, q, [QuestionKind.PROGNOSIS], lambda _d: 1.0)
    assert "10 mg" in dose[0].sentence.text
    assert "10 mg" not in outcome[0].sentence.text


def test_a_reworded_term_covers_the_question_term_it_spells_out() -> None:
    # "chemo" is shorthand for chemotherapy: a sentence that says "chemotherapy" covers it fully, not at the
    # half weight of an expansion, and the one-word expansion does not count a second time.
    idf = {"chemo": 3.0, "local": 1.5, "chemotherapi": 1.7}
    plain = weigh_terms(["chemo", "local"], ["chemotherapi"], [], idf, 0.5)
    reworded = weigh_terms(
        ["chemo", "local"], ["chemotherapi"], [], idf, 0.5, {"chemo": (frozenset({"chemotherapi"}),)}
    )
    sentence = {"local", "chemotherapi", "standard"}
    assert coverage(reworded, sentence, set()) == 1.0
    assert coverage(plain, sentence, set()) < 0.8
    assert coverage(reworded, {"local"}, set()) == coverage(plain, {"local"}, set())


def test_a_two_cell_table_row_reads_as_its_description_under_its_name() -> None:
    def sentences(text: str) -> list[tuple[str | None, str]]:
        passage = Passage(
            id="d#2", document_id="d", ordinal=1, section_path=("Staging",), kind="paragraph", text=text, citations=()
        )
        return [(s.label, s.text) for s in split_passage(passage)]

    row = "Stage III | Lymphocytosis and anemia (hemoglobin below 11 g/dL), with or without enlarged nodes."
    assert sentences(row) == [
        ("Stage III", "Lymphocytosis and anemia (hemoglobin below 11 g/dL), with or without enlarged nodes.")
    ]
    # A header row, or a row of several short cells, is not prose: it stays one unreadable unit.
    assert sentences("Stage | Description") == [(None, "Stage | Description")]
    assert sentences("IIIA | T1a | N2 | M0") == [(None, "IIIA | T1a | N2 | M0")]


def test_a_shorthand_the_pages_never_use_weighs_what_its_wording_weighs() -> None:
    # "chemo" is not a word of the pages; "chemotherapy" is: the question's "chemo" must not weigh nothing.
    idf = {"chemotherapi": 1.2, "ewing": 4.0}
    q = weigh_terms(["chemo", "ewing"], [], [], idf, 0.5, {"chemo": (frozenset({"chemotherapi"}),)})
    assert q.weights == {"chemo": 1.2, "ewing": 4.0}
    assert coverage(q, {"chemotherapi", "ewing"}, set()) == 1.0


def test_a_list_of_open_questions_answers_nothing() -> None:
    # "The following questions remain:" lists what the sources do not know; neither it nor its items answer.
    lead_in = "Sentinel lymph node biopsy stages the nodal basin. The following questions remain:"
    items = (
        "Should every positive sentinel lymph node biopsy be followed by nodal surgery?",
        "Should small tumors routinely undergo sentinel lymph node biopsy?",
    )
    evidence = [
        (1.0, _passage("mcc", text, "Nodal basin", n, "list_item" if n else "paragraph"))
        for n, text in enumerate((lead_in, *items))
    ]
    q = weigh_terms(["sentinel", "node", "biopsi"], [], [], {"sentinel": 3.0, "node": 1.0, "biopsi": 1.0}, 0.5)
    ranked = rank_candidates(evidence, {}, q, [QuestionKind.TREATMENT], lambda _d: 1.0)
    assert [c.sentence.text for c in ranked] == ["Sentinel lymph node biopsy stages the nodal basin."]


def test_the_sentence_before_tells_what_a_sentence_speaks_of() -> None:
    # "Median survival is about 10 months." says nothing of RAEB-2 by itself: the sentence before does. It ranks
    # by both, but whether the question is answered is judged on the sentence alone.
    text = "RAEB-2 is characterized by 10% to 19% blasts in the marrow. Median survival is about 10 months."
    passage = _passage("mds", text, "Cellular classification")
    q = weigh_terms(["raeb", "median", "surviv"], [], [], {"raeb": 4.0, "median": 1.0, "surviv": 1.0}, 0.5)
    survival = next(
        c
        for c in rank_candidates([(1.0, passage)], {}, q, [QuestionKind.PROGNOSIS], lambda _d: 1.0, before=True)
        if "10 months" in c.sentence.text
    )
    assert survival.covers < survival.coverage
    assert survival.covers == coverage(q, set(survival.terms), {"cellular", "classif"})
