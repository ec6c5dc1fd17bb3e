"""Ingest: read guideline files (PDQ Markdown, plain text, HTML) into Documents.

`discover` lists the files to ingest (see `files.find_files` for what it refuses to follow or open);
`parse_file` reads one file, refusing what is not a sane text file, and hands it to the parser for its format.
Every failure is an `IngestError` naming the file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from clinqa.errors import IngestError
from clinqa.ingest.files import find_files, read_regular_file
from clinqa.ingest.html import parse_html
from clinqa.ingest.markdown import parse_markdown
from clinqa.ingest.plaintext import parse_plain_text
from clinqa.settings import settings
from clinqa.types import Document

__all__ = ["SUPPORTED_SUFFIXES", "discover", "find_files", "parse_file", "parse_source", "read_source"]

MAX_GARBLED_SHARE = 0.01  # more replacement or control characters than this: binary data saved as text

_GARBLED = re.compile(r"[\ufffd\x01-\x08\x0b\x0e-\x1f\x7f]")

_PARSERS: dict[str, Callable[[str, str, str], Document]] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_plain_text,
    ".html": parse_html,
    ".htm": parse_html,
}
SUPPORTED_SUFFIXES = tuple(_PARSERS)


def parse_file(path: Path) -> Document:
    """The Document in `path`, chosen by its suffix (.md, .markdown, .txt, .html, .htm)."""
    path = Path(path)
    _parser_for(path)  # an unsupported file is refused before it is read
    return parse_source(path, read_source(path))


def read_source(path: Path) -> bytes:
    """The bytes of a guideline file: a regular file within the size limit (`ingest.max_file_bytes`)."""
    return read_regular_file(Path(path), settings().ingest.max_file_bytes)


# Bumped when parsing changes what a file yields (short list items became passages in 2, list items that link to
# their section in 3): an upgraded clinqa then re-reads every file once instead of keeping what the old parser made
# of it.
PARSER_VERSION = 3


def content_hash(raw: bytes) -> str:
    """What identifies a source's content as parsed: its bytes and the parser's version."""
    return hashlib.sha256(f"clinqa-parser-{PARSER_VERSION}\n".encode() + raw).hexdigest()


def parse_source(path: Path, raw: bytes) -> Document:
    """The Document in `raw`, the bytes read from `path`; its content hash is theirs (`content_hash`)."""
    parser = _parser_for(Path(path))
    return parser(str(path), _decode(Path(path), raw), content_hash(raw))


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """The guideline files under `paths` (files, folders searched recursively, or both), sorted, each once.

    Folders contribute their supported files, hidden ones excepted; a file named directly is listed whatever
    its suffix, so that `parse_file` reports it. The first path that will not be read (missing, a folder that
    cannot be listed or holds no supported file, a link loop, a link out of the given folders, a pipe) raises
    IngestError before any file is listed; `find_files` reports them all instead.
    """
    found = find_files(paths, SUPPORTED_SUFFIXES, "guideline files")
    if found.problems:
        raise found.problems[0]
    return iter(found.files)


def _parser_for(path: Path) -> Callable[[str, str, str], Document]:
    parser = _PARSERS.get(path.suffix.lower())
    if parser is None:
        expected = ", ".join(SUPPORTED_SUFFIXES)
        raise IngestError(str(path), f"unsupported file type {path.suffix or '(none)'!r} (expected {expected})")
    return parser


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw:
        raise IngestError(str(path), "not a text file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestError(str(path), "not a text file (binary content)") from error
    if len(_GARBLED.findall(text)) > MAX_GARBLED_SHARE * len(text):
        raise IngestError(str(path), "not a text file (binary content)")
    if not text.strip():
        raise IngestError(str(path), "empty file")
    return text.replace("\r\n", "\n").replace("\r", "\n")
