"""A patient read from a FHIR R4 record: the `PatientContext` the question reader would give, with the resource
each fact came from (`PatientContext.record`).

What is read: Patient (age from birthDate, at death for a deceased patient), Conditions that are cancers (primary:
diagnosis, stage, recurrence; secondary: sites), MedicationStatement / MedicationRequest / MedicationAdministration
for cancer (agents through the Normaliser, grouped into lines by date, why each line stopped), Procedures (surgery,
radiotherapy), Observations (ECOG, Karnofsky, stage group, disease status). A resource of one of these kinds that
cannot be read is listed in `record.unread` with the reason; it never stops the rest being read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from clinqa.clinical.age import group_for_age
from clinqa.clinical.disease import read_diagnosis, read_sites, site_name
from clinqa.clinical.fhir import (
    Resource,
    codes,
    codings,
    concept_text,
    concepts,
    ids_of,
    parse_date,
    reference,
    references,
)
from clinqa.clinical.regimens import Normaliser
from clinqa.errors import RecordError
from clinqa.settings import settings
from clinqa.types import PatientContext, PatientRecord, PriorProcedure, PriorTherapy, RecordFact, UnreadResource

MEDICATIONS = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")
# FHIR statuses saying a medication or procedure was never given (or the resource is void).
NOT_GIVEN = {"entered-in-error", "not-taken", "not-done", "cancelled", "draft", "intended", "preparation"}
NOT_A_CANCER = {"entered-in-error", "refuted", "provisional", "differential"}  # verificationStatus
_STAGE_IN_TEXT = re.compile(r"\bstage\s+([0-4IV]{1,4}[A-C]?\d?)\b", re.IGNORECASE)
_ROMAN = {"0": "0", "1": "I", "2": "II", "3": "III", "4": "IV"}


@dataclass
class _Reading:
    """What has been read so far: provenance as it is found, and the resources that could not be read."""

    facts: list[RecordFact] = field(default_factory=list)
    unread: list[UnreadResource] = field(default_factory=list)

    def fact(self, text: str, refs: Iterable[str]) -> None:
        self.facts.append(RecordFact(fact=text, resources=list(dict.fromkeys(refs))))

    def cannot(self, ref: str, reason: str) -> None:
        self.unread.append(UnreadResource(resource=ref, reason=reason))


@dataclass(frozen=True)
class _Dose:
    """One medication resource: the agents it gave, when, and why it stopped."""

    ref: str
    agents: tuple[str, ...]
    started: dt.date | None
    ended: dt.date | None
    stopped_for: str | None


def read_record(
    resources: list[Resource],
    normaliser: Normaliser,
    source: str,
    patient_id: str | None = None,
    today: dt.date | None = None,
) -> PatientContext:
    """The patient of a FHIR record; `patient_id` chooses one when the record holds several patients."""
    patient, mine = _patient_resources(resources, source, patient_id)
    named = [(reference(r, i), r) for i, r in enumerate(mine)]
    reading = _Reading()
    age = _age(patient, reading, today or dt.date.today()) if patient else None
    cancer_ids: set[str] = set()
    diagnosis, staged, recurrent, sites = _conditions(named, reading, cancer_ids)
    ecog, karnofsky, observed, progressed = _observations(named, reading)
    stage, stage_ref = observed or staged or (None, "")
    if stage:
        reading.fact(f"stage {stage}", [stage_ref])
    medicines = {i: r for _, r in named if r.get("resourceType") == "Medication" for i in ids_of(r)}
    doses = [d for ref, r in named if (d := _dose(ref, r, normaliser, cancer_ids, medicines, reading))]
    therapies = _lines(doses, normaliser, reading)
    return PatientContext(
        age=age,
        age_group=group_for_age(age) if age is not None else None,
        diagnosis=diagnosis,
        stage=stage,
        recurrent=True if recurrent or progressed else None,
        sites=sites,
        ecog=ecog,
        karnofsky=karnofsky,
        lines_of_therapy=len([t for t in therapies if t.line]) or None,
        prior_therapies=therapies,
        prior_agents=list(dict.fromkeys(a for t in therapies for a in t.agents)),
        prior_procedures=_procedures(named, cancer_ids, reading),
        record=PatientRecord(
            source=source,
            patient_id=patient.get("id") if patient and isinstance(patient.get("id"), str) else None,
            facts=reading.facts,
            unread=reading.unread,
        ),
    )


def _patient_resources(
    resources: list[Resource], source: str, patient_id: str | None
) -> tuple[Resource | None, list[Resource]]:
    """The record's patient and the resources about them (all of them when the record has one patient)."""
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if patient_id is not None:
        chosen = [p for p in patients if p.get("id") == patient_id or f"Patient/{patient_id}" in ids_of(p)]
        if not chosen:
            raise RecordError(source, f"no Patient with id '{patient_id}'")
        patient = chosen[0]
    elif len(patients) > 1:
        ids = ", ".join(str(p.get("id")) for p in patients[:5])
        more = f" and {len(patients) - 5} more" if len(patients) > 5 else ""
        raise RecordError(source, f"holds {len(patients)} patients ({ids}{more}): choose one by its id")
    else:
        return (patients[0] if patients else None), resources
    own = ids_of(patient)
    about = [r for r in resources if r is patient or own & set(references(r, "subject", "patient"))]
    return patient, about


