"""The patient's disease as a question describes it: diagnosis, recurrence, sites, lesions, timing, resectability.

Diagnoses come from clinqa's own list (`clinqa/data/diagnoses.tsv`); a word ending in -oma, or a leukaemia, that
the list lacks is still read as the diagnosis. Every reader is a pure function of the (cleaned) question text.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, lru_cache

from clinqa.clinical.numbers import COUNT, NUMBER, ORDINAL, number_value, ordinal_value
from clinqa.data import AnyPattern, VocabularyError, compile_any, read_table, split_list
from clinqa.retrieve.analysis import fold

_I = re.IGNORECASE


# --- diagnosis ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DiagnosisPatterns:
    exact: re.Pattern[str]
    folded: re.Pattern[str]
    any_alias: AnyPattern  # every alias as a plain string, any case: a text none occurs in names no diagnosis
    names: dict[str, str]  # alias as matched (exact) or lower-cased (folded) -> diagnosis name
    aliases: dict[str, tuple[str, ...]]  # diagnosis name -> its name and aliases
    broader: dict[str, frozenset[str]]  # diagnosis name -> its broader categories, transitively
    histologies: frozenset[str]  # tissue types found in many organs (adenocarcinoma), not diseases by themselves


@cache
def _diagnosis_patterns() -> _DiagnosisPatterns:
    names: dict[str, str] = {}
    exact: list[str] = []
    folded: list[str] = []
    aliases_of: dict[str, tuple[str, ...]] = {}
    parents: dict[str, list[str]] = {}
    for row in read_table("diagnoses.tsv", 3):
        name, aliases, categories = row.cells
        aliases_of[name] = (name, *split_list(aliases))
        parents[name] = split_list(categories)
        for alias in aliases_of[name]:
            is_exact = alias.isupper() and sum(c.isalpha() for c in alias) <= 4
            (exact if is_exact else folded).append(alias)
            names.setdefault(alias if is_exact else alias.lower(), name)

    def compile_(aliases: list[str], flags: int) -> re.Pattern[str]:
        # A plural names the diagnosis too ("Childhood Astrocytomas", "lymphomas"); the alias is group 1.
        ordered = sorted(set(aliases), key=len, reverse=True)
        alternatives = "|".join(map(re.escape, ordered))
        return re.compile(r"(?<![A-Za-z0-9])(" + alternatives + r")(?:e?s)?(?![A-Za-z0-9])", flags)

    def ancestors(name: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        out = set(parents.get(name, []))
        for parent in parents.get(name, []):
            if parent not in seen:
                out |= ancestors(parent, seen | {name})
        return frozenset(out)

    broader = {name: ancestors(name) for name in parents}
    any_alias = compile_any([re.escape(a) for a in {*exact, *folded}], "diagnoses.tsv")
    histologies = frozenset(name for name, up in parents.items() if HISTOLOGY in up)
    return _DiagnosisPatterns(
        compile_(exact, 0), compile_(folded, _I), any_alias, names, aliases_of, broader, histologies
    )


HISTOLOGY = "histology"  # the broader category of diagnoses.tsv's tissue types


@lru_cache(maxsize=8192)
def diagnoses_in(text: str) -> tuple[str, ...]:
    """Every listed diagnosis a text names (a page title: "Osteosarcoma and Undifferentiated Pleomorphic
    Sarcoma of Bone" names two), in order of first mention; at one position the longest alias comes first. A
    tissue type alone ("adenocarcinoma") names no disease."""
    histologies = _diagnosis_patterns().histologies
    return tuple(n for n in _named(text) if n not in histologies)


@lru_cache(maxsize=8192)
def _named(text: str) -> tuple[str, ...]:
    """`diagnoses_in` with the tissue types."""
    patterns = _diagnosis_patterns()
    folded = fold(text)
    if not patterns.any_alias.search(folded):
        return ()  # most sentences name none: one pass of a linear-time automaton tells
    matches = [
        (m.start(1), m.end(1), name)
        for pattern in (patterns.exact, patterns.folded)
        for m in pattern.finditer(folded)
        if (name := patterns.names.get(m.group(1)) or patterns.names.get(m.group(1).lower()))
    ]
    found: dict[str, tuple[int, int]] = {}
    for start, end, name in matches:
        # An alias inside a longer one the other pattern matched ("UPS" in "UPS of Bone") names nothing itself.
        inside = any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in matches)
        if not inside and (name not in found or (start, start - end) < found[name]):
            found[name] = (start, start - end)
    return tuple(sorted(found, key=lambda n: found[n]))


def most_specific(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names` less those that are broader categories of another of them: "Nodular Lymphocyte-Predominant HL"
    names a kind of Hodgkin lymphoma, not Hodgkin lymphoma in general."""
    broader = _diagnosis_patterns().broader
    return tuple(n for n in names if not any(n in broader.get(other, frozenset()) for other in names))


def is_listed(name: str) -> bool:
    """Whether `name` is a diagnosis of clinqa's list (not one read from an -oma word, nor a tissue type)."""
    patterns = _diagnosis_patterns()
    return name in patterns.aliases and name not in patterns.histologies


def diagnosis_aliases(name: str) -> tuple[str, ...]:
    """The diagnosis's name and aliases; just the name for a diagnosis the list lacks."""
    return _diagnosis_patterns().aliases.get(name, (name,))


def related(a: str, b: str) -> bool:
    """Same disease, or one is a kind of the other (osteosarcoma and bone sarcoma; NSCLC and lung cancer)."""
    if a.lower() == b.lower():
        return True
    broader = _diagnosis_patterns().broader
    return a in broader.get(b, frozenset()) or b in broader.get(a, frozenset())


_OTHER_OMA = re.compile(
    r"\b((?:(?:[a-z]+(?:al|ar|ic|ous|ary|ive|oid|ular)|cell|[bt]-cell|small|large|clear|germ)[ -]){0,2}"
    r"(?:[a-z]{3,}oma|[a-z]*leu[ck]a?emia|macroglobulinemia|polycythemia(?: vera)?))s?\b",
    _I,
)
_NOT_CANCER = re.compile(
    r"\b(?:coma|stoma|diploma|aroma|glaucoma|ha?ematoma|granuloma|trachoma|scotoma|atheroma|stroma|chroma|"
    r"symptoma|oklahoma)\b",
    _I,
)
_STATUS_WORDS = {"metastatic", "recurrent", "relapsed", "refractory", "advanced", "primary", "localized", "local"}


def read_diagnosis(text: str) -> str | None:
    """The first diagnosis the question names: a listed one first, else an -oma or leukaemia word. A tissue type
    named first with an organ ("squamous cell carcinoma of the anal canal", "rectal adenocarcinoma") is that
    organ's cancer: the diagnosis the organ's word names with "cancer" or "carcinoma" after it, else the organ."""
    named = _named(text)
    histologies = _diagnosis_patterns().histologies
    if named and named[0] in histologies:
        organ = _organ_named(text)
        if organ is not None:
            word, name = organ
            names = _diagnosis_patterns().names
            return names.get(f"{word} cancer") or names.get(f"{word} carcinoma") or name
    listed = [n for n in named if n not in histologies] or named
    if listed:
        return listed[0]
    for match in _OTHER_OMA.finditer(text):
        words = [w for w in match.group(1).lower().split() if w not in _STATUS_WORDS]
        if words and not _NOT_CANCER.fullmatch(words[-1]):
            return " ".join(words)
    return None


@lru_cache(maxsize=8192)
def read_organ(text: str) -> str | None:
    """The organ a question names when it names no diagnosis ("a lump in her breast" -> breast): the broader
    categories of diagnoses.tsv that are not diagnoses themselves (breast, lung, prostate, ...)."""
    named = _organ_named(text)
    return named[1] if named else None


def _organ_named(text: str) -> tuple[str, str] | None:
    """The first word for an organ the text names as the disease's (not as where it spread, nor an organ's
    function: "normal renal function"), lower case, and the organ."""
    text = fold(text)
    for match in _organ_pattern().finditer(text):
        after, before = text[match.end() : match.end() + 30], text[max(0, match.start() - 60) : match.start()]
        if not (_ORGAN_AS_SITE_AFTER.match(after) or _ORGAN_AS_SITE_BEFORE.search(before)):
            word = match.group(1).lower()
            return word, _ORGAN_NAMES[word]
    return None


# An organ named as where disease spread ("lung metastases", "spread to the liver") is a site, not the topic.
_ORGAN_AS_SITE_AFTER = re.compile(
    r"(?:\s*(?:,|and|or)\s*(?:\w+\s+)?\w+)?\s*(?:-only\s+)?(?:metasta\w*|mets?\b|nodules?|lesions?|involvement|"
    r"recurrence|relapse|function\w*|impairment|failure|insufficiency|dysfunction|toxicit\w*|transplant\w*)",
    _I,
)
_ORGAN_AS_SITE_BEFORE = re.compile(
    r"(?:metasta\w*|mets|spread\w*|relaps\w*|recurr\w*|came back|come back|comes back|nodules?)\s+(?:\w+\s+){0,3}"
    r"(?:to|in|into|of)\s+(?:the\s+|his\s+|her\s+|their\s+|both\s+)?$",
    _I,
)


@cache
def _organ_pattern() -> re.Pattern[str]:
    """Organs and their other words, `clinqa/data/organs.tsv`; each organ must be a broader category of some
    diagnosis, so that the two lists cannot drift apart."""
    categories = {c for cs in _diagnosis_patterns().broader.values() for c in cs}
    words: dict[str, str] = {}
    for row in read_table("organs.tsv", 2):
        organ, others = row.cells
        if organ not in categories:
            raise VocabularyError(f"{row.where()}: {organ!r} is no diagnosis's broader category in diagnoses.tsv")
        for word in [organ, *split_list(others)]:
            words[word.lower()] = organ
    _ORGAN_NAMES.clear()
    _ORGAN_NAMES.update(words)
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])({alternation})(?![A-Za-z0-9])", _I)


