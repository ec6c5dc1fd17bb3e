"""The patient's age and age group, read from a question: "a 16-year-old", "aged 34", "in her 40s", "pediatric".

Age groups: an explicit word wins ("adult", "child", "pediatric", "adolescent", "teenager"); otherwise the group
is derived from the age (under 12 child, 12 to 17 adolescent, 18 and over adult). An age that does not fit the
word ("a 12-year-old adult") is reported as a conflict and both are kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from clinqa.clinical.numbers import NUMBER, number_value

AgeGroup = Literal["child", "adolescent", "adult"]

_FLAGS = re.IGNORECASE
_YEARS_OLD = re.compile(rf"\b({NUMBER})[- ]?(?:years?|yrs?|y)[- ]?old\b", _FLAGS)
_YEARS_OF_AGE = re.compile(rf"\b({NUMBER}) years? of age\b", _FLAGS)
_MONTHS_OLD = re.compile(rf"\b({NUMBER})[- ]?(?:months?|mos?)[- ]?old\b", _FLAGS)
_YO = re.compile(r"\b(\d{1,3}(?:\.\d)?)\s?(?:yo|y/o|y\.o\.|yr\.? old)(?![A-Za-z])", _FLAGS)
_AGE_SEX = re.compile(r"\b(\d{1,2})(?:M|F)\b")  # clinicians' "34F", "16M"; capitals and no space only
_AGE_WORD = re.compile(
    r"\bage[ds]?\s*(?:of\s*|:\s*|=\s*|is\s*)?(\d{1,3}(?:\.\d)?)\b(?!\s*(?:-|to|months|%)\s*)", _FLAGS
)
_AT_DIAGNOSIS = re.compile(r"\bdiagnos\w*\s+(?:at\s+)?(?:the\s+)?$", _FLAGS)
_DECADE = re.compile(
    r"\bin (?:his|her|their|the) (?:early |mid |mid-|late )?"
    r"(teens|twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties|[2-9]0'?s)\b",
    _FLAGS,
)
_NOT_ABOUT_PATIENT = (
    r"\b(?!-type)(?![- ](?:protocols?|regimens?|oncolog\w*|trials?|stud(?:y|ies)|data|dosing|doses?|guidelines?|"
    r"cent(?:er|re)s?|hospitals?|formulations?|populations?|cooperative|groups?|literature|evidence|practice|"
    r"services?|units?|patients'? data)\b)(?![- ]Pugh\b)"  # Child-Pugh is a liver score, not a child
)
_GROUP_WORDS: tuple[tuple[AgeGroup, re.Pattern[str]], ...] = (
    ("adult", re.compile(rf"\b(adults?|elderly|older adults?|young adults?){_NOT_ABOUT_PATIENT}", _FLAGS)),
    ("adolescent", re.compile(rf"\b(adolescents?|teenagers?|teens?|teenage){_NOT_ABOUT_PATIENT}", _FLAGS)),
    (
        "child",
        re.compile(
            rf"\b(child|children|childhood|p(?:a)?ediatric|kids?|infants?|toddlers?){_NOT_ABOUT_PATIENT}", _FLAGS
        ),
    ),
)
# Population labels that name several groups at once say nothing about this patient.
_MIXED_LABEL = re.compile(r"\b(?:adolescents? and young adults?|AYAs?|children and adults|pediatric and adult)\b")
_FITS: dict[AgeGroup, tuple[float, float]] = {"child": (0, 18), "adolescent": (10, 20), "adult": (18, 200)}


@dataclass
class AgeReading:
    age: float | None = None
    age_group: AgeGroup | None = None
    conflicts: list[str] = field(default_factory=list)


def group_for_age(age: float) -> AgeGroup:
    if age < 12:
        return "child"
    return "adolescent" if age < 18 else "adult"


def age_fits(age: float, group: AgeGroup) -> bool:
    low, high = _FITS[group]
    return low <= age < high


def format_age(age: float) -> str:
    return f"{age:g}"


def read_age(text: str) -> AgeReading:
    """Age, age group and any contradiction between them, from the question text."""
    ages = _stated_ages(text)
    words = _group_words(text)
    reading = AgeReading(age=ages[0] if ages else None)
    if len(set(ages)) > 1:
        reading.conflicts.append("two ages given: " + " and ".join(format_age(a) for a in dict.fromkeys(ages)))
    if words:
        reading.age_group = words[0][0]
        reading.conflicts.extend(_word_conflicts(words))
    elif reading.age is not None:
        reading.age_group = group_for_age(reading.age)
    else:
        reading.age_group = _decade_group(text)
    if reading.age is not None:
        reading.conflicts.extend(
            f"age {format_age(reading.age)} does not fit '{word}'"
            for group, word in dict.fromkeys(words)
            if not age_fits(reading.age, group)
        )
    return reading


def _stated_ages(text: str) -> list[float]:
    found: list[tuple[int, float]] = []
    for pattern, scale in ((_YEARS_OLD, 1.0), (_YEARS_OF_AGE, 1.0), (_YO, 1.0), (_AGE_SEX, 1.0), (_MONTHS_OLD, 1 / 12)):
        for match in pattern.finditer(text):
            value = number_value(match.group(1))
            if value is not None:
                found.append((match.start(), round(value * scale, 2)))
    for match in _AGE_WORD.finditer(text):
        if not _AT_DIAGNOSIS.search(text[max(0, match.start() - 30) : match.start()]):
            found.append((match.start(), float(match.group(1))))
    return [age for _, age in sorted(found) if 0 <= age <= 120]


def _group_words(text: str) -> list[tuple[AgeGroup, str]]:
    text = _MIXED_LABEL.sub(lambda m: " " * len(m.group(0)), text)
    found = [(m.start(), group, m.group(1).lower()) for group, rx in _GROUP_WORDS for m in rx.finditer(text)]
    return [(group, word) for _, group, word in sorted(found)]


def _word_conflicts(words: list[tuple[AgeGroup, str]]) -> list[str]:
    adult = next((w for g, w in words if g == "adult"), None)
    minor = next((w for g, w in words if g != "adult"), None)
    return [f"described as both '{adult}' and '{minor}'"] if adult and minor else []


def _decade_group(text: str) -> AgeGroup | None:
    match = _DECADE.search(text)
    if match is None:
        return None
    return "adolescent" if match.group(1).lower() == "teens" else "adult"


def without_age_sex(text: str) -> str:
    """`text` less clinicians' age-and-sex shorthand ("52F"): it describes the patient, and no source uses it."""
    return _AGE_SEX.sub(" ", text)
