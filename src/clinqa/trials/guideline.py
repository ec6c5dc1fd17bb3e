"""Trials a guideline document names by NCT identifier, with what its text says about them.

PDQ lists trials under "Treatment Options Under Clinical Evaluation" as
'LABEL (NCTnnnnnnnn) (Full title): description'; elsewhere it mentions them in passing ('the ongoing trial
(AOST2031 [NCT05235165])'). A listing gives the title and the eligibility sentences; a mention gives at most a
label. A trial named in several passages becomes one `Trial`, in order of first mention. Guidelines do not give
a trial's status, so it stays unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clinqa.trials.fields import ctgov_url, phase_label
from clinqa.types import Document, Passage, Trial

NCT_IN_TEXT = re.compile(r"\bNCT\d{8}\b")
# Up to this many characters may precede the id in a listing ('GD2-CAR PERSIST (NCT04539366) (...):').
LISTING_LABEL_MAX = 80
# A study code just before a mentioned id: 'trial (AOST2031 [NCT05235165])'.
LABEL_BEFORE_ID = re.compile(r"\b(?P<label>[A-Z][A-Z0-9./-]*\d[A-Z0-9]*)\s*[(\[]\s*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
# A sentence that says who may take part: 'for patients aged 13 years', 'in treating patients with osteosarcoma'.
ELIGIBILITY_CUE = re.compile(
    r"\b(?:patients|participants|children|adolescents|adults|people|individuals)\s+"
    r"(?:aged|age|ages|with|who|whose|younger|older|between|\d)"
    r"|\baged?\s+\d",
    re.IGNORECASE,
)
PHASE_IN_TEXT = re.compile(
    r"\bphase\s+(?P<first>iv|i{1,3}|[0-4])(?:\s*/\s*(?P<second>iv|i{1,3}|[0-4]))?\b", re.IGNORECASE
)
UNIT = r"(?P<unit>years?|months?)"
NUMBER = r"(?P<n>\d+(?:\.\d+)?)"
MIN_AGE_IN_TEXT = (
    re.compile(rf"\b{NUMBER}\s*{UNIT}(?:\s+of\s+age)?\s+(?:and|or)\s+(?:older|over|above)\b", re.I),
    re.compile(rf"\b(?:aged?\s+(?:over|at\s+least|≥|>=)|older\s+than)\s*{NUMBER}\s*{UNIT}", re.I),
)
MAX_AGE_IN_TEXT = (
    re.compile(rf"\b{NUMBER}\s*{UNIT}(?:\s+of\s+age)?\s+(?:and|or)\s+(?:younger|under|less)\b", re.I),
    re.compile(rf"\b(?:aged?\s+(?:under|less\s+than|≤|<=)|younger\s+than)\s*{NUMBER}\s*{UNIT}", re.I),
)
AGE_RANGE_IN_TEXT = re.compile(
    rf"\baged?\s+(?P<low>\d+(?:\.\d+)?)\s*(?:years?\s+)?(?:to|-|–|through)\s*{NUMBER}\s*{UNIT}", re.I
)


@dataclass(frozen=True)
class _Naming:
    """What one passage says about one trial."""

    trial_id: str
    title: str | None  # the listing's parenthesised title
    label: str | None  # the study's short name: 'AOST2031'
    sentences: tuple[str, ...]  # the sentences that say who may take part
    phase: str | None


def trials_in_guideline(document: Document) -> list[Trial]:
    """The trials `document` names by NCT id, in order of first mention."""
    namings: dict[str, list[_Naming]] = {}
    for passage in document.passages:
        for naming in _namings(passage):
            namings.setdefault(naming.trial_id, []).append(naming)
    return [_trial(trial_id, found, document) for trial_id, found in namings.items()]


def _namings(passage: Passage) -> list[_Naming]:
    ids = list(dict.fromkeys(m.group() for m in NCT_IN_TEXT.finditer(passage.text)))
    listing = _listing(passage.text)
    return [listing if listing and listing.trial_id == i else _mention(passage.text, i) for i in ids]


def _listing(text: str) -> _Naming | None:
    """'LABEL (NCT…) (Title): description', when the passage is one."""
    match = NCT_IN_TEXT.search(text)
    if match is None or match.start() > LISTING_LABEL_MAX:
        return None
    head = text[: match.start()]
    if ":" in head or ". " in head:
        return None
    rest = text[match.end() :].lstrip(")] ")
    title, rest = _parenthesised(rest)
    rest = rest.lstrip()
    if not rest.startswith(":"):
        return None
    description = rest[1:].strip()
    label = head.strip().rstrip("([").strip() or None
    return _Naming(match.group(), title, label, _eligibility_sentences(description), _phase(description, title))


def _mention(text: str, trial_id: str) -> _Naming:
    at = text.index(trial_id)
    label = LABEL_BEFORE_ID.search(text[max(0, at - LISTING_LABEL_MAX) : at])
    naming = " ".join(s for s in SENTENCE_END.split(text) if trial_id in s)  # every sentence naming the trial
    return _Naming(trial_id, None, label["label"] if label else None, _eligibility_sentences(naming), _phase(naming))


def _parenthesised(text: str) -> tuple[str | None, str]:
    """(content of the balanced parenthesis `text` starts with, the text after it); (None, text) if none."""
    if not text.startswith("("):
        return None, text
    depth = 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return text[1:position].strip() or None, text[position + 1 :]
    return None, text


def _eligibility_sentences(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in SENTENCE_END.split(text) if ELIGIBILITY_CUE.search(s))


def _phase(*texts: str | None) -> str | None:
    for text in texts:
        match = PHASE_IN_TEXT.search(text or "")
        if match:
            return phase_label(p for p in (match["first"], match["second"]) if p)
    return None


def _trial(trial_id: str, namings: list[_Naming], document: Document) -> Trial:
    """One trial. The page's own disease is its condition (the page title says which it is about); with no title
    or label in the text, its title says which page names it (never the bare id)."""
    page = document.title
    sentences = tuple(dict.fromkeys(s for n in namings for s in n.sentences))
    title = next((n.title for n in namings if n.title), None) or next((n.label for n in namings if n.label), None)
    min_age, max_age = _age_bounds(" ".join(sentences))
    return Trial(
        id=trial_id,
        title=title or (f"Trial named in {page}" if page else trial_id),
        phase=next((n.phase for n in namings if n.phase), None),
        min_age_years=min_age,
        max_age_years=max_age,
        inclusion=sentences,
        source=f"guideline:{document.id}",
        url=ctgov_url(trial_id),
        conditions=(page,) if page else (),
    )


def _age_bounds(text: str) -> tuple[float | None, float | None]:
    """(minimum, maximum) age in years the text states: 'aged 13 years and older', 'aged 2 to 30 years'."""
    ranged = AGE_RANGE_IN_TEXT.search(text)
    if ranged:
        return _years(ranged["low"], ranged["unit"]), _years(ranged["n"], ranged["unit"])
    return _first_age(MIN_AGE_IN_TEXT, text), _first_age(MAX_AGE_IN_TEXT, text)


def _first_age(patterns: tuple[re.Pattern[str], ...], text: str) -> float | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return _years(match["n"], match["unit"])
    return None


def _years(number: str, unit: str) -> float:
    return round(float(number) / (12 if unit.lower().startswith("month") else 1), 4)
