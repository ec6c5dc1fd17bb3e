"""Match a trial against a patient, criterion by criterion, and rank trials for a patient.

A criterion gets a verdict only where the record states it (status always: a record that gives none is
'unknown'). 'met' needs both the record's requirement and the patient's value; when either side is missing the
verdict is 'unknown', never 'met'. Every reason quotes the record's words and the patient's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clinqa.trials.disease import recurrence_verdict, resectability_verdict
from clinqa.trials.therapy import prior_therapy_verdict
from clinqa.types import CriterionVerdict, PatientContext, Trial, TrialMatch, Verdict

__all__ = ["match_trial", "rank_trials"]

# Ages, in whole years, assumed for an age group when the patient's age is not given; the bounds
# clinqa.clinical.age uses to derive a group from an age (under 12 child, 12 to 17 adolescent, 18 and over adult).
AGE_GROUP_YEARS = {"child": (0.0, 11.0), "adolescent": (12.0, 17.0), "adult": (18.0, 120.0)}
# Names of one diagnosis; the first is the one reasons use.
EQUIVALENT_DIAGNOSES = (("osteosarcoma", "osteogenic sarcoma"),)
# Categories that include the diagnosis: a trial for any of them is open to it.
BROADER_DIAGNOSES = {
    "osteosarcoma": ("bone sarcoma", "sarcoma of bone", "sarcomas of bone", "bone cancer", "malignant bone tumor"),
}
# A condition naming no particular disease: whether it includes the patient's cannot be told from the name.
QUALIFIER = (
    r"(?:advanced|metastatic|recurrent|refractory|relapsed|malignant|unresectable|locally|progressive|pediatric"
    r"|childhood|adult|rare|high[- ]grade|low[- ]grade|primary|solid|other|cancer|and|or|,)"
)
GENERIC_CONDITION = re.compile(
    rf"^(?:{QUALIFIER}\s*)*(?:tumou?rs?|neoplasms?|cancers?|malignanc(?:y|ies)|sarcomas?|carcinomas?)$", re.IGNORECASE
)
DIAGNOSIS_QUALIFIERS = re.compile(
    r"^(?:(?:recurrent|relapsed|refractory|metastatic|advanced|localized|progressive|primary|high[- ]grade"
    r"|low[- ]grade)\s+)+",
    re.IGNORECASE,
)
RECRUITING_RANK = {True: 0, None: 1, False: 2}
CONDITION_QUOTE_MAX = 60


def match_trial(trial: Trial, patient: PatientContext) -> TrialMatch:
    """The verdict on each criterion the record states, for this patient."""
    verdicts = (
        age_verdict(trial, patient),
        condition_verdict(trial, patient),
        recurrence_verdict(trial, patient),
        prior_therapy_verdict(trial, patient),
        resectability_verdict(trial, patient),
        status_verdict(trial),
    )
    return TrialMatch(
        id=trial.id,
        title=trial.title,
        status=trial.status,
        criteria=[v for v in verdicts if v is not None],
        source=trial.source,
    )


def rank_trials(trials: Iterable[Trial], patient: PatientContext) -> list[TrialMatch]:
    """Matches, best first: eligible (nothing not met), then more criteria met, then recruiting, then by id."""
    ranked = sorted(((match_trial(t, patient), t) for t in trials), key=lambda pair: _rank_key(*pair))
    return [match for match, _ in ranked]


def _rank_key(match: TrialMatch, trial: Trial) -> tuple[bool, int, int, str, str]:
    met = sum(c.verdict == "met" for c in match.criteria)
    return (not match.eligible, -met, RECRUITING_RANK[trial.recruiting], match.id, trial.source)


# --- age ---------------------------------------------------------------------------------------------------


def age_verdict(trial: Trial, patient: PatientContext) -> CriterionVerdict | None:
    low, high = trial.min_age_years, trial.max_age_years
    if low is None and high is None:
        return None
    said = f"record requires age {_age_range(low, high)}"
    if patient.age is not None:
        fits = (low is None or patient.age >= low) and (high is None or _under_max(patient.age, high))
        return _age("met" if fits else "not_met", f"{said}; patient is {patient.age:g}")
    if patient.age_group is not None:
        group_low, group_high = AGE_GROUP_YEARS[patient.age_group]
        reason = f"{said}; patient is {_article(patient.age_group)} (taken as {group_low:g}–{group_high:g})"
        return _age(_age_group_verdict(low, high, group_low, group_high), reason)
    return _age("unknown", f"{said}; patient's age not given")


def _age_group_verdict(low: float | None, high: float | None, group_low: float, group_high: float) -> Verdict:
    if (low is None or group_low >= low) and (high is None or _under_max(group_high, high)):
        return "met"
    if (low is not None and group_high < low) or (high is not None and not _under_max(group_low, high)):
        return "not_met"
    return "unknown"


def _under_max(age: float, maximum: float) -> bool:
    # A registry maximum of 'N Years' admits patients until their N+1th birthday.
    return age < maximum + 1 if maximum >= 1 and float(maximum).is_integer() else age <= maximum


def _age_range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        if low >= 1:
            return f"{low:g}–{_years(high)}"
        return f"{_years(low)}–{_years(high)}"
    return f"≥ {_years(low)}" if low is not None else f"≤ {_years(high)}"


def _years(value: float | None) -> str:
    assert value is not None
    if value >= 1:
        return f"{value:g} year" if value == 1 else f"{value:g} years"
    months = round(value * 12)
    return f"{months} months" if months >= 1 else f"{round(value * 365.25)} days"


def _article(group: str) -> str:
    return f"an {group}" if group[0] in "aeiou" else f"a {group}"


def _age(verdict: Verdict, reason: str) -> CriterionVerdict:
    return CriterionVerdict(criterion="age", verdict=verdict, reason=reason)


# --- condition ---------------------------------------------------------------------------------------------


def condition_verdict(trial: Trial, patient: PatientContext) -> CriterionVerdict:
    named = trial.conditions or (trial.title,)
    where = "conditions" if trial.conditions else "title"
    if not patient.diagnosis:
        return _condition("unknown", f"record names {_names(named, where)}; patient's diagnosis not given")
    diagnosis, synonyms = _diagnosis_names(patient.diagnosis)
    has = f"patient has {diagnosis}"
    same = _naming(named, synonyms)
    if same:
        return _condition("met", f"record names '{same}' ({where}); {has}")
    broader = _naming(named, BROADER_DIAGNOSES.get(diagnosis, ()))
    if broader:
        return _condition("met", f"record names '{broader}' ({where}), which includes {diagnosis}; {has}")
    generic = next((c for c in trial.conditions if GENERIC_CONDITION.match(c.strip())), None)
    if generic:
        return _condition("unknown", f"record names '{generic}' (conditions), which may include {diagnosis}; {has}")
    if trial.conditions:
        return _condition("not_met", f"record names {_names(named, where)}, not {diagnosis}; {has}")
    return _condition("unknown", f"record names no conditions and its title does not name {diagnosis}; {has}")


def condition_names(diagnosis: str) -> tuple[str, ...]:
    """Every lower-case name under which a record's condition counts as this diagnosis (same or broader):
    a cheap prefilter before matching a trial criterion by criterion."""
    canonical, synonyms = _diagnosis_names(diagnosis)
    return tuple(n.lower() for n in (*synonyms, *BROADER_DIAGNOSES.get(canonical, ())))


def _diagnosis_names(diagnosis: str) -> tuple[str, tuple[str, ...]]:
    """(the diagnosis as reasons name it, every name that counts as the same diagnosis)."""
    cleaned = DIAGNOSIS_QUALIFIERS.sub("", diagnosis.strip().lower())
    for names in EQUIVALENT_DIAGNOSES:
        if any(_mentions(cleaned, name) for name in names):
            return names[0], names
    return cleaned, (cleaned,)


def _naming(texts: Iterable[str], names: Iterable[str]) -> str | None:
    """The first text that names one of `names`: the whole text if short (a condition), else the name as the
    text writes it (a title)."""
    names = tuple(names)
    for text in texts:
        for name in names:
            match = _mentions(text, name)
            if match:
                return text if len(text) <= CONDITION_QUOTE_MAX else match.group()
    return None


def _mentions(text: str, name: str) -> re.Match[str] | None:
    return re.search(rf"\b{re.escape(name)}(?:e?s)?\b", text, re.IGNORECASE)


def _names(texts: tuple[str, ...], where: str) -> str:
    shown = ", ".join(f"'{t}'" for t in texts[:3])
    more = f" and {len(texts) - 3} more" if len(texts) > 3 else ""
    return f"{shown}{more} ({where})"


def _condition(verdict: Verdict, reason: str) -> CriterionVerdict:
    return CriterionVerdict(criterion="condition", verdict=verdict, reason=reason)


# --- status ------------------------------------------------------------------------------------------------


def status_verdict(trial: Trial) -> CriterionVerdict:
    if trial.status is None:
        return CriterionVerdict(criterion="status", verdict="unknown", reason="record gives no enrolment status")
    said = f"record status '{trial.status}'"
    if trial.recruiting is None:
        return CriterionVerdict(criterion="status", verdict="unknown", reason=f"{said} does not say it is enrolling")
    if trial.recruiting:
        return CriterionVerdict(criterion="status", verdict="met", reason=f"{said}: enrolling")
    return CriterionVerdict(criterion="status", verdict="not_met", reason=f"{said}: not enrolling")
