"""Therapy history in a question: what the patient received, in which line, and what they have not received.

Drug and regimen names found by the `Normaliser` are joined into chains ("doxorubicin, ifosfamide, gemcitabine
with docetaxel"; "MAP and then IE"; "first line MAP, second line IE"). A chain is history when a cue stands just
before it ("after 4 lines of chemo (", "previously treated with", "progressed on", "first-line"), negated when a
negation does ("no prior", "never received", "has not had", or "-naive" after it), and otherwise it is what the
question asks about ("Is pazopanib an option?") and is neither. Within a chain, names joined by "with", "plus",
"/" or "+" are one therapy; names joined by commas, "and", "then" are successive therapies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from clinqa.clinical.numbers import NUMBER, ORDINAL, number_value, ordinal_value
from clinqa.clinical.regimens import Mention, Normaliser
from clinqa.types import PriorTherapy

_I = re.IGNORECASE


def _ord_line(named: bool) -> str:
    ordinal, short = ("?P<ordinal>", "?P<short>") if named else ("?:", "?:")
    return (
        rf"(?:({ordinal}{ORDINAL})[- ]?line|({short}[1-9])L)\b"
        r"(?:\s+(?:therapy|treatment|chemo(?:therapy)?|regimen|setting))?(?:\s*(?:with|of|:|was))?"
    )


_ORD_LINE = _ord_line(named=True)
_ANY_ORD_LINE = _ord_line(named=False)
_ORD_LINE_RX = re.compile(_ORD_LINE, _I)
_LINE_BEFORE = re.compile(rf"(?:^|(?<=[\s,;(]))(?:{_ORD_LINE})\s*[(:]?\s*$", _I)
_LINE_AFTER = re.compile(rf"^\s*(?:as|in the|in)?\s*{_ORD_LINE}", _I)
_LINK = re.compile(
    rf"\s*(?:(?:{_ANY_ORD_LINE})\s*)?[,;]?\s*"
    r"(?:(?:and then|and later|and subsequently|followed by|as well as|and/or|then|later|subsequently|"
    r"and|or|nor|with|plus|along with|together with|in combination with|combined with|&)\s+)?"
    rf"(?:(?:{_ANY_ORD_LINE})\s*)?|[/+&-]",
    _I,
)
_COMBINE = re.compile(r"\s*(?:/|\+|&|-|with|plus|along with|together with|in combination with|combined with)\s*", _I)
_SENTENCE_END = re.compile(r"[.?!;](?:\s|$)")
_NEGATION = re.compile(r"\b(?:no|not|never|without|nor|neither|none)\b|n't\b|\bna[iï]ve to\b", _I)
_NAIVE_AFTER = re.compile(r"^(?:-| )?na[iï]ve\b", _I)
_HISTORY = re.compile(
    r"\b(?:after|following|post|s/p|status post|treated|received|receiving|had|got|(?:was|were|been) given|"
    r"completed|completing|completion|finished|finishing|failed|failing|failure|despite|underwent|exposed|exposure|"
    r"during|(?:progress\w*|relaps\w*|recurr\w*) (?:during|after)|"
    r"pretreated|previously|previous|prior|refractory|resistant|intoleran\w+|"
    r"(?<!be )switched (?:to|from)|(?<!be )changed (?:to|from)|"
    r"lost (?:(?:a|an|the|his|her|their|major|complete|molecular|cytogenetic|hematologic|response|remission|MMR|CR|"
    r"CCyR|MRD|control) ){1,4}on|stable on|maintained on|"
    r"(?:progress\w*|relapsed|recurred|while|currently|was|been|still|is|patient|man|woman|boy|girl|child) on)\b"
    r"|(?:^|[,;(]\s*)on\b",
    _I,
)
_OUTCOME_AFTER = re.compile(
    r"^[\s,;]*(?:\([^()]*\)[\s,;]*)?(?:(?:and|then|with|which|that|but)\s+)?(?:(?:has|had|have)\s+)?"
    r"(?:reached|achieved|attained|relapsed|progressed|recurred|failed|stopped|was stopped|"
    r"(?:went|gone) into remission|responded|did not respond|became refractory|"
    r"(?:with |and )?(?:residual|persistent) (?:invasive )?(?:disease|tumou?r|cancer)|"
    r"(?:with |and )?(?:a |no )?(?:pathologic(?:al)? complete response|pCR)\b)",
    _I,
)
_CONTINUE = re.compile(r"\b(?:then|followed by|later|subsequently|afterwards|next)\b", _I)
_QUESTION = re.compile(
    r"\b(?:is|are|should|would|could|can|does|do|what|which|how|when|why|whether|role|consider\w*|use|using|"
    r"give|giving|try|trying|start|starting|recommend\w*|best|options?|choice)\b",
    _I,
)
_COUNT_LINES = re.compile(
    rf"\b({NUMBER})\s+(?:(?:prior|previous|earlier|different|separate|systemic|chemotherapy|chemo)\s+){{0,2}}"
    r"(?:lines?|regimens)\b",
    _I,
)
_PAST_LINE = re.compile(
    r"\b(?:after|following|failed|failing|beyond|past|post|completed|received|progress\w* on|through)\s+"
    r"(?:(?:the|a|an|his|her|their)\s+)?$",
    _I,
)
_WORD = re.compile(r"[A-Za-z]+|\d+")
_HISTORY_FILLER = frozenset(
    "on with through to of for the a an and or both all his her their prior previous previously earlier initial "
    "initially primary first front frontline line lines chemo chemotherapy therapy therapies treatment treatments "
    "regimen regimens systemic standard adjuvant neoadjuvant induction salvage maintenance consolidation multiple "
    "several cycles cycle courses course including include includes included such as consisting consisted "
    "combination combined agents agent drugs drug single multiagent multi was were been has have had received "
    "treated given completing completed also already then later conventional intensive high dose doses months "
    "weeks years e g i ie namely which l interval compressed dense finishing finished courses full plus adt "
    "hormone hormonal androgen deprivation concurrent concomitant sequential definitive curative palliative "
    "tandem autologous allogeneic stem cell transplant transplantation hsct sct asct x two three four five six "
    "seven eight nine ten twelve".split()  # "6x R-CHOP", "six cycles of R-CHOP"
)
_NEGATION_FILLER = frozenset(
    "prior previous previously received receive receiving had have has been treated treatment with exposure "
    "exposed to any the a an therapy therapies chemo chemotherapy given got gotten get yet history of on taken "
    "take used undergone before ever".split()
)
Status = Literal["prior", "negated", "other"]


@dataclass
class History:
    therapies: list[PriorTherapy] = field(default_factory=list)
    not_received: list[str] = field(default_factory=list)
    lines_of_therapy: int | None = None
    conflicts: list[str] = field(default_factory=list)

    @property
    def prior_agents(self) -> list[str]:
        return list(dict.fromkeys(a for t in self.therapies for a in t.agents))


def read_history(text: str, mentions: Sequence[Mention], normaliser: Normaliser) -> History:
    """Prior therapies, agents not received and the number of prior lines; `text` is `clean_text` output."""
    history = History()
    used_ordinals: set[int] = set()
    previous_end = 0
    previous: Status = "other"
    for chain in _chains(text, mentions):
        status = _status(text, previous_end, chain, previous)
        if status == "negated":
            history.not_received.extend(a for m in chain for a in m.agents)
        elif status == "prior":
            history.therapies.extend(_therapies(text, previous_end, chain, normaliser, used_ordinals))
        previous_end, previous = chain[-1].end, status
    history.not_received = list(dict.fromkeys(history.not_received))
    history.lines_of_therapy, count_conflicts = _lines_of_therapy(text, history.therapies, used_ordinals)
    history.conflicts.extend(count_conflicts)
    history.conflicts.extend(
        f"{agent} is described both as received and as not received"
        for agent in history.prior_agents
        if agent in history.not_received
    )
    return history


def _chains(text: str, mentions: Sequence[Mention]) -> list[list[Mention]]:
    chains: list[list[Mention]] = []
    for mention in mentions:
        if chains and _LINK.fullmatch(text[chains[-1][-1].end : mention.start]):
            chains[-1].append(mention)
        else:
            chains.append([mention])
    return chains


def _window_start(text: str, previous_end: int, start: int) -> int:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, previous_end, start)]
    return max([previous_end, *ends])


def _status(text: str, previous_end: int, chain: list[Mention], previous: Status) -> Status:
    begin = _window_start(text, previous_end, chain[0].start)
    window = text[begin : chain[0].start]
    if _cue_reaches(window, _NEGATION, _NEGATION_FILLER) or _NAIVE_AFTER.match(text[chain[-1].end :]):
        return "negated"
    if _cue_reaches(window, _HISTORY, _HISTORY_FILLER):
        return "prior"
    if _OUTCOME_AFTER.match(text[chain[-1].end :]):
        return "prior"  # "7+3 plus midostaurin, reached CR1, relapsed": what it led to says it was given
    if previous == "prior" and _cue_reaches(window, _CONTINUE, _HISTORY_FILLER):
        return "prior"
    if previous == "prior" and begin == previous_end and _only(window, _HISTORY_FILLER):
        return "prior"  # the same list goes on past a procedure or a phase: "VRd, ASCT, lenalidomide maintenance"
    # A line number alone ("first-line nivolumab") may be what is asked about; a sequence of numbered lines
    # ("first line MAP, second line IE") is history.
    line = _LINE_BEFORE.search(window)
    sequence = len(_ORD_LINE_RX.findall(text, begin, chain[-1].end)) >= 2
    if line and sequence and not _QUESTION.search(re.split(r"[,;]", window[: line.start()])[-1]):
        return "prior"
    # The lines numbered after the regimens ("BR first line, then ibrutinib second line") tell a history too.
    # A sentence that asks ("Is X first line better than BR first line?") tells none.
    numbered_after = _LINE_AFTER.match(text[chain[-1].end :]) and len(_ORD_LINE_RX.findall(text)) >= 2
    sentence_end = re.search(r"[.?!]", text[chain[-1].end :])
    asks = sentence_end is not None and sentence_end.group(0) == "?"
    if numbered_after and not asks and not _QUESTION.search(window):
        return "prior"
    return "other"


def _cue_reaches(window: str, cue: re.Pattern[str], filler: frozenset[str]) -> bool:
    """The last cue in `window` is followed only by filler words up to the end of the window."""
    matches = list(cue.finditer(window))
    return bool(matches) and _only(window[matches[-1].end() :], filler)


def _only(text: str, filler: frozenset[str]) -> bool:
    """Whether every word of `text` is filler, a number or an ordinal."""
    return all(w.lower() in filler or w.isdigit() or ordinal_value(w) is not None for w in _WORD.findall(text))


def _therapies(
    text: str, previous_end: int, chain: list[Mention], normaliser: Normaliser, used_ordinals: set[int]
) -> list[PriorTherapy]:
    groups: list[list[Mention]] = [[chain[0]]]
    for mention in chain[1:]:
        if _COMBINE.fullmatch(text[groups[-1][-1].end : mention.start]):
            groups[-1].append(mention)
        else:
            groups.append([mention])
    therapies = []
    before_start = _window_start(text, previous_end, chain[0].start)
    for index, group in enumerate(groups):
        after_end = groups[index + 1][0].start if index + 1 < len(groups) else len(text)
        line = _line_of(text, before_start, group, after_end, used_ordinals)
        described = text[group[0].start : group[-1].end]
        therapies.append(normaliser.combine(group, described, line))
        before_start = group[-1].end
    return therapies


def _line_of(text: str, before_start: int, group: list[Mention], after_end: int, used: set[int]) -> int | None:
    """The line written just before the therapy ("second-line IE") or just after it ("IE as second line")."""
    for offset, segment, pattern in (
        (before_start, text[before_start : group[0].start], _LINE_BEFORE),
        (group[-1].end, text[group[-1].end : after_end], _LINE_AFTER),
    ):
        match = pattern.search(segment)
        ordinal = _ORD_LINE_RX.search(segment, match.start()) if match else None
        if ordinal is not None:
            used.add(offset + ordinal.start())
            return _line_number(ordinal)
    return None


def _line_number(match: re.Match[str]) -> int | None:
    if match.group("short"):
        return int(match.group("short"))
    return ordinal_value(match.group("ordinal"))


def _lines_of_therapy(text: str, therapies: list[PriorTherapy], used: set[int]) -> tuple[int | None, list[str]]:
    """An explicit count ("4 lines of chemo") wins; else the highest line described or implied."""
    counts = [number_value(m.group(1)) for m in _COUNT_LINES.finditer(text)]
    count = next((int(c) for c in counts if c is not None), None)
    lines = [t.line for t in therapies if t.line is not None]
    for match in _ORD_LINE_RX.finditer(text):
        number = _line_number(match)
        if match.start() in used or number is None:
            continue
        # "after third-line therapy": three lines had; "third-line options": two had, the third is asked about.
        lines.append(number if _PAST_LINE.search(text[max(0, match.start() - 40) : match.start()]) else number - 1)
    highest = max([n for n in lines if n >= 1], default=None)
    if count is None:
        return highest, []
    if highest is not None and highest > count:
        return count, [f"{count} prior lines of therapy stated, but line {highest} is described"]
    return count, []
