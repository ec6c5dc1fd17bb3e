"""Answers for a patient reader: terms explained with the corpus's own plain-language definitions, and no safety
information lost relative to the clinician's answer."""

from __future__ import annotations

import re
from collections.abc import Mapping

from clinqa.answer.compose import Candidate, Citer, to_sentence
from clinqa.answer.sentences import split_passage
from clinqa.retrieve.glossary import terms_in
from clinqa.types import AnswerSection, Passage, Sentence

EXPLAINED_TERMS = 5
SAFETY = re.compile(
    r"\b(?:toxicit\w*|side effects?|adverse|risk of|serious|life-threatening|fatal|deaths?|contraindicat\w*|"
    r"avoid\w*|warning|must not|should not|caution|harm\w*|danger\w*)\b",
    re.IGNORECASE,
)


def explanations(
    sentences: list[Sentence],
    glossary: Mapping[str, str],
    passages: Mapping[str, Passage],
    citer: Citer,
) -> AnswerSection | None:
    """ "What the terms mean": for terms the answer uses, the sentence of a patient page that defines each."""
    text = " ".join(f"{s.label or ''} {s.text}" for s in sentences)
    shown = {s.source.passage_id for s in sentences}
    out: list[Sentence] = []
    for term in terms_in(text, dict(glossary)):
        passage = passages.get(glossary[term])
        if passage is None or passage.id in shown:
            continue
        first = split_passage(passage)[0]
        out.append(to_sentence(Candidate(first, frozenset(), 0.0, 0.0), citer))
        shown.add(passage.id)
        if len(out) == EXPLAINED_TERMS:
            break
    return AnswerSection(title="What the terms mean", sentences=out) if out else None


def safety_kept(
    sentences: list[Sentence], clinician: list[Sentence], passages: Mapping[str, Passage], citer: Citer
) -> AnswerSection | None:
    """Safety sentences of the clinician's answer that the patient's answer lacks, added back with their
    citations renumbered for this answer."""
    present = {s.text for s in sentences}
    out: list[Sentence] = []
    for wanted in clinician:
        if wanted.text in present or not SAFETY.search(wanted.text) or wanted.source.passage_id not in passages:
            continue
        match = next(
            (x for x in split_passage(passages[wanted.source.passage_id]) if x.text.endswith(wanted.text[1:])), None
        )
        if match is not None:
            out.append(to_sentence(Candidate(match, frozenset(), 0.0, 0.0), citer))
            present.add(wanted.text)
    return AnswerSection(title="Safety information", sentences=out) if out else None
