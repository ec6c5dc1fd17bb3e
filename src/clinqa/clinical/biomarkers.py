"""Tumour markers and their status in a question or a source sentence ("RAS-mutant", "HER2-positive", "EGFR/ALK
negative", "dMMR"), from `clinqa/data/biomarkers.tsv`; and whether a sentence's population conflicts with the
patient's markers (evidence for RAS wild-type tumours does not apply to a RAS-mutant one)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from clinqa.data import VocabularyError, read_table, split_list

Status = Literal["positive", "negative"]
POSITIVE: Status = "positive"
NEGATIVE: Status = "negative"
# What follows a marker to state its status; a variant code ("G12C", "V600E", "exon 19") is an alteration too.
_AFTER_POSITIVE = (
    r"(?:[- ]?(?:mutant|mutated|mutations?|variants?|alterations?|altered|amplified|amplification|fusions?|"
    r"fusion-positive|rearranged|rearrangements?|translocations?|overexpress\w*|positive|expressing|high)\b|\+"
    r"|\s+(?:[A-Z]\d{2,4}[A-Z]?|exon \d+))"
)
_AFTER_NEGATIVE = r"(?:[- ]?(?:wild[- ]type|WT|negative|non-?mutated|unmutated|normal|low)\b|-(?![\w-]))"
_ALSO = r"(?:\s*(?:/|,|and|or)\s*"  # "EGFR/ALK negative": the status after the last names every marker before it


@dataclass(frozen=True)
class _Vocabulary:
    names: Mapping[str, str]  # a way of writing a marker (lower case) -> the marker
    broader: Mapping[str, str]  # marker -> the broader marker it implies when altered (KRAS -> RAS)
    genes: frozenset[str]  # markers whose status reads altered or wild-type
    words: Mapping[str, tuple[str, Status]]  # a word that states a status by itself (lower case) -> (marker, status)
    pattern: re.Pattern[str]


@cache
def _vocabulary() -> _Vocabulary:
    names: dict[str, str] = {}
    broader: dict[str, str] = {}
    genes: set[str] = set()
    words: dict[str, tuple[str, Status]] = {}
    for row in read_table("biomarkers.tsv", 5, 2):
        kind, name, second, third, fourth = row.cells
        if kind == "marker":
            for written in [name, *split_list(second)]:
                names[written.lower()] = name
            if third:
                broader[name] = third
            if fourth not in ("gene", "expression"):
                raise VocabularyError(f"{row.where()}: a marker reads as gene or expression, not {fourth!r}")
            if fourth == "gene":
                genes.add(name)
        elif kind == "status":
            if not second or third not in (POSITIVE, NEGATIVE):
                raise VocabularyError(f"{row.where()}: a status row needs a marker and positive or negative")
            words[name.lower()] = (second, POSITIVE if third == POSITIVE else NEGATIVE)
        else:
            raise VocabularyError(f"{row.where()}: unknown kind {kind!r} (marker or status)")
    listed = set(names.values())
    unknown = sorted((set(broader.values()) | {m for m, _ in words.values()}) - listed)
    if unknown:
        raise VocabularyError(f"biomarkers.tsv: {', '.join(unknown)} named but not listed as a marker")
    written = "|".join(re.escape(w) for w in sorted(names, key=len, reverse=True))
    marker = rf"(?<![\w-])(?:{written})(?![a-z])"
    pattern = re.compile(
        rf"((?:{marker}){_ALSO}(?:{marker}))*)(?:({_AFTER_POSITIVE})|({_AFTER_NEGATIVE}))"
        rf"|(?<![\w-])({'|'.join(re.escape(w) for w in sorted(words, key=len, reverse=True))})(?![\w-])",
        re.IGNORECASE,
    )
    return _Vocabulary(names, broader, frozenset(genes), words, pattern)


def markers_in(text: str) -> dict[str, Status]:
    """The markers `text` states a status for -> positive or negative; an altered marker states its broader one
    too (KRAS-mutant: RAS positive). A marker stated both ways is left out."""
    vocabulary = _vocabulary()
    found: dict[str, set[Status]] = {}
    for m in vocabulary.pattern.finditer(text):
        if m.group(4):
            marker, stated = vocabulary.words[m.group(4).lower()]
            found.setdefault(marker, set()).add(stated)
            continue
        status: Status = POSITIVE if m.group(2) else NEGATIVE
        for written in re.split(r"\s*(?:/|,|\band\b|\bor\b)\s*", m.group(1)):
            named = vocabulary.names.get(written.strip().lower())
            if named is None:
                continue
            found.setdefault(named, set()).add(status)
            if status == POSITIVE and named in vocabulary.broader:
                found.setdefault(vocabulary.broader[named], set()).add(POSITIVE)
    return {marker: statuses.pop() for marker, statuses in found.items() if len(statuses) == 1}


def conflict(sentence: str, patient_markers: Mapping[str, str]) -> str | None:
    """Why the population of `sentence` is not this patient's by a marker ("the evidence is for RAS negative
    tumours; this patient's is RAS positive"), or None. A narrower marker the sentence requires altered (KRAS
    G12C) conflicts with the patient's broader one being wild-type (RAS wild-type)."""
    if not patient_markers:
        return None
    broader = _vocabulary().broader
    for marker, status in markers_in(sentence).items():
        for theirs in (marker, broader.get(marker)) if status == POSITIVE else (marker,):
            if theirs and patient_markers.get(theirs) not in (None, status):
                return (
                    f"the evidence is for {marker} {_word(marker, status)} tumours; this patient's is "
                    f"{theirs} {_word(theirs, patient_markers[theirs])}"
                )
    return None


def _word(marker: str, status: str) -> str:
    if marker in _vocabulary().genes:
        return "altered" if status == POSITIVE else "wild-type"
    return status
