"""Build a Document from the blocks a format parser found: the part every source format shares.

A format parser (Markdown, plain text, HTML) yields headings, text blocks and numbered reference lists in
document order; this module turns them into the section tree, passages with stable ids, a document-wide
reference list and citations mapped into it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from clinqa.errors import IngestError
from clinqa.ingest.citations import Marker, is_navigation, plain_text, scan
from clinqa.types import Citation, Document, DocumentAudience, Passage, Reference, Section

MIN_PASSAGE_CHARS = 20
MIN_LIST_ITEM_CHARS = 3
MAX_HEADING_CHARS = 200  # an empty heading takes the next paragraph as its title only when it is this short

_BOILERPLATE_SECTION = re.compile(
    r"(about this pdq summary|latest updates to this (pdq )?summary|changes to this summary)\b", re.IGNORECASE
)
_PUBMED_LABEL = re.compile(r"\s*\[?PUBMED Abstract\]?", re.IGNORECASE)
_PMID = re.compile(r"list_uids=(\d+)|pubmed\.ncbi\.nlm\.nih\.gov/(\d+)|\bPMID:?\s*(\d+)")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_SITE_SUFFIX = re.compile(r"\s+[-–|]\s+NCI$")
_URL_HP = re.compile(r"/hp(?:[/?#]|$)")
_URL_PATIENT = re.compile(r"/patient(?:[/?#]|$)")
_UPDATED_LINE = re.compile(r"\s*(?:[•·*-]\s*)?(?:last\s+)?updated\s*:?\s+(?P<date>\S.*?)\s*", re.IGNORECASE)
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%m/%d/%Y", "%d %B %Y", "%Y/%m/%d")


@dataclass(frozen=True)
class Heading:
    level: int
    raw: str


@dataclass(frozen=True)
class TextBlock:
    kind: Literal["paragraph", "list_item"]
    raw: str


@dataclass(frozen=True)
class ReferenceList:
    """One numbered reference list; numbering restarts in every list (PDQ numbers per section)."""

    entries: tuple[tuple[int, str], ...]  # (the entry's own number in this list, its source text)


Block = Heading | TextBlock | ReferenceList


@dataclass(frozen=True)
class SourceInfo:
    """What a format parser knows about the document besides its blocks."""

    path: str
    format: Literal["pdq-markdown", "plain-text", "html"]
    content_hash: str
    markdown: bool  # whether block text is inline Markdown (Markdown and HTML) or plain text
    title: str | None = None
    url: str | None = None
    audience: DocumentAudience | None = None
    updated: dt.date | None = None


@dataclass(frozen=True)
class _RawPassage:
    section_path: tuple[str, ...]
    kind: Literal["paragraph", "list_item"]
    text: str
    markers: tuple[Marker, ...]
    next_list: int  # index of the first reference list after the passage


@dataclass
class _Walk:
    """State of one pass over the blocks."""

    markdown: bool
    stack: list[tuple[int, str]] = field(default_factory=list)
    sections: dict[tuple[str, ...], Section] = field(default_factory=dict)
    passages: list[_RawPassage] = field(default_factory=list)
    lists: list[ReferenceList] = field(default_factory=list)
    title_headings: list[str] = field(default_factory=list)
    skip_below: int | None = None  # level of a boilerplate heading whose subtree is being skipped
    empty_heading: int | None = None  # level of an empty heading that waits for its title
    seen_content: bool = False

    def heading(self, level: int, title: str) -> None:
        if level == 1 and not self.seen_content and not self.stack:
            self.title_headings.append(title)  # the leading run of level-1 headings restates the title
            return
        self.seen_content = True
        if self.skip_below is not None and level > self.skip_below:
            return
        self.skip_below = level if _BOILERPLATE_SECTION.match(title) else None
        if self.skip_below is not None:
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, title))
        path = tuple(t for _, t in self.stack)
        self.sections.setdefault(path, Section(title=title, level=level, path=path))

    def text(self, block: TextBlock) -> None:
        if self.empty_heading is not None:
            level, self.empty_heading = self.empty_heading, None
            title = plain_text(block.raw, markdown=self.markdown)
            if block.kind == "paragraph" and 0 < len(title) <= MAX_HEADING_CHARS:
                self.heading(level, title)
                return
        self.seen_content = True
        if self.skip_below is not None:
            return
        if self.markdown and is_navigation(block.raw, listed=block.kind == "list_item"):
            return
        text, markers = scan(block.raw, markdown=self.markdown)
        # A list item is content however short ("Sun exposure."); a short paragraph is page furniture.
        if len(text) >= (MIN_LIST_ITEM_CHARS if block.kind == "list_item" else MIN_PASSAGE_CHARS):
            path = tuple(t for _, t in self.stack)
            self.passages.append(_RawPassage(path, block.kind, text, markers, len(self.lists)))

    def add(self, block: Block) -> None:
        if isinstance(block, Heading):
            title = plain_text(block.raw, markdown=self.markdown)
            if title:
                self.empty_heading = None
                self.heading(block.level, title)
            else:
                self.empty_heading = block.level
        elif isinstance(block, TextBlock):
            self.text(block)
        elif self.skip_below is None and block.entries:
            self.seen_content = True
            self.lists.append(block)


MAX_PASSAGE_CHARS = 50_000  # PDQ's longest paragraph is a few thousand characters


def assemble(source: SourceInfo, blocks: Iterable[Block]) -> Document:
    """The Document made of `blocks`; raises IngestError when no passage is found."""
    walk = _Walk(markdown=source.markdown)
    for block in blocks:
        walk.add(block)
    if not walk.passages:
        raise IngestError(source.path, "no passages found")
    longest = max(len(p.text) for p in walk.passages)
    if longest > MAX_PASSAGE_CHARS:
        raise IngestError(
            source.path,
            f"a single paragraph of {longest:,} characters (limit {MAX_PASSAGE_CHARS:,}): "
            "the file has no paragraph structure to cite from",
        )
    document_id = document_slug(source.url, source.path)
    references, numbering = _references(walk.lists, markdown=source.markdown)
    scopes = _list_scopes(walk.passages, len(walk.lists))
    passages = _passages(document_id, walk.passages, numbering, scopes)
    title = source.title or (walk.title_headings[0] if walk.title_headings else None)
    return Document(
        id=document_id,
        title=title or _title_from_path(source.path),
        url=source.url,
        audience=source.audience,
        updated=source.updated,
        source_path=source.path,
        format=source.format,
        content_hash=source.content_hash,
        sections=tuple(walk.sections.values()),
        passages=passages,
        references=references,
    )


def document_slug(url: str | None, path: str) -> str:
    """The document id: the url's path as a slug, else the file stem as one.

    https://www.cancer.gov/types/bone/hp/osteosarcoma-treatment-pdq
    -> types-bone-hp-osteosarcoma-treatment-pdq
    """
    if url:
        url_path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]*", "", url.strip(), flags=re.IGNORECASE)
        url_path = re.split(r"[?#]", url_path, maxsplit=1)[0]
        slug = _SLUG_DROP.sub("-", url_path.lower()).strip("-")
        if slug:
            return slug
    stem = re.sub(r"\.[^./\\]*$", "", re.split(r"[/\\]", path)[-1])
    return _SLUG_DROP.sub("-", stem.lower()).strip("-") or "document"


def parse_date(value: object) -> dt.date | None:
    """A date from YAML (already a date) or text: "2025-12-30", "December 4, 2014", "12/04/2014"."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = " ".join(str(value).split())
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    for date_format in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def updated_line(line: str) -> dt.date | None:
    """The date of a line such as "• Updated: December 4, 2014"; None for any other line."""
    match = _UPDATED_LINE.fullmatch(line)
    return parse_date(match["date"]) if match else None


