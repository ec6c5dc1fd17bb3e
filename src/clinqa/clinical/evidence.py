"""How strong a graded result is, from `clinqa/data/evidence_levels.tsv`: whether the level a source attaches to
it ("A1", "B3", "1iiA", "3iiiDiv") rests on randomised comparison."""

from __future__ import annotations

import re
from functools import cache

from clinqa.data import VocabularyError, compile_pattern, read_table

DESIGNS = ("randomised", "controlled", "observational", "opinion")


@cache
def _levels() -> tuple[tuple[re.Pattern[str], str], ...]:
    rows = []
    for row in read_table("evidence_levels.tsv", 2, 2):
        pattern, design = row.cells
        if design not in DESIGNS:
            raise VocabularyError(f"{row.where()}: unknown design {design!r} (one of {', '.join(DESIGNS)})")
        rows.append((compile_pattern(pattern, row.where()), design))
    return tuple(rows)


def design_of(level: str | None) -> str | None:
    """The study design a level of evidence stands for, read from its first code ("A1 and A3", "1iiA
    (nicotinamide)"); None for no level or one the scales do not know."""
    if not level or not level.split():
        return None
    text = level.split()[0]
    return next((design for pattern, design in _levels() if pattern.fullmatch(text)), None)


def randomised(level: str | None) -> bool:
    """Whether a result graded `level` comes from randomised comparison (a trial or a meta-analysis of trials)."""
    return design_of(level) == "randomised"
