"""Does a source sentence's evidence apply to this patient?

A sentence often limits its evidence to a population: "in patients who have not previously received this drug",
"aged 13 years and older", "first or second recurrence", "resectable disease". When the patient is outside that
population, or it is unknown whether they are in it, the sentence gets a flag that says why. A sentence naming an
agent the patient has already received gets a `previously_received` flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from clinqa.clinical.biomarkers import conflict
from clinqa.clinical.regimens import shared_class
from clinqa.types import Flag, FlagKind, PatientContext

_NAIVE = re.compile(
    r"\b(?:(?:who|that) (?:have|had) not (?:previously |already )?(?:received|been treated with|had)|"
    r"not previously (?:received|treated with|exposed to)|(?:\w+-)?na[iï]ve|never (?:treated with|received|had)|"
    r"previously untreated|without (?:prior|previous) (?:exposure to|treatment with))",
    re.IGNORECASE,
)
_AGE_MIN = re.compile(
    r"\baged? (\d{1,2}) (?:years?|y)(?: of age)? (?:and|or) (?:older|over|above)|"
    r"\b(\d{1,2}) years? (?:of age )?(?:and|or) older|\bolder than (\d{1,2}) years",
    re.IGNORECASE,
)
_AGE_RANGE = re.compile(r"\baged? (\d{1,2}) (?:to|-|–) (\d{1,2}) years", re.IGNORECASE)
_AGE_MAX = re.compile(r"\b(?:younger than|under|aged less than) (\d{1,2}) years", re.IGNORECASE)
_ADULTS = re.compile(r"\badult (?:patients|participants)\b|\bin adults\b", re.IGNORECASE)
_CHILDREN = re.compile(r"\b(?:children|pediatric patients|paediatric patients)\b", re.IGNORECASE)
_RECURRENCE = re.compile(
    r"\b(first|second|third)(?: or (second|third))? (?:recurrence|relapse)|\bat (first|second) relapse",
    re.IGNORECASE,
)
_RESECTED = re.compile(
    r"\b(?:complete(?:ly)? (?:surgical )?resect\w*|resectable|can be resected|underwent (?:complete )?surgical "
    r"resection|surgical remission)",
    re.IGNORECASE,
)
_UNRESECTABLE = re.compile(r"\b(?:unresectable|inoperable|could not be resected|cannot be resected)", re.IGNORECASE)
_ORDINAL = {"first": 1, "second": 2, "third": 3}


@dataclass(frozen=True)
class Finding:
    kind: FlagKind
    reason: str
    agent: str | None = None


Rule = Callable[[str, list[str], PatientContext], Iterator[Finding]]


def assess(sentence: str, agents: list[str], patient: PatientContext) -> list[Flag]:
    """Every flag for one sentence; `agents` are the normalised agents the sentence (or its label) names."""
    findings = [f for rule in RULES for f in rule(sentence, agents, patient)]
    unique = {(f.kind, f.agent, f.reason): f for f in findings}
    return [Flag(kind=f.kind, agent=f.agent, sentence=sentence, reason=f.reason) for f in unique.values()]


def previously_received(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    for agent in agents:
        if agent in patient.prior_agents:
            line = next((t.line for t in patient.prior_therapies if agent in t.agents and t.line), None)
            when = f" (line {line})" if line else ""
            yield Finding(FlagKind.PREVIOUSLY_RECEIVED, f"the patient has already received {agent}{when}", agent)


def same_class_received(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    """An agent of a class the patient already had a member of (vemurafenib after dabrafenib): disease that
    progressed on one often resists the others."""
    for agent in agents:
        shared = shared_class(agent, patient.prior_agents)
        if shared:
            name, other = shared
            reason = f"{agent} is a {name}, as is {other}, which the patient has already received"
            yield Finding(FlagKind.SAME_CLASS_RECEIVED, reason, agent)


def marker_mismatch(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    """Evidence for tumours with another status of a marker the patient's tumour has (RAS wild-type evidence for a
    RAS-mutant tumour): a population the patient is not in."""
    reason = conflict(sentence, patient.biomarkers)
    if reason:
        yield Finding(FlagKind.POPULATION_MISMATCH, reason)


def drug_naive(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    """ "who have not previously received this drug" limits the evidence to patients naive to the drug the
    sentence is about: the agent named in an "X-naive" compound, else the sentence's first agent (its subject;
    "ifosfamide with mesna ..." is about ifosfamide)."""
    m = _NAIVE.search(sentence)
    if not m or not agents:
        return
    compound = m.group().lower().split("-")[0] if "-" in m.group() else None
    subject = [a for a in agents if a == compound] or agents[:1]
    for agent in subject:
        if agent in patient.prior_agents:
            yield Finding(
                FlagKind.POPULATION_MISMATCH,
                f"measured in patients who had not received {agent}; this patient has, so the figure does not apply",
                agent,
            )
        elif agent not in patient.not_received:
            yield Finding(
                FlagKind.UNKNOWN_ELIGIBILITY,
                f"measured in patients who had not received {agent}; whether this patient has is not stated",
                agent,
            )


def age_limits(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    low, high = _age_bounds(sentence)
    if low is None and high is None:
        yield from _age_group_limits(sentence, patient)
        return
    population = _describe_ages(low, high)
    if patient.age is None:
        yield Finding(
            FlagKind.UNKNOWN_ELIGIBILITY, f"evidence from patients {population}; the patient's age is not stated"
        )
    elif (low is not None and patient.age < low) or (high is not None and patient.age > high):
        yield Finding(
            FlagKind.POPULATION_MISMATCH, f"evidence from patients {population}; this patient is {patient.age:g}"
        )


def _age_bounds(sentence: str) -> tuple[float | None, float | None]:
    if m := _AGE_RANGE.search(sentence):
        return float(m.group(1)), float(m.group(2))
    low = next((float(g) for m in _AGE_MIN.finditer(sentence) for g in m.groups() if g), None)
    high = next((float(m.group(1)) for m in _AGE_MAX.finditer(sentence)), None)
    return low, high


def _describe_ages(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"aged {low:g} to {high:g} years"
    if low is not None:
        return f"aged {low:g} years or older"
    return f"younger than {high:g} years"


def _age_group_limits(sentence: str, patient: PatientContext) -> Iterator[Finding]:
    group = patient.age_group
    if _ADULTS.search(sentence) and group in ("child", "adolescent"):
        yield Finding(FlagKind.POPULATION_MISMATCH, f"evidence from adults; this patient is a {group}")
    elif _CHILDREN.search(sentence) and group == "adult":
        yield Finding(FlagKind.POPULATION_MISMATCH, "evidence from children; this patient is an adult")


def recurrence_limits(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    m = _RECURRENCE.search(sentence)
    if not m:
        return
    allowed = {_ORDINAL[g.lower()] for g in m.groups() if g}
    population = " or ".join(sorted({g.lower() for g in m.groups() if g}, key=lambda w: _ORDINAL[w]))
    if patient.recurrence_number is None:
        yield Finding(
            FlagKind.UNKNOWN_ELIGIBILITY,
            f"evidence limited to a {population} recurrence; which recurrence this is is not stated",
        )
    elif patient.recurrence_number not in allowed:
        yield Finding(
            FlagKind.POPULATION_MISMATCH,
            f"evidence limited to a {population} recurrence; this is recurrence number {patient.recurrence_number}",
        )


def resectability_limits(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    if _UNRESECTABLE.search(sentence):
        if patient.resectable is True:
            yield Finding(
                FlagKind.POPULATION_MISMATCH, "evidence from unresectable disease; this patient's is resectable"
            )
    elif _RESECTED.search(sentence):
        if patient.resectable is False:
            yield Finding(
                FlagKind.POPULATION_MISMATCH,
                "evidence from patients whose disease was completely resected; this patient's is unresectable",
            )
        elif patient.resectable is None:
            yield Finding(
                FlagKind.UNKNOWN_ELIGIBILITY,
                "evidence from patients whose disease was completely resected; resectability is not stated",
            )


_FIRST_LINE = re.compile(
    r"\b(?:localized (?:disease|osteosarcoma|tumou?rs?)|newly diagnosed|previously untreated|"
    r"at (?:initial )?diagnosis)",
    re.IGNORECASE,
)


def disease_setting(sentence: str, agents: list[str], patient: PatientContext) -> Iterator[Finding]:
    """Evidence from newly diagnosed or localized disease, applied to a recurrence."""
    if patient.recurrent and _FIRST_LINE.search(sentence) and not _RECURRENCE.search(sentence):
        yield Finding(
            FlagKind.POPULATION_MISMATCH,
            "evidence from newly diagnosed or localized disease; this patient's disease has recurred",
        )


RULES: tuple[Rule, ...] = (
    previously_received,
    same_class_received,
    marker_mismatch,
    drug_naive,
    age_limits,
    recurrence_limits,
    resectability_limits,
    disease_setting,
)
