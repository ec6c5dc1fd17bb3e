"""Plain-language definitions found in the corpus's patient-version pages, for explaining terms to patients.

A definition is a sentence that opens a passage the way patient pages define a term: "Osteosarcoma is a type of
bone cancer ...", "A biopsy is the removal of ...", "Metastasis is the spread of ...". The glossary maps the
lower-case term to the passage holding that sentence, so an explanation is a source sentence like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clinqa.types import Passage

_DEFINITION = re.compile(
    r"^(?:An? |The )?(?P<term>[A-Za-z][A-Za-z0-9\-]*(?: [a-z][a-z0-9\-]*){0,3}) (?:is|are) "
    r"(?:a|an|the|one|when|how|used|cancer|any)\b"
)
_NOT_TERMS = frozenset({"it", "this", "that", "there", "these", "those", "they", "he", "she", "what", "which", "who"})
MAX_TERM_WORDS = 4


def build_glossary(passages: Iterable[Passage], patient_documents: set[str]) -> dict[str, str]:
    """Term -> id of the first passage (in stable order) of a patient page that defines it."""
    glossary: dict[str, str] = {}
    for passage in passages:
        if passage.document_id not in patient_documents:
            continue
        m = _DEFINITION.match(passage.text)
        if not m:
            continue
        term = m.group("term").lower()
        if term in _NOT_TERMS or len(term) < 4 or len(term.split()) > MAX_TERM_WORDS:
            continue
        glossary.setdefault(term, passage.id)
    return glossary


def terms_in(text: str, glossary: dict[str, str]) -> list[str]:
    """Glossary terms that occur in `text` as whole words, longest first, each once."""
    lowered = f" {text.lower()} "
    found = [t for t in glossary if f" {t} " in lowered or f" {t}s " in lowered or f" {t}," in lowered]
    return sorted(found, key=lambda t: (-len(t), t))