def _age(patient: Resource, reading: _Reading, today: dt.date) -> float | None:
    ref = reference(patient, 0)
    born = parse_date(patient.get("birthDate"))
    if born is None:
        if "birthDate" in patient:
            reading.cannot(ref, f"birthDate {patient['birthDate']!r} is not a date")
        return None
    died = parse_date(patient.get("deceasedDateTime"))
    at = died or today
    years = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
    if not 0 <= years <= 120:
        reading.cannot(ref, f"birthDate {patient['birthDate']!r} gives an age of {years}")
        return None
    reading.fact(f"age {years}" + (f" (at death, {died.isoformat()})" if died else ""), [ref])
    return float(years)


def _conditions(
    named: list[tuple[str, Resource]], reading: _Reading, cancer_ids: set[str]
) -> tuple[str | None, tuple[str, str] | None, bool, list[str]]:
    """Diagnosis (the latest primary cancer), its stage and where that was read, whether it recurred, and the
    sites of metastases."""
    table = codes()
    primaries: list[tuple[dt.date, str, str, Resource]] = []
    sites: dict[str, list[str]] = {}
    recurred: list[str] = []
    for ref, r in named:
        if r.get("resourceType") != "Condition" or _status(r, "verificationStatus") in NOT_A_CANCER:
            continue
        role = table.profile_role(r)
        code = r.get("code")
        if role == "secondary" or table.listed("secondary", code):
            cancer_ids.update(ids_of(r))
            found = _secondary_sites(r)
            for site in found:
                sites.setdefault(site, []).append(ref)
            if not found:
                reading.fact("metastatic disease, site not recorded", [ref])
        elif role == "primary" or table.listed("primary", code):
            cancer_ids.update(ids_of(r))
            diagnosis = table.lookup("primary", code) or read_diagnosis(concept_text(code))
            if not diagnosis:
                reading.cannot(ref, f"a cancer that clinqa cannot name ({concept_text(code) or 'no code text'})")
                continue
            onset = parse_date(r.get("onsetDateTime")) or parse_date(r.get("recordedDate")) or dt.date.min
            primaries.append((onset, ref, diagnosis, r))
            if table.listed("recurrence", r.get("clinicalStatus")):
                recurred.append(ref)
    for site, refs in sites.items():
        reading.fact(f"site: {site}", refs)
    if not primaries:
        return None, None, bool(recurred), list(sites)
    _, ref, diagnosis, primary = max(primaries, key=lambda p: p[0])
    reading.fact(f"diagnosis: {diagnosis}", [ref])
    for _, other_ref, other, _ in primaries:
        if other_ref != ref:
            reading.fact(f"earlier primary cancer: {other}", [other_ref])
    stage = _stage_of_condition(primary)
    if recurred:
        reading.fact("recurrent", recurred)
    return diagnosis, ((stage, ref) if stage else None), bool(recurred), list(sites)


def _secondary_sites(condition: Resource) -> list[str]:
    table = codes()
    listed = table.lookup("secondary", condition.get("code"))
    if listed:
        return [listed]
    by_body = [table.lookup("body-site", c) or site_name(concept_text(c)) for c in concepts(condition, "bodySite")]
    found = [s for s in by_body if s]
    return found or read_sites(concept_text(condition.get("code")))


def _stage_of_condition(condition: Resource) -> str | None:
    for stage in concepts(condition, "stage"):
        if isinstance(stage, dict) and (text := stage_name(stage.get("summary"))):
            return text
    match = _STAGE_IN_TEXT.search(concept_text(condition.get("code")))
    return _roman(match.group(1)) if match else None


def stage_name(concept: object) -> str | None:
    """A stage group as a guideline writes it: 'IV', 'IIIA' (AJCC codes '4', 'c3A' and 'Stage 3A' alike)."""
    text = concept_text(concept)
    match = _STAGE_IN_TEXT.search(text)
    if match:
        return _roman(match.group(1))
    for _, code, _ in codings(concept):
        found = re.fullmatch(r"[cpy]?([0-4][A-C]?\d?|I{1,3}V?[A-C]?|IV[A-C]?)", code.strip(), re.IGNORECASE)
        if found:
            return _roman(found.group(1))
    return text or None


