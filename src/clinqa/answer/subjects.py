"""Whether the knowledge base names what a question is about.

A *subject* is a word of the question that names something: a drug, a disease or condition, a proper name, a
named thing (a trial, a gene, an acronym: capitals or digits), or a rare word. An ordinary English word the
corpus happens not to use ("soon", "relieve", "regimens") is never a subject. Rarity is judged by general-English
frequency (specificity.py), so the decision is the same on one page and on a thousand.

A drug, a condition or a proper name the knowledge base never names is *decisive*: the question cannot be
answered from it ("dupilumab", "cystitis", "Lyme"). Another missing subject (an acronym the pages spell out, a
rare word) only weighs in the question's terms, which no sentence can then fully cover; the evidence decides. A
missing ordinary word weighs too, at a fraction of its specificity: the pages may say it otherwise, or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from clinqa.retrieve.analysis import QUESTION_WORDS, fold, query_terms, stem
from clinqa.retrieve.specificity import word_specificity, zipf
from clinqa.settings import settings

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-']*[A-Za-z0-9]|[A-Za-z]")
_SENTENCE_START = re.compile(r"(?:^|[.?!:;]\s+|\n)\W*$")
# Word endings of drugs and of conditions: a word shaped like these is a subject even if wordfreq knows it.
_DRUG_SHAPE = re.compile(
    r"(?:mab|nib|lib|vir|cillin|mycin|micin|azole|pril|sartan|olol|statin|parin|tide|cycline|floxacin|platin|"
    r"taxel|rubicin|mustine|trexate|zomib|lisib|ciclib|parib|tinib|rafenib)$"
)
_CONDITION_SHAPE = re.compile(r"(?:oma|omas|itis|osis|emia|aemia|pathy|plasia)$")
_PROCEDURE_SHAPE = re.compile(r"(?:ectomy|ectomies|otomy|ostomy|oscopy|plasty)$")


@dataclass(frozen=True)
class Subject:
    word: str  # as the question wrote it
    term: str  # stemmed
    kind: str  # "decisive" (a drug or a condition), "named", "rare" or "ordinary"
    weight: float  # what it weighs among the question's terms

    @property
    def decisive(self) -> bool:
        """A drug or a condition: its absence means the knowledge base cannot answer."""
        return self.kind == "decisive"


def missing_subjects(
    question: str,
    known: Mapping[str, float] | Collection[str],
    expanded: Collection[str],
    is_drug: Callable[[str], bool],
) -> list[Subject]:
    """The question's subjects the knowledge base never names.

    `known`: stemmed terms of the corpus; `expanded`: stemmed terms of the question that an expansion (an
    abbreviation, a drug's other name, shorthand) has translated into words the corpus does know."""
    text = fold(question)
    found: dict[str, Subject] = {}
    for match in _WORD.finditer(text):
        starts_sentence = bool(_SENTENCE_START.search(text[: match.start()]))
        for word in _parts(match.group(0)):
            term = stem(word)
            if term in QUESTION_WORDS or term in known or term in expanded or term in found or len(word) < 2:
                continue
            kind = _subject_kind(word, starts_sentence, is_drug)
            share = settings().answer.ordinary_share if kind == "ordinary" else 1.0
            found[term] = Subject(word, term, kind, share * word_specificity(word))
    return list(found.values())


def described_only(subjects: list[Subject], asked: str) -> list[Subject]:
    """The subjects, those that are not in the `asked` text (only in the case the question describes) no longer
    decisive: they weigh among the question's terms, and the evidence decides."""
    terms = set(query_terms(asked))
    return [replace(s, kind="named") if s.decisive and s.term not in terms else s for s in subjects]


def _parts(word: str) -> list[str]:
    """A hyphenated compound is known when its parts are ("lung-only", "16-year-old"); a code with digits
    stays whole ("CAPP2", "Sm-153")."""
    if word.isdigit():
        return []  # a figure is matched in passages, never a subject
    if "-" not in word:
        return [word]
    parts = [p for p in word.split("-") if p]
    return [p for p in parts if not p.isdigit()]


def _subject_kind(word: str, starts_sentence: bool, is_drug: Callable[[str], bool]) -> str:
    lower = word.lower()
    if _DRUG_SHAPE.search(lower) or _CONDITION_SHAPE.search(lower) or is_drug(lower):
        return "decisive"
    if any(c.isdigit() for c in word) or sum(c.isupper() for c in word) >= 2:
        return "named"  # a code, a trial, a gene, an acronym: BRCA2, CAPP2, WATCHMAN
    if word[0].isupper() and not starts_sentence and word[1:].islower():
        return "decisive"  # a proper name in mid-sentence the pages never use: Paxlovid, Medicare, Lyme
    if _PROCEDURE_SHAPE.search(lower):
        return "named"  # a procedure (hysterectomy), which the pages may name otherwise
    # a word rarer in English than answer.rare_zipf is a subject (heartworm 2.1; regimens 2.8)
    return "rare" if zipf(lower) < settings().answer.rare_zipf else "ordinary"
