"""PDQ Markdown pages: YAML front matter, then Markdown whose block structure markdown-it-py tokenises.

Only the block structure comes from markdown-it (its inline rules are switched off): the inline text of each
paragraph, list item, heading and table cell goes to `citations.scan`, which knows PDQ's citation markers.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from clinqa.errors import IngestError
from clinqa.ingest.assemble import (
    Block,
    Heading,
    ReferenceList,
    SourceInfo,
    TextBlock,
    assemble,
    audience_of,
    clean_title,
    parse_date,
)
from clinqa.ingest.citations import plain_text
from clinqa.settings import settings
from clinqa.types import Document

_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
# "2. Question?" right after a paragraph line would be read as part of that paragraph (CommonMark lets only
# "1." interrupt one); the Q&A pages rely on it starting an item, so give it a blank line.
_NUMBERED_AFTER_TEXT = re.compile(r"(?<=[^\n])\n(?=\d{1,2}[.)] )")
_TABLE_DELIMITER = re.compile(r":?-{3,}:?")
_DATE_FIELDS = ("lastReviewed", "updated", "date")
_SINGLE_VALUE_FIELDS = ("title", "url", "audience", *_DATE_FIELDS)
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_markdown(path: str, text: str, content_hash: str) -> Document:
    """A Markdown page with optional YAML front matter (title, url, lastReviewed, audience)."""
    front, body = split_front_matter(path, text)
    url = front.get("url")
    url = str(url).strip() or None if url is not None else None
    source = SourceInfo(
        path=path,
        format="pdq-markdown",
        content_hash=content_hash,
        markdown=True,
        title=clean_title(front.get("title")),
        url=url,
        audience=audience_of(url, front.get("audience")),
        updated=_updated(path, front),
    )
    return assemble(source, markdown_blocks(body))


def split_front_matter(path: str, text: str) -> tuple[dict[str, Any], str]:
    """The front matter fields and the Markdown body; IngestError names the YAML problem."""
    if not text.startswith("---\n"):
        return {}, text
    end = _FRONT_MATTER_END.search(text, 4)
    if end is None:
        raise IngestError(path, "front matter opened with '---' is never closed")
    yaml_text = text[4 : end.start()]
    try:
        _check_front_matter_shape(path, yaml_text)
        fields = yaml.load(yaml_text, Loader=_YamlLoader)  # a safe loader (C if available)
    except yaml.YAMLError as error:
        raise IngestError(path, f"broken YAML front matter: {_yaml_problem(error)}") from error
    except ValueError as error:  # a date that does not exist, an integer too long to convert
        raise IngestError(path, f"broken YAML front matter: {str(error).split(';')[0]}") from error
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise IngestError(path, "front matter is not a mapping of fields")
    for name in _SINGLE_VALUE_FIELDS:
        if isinstance(fields.get(name), dict | list):
            kind = "a list" if isinstance(fields[name], list) else "a mapping"
            raise IngestError(path, f"front matter {name} is {kind}, not a single value")
    return fields, text[end.end() :]


def _check_front_matter_shape(path: str, yaml_text: str) -> None:
    """Refuses aliases and deep nesting from the parser's events, before anything is built.

    An alias makes the loaded value a graph: nine anchors of nine aliases each are 9**9 strings to whoever
    walks or prints it (a "billion laughs"). Page metadata never needs one, nor more than a few levels.
    """
    limit = settings().ingest.max_front_matter_depth
    depth = 0
    for event in yaml.parse(yaml_text, Loader=_YamlLoader):
        if isinstance(event, yaml.AliasEvent):
            raise IngestError(path, f"front matter uses the YAML alias *{event.anchor}; aliases are not accepted")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limit:
                raise IngestError(path, f"front matter is nested more than {limit} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _updated(path: str, front: dict[str, Any]) -> dt.date | None:
    for name in _DATE_FIELDS:
        value = front.get(name)
        if value is None or value == "":
            continue
        date = parse_date(value)
        if date is None:
            raise IngestError(path, f"front matter {name} {value!r} is not a date (expected YYYY-MM-DD)")
        return date
    return None


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        line = error.problem_mark.line + 2  # the mark counts from 0, after the opening '---' line
        return f"{error.problem or error.context} (line {line}, column {error.problem_mark.column + 1})"
    return str(error).replace("\n", " ")


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").disable("inline")


def markdown_blocks(body: str) -> Iterator[Block]:
    """Headings, text blocks and reference lists of a Markdown body, in document order."""
    tokens = _parser().parse(_NUMBERED_AFTER_TEXT.sub("\n\n", body))
    walk = _TokenWalk()
    previous: Token | None = None
    for token in tokens:
        yield from walk.step(token, previous)
        previous = token
    yield from walk.end_references()


@dataclass
class _TokenWalk:
    """Turns markdown-it's flat token stream into blocks; list items keep their own text apart from
    the items nested in them, and the list after a "###### References" heading becomes references."""

    items: list[list[str]] = field(default_factory=list)  # text of each open list item, outermost first
    depth: int = 0
    references: list[tuple[int, str]] | None = None  # set while under a References heading
    reference: tuple[int, list[str]] | None = None  # the reference entry being read
    row: list[str] = field(default_factory=list)

    def step(self, token: Token, previous: Token | None) -> Iterator[Block]:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.depth -= 1
        elif kind == "list_item_open":
            yield from self._open_item(token)
        elif kind == "list_item_close":
            yield from self._close_item()
        elif kind == "tr_open":
            self.row = []
        elif kind == "tr_close":
            yield from self._row()
        elif kind == "inline" and previous is not None:
            yield from self._inline(token, previous)
        elif kind in ("code_block", "fence", "html_block"):
            yield from self._text(token.content)

    def end_references(self) -> Iterator[Block]:
        if self.references:
            yield ReferenceList(tuple(self.references))
        self.references = None

    def _inline(self, token: Token, previous: Token) -> Iterator[Block]:
        if previous.type == "heading_open":
            yield from self.end_references()
            level = int(previous.tag[1:])
            if level == 6 and plain_text(token.content).lower() == "references":
                self.references = []
            else:
                yield Heading(level, token.content)
        elif previous.type == "td_open":
            self.row.append(token.content)
        elif previous.type == "paragraph_open":
            yield from self._text(token.content)

    def _text(self, raw: str) -> Iterator[Block]:
        if self.reference is not None:
            self.reference[1].append(raw)
        elif self.items:
            self.items[-1].append(raw)
        else:
            yield TextBlock("paragraph", raw)

    def _open_item(self, token: Token) -> Iterator[Block]:
        if self.references is not None and self.depth == 1:
            number = int(token.info) if token.info.isdigit() else len(self.references) + 1
            self.reference = (number, [])
            return
        if self.reference is not None:
            return  # a list nested in a reference entry stays part of the entry
        yield from self._flush_item()
        self.items.append([])

    def _close_item(self) -> Iterator[Block]:
        if self.reference is not None:
            if self.depth == 1 and self.references is not None:
                self.references.append((self.reference[0], "\n".join(self.reference[1])))
                self.reference = None
            return
        yield from self._flush_item()
        if self.items:
            self.items.pop()

    def _flush_item(self) -> Iterator[Block]:
        if self.items and self.items[-1]:
            yield TextBlock("list_item", "\n".join(self.items[-1]))
            self.items[-1] = []

    def _row(self) -> Iterator[Block]:
        """A table body row as one paragraph, its non-empty cells joined by " | "; header rows are skipped."""
        cells = [c.strip() for c in self.row if c.strip() and not _TABLE_DELIMITER.fullmatch(c.strip())]
        self.row = []
        if cells:
            yield from self._text(" | ".join(cells))