def _roman(stage: str) -> str:
    stage = stage.upper()
    return _ROMAN.get(stage[0], stage[0]) + stage[1:] if stage[:1].isdigit() else stage


def _observations(
    named: list[tuple[str, Resource]], reading: _Reading
) -> tuple[int | None, int | None, tuple[str, str] | None, bool]:
    """The latest ECOG and Karnofsky, the latest stage group, and whether a disease status says progression."""
    table = codes()
    latest: dict[str, tuple[dt.date, str, int | str]] = {}
    progressed: list[str] = []
    for ref, r in named:
        if r.get("resourceType") != "Observation" or r.get("status") in NOT_GIVEN:
            continue
        kind = table.lookup("observation", r.get("code")) or table.profile_role(r)
        if kind not in ("ecog", "karnofsky", "stage", "disease-status"):
            continue
        when = parse_date(r.get("effectiveDateTime")) or dt.date.min
        if kind == "disease-status":
            if table.listed("progression", r.get("valueCodeableConcept")):
                progressed.append(ref)
            continue
        value: int | str | None = (
            _score(r, kind, ref, reading) if kind != "stage" else stage_name(r.get("valueCodeableConcept"))
        )
        if value is not None and (kind not in latest or when >= latest[kind][0]):
            latest[kind] = (when, ref, value)
    for kind, (_, ref, shown) in latest.items():
        if kind != "stage":
            reading.fact(f"{'ECOG' if kind == 'ecog' else 'Karnofsky'} {shown}", [ref])
    if progressed:
        reading.fact("recurrent (disease status: progression)", progressed)
    ecog, karnofsky = (latest[k][2] if k in latest else None for k in ("ecog", "karnofsky"))
    stage = latest.get("stage")
    return (
        ecog if isinstance(ecog, int) else None,
        karnofsky if isinstance(karnofsky, int) else None,
        (str(stage[2]), stage[1]) if stage else None,
        bool(progressed),
    )


def _score(observation: Resource, kind: str, ref: str, reading: _Reading) -> int | None:
    value = observation.get("valueInteger")
    if value is None and isinstance(observation.get("valueQuantity"), dict):
        value = observation["valueQuantity"].get("value")
    if value is None:
        codes_given = [c for _, c, _ in codings(observation.get("valueCodeableConcept")) if c.isdigit()]
        value = int(codes_given[0]) if codes_given else None
    top = 5 if kind == "ecog" else 100
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= top or value != int(value):
        reading.cannot(ref, f"{kind} value {value!r} is not a score from 0 to {top}")
        return None
    return int(value)


def _status(resource: Resource, name: str) -> str:
    return next((code for _, code, _ in codings(resource.get(name)) if code), "")


def _dose(
    ref: str,
    r: Resource,
    normaliser: Normaliser,
    cancer_ids: set[str],
    medicines: dict[str, Resource],
    reading: _Reading,
) -> _Dose | None:
    """A medication resource given for cancer, or None (not a medication, not for cancer, never given)."""
    kind = r.get("resourceType")
    if kind not in MEDICATIONS or r.get("status") in NOT_GIVEN or r.get("intent") in ("proposal", "plan"):
        return None
    table = codes()
    for_cancer = (
        table.profile_role(r) == "medication"
        or bool(cancer_ids & set(references(r, "reasonReference")))
        or any(table.listed("primary", c) or table.listed("secondary", c) for c in concepts(r, "reasonCode"))
    )
    if not for_cancer:
        return None
    name = _medication_name(r, medicines)
    agents = normaliser.agents(name) if name else []
    if not agents:
        reading.cannot(ref, f"no drug clinqa knows in {name!r}" if name else "names no medication")
        return None
    started, ended = _period(r, kind)
    if started is None:
        reading.cannot(ref, "has no date it was given; its agents are counted, outside the lines")
    reasons = [*concepts(r, "statusReason"), *_termination_reasons(r)]
    return _Dose(ref, tuple(agents), started, ended, table.stop_reason(reasons))


def _medication_name(r: Resource, medicines: dict[str, Resource]) -> str:
    text = concept_text(r.get("medicationCodeableConcept"))
    if text:
        return text
    pointer = r.get("medicationReference")
    if isinstance(pointer, dict):
        target = medicines.get(str(pointer.get("reference")))
        return concept_text(target.get("code")) if target else str(pointer.get("display") or "")
    return ""


