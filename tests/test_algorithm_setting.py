"""A section's treatment setting is its most specific heading's, and a systemic option offers something."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Literal

import pytest

from clinqa.answer.algorithm import (
    NOT_YET_RECEIVED,
    STUDIES,
    AlgorithmStep,
    Line,
    TreatmentAlgorithm,
    fit_for_patient,
    for_resected_disease,
    named_settings,
    not_offered,
    open_options,
    recommendations,
    section_setting,
    section_setting_weight,
)
from clinqa.answer.compose import Candidate
from clinqa.answer.filters import offers_a_treatment
from clinqa.answer.sentences import SourceSentence, split_passage
from clinqa.answer.topic import Topic, TopicFit
from clinqa.clinical.regimens import Normaliser
from clinqa.types import Citation, Passage, PatientContext


def _passage(*path: str) -> Passage:
    return Passage(
        id="d#1", document_id="d", ordinal=0, section_path=path, kind="paragraph", text="Text.", citations=()
    )


@pytest.mark.parametrize(
    ("path", "setting"),
    [
        (("Treatment of Stage IV and Recurrent Kidney Cancer", "First-Line Therapy"), "first"),
        (("Treatment of Stage IV and Recurrent Kidney Cancer", "Second-Line Therapy"), "later"),
        (("Treatment of Recurrent Osteosarcoma", "Chemotherapy"), "later"),
        (("Treatment of Localized Osteosarcoma", "Surgery"), "first"),
        (("General Information", "Prognosis"), None),
        (("Treatment of Multiple Myeloma", "Maintenance Therapy After Transplant"), "first"),
        (("Treatment of Recurrent Ovarian Cancer", "Maintenance Therapy"), "later"),
    ],
)
def test_the_most_specific_heading_names_the_setting(path: tuple[str, ...], setting: str | None) -> None:
    assert section_setting(_passage(*path)) == setting


@pytest.mark.parametrize(
    ("sentence", "offers"),
    [
        ("Cabozantinib is approved for patients previously treated with a VEGF inhibitor.", True),
        ("Lurbinectedin is another option for recurrent disease.", True),
        ("Ifosfamide has been active in one-third of patients who had not received it.", True),
        ("Agent X, a bispecific CD20-directed T-cell engager, may also be used in this setting.", True),
        ("At least one of the trial drugs was discontinued in 19.7% of patients.", False),
        ("Everolimus inhibits mTOR, a kinase downstream of PI3K.", False),
    ],
)
def test_a_systemic_option_advises_or_reports_a_benefit(sentence: str, offers: bool) -> None:
    assert offers_a_treatment(sentence) is offers


@pytest.mark.parametrize(
    ("path", "resected"),
    [
        (("Treatment of Stage IIIA NSCLC", "Treatment Options for Resected/Resectable Stage IIIA", "Surgery"), True),
        (("Treatment Options for Unresectable Stage IIIA NSCLC", "Chemoradiation therapy"), False),
        (("Treatment of Stage II Colon Cancer", "Adjuvant chemotherapy"), True),
        (("Treatment of Recurrent Disease", "Chemotherapy"), False),
    ],
)
def test_sections_on_resected_disease_are_told_apart(path: tuple[str, ...], resected: bool) -> None:
    assert for_resected_disease(_passage(*path)) is resected


def test_a_listed_option_for_patients_after_a_received_agent_is_still_offered() -> None:
    def sentence(text: str, kind: str = "list_item") -> SourceSentence:
        passage = Passage(id=text, document_id="d", ordinal=0, section_path=("x",), kind=kind, text=text, citations=())
        return split_passage(passage)[0]

    lead = sentence("Treatment options for second-line therapy include:", "paragraph")
    items = (
        sentence("Lenvatinib plus everolimus (for patients previously treated with sunitinib, or cabozantinib)."),
        sentence("Cabozantinib (for patients previously treated with sunitinib)."),
        sentence("Belzutifan."),
    )
    listed = Candidate(lead, frozenset(), 0.5, 1.0, items)
    (offered,) = open_options([listed], ["cabozantinib", "pembrolizumab"], Normaliser().agents)
    # Cabozantinib itself was received; lenvatinib plus everolimus only follows it, and belzutifan is new.
    assert [x.text.split(" (")[0] for x in offered.items] == ["Lenvatinib plus everolimus", "Belzutifan."]


def _candidate(text: str, score: float = 1.0) -> Candidate:
    passage = Passage(
        id=text, document_id="d", ordinal=0, section_path=("x",), kind="paragraph", text=text, citations=()
    )
    return Candidate(split_passage(passage)[0], frozenset(), 0.5, score)


def test_evidence_for_patients_who_cannot_have_a_transplant_comes_first() -> None:
    transplant = _candidate("Allogeneic transplant results in lower relapse rates in fit patients.", 1.0)
    plain = _candidate("Bendamustine has activity in relapsed disease.", 0.9)
    unfit = _candidate("Checkpoint inhibitors are useful for older patients with comorbidities that preclude SCT.", 0.8)
    ranked = fit_for_patient([transplant, plain, unfit], ["transplant"])
    assert [c.sentence.text for c in ranked] == [unfit.sentence.text, plain.sentence.text, transplant.sentence.text]
    assert fit_for_patient([transplant, plain], []) == [transplant, plain]


@pytest.mark.parametrize(
    ("sentence", "later", "first"),
    [
        ("FOLFIRINOX is considered standard first-line therapy for metastatic pancreatic cancer.", False, True),
        ("Irinotecan sucrosofate improved OS after progression on first-line gemcitabine.", True, True),
        ("Trastuzumab deruxtecan is approved for patients previously treated with trastuzumab.", True, True),
        ("Cabazitaxel is an option for second-line therapy of mCRPC.", True, False),
    ],
)
def test_a_sentence_placing_its_option_in_another_line_is_not_offered(sentence: str, later: bool, first: bool) -> None:
    assert Line(later=True).admits_sentence(sentence) is later
    assert Line(first=True).admits_sentence(sentence) is first


def _graded(text: str, level: str | None = None) -> Candidate:
    citations = (Citation(offset=len(text), numbers=(1,), level_of_evidence=level),) if level else ()
    passage = Passage(
        id=text, document_id="d", ordinal=0, section_path=("x",), kind="paragraph", text=text, citations=citations
    )
    return Candidate(split_passage(passage)[0], frozenset(), 0.5, 1.0)


def _algorithm(
    sentences_after: Callable[[SourceSentence], Iterable[SourceSentence]] = lambda _s: (),
) -> TreatmentAlgorithm:
    """An algorithm over no pages: what it does with candidates it is given."""
    return TreatmentAlgorithm(
        search=lambda _text: [],
        titles={},
        weights={},
        agents_of=Normaliser().agents,
        authority=lambda _doc: 1.0,
        fit=TopicFit(Topic(None, None), {}),
        sentences_after=sentences_after,
    )


def test_the_bottom_line_offers_distinct_new_agents_and_no_negative_study() -> None:
    topotecan = _graded("Topotecan is a standard option for recurrent disease.")
    topotecan_again = _graded("Palliation of symptoms was better with topotecan.", "A3")
    lurbinectedin = _graded("Lurbinectedin is another option.")
    negative = _graded("Nivolumab showed no activity in recurrent disease.")
    steps = [
        AlgorithmStep(NOT_YET_RECEIVED, [topotecan, topotecan_again, lurbinectedin]),
        AlgorithmStep(STUDIES, [negative]),
    ]
    chosen = [c.sentence.text for c in recommendations(steps, Normaliser().agents)]
    assert chosen == [topotecan.sentence.text, lurbinectedin.sentence.text]
    # With no option listed, what studies found may stand in for one; a negative result never does.
    assert recommendations([AlgorithmStep(STUDIES, [negative])], Normaliser().agents) == []


def test_randomised_evidence_leads_the_options_not_yet_received() -> None:
    listed = _graded("Megestrol is an option.")
    observational = _graded("Bevacizumab produced responses in 13.5% of patients.", "C3")
    randomised = _graded("Median OS was 18.7 months with lenvatinib and pembrolizumab.", "A1")
    new = _algorithm()._split_systemic([listed, observational, randomised], PatientContext())[0]
    assert new.title == NOT_YET_RECEIVED
    assert [c.sentence.text for c in new.candidates] == [
        randomised.sentence.text,
        listed.sentence.text,
        observational.sentence.text,
    ]
    # Ungraded, but the sentence says its result comes from a randomised trial.
    said = _graded("In a randomized phase III trial, regorafenib prolonged PFS to 3.6 months.")
    new = _algorithm()._split_systemic([listed, observational, said], PatientContext())[0]
    assert new.candidates[0].sentence.text == said.sentence.text


@pytest.mark.parametrize(
    ("question", "path", "weight"),
    [
        (
            "Adjuvant endocrine therapy for early breast cancer?",
            ("Stages I-III", "Preoperative endocrine therapy"),
            0.7,
        ),
        ("Adjuvant endocrine therapy for early breast cancer?", ("Stages I-III", "Adjuvant endocrine therapy"), 1.0),
        ("Adjuvant endocrine therapy for early breast cancer?", ("Metastatic Breast Cancer", "Endocrine therapy"), 0.7),
        ("Neoadjuvant chemotherapy for bladder cancer?", ("Muscle-Invasive", "Adjuvant chemotherapy"), 0.7),
        ("Perioperative therapy, neoadjuvant and adjuvant?", ("Muscle-Invasive", "Adjuvant chemotherapy"), 1.0),
        ("Treatment of metastatic colon cancer?", ("Treatment of Stage II Colon Cancer",), 0.7),
        ("Treatment of colon cancer?", ("Treatment of Stage II Colon Cancer",), 1.0),
        # A TNM stage with no distant metastasis is early disease; M1 is metastatic.
        ("cT3N1M0 anal canal SCC: definitive treatment?", ("Treatment of Stage IV Anal Cancer",), 0.7),
        ("T3N1 rectal cancer: neoadjuvant strategy?", ("Treatment of Stage IV Rectal Cancer",), 0.7),
        ("pT2N0M1a disease: first-line therapy?", ("Treatment of Stage II Disease",), 0.7),
    ],
)
def test_a_section_about_another_setting_than_the_question_ranks_lower(
    question: str, path: tuple[str, ...], weight: float
) -> None:
    assert section_setting_weight(_passage(*path), None, named_settings(question)) == weight


def test_a_study_design_offers_its_agent_only_with_what_the_study_found() -> None:
    design = _graded("A multicenter trial evaluated the efficacy and safety of lifileucel in 73 patients.")
    found = _graded("The objective response rate was 31.5%, including 4 complete responses.").sentence
    negative = _graded("Lifileucel showed no activity in this population.").sentence

    def algorithm(after: SourceSentence | None) -> TreatmentAlgorithm:
        return _algorithm(sentences_after=lambda _design: [after] if after is not None else [])

    paired = algorithm(found)._with_finding(design)
    assert paired is not None and paired.items == (found,)
    assert algorithm(negative)._with_finding(design) is None
    assert algorithm(None)._with_finding(design) is None
    # Past more of the design (the schedule) to the result; a negative result before it ends the search.
    schedule = _graded("Participants received lifileucel once, after lymphodepleting chemotherapy.").sentence
    farther = _algorithm(sentences_after=lambda _design: [schedule, found])._with_finding(design)
    assert farther is not None and farther.items == (found,)
    assert _algorithm(sentences_after=lambda _design: [negative, found])._with_finding(design) is None
    assert algorithm(found)._with_finding(_graded("Lifileucel produced durable responses.")) is None  # no design


def test_a_listed_option_only_of_a_class_the_disease_came_back_on_is_not_offered() -> None:
    def sentence(text: str, kind: str = "list_item") -> SourceSentence:
        passage = Passage(id=text, document_id="d", ordinal=0, section_path=("x",), kind=kind, text=text, citations=())
        return split_passage(passage)[0]

    lead = sentence("Treatment options for second-line therapy include:", "paragraph")
    items = (sentence("Nivolumab."), sentence("Lenvatinib plus everolimus."), sentence("Belzutifan."))
    (offered,) = open_options(
        [Candidate(lead, frozenset(), 0.5, 1.0, items)], ["pembrolizumab", "axitinib"], Normaliser().agents
    )
    # Nivolumab is of pembrolizumab's class; lenvatinib is of axitinib's, but everolimus is new.
    assert [x.text for x in offered.items] == ["Lenvatinib plus everolimus.", "Belzutifan."]


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("A phase II trial of inhaled lipid cisplatin is testing it for a first or second lung recurrence.", True),
        ("An international consortium conducted the EURO-EWING 99 trial of six VIDE cycles.", False),
        ("The trial closed early after 40 patients.", False),
    ],
)
def test_the_trial_step_offers_trials_to_enter_not_trials_reported(text: str, offered: bool) -> None:
    passage = Passage(
        id=text,
        document_id="d",
        ordinal=0,
        section_path=("Treatment options under clinical evaluation",),
        kind="paragraph",
        text=text,
        citations=(),
    )
    assert not_offered(Candidate(split_passage(passage)[0], frozenset(), 0.5, 1.0), "trial") is not offered


def test_an_item_of_a_list_of_risk_factors_is_no_option() -> None:
    def passage(text: str, kind: Literal["paragraph", "list_item"]) -> Passage:
        return Passage(id=text, document_id="d", ordinal=0, section_path=("x",), kind=kind, text=text, citations=())

    risk = passage("Established risk factors for breast cancer include the following:", "paragraph")
    options = passage("Treatment options for patients at high risk include:", "paragraph")
    item = passage("Combined estrogen-progestin hormone therapy after menopause.", "list_item")
    listed = Candidate(split_passage(item)[0], frozenset(), 1.0, 1.0)
    algorithm = _algorithm()
    assert replace(algorithm, lead_in_of=lambda _item: risk)._no_option_here(listed, "systemic")
    assert not replace(algorithm, lead_in_of=lambda _item: options)._no_option_here(listed, "systemic")
    assert not algorithm._no_option_here(listed, "systemic")  # no lead-in found
    # An item of a list of options that only names one, citing nothing, fills no step but the systemic one (there
    # it carries what its evidence section found).
    surgery = Candidate(split_passage(passage("Surgery to remove the tumor.", "list_item"))[0], frozenset(), 1.0, 1.0)
    assert replace(algorithm, lead_in_of=lambda _item: options)._no_option_here(surgery, "surgery")
    assert not replace(algorithm, lead_in_of=lambda _item: options)._no_option_here(surgery, "systemic")


def test_an_agent_given_again_to_patients_who_had_it_follows_it_and_is_not_merely_received() -> None:
    again = _candidate(
        "High-dose ifosfamide has shown activity in patients whose sarcoma recurred after therapy that included "
        "standard-dose ifosfamide."
    )
    plain = _candidate("Ifosfamide has been active in as many as one-third of patients with recurrent sarcoma.")
    patient = PatientContext(prior_agents=["ifosfamide", "etoposide"], recurrent=True)
    new, partly, received = _algorithm()._split_systemic([again, plain], patient)[:3]
    assert not new.candidates
    assert [c.sentence.text for c in partly.candidates] == [again.sentence.text]
    assert [c.sentence.text for c in received.candidates] == [plain.sentence.text]