def clean_title(title: object) -> str | None:
    """A page title without the site's " - NCI" suffix."""
    text = " ".join(str(title or "").split())
    return _SITE_SUFFIX.sub("", text) or None


def audience_of(url: str | None, declared: object = None) -> DocumentAudience | None:
    """From the url (".../hp/...", ".../patient"), else the declared audience; PDQ's audienceLevel is unreliable."""
    if url and _URL_HP.search(url):
        return "health_professional"
    if url and _URL_PATIENT.search(url):
        return "patient"
    label = str(declared or "").strip().lower().replace("_", " ")
    if label in ("health professional", "health professionals", "hp", "professional"):
        return "health_professional"
    if label in ("patient", "patients"):
        return "patient"
    return None


def _title_from_path(path: str) -> str:
    return document_slug(None, path).replace("-", " ").capitalize()


def _references(lists: list[ReferenceList], *, markdown: bool) -> tuple[tuple[Reference, ...], list[dict[int, int]]]:
    """Number every entry 1..N over all lists in order; per list, its own numbers to document numbers."""
    references: list[Reference] = []
    numbering: list[dict[int, int]] = []
    for ref_list in lists:
        own_to_document: dict[int, int] = {}
        for own_number, raw in ref_list.entries:
            text = _PUBMED_LABEL.sub("", plain_text(raw, markdown=markdown)).strip()
            pmid = _PMID.search(raw)
            number = len(references) + 1
            references.append(Reference(number=number, text=text, pmid=pmid and next(g for g in pmid.groups() if g)))
            own_to_document.setdefault(own_number, number)
        numbering.append(own_to_document)
    return tuple(references), numbering


