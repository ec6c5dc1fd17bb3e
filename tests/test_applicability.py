"""Applicability rules on source-like sentences: each flag says why."""

from __future__ import annotations

from clinqa.clinical.applicability import assess
from clinqa.types import FlagKind, PatientContext, PriorTherapy

IFOSFAMIDE = (
    "Ifosfamide alone with mesna uroprotection, or in combination with etoposide, has been active in as many as "
    "one-third of patients with recurrent osteosarcoma who have not previously received this drug."
)


def kinds(sentence: str, agents: list[str], patient: PatientContext) -> dict[FlagKind, list[str]]:
    out: dict[FlagKind, list[str]] = {}
    for flag in assess(sentence, agents, patient):
        out.setdefault(flag.kind, []).append(flag.reason)
    return out


def test_drug_naive_figure_does_not_apply_after_the_drug() -> None:
    patient = PatientContext(
        prior_agents=["ifosfamide"], prior_therapies=[PriorTherapy(described="ifos", agents=["ifosfamide"], line=2)]
    )
    flags = kinds(IFOSFAMIDE, ["ifosfamide", "mesna", "etoposide"], patient)
    assert "already received ifosfamide (line 2)" in flags[FlagKind.PREVIOUSLY_RECEIVED][0]
    (mismatch,) = flags[FlagKind.POPULATION_MISMATCH]
    assert "not received ifosfamide" in mismatch
    assert FlagKind.UNKNOWN_ELIGIBILITY not in flags, "mesna and etoposide are not what the sentence is about"


def test_drug_naive_figure_applies_when_the_patient_is_naive() -> None:
    assert kinds(IFOSFAMIDE, ["ifosfamide"], PatientContext(not_received=["ifosfamide"])) == {}
    unknown = kinds(IFOSFAMIDE, ["ifosfamide"], PatientContext(age=15))
    assert "whether this patient has is not stated" in unknown[FlagKind.UNKNOWN_ELIGIBILITY][0]


def test_age_limits() -> None:
    sentence = "This is a phase II study for patients aged 13 years and older with a first or second recurrence."
    too_young = kinds(sentence, [], PatientContext(age=10, recurrence_number=1))
    assert "aged 13 years or older; this patient is 10" in too_young[FlagKind.POPULATION_MISMATCH][0]
    assert kinds(sentence, [], PatientContext(age=16, recurrence_number=2)) == {}
    assert FlagKind.UNKNOWN_ELIGIBILITY in kinds(sentence, [], PatientContext(recurrence_number=1))
    adults = "The SARC group randomly assigned adult patients to regorafenib or placebo."
    assert FlagKind.POPULATION_MISMATCH in kinds(adults, ["regorafenib"], PatientContext(age_group="child"))


def test_recurrence_number() -> None:
    sentence = "Patients with a first or second recurrence whose disease can be resected were eligible."
    third = kinds(sentence, [], PatientContext(recurrence_number=3, resectable=True))
    assert "recurrence number 3" in third[FlagKind.POPULATION_MISMATCH][0]


def test_resectability() -> None:
    sentence = "The 5-year EFS rate ranges from 20% to 45% for patients who have complete surgical resection."
    unresectable = kinds(sentence, [], PatientContext(resectable=False))
    assert "unresectable" in unresectable[FlagKind.POPULATION_MISMATCH][0]
    assert FlagKind.UNKNOWN_ELIGIBILITY in kinds(sentence, [], PatientContext(age=16))
    assert kinds(sentence, [], PatientContext(resectable=True)) == {}


def test_newly_diagnosed_evidence_does_not_apply_to_a_recurrence() -> None:
    sentence = "Patients with localized osteosarcoma who undergo surgery and chemotherapy have a 5-year OS of 62%."
    flags = kinds(sentence, [], PatientContext(recurrent=True))
    assert "recurred" in flags[FlagKind.POPULATION_MISMATCH][0]
    assert kinds(sentence, [], PatientContext(age=15)) == {}


def test_an_agent_of_a_class_already_received_is_flagged_with_the_class() -> None:
    patient = PatientContext(
        recurrent=True,
        prior_agents=["dabrafenib", "trametinib"],
        prior_therapies=[PriorTherapy(described="dabrafenib/trametinib", agents=["dabrafenib", "trametinib"])],
    )
    sentence = "Vemurafenib improved survival compared with dacarbazine in BRAF V600E melanoma."
    flags = kinds(sentence, ["vemurafenib", "dacarbazine"], patient)
    (reason,) = flags[FlagKind.SAME_CLASS_RECEIVED]
    assert "vemurafenib is a BRAF inhibitor, as is dabrafenib" in reason
    assert FlagKind.PREVIOUSLY_RECEIVED not in flags, "the patient had neither vemurafenib nor dacarbazine"
    # An agent of another class, and an agent the patient had itself, get no class flag.
    assert FlagKind.SAME_CLASS_RECEIVED not in kinds("Nivolumab is an option.", ["nivolumab"], patient)
    assert FlagKind.SAME_CLASS_RECEIVED not in kinds("Dabrafenib is active.", ["dabrafenib"], patient)


def test_evidence_for_another_marker_status_is_a_population_mismatch() -> None:
    patient = PatientContext(biomarkers={"RAS": "positive"})  # a RAS-mutant tumour
    flags = kinds(
        "Panitumumab improved survival in RAS wild-type metastatic colorectal cancer.", ["panitumumab"], patient
    )
    (reason,) = flags[FlagKind.POPULATION_MISMATCH]
    assert "RAS wild-type" in reason and "RAS altered" in reason
    assert kinds("Trifluridine-tipiracil improved overall survival.", ["trifluridine"], patient) == {}
    # A narrower marker required altered does not apply to a tumour whose broader marker is wild-type.
    wild = PatientContext(biomarkers={"RAS": "negative"})
    assert FlagKind.POPULATION_MISMATCH in kinds("Sotorasib is approved for KRAS G12C-mutated cancer.", [], wild)
