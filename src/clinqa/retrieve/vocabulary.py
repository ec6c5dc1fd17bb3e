"""Medical vocabulary for query expansion, built when the index is built.

Three well-founded sources, each said in `Vocabulary.sources`:
- abbreviations the ingested documents define themselves ("event-free survival (EFS)"), found with the
  Schwartz-Hearst algorithm;
- brand, generic and variant drug names from the dictionary bundled in `drug-named-entity-recognition`
  (MeSH, DrugBank, MedlinePlus), kept for drugs the corpus mentions;
- clinqa's own list of clinical shorthand (`clinqa/data/clinical_shorthand.tsv`).
"""

from __future__ import annotations

import bz2
import pickle
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property

from clinqa.data import read_table, split_list
from clinqa.packages import package_dir

_PAREN = re.compile(r"\(([A-Za-z0-9][A-Za-z0-9\-/ ]{0,10}[A-Za-z0-9])\)")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-']*")


@dataclass
class Vocabulary:
    abbreviations: dict[str, str] = field(default_factory=dict)  # short form -> long form
    drugs: dict[str, str] = field(default_factory=dict)  # lower-case variant -> generic name
    shorthand: dict[str, list[str]] = field(default_factory=dict)  # lower-case shorthand -> expansions
    sources: list[str] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)  # term -> passage defining it (patient pages)
    specificity: dict[str, float] = field(default_factory=dict)  # stemmed term -> specificity (specificity.py)

    @cached_property
    def phrases(self) -> PhraseTable:
        """The lay phrases of several words and the long forms of the abbreviations, by their words, to be looked
        up among a query's runs of words (built once: a vocabulary is not changed after it is made)."""
        return PhraseTable.of(self)

    def to_json(self) -> dict[str, object]:
        return {
            "abbreviations": self.abbreviations,
            "drugs": self.drugs,
            "sources": self.sources,
            "definitions": self.definitions,
            "specificity": self.specificity,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Vocabulary:
        return cls(
            abbreviations=dict(data["abbreviations"]),  # type: ignore[call-overload]
            drugs=dict(data["drugs"]),  # type: ignore[call-overload]
            shorthand=clinical_shorthand(),
            sources=list(data["sources"]),  # type: ignore[call-overload]
            definitions=dict(data.get("definitions", {})),  # type: ignore[call-overload]
            specificity=dict(data.get("specificity", {})),  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class PhraseTable:
    """Which shorthand phrases and abbreviation long forms a run of lower-case words is, each with its place in
    the vocabulary (expansions keep the vocabulary's order)."""

    shorthand: dict[str, int]  # phrase of several words -> order in `Vocabulary.shorthand`
    long_forms: dict[str, list[tuple[int, str]]]  # long form -> (order, short form) in `Vocabulary.abbreviations`
    longest: int  # words in the longest entry

    @classmethod
    def of(cls, vocabulary: Vocabulary) -> PhraseTable:
        shorthand = {p: i for i, p in enumerate(vocabulary.shorthand) if " " in p}
        long_forms: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for i, (short, long_form) in enumerate(vocabulary.abbreviations.items()):
            if len(long_form) > 6:
                long_forms[long_form].append((i, short))
        longest = max((len(p.split(" ")) for p in [*shorthand, *long_forms]), default=0)
        return cls(shorthand, dict(long_forms), longest)

    def runs(self, words: list[str]) -> Iterable[str]:
        """Every run of consecutive `words` as long as the longest entry, joined by single spaces."""
        for i in range(len(words)):
            for n in range(1, min(self.longest, len(words) - i) + 1):
                yield " ".join(words[i : i + n])


def build_vocabulary(texts: Iterable[str], corpus_terms: set[str], dictionary: Mapping[str, str]) -> Vocabulary:
    """Mine abbreviations from the passages and keep the drug names whose generic name the corpus uses."""
    abbreviations = mine_abbreviations(texts)
    drugs = {v: g for v, g in dictionary.items() if g in corpus_terms}
    return Vocabulary(
        abbreviations=abbreviations,
        drugs=drugs,
        shorthand=clinical_shorthand(),
        sources=[
            f"{len(abbreviations)} abbreviations defined in the ingested documents (Schwartz-Hearst)",
            f"{len(drugs)} drug name variants from drug-named-entity-recognition (MeSH, DrugBank, MedlinePlus)",
            "clinqa clinical shorthand list",
        ],
    )


def mine_abbreviations(texts: Iterable[str], min_count: int = 1) -> dict[str, str]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for match in _PAREN.finditer(text):
            short = match.group(1).strip()
            if not _looks_like_short_form(short):
                continue
            long_form = best_long_form(short, text[: match.start()])
            if long_form:
                counts[short][long_form.lower()] += 1
    return {
        short: forms.most_common(1)[0][0]
        for short, forms in sorted(counts.items())
        if forms.most_common(1)[0][1] >= min_count
    }


def _looks_like_short_form(short: str) -> bool:
    return 2 <= len(short) <= 10 and any(c.isupper() for c in short) and short[0].isalnum() and len(short.split()) <= 2


def best_long_form(short: str, preceding: str) -> str | None:
    """Schwartz & Hearst (2003): the shortest run of preceding words whose letters cover the short form."""
    words = _WORD.findall(preceding)[-min(len(short) + 5, len(short) * 2) :]
    if not words:
        return None
    candidate = " ".join(words)
    s_index, l_index = len(short) - 1, len(candidate) - 1
    while s_index >= 0:
        char = short[s_index].lower()
        if not char.isalnum():
            s_index -= 1
            continue
        while l_index >= 0 and (
            candidate[l_index].lower() != char or (s_index == 0 and l_index > 0 and candidate[l_index - 1].isalnum())
        ):
            l_index -= 1
        if l_index < 0:
            return None
        l_index -= 1
        s_index -= 1
    start = candidate.rfind(" ", 0, l_index + 1) + 1
    long_form = candidate[start:]
    if long_form.lower().startswith(short.lower()) or len(long_form) <= len(short):
        return None
    return long_form


@cache
def drug_dictionary() -> dict[str, str]:
    """Lower-case drug name variant -> lower-case generic name, from drug-named-entity-recognition's data."""
    folder = package_dir("drug_named_entity_recognition")
    if folder is None:
        return {}
    with bz2.open(folder / "drug_ner_dictionary.pkl.bz2", "rb") as f:
        data = pickle.load(f)  # the package's own bundled data file
    variants: dict[str, list[str]] = data["drug_variant_to_canonical"]
    return {
        variant.lower(): canonicals[0].lower()
        for variant, canonicals in variants.items()
        if canonicals and len(variant) > 3
    }


@cache
def clinical_shorthand() -> dict[str, list[str]]:
    return {row.cells[0].lower(): split_list(row.cells[1]) for row in read_table("clinical_shorthand.tsv", 2, 2)}


@cache
def radionuclides() -> dict[str, str]:
    """Chemical symbol -> element name of the radionuclides in `clinqa/data/radionuclides.tsv`."""
    return {row.cells[0]: row.cells[1].lower() for row in read_table("radionuclides.tsv", 2, 2)}
