"""FHIR R4 resources as plain JSON: where they come from (a Bundle, NDJSON, a folder of NDJSON, a CDS Hooks
prefetch) and the few fields clinqa reads, each read defensively (a record is untrusted input).

Only the fields clinqa uses are looked at, and each is checked for its type where it is read; anything else in a
resource is ignored. The codes clinqa knows are in `clinqa/data/fhir_codes.tsv` (see `Codes`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from clinqa.data import read_table
from clinqa.errors import RecordError
from clinqa.settings import settings
from clinqa.trials.decode import Undecodable, load_json

Resource = dict[str, Any]
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


# --- where resources come from ------------------------------------------------------------------------------


def is_fhir(data: object) -> bool:
    """A JSON value that is a FHIR resource (a Bundle included) rather than a file of patient fields."""
    return isinstance(data, dict) and isinstance(data.get("resourceType"), str)


def is_record_path(path: Path) -> bool:
    """A folder of NDJSON files, or one NDJSON file: a FHIR bulk export."""
    return path.is_dir() or path.suffix.lower() == ".ndjson"


def load_resources(path: Path) -> list[Resource]:
    """The resources of a FHIR record on disk: a Bundle or resource (`.json`), NDJSON, or a folder of `.ndjson`."""
    files = sorted(path.glob("*.ndjson")) if path.is_dir() else [path]
    if not files:
        raise RecordError(str(path), "holds no .ndjson files")
    limit = settings().record.max_bytes
    try:
        size = sum(f.stat().st_size for f in files)
    except OSError as exc:
        raise RecordError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
    if size > limit:
        raise RecordError(str(path), f"{size} bytes, more than record.max_bytes ({limit})")
    resources: list[Resource] = []
    for file in files:
        text = _read_text(file)
        if is_record_path(file):
            resources.extend(_ndjson(text, str(file)))
        else:
            resources.extend(resources_of(_decode(text, str(file)), str(file)))
        _check_count(len(resources), str(path))
    if not resources:
        raise RecordError(str(path), "holds no FHIR resources")
    return resources


def resources_of(data: object, source: str) -> list[Resource]:
    """The resources in a decoded FHIR value: a Bundle's entries (each `entry.resource`), or the resource itself."""
    if not is_fhir(data):
        raise RecordError(source, "is not a FHIR resource (no resourceType)")
    assert isinstance(data, dict)
    if data["resourceType"] != "Bundle":
        return [data]
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise RecordError(source, "Bundle.entry is not a list")
    _check_count(len(entries), source)
    found = []
    for number, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not is_fhir(resource):
            raise RecordError(source, "has no resource with a resourceType", f"Bundle.entry[{number}]")
        assert isinstance(resource, dict)
        if resource["resourceType"] == "Bundle":  # a searchset inside a CDS Hooks prefetch, say
            found.extend(resources_of(resource, source))
        else:
            full_url = entry.get("fullUrl")
            found.append({**resource, "_fullUrl": full_url} if isinstance(full_url, str) else resource)
    return found


def record_resources(data: object, source: str) -> list[Resource]:
    """The resources of a record a client sent: a decoded Bundle or resource, or text holding one (JSON) or
    NDJSON (one resource a line)."""
    if not isinstance(data, str):
        return resources_of(data, source)
    limit = settings().record.max_bytes
    if len(data) > limit:
        raise RecordError(source, f"more than record.max_bytes ({limit}) bytes")
    try:
        whole = load_json(data)
    except Undecodable:
        whole = None  # not one JSON value: NDJSON, read line by line (a bad line is named)
    if is_fhir(whole):
        return resources_of(whole, source)
    resources = list(_ndjson(data, source))
    _check_count(len(resources), source)
    if not resources:
        raise RecordError(source, "holds no FHIR resources (a Bundle, a resource, or NDJSON)")
    return resources


def prefetch_resources(prefetch: dict[str, object]) -> list[Resource]:
    """The resources of a CDS Hooks prefetch: each value a resource or a (searchset) Bundle; null (what the
    client could not fetch, or found nothing for) is passed over."""
    found: list[Resource] = []
    for key, value in prefetch.items():
        if value is not None:
            found.extend(resources_of(value, f"prefetch.{key}"))
            _check_count(len(found), "prefetch")
    return found


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(str(file), f"cannot be read: {exc}") from exc


def _decode(text: str, source: str) -> Any:
    try:
        return load_json(text)
    except Undecodable as exc:
        raise RecordError(source, str(exc)) from exc


def _ndjson(text: str, source: str) -> Iterator[Resource]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        data = _decode(line, f"{source}:{number}")
        if is_fhir(data):  # a bulk export's log.ndjson holds events, not resources: they are passed over
            yield data


