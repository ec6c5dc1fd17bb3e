"""Split a registry's eligibility text block into inclusion and exclusion items, keeping each item as written.

The block comes in three shapes: CT.gov API v2 Markdown ('* item', '1. item', nested bullets indented, Markdown
escapes such as '\\<'), legacy XML text hard-wrapped at about 75 columns ('-  item' with continuation lines), and
API v1 text with the bullets stripped (one item a line). Headings such as 'Inclusion Criteria:' switch the
section; text before any heading counts as inclusion. Nested bullets stay with their parent item, one a line.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Literal

Section = Literal["inclusion", "exclusion"]

BULLET = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[-*•·o]|\d{1,2}[.)]|[a-zA-Z][.)]|\([a-z0-9]{1,4}\))[ \t]+(?P<body>\S.*)$"
)
HEADING = re.compile(
    r"^(?:key|main|major|general)?\s*(?P<kind>inclusion|exclusion|eligibility)(?:\s+criteria)?\b[^:.;]{0,60}:\s*$"
    # a longer heading that ends in the section's name: 'Eligibility criteria for the second randomisation
    # Inclusion criteria' (API v1 text, whose line breaks and bullets were lost)
    r"|^(?:[^:;]{0,160}\s)?(?P<bare>inclusion|exclusion)\s+criteria\s*:?\s*$",
    re.IGNORECASE,
)
# '... who meet the inclusion criteria' is an item, not a heading.
NOT_HEADING = re.compile(r"\b(?:meets?|met|fulfil+s?|satisf(?:y|ies)|all|any|other|see)\b", re.IGNORECASE)
# A short line ending in a colon ('Age:', 'For adolescent participants:') labels the items that follow.
LABEL = re.compile(r"^(?P<label>[^.:;]{1,60}:)$")
LABEL_MAX_WORDS = 6
MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~=])")


@dataclass
class _Item:
    lines: list[str]
    indent: int
    bulleted: bool


@dataclass
class _Splitter:
    hard_wrapped: bool
    section: Section = "inclusion"
    label: str | None = None
    current: _Item | None = None
    after_blank: bool = False
    items: dict[Section, list[str]] = field(default_factory=lambda: {"inclusion": [], "exclusion": []})

    def feed(self, line: str) -> None:
        if not line.strip():
            self.after_blank = True
            return
        indent = len(line) - len(line.lstrip())
        bullet = BULLET.match(line)
        body = bullet["body"].strip() if bullet else line.strip()
        if self._heading(body):
            pass
        elif bullet:
            self._bullet(indent, bullet["marker"], body)
        elif self._continues(indent):
            self._append(body)
        elif self._label(body):
            pass
        else:
            self._open(_Item([self._labelled(body)], indent, bulleted=False))
        self.after_blank = False

    def finish(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        self._close()
        return tuple(self.items["inclusion"]), tuple(self.items["exclusion"])

    def _heading(self, body: str) -> bool:
        match = HEADING.match(body)
        if match is None or (match["bare"] and NOT_HEADING.search(body)):
            return False
        self._close()
        kind = (match["kind"] or match["bare"]).lower()
        self.section = "exclusion" if kind == "exclusion" else "inclusion"
        self.label = None
        return True

    def _label(self, body: str) -> bool:
        match = LABEL.match(body)
        if match is None or len(body.split()) > LABEL_MAX_WORDS:
            return False
        self._close()
        # An all-capitals label ('PATIENT CHARACTERISTICS:') divides the list; a mixed-case one qualifies items.
        self.label = None if body.isupper() else match["label"]
        return True

    def _bullet(self, indent: int, marker: str, body: str) -> None:
        if self.current is not None and self.current.bulleted and indent > self.current.indent:
            self.current.lines.append(f"{marker} {body}")
            return
        self._open(_Item([self._labelled(body)], indent, bulleted=True))

    def _continues(self, indent: int) -> bool:
        """Whether a line without a bullet carries on the open item rather than starting one."""
        if self.current is None:
            return False
        if self.current.bulleted and indent > self.current.indent:
            return True
        return self.hard_wrapped and not self.after_blank

    def _append(self, body: str) -> None:
        assert self.current is not None
        self.current.lines[-1] = f"{self.current.lines[-1]} {body}"

    def _labelled(self, body: str) -> str:
        return f"{self.label} {body}" if self.label else body

    def _open(self, item: _Item) -> None:
        self._close()
        self.current = item

    def _close(self) -> None:
        if self.current is not None:
            self.items[self.section].append("\n".join(self.current.lines))
        self.current = None


def split_criteria(
    block: str, *, hard_wrapped: bool = False, markdown: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(inclusion items, exclusion items) of an eligibility text block.

    `hard_wrapped`: lines without a bullet directly under a line carry it on (legacy XML). `markdown`: undo the
    backslash escapes of CT.gov API v2 text.
    """
    text = block.replace("\r\n", "\n").replace("\r", "\n")
    if markdown:
        text = MARKDOWN_ESCAPE.sub(r"\1", text)
    splitter = _Splitter(hard_wrapped=hard_wrapped)
    for line in textwrap.dedent(text.expandtabs(4)).split("\n"):
        splitter.feed(line)
    return splitter.finish()
