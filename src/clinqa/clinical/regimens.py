"""Drug and regimen names as clinicians write them, normalised to lower-case generic agent names.

Where each vocabulary comes from:
- regimen abbreviations ("MAP", "IE", "gem/doc", "R-CHOP"), single-agent shorthand ("ifos", "dox", "MTX") and a
  few words to ignore: clinqa's own list, `clinqa/data/regimens.tsv`, written for clinqa;
- brand, generic and variant drug names ("Adriamycin", "Taxotere", "doxorubicin hydrochloride"): the dictionary
  bundled with the `drug-named-entity-recognition` package (MeSH, DrugBank, MedlinePlus), read through
  `clinqa.retrieve.vocabulary.drug_dictionary()`. Salt and formulation words ("hydrochloride", "lipid complex")
  and MedlinePlus qualifiers in parentheses are stripped from its generic names, so every variant of a drug
  normalises to one base generic name.

Text is scanned left to right; at each word the longest phrase (up to six words) found in either vocabulary wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

from clinqa.data import Row, VocabularyError, alternation, compile_pattern, read_table, split_list
from clinqa.types import PriorTherapy

_MAX_WORDS = 6
_TOKEN = re.compile(r"[A-Za-z0-9]+")
# Salt, hydrate and formulation words that name the same agent; stripped only when what remains is a known generic.
_FORM_SUFFIXES = (
    "hydrochloride", "hcl", "sulfate", "sulphate", "sodium", "disodium", "calcium", "potassium", "phosphate",
    "mesylate", "citrate", "acetate", "tartrate", "maleate", "besylate", "tosylate", "malate", "succinate",
    "bromide", "chloride", "anhydrous", "monohydrate", "dihydrate", "trihydrate", "lipid complex", "liposomal",
    "liposome", "liposome injection", "injection", "for injection", "conventional", "pegylated liposomal",
)  # fmt: skip
_FORM_PREFIXES = ("liposomal", "pegylated liposomal", "pegylated", "nab", "nab-", "conventional")


@dataclass(frozen=True)
class Regimen:
    """One row of clinqa's regimen list."""

    kind: str  # "regimen", "agent" or "ignore"
    name: str
    agents: tuple[str, ...]
    aliases: tuple[str, ...]
    disease: str | None = None  # the one disease a regimen is given for (MAP: osteosarcoma), when it is one


@dataclass(frozen=True)
class Mention:
    """A drug or regimen named in a text: where (offsets into `clean_text(text)`) and what it stands for."""

    start: int
    end: int
    text: str
    agents: tuple[str, ...]
    regimen: str | None = None


def clean_text(text: str) -> str:
    """One space between words, none around '/' and '+', straight apostrophes; idempotent."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", " - ")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([/+])\s*", r"\1", text).strip()


@cache
def regimen_table() -> tuple[Regimen, ...]:
    """clinqa's regimen list, `clinqa/data/regimens.tsv`."""
    return tuple(_regimen(row) for row in read_table("regimens.tsv", 5, 2))


def _regimen(row: Row) -> Regimen:
    kind, name, agents, aliases, disease = row.cells
    if kind not in ("regimen", "agent", "ignore"):
        raise VocabularyError(f"{row.where()}: unknown kind {kind!r} (regimen, agent or ignore)")
    return Regimen(
        kind=kind,
        name=name,
        agents=tuple(a.strip() for a in agents.split(",") if a.strip()),
        aliases=tuple(dict.fromkeys([name, *split_list(aliases)])),
        disease=disease or None,
    )


@cache
def _bundled_drugs() -> Mapping[str, str]:
    from clinqa.retrieve.vocabulary import drug_dictionary  # loaded once, on first use (about a second)

    return drug_dictionary()


def _exact_only(alias: str) -> bool:
    """Short all-capital aliases ("MAP", "IE") match only as written, so "map" or "ie" are not regimens."""
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and len(letters) <= 4 and not any(c.islower() for c in alias)


AGENT_CACHE_LIMIT = 100_000


def _is_class(generic: str) -> bool:
    """A plural canonical name is a class of drugs (radiopharmaceuticals, anti-bacterial agents)."""
    return generic.endswith("s") and not generic.endswith(("ss", "us", "is"))


