"""HTML guideline pages of the PDQ shape: h1-h6 headings, p and li text, an ol of references.

Block text is rendered as inline Markdown (links kept as ``[text](href)``) so that `citations.scan` reads
cancer.gov's ``[<a href="#cit/section_1.1">1</a>]`` markers exactly as it reads the Markdown ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

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
    updated_line,
)
from clinqa.ingest.citations import plain_text
from clinqa.settings import settings
from clinqa.types import Document

_NOT_CONTENT = ["script", "style", "noscript", "template", "nav", "footer", "svg"]
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li"
_NESTED_LISTS = frozenset(("ul", "ol"))
_BREAKS = frozenset(("br", "p", "div", "td", "th", "tr"))
_MARKDOWN_SPECIAL = re.compile(r"([\\*_`<&])")
# ASCII digits, a sane count of them: str.isdigit() also passes "²" and 5,000-digit strings, which int() refuses.
_ITEM_NUMBER = re.compile(r"[0-9]{1,9}")
_PUBMED_LINK = "a[href*='list_uids='], a[href*='pubmed.ncbi.nlm.nih.gov']"
_DATE_META = (
    "meta[name='dcterms.modified']",
    "meta[property='article:modified_time']",
    "meta[name='last-modified']",
    "meta[name='date']",
)


def parse_html(path: str, text: str, content_hash: str) -> Document:
    """An HTML page; title from og:title or <title>, url from the canonical link, date from meta or text."""
    _check_container_depth(path, text)  # before parsing: the parser's own work grows with the square of the depth
    tree = LexborHTMLParser(text)
    _check_depth(path, tree)
    tree.strip_tags(_NOT_CONTENT)
    url = _attribute(tree, "link[rel='canonical']", "href") or _attribute(tree, "meta[property='og:url']", "content")
    title_node = tree.css_first("title")
    title = _attribute(tree, "meta[property='og:title']", "content") or (title_node.text() if title_node else None)
    source = SourceInfo(
        path=path,
        format="html",
        content_hash=content_hash,
        markdown=True,
        title=clean_title(title),
        url=url,
        audience=audience_of(url, _attribute(tree, "meta[name='audience']", "content")),
        updated=_meta_date(tree),
    )
    return assemble(source, html_blocks(tree))


def html_blocks(tree: LexborHTMLParser) -> Iterator[Block]:
    """Headings, paragraphs, list items and reference lists in document order."""
    root = tree.body or tree.root
    if root is None:
        return
    under_references = False
    references: list[tuple[int, str]] = []
    reference_list: int | None = None  # mem_id of the ol being read as references
    ancestry = _Ancestry(root)
    for node in root.css(_BLOCKS):
        tag = node.tag or ""
        if tag == "li" and (under_references or node.mem_id in ancestry.cite_pubmed):
            parent = node.parent
            if parent is not None and parent.mem_id != reference_list and references:
                yield ReferenceList(tuple(references))
                references = []
            reference_list = parent.mem_id if parent is not None else None
            references.append((_item_number(node, len(references)), _inline(node)))
            continue
        if references:
            yield ReferenceList(tuple(references))
            references, reference_list = [], None
        if tag.startswith("h"):
            raw = _inline(node)
            under_references = plain_text(raw).lower() == "references"
            if not under_references:
                yield Heading(int(tag[1]), raw)
        elif not ancestry.inside_list_item(node) and updated_line(node.text()) is None:
            yield TextBlock("list_item" if tag == "li" else "paragraph", _inline(node))
    if references:
        yield ReferenceList(tuple(references))


def _inline(node: LexborNode) -> str:
    """The node's text as inline Markdown, links as [text](href), nested lists left to their own items."""
    out: list[str] = []
    stack: list[LexborNode] = list(reversed(list(node.iter(include_text=True))))
    while stack:
        child = stack.pop()
        tag = child.tag
        if tag == "-text":
            out.append(_escape(child.text_content or ""))
        elif tag in _NESTED_LISTS:
            continue
        elif tag == "a" and child.attributes.get("href"):
            href = (child.attributes.get("href") or "").replace(" ", "%20").replace("(", "%28").replace(")", "%29")
            out.append(f"[{_escape(child.text())}]({href})")
        else:
            if tag in _BREAKS:
                out.append(" ")
            stack.extend(reversed(list(child.iter(include_text=True))))
    return "".join(out)


