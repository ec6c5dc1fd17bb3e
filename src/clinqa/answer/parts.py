"""The parts of a question that asks several things at once ("standard treatment, and does adding
pembrolizumab help?"): each part is answered by its own best sentence, and the case the question describes
("Newly diagnosed stage IIIB cervical cancer: ...", "After resection of stage III colon cancer, ...") is shared
by every part."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from clinqa.answer.scoring import QueryTerms
from clinqa.answer.triage import QuestionKind, question_kinds
from clinqa.retrieve.analysis import analyze_cached, query_terms
from clinqa.retrieve.expand import Expansion

_WH = r"(?:what|how|which|when|who|whom|where|why)"
_AUX = r"(?:does|do|did|is|are|was|were|should|can|could|will|would|has|have|any)"
_PREPOSITION = r"(?:(?:by|for|in|at|with|of|to|on)\s+)?"
# A word that opens a question of its own, perhaps after a preposition ("and by how much ...").
_ASKING = rf"{_PREPOSITION}(?:{_WH}|{_AUX})\b"
# Where one asked thing ends and the next begins: a question mark or semicolon; "and"/"or" or a dash before a
# word that asks; a bare comma only before a wh-word ("Which regimen, how long?"), since a comma before a verb
# usually closes an aside ("What dose, in mg per instillation, is used ...").
_BREAK = re.compile(
    rf"(?<=\?)\s+(?=\S)|;\s+|\s*(?:,\s*(?:and|or)|\s+(?:and|or)|\s+[-\u2013\u2014]+)\s+(?={_ASKING})"
    rf"|,\s+(?={_PREPOSITION}{_WH}\b)",
    re.I,
)
_ASKS = re.compile(rf"^\s*{_ASKING}|\?\s*$", re.I)
# A clause that sets the scene rather than asks ("If it cannot be resected, ...", "In metastatic disease, ...").
_SETTING = re.compile(
    r"^\s*(?:if|after|in|for|besides|with|without|during|before|once|since|despite|given|among)\b", re.I
)
# The case before the ask: text up to a stop or a colon that does not itself ask.
_CASE = re.compile(r"^(?P<case>[^?:]*?[.:])\s+(?=\S)")
CASE_SHARE = 0.5  # what a term of the shared case weighs in a part, against the part's own terms
MIN_WORDS = 2  # a part shorter than this ("When, and how often ...") is read with the part next to it


@dataclass(frozen=True)
class QuestionParts:
    case: str  # what the question says of the patient before it asks; shared by every part
    parts: tuple[str, ...]  # the things asked, in order; one when the question asks one thing

    @property
    def several(self) -> bool:
        return len(self.parts) > 1


def question_parts(question: str) -> QuestionParts:
    """The case a question describes and the things it asks, each in the question's own words. A piece that
    does not ask (no asking word, no question mark) describes the case."""
    text = question.strip()
    case: list[str] = []
    while (m := _CASE.match(text)) and _describes(m.group("case"), text[m.end() :]):
        case.append(m.group("case"))
        text = text[m.end() :]
    pieces = [p.strip(" ,;") for p in _BREAK.split(text) if p.strip(" ,;")]
    asks: list[str] = []
    for i, piece in enumerate(pieces):
        if len(pieces) > 1 and not _asks(piece, first=i == 0):
            case.append(piece)
        elif asks and (len(piece.split()) < MIN_WORDS or len(asks[-1].split()) < MIN_WORDS):
            asks[-1] = f"{asks[-1]} {piece}"
        else:
            asks.append(piece)
    return QuestionParts(" ".join(case).strip(), tuple(asks) or (text,))


def _describes(sentence: str, rest: str) -> bool:
    """Whether a leading sentence (or the text before a colon) describes the case: it does not ask, or it is a
    statement ("Has atrial fibrillation on apixaban.") with a question after it."""
    return not _ASKS.search(sentence) or (sentence.endswith(".") and "?" in rest)


def _asks(piece: str, first: bool) -> bool:
    """Whether a piece asks: an asking word or a question mark; or, leading the question, a phrase naming what is
    asked ("Main risk factors for NSCLC - how much ...", after a case's colon "standard treatment, and ...")."""
    if _ASKS.search(piece):
        return True
    return first and not _SETTING.match(piece) and question_kinds(piece) != [QuestionKind.GENERAL]


def part_query(q: QueryTerms, part: str, case: str, expansions: Sequence[Expansion]) -> QueryTerms | None:
    """The question's weighted terms that one part asks (with the case's, which every part shares), and the
    expansions of its own words; None when the part asks with all of the question's terms or none of them."""
    own = set(query_terms(part))
    said = own | set(query_terms(case))
    # The case's terms say which patient; the part's own terms say what is asked of the sources.
    weights = _asked_first({t: w for t, w in q.weights.items() if t in said}, own)
    if not own & set(weights) or len(weights) == len(q.weights):
        return None
    ours: set[str] = set()
    others: set[str] = set()
    for e in expansions:
        (ours if set(analyze_cached([e.term])[0]) & said else others).update(analyze_cached([e.adds])[0])
    expansion = {t: w for t, w in q.expansion.items() if t in ours or t not in others}
    return QueryTerms(weights, expansion, {t: s for t, s in q.synonyms.items() if t in weights})


def case_weighed(q: QueryTerms, read: QuestionParts) -> QueryTerms:
    """The question's terms with those only its case names ("spine MRI clean, CSF negative. What radiation dose?")
    weighing `CASE_SHARE`: they say which patient, the asking words say what a sentence must answer."""
    if not read.case:
        return q
    asked = set(query_terms(" ".join(read.parts)))
    if not asked & set(q.weights):
        return q
    return QueryTerms(_asked_first(q.weights, asked), q.expansion, q.synonyms)


def _asked_first(weights: dict[str, float], asked: set[str]) -> dict[str, float]:
    """`weights`, the terms not `asked` (the case's) weighing `CASE_SHARE` of theirs."""
    return {t: w if t in asked else CASE_SHARE * w for t, w in weights.items()}
