"""What clinqa understands about the patient: read from the question, loaded from a file, merged.

`extract_patient` reads the question with deterministic rules (no model, no network); `load_patient_file` reads a
JSON file of `PatientContext` fields; `merge` lays one context over another. Contradictions are never resolved:
they are kept in `conflicts`, in plain words, for the user to correct.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clinqa.clinical.age import age_fits, format_age, group_for_age, read_age
from clinqa.clinical.biomarkers import markers_in
from clinqa.clinical.disease import (
    read_bilateral,
    read_diagnosis,
    read_lesion_count,
    read_months_since_therapy,
    read_performance,
    read_recurrence,
    read_resectable,
    read_sites,
    site_name,
)
from clinqa.clinical.fhir import is_fhir, is_record_path, load_resources, resources_of
from clinqa.clinical.fitness import unfit_for
from clinqa.clinical.history import read_history
from clinqa.clinical.record import read_record
from clinqa.clinical.regimens import Normaliser, clean_text
from clinqa.errors import ClinqaError
from clinqa.settings import settings
from clinqa.types import PatientContext, PriorTherapy


class PatientFileError(ClinqaError):
    """A patient file cannot be read or does not describe a patient; the message names the file and the field."""

    def __init__(self, path: str, reason: str, field: str | None = None) -> None:
        super().__init__(f"{path}: field '{field}': {reason}" if field else f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.field = field


def extract_patient(text: str, normaliser: Normaliser) -> PatientContext:
    """Everything the question itself says about the patient; an empty context when it says nothing."""
    text = clean_text(text)
    mentions = normaliser.mentions(text)
    age = read_age(text)
    recurrent, recurrence_number, recurrence_conflicts = read_recurrence(text)
    bilateral, bilateral_conflicts = read_bilateral(text)
    resectable, resectable_conflicts = read_resectable(text)
    ecog, karnofsky, performance_conflicts = read_performance(text)
    history = read_history(text, mentions, normaliser)
    conflicts = [
        *age.conflicts,
        *recurrence_conflicts,
        *bilateral_conflicts,
        *resectable_conflicts,
        *performance_conflicts,
        *history.conflicts,
    ]
    return PatientContext(
        age=age.age,
        age_group=age.age_group,
        diagnosis=read_diagnosis(text) or _disease_of_regimens(history.therapies, normaliser),
        recurrent=recurrent,
        recurrence_number=recurrence_number,
        sites=read_sites(text),
        bilateral=bilateral,
        lesion_count=read_lesion_count(text),
        months_since_therapy=read_months_since_therapy(text, {m.start for m in mentions}),
        resectable=resectable,
        ecog=ecog,
        karnofsky=karnofsky,
        lines_of_therapy=history.lines_of_therapy,
        biomarkers=markers_in(text),
        unfit_for=unfit_for(text),
        prior_therapies=history.therapies,
        prior_agents=history.prior_agents,
        not_received=history.not_received,
        conflicts=_unique(conflicts),
    )


def _disease_of_regimens(therapies: Iterable[PriorTherapy], normaliser: Normaliser) -> str | None:
    """A question that names no disease but a regimen given for one disease ("after MAP") is about it."""
    diseases = {d for t in therapies if t.regimen and (d := normaliser.disease_of(t.regimen))}
    return diseases.pop() if len(diseases) == 1 else None


def load_patient_file(path: Path, normaliser: Normaliser, patient_id: str | None = None) -> PatientContext:
    """A patient described in a JSON file of `PatientContext` fields, or a FHIR R4 record (a Bundle, NDJSON, a
    folder of NDJSON: see `clinqa.clinical.record`; `patient_id` chooses among several patients).

    In a file of fields, `prior_therapies` items may be objects or plain strings ("gem/doc"); an object without
    `agents` has them read from its `described` text. Agents are normalised as in questions.
    """
    if is_record_path(path):
        return read_record(load_resources(path), normaliser, str(path), patient_id)
    try:
        size, limit = path.stat().st_size, settings().record.max_bytes
        if size > limit:
            raise PatientFileError(str(path), f"{size} bytes, more than record.max_bytes ({limit})")
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PatientFileError(str(path), f"cannot be read: {exc}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PatientFileError(str(path), f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if is_fhir(data):
        return read_record(resources_of(data, str(path)), normaliser, str(path), patient_id)
    if not isinstance(data, dict):
        raise PatientFileError(str(path), "must hold a JSON object of patient fields or a FHIR resource")
    try:
        patient = PatientContext.model_validate(_expand_therapies(data, normaliser))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(file)"
        raise PatientFileError(str(path), error["msg"], field) from exc
    return _normalised(patient, normaliser)


def _expand_therapies(data: dict[str, Any], normaliser: Normaliser) -> dict[str, Any]:
    therapies = data.get("prior_therapies")
    if not isinstance(therapies, list):
        return data
    expanded: list[Any] = []
    for item in therapies:
        if isinstance(item, str):
            expanded.append(normaliser.therapy(item).model_dump())
        elif isinstance(item, dict) and not item.get("agents") and isinstance(item.get("described"), str):
            found = normaliser.therapy(item["described"]).model_dump()
            expanded.append({**found, **{k: v for k, v in item.items() if v not in (None, [])}})
        else:
            expanded.append(item)
    return {**data, "prior_therapies": expanded}


def _normalised(patient: PatientContext, normaliser: Normaliser) -> PatientContext:
    therapies = [t.model_copy(update={"agents": _agents(t.agents, normaliser)}) for t in patient.prior_therapies]
    prior = _unique([*_agents(patient.prior_agents, normaliser), *(a for t in therapies for a in t.agents)])
    age_group = patient.age_group
    if age_group is None and patient.age is not None:
        age_group = group_for_age(patient.age)
    result = patient.model_copy(
        update={
            "age_group": age_group,
            "diagnosis": (read_diagnosis(patient.diagnosis) or patient.diagnosis) if patient.diagnosis else None,
            "sites": _unique(site_name(s) or s.strip().lower() for s in patient.sites),
            "prior_therapies": therapies,
            "prior_agents": prior,
            "not_received": _agents(patient.not_received, normaliser),
        }
    )
    return result.model_copy(update={"conflicts": _unique([*result.conflicts, *consistency_conflicts(result)])})


def _agents(names: Iterable[str], normaliser: Normaliser) -> list[str]:
    """Each name normalised; a name the vocabularies do not know is kept, lower-cased."""
    return _unique(agent for name in names for agent in (normaliser.agents(name) or [name.strip().lower()]))


_SCALARS = {
    "age": "age",
    "age_group": "age group",
    "diagnosis": "diagnosis",
    "recurrent": "recurrent",
    "recurrence_number": "recurrence number",
    "stage": "stage",
    "bilateral": "bilateral",
    "lesion_count": "number of lesions",
    "months_since_therapy": "months since therapy",
    "resectable": "resectable",
    "ecog": "ECOG",
    "karnofsky": "Karnofsky",
    "lines_of_therapy": "lines of therapy",
}


def merge(base: PatientContext, update: PatientContext) -> PatientContext:
    """`update` laid over `base`: its set fields win, lists are combined, disagreements go to `conflicts`."""
    values: dict[str, Any] = {}
    conflicts = [*base.conflicts, *update.conflicts]
    for name, label in _SCALARS.items():
        old, new = getattr(base, name), getattr(update, name)
        values[name] = old if new is None else new
        if old is not None and new is not None and old != new:
            conflicts.append(f"{label} given as {_plain(old)} and as {_plain(new)}")
    for marker in base.biomarkers.keys() & update.biomarkers.keys():
        if base.biomarkers[marker] != update.biomarkers[marker]:
            conflicts.append(f"{marker} given as {base.biomarkers[marker]} and as {update.biomarkers[marker]}")
    therapies: list[PriorTherapy] = []
    for therapy in [*base.prior_therapies, *update.prior_therapies]:
        if therapy not in therapies:
            therapies.append(therapy)
    merged = PatientContext(
        **values,
        sites=_unique([*base.sites, *update.sites]),
        prior_therapies=therapies,
        prior_agents=_unique([*base.prior_agents, *update.prior_agents]),
        not_received=_unique([*base.not_received, *update.not_received]),
        prior_procedures=[
            *base.prior_procedures,
            *(p for p in update.prior_procedures if p not in base.prior_procedures),
        ],
        record=update.record or base.record,
        biomarkers={**base.biomarkers, **update.biomarkers},
        unfit_for=_unique([*base.unfit_for, *update.unfit_for]),
    )
    return merged.model_copy(update={"conflicts": _unique([*conflicts, *consistency_conflicts(merged)])})


def consistency_conflicts(patient: PatientContext) -> list[str]:
    """Contradictions within one context: an age outside its age group, an agent both received and not."""
    found = []
    if patient.age is not None and patient.age_group is not None and not age_fits(patient.age, patient.age_group):
        found.append(f"age {format_age(patient.age)} does not fit '{patient.age_group}'")
    found.extend(
        f"{agent} is described both as received and as not received"
        for agent in patient.prior_agents
        if agent in patient.not_received
    )
    return found


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format_age(value)
    return str(value)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
