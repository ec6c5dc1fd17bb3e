"""What a question is about — its disease and the population asked about — and whether a page fits it.

A page fits when its title names the question's disease or a related one (osteosarcoma and bone sarcoma), or
when its title names no disease at all (lymphedema, cancer pain). A page whose title names only other diseases
(uterine sarcoma, for an osteosarcoma question) lends a sentence only from a section that names the question's
disease ("Hodgkin lymphoma during pregnancy" in a pregnancy page). Childhood pages rank below adult ones for an
adult, and the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache

from clinqa.clinical.disease import (
    diagnoses_in,
    diagnosis_aliases,
    is_listed,
    most_specific,
    read_diagnosis,
    read_organ,
    related,
)
from clinqa.retrieve.analysis import analyze_cached, fold
from clinqa.types import Passage, PatientContext

_CHILD_TITLE = re.compile(r"\b(?:childhood|pediatric|paediatric|children)\b", re.I)
_ADULT_TITLE = re.compile(r"\badults?\b", re.I)
_CHILD_QUESTION = re.compile(
    r"\b(?:child(?!-pugh)|children|childhood|pediatric|paediatric|infant|toddler|my (?:son|daughter|kid|baby)|"
    r"(?:[1-9]|1[0-7])[- ](?:year|month)s?[- ]old)\b",
    re.I,
)


_ADULT_QUESTION = re.compile(
    r"\b(?:adults?|elderly|older (?:adults?|patients?|man|woman)|postmenopausal|[2-9]\d[- ]?(?:year[- ]old|yo|[mf])\b)",
    re.I,
)
ADULT_AGE = 18
UNSTATED_CHILD_PAGE = 0.85  # with no population stated, a childhood page ranks a little below the others


class Fit(StrEnum):
    ON_TOPIC = "on_topic"  # the page or its section is about the question's disease
    GENERAL = "general"  # the page is about no disease in particular
    OTHER = "other"  # the page is about other diseases, and this section does not name the question's


@dataclass(frozen=True)
class Topic:
    disease: str | None
    population: str | None  # "child", "adult" or None
    aliases: tuple[str, ...] = ()

    @classmethod
    def of(cls, question: str, patient: PatientContext) -> Topic:
        disease = patient.diagnosis or read_diagnosis(question) or read_organ(question)
        if disease and not is_listed(disease):
            # A diagnosis the list lacks ("ampullary adenocarcinoma") stands for its organ's cancers, when it names one.
            disease = read_organ(disease) or disease
        population = patient.age_group if patient.age_group in ("child", "adult") else None
        if population is None and patient.age is not None:
            population = "adult" if patient.age >= ADULT_AGE else "child"
        if population is None and _CHILD_QUESTION.search(question):
            population = "child"
        if population is None and _ADULT_QUESTION.search(question):
            population = "adult"
        aliases = tuple(fold(a).lower() for a in diagnosis_aliases(disease)) if disease else ()
        return cls(disease, population, aliases)


@dataclass
class TopicFit:
    """How each page and passage fits a topic; page verdicts are remembered."""

    topic: Topic
    titles: Mapping[str, str]
    _pages: dict[str, Fit] = field(default_factory=dict)

    def page(self, document_id: str) -> Fit:
        if document_id not in self._pages:
            self._pages[document_id] = self._page_fit(self.titles.get(document_id, ""))
        return self._pages[document_id]

    def _page_fit(self, title: str) -> Fit:
        if self.topic.disease is None:
            return Fit.GENERAL
        organ = read_organ(title)
        named = diagnoses_in(title) or ([organ] if organ else [])
        if not named:
            return Fit.GENERAL
        return Fit.ON_TOPIC if any(related(self.topic.disease, d) for d in named) else Fit.OTHER

    def passage(self, passage: Passage) -> Fit:
        """The page's fit, raised to on-topic when the passage's section path names the disease; lowered to
        another disease's when, on a page about the disease, the most specific heading naming a diagnosis names
        only another kind of it (a section on NLPHL for classic Hodgkin lymphoma, on medullary thyroid cancer for
        papillary)."""
        page = self.page(passage.document_id)
        if self.topic.disease is None:
            return page
        if page is Fit.ON_TOPIC:
            return Fit.OTHER if _names_another_kind(self.topic.disease, passage.section_path) else page
        if self.names_disease(" ".join(passage.section_path)):
            return Fit.ON_TOPIC
        return page

    def names_disease(self, text: str) -> bool:
        """Whether `text` (a title, a section path) names the question's disease or a related one; the longest
        listed name wins, so "non-small cell lung cancer" does not name small cell lung cancer."""
        disease = self.topic.disease
        if disease is None:
            return False
        listed = diagnoses_in(text)
        if listed:
            return any(related(disease, d) for d in listed)
        lowered = fold(text).lower()
        return any(re.search(rf"(?<![a-z0-9-]){re.escape(a)}(?![a-z0-9])", lowered) for a in self.topic.aliases)

    def names_only_another(self, text: str) -> bool:
        """Whether a sentence names a diagnosis and none related to the question's (an approval for medullary
        thyroid cancer, for a papillary one): what it offers is for another disease, whatever its section."""
        if self.topic.disease is None:
            return False
        named = most_specific(diagnoses_in(text))
        return bool(named) and not any(related(self.topic.disease, d) for d in named)

    def terms(self) -> set[str]:
        """The stemmed words naming the disease: every page about it has them, so they decide which pages
        fit, not which sentence answers."""
        return {t for alias in self.topic.aliases for t in analyze_cached([alias])[0]}

    def weight(self, passage: Passage) -> float:
        """A multiplier of a sentence's score: 0 drops it (another disease), less than 1 ranks it lower."""
        fit = self.passage(passage)
        if fit is Fit.OTHER:
            return 0.0
        weight = 1.0 if fit is Fit.ON_TOPIC else 0.8
        return weight * self._population_weight(self.titles.get(passage.document_id, ""))

    def for_other_population(self, document_id: str) -> bool:
        """Whether the page is written for the other population than the patient's (a childhood page for an
        adult) while the knowledge base holds a page on the disease for the patient's own: its options are not
        this patient's. With no such page (an adult with a childhood cancer), the other population's page stands."""
        if self.topic.population is None or self._population_weight(self.titles.get(document_id, "")) == 1.0:
            return False
        return self._own_population_page

    @cached_property
    def _own_population_page(self) -> bool:
        return any(
            self.page(d) is Fit.ON_TOPIC and self._population_weight(title) == 1.0 for d, title in self.titles.items()
        )

    def _population_weight(self, title: str) -> float:
        child_page, adult_page = bool(_CHILD_TITLE.search(title)), bool(_ADULT_TITLE.search(title))
        if self.topic.population == "adult" and child_page and not adult_page:
            return 0.6
        if self.topic.population == "child" and adult_page and not child_page:
            return 0.6
        if self.topic.population is None and child_page and not adult_page:
            return UNSTATED_CHILD_PAGE
        return 1.0


@lru_cache(maxsize=65536)
def _names_another_kind(disease: str, path: tuple[str, ...]) -> bool:
    for heading in reversed(path):
        named = most_specific(diagnoses_in(heading))
        if named:
            return not any(related(disease, d) for d in named)
    return False
