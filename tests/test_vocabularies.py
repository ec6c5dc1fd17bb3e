"""clinqa's vocabulary files: every one loads through the one validated loader, and they agree with each other."""

from __future__ import annotations

from importlib import resources

import bm25s
import pytest
import Stemmer

from clinqa.answer.algorithm import steps_for
from clinqa.answer.filters import not_an_option
from clinqa.answer.topic import Topic, TopicFit
from clinqa.answer.triage import kind_cues
from clinqa.clinical.disease import (
    diagnoses_in,
    diagnosis_aliases,
    is_listed,
    most_specific,
    read_diagnosis,
    read_organ,
)
from clinqa.clinical.evidence import design_of
from clinqa.clinical.fitness import unfit_for
from clinqa.clinical.phases import next_phases
from clinqa.clinical.regimens import Normaliser, drug_classes, regimen_table
from clinqa.data import VocabularyError, compile_any, compile_pattern, read_table
from clinqa.retrieve.analysis import analyze, fold
from clinqa.retrieve.expand import expand_query
from clinqa.retrieve.vocabulary import Vocabulary, clinical_shorthand
from clinqa.types import Passage


def test_every_data_file_loads() -> None:
    files = [f.name for f in resources.files("clinqa.data").iterdir() if f.name.endswith(".tsv")]
    assert len(files) >= 8
    assert regimen_table() and clinical_shorthand() and kind_cues()
    assert steps_for("osteosarcoma") and steps_for(None)
    assert read_organ("a lump in her breast") == "breast"
    assert not_an_option("Denosumab did not meet its efficacy criteria.") == "negative"
    assert "BRAF inhibitor" in drug_classes()["vemurafenib"]
    assert unfit_for("not a transplant candidate") == ["transplant"]


def test_the_files_agree() -> None:
    diagnoses = {row.cells[0] for row in read_table("diagnoses.tsv", 3)}
    for regimen in regimen_table():
        assert regimen.disease is None or regimen.disease in diagnoses, regimen
    for row in read_table("algorithm_steps.tsv", 6, 2):
        assert row.cells[1] == "*" or row.cells[1] in diagnoses, row.where()
    assert diagnosis_aliases("osteosarcoma")[0] == "osteosarcoma"
    normaliser = Normaliser()
    for agent in drug_classes():  # every class member is an agent clinqa reads in text
        assert normaliser.agents(agent) == [agent], agent


def test_a_malformed_row_names_its_file_and_line() -> None:
    read_table.cache_clear()
    try:
        with pytest.raises(VocabularyError, match=r"diagnoses\.tsv:\d+: .*columns"):
            read_table("diagnoses.tsv", 1)
    finally:
        read_table.cache_clear()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("What are the stages of Childhood Astrocytomas?", ("glioma",)),
        ("Childhood Astrocytomas and Other Gliomas Treatment", ("glioma",)),
        ("non-Hodgkin lymphomas in people with AIDS", ("non-Hodgkin lymphoma",)),
        ("osteosarcomas and Ewing sarcomas", ("osteosarcoma", "Ewing sarcoma")),
        ("all patients received chemotherapy", ()),  # an acronym (ALL) matches only as written
        # An alias inside a longer one names nothing by itself: UPS of bone is a bone sarcoma, not a soft tissue one.
        ("Osteosarcoma and UPS of Bone Treatment", ("osteosarcoma", "undifferentiated pleomorphic sarcoma of bone")),
        ("Non-Small Cell Lung Cancer Treatment", ("non-small cell lung cancer",)),
    ],
)
def test_a_diagnosis_is_read_in_the_plural_too(text: str, named: tuple[str, ...]) -> None:
    assert diagnoses_in(text) == named