_ORGAN_NAMES: dict[str, str] = {}  # a word for an organ (lower case) -> the organ, filled with the pattern


# --- recurrence ----------------------------------------------------------------------------------------------

_RECURRED = re.compile(
    r"\b(?:relaps(?:e|ed|es|ing)|recurr(?:ent|ence|ences|ed|ing)|recurs|progress(?:ed|ion|ing)|"
    r"progressive disease|refractory)\b(?![- ](?:free|rates?|risks?)\b)",
    _I,
)
_NOT_ABOUT_PATIENT = re.compile(
    r"(?:\b(?:risk|rates?|time|odds|chance|likelihood|incidence|pattern|patterns|sites?) (?:of|to) |"
    r"\b(?:prevent\w*|reduc\w*|lower\w*|avoid\w*|predict\w*|before|free|until|will|would|may|might|could|"
    r"to) )$",
    _I,
)
_NEGATED = re.compile(r"\b(?:no|not|never|without|no evidence of|free of)\s+(?:\w+\s+)?$", _I)
_NEW = re.compile(
    r"\b(?:newly[- ]diagnosed|new diagnosis|de novo|previously untreated|treatment[- ]na[iï]ve|"
    r"(?:first|1st) (?:complete )?(?:remission|CR)|CR1)\b",
    _I,
)
_RECURRENCE_NUMBER = re.compile(
    rf"\b({ORDINAL})\s+(?:local\s+|distant\s+|pulmonary\s+|lung\s+)?(?:relapse|recurrence|progression)s?\b"
    rf"(?!\s+or\s+(?:{ORDINAL}|later|subsequent))",
    _I,
)
_RECURRED_TIMES = re.compile(r"\b(?:relapsed|recurred|progressed)\s+(twice|(\w+)\s+times)\b", _I)
_TIMES = {"twice": 2, "two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}


def read_recurrence(text: str) -> tuple[bool | None, int | None, list[str]]:
    """Whether the disease recurred, which recurrence it is, and a conflict when the text says both."""
    said_recurred = said_not = False
    for match in _RECURRED.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if _NOT_ABOUT_PATIENT.search(before):
            continue
        if _NEGATED.search(before):
            said_not = True
        else:
            said_recurred = True
    said_not = said_not or bool(_NEW.search(text))
    number = _recurrence_number(text)
    said_recurred = said_recurred or number is not None
    conflicts = []
    if said_recurred and said_not:
        conflicts.append("described both as recurrent and as newly diagnosed or not recurrent")
    recurrent = True if said_recurred else (False if said_not else None)
    return recurrent, number, conflicts


def _recurrence_number(text: str) -> int | None:
    numbers = [ordinal_value(m.group(1)) for m in _RECURRENCE_NUMBER.finditer(text)]
    numbers.extend(_TIMES.get((m.group(2) or m.group(1)).lower()) for m in _RECURRED_TIMES.finditer(text))
    valid = [n for n in numbers if n is not None and n >= 1]
    return max(valid) if valid else None


# --- sites, laterality, lesions ------------------------------------------------------------------------------

SITE_WORDS: dict[str, str] = {
    "lung": r"lungs?|pulmonary|lung-only",
    "bone": r"bones?(?! marrow)|osseous|skeletal|bony",
    "liver": r"liver|hepatic",
    "brain": r"brain|cerebral|intracranial|CNS",
    "lymph node": r"lymph nodes?|nodal|lymphatic",
    "pleura": r"pleura|pleural",
    "local": r"local|primary site|original site|tumou?r bed|surgical bed",
}
_SITE = "|".join(f"(?:{words})" for words in SITE_WORDS.values())
_SITE_LIST = rf"(?:{_SITE})(?:\s*(?:,|and|/|or|, and)\s*(?:{_SITE}))*"
_LESION_NOUN = (
    r"metastas[ie]s|metastatic (?:disease|lesions?|nodules?)|mets|nodules?|lesions?|deposits?|relapses?|"
    r"recurrences?|involvement|spread|effusions?"
)
_SITE_BEFORE = re.compile(rf"\b({_SITE_LIST})\s+(?:only\s+)?(?:{_LESION_NOUN})\b", _I)
_SITE_AFTER = re.compile(
    r"\b(?:relaps\w*|recurr\w*|metasta\w*|spread|progress\w*|mets|disease|nodules?|lesions?)\s+"
    r"(?:(?:are|is|were|was)\s+)?(?:(?:only|solely|isolated|confined|limited|now)\s+)?(?:in|to|within|involving)\s+"
    rf"(?:the\s+|both\s+|his\s+|her\s+|their\s+|one\s+)?({_SITE_LIST})\b",
    _I,
)
_BOTH_LUNGS = re.compile(r"\b(?:both|bilateral) lungs?\b", _I)
_LOCAL = re.compile(r"\b(?:recurred|relapsed|progressed) locally\b|\blocally recurrent\b", _I)
_BILATERAL = re.compile(r"\bbilateral(?:ly)?\b|\bboth lungs\b|\bboth sides\b", _I)
_UNILATERAL = re.compile(r"\bunilateral(?:ly)?\b|\b(?:in|to|confined to) (?:one|a single) (?:lung|side)\b", _I)
_LESION_COUNT = re.compile(
    rf"\b({COUNT})\s+(?:(?:small|tiny|large|new|resectable|unresectable|operable|inoperable|pulmonary|lung|liver|"
    r"hepatic|bone|brain|metastatic|peripheral|subpleural|bilateral|isolated|separate|discrete|residual|solid|"
    r"calcified|enlarging|growing|suspicious|remaining)[\s,]+){0,3}"
    r"(?:nodules?|lesions?|metastas[ie]s|mets|masses|mass|deposits?|foci|focus|tumou?rs)\b",
    _I,
)


def site_name(word: str) -> str | None:
    """The normalised site for a word ("pulmonary" -> "lung"), or None."""
    for site, words in SITE_WORDS.items():
        if re.fullmatch(words, word.strip(), _I):
            return site
    return None


def read_sites(text: str) -> list[str]:
    """Sites of disease in order of mention: lung, bone, liver, brain, lymph node, pleura, local."""
    found: list[tuple[int, str]] = []
    for pattern in (_SITE_BEFORE, _SITE_AFTER):
        for match in pattern.finditer(text):
            for word in re.finditer(_SITE, match.group(1), _I):
                site = site_name(word.group(0))
                if site:
                    found.append((match.start(1) + word.start(), site))
    found.extend((m.start(), "local") for m in _LOCAL.finditer(text))
    found.extend((m.start(), "lung") for m in _BOTH_LUNGS.finditer(text))
    return list(dict.fromkeys(site for _, site in sorted(found)))


def read_bilateral(text: str) -> tuple[bool | None, list[str]]:
    both, one = bool(_BILATERAL.search(text)), bool(_UNILATERAL.search(text))
    if both and one:
        return None, ["described as both bilateral and unilateral"]
    return (True if both else (False if one else None)), []


def read_lesion_count(text: str) -> int | None:
    match = _LESION_COUNT.search(text)
    value = number_value(match.group(1)) if match else None
    return int(value) if value is not None else None


# --- time since therapy --------------------------------------------------------------------------------------

_AFTER_THERAPY = re.compile(
    rf"\b({NUMBER}|a|an|one and a half)[- ]?(years?|yrs?|months?|mos?|weeks?|wks?)\s+"
    r"(?:after|off|post|following|from|since|out from|beyond)[- ]"
    r"(?:(?:the|completing|completion of|completed|finishing|finished|ending|end of|stopping|stopped|cessation of|"
    r"discontinuing|his|her|their|initial|primary|first-line|frontline|front-line|adjuvant|last|prior|previous|all|"
    r"systemic|standard)\s+){0,3}"
    r"(?:(therapy|treatment|chemo(?:therapy)?|therapies|treatments|regimen)\b|(?P<agent>[A-Za-z0-9]))",
    _I,
)
_OFF_THERAPY_FOR = re.compile(
    rf"\boff[- ](?:therapy|treatment|chemo(?:therapy)?)\s+(?:for\s+)?({NUMBER}|a|an)\s+(years?|months?|weeks?)\b", _I
)
_PER_MONTH = {"y": 12.0, "m": 1.0, "w": 12 / 52}


def read_months_since_therapy(text: str, agent_starts: Collection[int] = ()) -> float | None:
    """Months from the end of therapy to relapse: "3 years after therapy" -> 36; `agent_starts` are offsets of
    drug or regimen names, so that "2 years after MAP" counts too."""
    for match in _AFTER_THERAPY.finditer(text):
        if match.group("agent") and match.start("agent") not in agent_starts:
            continue
        return _months(match.group(1), match.group(2))
    off = _OFF_THERAPY_FOR.search(text)
    return _months(off.group(1), off.group(2)) if off else None


def _months(amount: str, unit: str) -> float | None:
    value = 1.5 if amount.lower() == "one and a half" else number_value(amount)
    if amount.lower() in ("a", "an"):
        value = 1.0
    if value is None:
        return None
    return round(value * _PER_MONTH[unit[0].lower()], 1)


# --- resectability and performance status --------------------------------------------------------------------

_UNRESECTABLE = re.compile(
    r"\b(?:unresectable|un-resectable|irresectable|non-?resectable|not (?:surgically |completely )?resectable|"
    r"not (?:be )?amenable to (?:surgery|resection|surgical resection|metastasectomy)|inoperable|not operable|"
    r"non-?operable|(?:cannot|can ?not|could not|can't) be (?:completely |surgically )?(?:resected|removed)|"
    r"not (?:a )?(?:surgical )?candidates? for (?:surgery|resection|metastasectomy)|not a surgical candidate)\b",
    _I,
)
_RESECTABLE = re.compile(
    r"\b(?:(?:completely |surgically |fully |potentially )?resectable|"
    r"can be (?:completely |surgically )?(?:resected|removed)|"
    r"amenable to (?:surgery|resection|surgical resection|metastasectomy)|operable|(?:a )?surgical candidate|"
    r"candidate for (?:surgery|resection|metastasectomy))\b",
    _I,
)
_ECOG = re.compile(
    r"\b(?:(?:ECOG|Zubrod)(?:[ -]?(?:PS|performance status|performance score|score))?|WHO (?:PS|performance status))"
    r"\s*(?:of|is|=|:|was)?"
    r"\s*([0-5])\b(?!\s*(?:-|to|or)\s*\d)(?!\.\d)|\b(?:PS|performance status)\s*(?:of|=|:|is)?\s*([0-5])\b"
    r"(?!\s*(?:-|to|or)\s*\d)",
    _I,
)
_KARNOFSKY = re.compile(
    r"\b(?:KPS|LPS|Karnofsky|Lansky)(?:\s+(?:play\s+)?(?:performance\s+)?(?:status|score|scale))?\s*"
    r"(?:of|is|=|:|was)?\s*(100|[1-9]0|0)\s*%?(?![\d-])",
    _I,
)


def read_resectable(text: str) -> tuple[bool | None, list[str]]:
    unresectable = bool(_UNRESECTABLE.search(text))
    masked = _UNRESECTABLE.sub(lambda m: " " * len(m.group(0)), text)
    resectable = bool(_RESECTABLE.search(masked))
    if resectable and unresectable:
        return None, ["described as both resectable and unresectable"]
    return (True if resectable else (False if unresectable else None)), []


def read_performance(text: str) -> tuple[int | None, int | None, list[str]]:
    """ECOG (0-5) and Karnofsky or Lansky (0-100) performance status; differing values are a conflict."""
    ecogs = [int(m.group(1) or m.group(2)) for m in _ECOG.finditer(text)]
    scores = [int(m.group(1)) for m in _KARNOFSKY.finditer(text)]
    conflicts = [
        f"two {label} values given: " + " and ".join(map(str, dict.fromkeys(values)))
        for label, values in (("ECOG", ecogs), ("Karnofsky", scores))
        if len(set(values)) > 1
    ]
    return (ecogs[0] if ecogs else None), (scores[0] if scores else None), conflicts