@cache
def drug_classes() -> dict[str, tuple[str, ...]]:
    """Agent -> the classes it belongs to, `clinqa/data/drug_classes.tsv`; members are lower-case generic names."""
    classes: dict[str, list[str]] = {}
    for row in read_table("drug_classes.tsv", 2, 2):
        name, members = row.cells
        agents = split_list(members)
        bad = [a for a in agents if a != a.lower() or not _TOKEN.search(a)]
        if bad:
            raise VocabularyError(f"{row.where()}: members must be lower-case generic names, not {bad}")
        for agent in agents:
            classes.setdefault(agent, []).append(name)
    return {agent: tuple(names) for agent, names in classes.items()}


def shared_class(agent: str, received: Iterable[str]) -> tuple[str, str] | None:
    """(class, received agent) when `agent` is not among `received` but belongs to a class one of them is in
    (vemurafenib after dabrafenib: BRAF inhibitor); None otherwise."""
    received = list(received)
    if agent in received:
        return None
    classes = drug_classes()
    for name in classes.get(agent, ()):
        for other in received:
            if name in classes.get(other, ()):
                return name, other
    return None


class Normaliser:
    """Turns drug and regimen names in free text into lower-case generic agent names."""

    def __init__(self, drugs: Mapping[str, str] | None = None, table: Iterable[Regimen] | None = None) -> None:
        self._drugs = _bundled_drugs() if drugs is None else drugs
        self._table = tuple(regimen_table() if table is None else table)
        self._exact: dict[str, Regimen] = {}
        self._folded: dict[str, Regimen] = {}
        for row in self._table:
            for alias in row.aliases:
                target = self._exact if _exact_only(alias) else self._folded
                key = clean_text(alias) if _exact_only(alias) else clean_text(alias).lower()
                target.setdefault(key, row)
        self._generics = set(self._drugs.values()) | {a for row in self._table for a in row.agents}
        self._by_agents: dict[frozenset[str], str] = {}
        for row in self._table:
            if row.kind == "regimen":
                self._by_agents.setdefault(frozenset(row.agents), row.name)
        self._base_cache: dict[str, str] = {}
        self._agents_of: dict[str, list[str]] = {}

    @cached_property
    def _names(self) -> _WordTree:
        """Every name's lower-case words as a tree: a text is looked up only at the lengths where a name can end."""
        tree = _WordTree()
        for key in (*self._exact, *self._folded, *self._drugs):
            tree.add([w.lower() for w in _TOKEN.findall(key)])
        return tree

    def agents(self, text: str) -> list[str]:
        """Normalised agents named in `text`, in order of first mention, each once (remembered per text:
        answer sentences recur across questions)."""
        found = self._agents_of.get(text)
        if found is None:
            if len(self._agents_of) > AGENT_CACHE_LIMIT:
                self._agents_of.clear()
            found = self._agents_of[text] = _unique(a for m in self.mentions(text) for a in m.agents)
        return list(found)

    def disease_of(self, regimen: str) -> str | None:
        """The one disease a named regimen is given for (regimens.tsv's disease column), if any."""
        row = self._exact.get(clean_text(regimen)) or self._folded.get(clean_text(regimen).lower())
        return row.disease if row is not None else None

    def is_drug(self, word: str) -> bool:
        """Whether one word names a drug or regimen (any of its names in the bundled dictionary or the table);
        a class the dictionary also lists ("antibiotics" -> anti-bacterial agents) is not one drug."""
        lower = word.lower()
        if lower in self._folded or word in self._exact:
            return True
        generic = self._drugs.get(lower) or (lower if lower in self._generics else None)
        return generic is not None and not _is_class(generic) and not is_non_agent(generic)

    def therapy(self, text: str) -> PriorTherapy:
        """One line of therapy as written ("gem/doc", "MAP", "ifosfamide with etoposide")."""
        return self.combine(self.mentions(text), text.strip())

    def combine(self, mentions: Sequence[Mention], described: str, line: int | None = None) -> PriorTherapy:
        """The therapy made of `mentions`; its regimen is named when one was written or the agents match one."""
        agents = _unique(a for m in mentions for a in m.agents)
        named = [m.regimen for m in mentions if m.regimen]
        regimen = named[0] if len(mentions) == 1 and named else None
        if not named and len(agents) >= 2:
            regimen = self._by_agents.get(frozenset(agents))
        return PriorTherapy(described=described, agents=agents, regimen=regimen, line=line)

    def regimen(self, name: str) -> Regimen | None:
        """The regimen row written as `name` (any alias), or None."""
        name = clean_text(name)
        row = self._exact.get(name) or self._folded.get(name.lower())
        return row if row is not None and row.kind == "regimen" else None

    def mentions(self, text: str) -> list[Mention]:
        """Every drug or regimen named in `text`; offsets index `clean_text(text)`."""
        text = clean_text(text)
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        words = [text[start:end].lower() for start, end in tokens]
        found: list[Mention] = []
        starts = self._names.starts
        i = 0
        while i < len(tokens):
            hit = self._longest_at(text, tokens, words, i) if words[i] in starts else None  # most words start none
            if hit is None:
                i += 1
                continue
            mention, used = hit
            if mention.agents:
                found.append(mention)
            i += used
        return found

    def _longest_at(
        self, text: str, tokens: list[tuple[int, int]], words: list[str], i: int
    ) -> tuple[Mention, int] | None:
        for n in reversed(self._names.ends(words, i, _MAX_WORDS)):
            start, end = tokens[i][0], tokens[i + n - 1][1]
            mention = self._lookup(text[start:end], start, end)
            if mention is not None:
                return mention, n
        return None

    def _lookup(self, phrase: str, start: int, end: int) -> Mention | None:
        row = self._exact.get(phrase) or self._folded.get(phrase.lower())
        if row is not None:
            regimen = row.name if row.kind == "regimen" else None
            return Mention(start, end, phrase, row.agents, regimen)
        generic = self._drugs.get(phrase.lower())
        if generic is None or len(phrase) <= 3 or is_non_agent(generic):
            return None
        return Mention(start, end, phrase, (self.base_generic(generic),))

    def base_generic(self, generic: str) -> str:
        """'doxorubicin lipid complex' -> 'doxorubicin'; 'paclitaxel (with albumin)' -> 'paclitaxel'."""
        cached = self._base_cache.get(generic)
        if cached is None:
            cached = self._base_cache[generic] = _strip_forms(generic.lower(), self._generics)
        return cached


