"""The phase of first treatment that a patient's history implies comes next (`clinqa/data/next_phases.tsv`):
consolidation after chemoradiation or after induction in remission, maintenance after an autologous transplant,
adjuvant therapy after surgery with high-risk pathology. Guideline pages treat each phase under its own heading,
so the treatment algorithm's searches look for it even when the question does not name it."""

from __future__ import annotations

from functools import cache

from clinqa.data import AnyPattern, compile_groups, read_table


@cache
def _phases() -> dict[str, AnyPattern]:
    rows = read_table("next_phases.tsv", 2, 2)
    return compile_groups(((row.cells[0], row.cells[1]) for row in rows), "next_phases.tsv")


def next_phases(question: str) -> list[str]:
    """The words of the phases `question`'s history implies come next ("consolidation"), in the file's order."""
    return [words for words, pattern in _phases().items() if pattern.search(question)]
