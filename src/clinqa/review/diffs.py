"""Diffs of cited passages that a re-ingest replaced: the old text and the new passage that took its place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher

from clinqa.review.models import PassageDiff
from clinqa.types import Answer, Passage

MIN_SIMILARITY = 0.4  # below this, a passage of the same section is another paragraph, not the edited one


def replacement(old: Passage, candidates: Iterable[Passage]) -> Passage | None:
    """The new passage that replaced `old`: same document and section path, the most similar text (or the same
    place in the section), ties broken by distance in reading order, then id."""
    scored = [
        (SequenceMatcher(None, old.text, p.text).ratio(), p)
        for p in candidates
        if p.document_id == old.document_id and p.section_path == old.section_path
    ]
    if not scored:
        return None
    ratio, best = max(scored, key=lambda rp: (rp[0], -abs(rp[1].ordinal - old.ordinal), rp[1].id))
    return best if ratio >= MIN_SIMILARITY or best.ordinal == old.ordinal else None


def passage_diffs(
    cited: Iterable[str],
    document_id: str,
    old_passages: Mapping[str, Passage],
    new_passages: Mapping[str, Passage],
    answer: Answer,
) -> list[PassageDiff]:
    """One diff per cited passage id. The old text comes from the old passage, or, when it could not be read
    before the re-ingest, from the answer's own sentences of that passage."""
    diffs = []
    for passage_id in cited:
        old = old_passages.get(passage_id)
        if old is None:
            sentences = [s for s in answer.sentences() if s.source.passage_id == passage_id]
            section = sentences[0].source.section if sentences else ""
            diffs.append(
                PassageDiff(
                    document_id=document_id,
                    passage_id=passage_id,
                    section=section,
                    old_text=" ".join(s.text for s in sentences),
                )
            )
            continue
        new = replacement(old, new_passages.values())
        diffs.append(
            PassageDiff(
                document_id=old.document_id,
                passage_id=passage_id,
                section=old.section,
                old_text=old.text,
                new_text=new.text if new else None,
                new_passage_id=new.id if new else None,
            )
        )
    return diffs


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The two texts as runs of ('equal' | 'delete' | 'insert', text), word by word, for showing what changed."""
    a, b = old.split(), new.split()
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("equal", " ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            runs.append(("delete", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            runs.append(("insert", " ".join(b[j1:j2])))
    return runs
