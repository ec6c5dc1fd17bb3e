"""Trials: registry files, trials named in guidelines, and criterion-by-criterion matching, on the real samples
under ../shared (ClinicalTrials.gov v2/v1 JSON and XML, NCI CTS, registry descriptions, the seed page, PDQ)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinqa.errors import IngestError
from clinqa.ingest import parse_file
from clinqa.trials import match_trial, parse_trial_file, parse_trial_records, rank_trials, trials_in_guideline
from clinqa.types import CriterionVerdict, Document, Passage, PatientContext, Trial, TrialMatch

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TRIALS = SHARED / "data" / "trials"
CTGOV = TRIALS / "clinicaltrials-gov"
CTS = TRIALS / "nci-cts"
DESCRIPTIONS = TRIALS / "sarcoma-descriptions" / "sarcoma_trial_descriptions.jsonl"
SEED = SHARED / "seeds" / "000_e9b37f1732a04d97.txt"
PDQ = SHARED / "data" / "pdq" / "pdq" / "types-bone-hp-osteosarcoma-treatment-pdq.md"
MAP_AND_IFOSFAMIDE = ["doxorubicin", "cisplatin", "methotrexate", "ifosfamide"]

pytestmark = pytest.mark.skipif(not TRIALS.is_dir() or not SEED.is_file(), reason="../shared is not beside the project")


def only(path: Path) -> Trial:
    trials = parse_trial_file(path)
    assert len(trials) == 1
    return trials[0]


def verdicts(match: TrialMatch) -> dict[str, CriterionVerdict]:
    return {c.criterion: c for c in match.criteria}


@pytest.fixture(scope="module")
def seed_trial() -> Trial:
    (trial,) = trials_in_guideline(parse_file(SEED))
    return trial


@pytest.fixture(scope="module")
def pdq_trials() -> list[Trial]:
    return trials_in_guideline(parse_file(PDQ))


@pytest.fixture()
def teenager() -> PatientContext:
    """16, second recurrence of osteosarcoma, resectable, after MAP and ifosfamide."""
    return PatientContext(
        age=16,
        diagnosis="osteosarcoma",
        recurrent=True,
        recurrence_number=2,
        resectable=True,
        prior_agents=MAP_AND_IFOSFAMIDE,
    )


# --- registry files ----------------------------------------------------------------------------------------


def test_ctgov_v2_json() -> None:
    trial = only(CTGOV / "json" / "NCT00763412.json")
    assert trial.id == "NCT00763412"
    assert (
        trial.title == "Pilot and Feasibility Study for the Treatment of Pre-diabetes in Patients With Cystic Fibrosis"
    )
    assert (trial.status, trial.recruiting, trial.phase) == ("COMPLETED", False, "N/A")
    assert (trial.min_age_years, trial.max_age_years) == (12, 24)
    assert trial.conditions == ("Cystic Fibrosis Related Diabetes", "Pancreatic Insufficiency")
    assert trial.interventions == ("repaglinide",)  # the placebo arm is no drug
    assert trial.inclusion[0] == "Male or females 12 -24 years old"
    assert "fasting blood glucose <126 mg/dl" in trial.inclusion[2]  # Markdown escape '\<' undone
    assert trial.exclusion[0] == "Patients receiving growth hormone therapy or taking insulin"
    assert (trial.source, trial.url) == ("clinicaltrials.gov-v2", "https://clinicaltrials.gov/study/NCT00763412")


def test_ctgov_v2_statuses_nested_items_and_id_from_content() -> None:
    assert only(CTGOV / "json" / "NCT06171568.json").recruiting is False  # NOT_YET_RECRUITING
    assert only(CTGOV / "json" / "NCT03475563.json").recruiting is None  # UNKNOWN
    sparse = only(CTGOV / "json" / "NCT03453554.json")  # identification module only
    assert (sparse.status, sparse.inclusion, sparse.min_age_years) == (None, (), None)
    misfiled = only(CTGOV / "json" / "NCT02278341.json")  # the file holds another study
    assert misfiled.id == "NCT02552212"
    assert (
        "Active disease at Screening as defined by\n"
        "* Bath Ankylosing Spondylitis Disease Activity Index (BASDAI) score >= 4\n"
        "* Spinal pain >= 4 on a 0 to 10 Numerical Rating Scale (NRS)"
    ) in misfiled.inclusion


def test_ctgov_v1_full_studies_json() -> None:
    trial = only(CTGOV / "json" / "NCT04780763.json")
    assert (trial.id, trial.status, trial.recruiting) == ("NCT04780763", "Not yet recruiting", False)
    assert (trial.min_age_years, trial.max_age_years, trial.source) == (20, 30, "clinicaltrials.gov-v1")
    lung = only(CTGOV / "json" / "NCT00023673.json")
    assert (lung.phase, lung.interventions) == ("Phase 1/Phase 2", ("carboplatin", "paclitaxel"))
    assert "Chemotherapy: No prior chemotherapy for current lung cancer" in lung.inclusion


def test_ctgov_xml() -> None:
    trial = only(CTGOV / "xml" / "NCT00001177.xml")
    assert trial.title == "Study of Premenstrual Syndrome and Premenstrual Dysphoria"
    assert (trial.status, trial.recruiting, trial.source) == ("Recruiting", True, "clinicaltrials.gov-xml")
    assert (trial.min_age_years, trial.max_age_years) == (18, 50)
    assert "age 18 to 50;" in trial.inclusion
    # a hard-wrapped item comes back as one line
    assert trial.inclusion[1].startswith("history within the last two years of at least six months with")
    assert trial.inclusion[1].endswith("associated with a notable degree of subjective distress;")
    assert len(trial.exclusion) == 2
    infants = only(CTGOV / "xml" / "NCT02708238.xml")
    assert (infants.min_age_years, infants.max_age_years) == (None, 0.3333)  # N/A, 4 Months
    lung = only(CTGOV / "xml" / "NCT00023673.xml")
    assert lung.inclusion[0] == (
        "Histologically or cytologically confirmed unresectable stage IIIB non-small cell lung cancer\n"
        "- Squamous cell carcinoma\n- Adenocarcinoma\n- Large cell carcinoma\n"
        "- Non-small cell carcinoma not otherwise specified"
    )
    withheld = only(CTGOV / "xml" / "NCT03182660.xml")
    assert (withheld.status, withheld.recruiting) == ("Withheld", None)


def test_every_ctgov_sample_parses() -> None:
    files = [p for p in sorted(CTGOV.rglob("*")) if p.suffix in {".json", ".xml"}]
    for path in files:
        trials, errors = parse_trial_records(path)
        assert len(trials) == 1 and not errors, path
    assert len(files) == 16 + 60


def test_nci_cts_full_record() -> None:
    trial = only(CTS / "NCI-2020-08118.full.json")
    assert trial.id == "NCT04681105"
    assert trial.title.startswith("Flotetuzumab for the Treatment of Relapsed or Refractory Advanced CD123-Positive")
    assert (trial.status, trial.recruiting, trial.phase) == ("Active", True, "Phase 1")
    assert (trial.min_age_years, trial.max_age_years) == (12, None)  # '999 Years' is no limit
    assert (len(trial.inclusion), len(trial.exclusion)) == (22, 18)
    assert trial.inclusion[2] == "Eastern Cooperative Oncology Group (ECOG) =< 2"
    assert trial.exclusion[-1].startswith("Prospective participants who, in the opinion of the investigator")
    assert "Flotetuzumab" in trial.interventions and "Analgesic Agent" not in trial.interventions
    assert "Recurrent B Acute Lymphoblastic Leukemia" in trial.conditions and "Neoplasm" not in trial.conditions


def test_nci_cts_lines() -> None:
    trials = {t.id: t for t in parse_trial_file(CTS / "nci_cts_trials.jsonl")}
    assert len(trials) == 348
    first = trials["NCT00495300"]
    assert first.title == "Collection of Samples and Data for the National Marrow Donor Program Repository"
    assert (first.min_age_years, first.max_age_years, first.source) == (3, None, "nci-cts")
    ivosidenib = trials["NCT04195555"]
    assert (ivosidenib.min_age_years, ivosidenib.max_age_years) == (1, 21)  # '12 Months' to '21 Years'
    assert "Refractory Osteosarcoma" in ivosidenib.conditions
    assert (trials["NCT02143414"].status, trials["NCT02143414"].recruiting) == ("Temporarily Closed to Accrual", False)
    assert trials["NCT02943265"].recruiting is None  # Enrolling by Invitation
    assert len(parse_trial_file(CTS / "sarcoma_subset.jsonl")) == 36


def test_registry_descriptions() -> None:
    trials = parse_trial_file(DESCRIPTIONS)
    assert len(trials) == 531
    first = trials[0]
    assert (first.id, first.title) == (
        "NCT00000660",
        "Phase I Study of Weekly Oral VP-16 for AIDS-Associated Kaposi's Sarcoma.",
    )
    assert (first.status, first.recruiting, first.inclusion, first.source) == (None, None, (), "registry-description")


def test_bad_lines_are_reported_by_name_and_the_rest_kept(tmp_path: Path) -> None:
    lines = (CTS / "sarcoma_subset.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = '{"nct_id": "NCT01419561", "brief_title": '  # cut short
    lines[4] = lines[4].replace('"nct_id": "', '"nct_id": "X')
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    trials, errors = parse_trial_records(broken)

    assert len(trials) == 34
    assert [(e.path, e.reason.split(":")[0]) for e in errors] == [(str(broken), "line 3"), (str(broken), "line 5")]
    assert "not JSON" in errors[0].reason and "is not an NCT identifier" in errors[1].reason
    assert len(parse_trial_file(broken)) == 34


def test_unusable_files_raise(tmp_path: Path) -> None:
    cases = {
        "garbled.json": "{not json",
        "all-bad.jsonl": '{"nct_id": "NCT1"}\n[1, 2]\n',
        "notes.csv": "nct_id,title\n",
        "bomb.xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><clinical_study>&a;</clinical_study>',
        "other.xml": "<search_results/>",
        "empty.jsonl": "\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(IngestError) as raised:
            parse_trial_file(path)
        assert raised.value.path == str(path), name
    with pytest.raises(IngestError, match="no such file"):
        parse_trial_file(tmp_path / "missing.json")


# --- trials named in guidelines ----------------------------------------------------------------------------


def test_seed_guideline_trial(seed_trial: Trial) -> None:
    document = parse_file(SEED)
    assert seed_trial.id == "NCT01650090"
    assert seed_trial.title == "Phase 2 Study of Inhaled Lipid Cisplatin in Pulmonary Recurrent Osteosarcoma"
    assert (seed_trial.min_age_years, seed_trial.max_age_years) == (13, None)
    assert (seed_trial.status, seed_trial.recruiting, seed_trial.phase) == (None, None, "Phase 2")
    assert seed_trial.inclusion == (
        "This is a phase II study of inhaled lipid-encapsulated cisplatin for patients aged 13 years and older who "
        "have a first or second recurrence of osteosarcoma, whose macroscopic disease can be resected, and who have "
        "microscopic residual disease.",
    )
    assert seed_trial.source == f"guideline:{document.id}"
    assert seed_trial.url == "https://clinicaltrials.gov/study/NCT01650090"


def test_pdq_guideline_trials(pdq_trials: list[Trial]) -> None:
    by_id = {t.id: t for t in pdq_trials}
    assert list(by_id) == ["NCT05691478", "NCT05235165", "NCT04539366", "NCT03811886"]  # order of first mention
    assert by_id["NCT05235165"].title == (
        "Thoracotomy Versus Thoracoscopic Management of Pulmonary Metastases in Patients With Osteosarcoma"
    )
    assert by_id["NCT05235165"].phase == "Phase 3"
    assert by_id["NCT04539366"].title.endswith("with Relapsed/Refractory Osteosarcoma and Neuroblastoma")
    assert by_id["NCT04539366"].inclusion == ()  # its description says nothing about who may take part
    assert any("newly diagnosed" in s for s in by_id["NCT05691478"].inclusion)
    assert all(t.status is None for t in pdq_trials)


# --- eligibility -------------------------------------------------------------------------------------------


def test_seed_trial_for_a_16_year_old_at_second_recurrence(seed_trial: Trial, teenager: PatientContext) -> None:
    found = verdicts(match_trial(seed_trial, teenager))
    assert found["age"].verdict == "met"
    assert found["age"].reason == "record requires age ≥ 13 years; patient is 16"
    assert found["recurrence"].verdict == "met"
    assert (
        "first or second recurrence" in found["recurrence"].reason and "second recurrence" in found["recurrence"].reason
    )
    assert found["resectability"].verdict == "met" and "can be resected" in found["resectability"].reason
    assert found["condition"].verdict == "met"
    assert found["status"].verdict == "unknown"


def test_seed_trial_for_a_10_year_old(seed_trial: Trial, teenager: PatientContext) -> None:
    found = verdicts(match_trial(seed_trial, teenager.model_copy(update={"age": 10})))
    assert found["age"].verdict == "not_met"
    assert found["age"].reason == "record requires age ≥ 13 years; patient is 10"


def test_recurrence_number_and_resectability_against_the_record(seed_trial: Trial, teenager: PatientContext) -> None:
    third = verdicts(match_trial(seed_trial, teenager.model_copy(update={"recurrence_number": 3})))
    assert third["recurrence"].verdict == "not_met" and "third recurrence" in third["recurrence"].reason
    unresectable = verdicts(match_trial(seed_trial, teenager.model_copy(update={"resectable": False})))
    assert unresectable["resectability"].verdict == "not_met"
    untold = verdicts(match_trial(seed_trial, PatientContext(diagnosis="osteosarcoma")))
    assert {untold[c].verdict for c in ("age", "recurrence", "resectability")} == {"unknown"}


def test_age_group_when_age_is_not_given(seed_trial: Trial) -> None:
    assert verdicts(match_trial(seed_trial, PatientContext(age_group="adult")))["age"].verdict == "met"
    assert verdicts(match_trial(seed_trial, PatientContext(age_group="child")))["age"].verdict == "not_met"
    ivosidenib = next(t for t in parse_trial_file(CTS / "sarcoma_subset.jsonl") if t.id == "NCT04195555")
    assert verdicts(match_trial(ivosidenib, PatientContext(age_group="adult")))["age"].verdict == "unknown"  # 1–21


def test_newly_diagnosed_trial_is_not_for_a_recurrent_patient(
    pdq_trials: list[Trial], teenager: PatientContext
) -> None:
    aost2032 = next(t for t in pdq_trials if t.id == "NCT05691478")
    found = verdicts(match_trial(aost2032, teenager))
    assert found["recurrence"].verdict == "not_met"
    assert "Newly Diagnosed" in found["recurrence"].reason


def test_excluded_prior_agent_is_not_met_with_the_reason() -> None:
    dupilumab_trial = only(CTGOV / "json" / "NCT02210780.json")
    patient = PatientContext(diagnosis="atopic dermatitis", age=30, prior_agents=["dupilumab"])
    found = verdicts(match_trial(dupilumab_trial, patient))
    assert found["prior therapy"].verdict == "not_met"
    assert "Prior treatment with dupilumab" in found["prior therapy"].reason
    assert "patient received dupilumab" in found["prior therapy"].reason
    naive = verdicts(match_trial(dupilumab_trial, patient.model_copy(update={"prior_agents": ["methotrexate"]})))
    assert naive["prior therapy"].verdict == "met"


def test_excluded_drug_class_matches_generic_names(teenager: PatientContext) -> None:
    lung = only(CTGOV / "xml" / "NCT00023673.xml")  # 'No prior chemotherapy for current lung cancer'
    found = verdicts(match_trial(lung, teenager))
    assert found["prior therapy"].verdict == "not_met"
    assert "No prior chemotherapy" in found["prior therapy"].reason and "cisplatin" in found["prior therapy"].reason
    assert found["recurrence"].verdict == "not_met"  # 'No stage IV or recurrent disease'
    assert found["resectability"].verdict == "not_met"  # 'unresectable stage IIIB'
    assert found["condition"].verdict == "not_met"


def test_record_without_criteria_gives_only_unknown(teenager: PatientContext) -> None:
    kaposi = parse_trial_file(DESCRIPTIONS)[0]  # title only: no status, ages or criteria
    for patient in (teenager, PatientContext()):
        match = match_trial(kaposi, patient)
        assert match.criteria and {c.verdict for c in match.criteria} == {"unknown"}
        assert match.eligible


def test_ranking_puts_eligible_first(seed_trial: Trial, pdq_trials: list[Trial], teenager: PatientContext) -> None:
    registry = [t for t in parse_trial_file(CTS / "nci_cts_trials.jsonl") if t.id in {"NCT04195555", "NCT04681105"}]
    trials = [*registry, *pdq_trials, seed_trial]

    ranked = rank_trials(trials, teenager)

    eligible = [m.eligible for m in ranked]
    assert eligible == sorted(eligible, reverse=True) and True in eligible and False in eligible
    ids = [m.id for m in ranked]
    assert ids.index("NCT01650090") < ids.index("NCT05691478")  # newly diagnosed AOST2032 is not eligible
    assert ids[0] == "NCT04195555"  # eligible, as many criteria met as the seed trial, and recruiting
    assert [m.id for m in rank_trials(reversed(trials), teenager)] == ids  # deterministic


def test_a_trial_mentioned_without_title_or_label_is_titled_by_its_page() -> None:
    passage = Passage(
        id="p1",
        document_id="doc",
        ordinal=0,
        section_path=("Treatment",),
        kind="paragraph",
        text="A randomized trial (NCT00000001) compared two schedules of radiation therapy.",
    )
    document = Document(
        id="doc",
        title="Example Cancer Treatment",
        source_path="doc.md",
        format="plain-text",
        content_hash="0",
        sections=(),
        passages=(passage,),
        references=(),
    )
    (trial,) = trials_in_guideline(document)
    assert trial.title == "Trial named in Example Cancer Treatment"
    assert trial.conditions == ("Example Cancer Treatment",)
