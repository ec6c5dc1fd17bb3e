"""Plain-text guideline pages, such as a PDQ section saved from a browser.

The shape understood: site chrome at the top ("Questions About Cancer? 1-800-4-CANCER", share links), the
title, then blocks separated by blank lines. A lone short line without closing punctuation is a heading;
"•" lines are list items; a numbered run that reads like citations (PubMed links, years, "et al") is the
reference list; "• Updated: December 4, 2014" dates the page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from clinqa.ingest.assemble import (
    Block,
    Heading,
    ReferenceList,
    SourceInfo,
    TextBlock,
    assemble,
    updated_line,
)
from clinqa.types import Document

MAX_HEADING_CHARS = 150
MAX_HEADING_WORDS = 20
SECTION_LEVEL = 2  # plain text shows no heading levels: every heading is a top-level section

_CHROME = re.compile(r"questions about cancer\?|1-800-4-cancer", re.IGNORECASE)
_NAVIGATION = frozenset(
    (
        "view entire document",
        "print",
        "email",
        "e-mail",
        "facebook",
        "twitter",
        "google+",
        "pinterest",
        "linkedin",
        "share",
        "back to top",
        "next section",
        "previous section",
        "go to patient version",
        "go to health professional version",
    )
)
_BULLET = re.compile(r"\s*[•·▪◦‣●○■*-]\s+(?P<text>\S.*)")
_NUMBERED = re.compile(r"\s*(?P<number>\d{1,3})[.)]\s+(?P<text>\S.*)")
_REFERENCE_LIKE = re.compile(r"PUBMED|PMID|list_uids|\bet al\b|\b(?:19|20)\d\d\b")
_HEADING_END = re.compile(r"[.!:;,\]]$")


@dataclass(frozen=True)
class _Page:
    title: str | None
    updated: dt.date | None
    groups: list[list[str]]  # blocks of consecutive non-blank lines


def parse_plain_text(path: str, text: str, content_hash: str) -> Document:
    """A plain-text guideline page: title, headings, paragraphs, bullets and a numbered reference list."""
    page = _split_page(text.split("\n"))
    source = SourceInfo(
        path=path,
        format="plain-text",
        content_hash=content_hash,
        markdown=False,
        title=page.title,
        updated=page.updated,
    )
    return assemble(source, plain_text_blocks(page.groups))


def _split_page(lines: list[str]) -> _Page:
    """Drop the site chrome and navigation lines; find the title and the Updated date."""
    title: str | None = None
    updated: dt.date | None = None
    groups: list[list[str]] = [[]]
    for line in lines:
        content = line.strip()
        bullet = _BULLET.fullmatch(line)
        if _is_navigation(bullet["text"] if bullet else content):
            continue
        if updated is None and (date := updated_line(line)) is not None:
            updated = date
            continue
        if title is None and not any(groups):
            if not content or bullet or _CHROME.search(content):
                continue  # before the title: blank lines, the help line, share links
            if _is_heading(content):
                title = content
                continue
            title = ""  # the page starts with text: it has no title line
        if content:
            groups[-1].append(line)
        elif groups[-1]:
            groups.append([])
    return _Page(title or None, updated, [g for g in groups if g])


def _is_navigation(text: str) -> bool:
    return text.strip().lower() in _NAVIGATION


def _is_heading(line: str) -> bool:
    return (
        len(line) <= MAX_HEADING_CHARS
        and len(line.split()) <= MAX_HEADING_WORDS
        and line[0].isalnum()
        and line[0] == line[0].upper()
        and not _HEADING_END.search(line)
        and not _NUMBERED.fullmatch(line)
    )


def plain_text_blocks(groups: list[list[str]]) -> Iterator[Block]:
    """Headings, paragraphs, list items and reference lists of a page's blocks, in order."""
    for group in groups:
        if len(group) == 1 and _is_heading(group[0].strip()):
            yield Heading(SECTION_LEVEL, group[0].strip())
            continue
        yield from _group_blocks(group)


def _group_blocks(group: list[str]) -> Iterator[Block]:
    """A block of lines: leading text is a paragraph; bullets and numbered lines start items; lines
    that follow an item continue it."""
    items: list[tuple[str, int | None, list[str]]] = []  # (kind, number, lines)
    for line in group:
        bullet = _BULLET.fullmatch(line)
        numbered = _NUMBERED.fullmatch(line)
        if bullet:
            items.append(("bullet", None, [bullet["text"]]))
        elif numbered:
            items.append(("numbered", int(numbered["number"]), [numbered["text"]]))
        elif items:
            items[-1][2].append(line.strip())
        else:
            items.append(("paragraph", None, [line.strip()]))
    numbered_items = [(n, "\n".join(lines)) for kind, n, lines in items if kind == "numbered" and n is not None]
    references = _looks_like_references([text for _, text in numbered_items])
    listed = False
    for kind, _number, lines in items:
        if kind == "numbered" and references:
            if not listed:
                yield ReferenceList(tuple(numbered_items))
                listed = True
        elif kind == "paragraph":
            yield TextBlock("paragraph", "\n".join(lines))
        else:
            yield TextBlock("list_item", "\n".join(lines))


def _looks_like_references(entries: list[str]) -> bool:
    return bool(entries) and sum(1 for e in entries if _REFERENCE_LIKE.search(e)) * 2 > len(entries)
