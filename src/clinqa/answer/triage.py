"""Question triage: is it a clinical question, and what does it ask about."""

from __future__ import annotations

import re
from enum import StrEnum

from clinqa.retrieve.analysis import analyze, query_terms, stem


class QuestionKind(StrEnum):
    TREATMENT = "treatment"
    PROGNOSIS = "prognosis"
    DIAGNOSIS = "diagnosis"
    RISK = "risk"
    GENERAL = "general"


_CUES: dict[QuestionKind, tuple[str, ...]] = {
    QuestionKind.TREATMENT: (
        "treat",
        "therapi",
        "therapy",
        "option",
        "next",
        "manag",
        "chemotherapi",
        "regimen",
        "drug",
        "dose",
        "surgeri",
        "resect",
        "radiat",
        "radiotherapi",
        "trial",
        "recommend",
        "second-lin",
        "salvag",
        "give",
    ),
    QuestionKind.PROGNOSIS: (
        "surviv",
        "prognosi",
        "prognost",
        "outcom",
        "mortal",
        "rate",
        "efs",
        "os",
        "pfs",
        "cure",
        "respons",
        "life",
        "expect",
        "relaps",
        "recurr",
    ),
    QuestionKind.DIAGNOSIS: (
        "diagnos",
        "biopsi",
        "imag",
        "test",
        "stage",
        "staging",
        "screen",
        "detect",
        "sign",
    ),
    QuestionKind.RISK: ("risk", "caus", "prevent", "incid", "factor", "inherit", "genet", "side", "toxic"),
}

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
    """What the question asks about, most specific first; GENERAL when nothing specific is asked."""
    terms = set(analyze([question])[0])
    scored = []
    for kind, cues in _CUES.items():
        hits = sum(1 for t in terms if any(t.startswith(c) for c in cues))
        if hits:
            scored.append((hits, kind))
    scored.sort(key=lambda item: (-item[0], list(_CUES).index(item[1])))
    return [kind for _, kind in scored] or [QuestionKind.GENERAL]


def is_clinical(question: str, known_terms: set[str]) -> bool:
    """A clinical question names a clinical concept: a clinical word, a term of the corpus's document titles,
    a drug or abbreviation the vocabulary knows (passed in `known_terms`, stemmed), or a medical word form."""
    words = re.findall(r"[A-Za-z][A-Za-z\-]+", question)
    terms = set(query_terms(question))
    if terms & (_CLINICAL_WORDS | known_terms):
        return True
    return any(_MEDICAL_SUFFIX.search(w.lower()) and len(w) > 5 for w in words)
