"""Fitness for a treatment, from `clinqa/data/fitness.tsv`: the treatments a question says the patient cannot have
("not a transplant candidate", "unfit for intensive chemotherapy"), whether a source sentence offers one of them,
and whether it is written for patients who cannot have the usual treatment ("older patients or patients with
comorbidities that preclude SCT")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from clinqa.data import AnyPattern, VocabularyError, compile_any, compile_pattern, read_table

KINDS = ("unfit", "offers", "cue")


@dataclass(frozen=True)
class _Vocabulary:
    unfit: dict[str, re.Pattern[str]]  # treatment -> how a question says the patient cannot have it
    offers: dict[str, re.Pattern[str]]  # treatment -> how a sentence names it
    cue: AnyPattern  # a sentence written for patients unfit for the usual treatment


@cache
def _vocabulary() -> _Vocabulary:
    unfit: dict[str, re.Pattern[str]] = {}
    offers: dict[str, re.Pattern[str]] = {}
    cues: list[str] = []
    for row in read_table("fitness.tsv", 3, 3):
        kind, name, pattern = row.cells
        if kind not in KINDS:
            raise VocabularyError(f"{row.where()}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        compiled = compile_pattern(pattern, row.where())
        if kind == "cue":
            cues.append(pattern)
        else:
            (unfit if kind == "unfit" else offers)[name] = compiled
    missing = sorted(set(unfit) - set(offers))
    if missing:
        raise VocabularyError(f"fitness.tsv: no offers row for {', '.join(missing)}")
    if not cues:
        raise VocabularyError("fitness.tsv: needs a cue row")
    return _Vocabulary(unfit, offers, compile_any(cues, "fitness.tsv:cue"))


def unfit_for(text: str) -> list[str]:
    """The treatments `text` says the patient cannot have, in the vocabulary's order."""
    return [name for name, pattern in _vocabulary().unfit.items() if pattern.search(text)]


def offers_unfit(text: str, unfit: Iterable[str]) -> bool:
    """Whether a sentence names a treatment the patient cannot have, without saying it is written for patients
    who cannot have the usual one ("a second transplant may be feasible" for a patient who is no candidate)."""
    vocabulary = _vocabulary()
    named = any(vocabulary.offers[t].search(text) for t in unfit if t in vocabulary.offers)
    return named and not vocabulary.cue.search(text)


def speaks_to_unfit(text: str) -> bool:
    """Whether a sentence is written for patients who cannot have the usual treatment."""
    return bool(_vocabulary().cue.search(text))
