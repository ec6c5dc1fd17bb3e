"""Question triage: is it a clinical question, and what does it ask about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from clinqa.data import AnyPattern, VocabularyError, compile_any, read_table
from clinqa.retrieve.analysis import fold, query_terms, stem


class QuestionKind(StrEnum):
    TREATMENT = "treatment"
    DOSE = "dose"
    PROGNOSIS = "prognosis"
    DIAGNOSIS = "diagnosis"
    STAGING = "staging"
    SCREENING = "screening"
    PREVENTION = "prevention"
    RISK = "risk"
    SYMPTOMS = "symptoms"
    RESEARCH = "research"
    GENERAL = "general"


@dataclass(frozen=True)
class KindCues:
    """Where the sources answer a kind of question (`section`) and what an answering sentence states."""

    kind: QuestionKind
    question: AnyPattern
    section: AnyPattern
    sentence: AnyPattern
    search: str  # words searched with the question, where the sources discuss this kind


@cache
def kind_cues() -> dict[QuestionKind, KindCues]:
    """clinqa's question kinds, `clinqa/data/question_kinds.tsv`, in the order they are tried."""
    cues: dict[QuestionKind, KindCues] = {}
    for row in read_table("question_kinds.tsv", 5, 5):
        try:
            kind = QuestionKind(row.cells[0])
        except ValueError:
            raise VocabularyError(f"{row.where()}: unknown question kind {row.cells[0]!r}") from None
        question, section, sentence = (compile_any([row.cells[i]], row.where()) for i in (1, 2, 3))
        cues[kind] = KindCues(kind, question, section, sentence, row.cells[4])
    return cues


_YES_NO = re.compile(
    r"^\s*(?:does|do|did|is|are|was|were|can|could|should|will|would|has|have|must)(?:n['’]?t)?\b|"
    r"^\s*(?:won|can|shan)['’]t\b",
    re.I,
)


# Words that make a question clinical even when the corpus has no document about its topic.
_CLINICAL_WORDS = {
    stem(w)
    for w in (
        "patient patients disease cancer tumor tumour tumors carcinoma sarcoma lymphoma leukemia metastasis "
        "metastases metastatic symptom symptoms syndrome treatment therapy therapies drug drugs dose dosage "
        "medication medicine surgery survival prognosis diagnosis diagnose infection virus vaccine clinical "
        "trial chemotherapy radiotherapy radiation relapse recurrence recurrent remission toxicity adverse "
        "side-effects pain fever blood hospital physician nurse oncology oncologist pediatric adult child "
        "children pregnancy pregnant screening mortality morbidity efficacy contraindication prevention "
        "prophylaxis dosing veterinary"
    ).split()
}
_MEDICAL_SUFFIX = re.compile(r"(oma|itis|emia|aemia|ectomy|otomy|ostomy|opathy|plasia|osis|algia|mab|nib|platin)s?$")


def question_kinds(question: str) -> list[QuestionKind]:
    """What the question asks about, the main kind first; GENERAL when nothing specific is asked."""
    text = fold(question)
    return [kind for kind, cues in kind_cues().items() if cues.question.search(text)] or [QuestionKind.GENERAL]


# Where one sentence ends and the next begins: a stop, then a capital or a figure ("... necrosis. Should we").
_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+(?=[A-Z0-9(])")


def the_ask(question: str) -> str:
    """The sentence that asks, after the case it follows ("58F, stage IIIA NSCLC ... What next?"): the last
    sentence with a question mark, else the last sentence."""
    sentences = [s for s in _SENTENCE_END.split(question.strip()) if s.strip()]
    asking = [s for s in sentences if "?" in s]
    return (asking or sentences or [question])[-1]


def asked_kinds(question: str, treated: bool) -> list[QuestionKind]:
    """The kinds a question asks about, read from its asking sentence, not from the case it describes ("high-risk
    neuroblastoma ... what gives the best response?" asks about treatment, not risk). A general ask about a
    patient with treatment behind them (`treated`) asks what to do next; otherwise a general ask takes the kinds
    of the whole question."""
    ask = the_ask(question)
    kinds = question_kinds(ask)
    if kinds != [QuestionKind.GENERAL] or ask == question:
        return kinds
    return [QuestionKind.TREATMENT] if treated else question_kinds(question)


def is_yes_no(question: str) -> bool:
    """A question answered by a verdict ("Does X improve survival?", "... feels fine. Wouldn't treating now help?"),
    read from its asking sentence."""
    return bool(_YES_NO.search(the_ask(question)))


def is_clinical(question: str, known_terms: set[str]) -> bool:
    """A clinical question names a clinical concept: a clinical word, a term of the corpus's document titles,
    a drug or abbreviation the vocabulary knows (passed in `known_terms`, stemmed), or a medical word form."""
    words = re.findall(r"[A-Za-z][A-Za-z\-]+", question)
    terms = set(query_terms(question))
    if terms & (_CLINICAL_WORDS | known_terms):
        return True
    return any(_MEDICAL_SUFFIX.search(w.lower()) and len(w) > 5 for w in words)
