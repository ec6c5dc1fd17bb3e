"""Patient context from questions and files, regimen and drug-name normalisation, merging and conflicts.

Uses the real drug dictionary bundled with `drug-named-entity-recognition` and clinqa's own regimen list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clinqa.answer.algorithm import for_other_marker_status
from clinqa.answer.compose import Candidate
from clinqa.answer.sentences import split_passage
from clinqa.clinical.biomarkers import conflict, markers_in
from clinqa.clinical.patient import PatientFileError, extract_patient, load_patient_file, merge
from clinqa.clinical.regimens import Normaliser, regimen_table
from clinqa.errors import ClinqaError
from clinqa.retrieve.vocabulary import drug_dictionary
from clinqa.types import Passage, PatientContext, PriorTherapy

SEED = (
    "What's next for an osteosarcoma patient after 4 lines of chemo "
    "(doxorubicin, ifosfamide, dacarbazine, gemcitabine with docetaxel)?"
)


@pytest.fixture(scope="module")
def drugs() -> dict[str, str]:
    return drug_dictionary()


@pytest.fixture(scope="module")
def normaliser(drugs: dict[str, str]) -> Normaliser:
    return Normaliser(drugs)


def fields(patient: PatientContext, *names: str) -> dict[str, Any]:
    dumped = patient.model_dump()
    return {name: dumped[name] for name in names}


# --- reading the question ------------------------------------------------------------------------------------


def test_seed_question(normaliser: Normaliser) -> None:
    patient = extract_patient(SEED, normaliser)
    assert patient.prior_agents == ["doxorubicin", "ifosfamide", "dacarbazine", "gemcitabine", "docetaxel"]
    assert patient.lines_of_therapy == 4
    assert patient.diagnosis == "osteosarcoma"
    assert [t.agents for t in patient.prior_therapies] == [
        ["doxorubicin"],
        ["ifosfamide"],
        ["dacarbazine"],
        ["gemcitabine", "docetaxel"],
    ]
    assert patient.prior_therapies[-1].described == "gemcitabine with docetaxel"
    assert patient.not_received == [] and patient.conflicts == []


PHRASINGS: list[tuple[str, dict[str, Any]]] = [
    ("a 16-year-old with osteosarcoma", {"age": 16, "age_group": "adolescent", "diagnosis": "osteosarcoma"}),
    ("16 yo with Ewing sarcoma", {"age": 16, "diagnosis": "Ewing sarcoma"}),
    ("age 16, Ewing's sarcoma", {"age": 16, "diagnosis": "Ewing sarcoma"}),
    ("a 16-year-old boy", {"age": 16, "age_group": "adolescent"}),
    ("a woman aged 34 with breast cancer", {"age": 34, "age_group": "adult", "diagnosis": "breast cancer"}),
    ("a woman in her 40s with AML", {"age": None, "age_group": "adult", "diagnosis": "acute myeloid leukemia"}),
    ("an 8-year-old", {"age": 8, "age_group": "child"}),
    ("a pediatric patient with neuroblastoma", {"age_group": "child", "diagnosis": "neuroblastoma"}),
    ("a teenager with osteosarcoma", {"age_group": "adolescent"}),
    ("an adult with synovial sarcoma", {"age_group": "adult", "diagnosis": "synovial sarcoma"}),
    ("relapsed in the lung 3 years after therapy", {"recurrent": True, "sites": ["lung"], "months_since_therapy": 36}),
    ("18 months off treatment, lung metastases", {"months_since_therapy": 18, "sites": ["lung"]}),
    ("relapse 6 months after completing chemo", {"recurrent": True, "months_since_therapy": 6}),
    ("two resectable nodules", {"lesion_count": 2, "resectable": True}),
    ("3 nodules in both lungs", {"lesion_count": 3, "bilateral": True, "sites": ["lung"]}),
    ("a single nodule, bilateral disease", {"lesion_count": 1, "bilateral": True}),
    ("pulmonary nodules and bone metastases", {"sites": ["lung", "bone"]}),
    ("local recurrence and liver mets", {"sites": ["local", "liver"], "recurrent": True}),
    ("brain metastases and pleural effusion", {"sites": ["brain", "pleura"]}),
    ("second recurrence of osteosarcoma", {"recurrent": True, "recurrence_number": 2}),
    ("at first relapse", {"recurrent": True, "recurrence_number": 1}),
    ("third relapse", {"recurrence_number": 3}),
    ("2nd recurrence", {"recurrence_number": 2}),
    ("recurrent osteosarcoma", {"recurrent": True, "recurrence_number": None}),
    ("unresectable disease", {"resectable": False}),
    ("the nodules are not resectable", {"resectable": False}),
    ("inoperable lung metastases", {"resectable": False, "sites": ["lung"]}),
    ("the nodule can be resected", {"resectable": True}),
    ("ECOG 1", {"ecog": 1}),
    ("ECOG PS 2", {"ecog": 2}),
    ("PS 0", {"ecog": 0}),
    ("KPS 70", {"karnofsky": 70}),
    ("Karnofsky 80", {"karnofsky": 80}),
    ("after 4 lines of chemo", {"lines_of_therapy": 4}),
    ("what are third-line options?", {"lines_of_therapy": 2}),
    ("after third-line therapy", {"lines_of_therapy": 3}),
    ("heavily pretreated", {"lines_of_therapy": None}),
    ("progressed on regorafenib", {"recurrent": True, "prior_agents": ["regorafenib"]}),
    ("received gem/doc", {"prior_agents": ["gemcitabine", "docetaxel"]}),
    ("previously treated with Adriamycin and Ifex", {"prior_agents": ["doxorubicin", "ifosfamide"]}),
    ("completed concurrent cisplatin-etoposide with thoracic RT", {"prior_agents": ["cisplatin", "etoposide"]}),
    ("AML in first CR after 7+3", {"recurrent": False}),
    ("in first complete remission", {"recurrent": False}),
    ("cirrhosis, Child-Pugh B, two HCC nodules", {"age_group": None, "diagnosis": "hepatocellular carcinoma"}),
]


@pytest.mark.parametrize(("question", "expected"), PHRASINGS)
def test_phrasings(normaliser: Normaliser, question: str, expected: dict[str, Any]) -> None:
    assert fields(extract_patient(question, normaliser), *expected) == expected


def test_the_full_story(normaliser: Normaliser) -> None:
    question = (
        "A 16-year-old with osteosarcoma relapsed in the lung 3 years after therapy, two resectable nodules, "
        "ECOG 1. No prior ifosfamide. What are the options?"
    )
    patient = extract_patient(question, normaliser)
    assert fields(patient, "age", "age_group", "recurrent", "sites", "months_since_therapy") == {
        "age": 16,
        "age_group": "adolescent",
        "recurrent": True,
        "sites": ["lung"],
        "months_since_therapy": 36,
    }
    assert (patient.lesion_count, patient.resectable, patient.ecog) == (2, True, 1)
    assert patient.not_received == ["ifosfamide"] and patient.prior_agents == []


@pytest.mark.parametrize(
    "question",
    [
        "no prior ifosfamide",
        "ifosfamide-naive",
        "ifosfamide naive patient",
        "never received ifosfamide",
        "has not had ifosfamide",
        "has not previously been treated with ifosfamide",
        "received MAP but no ifosfamide",
    ],
)
def test_negations(normaliser: Normaliser, question: str) -> None:
    patient = extract_patient(question, normaliser)
    assert patient.not_received == ["ifosfamide"]
    assert "ifosfamide" not in patient.prior_agents


def test_negation_covers_a_list(normaliser: Normaliser) -> None:
    patient = extract_patient("never received ifosfamide or cyclophosphamide", normaliser)
    assert patient.not_received == ["ifosfamide", "cyclophosphamide"]


def test_therapies_keep_order_and_lines(normaliser: Normaliser) -> None:
    patient = extract_patient("first line MAP, second line ifosfamide/etoposide", normaliser)
    assert [(t.regimen, t.line, t.agents) for t in patient.prior_therapies] == [
        ("MAP", 1, ["methotrexate", "doxorubicin", "cisplatin"]),
        ("IE", 2, ["ifosfamide", "etoposide"]),
    ]
    assert patient.lines_of_therapy == 2


def test_then_makes_successive_therapies(normaliser: Normaliser) -> None:
    patient = extract_patient("previously treated with MAP and then IE; what next?", normaliser)
    assert [t.regimen for t in patient.prior_therapies] == ["MAP", "IE"]
    assert [t.line for t in patient.prior_therapies] == [None, None]
    assert patient.prior_agents == ["methotrexate", "doxorubicin", "cisplatin", "ifosfamide", "etoposide"]


def test_a_given_mapping_is_used_as_is() -> None:
    normaliser = Normaliser({"adriamycin": "doxorubicin hydrochloride", "doxorubicin hydrochloride": "doxorubicin"})
    assert normaliser.agents("Adriamycin, then ifos, then MAP") == [
        "doxorubicin",
        "ifosfamide",
        "methotrexate",
        "cisplatin",
    ]
    assert normaliser.agents("regorafenib") == []  # not in the mapping given


def test_a_list_of_therapies_goes_on_past_a_transplant_or_a_phase(normaliser: Normaliser) -> None:
    context = extract_patient(
        "Myeloma relapsed after VRd, ASCT, lenalidomide maintenance, then DPd. Options?", normaliser
    )
    assert context.prior_agents == ["bortezomib", "lenalidomide", "dexamethasone", "daratumumab", "pomalidomide"]
    # A new sentence is not the same list: the drug it names is what is asked about.
    assert extract_patient("Progressed after FOLFOX. Pembrolizumab?", normaliser).prior_agents == [
        "fluorouracil",
        "leucovorin",
        "oxaliplatin",
    ]


def test_a_lost_response_or_a_switch_tells_what_was_received(normaliser: Normaliser) -> None:
    context = extract_patient("CML: lost MMR on imatinib, switched to dasatinib, now rising. Next TKI?", normaliser)
    assert context.prior_agents == ["imatinib", "dasatinib"]
    # A switch proposed is what is asked about.
    assert extract_patient("Should she be switched to dasatinib?", normaliser).prior_agents == []


def test_lines_numbered_after_their_regimens_are_history(normaliser: Normaliser) -> None:
    context = extract_patient("MCL, BR first line, then ibrutinib second line, now progressing. Options?", normaliser)
    assert context.prior_agents == ["bendamustine", "rituximab", "ibrutinib"]
    assert extract_patient("Is ibrutinib first line better than BR first line?", normaliser).prior_agents == []


@pytest.mark.parametrize("written", ["6x R-CHOP", "6 x R-CHOP", "R-CHOP x6", "six cycles of R-CHOP"])
def test_a_count_of_cycles_before_or_after_a_regimen_is_history(normaliser: Normaliser, written: str) -> None:
    context = extract_patient(f"DLBCL, complete response after {written}, now relapsed. Next?", normaliser)
    assert context.prior_agents == ["rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone"]


def test_the_drug_asked_about_is_not_history(normaliser: Normaliser) -> None:
    patient = extract_patient("Is pazopanib an option for osteosarcoma after MAP?", normaliser)
    assert patient.prior_agents == ["methotrexate", "doxorubicin", "cisplatin"]


@pytest.mark.parametrize(
    "question",
    [
        "What is the role of surgery in limb salvage?",
        "What is the best treatment?",
        "How is pazopanib dosed?",
        "Which trials are recruiting?",
        "Summarise the evidence on gem/doc.",
        "How is tacrolimus adjusted in a kidney transplant recipient?",
        "Long-term survival with first-line nivolumab plus ipilimumab?",
    ],
)
def test_no_patient_details_give_an_empty_context(normaliser: Normaliser, question: str) -> None:
    patient = extract_patient(question, normaliser)
    assert patient.is_empty(), patient.model_dump(exclude_defaults=True)


# --- conflicts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "conflict"),
    [
        ("a 12-year-old adult", "age 12 does not fit 'adult'"),
        ("a pediatric patient aged 40", "age 40 does not fit 'pediatric'"),
        ("resectable or unresectable lung nodules", "described as both resectable and unresectable"),
        (
            "received ifosfamide; later notes say never received ifosfamide",
            "ifosfamide is described both as received and as not received",
        ),
    ],
)
def test_contradictions_are_reported(normaliser: Normaliser, question: str, conflict: str) -> None:
    assert conflict in extract_patient(question, normaliser).conflicts


def test_contradictions_are_not_resolved(normaliser: Normaliser) -> None:
    patient = extract_patient("a 12-year-old adult", normaliser)
    assert (patient.age, patient.age_group) == (12, "adult")
    assert extract_patient("resectable or unresectable?", normaliser).resectable is None


# --- regimens and drug names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "agents", "regimen"),
    [
        ("MAP", ["methotrexate", "doxorubicin", "cisplatin"], "MAP"),
        ("IE", ["ifosfamide", "etoposide"], "IE"),
        ("ICE", ["ifosfamide", "carboplatin", "etoposide"], "ICE"),
        ("gem/doc", ["gemcitabine", "docetaxel"], "gem/doc"),
        ("gem-doc", ["gemcitabine", "docetaxel"], "gem/doc"),
        ("GemDoc", ["gemcitabine", "docetaxel"], "gem/doc"),
        ("gemcitabine with docetaxel", ["gemcitabine", "docetaxel"], "gem/doc"),
        ("VDC/IE", ["vincristine", "doxorubicin", "cyclophosphamide", "ifosfamide", "etoposide"], "VDC/IE"),
        ("R-CHOP", ["rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone"], "R-CHOP"),
        ("FOLFOX", ["fluorouracil", "leucovorin", "oxaliplatin"], "FOLFOX"),
        ("ifosfamide/etoposide", ["ifosfamide", "etoposide"], "IE"),
        ("HD-MTX", ["methotrexate"], None),
        ("high-dose MTX", ["methotrexate"], None),
        ("ifos", ["ifosfamide"], None),
        ("dox", ["doxorubicin"], None),
        ("cyclo", ["cyclophosphamide"], None),
        ("carbo", ["carboplatin"], None),
        ("DTIC", ["dacarbazine"], None),
        ("topo", ["topotecan"], None),
        ("Dara-Pd", ["daratumumab", "pomalidomide", "dexamethasone"], "DPd"),
        ("Dara-R", ["daratumumab", "lenalidomide"], "Dara-R"),
        ("FCR", ["fludarabine", "cyclophosphamide", "rituximab"], "FCR"),
        ("aza-ven", ["azacitidine", "venetoclax"], "aza-ven"),
        ("ipi/nivo", ["ipilimumab", "nivolumab"], "ipi/nivo"),
        ("PLD", ["doxorubicin"], None),
        ("ide-cel", ["idecabtagene vicleucel"], None),
        ("T-DM1", ["ado-trastuzumab emtansine"], None),
    ],
)
def test_regimens_and_shorthand(normaliser: Normaliser, text: str, agents: list[str], regimen: str | None) -> None:
    therapy = normaliser.therapy(text)
    assert (therapy.agents, therapy.regimen, therapy.described) == (agents, regimen, text)


@pytest.mark.parametrize(
    ("name", "generic"),
    [
        ("doxorubicin hydrochloride", "doxorubicin"),
        ("Adriamycin", "doxorubicin"),
        ("Doxil", "doxorubicin"),
        ("Taxotere", "docetaxel"),
        ("Taxol", "paclitaxel"),
        ("Gemzar", "gemcitabine"),
        ("Ifex", "ifosfamide"),
        ("Stivarga", "regorafenib"),
        ("leucovorin calcium", "leucovorin"),
    ],
)
def test_brand_and_salt_names_normalise_to_the_base_generic(normaliser: Normaliser, name: str, generic: str) -> None:
    assert normaliser.agents(name) == [generic]


def test_agents_in_order_of_mention_each_once(normaliser: Normaliser) -> None:
    text = "Adriamycin, then MAP, then ifos and doxorubicin"
    assert normaliser.agents(text) == ["doxorubicin", "methotrexate", "cisplatin", "ifosfamide"]


def test_short_capital_regimens_match_only_as_written(normaliser: Normaliser) -> None:
    assert normaliser.agents("a map of the ward, i.e. an ice pack") == []


def test_regimen_list_names_known_generics(drugs: dict[str, str]) -> None:
    generics = set(drugs.values())
    unknown = {a for row in regimen_table() for a in row.agents if a not in generics}
    assert not unknown


# --- patient files -------------------------------------------------------------------------------------------


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "patient.json"
    path.write_text(content, encoding="utf-8")
    return path


def test_a_valid_file(tmp_path: Path, normaliser: Normaliser) -> None:
    data = {
        "age": 16,
        "diagnosis": "Osteosarcoma",
        "sites": ["pulmonary"],
        "prior_therapies": [
            {"described": "MAP", "agents": ["methotrexate", "Adriamycin", "cisplatin"], "regimen": "MAP", "line": 1},
            "gem/doc",
            {"described": "ifosfamide/etoposide", "line": 2},
        ],
        "not_received": ["Stivarga"],
    }
    patient = load_patient_file(write(tmp_path, json.dumps(data)), normaliser)
    assert (patient.age, patient.age_group, patient.diagnosis, patient.sites) == (
        16,
        "adolescent",
        "osteosarcoma",
        ["lung"],
    )
    assert patient.prior_therapies[0].agents == ["methotrexate", "doxorubicin", "cisplatin"]
    assert patient.prior_therapies[1] == PriorTherapy(
        described="gem/doc", agents=["gemcitabine", "docetaxel"], regimen="gem/doc"
    )
    assert patient.prior_therapies[2].agents == ["ifosfamide", "etoposide"]
    assert patient.prior_agents == [
        "methotrexate", "doxorubicin", "cisplatin", "gemcitabine", "docetaxel", "ifosfamide", "etoposide",
    ]  # fmt: skip
    assert patient.not_received == ["regorafenib"]


def test_an_unreadable_file(tmp_path: Path, normaliser: Normaliser) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(PatientFileError, match=r"missing\.json: cannot be read"):
        load_patient_file(missing, normaliser)


def test_invalid_json(tmp_path: Path, normaliser: Normaliser) -> None:
    with pytest.raises(PatientFileError, match=r"patient.json: not valid JSON: .* line 1 column"):
        load_patient_file(write(tmp_path, '{"age": 16,'), normaliser)


def test_not_an_object(tmp_path: Path, normaliser: Normaliser) -> None:
    with pytest.raises(PatientFileError, match="must hold a JSON object"):
        load_patient_file(write(tmp_path, "[16]"), normaliser)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"age": 130}, "patient.json: field 'age': Input should be less than or equal to 120"),
        ({"age": "sixteen"}, "patient.json: field 'age': Input should be a valid number"),
        ({"ecog": 7}, "patient.json: field 'ecog': Input should be less than or equal to 5"),
        ({"sites": "lung"}, "patient.json: field 'sites': Input should be a valid list"),
        ({"prior_therapies": [{"described": "MAP", "agents": "MAP"}]}, "field 'prior_therapies.0.agents'"),
        ({"weight": 50}, "patient.json: field 'weight': Extra inputs are not permitted"),
    ],
)
def test_a_bad_field_is_named(tmp_path: Path, normaliser: Normaliser, data: dict[str, Any], message: str) -> None:
    with pytest.raises(PatientFileError) as caught:
        load_patient_file(write(tmp_path, json.dumps(data)), normaliser)
    assert message in str(caught.value)
    assert isinstance(caught.value, ClinqaError)


# --- merging -------------------------------------------------------------------------------------------------


def test_merge_update_wins_and_lists_combine() -> None:
    base = PatientContext(diagnosis="osteosarcoma", sites=["lung"], prior_agents=["ifosfamide"], ecog=1)
    update = PatientContext(sites=["lung", "bone"], prior_agents=["etoposide", "ifosfamide"], resectable=True)
    merged = merge(base, update)
    assert merged.diagnosis == "osteosarcoma" and merged.ecog == 1 and merged.resectable is True
    assert merged.sites == ["lung", "bone"]
    assert merged.prior_agents == ["ifosfamide", "etoposide"]
    assert merged.conflicts == []


def test_merge_reports_age_against_age_group() -> None:
    merged = merge(PatientContext(age=12), PatientContext(age_group="adult"))
    assert (merged.age, merged.age_group) == (12, "adult")
    assert merged.conflicts == ["age 12 does not fit 'adult'"]


def test_merge_reports_disagreements_and_the_update_wins() -> None:
    merged = merge(PatientContext(age=40, resectable=False), PatientContext(age=41, resectable=True))
    assert (merged.age, merged.resectable) == (41, True)
    assert merged.conflicts == ["age given as 40 and as 41", "resectable given as no and as yes"]


def test_merge_reports_an_agent_received_and_not_received() -> None:
    merged = merge(PatientContext(prior_agents=["ifosfamide"]), PatientContext(not_received=["ifosfamide"]))
    assert merged.conflicts == ["ifosfamide is described both as received and as not received"]


def test_question_over_file(tmp_path: Path, normaliser: Normaliser) -> None:
    from_file = load_patient_file(write(tmp_path, json.dumps({"age": 12, "prior_therapies": ["MAP"]})), normaliser)
    from_question = extract_patient("an adult patient, progressed on regorafenib", normaliser)
    merged = merge(from_file, from_question)
    assert merged.prior_agents == ["methotrexate", "doxorubicin", "cisplatin", "regorafenib"]
    assert "age 12 does not fit 'adult'" in merged.conflicts


@pytest.mark.parametrize(
    ("text", "markers"),
    [
        ("71M RAS-mutant metastatic colon cancer", {"RAS": "positive"}),
        ("stage IV adenocarcinoma, KRAS G12C, PD-L1 30%", {"KRAS": "positive", "RAS": "positive"}),
        ("unresectable stage IIIA NSCLC, EGFR/ALK negative", {"EGFR": "negative", "ALK": "negative"}),
        ("ER+/HER2- metastatic breast cancer", {"ER": "positive", "HER2": "negative"}),
        ("recurrent pMMR endometrioid endometrial cancer", {"MMR": "negative"}),
        ("metastatic osteosarcoma after 4 lines", {}),
    ],
)
def test_tumour_markers_are_read_with_their_status(normaliser: Normaliser, text: str, markers: dict[str, str]) -> None:
    assert extract_patient(text, normaliser).biomarkers == markers


@pytest.mark.parametrize(
    ("text", "unfit"),
    [
        ("76F classic HL relapsed after BV-AVD, not a transplant candidate", ["transplant"]),
        ("newly diagnosed myeloma, transplant-ineligible", ["transplant"]),
        (
            "AML in a 75-year-old who is unfit for intensive chemotherapy",
            ["intensive chemotherapy", "intensive therapy"],
        ),
        ("cisplatin-ineligible urothelial carcinoma", ["cisplatin"]),
        ("an 81-year-old with a stage I renal mass who is not a surgical candidate", ["surgery"]),
        ("frail 84-year-old with recurrent endometrial cancer", ["intensive therapy"]),
        ("relapsed Hodgkin lymphoma, candidate for autologous transplant", []),
    ],
)
def test_treatments_the_patient_cannot_have_are_read(normaliser: Normaliser, text: str, unfit: list[str]) -> None:
    assert extract_patient(text, normaliser).unfit_for == unfit


@pytest.mark.parametrize(
    ("sentence", "patient", "mismatch"),
    [
        (
            "The FDA approved panitumumab for metastatic colorectal cancer refractory to chemotherapy.",
            "RAS-mutant",
            True,
        ),
        (
            "The FDA approved panitumumab for metastatic colorectal cancer refractory to chemotherapy.",
            "RAS wild-type",
            False,
        ),
        ("Sotorasib was combined with panitumumab in colorectal cancer.", "KRAS G12C", False),
        ("Osimertinib improved overall survival.", "EGFR/ALK negative", True),
        ("Trastuzumab deruxtecan improved survival.", "HER2-negative", False),
        ("Trastuzumab added to chemotherapy improved survival.", "HER2-negative", True),
    ],
)
def test_an_agent_given_for_another_marker_status_does_not_apply(sentence: str, patient: str, mismatch: bool) -> None:
    assert (conflict(sentence, markers_in(patient)) is not None) is mismatch


@pytest.mark.parametrize(
    ("question", "markers"),
    [
        ("Platinum-resistant ovarian cancer, FRα-high, after PLD. Next?", {"FRα": "positive"}),
        ("Gastric cancer, CLDN18.2-positive, HER2-negative: first line?", {"CLDN18.2": "positive", "HER2": "negative"}),
        ("Folate receptor alpha–positive ovarian cancer", {"FRα": "positive"}),
        ("AML with an FLT3-ITD, relapsed after 7+3 with midostaurin", {"FLT3": "positive"}),
        ("Pancreatic cancer with a germline BRCA2 pathogenic variant", {"BRCA": "positive"}),
        ("gBRCAm breast cancer", {"BRCA": "positive"}),
        ("Triple-negative breast cancer, no pCR", {"HER2": "negative", "ER": "negative", "PR": "negative"}),
    ],
)
def test_more_tumour_markers_are_read(normaliser: Normaliser, question: str, markers: dict[str, str]) -> None:
    assert extract_patient(question, normaliser).biomarkers == markers


@pytest.mark.parametrize(
    "text",
    [
        "Event-free survival at 10 years was 60%.",
        "Overexpression of human epidermal growth factor receptor 2 and an elevated lactate dehydrogenase.",
        "A thyroid gland ultrasound, an alpha-fetoprotein level and an FDG PET scan.",
    ],
)
def test_markers_tracers_and_ordinary_phrases_are_no_agents(normaliser: Normaliser, text: str) -> None:
    assert normaliser.agents(text) == []
    assert normaliser.agents(f"{text} Then cisplatin.") == ["cisplatin"]


@pytest.mark.parametrize(
    ("question", "received"),
    [
        (
            "HER2+ breast cancer, neoadjuvant TCHP (docetaxel, carboplatin, trastuzumab, pertuzumab); residual "
            "invasive disease at surgery. Adjuvant therapy?",
            True,
        ),
        ("HER2+ breast cancer, neoadjuvant TCHP with a pCR. Adjuvant therapy?", True),
        ("Should neoadjuvant TCHP be given for cT2N1 HER2+ breast cancer?", False),
    ],
)
def test_a_therapy_followed_by_what_it_left_was_received(normaliser: Normaliser, question: str, received: bool) -> None:
    agents = extract_patient(question, normaliser).prior_agents
    assert agents == (["docetaxel", "carboplatin", "trastuzumab", "pertuzumab"] if received else [])


def test_a_section_headed_by_another_marker_status_offers_nothing_to_the_patient() -> None:
    def candidate(*path: str) -> Candidate:
        passage = Passage(
            id="b#1", document_id="b", ordinal=0, section_path=path, kind="paragraph", text=TEXT, citations=()
        )
        return Candidate(split_passage(passage)[0], frozenset(), 0.0, 0.0)

    her2_positive = {"HER2": "positive"}
    assert for_other_marker_status(candidate("Early Breast Cancer", "Triple-Negative Breast Cancer"), her2_positive)
    assert for_other_marker_status(candidate("Metastatic HER2-Negative Breast Cancer", "CDK4/6"), her2_positive)
    assert not for_other_marker_status(candidate("Early Breast Cancer", "HER2-Positive Breast Cancer"), her2_positive)
    assert not for_other_marker_status(candidate("Triple-Negative Breast Cancer"), {})  # no marker told


TEXT = "Pembrolizumab added to neoadjuvant chemotherapy improved event-free survival."