@pytest.mark.parametrize(
    ("level", "design"),
    [
        ("A1", "randomised"),
        ("B3", "randomised"),
        ("B4", "controlled"),
        ("C3", "observational"),
        ("1iiA", "randomised"),
        ("3iiiDiv", "observational"),
        ("A1 and A3", "randomised"),
        ("Z9", None),
        (None, None),
    ],
)
def test_a_level_of_evidence_tells_its_study_design(level: str | None, design: str | None) -> None:
    assert design_of(level) == design


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        (
            "KEYNOTE-775 was a large, multicenter, randomized trial that compared pembrolizumab with chemotherapy.",
            "design",
        ),
        ("One study followed 115 patients treated with progestins.", "design"),
        (
            "The approval of agent X was based on data from 149 patients with MSI-H cancers enrolled across trials.",
            "design",
        ),
        ("The approval was based on data from 149 patients, in whom the response rate was 40%.", None),
        (
            "A randomized trial of patients with relapsed MCL compared agent X plus agent Y versus agent X alone.",
            "design",
        ),
        ("A randomized trial of patients with MCL compared agent X with placebo; median PFS was 31.9 months.", None),
        ("An intergroup trial planned to randomly assign 475 patients to surgery alone or chemoradiation.", "design"),
        (
            "Among patients with a CPS of 20 or higher, there was no statistically significant OS difference.",
            "negative",
        ),
        ("Investigators and patients were masked to the PD-L1 results.", "design"),
        (
            "Patients whose disease did not respond to agent X had a poor prognosis, with a survival of 16 months.",
            "negative",
        ),
        ("Stratification by IGF1R expression did not predict clinical outcome.", "negative"),
        ("Lenvatinib and pembrolizumab improved overall survival.", None),
        ("Participants received pembrolizumab 200 mg intravenously every 3 weeks.", "design"),
        ("Patients received vemurafenib and had a response rate of 48%.", None),  # what the study found
        ("In the randomized LATITUDE trial (NCT01715285), 1,199 men with high-risk disease.", "design"),
        ("These patients had improvement in outcome from treatment with gemtuzumab.", "legend"),
        ("With the aforementioned treatment, enucleation may be avoided.", "legend"),
        ("Encorafenib is a small-molecule BRAF inhibitor, and binimetinib is a MEK inhibitor.", "mechanism"),
        ("Osimertinib is a third-generation EGFR inhibitor approved for first-line treatment.", None),
    ],
)
def test_a_study_design_or_a_negative_result_is_no_option(sentence: str, kind: str | None) -> None:
    assert not_an_option(sentence) == kind


@pytest.mark.parametrize(
    "text",
    [
        "The MG dose was 60 mg/m2 on day 1.",  # case folds; the look-behind keeps "kg" from matching "mg/kg"
        "Response: 5 of 12 (42%) at 6 months.",
        "Un traitement à la doxorubicine a été évalué.",  # accented letters around word boundaries
        "assess the efficacy",  # a look-behind Python's re runs: no match
        "no figures and no hits here",
        "",
    ],
)
def test_a_pattern_set_matches_what_its_joined_pattern_matches(text: str) -> None:
    sources = [
        r"\d\s?%|\bmonths?\b|(?<!assess the )efficacy",  # split into branches; the look-behind one stays with re
        r"(?<![A-Za-z])mg/m2|[|]x|[]a]b|\bdox\w+",  # classes with "|" and "]" in them are not split
        r"^(?!.*\bno\b)(?:the )?mg\b",
    ]
    joined = compile_pattern("|".join(f"(?:{s})" for s in sources), "test")
    assert compile_any(sources, "test").search(text) == bool(joined.search(text))


def test_a_broken_pattern_in_a_set_names_where_it_is() -> None:
    with pytest.raises(VocabularyError, match=r"answer_filters\.tsv:7"):
        compile_any(["fine", "(unclosed"], "answer_filters.tsv:7")


def test_isotope_notation_expands_to_the_element_and_both_notations() -> None:
    found = expand_query("Sm-153 or 177Lu-PSMA? In 20 patients I had I-131.", Vocabulary())
    assert [(e.term, e.adds) for e in found if e.origin == "radionuclide"] == [
        ("Sm-153", "samarium-153 153Sm"),
        ("177Lu", "lutetium-177 177Lu"),
        ("I-131", "iodine-131 131I"),
    ]


