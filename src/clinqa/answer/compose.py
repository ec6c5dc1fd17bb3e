"""Compose a structured answer from source sentences: select, de-duplicate, order, cite. Never invent."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from clinqa.answer.filters import not_an_option
from clinqa.answer.scoring import QueryTerms, coverage, coverages, is_meta, jaccard, kind_bonus
from clinqa.answer.sentences import SourceSentence, split_passage
from clinqa.answer.triage import QuestionKind, kind_cues
from clinqa.retrieve.analysis import analyze_cached
from clinqa.settings import default_from, settings
from clinqa.types import (
    AnswerReference,
    AnswerSection,
    DocumentSummary,
    LinkedAbstract,
    Passage,
    Reference,
    Sentence,
    SentenceSource,
    SourceDocument,
    pubmed_url,
)

# A lead-in to study reports ("Evidence (reinduction chemotherapy):"): its items are reports, each judged alone.
_EVIDENCE_LEAD_IN = re.compile(r"^(?:evidence|results|studies)\b", re.I)
# A sentence that leans on the one before it for its subject ("It is used for ...", "This combination ..."):
# it says little on its own.
_DEPENDENT = re.compile(
    r"^(?:It|They|This|These|Those|Such)\s+(?:is|are|was|were|has|have|had|can|may|drug|agent|regimen|"
    r"combination|approach|treatment|therapy|study|trial)\b"
)
DEPENDENT_SHARE = 0.8
ANSWER_WORDS = 5  # the fewest words of a sentence that can stand in an answer (a short list item aside)
_CONNECTIVE = re.compile(r"^(?:However|In addition|Also|Furthermore|Moreover|Additionally|Thus|Therefore),\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NCT = re.compile(r"\bNCT\d{8}\b")
_STUDY = re.compile(
    r"\b(?:trial|study|studies|series|analysis|review|reported|randomi[sz]ed|phase|cohort|retrospective)\b",
    re.IGNORECASE,
)
_OUTCOME = re.compile(r"\b(?:surviv|prognos|outcome|EFS|OS|PFS|mortality|cure|rate)", re.IGNORECASE)
_TREATMENT = re.compile(r"\b(?:treat|therap|chemotherap|surg|resect|radiat|regimen|dose|administ)", re.IGNORECASE)
_CAUTION = re.compile(r"\b(?:should|must|toxicit|risk|caution|assess|consider|avoid|monitor)", re.IGNORECASE)

SECTION_ORDER: dict[QuestionKind, tuple[str, ...]] = {
    QuestionKind.TREATMENT: (
        "Treatment options",
        "Evidence",
        "Outcomes and prognosis",
        "Pitfalls and considerations",
        "Background",
    ),
    QuestionKind.PROGNOSIS: (
        "Outcomes and prognosis",
        "Evidence",
        "Treatment options",
        "Pitfalls and considerations",
        "Background",
    ),
}
DEFAULT_ORDER = ("Background", "Treatment options", "Outcomes and prognosis", "Evidence", "Pitfalls and considerations")


@dataclass(frozen=True)
class ComposeLimits:
    """How much an answer says; every default is the `answer` section of the settings tree."""

    bottom_line: int = default_from("answer", "bottom_line")
    body: int = default_from("answer", "body")
    min_coverage: float = default_from("answer", "min_coverage")
    relative_floor: float = default_from("answer", "relative_floor")
    duplicate_jaccard: float = default_from("answer", "duplicate_jaccard")
    bottom_line_margin: float = default_from("answer", "bottom_line_margin")


@dataclass(frozen=True)
class Candidate:
    sentence: SourceSentence
    terms: frozenset[str]
    coverage: float
    score: float
    items: tuple[SourceSentence, ...] = ()  # a list lead-in ("Risk factors include:") carries its list items
    alone: float | None = None  # the coverage without the sentence before it, when that counted in `coverage`

    @property
    def covers(self) -> float:
        """How much of the question the sentence covers by itself (with its page and section): whether the
        question is answered at all is judged on this."""
        return self.coverage if self.alone is None else self.alone

    def said(self, labelled: bool = False) -> str:
        """The sentence (under its label, when `labelled`) with its items: a list with its items, a study's
        design with what it found."""
        return " ".join([self.sentence.labelled if labelled else self.sentence.text, *(x.text for x in self.items)])


def rank_candidates(
    evidence: list[tuple[float, Passage]],
    titles: Mapping[str, str],
    q: QueryTerms,
    kinds: list[QuestionKind],
    authority: Callable[[str], float],
    fit: Callable[[Passage], float] = lambda _passage: 1.0,
    wanted: Callable[[str], bool] | None = None,
    before: bool = False,
) -> list[Candidate]:
    """Every answer-worthy sentence of the evidence passages, scored; best first, ties in source order.

    `evidence` pairs each passage with its retrieval prior in [0, 1]; `fit` weighs how well the passage's page
    fits the question's topic (0 leaves its sentences out: another disease). A list lead-in followed by its
    items in `evidence` is one candidate that carries the items: the items are what it says. `wanted`, when
    given, keeps only the candidates whose text (with its items) it accepts, before any is scored. `before`: the
    sentence before each, in its passage, counts as its context too (a question's own sentences; an algorithm
    step's search words name no such subject)."""
    units = _units(evidence)
    texts = [" ".join(x.labelled for x in (s, *items)) for _, s, items in units]
    weights: dict[str, float] = {}

    def fits(passage: Passage) -> bool:
        """The page's fit, read once per passage and only for those `wanted` leaves a candidate in."""
        if passage.id not in weights:
            weights[passage.id] = fit(passage)
        return weights[passage.id] > 0

    kept = [
        i
        for i, ((_, s, _items), text) in enumerate(zip(units, texts, strict=True))
        if (wanted is None or wanted(text)) and fits(s.passage)
    ]
    units, texts = [units[i] for i in kept], [texts[i] for i in kept]
    sections = [" ".join(s.passage.section_path) for _, s, _ in units]
    contexts = [
        f"{titles.get(s.passage.document_id, '')} {sec}" for (_, s, _), sec in zip(units, sections, strict=True)
    ]
    befores = [_before(s) if before else "" for _, s, _ in units]
    out = []
    for (prior, s, items), text, section, terms, context, said_before in zip(
        units, texts, sections, analyze_cached(texts), analyze_cached(contexts), analyze_cached(befores), strict=True
    ):
        # The sentence before says what this one speaks of ("RAEB-2 has 10% to 19% blasts. Median survival is
        # about 10 months."); whether the question is answered at all is judged on the sentence alone.
        alone, cov = coverages(q, set(terms), set(context), set(said_before))
        score = 0.6 * cov + 0.3 * prior + kind_bonus(text, section, kinds)
        if items and coverage(q, set(analyze_cached([s.text])[0]), set()) > 0:
            score += (
                settings().answer.list_bonus
            )  # a list whose lead-in names what is asked ("Risk factors include:") answers it
        if not_an_option(s.text) == "design" and not states_the_dose(text, kinds):
            score *= settings().answer.design_share  # how a study was run answers less than what it found
        if _DEPENDENT.match(s.text):
            score *= DEPENDENT_SHARE  # its subject is in the sentence before it
        score *= authority(s.passage.document_id) * weights[s.passage.id]
        out.append(Candidate(s, frozenset(terms), cov, score, items, alone))
    out.sort(key=lambda c: (-c.score, *_reading_order(c)))
    return out


def _before(s: SourceSentence) -> str:
    """The sentence before `s` in its passage, which often names what `s` speaks of ("RAEB-2 has 10% to 19%
    blasts. Median survival is about 10 months."): part of its context."""
    return split_passage(s.passage)[s.position - 1].labelled if s.position > 0 else ""


def states_the_dose(text: str, kinds: list[QuestionKind]) -> bool:
    """A sentence that gives a dose question its dose: a trial's design ("randomly assigned to lenvatinib 12 mg
    daily") often is where the sources state it."""
    return kinds[0] is QuestionKind.DOSE and bool(kind_cues()[QuestionKind.DOSE].sentence.search(text))


def _units(evidence: list[tuple[float, Passage]]) -> list[tuple[float, SourceSentence, tuple[SourceSentence, ...]]]:
    """Answer-worthy sentences with their retrieval prior; a lead-in's list items ride with it."""
    units: list[tuple[float, SourceSentence, tuple[SourceSentence, ...]]] = []
    grouped: set[str] = set()
    for i, (prior, passage) in enumerate(evidence):
        if passage.id in grouped:
            continue
        sentences = split_passage(passage)
        items = _list_items(passage, evidence[i + 1 :])
        for s in sentences:
            if items and s is sentences[-1] and s.text.rstrip().endswith(":"):
                # An item pointing elsewhere ("For more information, see ...") is navigation, not an item; a list
                # of questions ("the following questions remain:") is what the sources do not answer.
                firsts = [x for p in items for x in split_passage(p)[:1]]
                kept = tuple(x for x in firsts if not is_meta(x.text) and not _asks(x.text))
                if kept:
                    units.append((prior, s, kept))
                grouped.update(p.id for p in items)
            elif answer_worthy(s.text) or short_item(s):
                units.append((prior, s, ()))
    return units


def short_item(s: SourceSentence) -> bool:
    """A list item of a few words that stands alone ("Nivolumab." among long items): it names an option, and
    its page's section of that name often gives the evidence."""
    return (
        s.passage.kind == "list_item"
        and s.position == 0
        and len(s.text.split()) < ANSWER_WORDS
        and not s.text.rstrip().endswith(":")
        and not is_meta(s.text)
        and not _asks(s.text)
    )


def _list_items(lead_in: Passage, following: list[tuple[float, Passage]]) -> list[Passage]:
    """The short items of the list `lead_in` introduces ("Sun exposure.", "Bloating."), which say nothing
    without it; a list of long items (a paragraph per agent), or of study reports ("Evidence (...):"), stands item
    by item, and the lead-in is left out."""
    if not lead_in.text.rstrip().endswith(":") or _EVIDENCE_LEAD_IN.match(lead_in.text):
        return []
    items = []
    for _, p in following[: settings().answer.list_items]:
        if p.kind != "list_item" or p.document_id != lead_in.document_id or p.section_path != lead_in.section_path:
            break
        items.append(p)
    if any(len(p.text.split()) > settings().answer.short_item_words for p in items):
        return []
    return items


def answer_worthy(text: str) -> bool:
    """A sentence that can stand in an answer: not a fragment, a list lead-in, a question, a table row or
    navigation."""
    return (
        len(text.split()) >= ANSWER_WORDS
        and not text.rstrip().endswith(":")
        and not _asks(text)
        and " | " not in text
        and not is_meta(text)
    )


def _asks(text: str) -> bool:
    """A sentence that asks (an open question the sources list), which answers nothing."""
    return text.rstrip().rstrip("\"')”’*_").endswith("?")


def select(candidates: list[Candidate], limits: ComposeLimits) -> tuple[list[Candidate], list[Candidate]]:
    """Bottom line and body, without near-duplicates."""
    if not candidates:
        return [], []
    best = candidates[0].score
    chosen: list[Candidate] = [candidates[0]]  # the best always stands, whatever its score's sign
    for c in candidates[1:]:
        if c.score < best - (1 - limits.relative_floor) * abs(best) or len(chosen) >= limits.bottom_line + limits.body:
            break
        if any(jaccard(set(c.terms), set(k.terms)) >= limits.duplicate_jaccard for k in chosen):
            continue
        chosen.append(c)
    bottom = [chosen[0]]
    for c in chosen[1 : limits.bottom_line]:
        if c.score >= best - limits.bottom_line_margin * abs(best) and c.coverage >= limits.min_coverage:
            bottom.append(c)
    body = [c for c in chosen if c not in bottom]
    return bottom, body


def category(s: SourceSentence) -> str:
    """The section a body sentence goes to; a negative result or a study's design is evidence, never an option."""
    text, kind = s.labelled, not_an_option(s.text)
    if kind == "caution":
        return "Pitfalls and considerations"  # a toxicity or a caution, whatever study reported it
    if s.level_of_evidence or _STUDY.search(text) or kind in ("negative", "design"):
        return "Evidence"
    if _OUTCOME.search(text) or "%" in text:
        return "Outcomes and prognosis"
    if _TREATMENT.search(text):
        return "Treatment options"
    if _CAUTION.search(text):
        return "Pitfalls and considerations"
    return "Background"


def sectioned(body: list[Candidate], kinds: list[QuestionKind]) -> list[tuple[str, list[Candidate]]]:
    order = SECTION_ORDER.get(kinds[0], DEFAULT_ORDER)
    groups: dict[str, list[Candidate]] = {title: [] for title in order}
    for c in body:
        groups[category(c.sentence)].append(c)
    return [(title, sorted(items, key=_reading_order)) for title, items in groups.items() if items]


def _reading_order(c: Candidate) -> tuple[str, int, int]:
    s = c.sentence
    return (s.passage.document_id, s.passage.ordinal, s.position)


class Citer:
    """Numbers references in order of first citation across the answer."""

    def __init__(
        self,
        references_of: Callable[[str], Mapping[int, Reference]],
        abstracts_of: Callable[[Iterable[str]], Mapping[str, LinkedAbstract]] | None = None,
    ) -> None:
        self.references_of = references_of
        self.abstracts_of = abstracts_of
        self.numbered: dict[tuple[str, int], AnswerReference] = {}
        self.lists: dict[str, Mapping[int, Reference]] = {}  # each document's list, read once per answer

    def cite(self, document_id: str, numbers: tuple[int, ...]) -> list[int]:
        if not numbers:
            return []
        if document_id not in self.lists:
            self.lists[document_id] = self.references_of(document_id)
        refs = self.lists[document_id]
        out = []
        for number in numbers:
            key = (document_id, number)
            if key not in self.numbered:
                ref = refs.get(number)
                if ref is None:
                    continue  # the source cites an entry its list lacks; cite nothing rather than guess
                self.numbered[key] = AnswerReference(
                    n=len(self.numbered) + 1,
                    text=ref.text,
                    pmid=ref.pmid,
                    source_number=number,
                    document_id=document_id,
                    pubmed_url=pubmed_url(ref.pmid) if ref.pmid else None,
                )
            out.append(self.numbered[key].n)
        return out

    def cite_registry(self, document_id: str, text: str) -> list[int]:
        """A sentence that names a trial but cites nothing cites the trial's registry record."""
        out = []
        for nct in dict.fromkeys(_NCT.findall(text)):
            key = (f"registry:{nct}", 0)
            if key not in self.numbered:
                self.numbered[key] = AnswerReference(
                    n=len(self.numbered) + 1,
                    text=f"ClinicalTrials.gov record {nct}",
                    pmid=None,
                    source_number=None,
                    document_id=document_id,
                    url=f"https://clinicaltrials.gov/study/{nct}",
                )
            out.append(self.numbered[key].n)
        return out

    def references(self) -> list[AnswerReference]:
        """The references in citation order; one citing an ingested PubMed record links to its abstract."""
        numbered = sorted(self.numbered.values(), key=lambda r: r.n)
        linked = self.abstracts_of([r.pmid for r in numbered if r.pmid]) if self.abstracts_of else {}
        return [r.model_copy(update={"abstract": linked.get(r.pmid or "")}) for r in numbered]


def to_sentence(c: Candidate, citer: Citer) -> Sentence:
    s = c.sentence
    text = trim(s.text)
    missing = numbers_missing(text, s.passage.text)
    if missing:  # cannot happen for a trimmed source sentence; refuse rather than show an unsupported figure
        raise AssertionError(f"figures {missing} not in passage {s.passage.id}")
    return Sentence(
        text=text,
        label=s.label,
        source=SentenceSource(document_id=s.passage.document_id, section=s.passage.section, passage_id=s.passage.id),
        citations=citer.cite(s.passage.document_id, s.citation_numbers)
        or citer.cite_registry(s.passage.document_id, text),
        level_of_evidence=s.level_of_evidence,
    )


def trim(text: str) -> str:
    """Light trimming: drop a leading connective that no longer connects to anything."""
    trimmed = _CONNECTIVE.sub("", text)
    return trimmed[:1].upper() + trimmed[1:] if trimmed != text else text


def numbers_missing(text: str, source: str) -> list[str]:
    """Figures in `text` that do not appear in `source`."""
    present = set(_NUMBER.findall(source))
    return [n for n in _NUMBER.findall(text) if n not in present]


def guideline_first(sentences: list[Sentence], documents: Mapping[str, DocumentSummary]) -> list[Sentence]:
    """The sentences with those from primary literature marked, with their study design, and moved after the
    guideline sentences (order otherwise kept): an abstract never stands above a guideline on the same point."""
    marked = []
    for s in sentences:
        summary = documents.get(s.source.document_id)
        if summary is not None and summary.kind == "primary_literature":
            s = s.model_copy(update={"primary_literature": True, "study_design": summary.study_design})
        marked.append(s)
    return sorted(marked, key=lambda s: s.primary_literature)


def source_documents(ids: list[str], summaries: Mapping[str, DocumentSummary]) -> list[SourceDocument]:
    return [
        SourceDocument(id=d, title=summaries[d].title, url=summaries[d].url, updated=summaries[d].updated)
        for d in ids
        if d in summaries
    ]


def build_sections(
    bottom: list[Candidate], body: list[Candidate], kinds: list[QuestionKind], citer: Citer
) -> tuple[list[Sentence], list[AnswerSection]]:
    bottom_line = once(x for c in bottom for x in to_sentences(c, citer))
    sections = [
        AnswerSection(title=title, sentences=[x for c in items for x in to_sentences(c, citer)])
        for title, items in sectioned(body, kinds)
    ]
    return bottom_line, sections


def once(sentences: Iterable[Sentence]) -> list[Sentence]:
    """The sentences less repeats of one passage's sentence (a list item found alone and under its lead-in)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for s in sentences:
        key = (s.source.passage_id, s.text)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def to_sentences(c: Candidate, citer: Citer) -> list[Sentence]:
    """A candidate as answer sentences: itself, then the list items it leads into, each from its own passage."""
    return [to_sentence(c, citer), *(to_sentence(Candidate(x, frozenset(), 0.0, 0.0), citer) for x in c.items)]
