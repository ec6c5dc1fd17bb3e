"""From a question to an `Answer`: triage, retrieve, check the evidence suffices, compose."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from clinqa.answer.compose import (
    Citer,
    ComposeLimits,
    build_sections,
    rank_candidates,
    select,
    source_documents,
)
from clinqa.answer.scoring import QueryTerms, weigh_terms
from clinqa.answer.triage import is_clinical, question_kinds
from clinqa.retrieve.analysis import QUESTION_WORDS, analyze, query_terms
from clinqa.retrieve.index import SearchIndex
from clinqa.retrieve.retriever import Hit, HybridRetriever
from clinqa.store import Store
from clinqa.types import Answer, AnswerStatus, DocumentSummary, Passage

DISCLAIMER = (
    "clinqa composes this answer only from sentences of the sources listed, each with its citations; it adds "
    "no advice of its own. It supports, and does not replace, the judgement of the clinician caring for the "
    "patient. Check the primary literature and current guidelines before acting, and mind each source's date."
)
LIST_LIMIT = 20  # list items brought in under one lead-in
UNKNOWN_SHARE = 0.25  # abstain when terms the corpus has never seen carry this share of the question
SPECIFIC_IDF = 4.0  # a title word this rare names a topic ("osteosarcoma"), not a generic notion ("rates")
# A word the corpus has never seen that is shaped like a drug name is the subject of the question.
_DRUG_SHAPE = re.compile(
    r"(?:mab|nib|vir|cillin|mycin|micin|azole|pril|sartan|olol|statin|parin|tide|cycline|floxacin)$"
)
# Parenthetical details ("after 4 lines (doxorubicin, ...)") describe the patient, not the topic asked about.
_PARENTHETICAL = re.compile(r"\([^)]*\)")


@dataclass
class Answerer:
    index: SearchIndex
    retriever: HybridRetriever
    store: Store
    documents: Mapping[str, DocumentSummary]
    limits: ComposeLimits = field(default_factory=ComposeLimits)

    @cached_property
    def _idf(self) -> dict[str, float]:
        if self.index.size == 0:
            return {}
        n = self.index.size
        vocab = self.index.bm25.vocab_dict
        indptr = self.index.bm25.scores["indptr"]
        return {
            term: math.log(1 + (n - df + 0.5) / (df + 0.5))
            for term, i in vocab.items()
            if term and i + 1 < len(indptr) and (df := int(indptr[i + 1] - indptr[i])) > 0
        }

    @cached_property
    def _known_terms(self) -> set[str]:
        titles = " ".join(d.title for d in self.documents.values())
        names = " ".join([*self.index.vocabulary.drugs, *self.index.vocabulary.abbreviations])
        specific = {t for t in analyze([titles])[0] if self._idf.get(t, 0.0) >= SPECIFIC_IDF}
        return (specific | set(analyze([names])[0])) - QUESTION_WORDS

    def ask(self, question: str) -> Answer:
        if self.index.size == 0:
            return self._abstain(question, AnswerStatus.INSUFFICIENT_EVIDENCE, "The knowledge base is empty.")
        if not is_clinical(question, self._known_terms):
            return self._abstain(question, AnswerStatus.OUT_OF_SCOPE, "This does not read as a clinical question.")
        kinds = question_kinds(question)
        result = self.retriever.search(question, k=30)
        own = result.query_terms
        focus = query_terms(_PARENTHETICAL.sub(" ", question))
        unknown = self._unknown_terms(focus, {t for e in result.expansions for t in analyze([e.term])[0]})
        if unknown:
            note = "The knowledge base has nothing on: " + ", ".join(_words_for(unknown, question)) + "."
            return self._abstain(question, AnswerStatus.INSUFFICIENT_EVIDENCE, note)
        details = [t for t in own if t not in focus]
        expansion_terms = analyze([" ".join(e.adds for e in result.expansions)])[0]
        q = weigh_terms(focus or own, expansion_terms, details, self._idf, 0.5)
        titles = {d: s.title for d, s in self.documents.items()}
        candidates = rank_candidates(self._evidence(result.hits), titles, q, kinds, self._authority)
        if not candidates or candidates[0].coverage < self.limits.min_coverage:
            return self._abstain(
                question,
                AnswerStatus.INSUFFICIENT_EVIDENCE,
                "No passage of the knowledge base answers this question closely enough.",
            )
        return self._compose(question, q, kinds, candidates)

    def _compose(self, question: str, q: QueryTerms, kinds: list, candidates: list) -> Answer:  # type: ignore[type-arg]
        bottom, body = select(candidates, self.limits)
        citer = Citer(self.store.references)
        bottom_line, sections = build_sections(bottom, body, kinds, citer)
        used = list(
            dict.fromkeys(s.source.document_id for s in [*bottom_line, *(x for sec in sections for x in sec.sentences)])
        )
        return Answer(
            status=AnswerStatus.ANSWERED,
            question=question,
            bottom_line=bottom_line,
            sections=sections,
            references=citer.references(),
            sources=source_documents(used, self.documents),
            disclaimer=DISCLAIMER,
        )

    def _evidence(self, hits: list[Hit]) -> list[tuple[float, Passage]]:
        """Retrieved passages with their prior (fused score relative to the best); a list lead-in
        ("... include the following:") brings the list items under it, which carry the content."""
        passages = self.store.passages([h.passage_id for h in hits])
        best = max((h.score for h in hits), default=1.0) or 1.0
        evidence: list[tuple[float, Passage]] = []
        seen: set[str] = set()
        for hit in hits:
            passage = passages.get(hit.passage_id)
            if passage is None or passage.id in seen:
                continue
            prior = hit.score / best
            evidence.append((prior, passage))
            seen.add(passage.id)
            if passage.text.rstrip().endswith(":"):
                for item in self._list_under(passage):
                    if item.id not in seen:
                        evidence.append((0.95 * prior, item))
                        seen.add(item.id)
        return evidence

    def _list_under(self, lead_in: Passage) -> list[Passage]:
        items = []
        for p in self.store.following(lead_in, LIST_LIMIT):
            if p.kind != "list_item" or p.section_path != lead_in.section_path:
                break
            items.append(p)
        return items

    def _unknown_terms(self, own: list[str], expanded_from: set[str]) -> list[str]:
        if not own:
            return []
        top = max(self._idf.values(), default=1.0)
        weights = {t: self._idf.get(t, top) for t in dict.fromkeys(own)}
        unknown = [t for t in weights if t not in self._idf and t not in expanded_from]
        share = sum(weights[t] for t in unknown) / sum(weights.values())
        return unknown if share >= UNKNOWN_SHARE or any(_DRUG_SHAPE.search(t) for t in unknown) else []

    def _authority(self, document_id: str) -> float:
        """Health-professional summaries first for a clinician reader."""
        audience = self.documents[document_id].audience if document_id in self.documents else None
        return {"health_professional": 1.0, "patient": 0.85}.get(audience or "", 0.95)

    def _abstain(self, question: str, status: AnswerStatus, note: str) -> Answer:
        return Answer(
            status=status,
            question=question,
            bottom_line=[],
            sections=[],
            references=[],
            sources=[],
            disclaimer=DISCLAIMER,
            note=note,
        )


def _words_for(terms: list[str], question: str) -> list[str]:
    """The question's own words behind analysed terms, for messages."""
    words = re.findall(r"[\w\-]+", question)
    found = [w for w in words if analyze([w])[0] and analyze([w])[0][0] in terms]
    return list(dict.fromkeys(found)) or terms
