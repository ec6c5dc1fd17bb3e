"""Bounded decoding of registry files: JSON with a nesting limit, XML without entities and with limits.

The standard parsers trust their input: `json.loads` recurses once per nesting level (a file of 200,000 "["
ends in RecursionError) and refuses integers of more than 4,300 digits with a bare ValueError; expat expands
the entities a document declares. Here each of those becomes `Undecodable` with a reason a person can act on,
and the limits (`ingest.max_json_depth`, `ingest.max_xml_depth`, `ingest.max_xml_elements`) are checked before
or while parsing, so nothing large is built first.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any, NoReturn
from xml.parsers import expat

import numpy as np

from clinqa.settings import settings

# A JSON string, escapes included; one left open runs to the end of the text, so every match attempt succeeds
# and the scan stays linear whatever the quoting.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_OPENING = np.frombuffer(b"[{", dtype=np.uint8)
_CHUNK = 1 << 20


class Undecodable(ValueError):
    """A registry file's text cannot be read as JSON or XML within clinqa's limits; the message says why."""


def load_json(text: str) -> Any:
    """The JSON value in `text`, refused when nested deeper than `ingest.max_json_depth` or unreadable."""
    limit = settings().ingest.max_json_depth
    depth = json_depth(text)
    if depth > limit:
        raise Undecodable(f"JSON nested {depth} levels deep, more than the {limit} a trial record needs")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise Undecodable(f"not JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    except (ValueError, RecursionError) as error:  # an integer of thousands of digits; a depth the scan missed
        raise Undecodable(f"not readable JSON ({str(error).split(';')[0]})") from None


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text`, strings not counted; linear time, little memory."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    deepest = level = 0
    for start in range(0, len(brackets), _CHUNK):
        codes = np.frombuffer(brackets, dtype=np.uint8, count=min(_CHUNK, len(brackets) - start), offset=start)
        steps = np.where(np.isin(codes, _OPENING), 1, -1).astype(np.int64)
        levels = np.cumsum(steps) + level
        deepest = max(deepest, int(levels.max()))
        level = int(levels[-1])
    return deepest


def load_xml(raw: bytes) -> ET.Element:
    """The root element of the XML in `raw`.

    Refused: entity declarations (no registry record needs one; they are how an XML file expands to gigabytes)
    and references to external entities, nesting deeper than `ingest.max_xml_depth`, more elements than
    `ingest.max_xml_elements`. The checks run in the parser's callbacks, so a refused file is never built whole.
    """
    return _BoundedTree(settings().ingest.max_xml_depth, settings().ingest.max_xml_elements).parse(raw)


class _BoundedTree:
    """An ElementTree builder fed by expat, with the limits checked as each element starts."""

    def __init__(self, max_depth: int, max_elements: int) -> None:
        self.max_depth, self.max_elements = max_depth, max_elements
        self.depth = self.elements = 0
        self.builder = ET.TreeBuilder()
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.buffer_text = True
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.builder.data
        self.parser.EntityDeclHandler = self.entity_declared
        self.parser.UnparsedEntityDeclHandler = self.entity_declared
        self.parser.ExternalEntityRefHandler = self.external_entity

    def parse(self, raw: bytes) -> ET.Element:
        try:
            self.parser.Parse(raw, True)
        except expat.ExpatError as error:
            raise Undecodable(f"not well-formed XML ({expat.ErrorString(error.code)}: line {error.lineno})") from None
        return self.builder.close()

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > self.max_depth:
            raise Undecodable(f"XML nested more than {self.max_depth} levels deep")
        if self.elements > self.max_elements:
            raise Undecodable(f"XML of more than {self.max_elements:,} elements")
        self.builder.start(_clark(tag), {_clark(k): v for k, v in attributes.items()})

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.builder.end(_clark(tag))

    def entity_declared(self, name: str, *_details: object) -> NoReturn:
        raise Undecodable(f"XML entity declaration ({name}): trial records never need one; refused")

    def external_entity(self, _context: object, _base: object, system_id: object, _public: object) -> NoReturn:
        raise Undecodable(f"XML reference to an external entity ({system_id}); refused")


def _clark(name: str) -> str:
    """expat's "namespace}local" as ElementTree's "{namespace}local"."""
    return "{" + name if "}" in name else name
