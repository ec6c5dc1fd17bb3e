"""Answers across cancers, without ../shared: one knowledge base of clinqa's own fixture pages (nine cancers, see
`tests/answer_cases.py`) and the starter corpus, real SQLite and the real embedding model.

Per cancer: a treatment question in a setting, a prognosis figure, a list of symptoms or risk factors, a question in
lay words, and a "what next" question naming prior therapies, whose treatment algorithm must never offer a received
agent as new, a negative result, a study design, a legend or another disease's sentence. Plus refusals (a drug no
page names; another cancer on a one-cancer knowledge base) and traceability of every sentence to its passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from _pytest.mark.structures import ParameterSet

from clinqa.answer.algorithm import offered_text
from clinqa.answer.compose import numbers_missing
from clinqa.config import starter_corpus
from clinqa.engine import Engine
from clinqa.types import Answer, AnswerStatus, FlagKind, PatientContext, PriorTherapy, Sentence

from .answer_cases import CASES, PAGES, Ask, Case, Fact
from .conftest import fresh_location

Asker = Callable[[str], Answer]

# What an option step must never offer (written for this test, independent of clinqa's own filters).
NOT_OPTIONS = {
    "negative result": re.compile(
        r"\bdid not (?:significantly )?(?:improve|reduce|prolong|differ|show|benefit|meet)\b|\bfailed to\b|"
        r"\bno (?:significant |survival )?(?:difference|benefit|improvement|advantage)\b|\bwas not superior\b",
        re.I,
    ),
    "study design": re.compile(
        r"\bwere eligible\b|\bwere randomly assigned\b|\brandomi[sz]ed \d|\binclusion criteria\b|\benrolled\b", re.I
    ),
    "legend": re.compile(r"^\s*(?:Table|Figure)\s+\d|\b(?:see|in) (?:table|figure) \d", re.I),
}
# A sentence that only reports a harm (a toxicity, a contraindication) is a caution, never an option.
HARM = re.compile(
    r"\b(?:toxicit(?:y|ies)|adverse events?|neutropenia|pneumonitis|interstitial lung disease|hemorrhage|"
    r"syndrome)\b.*\b(?:occurred|occurs|can be fatal|should not be given|is a serious)\b|\bshould not be given\b",
    re.I,
)
EFFICACY = re.compile(r"\b(?:improved|extended|prolonged|raised|gave an?|response rate|survival)\b", re.I)
ALGORITHM = "Treatment algorithm"
PAGES_OVARIAN_TITLE = "Ovarian Epithelial Cancer — Clinician Summary (clinqa test fixture)"
NOT_YET_RECEIVED = "not yet received"


def cases(check: str, only: Callable[[Case], bool] = lambda _c: True) -> list[ParameterSet]:
    """The cases as parameters; a case whose `gaps` names `check` is a strict xfail with the gap as reason."""
    out = []
    for c in CASES:
        if not only(c):
            continue
        marks = [pytest.mark.xfail(strict=True, reason=c.gaps[check])] if check in c.gaps else []
        out.append(pytest.param(c, id=c.key, marks=marks))
    return out


@pytest.fixture(scope="session")
def across(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(fresh_location(request, tmp_path_factory.mktemp("across")))
    report = engine.ingest([PAGES, starter_corpus()])
    assert not report.failed, report.failed
    assert report.documents == len(list(PAGES.glob("*.md"))) + 1
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def ask(across: Engine) -> Asker:
    """Ask once per question for the whole session (answers are deterministic)."""
    answers: dict[str, Answer] = {}

    def asked(question: str) -> Answer:
        if question not in answers:
            answers[question] = across.ask(question, remember=False)
        return answers[question]

    return asked


def text_of(sentences: list[Sentence]) -> str:
    return " ".join(f"{s.label or ''} {s.text}" for s in sentences).lower()


def missing(facts: tuple[Fact, ...], text: str) -> list[Fact]:
    return [fact for fact in facts if not any(phrase.lower() in text for phrase in fact)]


def answered(answer: Answer, case: Case) -> Answer:
    assert answer.status is AnswerStatus.ANSWERED, (answer.question, answer.note)
    assert answer.bottom_line, answer.question
    assert answer.bottom_line[0].source.document_id in case.pages, "the bottom line comes from the cancer's page"
    return answer


def check_facts(answer: Answer, ask_: Ask) -> None:
    lost = missing(ask_.facts, text_of(answer.sentences()))
    assert not lost, f"{ask_.question}: missing {lost} in {[s.text for s in answer.sentences()]}"


# --- questions per cancer ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("treatment"))
def test_treatment_in_a_setting_states_the_fact(case: Case, ask: Asker) -> None:
    check_facts(answered(ask(case.treatment.question), case), case.treatment)


@pytest.mark.parametrize("case", cases("treatment bottom line", lambda c: c.treatment.bottom))
def test_the_fact_the_page_states_directly_leads_the_bottom_line(case: Case, ask: Asker) -> None:
    answer = answered(ask(case.treatment.question), case)
    lost = missing(case.treatment.facts, text_of(answer.bottom_line))
    assert not lost, f"missing {lost} in the bottom line {[s.text for s in answer.bottom_line]}"


@pytest.mark.parametrize("case", cases("prognosis"))
def test_prognosis_question_gives_the_figure(case: Case, ask: Asker) -> None:
    check_facts(answered(ask(case.prognosis.question), case), case.prognosis)


@pytest.mark.parametrize("case", cases("listed"))
def test_symptoms_or_risk_factors_are_answered_from_the_list(case: Case, ask: Asker, across: Engine) -> None:
    answer = answered(ask(case.listed.question), case)
    check_facts(answer, case.listed)
    passages = across.store.passages(s.source.passage_id for s in answer.bottom_line)
    assert any(p.kind == "list_item" for p in passages.values()), "the list's items, not just its lead-in"


@pytest.mark.parametrize("case", cases("lay"))
def test_question_in_lay_words_is_answered(case: Case, ask: Asker) -> None:
    check_facts(answered(ask(case.lay.question), case), case.lay)


# --- "what next" after named prior therapies -------------------------------------------------------------------


def algorithm_steps(answer: Answer) -> list[tuple[str, list[Sentence]]]:
    return [(sec.title, sec.sentences) for sec in answer.sections if sec.title.startswith(ALGORITHM)]


@pytest.mark.parametrize("case", cases("next"))
def test_what_next_reads_the_prior_regimens_and_gives_the_algorithm(case: Case, ask: Asker) -> None:
    answer = answered(ask(case.next.question), case)
    assert answer.patient is not None
    assert set(answer.patient.prior_agents) == case.next.received
    assert algorithm_steps(answer), [sec.title for sec in answer.sections]


@pytest.mark.parametrize("case", cases("not yet received"))
def test_not_yet_received_step_offers_no_agent_already_received(case: Case, ask: Asker, across: Engine) -> None:
    # An agent received may be named as an option's setting or comparator ("progressed after trastuzumab"), not
    # offered.
    answer = ask(case.next.question)
    for title, sentences in algorithm_steps(answer):
        if NOT_YET_RECEIVED not in title:
            continue
        for s in sentences:
            had = set(across.normaliser().agents(offered_text(f"{s.label or ''} {s.text}"))) & case.next.received
            assert not had, f"{title}: offers {sorted(had)}, already received: {s.text}"


@pytest.mark.parametrize("case", cases("not options"))
def test_algorithm_steps_offer_no_negative_result_design_legend_or_other_disease(case: Case, ask: Asker) -> None:
    answer = ask(case.next.question)
    for title, sentences in algorithm_steps(answer):
        for s, after in zip(sentences, [*sentences[1:], None], strict=True):
            text = f"{s.label or ''} {s.text}"
            found = [name for name, pattern in NOT_OPTIONS.items() if pattern.search(text)]
            if found == ["study design"] and after is not None and reports(s, after):
                continue  # a study's design, followed by what the study found
            assert not found, f"{title}: a {found[0]} offered as an option: {text}"
            assert s.source.document_id in case.pages, f"{title}: another disease's sentence: {text}"


def reports(design: Sentence, after: Sentence) -> bool:
    """Whether `after` is what the study `design` describes found: the next sentence of its section, flagged by
    no check."""
    same = (after.source.document_id, after.source.section) == (design.source.document_id, design.source.section)
    text = f"{after.label or ''} {after.text}"
    return same and not any(pattern.search(text) for pattern in NOT_OPTIONS.values())


def harm_only(s: Sentence) -> bool:
    text = f"{s.label or ''} {s.text}"
    return bool(HARM.search(text)) and not EFFICACY.search(text)


@pytest.mark.parametrize("case", cases("harm"))
def test_option_steps_offer_no_sentence_that_only_reports_a_harm(case: Case, ask: Asker) -> None:
    answer = ask(case.next.question)
    for title, sentences in algorithm_steps(answer):
        if "already received" in title:
            continue  # what the patient had, not an offer
        for s in sentences:
            assert not harm_only(s), f"{title}: a caution offered as an option: {s.text}"


@pytest.mark.parametrize("case", cases("flags"))
def test_received_agents_named_anywhere_are_flagged(case: Case, ask: Asker, across: Engine) -> None:
    answer = ask(case.next.question)
    flagged = {f.agent for f in answer.flags if f.kind is FlagKind.PREVIOUSLY_RECEIVED}
    named = {a for s in answer.sentences() for a in across.normaliser().agents(f"{s.label or ''} {s.text}")}
    assert named & case.next.received <= flagged, sorted((named & case.next.received) - flagged)


@pytest.mark.parametrize("case", cases("new option"))
def test_what_next_offers_an_option_for_the_setting_not_yet_received(case: Case, ask: Asker) -> None:
    answer = ask(case.next.question)
    offered = [s for title, sentences in algorithm_steps(answer) if NOT_YET_RECEIVED in title for s in sentences]
    in_setting = text_of(
        [s for s in [*answer.bottom_line, *offered] if case.next.section in s.source.section and not harm_only(s)]
    )
    assert any(option.lower() in in_setting for option in case.next.options), (
        f"none of {case.next.options} from the section {case.next.section!r} is offered: "
        f"{[(s.source.section, s.text) for s in [*answer.bottom_line, *offered]]}"
    )


def test_what_next_reports_the_toxicities_of_the_agents_it_offers(ask: Asker, across: Engine) -> None:
    answer = ask("Metastatic colon cancer progressing after FOLFOX and then FOLFIRI with bevacizumab. What next?")
    offered = {a for s in answer.bottom_line for a in across.normaliser().agents(f"{s.label or ''} {s.text}")}
    assert "regorafenib" in offered, [s.text for s in answer.bottom_line]
    pitfalls = [s for sec in answer.sections if sec.title == "Pitfalls and considerations" for s in sec.sentences]
    harms = [s for s in pitfalls if "regorafenib" in across.normaliser().agents(s.text)]
    assert harms and all("toxicit" in s.text for s in harms), [s.text for s in pitfalls]
    assert all(s.source.document_id == "colon-cancer-hp" for s in pitfalls)


def test_what_next_after_chemoradiation_offers_the_consolidation(ask: Asker) -> None:
    # The history implies the next phase (consolidation) though the question never names it.
    answer = ask("Unresectable stage IIIA NSCLC, completed concurrent cisplatin-etoposide with thoracic RT. What next?")
    assert "durvalumab" in text_of(answer.bottom_line), [s.text for s in answer.bottom_line]


def test_patient_context_given_beside_the_question(across: Engine) -> None:
    folfox = PriorTherapy(described="FOLFOX", agents=["fluorouracil", "leucovorin", "oxaliplatin"], regimen="FOLFOX")
    patient = PatientContext(
        diagnosis="colon cancer", recurrent=True, prior_therapies=[folfox], prior_agents=folfox.agents
    )
    answer = across.ask("What are the options now?", patient=patient, remember=False)
    assert answer.status is AnswerStatus.ANSWERED, answer.note
    assert answer.patient is not None and set(answer.patient.prior_agents) == set(folfox.agents)
    steps = dict(algorithm_steps(answer))
    assert any(NOT_YET_RECEIVED in title for title in steps), list(steps)
    for title, sentences in steps.items():
        assert all(s.source.document_id == "colon-cancer-hp" for s in sentences), title


def test_trials_the_guideline_names_are_listed_for_the_patient(ask: Asker) -> None:
    answer = ask("What next for a 16-year-old with a second recurrence of osteosarcoma in the lung?")
    assert "NCT01650090" in {m.id for m in answer.trials}, answer.trials


# --- refusals --------------------------------------------------------------------------------------------------


def test_a_drug_and_condition_no_page_names_are_refused(ask: Asker) -> None:
    answer = ask("What is the recommended dupilumab dose for moderate atopic dermatitis?")
    assert answer.status is AnswerStatus.INSUFFICIENT_EVIDENCE, [s.text for s in answer.sentences()]
    assert answer.note and not answer.sentences() and not answer.references


def test_what_the_case_names_but_the_pages_never_do_does_not_refuse_the_question(ask: Asker) -> None:
    # The patient's home town and a drug for another condition describe the case; what is asked is the regimen.
    answer = ask(
        "61M from Guangdong, on apixaban for atrial fibrillation. Resected stage III colon cancer. Which adjuvant "
        "chemotherapy?"
    )
    assert answer.status is AnswerStatus.ANSWERED, answer.note
    assert "FOLFOX" in " ".join(s.text for s in answer.bottom_line)
    # Asked about, the same drug is the subject no page names.
    refused = ask("Resected stage III colon cancer: should apixaban be given with adjuvant chemotherapy?")
    assert refused.status is AnswerStatus.INSUFFICIENT_EVIDENCE and refused.note and "apixaban" in refused.note


def test_a_dose_asked_in_a_unit_the_pages_never_state_is_refused(ask: Asker) -> None:
    # The Hodgkin page gives the radiation dose in Gy and the ovarian page paclitaxel in mg/m2, but neither gives
    # a dose in units or in mg/kg: a schedule or another unit is no answer to "how many".
    given = ask("What dose of involved-field radiation therapy in Gy follows ABVD in early favorable Hodgkin lymphoma?")
    assert given.status is AnswerStatus.ANSWERED and "20 Gy" in " ".join(s.text for s in given.bottom_line)
    for question in (
        "How many units per kg of paclitaxel are given with carboplatin for ovarian cancer?",
        "What dose of daunorubicin in mg/kg is used for induction of AML?",
    ):
        answer = ask(question)
        assert answer.status is AnswerStatus.INSUFFICIENT_EVIDENCE, (question, [s.text for s in answer.sentences()])
        assert answer.note and "dose" in answer.note


def test_consolidation_in_remission_may_repeat_an_induction_agent(ask: Asker) -> None:
    # In first remission after 7+3, cytarabine did not fail: consolidation with it is the answer, not an agent to
    # set aside as already received. The kind is read from the ask ("Standard consolidation?"), not the case.
    answer = ask("52F AML in first CR after 7+3 (cytarabine + daunorubicin). Standard consolidation?")
    assert answer.status is AnswerStatus.ANSWERED
    assert "high-dose cytarabine" in " ".join(s.text for s in answer.bottom_line)


def test_each_thing_a_question_asks_is_answered_in_the_bottom_line(ask: Asker) -> None:
    # Two things asked at once, answered by two passages of the page: the regimen, and the survival figure (read
    # as one question, the regimen's passage fills the bottom line with its own survival figures).
    answer = ask(
        "Which adjuvant chemotherapy is recommended after resection of stage III colon cancer, and what is the "
        "5-year survival with distant metastases?"
    )
    assert answer.status is AnswerStatus.ANSWERED, answer.note
    bottom = " ".join(s.text for s in answer.bottom_line)
    assert "FOLFOX" in bottom and "13%" in bottom, bottom


def test_a_question_after_prices_or_markets_is_out_of_scope(ask: Asker) -> None:
    answer = ask("What is the share price trend of the companies that make FLT3 inhibitors such as midostaurin?")
    assert answer.status is AnswerStatus.OUT_OF_SCOPE and not answer.sentences()


@pytest.fixture(scope="session")
def breast_only(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(fresh_location(request, tmp_path_factory.mktemp("breast-only")))
    report = engine.ingest([PAGES / "breast-cancer-hp.md"])
    assert not report.failed and report.documents == 1
    yield engine
    engine.close()


OTHER_CANCER_QUESTIONS = [
    *(pytest.param(c.treatment.question, id=c.key) for c in CASES if c.key != "breast"),
    pytest.param("Which chemotherapy options exist for recurrent osteosarcoma?", id="osteosarcoma"),
    # No disease named, but the operation names the organ: a gynecologic cancer, not the breast.
    pytest.param(
        "Central pelvic recurrence 18 months after radical hysterectomy, no prior radiation. Treatment options?",
        id="after-hysterectomy",
    ),
    pytest.param("Rising PSA two years after radical prostatectomy. What next?", id="after-prostatectomy"),
]


def test_a_one_cancer_knowledge_base_answers_its_own_cancer(breast_only: Engine) -> None:
    breast = next(c for c in CASES if c.key == "breast")
    answer = breast_only.ask(breast.treatment.question, remember=False)
    check_facts(answered(answer, breast), breast.treatment)


@pytest.mark.parametrize("question", OTHER_CANCER_QUESTIONS)
def test_a_one_cancer_knowledge_base_refuses_another_cancer(breast_only: Engine, question: str) -> None:
    answer = breast_only.ask(question, remember=False)
    assert answer.status is AnswerStatus.INSUFFICIENT_EVIDENCE, [s.text for s in answer.sentences()]
    assert not answer.sentences() and answer.note


# --- traceability ----------------------------------------------------------------------------------------------


def questions_of(case: Case) -> list[str]:
    return [
        case.treatment.question,
        case.prognosis.question,
        case.listed.question,
        case.lay.question,
        case.next.question,
    ]


@pytest.mark.parametrize("case", cases("traceable"))
def test_every_sentence_traces_to_its_passage_with_its_figures_and_dated_source(
    case: Case, ask: Asker, across: Engine
) -> None:
    for question in questions_of(case):
        answer = ask(question)
        if answer.status is not AnswerStatus.ANSWERED:
            continue
        passages = across.store.passages(s.source.passage_id for s in answer.sentences())
        numbers = {r.n for r in answer.references}
        for s in answer.sentences():
            passage = passages.get(s.source.passage_id)
            assert passage is not None, f"no passage {s.source.passage_id}"
            assert passage.document_id == s.source.document_id
            assert s.text[1:] in passage.text, (s.text, passage.text)
            assert not numbers_missing(s.text, passage.text), s.text
            assert set(s.citations) <= numbers
        used = {s.source.document_id for s in answer.sentences()}
        assert {d.id for d in answer.sources} == used, question
        assert all(d.updated is not None for d in answer.sources), question


def test_fixture_pages_cite_references_with_pmids(across: Engine) -> None:
    assert len({c.key for c in CASES}) == len(CASES) >= 8
    for page in sorted(PAGES.glob("*-hp.md")):
        document = across.document(page.stem)
        assert document.audience == "health_professional" and document.updated is not None, page.name
        cited = {n for p in document.passages for c in p.citations for n in c.numbers}
        assert cited and cited <= {r.number for r in document.references}, page.name
        assert sum(r.pmid is not None for r in document.references) >= 8, page.name


# --- the patient reader ----------------------------------------------------------------------------------------


def test_patient_reader_gets_the_patient_version_with_terms_explained(across: Engine) -> None:
    answer = across.ask("How is breast cancer treated?", audience="patient", remember=False)
    assert answer.status is AnswerStatus.ANSWERED and answer.audience == "patient"
    assert answer.bottom_line[0].source.document_id == "breast-cancer-patient-summary"
    explained = [s for sec in answer.sections if sec.title == "What the terms mean" for s in sec.sentences]
    assert explained, [sec.title for sec in answer.sections]
    assert all(across.document(s.source.document_id).audience == "patient" for s in explained)


def test_a_what_next_question_naming_no_disease_keeps_to_the_disease_its_pages_are_about(
    ask: Asker, across: Engine
) -> None:
    """No disease named, only a regimen several cancers share and a setting one page speaks of: every option comes
    from the page the best passages are about (ovarian), none from the other pages that name the regimen."""
    answer = ask("Platinum-resistant recurrence 3 months after carboplatin and paclitaxel. What next?")
    assert answer.status is AnswerStatus.ANSWERED
    titles = {d.id: d.title for d in across.documents()}
    options = [s for sec in answer.sections if sec.title.startswith(ALGORITHM) for s in sec.sentences]
    assert options
    assert {titles[s.source.document_id] for s in options} == {PAGES_OVARIAN_TITLE}
