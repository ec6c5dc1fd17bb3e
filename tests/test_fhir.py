"""A patient read from a FHIR R4 record: tiny bundles of our own (tests/fixtures/fhir) for the cases the real data
lack (chemotherapy as MedicationAdministration, a relapse, a stop for toxicity), and the real Synthea and mCODE
files in ../shared/data/fhir when they are there."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from clinqa.clinical.patient import extract_patient, load_patient_file
from clinqa.clinical.regimens import Normaliser
from clinqa.errors import ClinqaError, RecordError
from clinqa.types import PatientContext

FIXTURES = Path(__file__).parent / "fixtures" / "fhir"
RELAPSE = FIXTURES / "relapsed-osteosarcoma.json"
REQUESTS = FIXTURES / "breast-requests.ndjson"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fhir"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/fhir is not beside the checkout")
# The fields both readers fill: a record also gives dates, stage, procedures and provenance, a sentence does not.
COMPARED = {"age", "age_group", "diagnosis", "recurrent", "sites", "ecog", "karnofsky", "prior_agents"}


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return Normaliser()


def age_on(born: dt.date, at: dt.date | None = None) -> int:
    at = at or dt.date.today()
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))


def same_patient(record: PatientContext, text: PatientContext) -> None:
    assert record.model_dump(include=COMPARED) == text.model_dump(include=COMPARED)


def test_a_relapse_with_administrations(normaliser: Normaliser) -> None:
    patient = load_patient_file(RELAPSE, normaliser)
    assert patient.age == age_on(dt.date(2009, 3, 14))
    assert (patient.diagnosis, patient.recurrent, patient.sites, patient.ecog) == ("osteosarcoma", True, ["lung"], 1)
    first, second = patient.prior_therapies
    assert (first.regimen, first.line, first.started, first.ended) == (
        "MAP",
        1,
        dt.date(2022, 1, 17),
        dt.date(2022, 8, 30),
    )
    assert (second.agents, second.line, second.stopped_for) == (["ifosfamide", "etoposide"], 2, "progression")
    assert patient.lines_of_therapy == 2
    assert [p.kind for p in patient.prior_procedures] == ["surgery"]


def test_each_fact_names_its_resources_and_the_unreadable_are_listed(normaliser: Normaliser) -> None:
    record = load_patient_file(RELAPSE, normaliser).record
    assert record is not None and record.patient_id == "ost-1"
    facts = {f.fact: f.resources for f in record.facts}
    assert facts["diagnosis: osteosarcoma"] == ["Condition/ost-primary"]
    assert facts["ECOG 1"] == ["Observation/ost-ecog"]
    assert facts["line 2: ifosfamide + etoposide, stopped for progression"] == [
        "MedicationAdministration/ie-ifo",
        "MedicationAdministration/ie-eto",
    ]
    unread = {u.resource: u.reason for u in record.unread}
    assert unread == {
        "Observation/ost-ecog-bad": "ecog value 9 is not a score from 0 to 5",
        "MedicationAdministration/no-drug": "names no medication",
    }


def test_the_record_and_the_sentence_give_the_same_patient(normaliser: Normaliser) -> None:
    age = age_on(dt.date(2009, 3, 14))
    text = f"{age}-year-old with recurrent osteosarcoma with lung metastases, ECOG 1, after MAP, then ifosfamide and"
    text += " etoposide"
    same_patient(load_patient_file(RELAPSE, normaliser), extract_patient(text, normaliser))


def test_ndjson_requests_for_cancer_only_and_a_stop_for_toxicity(normaliser: Normaliser) -> None:
    patient = load_patient_file(REQUESTS, normaliser)
    assert patient.diagnosis == "breast cancer"  # ICD-10 C50.912, a prefix row of fhir_codes.tsv
    assert [(t.regimen, t.stopped_for) for t in patient.prior_therapies] == [("AC", None), (None, "toxicity")]
    assert "acetaminophen" not in patient.prior_agents  # not ordered for the cancer
    assert patient.karnofsky == 80


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"resourceType": "Bundle", "entry": [{"fullUrl": "x"}]}', r"Bundle\.entry\[0\]: has no resource"),
        ('{"resourceType": "Bundle", "entry": {}}', "Bundle.entry is not a list"),
    ],
)
def test_a_bad_record_is_named(tmp_path: Path, normaliser: Normaliser, content: str, message: str) -> None:
    path = tmp_path / "record.json"
    path.write_text(content)
    with pytest.raises(ClinqaError, match=message) as raised:
        load_patient_file(path, normaliser)
    assert str(path) in str(raised.value)


def test_several_patients_need_an_id(tmp_path: Path, normaliser: Normaliser) -> None:
    path = tmp_path / "two.ndjson"
    path.write_text(REQUESTS.read_text() + json.dumps({"resourceType": "Patient", "id": "other"}) + "\n")
    with pytest.raises(RecordError, match="holds 2 patients"):
        load_patient_file(path, normaliser)
    assert load_patient_file(path, normaliser, "br-2").diagnosis == "breast cancer"
    with pytest.raises(RecordError, match="no Patient with id 'nobody'"):
        load_patient_file(path, normaliser, "nobody")


def test_a_record_over_the_size_limit_is_refused(tmp_path: Path, normaliser: Normaliser) -> None:
    from clinqa.settings import configure, reset

    configure(record={"max_bytes": 1024})
    try:
        with pytest.raises(ClinqaError, match=r"more than record\.max_bytes"):
            load_patient_file(RELAPSE, normaliser)
    finally:
        reset()


@needs_shared
def test_mcode_bundle_is_the_patient_the_sentence_describes(normaliser: Normaliser) -> None:
    patient = load_patient_file(SHARED / "mcode" / "ctm-app_TrialMatching_Patient01.json", normaliser)
    age = age_on(dt.date(1959, 1, 1))
    text = (
        f"{age}-year-old woman with breast cancer metastatic to the lymph nodes, liver and bone, ECOG 1, after"
        " leuprolide, fulvestrant and abemaciclib, then ribociclib"
    )
    same_patient(patient, extract_patient(text, normaliser))
    assert patient.stage == "IV"
    assert [t.agents for t in patient.prior_therapies] == [
        ["leuprolide", "fulvestrant", "abemaciclib"],
        ["fulvestrant", "ribociclib"],
    ]


@needs_shared
def test_every_mcode_bundle_reads_without_unread_resources(normaliser: Normaliser) -> None:
    for path in sorted((SHARED / "mcode").glob("*.json")):
        patient = load_patient_file(path, normaliser)
        assert patient.diagnosis in ("breast cancer", "colon cancer"), path.name
        assert patient.record is not None and patient.record.unread == [], path.name


@needs_shared
def test_the_synthea_cancer_patient_from_the_bulk_export(normaliser: Normaliser) -> None:
    folder = SHARED / "synthea-10-patients"
    with pytest.raises(RecordError, match="holds 13 patients"):
        load_patient_file(folder, normaliser)
    patient = load_patient_file(folder, normaliser, "129c6ac7-8d06-89de-ad63-0204a93e76c3")
    assert patient.age == 61  # at death, 1989-05-09
    (line,) = patient.prior_therapies
    assert (line.agents, line.started, line.ended) == (
        ["cisplatin", "paclitaxel"],
        dt.date(1984, 11, 1),
        dt.date(1989, 4, 1),
    )
    assert patient.record is not None
    assert "earlier primary cancer: non-small cell lung cancer" in [f.fact for f in patient.record.facts]