@pytest.mark.parametrize(
    "texts",
    [
        ["Sézary syndrome is a leukemic variant of mycosis fungoides.", "The naïve T-cells were not affected."],
        ["What are the options after 4 lines of chemotherapy?", "", "x", "Patients' 5-year OS was 60%; HR, 0.7."],
        ["Relapsed, relapsing and relapses: the same stem", "relapsed RELAPSED Relapsed"],
    ],
)
def test_text_analysis_gives_the_terms_bm25s_gives(texts: list[str]) -> None:
    expected = bm25s.tokenize(
        [fold(t) for t in texts],
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )
    assert analyze(texts) == expected
    assert [analyze([t])[0] for t in texts] == expected  # one by one as in a batch


def test_phrases_and_long_forms_expand_only_as_whole_runs_of_words_in_vocabulary_order() -> None:
    vocabulary = Vocabulary(
        abbreviations={"EFS": "event-free survival", "OS": "overall survival", "HDMTX": "high-dose methotrexate"},
        shorthand={"came back": ["recurrent"], "how long": ["survival", "duration"], "chemo": ["chemotherapy"]},
    )
    found = expand_query("How long is overall survival, and event-free survival, after it came back?", vocabulary)
    assert [(e.term, e.adds, e.origin) for e in found] == [
        ("came back", "recurrent", "shorthand"),
        ("how long", "survival", "shorthand"),
        ("how long", "duration", "shorthand"),
        ("event-free survival", "EFS", "abbreviation"),
        ("overall survival", "OS", "abbreviation"),
    ]
    # Part of a word or of a longer form is no match: "backcame", "high-dose methotrexate-like".
    assert expand_query("It backcame; high-dose methotrexate-like agents.", vocabulary) == []


@pytest.mark.parametrize(
    ("question", "phases"),
    [
        ("Stage IIIA NSCLC, completed concurrent cisplatin-etoposide with thoracic RT.", ["consolidation"]),
        ("Limited-stage SCLC after definitive chemoradiotherapy with a complete response.", ["consolidation"]),
        ("AML in first CR after 7+3 induction. Next?", ["consolidation"]),
        ("B-ALL in second remission after one reinduction block.", ["consolidation"]),
        ("Myeloma in VGPR after autologous stem cell transplant.", ["maintenance"]),
        ("ypT2N1 breast cancer with residual disease at surgery after neoadjuvant TCHP.", ["adjuvant"]),
        ("pT3N1 urothelial carcinoma at radical cystectomy. Anything more?", ["adjuvant"]),
        ("Metastatic RCC progressing after pembrolizumab/axitinib and then cabozantinib.", []),
        ("Osteosarcoma after 4 lines: doxorubicin, ifosfamide, dacarbazine, gemcitabine with docetaxel.", []),
    ],
)
def test_the_phase_a_history_implies_comes_next(question: str, phases: list[str]) -> None:
    assert next_phases(question) == phases


@pytest.mark.parametrize(
    ("text", "another"),
    [
        ("The FDA approved it for adults with RET-altered medullary thyroid cancer.", True),
        ("For RET-altered medullary thyroid cancer or RET fusion-positive differentiated thyroid cancer.", False),
        ("Selpercatinib is approved for RET fusion-positive thyroid cancer.", False),  # the broader disease
        ("The overall response rate was 79%.", False),  # names no disease
        ("Pembrolizumab is active in melanoma and in non-small cell lung cancer.", True),
    ],
)
def test_a_sentence_naming_only_another_disease_is_about_another(text: str, another: bool) -> None:
    assert TopicFit(Topic("differentiated thyroid cancer", None), {}).names_only_another(text) is another


def test_a_section_on_low_grade_serous_carcinoma_is_another_disease_for_a_high_grade_serous_one() -> None:
    page = {"d": "Ovarian Epithelial, Fallopian Tube, and Primary Peritoneal Cancer Treatment"}
    disease = diagnoses_in("High-grade serous ovarian cancer progressing after three lines.")[0]

    def fit(*path: str) -> str:
        passage = Passage(
            id="d#1", document_id="d", ordinal=0, section_path=path, kind="paragraph", text="T.", citations=()
        )
        return TopicFit(Topic(disease, None), page).passage(passage)

    assert fit("Recurrent Ovarian Cancer", "Low-Grade Serous Carcinoma") == "other"
    assert fit("Recurrent Ovarian Cancer", "Platinum-Resistant Disease") == "on_topic"


