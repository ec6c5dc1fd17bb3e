"""Read trial registry files into `Trial`s.

Formats, told apart by suffix and then by each record's shape:

- `.json`: ClinicalTrials.gov API v2 (one study, a list, or `{"studies": [...]}`), the retired API v1
  (`{"FullStudiesResponse": {"FullStudies": [{"Study": ...}]}}`), or one NCI CTS record (or a list, or the CTS
  API's `{"data": [...]}` / `{"trials": [...]}`);
- `.jsonl` / `.ndjson`: one record a line, NCI CTS or registry description (`nct_id`, `title`, summary);
- `.xml`: one legacy ClinicalTrials.gov `<clinical_study>`.

A bad record is an `IngestError` naming the file and the record; the others are kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from clinqa.errors import IngestError
from clinqa.ingest.files import read_regular_file
from clinqa.settings import settings
from clinqa.trials.ctgov import trial_from_v1, trial_from_v2, trial_from_xml
from clinqa.trials.cts import trial_from_cts, trial_from_description
from clinqa.trials.decode import Undecodable, load_json, load_xml
from clinqa.trials.fields import MalformedRecord
from clinqa.types import Trial

__all__ = ["SUPPORTED_SUFFIXES", "parse_trial_file", "parse_trial_records"]

JSON_SUFFIXES = frozenset({".json"})
LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})
XML_SUFFIXES = frozenset({".xml"})
SUPPORTED_SUFFIXES = tuple(sorted(JSON_SUFFIXES | LINES_SUFFIXES | XML_SUFFIXES))
# Keys under which a JSON file lists its records: CT.gov v2 search, NCI CTS API v2 and v1 responses.
LIST_KEYS = ("studies", "data", "trials")

# Where a record sits in the file ('line 3', 'record 2', '' for a one-record file), and the record, or the
# IngestError of a line that is not even JSON.
Located = tuple[str, Any]


def parse_trial_file(path: Path) -> list[Trial]:
    """The trials in `path`. Raises IngestError only when no record in the file could be read.

    Use `parse_trial_records` to learn which records were skipped.
    """
    trials, errors = parse_trial_records(path)
    if trials:
        return trials
    if len(errors) == 1:
        raise errors[0]
    raise IngestError(str(path), f"none of its {len(errors)} records could be read; first: {errors[0].reason}")


def parse_trial_records(path: Path) -> tuple[list[Trial], list[IngestError]]:
    """(trials read, one IngestError per record that could not be), in file order.

    Raises IngestError when the file as a whole cannot be read: missing, not a regular file, too large,
    unsupported suffix, not UTF-8, not JSON or XML at all or beyond the nesting limits, or holding no record.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        expected = ", ".join(SUPPORTED_SUFFIXES)
        raise IngestError(str(path), f"unsupported trial file type {suffix or '(none)'!r} (expected {expected})")
    raw = read_regular_file(path, settings().ingest.max_trial_file_bytes)
    trials: list[Trial] = []
    errors: list[IngestError] = []
    for where, record in _records(path, suffix, raw):
        if isinstance(record, IngestError):
            errors.append(record)
            continue
        try:
            trials.append(_trial(record))
        except MalformedRecord as error:
            reason = f"{where}: {error}" if where else str(error)
            errors.append(IngestError(str(path), reason))
    if not trials and not errors:
        raise IngestError(str(path), "holds no trial records")
    return trials, errors


def _records(path: Path, suffix: str, raw: bytes) -> Iterator[Located]:
    if suffix in XML_SUFFIXES:
        try:
            yield "", load_xml(raw)
        except Undecodable as error:
            raise IngestError(str(path), str(error)) from None
    elif suffix in LINES_SUFFIXES:
        yield from _json_lines(path, _decode(path, raw))
    else:
        yield from _json_records(path, _decode(path, raw))


def _trial(record: Any) -> Trial:
    if isinstance(record, ET.Element):
        return trial_from_xml(record)
    if not isinstance(record, dict):
        raise MalformedRecord(f"is {type(record).__name__}, not an object")
    return _mapper(record)(record)


def _mapper(record: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Trial]:
    if "protocolSection" in record:
        return trial_from_v2
    if "ProtocolSection" in record:
        return trial_from_v1
    if isinstance(record.get("Study"), dict):  # an entry of a v1 FullStudies list
        return lambda entry: trial_from_v1(entry["Study"])
    if "nct_id" in record and ({"nci_id", "eligibility", "current_trial_status"} & record.keys()):
        return trial_from_cts
    if "nct_id" in record and "title" in record:
        return trial_from_description
    raise MalformedRecord("is not a ClinicalTrials.gov, NCI CTS or registry description record")


def _json_lines(path: Path, text: str) -> Iterator[Located]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", load_json(line)
        except Undecodable as error:
            yield f"line {number}", IngestError(str(path), f"line {number}: {error}")


def _json_records(path: Path, text: str) -> Iterator[Located]:
    try:
        document = load_json(text)
    except Undecodable as error:
        raise IngestError(str(path), str(error)) from None
    records = _listed(document)
    if records is None:
        yield "", document
        return
    for number, record in enumerate(records, start=1):
        yield f"record {number}", record


def _listed(document: Any) -> list[Any] | None:
    """The records of a file that lists several; None for a file that is one record."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    response = document.get("FullStudiesResponse")
    if isinstance(response, dict):
        studies = response.get("FullStudies")
        return studies if isinstance(studies, list) else []
    for key in LIST_KEYS:
        if isinstance(document.get(key), list):
            listed: list[Any] = document[key]
            return listed
    return None


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestError(str(path), f"not UTF-8 text (byte {error.start})") from None