def _list_scopes(passages: list[_RawPassage], list_count: int) -> dict[str, int]:
    """Which reference list each anchor scope ("section_9") names: the list after the text that cites it."""
    votes: list[Counter[str]] = [Counter() for _ in range(list_count)]
    for passage in passages:
        if passage.next_list < list_count:
            for marker in passage.markers:
                votes[passage.next_list].update(c.scope for c in marker.cited if c.scope)
    scopes: dict[str, int] = {}
    for index, counter in enumerate(votes):
        if counter:
            scopes.setdefault(counter.most_common(1)[0][0], index)
    return scopes


def _passages(
    document_id: str, raw: list[_RawPassage], numbering: list[dict[int, int]], scopes: dict[str, int]
) -> tuple[Passage, ...]:
    seen: Counter[str] = Counter()
    passages: list[Passage] = []
    for ordinal, item in enumerate(raw):
        digest = hashlib.sha1(f"{' > '.join(item.section_path)}\n{item.text}".encode()).hexdigest()[:12]
        base = f"{document_id}#{digest}"
        seen[base] += 1
        passage_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        passages.append(
            Passage(
                id=passage_id,
                document_id=document_id,
                ordinal=ordinal,
                section_path=item.section_path,
                kind=item.kind,
                text=item.text,
                citations=_citations(item, numbering, scopes),
            )
        )
    return tuple(passages)


def _citations(item: _RawPassage, numbering: list[dict[int, int]], scopes: dict[str, int]) -> tuple[Citation, ...]:
    """Map each cited number through the reference list it belongs to; numbers no list holds are dropped."""
    fallback = min(item.next_list, len(numbering) - 1)
    citations: list[Citation] = []
    for marker in item.markers:
        numbers: list[int] = []
        for cited in marker.cited:
            index = scopes.get(cited.scope, fallback) if cited.scope else fallback
            document_number = numbering[index].get(cited.number) if index >= 0 else None
            if document_number is not None and document_number not in numbers:
                numbers.append(document_number)
        if numbers or marker.level_of_evidence:
            citations.append(
                Citation(offset=marker.offset, numbers=tuple(numbers), level_of_evidence=marker.level_of_evidence)
            )
    return tuple(citations)