def _escape(text: str) -> str:
    """Text with the characters inline Markdown would read as markup escaped (brackets stay: "[1]" cites)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _item_number(item: LexborNode, position: int) -> int:
    parent = item.parent
    start = parent.attributes.get("start") if parent is not None else None
    value = item.attributes.get("value")
    if value and _ITEM_NUMBER.fullmatch(value):
        return int(value)
    return (int(start) if start and _ITEM_NUMBER.fullmatch(start) else 1) + position


class _Ancestry:
    """What a block's ancestors say about it, each ancestor looked at once for the whole page: walking up from
    every block instead costs the page's size times its depth (minutes for a page of nested divs)."""

    def __init__(self, root: LexborNode) -> None:
        self.in_item: dict[int, bool] = {}  # mem_id -> the node is a list item or inside one
        self.cite_pubmed: set[int] = set()  # mem_ids of the list items that hold a PubMed link
        seen: set[int] = set()
        for link in root.css(_PUBMED_LINK):
            node = link.parent
            while node is not None and node.mem_id not in seen:
                seen.add(node.mem_id)
                if node.tag == "li":
                    self.cite_pubmed.add(node.mem_id)
                node = node.parent

    def inside_list_item(self, node: LexborNode) -> bool:
        if node.tag == "li":
            return False
        walked: list[int] = []
        inside = False
        parent = node.parent
        while parent is not None:
            if parent.mem_id in self.in_item:
                inside = self.in_item[parent.mem_id]
                break
            if parent.tag == "li":
                inside = True
                break
            walked.append(parent.mem_id)
            parent = parent.parent
        self.in_item.update(dict.fromkeys(walked, inside))
        return inside


# Elements that stay open until closed (no optional end tag): their unclosed nesting is the page's depth.
_CONTAINER_TAG = re.compile(
    r"<(/?)(?:div|section|article|aside|nav|main|header|footer|span|blockquote|table|tbody|ul|ol|dl|form|"
    r"fieldset|figure|details|a|b|i|em|strong|font|small|sub|sup)(?=[\s>/])",
    re.IGNORECASE,
)


def _check_container_depth(path: str, text: str) -> None:
    """A linear scan of the markup refusing a page whose container elements open deeper than
    `ingest.max_html_depth` (20,000 unclosed divs took the parser 2 s, and four times as many sixteen times as
    long); the parsed tree is checked again afterwards for every element."""
    limit = settings().ingest.max_html_depth
    depth = 0
    for match in _CONTAINER_TAG.finditer(text):
        depth = max(0, depth - 1) if match.group(1) else depth + 1
        if depth > limit:
            raise IngestError(path, f"HTML nested more than {limit} elements deep")


def _check_depth(path: str, tree: LexborHTMLParser) -> None:
    """Refuses a page whose elements nest deeper than `ingest.max_html_depth`: no guideline needs it, and the
    work on a page grows with its depth."""
    limit = settings().ingest.max_html_depth
    pending = [(tree.root, 1)] if tree.root is not None else []
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            raise IngestError(path, f"HTML nested more than {limit} elements deep")
        child = node.child
        while child is not None:
            pending.append((child, depth + 1))
            child = child.next


def _attribute(tree: LexborHTMLParser, selector: str, name: str) -> str | None:
    node = tree.css_first(selector)
    value = node.attributes.get(name) if node is not None else None
    return value.strip() or None if value else None


def _meta_date(tree: LexborHTMLParser) -> dt.date | None:
    for selector in _DATE_META:
        value = _attribute(tree, selector, "content")
        if value and (date := parse_date(value)) is not None:
            return date
    for node in tree.css("p, li, span"):
        if (date := updated_line(node.text())) is not None:
            return date
    return None
