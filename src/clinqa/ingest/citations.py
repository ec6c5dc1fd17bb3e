"""Citation and level-of-evidence markers, and inline Markdown reduced to plain text.

One left-to-right scan over a passage's source text builds the clean text and records each marker at the
offset, in the clean text, right after which it stood. Every quantifier is bounded, so a scan is linear in
the length of the text even when brackets are never closed.

Formats understood:

* PDQ Markdown: ``[[14](#cit/section_9.14)]``, ``[[4](#cit/s_9.4),[6](#cit/s_9.6)]``, ranges
  ``[[1](#cit/s_9.1)-[4](#cit/s_9.4)]`` and ``[[Level of evidence C1](/Common/PopUps/...)]``;
* plain text: ``[1-4]``, ``[8,6,9-12]``, ``[29][Level of evidence: 3iiiA]``.

Markers directly adjacent (optionally separated by ``;`` or ``,``) merge into one citation; a level of
evidence attaches to the citation before it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from clinqa.types import Citation

MAX_RANGE = 200  # a range wider than this is a typo or not a citation: keep only its ends

_CITE_LINK = r"\[\d{1,4}\]\(#cit/[^()\s]{0,100}\)"
_CITE_LINK_PARTS = re.compile(r"\[(\d{1,4})\]\(#cit/([^()\s]{0,100})\)|([-–,])")
# a url may hold one balanced pair of parentheses; failing that, it ends at the first ")" (a truncated url)
_URL = r"(?:<[^<>\n]{0,2000}>|[^()\s]{0,2000}(?:\([^()\s]{0,200}\)[^()\s]{0,500})?|[^)\s]{0,2000})"
_TITLE = r"""(?:\s{1,5}(?:"[^"\n]{0,3000}"|'[^'\n]{0,3000}'))?"""
_LOE = r"[Ll]evels? of [Ee]vidence"

_MARKDOWN_TOKENS = re.compile(
    "|".join(
        [
            r"(?P<esc>\\[!-/:-@\[-`{-~])",
            rf"(?P<cites>\[{_CITE_LINK}(?:\s{{0,3}}[-–,]\s{{0,3}}{_CITE_LINK}){{0,300}}\])",
            rf"(?P<cite>{_CITE_LINK})",
            rf"(?P<loe_link>\[\[{_LOE}[^\[\]\n]{{0,120}}\]\({_URL}\)\])",
            rf"(?P<loe_text>\[{_LOE}(?:[^\[\]\n]|\[[^\[\]\n]{{0,60}}\]\({_URL}\)){{0,300}}\](?!\())",
            rf"(?P<loe_bare>\[{_LOE}[^\[\]\n]{{0,120}}\]\({_URL}\))",
            r"(?P<plain>\[\d{1,3}(?:\s{0,3}[-–,]\s{0,3}\d{1,3}){0,300}\](?!\())",
            rf"(?P<link>\[(?P<link_text>(?:[^\[\]\n]|\[[^\[\]\n]{{0,300}}\]){{0,1000}})\]\(\s{{0,5}}{_URL}{_TITLE}\s{{0,5}}\))",
            r"(?P<autolink><(?P<autolink_url>https?://[^<>\s]{1,2000})>)",
            r"(?P<tag></?[A-Za-z][A-Za-z0-9-]{0,20}(?:\s[^<>]{0,500})?/?>)",
            r"(?P<entity>&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)",
            r"(?P<emph>\*{1,3}|(?<![\w\\])_{1,3}(?=\S)|(?<=\S)_{1,3}(?!\w)|`+)",
            rf"(?P<stray>\]\({_URL}{_TITLE}\s{{0,5}}\))",  # the end of a link whose start is in another block
        ]
    )
)
_PLAIN_TOKENS = re.compile(
    rf"(?P<loe_text>\[{_LOE}[^\[\]\n]{{0,120}}\])|(?P<plain>\[\d{{1,3}}(?:\s{{0,3}}[-–,]\s{{0,3}}\d{{1,3}}){{0,300}}\])"
)
_IMAGE = re.compile(rf"\[?!\[[^\[\]\n]{{0,3000}}\]\({_URL}{_TITLE}\s{{0,5}}\)")
_SEPARATOR = re.compile(r"\s*[;,]?\s*")
_WHITESPACE = re.compile(r"\s+")
_LINK_TEXT = re.compile(rf"\[([^\[\]\n]{{0,200}})\]\(\s{{0,5}}{_URL}{_TITLE}\s{{0,5}}\)")
_LOE_QUALIFIED = re.compile(r"\((?P<qualifier>[^()]{1,60})\)\s*:?\s*(?P<code>.+)")
_ANCHOR_SCOPE = re.compile(r"(.+)\.\d+")
_LINKS_ONLY_LEFTOVER = re.compile(r"[\s|.,;:*_\-–—•()]*")
_LINK_URL = re.compile(rf"\[[^\[\]\n]{{0,200}}\]\(\s{{0,5}}(?P<url>{_URL})")
# A link into a section of a page (a treatment option pointing at its evidence) or to a term's definition.
_CONTENT_LINK = re.compile(r"#(?!cit/)\w|[?&]dictionary=|/dictionar(?:y|ies)/", re.IGNORECASE)


@dataclass(frozen=True)
class CitedNumber:
    """One cited reference number and the reference list its anchor names, if any."""

    number: int
    scope: str | None = None  # "section_9" for the anchor "#cit/section_9.14"


@dataclass(frozen=True)
class Marker:
    """A citation marker before its numbers are mapped to a document's reference list."""

    offset: int
    cited: tuple[CitedNumber, ...]
    level_of_evidence: str | None = None

    def citation(self) -> Citation:
        numbers = tuple(dict.fromkeys(c.number for c in self.cited))
        return Citation(offset=self.offset, numbers=numbers, level_of_evidence=self.level_of_evidence)


@dataclass
class _Builder:
    """Clean text under construction, whitespace collapsed as it is appended, plus its markers."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    ends_in_space: bool = False
    markers: list[Marker] = field(default_factory=list)
    open_marker: Marker | None = None

    def add(self, text: str) -> None:
        text = _WHITESPACE.sub(" ", text)
        if text.startswith(" ") and (self.ends_in_space or self.length == 0):
            text = text[1:]
        if text:
            self.parts.append(text)
            self.length += len(text)
            self.ends_in_space = text.endswith(" ")

    def offset(self) -> int:
        return self.length - 1 if self.ends_in_space else self.length

    def mark(self, cited: tuple[CitedNumber, ...], level: str | None) -> None:
        """Merge into the marker just before, unless that one already ends with a level of evidence."""
        current = self.open_marker
        if current is not None and current.level_of_evidence is None:
            merged = Marker(current.offset, current.cited + cited, current.level_of_evidence or level)
            self.markers[-1] = self.open_marker = merged
            return
        self.open_marker = Marker(self.offset(), cited, level)
        self.markers.append(self.open_marker)

    def text(self) -> str:
        return "".join(self.parts).rstrip()


def extract_citations(raw: str, *, markdown: bool = True) -> tuple[str, tuple[Citation, ...]]:
    """Clean text and its citations; numbers are as written (PDQ numbers are per section, see `scan`)."""
    text, markers = scan(raw, markdown=markdown)
    return text, tuple(m.citation() for m in markers)


def plain_text(raw: str, *, markdown: bool = True) -> str:
    """Clean text with citation markers dropped: for headings and reference entries."""
    return scan(raw, markdown=markdown)[0]


def is_navigation(raw: str, *, listed: bool = False) -> bool:
    """True for navigation text such as "[Go to Patient Version](...)" or "[patient](...) | [hp](...)". A list
    item made of links into a section or to a term's definition is content: "- [Nivolumab](#_309)" under
    "Treatment options include:" names an option and points at its evidence."""
    without_images = _IMAGE.sub("", raw)
    without_links = _LINK_TEXT.sub("", without_images)
    if without_links == without_images or _LINKS_ONLY_LEFTOVER.fullmatch(without_links) is None:
        return False
    return not (listed and any(_CONTENT_LINK.search(m["url"]) for m in _LINK_URL.finditer(without_images)))


def scan(raw: str, *, markdown: bool = True) -> tuple[str, tuple[Marker, ...]]:
    """Clean text and its markers, each cited number keeping the anchor scope it was written with."""
    if markdown:
        raw = _IMAGE.sub(" ", raw)
    tokens = _MARKDOWN_TOKENS if markdown else _PLAIN_TOKENS
    out = _Builder()
    position = 0
    pending = ""  # separators after a marker, held until it is known whether another marker follows
    for match in tokens.finditer(raw):
        gap = raw[position : match.start()]
        position = match.end()
        marker = _marker(match)
        if marker is not None:
            if out.open_marker is not None and _SEPARATOR.fullmatch(pending + gap):
                pending = ""
            else:
                out.add(pending + gap)
                pending, out.open_marker = "", None
            out.mark(*marker)
            continue
        text = gap + _replacement(match)
        if out.open_marker is not None and _SEPARATOR.fullmatch(pending + text):
            pending += text
            continue
        out.add(pending + text)
        pending, out.open_marker = "", None
    out.add(pending + raw[position:])
    return out.text(), tuple(out.markers)


def _marker(match: re.Match[str]) -> tuple[tuple[CitedNumber, ...], str | None] | None:
    kind = match.lastgroup
    if kind in ("cites", "cite"):
        return _cited_links(match.group()), None
    if kind == "plain":
        cited = _cited_plain(match.group()[1:-1])
        return (cited, None) if cited is not None else None
    if kind in ("loe_link", "loe_text", "loe_bare"):
        return (), level_of_evidence(match.group())
    return None


def _replacement(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "esc":
        return match.group()[1]
    if kind == "link":
        return plain_text(match.group("link_text"))
    if kind == "autolink":
        return match.group("autolink_url")
    if kind == "entity":
        return html.unescape(match.group())
    if kind == "tag":
        return " "
    if kind == "plain":
        return match.group()  # bracketed numbers that are not a citation, such as "[206-160]"
    return ""  # emphasis and code-span markup


def level_of_evidence(marker: str) -> str | None:
    """The code of a level-of-evidence marker: "C1", "3iiiA", "A1 and A3", "1aii (nicotinamide)"."""
    text = _LINK_TEXT.sub(r"\1", marker)
    text = _WHITESPACE.sub(" ", text).strip("[]() ")
    text = re.sub(rf"^{_LOE}", "", text).strip(" :")
    qualified = _LOE_QUALIFIED.fullmatch(text)
    if qualified:
        text = f"{qualified['code'].strip()} ({qualified['qualifier'].strip()})"
    return text or None


def _cited_links(marker: str) -> tuple[CitedNumber, ...]:
    numbers: list[CitedNumber] = []
    range_pending = False
    for part in _CITE_LINK_PARTS.finditer(marker):
        if part.group(3):
            range_pending = part.group(3) != ","
            continue
        scope_match = _ANCHOR_SCOPE.fullmatch(part.group(2))
        cited = CitedNumber(int(part.group(1)), scope_match.group(1) if scope_match else part.group(2) or None)
        if range_pending and numbers:
            numbers.extend(_range_between(numbers[-1], cited))
        numbers.append(cited)
        range_pending = False
    return tuple(numbers)


def _cited_plain(spec: str) -> tuple[CitedNumber, ...] | None:
    """The numbers of "8,6,9-12"; None when a range runs backwards, as in arithmetic ("[206-160]/90")."""
    numbers: list[CitedNumber] = []
    for item in re.split(r"\s*,\s*", spec):
        ends = [int(n) for n in re.split(r"\s*[-–]\s*", item) if n]
        if not ends:
            continue
        first = CitedNumber(ends[0])
        numbers.append(first)
        if len(ends) > 1:
            if ends[-1] < ends[0]:
                return None
            last = CitedNumber(ends[-1])
            numbers.extend(_range_between(first, last))
            numbers.append(last)
    return tuple(numbers)


def _range_between(low: CitedNumber, high: CitedNumber) -> list[CitedNumber]:
    """The numbers strictly between the ends of a range such as [1-4]."""
    if high.number - low.number > MAX_RANGE:
        return []
    return [CitedNumber(n, low.scope) for n in range(low.number + 1, high.number)]
