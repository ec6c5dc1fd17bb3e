"""clinqa's clinical vocabularies: tab-separated data files in this package, read by one validated loader.

Every file has `#` comment lines describing its columns, then one row per line. `read_table` checks the column
count of every row and raises `VocabularyError` naming the file and line; `split_list` splits a " | " cell.
Regular-expression columns are compiled by `compile_pattern`, which names the file and line of a broken one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from clinqa.errors import ClinqaError


class VocabularyError(ClinqaError):
    """A data file of clinqa's vocabularies is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    cells: tuple[str, ...]

    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def pattern(self, column: int) -> re.Pattern[str] | None:
        """The cell compiled as a case-insensitive regular expression; None when the cell is empty."""
        return compile_pattern(self.cells[column], self.where()) if self.cells[column] else None


@cache
def read_table(name: str, columns: int, required: int = 1) -> tuple[Row, ...]:
    """The rows of data file `name`, each padded to `columns` cells; the first `required` cells must be set."""
    text = resources.files("clinqa.data").joinpath(name).read_text(encoding="utf-8")
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) > columns:
            raise VocabularyError(f"{name}:{number}: {len(cells)} columns, at most {columns} expected")
        cells += [""] * (columns - len(cells))
        missing = [i + 1 for i in range(required) if not cells[i]]
        if missing:
            raise VocabularyError(f"{name}:{number}: column {missing[0]} is empty")
        rows.append(Row(name, number, tuple(cells)))
    return tuple(rows)


def split_list(cell: str) -> list[str]:
    """A " | "-separated cell as its non-empty items."""
    return [item.strip() for item in cell.split("|") if item.strip()] if cell else []


def compile_pattern(source: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(source, re.IGNORECASE)
    except re.error as e:
        raise VocabularyError(f"{where}: not a valid pattern ({e})") from e
