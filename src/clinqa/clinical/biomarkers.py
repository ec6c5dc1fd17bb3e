"""Tumour markers and their status in a question or a source sentence ("RAS-mutant", "HER2-positive", "EGFR/ALK
negative", "dMMR"), from `clinqa/data/biomarkers.tsv`; and whether a sentence's population conflicts with the
patient's markers (evidence for RAS wild-type tumours does not apply to a RAS-mutant one), by what it states or by
the marker status its agents are given for (panitumumab: RAS wild-type)."""

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
# What follows a marker to state its status; a variant code ("G12C", "V600E", "exon 19"), an internal tandem
# duplication ("FLT3-ITD") or a pathogenic or germline variant is an alteration too.
_AFTER_POSITIVE = (
    r"(?:[- ]?(?:(?:pathogenic |germline |somatic |activating )?(?:mutant|mutated|mutations?|variants?)|"
    r"alterations?|altered|amplified|amplification|fusions?|fusion-positive|rearranged|rearrangements?|"
    r"translocations?|overexpress\w*|positive|expressing|high|ITD|TKD|deletions?|insertions?)\b|\+"
    r"|\s+(?:[A-Z]\d{2,4}[A-Z]?|exon \d+))"
)
_AFTER_NEGATIVE = r"(?:[- ]?(?:wild[- ]type|WT|negative|non-?mutated|unmutated|normal|low)\b|-(?![\w-]))"
# The payload after an antibody's name makes an antibody-drug conjugate, another agent ("trastuzumab deruxtecan").
_CONJUGATE = re.compile(r"\s+\w*(?:tecan|tansine|vedotin|mafodotin|ozogamicin|tesirine)\b", re.I)
_ALSO = r"(?:\s*(?:/|,|and|or)\s*"  # "EGFR/ALK negative": the status after the last names every marker before it


@dataclass(frozen=True)
class _Vocabulary:
    names: Mapping[str, str]  # a way of writing a marker (lower case) -> the marker
    broader: Mapping[str, str]  # marker -> the broader marker it implies when altered (KRAS -> RAS)
    genes: frozenset[str]  # markers whose status reads altered or wild-type
    # A word that states a status by itself (lower case) -> (marker, status) for each marker it states: "dMMR";
    # "triple-negative" states three.
    words: Mapping[str, tuple[tuple[str, Status], ...]]
    pattern: re.Pattern[str]
    requires: Mapping[str, tuple[str, Status]]  # an agent (lower case) -> the marker status it is given for
    agents: re.Pattern[str] | None  # any agent of `requires`, as a whole word


@cache
def _vocabulary() -> _Vocabulary:
    names: dict[str, str] = {}
    broader: dict[str, str] = {}
    genes: set[str] = set()
    words: dict[str, tuple[tuple[str, Status], ...]] = {}
    requires: dict[str, tuple[str, Status]] = {}
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
            stated = (second, POSITIVE if third == POSITIVE else NEGATIVE)
            words[name.lower()] = (*words.get(name.lower(), ()), stated)  # a word may state several markers
        elif kind == "requires":
            if not second or third not in (POSITIVE, NEGATIVE):
                raise VocabularyError(f"{row.where()}: a requires row needs a marker and positive or negative")
            requires[name.lower()] = (second, POSITIVE if third == POSITIVE else NEGATIVE)
        else:
            raise VocabularyError(f"{row.where()}: unknown kind {kind!r} (marker, status or requires)")
    listed = set(names.values())
    stated_markers = {m for pairs in words.values() for m, _ in pairs} | {m for m, _ in requires.values()}
    unknown = sorted((set(broader.values()) | stated_markers) - listed)
    if unknown:
        raise VocabularyError(f"biomarkers.tsv: {', '.join(unknown)} named but not listed as a marker")
    written = "|".join(re.escape(w) for w in sorted(names, key=len, reverse=True))
    marker = rf"(?<![\w-])(?:{written})(?![a-z])"
    pattern = re.compile(
        rf"((?:{marker}){_ALSO}(?:{marker}))*)(?:({_AFTER_POSITIVE})|({_AFTER_NEGATIVE}))"
        rf"|(?<![\w-])({'|'.join(re.escape(w) for w in sorted(words, key=len, reverse=True))})(?![\w-])",
        re.IGNORECASE,
    )
    agents = (
        re.compile(
            rf"(?<![\w-])({'|'.join(re.escape(a) for a in sorted(requires, key=len, reverse=True))})(?![\w-])", re.I
        )
        if requires
        else None
    )
    return _Vocabulary(names, broader, frozenset(genes), words, pattern, requires, agents)


def markers_in(text: str) -> dict[str, Status]:
    """The markers `text` states a status for -> positive or negative; an altered marker states its broader one
    too (KRAS-mutant: RAS positive). A marker stated both ways is left out."""
    vocabulary = _vocabulary()
    found: dict[str, set[Status]] = {}
    for m in vocabulary.pattern.finditer(text):
        if m.group(4):
            for marker, stated in vocabulary.words[m.group(4).lower()]:
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
    stated = markers_in(sentence)
    required = _required(sentence, stated)
    # A combination given for this patient's status (sotorasib with panitumumab for KRAS G12C) is for them.
    agreeing = {_family(m) for m, status in required if patient_markers.get(m) == status}
    required = [(m, status) for m, status in required if _family(m) not in agreeing]
    for marker, status in [*stated.items(), *required]:
        for theirs in (marker, broader.get(marker)) if status == POSITIVE else (marker,):
            if theirs and patient_markers.get(theirs) not in (None, status):
                return (
                    f"the evidence is for {marker} {_word(marker, status)} tumours; this patient's is "
                    f"{theirs} {_word(theirs, patient_markers[theirs])}"
                )
    return None


def _required(sentence: str, stated: Mapping[str, str]) -> list[tuple[str, Status]]:
    """The marker statuses the agents a sentence names are given for (panitumumab: RAS wild-type), for markers
    the sentence does not state itself (sotorasib plus panitumumab "for KRAS G12C tumours" states its own); an
    antibody-drug conjugate ("trastuzumab deruxtecan") is another agent than its antibody."""
    vocabulary = _vocabulary()
    if vocabulary.agents is None:
        return []
    related = {m for marker in stated for m in (marker, vocabulary.broader.get(marker)) if m}
    found = []
    for m in vocabulary.agents.finditer(sentence):
        if _CONJUGATE.match(sentence, m.end()):
            continue
        marker, status = vocabulary.requires[m.group(1).lower()]
        if marker not in related and vocabulary.broader.get(marker) not in related:
            found.append((marker, status))
    return found


def _family(marker: str) -> str:
    """The broadest marker `marker` belongs to (KRAS: RAS)."""
    return _vocabulary().broader.get(marker, marker)


def _word(marker: str, status: str) -> str:
    if marker in _vocabulary().genes:
        return "altered" if status == POSITIVE else "wild-type"
    return status
