"""Sentence scoring: pure functions of query terms, term weights and sentence terms."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from clinqa.answer.triage import QuestionKind, kind_cues
from clinqa.data import compile_any
from clinqa.settings import settings

_GUIDANCE = compile_any(
    [
        r"\b(?:should|recommend(?:ed|s)?|consider\w*|standard|preferred|enrol\w*|options?|mainstay|cornerstone|"
        r"(?:is|are|was|were|has been|have been) (?:active|effective|approved)|(?:shown to )?(?:has|have) activity|"
        r"indicated|may benefit|can be cured)\b"
    ],
    "scoring.py: guidance",
)
_META = compile_any(
    [
        r"(?:for more information|for specific information|see the .* section|see the (?:\w+ )*summar(?:y|ies)|"
        r"this summary|this section|the following is|"
        r"information about (?:ongoing )?clinical trials is available|check for u\.s\. clinical trials|"
        r"^use our (?:advanced )?clinical trial search|^general information about clinical trials|"
        r"^(?:to )?learn more\b|\bvisit [A-Z]|\bcan be (?:further )?narrowed\b|\blist of (?:clinical )?trials\b|"
        r"^(?:refer to|see) |^this list is provided\b|\bthese references have been (?:identified|selected)\b)"
    ],
    "scoring.py: navigation",
)


@dataclass(frozen=True)
class QueryTerms:
    weights: dict[str, float]  # stemmed term -> weight x idf (the question's own terms)
    expansion: dict[str, float]  # stemmed expansion term -> weight x idf
    # own term -> other wordings of it (an abbreviation spelled out, shorthand, a drug's other name), each a set of
    # stemmed terms a sentence must hold all of: "chemo" is covered by "chemotherapy", "EFS" by "event-free survival"
    synonyms: Mapping[str, tuple[frozenset[str], ...]] = field(default_factory=dict)

    @cached_property
    def total(self) -> float:
        """What full coverage means: the weight of the question's most specific terms. A long, detailed
        question is not answered by one sentence holding all of its words, so only the top few count."""
        return sum(sorted(self.weights.values(), reverse=True)[: settings().answer.covered_terms]) or 1.0


def weigh_terms(
    own: list[str],
    expansion: list[str],
    details: list[str],
    idf: Mapping[str, float],
    expansion_weight: float,
    synonyms: Mapping[str, tuple[frozenset[str], ...]] | None = None,
) -> QueryTerms:
    """Own terms weigh their IDF; expansions a share of it; parenthetical details (the patient's history, such
    as drugs already given) barely count: they describe the case, they are not what is asked. An expansion that
    rewords an own term (`synonyms`) also covers that term when a sentence holds the whole wording."""
    kept = {t: synonyms[t] for t in dict.fromkeys(own) if synonyms and synonyms.get(t)}
    # A word the pages never use ("chemo") weighs what the wording they use weighs ("chemotherapy").
    weights = {t: idf.get(t) or _worded(kept.get(t, ()), idf) for t in dict.fromkeys(own)}
    # A one-word rewording ("chemo" -> chemotherapy) stands for the own term and weighs nothing on its own; the
    # words of a longer one (lay "chances" -> prognosis, survival) still weigh as expansions, each by itself.
    one_word = {x for sets in kept.values() for w in sets if len(w) == 1 for x in w}
    fresh = [t for t in dict.fromkeys(expansion) if t not in weights and t not in one_word]
    extra = {t: expansion_weight * idf.get(t, 0.0) for t in fresh}
    detail = settings().answer.detail_weight
    extra.update({t: detail * idf.get(t, 0.0) for t in dict.fromkeys(details) if t not in weights})
    return QueryTerms(weights, extra, kept)


def _worded(wordings: tuple[frozenset[str], ...], idf: Mapping[str, float]) -> float:
    """The weight of the best wording of a term: each wording weighs its rarest word."""
    return max((max((idf.get(w, 0.0) for w in wording), default=0.0) for wording in wordings), default=0.0)


def coverage(q: QueryTerms, sentence_terms: set[str], context_terms: set[str]) -> float:
    """Share of the question's weighted terms found in the sentence (context counts half), capped at 1. An own
    term is found when the sentence holds it or one of its wordings whole."""
    return coverages(q, sentence_terms, context_terms, frozenset())[0]


def coverages(
    q: QueryTerms, sentence_terms: set[str], context_terms: set[str], more_context: Set[str]
) -> tuple[float, float]:
    """`coverage` with `context_terms`, and with `more_context` added to them, in one reading of the terms."""
    got = more = 0.0
    for term, weight in q.weights.items():
        wordings = q.synonyms.get(term, ())
        if term in sentence_terms or any(w <= sentence_terms for w in wordings):
            got += weight
        elif term in context_terms or any(w <= context_terms for w in wordings):
            got += 0.5 * weight
        elif more_context and (term in more_context or any(w <= more_context for w in wordings)):
            more += 0.5 * weight
    for t, w in q.expansion.items():
        if t in sentence_terms:
            got += w
        elif t in context_terms:
            got += 0.5 * w
        elif t in more_context:
            more += 0.5 * w
    return min(1.0, got / q.total), min(1.0, (got + more) / q.total)


def kind_bonus(text: str, section: str, kinds: list[QuestionKind]) -> float:
    """What a sentence gains for being where the sources answer this kind of question (its section) and for
    stating what the kind wants (a dose, a figure, a test); the main kind counts fully, the next one half."""
    tunables = settings().answer
    return _kind_bonus(
        text, section, tuple(kinds[:2]), tunables.section_bonus, tunables.sentence_bonus, tunables.guidance_bonus
    )


@lru_cache(maxsize=65536)
def _kind_bonus(
    text: str,
    section: str,
    kinds: tuple[QuestionKind, ...],
    section_bonus: float,
    sentence_bonus: float,
    guidance: float,
) -> float:
    """`kind_bonus`, remembered: each step of a treatment algorithm scores many of the same sentences again."""
    cues = kind_cues()
    bonus = 0.0
    for share, kind in zip((1.0, 0.5), kinds, strict=False):
        if kind not in cues:
            continue
        if cues[kind].section.search(section):
            bonus += section_bonus * share
        if cues[kind].sentence.search(text):
            bonus += sentence_bonus * share
    if kinds[0] is QuestionKind.TREATMENT and _GUIDANCE.search(text):
        bonus += guidance  # "what next" is answered by what the source advises, first
    return bonus


def is_guidance(text: str) -> bool:
    """A sentence that advises, or reports that something works: what a "what next" bottom line offers."""
    return bool(_GUIDANCE.search(text))


@lru_cache(maxsize=65536)
def is_meta(text: str) -> bool:
    """Navigation and housekeeping sentences that say nothing clinical."""
    return bool(_META.search(text))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