def _check_count(count: int, source: str) -> None:
    limit = settings().record.max_resources
    if count > limit:
        raise RecordError(source, f"more than record.max_resources ({limit}) resources")


# --- reading fields -----------------------------------------------------------------------------------------


def reference(resource: Resource, number: int) -> str:
    """How the patient shown back names a resource: `Type/id`, else its Bundle fullUrl, else its place."""
    kind = resource.get("resourceType")
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return f"{kind}/{rid}"
    full_url = resource.get("_fullUrl")
    return full_url if isinstance(full_url, str) else f"{kind} #{number + 1}"


def ids_of(resource: Resource) -> set[str]:
    """The ways another resource may point at this one: `Type/id`, `urn:uuid:…` or the fullUrl."""
    ids = set()
    rid = resource.get("id")
    if isinstance(rid, str):
        ids |= {f"{resource.get('resourceType')}/{rid}", f"urn:uuid:{rid}"}
    if isinstance(resource.get("_fullUrl"), str):
        ids.add(resource["_fullUrl"])
    return ids


def references(resource: Resource, *names: str) -> list[str]:
    """The `reference` strings of the named Reference fields (single or lists)."""
    found = []
    for name in names:
        value = resource.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("reference"), str):
                found.append(item["reference"])
    return found


def parse_date(value: object) -> dt.date | None:
    """A FHIR date or dateTime as a date; a year alone is 1 July, a month alone its 15th; None if not a date."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value.strip())
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return dt.date(int(year), int(month or 7), int(day or (15 if month else 1)))
    except ValueError:
        return None


def codings(concept: object) -> list[tuple[str, str, str]]:
    """(system URL, code, display) of each coding of a CodeableConcept; malformed codings are skipped."""
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return []
    return [
        (str(c.get("system") or ""), str(c.get("code") or ""), str(c.get("display") or ""))
        for c in concept["coding"]
        if isinstance(c, dict)
    ]


def concept_text(concept: object) -> str:
    """A CodeableConcept in words: its text, else its first display."""
    if isinstance(concept, dict) and isinstance(concept.get("text"), str) and concept["text"].strip():
        return str(concept["text"]).strip()
    return next((display for _, _, display in codings(concept) if display.strip()), "")


def concepts(resource: Resource, name: str) -> list[object]:
    """A CodeableConcept field that may hold one concept or a list of them."""
    value = resource.get(name)
    return value if isinstance(value, list) else [value] if value is not None else []


def profiles(resource: Resource) -> list[str]:
    meta = resource.get("meta")
    listed = meta.get("profile") if isinstance(meta, dict) else None
    return [p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []


# --- the codes clinqa knows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Codes:
    """`clinqa/data/fhir_codes.tsv`: for each kind, (short system, code) -> value; prefix codes kept apart."""

    systems: dict[str, str] = field(default_factory=dict)
    exact: dict[tuple[str, str, str], str] = field(default_factory=dict)
    prefixes: list[tuple[str, str, str, str]] = field(default_factory=list)
    stop_patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    def lookup(self, kind: str, concept: object) -> str | None:
        """The value of the first coding of `concept` listed under `kind`; None when none is."""
        for system, code, _ in codings(concept):
            short = self.systems.get(system.rstrip("/"), system)
            if (kind, short, code) in self.exact:
                return self.exact[(kind, short, code)]
            for k, s, prefix, value in self.prefixes:
                if k == kind and s == short and code.upper().startswith(prefix):
                    return value
        return None

    def listed(self, kind: str, concept: object) -> bool:
        return self.lookup(kind, concept) is not None

    def profile_role(self, resource: Resource) -> str | None:
        for url in profiles(resource):
            role = self.exact.get(("profile", "mcode", url.rstrip("/").rsplit("/", 1)[-1].lower()))
            if role:
                return role
        return None

    def stop_reason(self, reasons: Iterable[object]) -> str | None:
        """Why a therapy stopped, from its reason concepts: a listed code, else the words of the reason."""
        for concept in reasons:
            found = self.lookup("stop", concept)
            text = concept_text(concept)
            found = found or next((value for pattern, value in self.stop_patterns if pattern.search(text)), None)
            if found:
                return found
        return None


@cache
def codes() -> Codes:
    table = Codes()
    for row in read_table("fhir_codes.tsv", 4, required=2):
        kind, system, code, value = row.cells
        if kind == "system":
            table.systems[system.rstrip("/")] = value
        elif kind == "stop-text":
            pattern = row.pattern(2)
            if pattern is not None:
                table.stop_patterns.append((pattern, value))
        elif kind == "profile":
            table.exact[(kind, system, code.lower())] = value
        elif code.endswith("*"):
            table.prefixes.append((kind, system, code[:-1].upper(), value))
        else:
            table.exact[(kind, system, code)] = value
    return table