def _period(r: Resource, kind: object) -> tuple[dt.date | None, dt.date | None]:
    if kind == "MedicationRequest":
        return parse_date(r.get("authoredOn")), None
    period = r.get("effectivePeriod")
    if isinstance(period, dict):
        return parse_date(period.get("start")), parse_date(period.get("end"))
    return parse_date(r.get("effectiveDateTime")) or parse_date(r.get("dateAsserted")), None


def _termination_reasons(r: Resource) -> list[object]:
    """mCODE's treatment termination reason extension (any version)."""
    extensions = r.get("extension")
    return [
        e.get("valueCodeableConcept")
        for e in (extensions if isinstance(extensions, list) else [])
        if isinstance(e, dict) and "terminationreason" in str(e.get("url", "")).replace("-", "").lower()
    ]


def _lines(doses: list[_Dose], normaliser: Normaliser, reading: _Reading) -> list[PriorTherapy]:
    """Doses grouped into lines: those started on one day form a batch; a batch of agents already in the line
    continues it, as does one started within `record.new_line_after_days` of the line's start; else a new line."""
    gap = dt.timedelta(days=settings().record.new_line_after_days)
    batches: dict[dt.date, list[_Dose]] = {}
    for dose in doses:
        if dose.started is not None:
            batches.setdefault(dose.started, []).append(dose)
    lines: list[list[_Dose]] = []
    for day in sorted(batches):
        batch = batches[day]
        current = lines[-1] if lines else None
        agents = {a for d in batch for a in d.agents}
        if current and (agents <= {a for d in current for a in d.agents} or day - _start(current) < gap):
            current.extend(batch)
        else:
            lines.append(list(batch))
    therapies = [_therapy(line, number, normaliser, reading) for number, line in enumerate(lines, start=1)]
    undated = [d for d in doses if d.started is None]
    if undated:
        therapies.append(_therapy(undated, None, normaliser, reading))
    return therapies


def _start(line: list[_Dose]) -> dt.date:
    return min(d.started for d in line if d.started is not None)


def _therapy(doses: list[_Dose], line: int | None, normaliser: Normaliser, reading: _Reading) -> PriorTherapy:
    agents = list(dict.fromkeys(a for d in doses for a in d.agents))
    found = normaliser.therapy(" + ".join(agents))
    dates = [x for d in doses for x in (d.started, d.ended) if x is not None]
    stopped = next((d.stopped_for for d in reversed(doses) if d.stopped_for), None)
    therapy = PriorTherapy(
        described=" + ".join(agents),
        agents=agents,
        regimen=found.regimen,
        line=line,
        started=min(dates) if dates else None,
        ended=max(dates) if dates else None,
        stopped_for=stopped,  # type: ignore[arg-type]
    )
    label = f"line {line}" if line else "undated"
    stop = f", stopped for {stopped}" if stopped else ""
    reading.fact(f"{label}: {therapy.described}{stop}", [d.ref for d in doses])
    return therapy


def _procedures(named: list[tuple[str, Resource]], cancer_ids: set[str], reading: _Reading) -> list[PriorProcedure]:
    """Cancer surgery and radiotherapy; the same procedure done many times (fractions, cycles) is one entry, dated
    by its first time."""
    done: dict[tuple[str, str], list[tuple[dt.date | None, str]]] = {}
    for ref, r in named:
        found = _procedure(r, cancer_ids)
        if found:
            done.setdefault(found[:2], []).append((found[2], ref))
    procedures = []
    for (kind, described), times in done.items():
        dates = [d for d, _ in times if d]
        count = f" ({len(times)} times)" if len(times) > 1 else ""
        reading.fact(f"{kind}: {described}{count}", [ref for _, ref in times])
        procedures.append(PriorProcedure(kind=kind, described=described, performed=min(dates) if dates else None))  # type: ignore[arg-type]
    return procedures


def _procedure(r: Resource, cancer_ids: set[str]) -> tuple[str, str, dt.date | None] | None:
    if r.get("resourceType") != "Procedure" or r.get("status") in NOT_GIVEN:
        return None
    table = codes()
    role = table.profile_role(r)
    kind = role if role in ("surgery", "radiotherapy") else table.lookup("procedure", r.get("code"))
    if kind not in ("surgery", "radiotherapy"):
        return None
    if role is None and not cancer_ids & set(references(r, "reasonReference")):
        return None  # a listed procedure code, but not said to be for the cancer
    period = r.get("performedPeriod")
    performed = parse_date(r.get("performedDateTime")) or (
        parse_date(period.get("start")) if isinstance(period, dict) else None
    )
    return kind, concept_text(r.get("code")) or kind, performed
