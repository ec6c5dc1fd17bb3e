"""Questions over real sources: facts, citations, traceability, abstention, determinism."""

from __future__ import annotations

import re
from pathlib import Path

from clinqa.answer.compose import numbers_missing
from clinqa.engine import Engine
from clinqa.types import Answer, AnswerStatus

SURVIVAL_Q = "What is the 5-year survival after complete resection of pulmonary metastases in recurrent osteosarcoma?"


def all_text(answer: Answer) -> str:
    return " ".join(s.text for s in answer.sentences())


def test_survival_question_gives_the_figures_with_their_citations(engine: Engine) -> None:
    answer = engine.ask(SURVIVAL_Q)
    assert answer.status is AnswerStatus.ANSWERED
    bottom = " ".join(s.text for s in answer.bottom_line)
    assert re.search(r"20%\s*(?:to|-|–)\s*45%", bottom), bottom
    pmids = {r.pmid for r in answer.references}
    # Kempf-Bielack (COSS) and Chou (MSKCC): the series behind the 20%-45% figure.
    assert {"15659502", "16206297"} <= pmids, pmids
    first = answer.bottom_line[0]
    assert first.citations, "the bottom line keeps the source's citations"


def test_every_sentence_is_traceable_to_its_passage(engine: Engine) -> None:
    answer = engine.ask(SURVIVAL_Q)
    passages = engine.store.passages(s.source.passage_id for s in answer.sentences())
    numbers = {r.n for r in answer.references}
    for sentence in answer.sentences():
        passage = passages[sentence.source.passage_id]
        assert passage.document_id == sentence.source.document_id
        assert sentence.text[1:] in passage.text, (sentence.text, passage.text)
        assert not numbers_missing(sentence.text, passage.text)
        assert set(sentence.citations) <= numbers
    cited = {n for s in answer.sentences() for n in s.citations}
    assert cited == numbers, "every reference listed is cited, and every citation is listed"


def test_references_resolve_to_the_source_documents_list(engine: Engine) -> None:
    answer = engine.ask(SURVIVAL_Q)
    for ref in answer.references:
        if ref.source_number is None:  # a trial's registry record, cited where the source names the trial
            assert ref.url and ref.url.startswith("https://clinicaltrials.gov/study/NCT")
            continue
        source_refs = engine.store.references(ref.document_id)
        assert source_refs[ref.source_number].text == ref.text
        assert ref.pmid is None or ref.pubmed_url == f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"


def test_sources_carry_titles_and_dates(engine: Engine) -> None:
    answer = engine.ask(SURVIVAL_Q)
    used = {s.source.document_id for s in answer.sentences()}
    assert {d.id for d in answer.sources} == used
    assert all(d.updated is not None for d in answer.sources)
    assert answer.disclaimer


def test_level_of_evidence_travels_with_the_sentence(engine: Engine) -> None:
    answer = engine.ask("What is the event-free survival for lung-only recurrence of osteosarcoma after resection?")
    assert answer.status is AnswerStatus.ANSWERED
    levels = {s.level_of_evidence for s in answer.sentences()}
    assert levels - {None}, "the PDQ passage on 5-year EFS carries a level of evidence"


def test_treatment_question_names_options_from_the_sources(engine: Engine) -> None:
    answer = engine.ask("Which chemotherapy options exist for recurrent osteosarcoma?")
    assert answer.status is AnswerStatus.ANSWERED
    text = all_text(answer).lower()
    assert "ifosfamide" in text
    assert any(drug in text for drug in ("gemcitabine", "cyclophosphamide", "regorafenib", "cabozantinib"))


def test_abbreviation_and_synonym_expansion_finds_the_passage(engine: Engine) -> None:
    answer = engine.ask("What is the EFS with gem/doc in relapsed osteosarcoma?")
    assert answer.status is AnswerStatus.ANSWERED
    assert "gemcitabine" in all_text(answer).lower()


def test_isotope_notation_finds_the_radiopharmaceutical(engine: Engine) -> None:
    # The pages write 153Sm-EDTMP or samarium-153; the question writes the symbol after the element.
    answer = engine.ask("Main toxicity of high-dose Sm-153-EDTMP in osteosarcoma?")
    assert answer.status is AnswerStatus.ANSWERED, answer.note
    assert "myelosuppression" in all_text(answer).lower() or "hematologic" in all_text(answer).lower()


def test_question_the_corpus_cannot_answer_abstains(engine: Engine) -> None:
    answer = engine.ask("What is the recommended dose of remdesivir for COVID-19 pneumonia?")
    assert answer.status is AnswerStatus.INSUFFICIENT_EVIDENCE
    assert answer.note and not answer.sentences() and not answer.references
    assert answer.disclaimer


def test_non_clinical_questions_are_out_of_scope(engine: Engine) -> None:
    for question in ("What is the capital of France?", "Write me a poem about autumn leaves"):
        answer = engine.ask(question)
        assert answer.status is AnswerStatus.OUT_OF_SCOPE, question
        assert not answer.sentences()


def test_same_corpus_and_question_give_the_same_answer(engine: Engine, answer_kb_path: Path) -> None:
    first = engine.ask(SURVIVAL_Q, remember=False).model_dump_json()
    again = Engine(answer_kb_path)
    try:
        assert again.ask(SURVIVAL_Q, remember=False).model_dump_json() == first
    finally:
        again.close()


def test_an_abbreviation_counts_only_as_the_pages_write_it(tmp_path: Path) -> None:
    # A page that defines CUP must not make "World Cup" clinical; "CUP" as written is.
    page = tmp_path / "unknown-primary.md"
    page.write_text(
        "# Carcinoma of Unknown Primary\n\n## General Information\n\n"
        "Carcinoma of unknown primary (CUP) is a metastatic cancer whose site of origin is not found after a "
        "standard work-up. Treatment of CUP depends on the clinical subset and the sites involved.\n",
        encoding="utf-8",
    )
    engine = Engine(tmp_path / "kb.sqlite")
    try:
        engine.ingest([page])
        assert engine.ask("Who won the 2018 FIFA World Cup?", remember=False).status is AnswerStatus.OUT_OF_SCOPE
        assert engine.ask("How is CUP treated?", remember=False).status is not AnswerStatus.OUT_OF_SCOPE
    finally:
        engine.close()
