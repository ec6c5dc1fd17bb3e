"""Medical query expansion: abbreviations, shorthand and drug names, each expansion with its origin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from clinqa.retrieve.vocabulary import Vocabulary, radionuclides

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/+']*")
_LOWER_WORD = re.compile(r"[a-z0-9][a-z0-9'/+-]*")


@dataclass(frozen=True)
class Expansion:
    term: str  # what the query said
    adds: str  # what retrieval also looks for
    origin: str  # "abbreviation", "shorthand", "drug", "radionuclide"


def expand_query(query: str, vocabulary: Vocabulary) -> list[Expansion]:
    """Expansions for the tokens and phrases of a query, in query order, without duplicates."""
    found: list[Expansion] = []
    for token in _TOKEN.findall(query):
        found.extend(_expand_token(token.strip("'"), vocabulary))
    table = vocabulary.phrases
    runs = set(table.runs(_LOWER_WORD.findall(query.lower())))
    phrases = sorted((table.shorthand[r], r) for r in runs if r in table.shorthand)
    for _, phrase in phrases:  # lay phrases: "came back", "how long"
        found.extend(Expansion(phrase, a, "shorthand") for a in vocabulary.shorthand[phrase])
    found.extend(_radionuclides(query))
    long_forms = sorted((i, short, r) for r in runs for i, short in table.long_forms.get(r, ()))
    found.extend(Expansion(long_form, short, "abbreviation") for _, short, long_form in long_forms)
    unique: dict[tuple[str, str], Expansion] = {}
    for e in found:
        unique.setdefault((e.term.lower(), e.adds.lower()), e)
    return list(unique.values())


def _expand_token(token: str, vocabulary: Vocabulary) -> list[Expansion]:
    lower = token.lower()
    out = [Expansion(token, adds, "shorthand") for adds in vocabulary.shorthand.get(lower, [])]
    if not out and token in vocabulary.abbreviations and any(c.isupper() for c in token):
        out.append(Expansion(token, vocabulary.abbreviations[token], "abbreviation"))
    generic = vocabulary.drugs.get(lower)
    if generic and generic != lower:
        out.append(Expansion(token, generic, "drug"))
    if not out and "/" in token:
        for part in token.split("/"):
            out.extend(_expand_token(part, vocabulary))
    return out


@cache
def _isotope() -> re.Pattern[str]:
    """An isotope as chemists and clinicians write it: a listed symbol before or after its mass number ("Sm-153",
    "153Sm", "Ra-223", "I131"); the symbol case-sensitive, so "In" or "I" as words never match."""
    symbols = "|".join(sorted(map(re.escape, radionuclides()), key=len, reverse=True))
    return re.compile(
        rf"(?<![A-Za-z0-9])(?:(?P<mass>\d{{2,3}})-?(?P<symbol>{symbols})|(?P<symbol2>{symbols})-?(?P<mass2>\d{{2,3}}))"
        r"(?![a-z0-9])"
    )


def _radionuclides(query: str) -> list[Expansion]:
    """The element name and both notations of each isotope a query writes by symbol: "Sm-153" also looks for
    "samarium-153" and "153Sm"."""
    out = []
    for match in _isotope().finditer(query):
        symbol, mass = match["symbol"] or match["symbol2"], match["mass"] or match["mass2"]
        name = radionuclides()[symbol]
        out.append(Expansion(match.group(), f"{name}-{mass} {mass}{symbol}", "radionuclide"))
    return out