def test_a_page_for_the_other_population_stands_only_when_the_patients_own_is_missing() -> None:
    both = {"a": "Adult Acute Myeloid Leukemia Treatment", "c": "Childhood Acute Myeloid Leukemia Treatment"}
    adult = TopicFit(Topic("acute myeloid leukemia", "adult"), both)
    assert adult.for_other_population("c") and not adult.for_other_population("a")
    assert not TopicFit(Topic("acute myeloid leukemia", None), both).for_other_population("c")  # no population told
    only_child = {"c": "Childhood Rhabdomyosarcoma Treatment", "x": "Adult Acute Myeloid Leukemia Treatment"}
    assert not TopicFit(Topic("rhabdomyosarcoma", "adult"), only_child).for_other_population("c")


@pytest.mark.parametrize(
    ("disease", "path", "fit"),
    [
        (
            "classical Hodgkin lymphoma",
            ("Treatment of Nodular Lymphocyte–Predominant HL (NLPHL)", "Follow-Up"),
            "other",
        ),
        ("classical Hodgkin lymphoma", ("Treatment of Classical Hodgkin Lymphoma", "Relapse"), "on_topic"),
        ("Hodgkin lymphoma", ("Treatment of Nodular Lymphocyte–Predominant HL (NLPHL)",), "on_topic"),
        ("differentiated thyroid cancer", ("Medullary Thyroid Cancer", "Targeted therapy"), "other"),
        ("differentiated thyroid cancer", ("Papillary and Follicular Thyroid Cancer", "Targeted therapy"), "on_topic"),
        ("thyroid cancer", ("Medullary Thyroid Cancer",), "on_topic"),
    ],
)
def test_a_section_on_another_kind_of_the_disease_is_another_disease(
    disease: str, path: tuple[str, ...], fit: str
) -> None:
    page = {"d": "Hodgkin Lymphoma Treatment" if "Hodgkin" in disease else "Thyroid Cancer Treatment"}
    passage = Passage(
        id="d#1", document_id="d", ordinal=0, section_path=path, kind="paragraph", text="T.", citations=()
    )
    assert TopicFit(Topic(disease, None), page).passage(passage) == fit
    assert most_specific(("nodular lymphocyte-predominant Hodgkin lymphoma", "Hodgkin lymphoma")) == (
        "nodular lymphocyte-predominant Hodgkin lymphoma",
    )


@pytest.mark.parametrize(
    ("text", "diagnosis"),
    [
        ("58F, T3N1 squamous cell carcinoma of the anal canal", "anal cancer"),
        ("T3N0 glottic SCC with a fixed cord", "laryngeal cancer"),
        ("mid-rectal adenocarcinoma, pMMR", "rectal cancer"),
        ("HPV-negative tonsil SCC with extracapsular extension", "oropharyngeal cancer"),
        ("residual GEJ adenocarcinoma after esophagectomy", "esophagus"),  # no diagnosis by that word: the organ
        ("metastatic pancreatic adenocarcinoma", "pancreatic cancer"),
        ("cutaneous SCC of the scalp", "cutaneous squamous cell carcinoma"),
        ("an adenocarcinoma", "adenocarcinoma"),  # a tissue type alone: no organ's disease
    ],
)
def test_a_tissue_type_beside_an_organ_is_that_organs_cancer(text: str, diagnosis: str) -> None:
    assert read_diagnosis(text) == diagnosis
    assert not is_listed("adenocarcinoma")  # alone it is no disease in particular
    assert diagnoses_in("An adenocarcinoma was found") == ()  # a tissue type alone names no disease


@pytest.mark.parametrize(
    ("text", "diagnosis"),
    [
        ("T3N0 laryngeal tumour, normal renal function", "head and neck"),  # an organ's function is no topic
        ("NPC treated 2 years ago, now liver and bone metastases", "nasopharyngeal cancer"),
        ("Stage IV favourable-histology Wilms with lung-only nodules", "Wilms tumor"),
    ],
)
def test_an_organ_named_as_a_site_or_for_its_function_is_not_the_disease(text: str, diagnosis: str) -> None:
    assert (read_diagnosis(text) or read_organ(text)) == diagnosis
    assert read_organ("liver and bone metastases from an unknown primary") is None
