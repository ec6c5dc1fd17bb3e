"""How a follow-up question changes the patient of a conversation.

A follow-up describes the same patient as time or the conversation moves on: what it says replaces what was
said before ("and if the metastases are only in the lung?" leaves the lung as the only site; "now unresectable"
turns resectability over; "after a third line" raises the count), therapies add up, and nothing is reported as a
contradiction. A follow-up about another disease, or about another patient, starts a new context: nothing of the
earlier patient (least of all the therapies received) carries over.
"""

from __future__ import annotations

import re
from typing import Any

from clinqa.clinical.disease import related
from clinqa.types import PatientContext

_ONLY = re.compile(r"\b(?:only|solely|just|exclusively|confined to|limited to|isolated)\b", re.I)
_OTHER_PATIENT = re.compile(
    r"\b(?:(?:an)?other|a different|a new|a second|separate|unrelated) (?:patient|case|person|child|man|woman|"
    r"boy|girl|question)\b|\bnew patient\b|\bdifferent question\b",
    re.I,
)
_REPLACED = (
    "age",
    "age_group",
    "recurrent",
    "recurrence_number",
    "bilateral",
    "lesion_count",
    "months_since_therapy",
    "resectable",
    "ecog",
    "karnofsky",
)


def starts_anew(base: PatientContext, said: PatientContext, text: str) -> bool:
    """Whether the follow-up is about another patient or another disease than the conversation's."""
    if _OTHER_PATIENT.search(text):
        return True
    return bool(said.diagnosis and base.diagnosis and not related(said.diagnosis, base.diagnosis))


def follow_up(base: PatientContext, said: PatientContext, text: str) -> PatientContext:
    """The conversation's patient after a follow-up that says `said` about them (read from `text`)."""
    values: dict[str, Any] = {name: getattr(base, name) for name in PatientContext.model_fields}
    for name in _REPLACED:
        if getattr(said, name) is not None:
            values[name] = getattr(said, name)
    if said.diagnosis and not base.diagnosis:
        values["diagnosis"] = said.diagnosis
    if said.sites:
        values["sites"] = said.sites if _ONLY.search(text) else _unique([*base.sites, *said.sites])
    therapies = list(base.prior_therapies)
    therapies += [t for t in said.prior_therapies if t not in therapies]
    values["prior_therapies"] = therapies
    values["prior_agents"] = _unique([*base.prior_agents, *said.prior_agents])
    values["not_received"] = _unique(
        [a for a in [*base.not_received, *said.not_received] if a not in said.prior_agents]
    )
    if said.lines_of_therapy is not None or therapies != base.prior_therapies:
        values["lines_of_therapy"] = max(said.lines_of_therapy or 0, base.lines_of_therapy or 0) or None
    values["conflicts"] = list(said.conflicts)
    return PatientContext(**values)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
