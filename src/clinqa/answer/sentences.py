"""Split passages into sentences that keep the citations the source attached to them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from clinqa.types import Passage

_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_NO_BREAK_BEFORE = re.compile(
    r"(?:\bet al|\be\.g|\bi\.e|\bvs|\bDr|\bNo|\bFig|\bapprox|\bSt|\bMr|\bMs|\bInc|\bU\.S|\bca|\bcf|\b[A-Z])\.$"
)
_LEAD_LABEL_WORDS = 8
_TWO_CELL_ROW = re.compile(r"([^|]+?) \| ([^|]+)")
_ROW_WORDS = 5  # a description this long is prose, not another cell of figures


@dataclass(frozen=True)
class SourceSentence:
    passage: Passage
    position: int  # index of the sentence in its passage
    start: int
    end: int
    text: str
    citation_numbers: tuple[int, ...]  # reference numbers in the source document's own list
    level_of_evidence: str | None
    label: str | None  # the bold lead of a list item ("Gemcitabine and docetaxel."), if any

    @property
    def labelled(self) -> str:
        """The label and the sentence, as a reader meets them: what agents and cues are read from."""
        return f"{self.label or ''} {self.text}"


def split_passage(passage: Passage) -> list[SourceSentence]:
    """The passage's sentences (a labelled list item's label goes on each)."""
    return list(_split(passage))


@lru_cache(maxsize=16384)
def _split(passage: Passage) -> tuple[SourceSentence, ...]:
    """`split_passage`, remembered: the steps of an answer read the same passages again."""
    spans = _spans(passage.text)
    label: str | None = None
    if passage.kind == "list_item" and len(spans) > 1 and _is_label(passage.text[slice(*spans[0])]):
        label = passage.text[slice(*spans[0])].rstrip(".:")
        spans = spans[1:]
    row = _TWO_CELL_ROW.fullmatch(passage.text)
    if row and _is_label(row.group(1)) and len(row.group(2).split()) >= _ROW_WORDS:
        # A table row of a name and its description ("Stage III | Lymphocytosis and anemia (hemoglobin <11
        # g/dL) ...") reads as the description under its name, as a labelled list item does.
        label = row.group(1).strip()
        spans = [(row.start(2) + a, row.start(2) + b) for a, b in _spans(row.group(2))]
    out = []
    for position, (start, end) in enumerate(spans):
        numbers: list[int] = []
        level = None
        for c in passage.citations:
            if start < c.offset <= end or (position == len(spans) - 1 and c.offset > end):
                numbers.extend(n for n in c.numbers if n not in numbers)
                level = c.level_of_evidence or level
        text = passage.text[start:end].strip()
        out.append(SourceSentence(passage, position, start, end, text, tuple(numbers), level, label))
    return tuple(out)


def _spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _NO_BREAK_BEFORE.search(text[max(0, match.start() - 8) : match.start()]):
            continue
        end = match.start()
        while end < len(text) and text[end] in "\"')]":
            end += 1
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _is_label(sentence: str) -> bool:
    words = sentence.split()
    return len(words) <= _LEAD_LABEL_WORDS and not any(w.lower() in _VERBS for w in words)


_VERBS = {
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "may",
    "can",
    "should",
    "will",
    "include",
    "includes",
}
