"""Ingest: read guideline files (PDQ Markdown, plain text, HTML) into Documents.

`discover` lists the files to ingest; `parse_file` reads one file, refusing what is not a sane text file, and
hands it to the parser for its format. Every failure is an `IngestError` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from clinqa.errors import IngestError
from clinqa.ingest.html import parse_html
from clinqa.ingest.markdown import parse_markdown
from clinqa.ingest.plaintext import parse_plain_text
from clinqa.types import Document

__all__ = ["MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "discover", "parse_file"]

MAX_FILE_BYTES = 20 * 1024 * 1024
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
    parser = _PARSERS.get(path.suffix.lower())
    if parser is None:
        expected = ", ".join(SUPPORTED_SUFFIXES)
        raise IngestError(str(path), f"unsupported file type {path.suffix or '(none)'!r} (expected {expected})")
    raw = _read(path)
    text = _decode(path, raw)
    return parser(str(path), text, hashlib.sha256(raw).hexdigest())


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to ingest under `paths` (files, folders searched recursively, or both), sorted, each once.

    Folders contribute their supported files, hidden ones excepted; a file named directly is listed whatever
    its suffix, so that `parse_file` reports it. A path that does not exist raises IngestError before any
    file is listed.
    """
    found: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            for file in _walk(path):
                found.setdefault(file.resolve(), file)
        elif path.exists():
            found.setdefault(path.resolve(), path)
        else:
            raise IngestError(str(path), "no such file or directory")
    return iter(sorted(found.values(), key=str))


def _walk(folder: Path) -> Iterator[Path]:
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in _PARSERS:
                yield Path(root, name)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise IngestError(str(path), "not a regular file")
        if size > MAX_FILE_BYTES:
            raise IngestError(str(path), f"file is {size / 2**20:.1f} MB, larger than the 20 MB limit")
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat
    except FileNotFoundError as error:
        raise IngestError(str(path), "no such file or directory") from error
    except OSError as error:
        raise IngestError(str(path), f"cannot read the file: {error.strerror or error}") from error
    if len(raw) > MAX_FILE_BYTES:
        raise IngestError(str(path), "file is larger than the 20 MB limit")
    return raw


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