class _WordTree:
    """Names as sequences of words, for finding at which lengths a run of words can be a name."""

    _END = ""

    def __init__(self) -> None:
        self._root: dict[str, dict] = {}

    @property
    def starts(self) -> Mapping[str, object]:
        """The first words of the names (a word not among them starts none)."""
        return self._root

    def add(self, words: Sequence[str]) -> None:
        node = self._root
        for word in words:
            node = node.setdefault(word, {})
        if words:
            node[self._END] = {}

    def ends(self, words: Sequence[str], first: int, most: int) -> list[int]:
        """The lengths (in words, ascending, at most `most`) at which `words` from index `first` spell a name."""
        node = self._root.get(words[first])
        if node is None:  # most words start no name
            return []
        found = [1] if self._END in node else []
        for n in range(2, min(most, len(words) - first) + 1):
            node = node.get(words[first + n - 1])
            if node is None:
                break
            if self._END in node:
                found.append(n)
        return found


@cache
def _non_agents() -> re.Pattern[str]:
    rows = read_table("non_agents.tsv", 1, 1)
    for row in rows:
        compile_pattern(row.cells[0], row.where())
    return compile_pattern(alternation(row.cells[0] for row in rows), "non_agents.tsv")


def is_non_agent(generic: str) -> bool:
    """Whether a dictionary name stands for a marker, an enzyme, a tracer or another substance that is no
    cancer treatment (`clinqa/data/non_agents.tsv`)."""
    return bool(_non_agents().fullmatch(generic.strip()))


def _strip_forms(generic: str, known: set[str]) -> str:
    name = re.sub(r"\s*\([^)]*\)", "", generic).strip() or generic
    if name != generic and name not in known:
        name = generic
    changed = True
    while changed:
        changed = False
        for suffix in _FORM_SUFFIXES:
            base = name[: -len(suffix)].strip()
            if name.endswith(" " + suffix) and base in known:
                name, changed = base, True
        for prefix in _FORM_PREFIXES:
            base = name[len(prefix) :].strip(" -")
            if name.startswith(prefix) and base != name and base in known:
                name, changed = base, True
    return name


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
