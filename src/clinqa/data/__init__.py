"""clinqa's clinical vocabularies: tab-separated data files in this package, read by one validated loader.

Every file has `#` comment lines describing its columns, then one row per line. `read_table` checks the column
count of every row and raises `VocabularyError` naming the file and line; `split_list` splits a " | " cell.
Regular-expression columns are compiled by `compile_pattern`, which names the file and line of a broken one;
`alternation` joins patterns into one; `compile_any` joins many into one `AnyPattern` that says whether any of
them occurs in a text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import re2

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


def alternation(sources: Iterable[str]) -> str:
    """The patterns `sources` as one pattern that matches where any of them does."""
    return "|".join(f"(?:{source})" for source in sources)


@cache
def _re2_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True
    options.log_errors = False  # a pattern RE2 cannot run (a look-around) is searched with Python's re instead
    return options


class AnyPattern:
    """Case-insensitive patterns searched as one: those RE2 can run form one linear-time automaton, the rest (with
    look-arounds) one Python alternation. Sentence filters test every sentence of every answer, and Python's re
    tries each branch of a long alternation at each position of the text; RE2 reads the text once."""

    def __init__(self, sources: Sequence[str], where: str) -> None:
        fast: list[str] = []
        slow: list[str] = []
        for source in sources:
            compile_pattern(source, where)  # a broken pattern is named, whichever engine would run it
            for branch in _branches(source):
                try:
                    re2.compile(branch, _re2_options())
                    fast.append(branch)
                except re2.error:
                    slow.append(branch)
        self.pattern = alternation(sources)
        self._fast = re2.compile(alternation(fast), _re2_options()) if fast else None
        self._slow = compile_pattern(alternation(slow), where) if slow else None

    def search(self, text: str) -> bool:
        """Whether any of the patterns occurs in `text`."""
        return bool(
            (self._fast is not None and self._fast.search(text)) or (self._slow is not None and self._slow.search(text))
        )


def _branches(source: str) -> list[str]:
    """The top-level alternatives of a pattern ("a|(b|c)|d" -> "a", "(b|c)", "d"), each a pattern of its own; the
    pattern whole when its alternatives are not (a global inline flag, a branch that does not compile alone)."""
    branches: list[str] = []
    depth, escaped, start = 0, False, 0
    opened = -1  # where the character class being read starts ("[" or "[^"), or -1
    for i, char in enumerate(source):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif opened >= 0:
            if char == "]" and i > opened:  # a "]" first in a class is one of its characters
                opened = -1
        elif char == "[":
            opened = i + 2 if source[i + 1 : i + 2] == "^" else i + 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(source[start:i])
            start = i + 1
    branches.append(source[start:])
    if re.match(r"\(\?[aiLmsux]+\)", source):
        return [source]
    try:
        for branch in branches:
            re.compile(branch)
    except re.error:
        return [source]
    return branches


def compile_any(sources: Sequence[str], where: str) -> AnyPattern:
    """The patterns `sources` (from `where`, a file or file:line) as one `AnyPattern`."""
    return AnyPattern(sources, where)


def compile_groups(rows: Iterable[tuple[str, str]], name: str) -> dict[str, AnyPattern]:
    """(key, pattern) rows of data file `name` as one `AnyPattern` per key, in the order keys first appear."""
    grouped: dict[str, list[str]] = {}
    for key, source in rows:
        grouped.setdefault(key, []).append(source)
    return {key: compile_any(sources, f"{name}:{key}") for key, sources in grouped.items()}
