"""The phase of first treatment that a patient's history implies comes next (`clinqa/data/next_phases.tsv`):
consolidation after chemoradiation or after induction in remission, maintenance after an autologous transplant,
adjuvant therapy after surgery with high-risk pathology. Guideline pages treat each phase under its own heading,
so the treatment algorithm's searches look for it even when the question does not name it."""

from __future__ import annotations

from functools import cache

from clinqa.data import AnyPattern, compile_any, read_table


@cache
def _phases() -> tuple[tuple[str, AnyPattern], ...]:
    grouped: dict[str, list[str]] = {}
    for row in read_table("next_phases.tsv", 2, 2):
        words, pattern = row.cells
        grouped.setdefault(words, []).append(pattern)
    return tuple((words, compile_any(patterns, f"next_phases.tsv:{words}")) for words, patterns in grouped.items())


def next_phases(question: str) -> list[str]:
    """The words of the phases `question`'s history implies come next ("consolidation"), in the file's order."""
    return [words for words, pattern in _phases() if pattern.search(question)]
