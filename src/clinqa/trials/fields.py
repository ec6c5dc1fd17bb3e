"""Field readers shared by the registry formats: typed access to JSON objects, ages, phases, status, links.

Every reader raises `MalformedRecord` for a value of the wrong shape; `parse` turns it into an `IngestError`
naming the file and the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

NCT_ID = re.compile(r"^NCT\d{8}$")
AGE = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>year|month|week|day|hour|minute)s?$", re.IGNORECASE)
NO_AGE = frozenset({"", "n/a", "na", "none", "not specified", "no limit"})
YEARS_PER_UNIT = {
    "year": 1.0,
    "month": 1 / 12,
    "week": 7 / 365.25,
    "day": 1 / 365.25,
    "hour": 1 / (24 * 365.25),
    "minute": 1 / (60 * 24 * 365.25),
}
# NCI CTS writes "no upper age limit" as 999 Years.
NO_MAX_AGE_YEARS = 999.0

# Overall statuses, lower-cased with punctuation and underscores as spaces, from CT.gov v2 enums, CT.gov legacy
# XML / API v1 wording, and NCI CTRP (CTS) statuses. CTRP's "Active" means open to accrual.
OPEN_STATUSES = frozenset({"recruiting", "active"})
CLOSED_STATUSES = frozenset(
    {
        "not yet recruiting",
        "active not recruiting",
        "completed",
        "complete",
        "administratively complete",
        "terminated",
        "withdrawn",
        "suspended",
        "no longer available",
        "temporarily not available",
        "approved for marketing",
        "in review",
        "approved",
        "closed to accrual",
        "closed to accrual and intervention",
        "temporarily closed to accrual",
        "temporarily closed to accrual and intervention",
    }
)
# Deliberately neither: "enrolling by invitation" (enrolling, but not open to referral), "unknown status",
# "withheld", "available" (expanded access, not enrolment in a trial).

ROMAN_PHASES = {"0": "0", "i": "1", "ii": "2", "iii": "3", "iv": "4"}
PHASE_PART = re.compile(r"^(?P<early>early[ _]?)?(?:phase[ _]?)?(?P<number>[0-4]|i{1,3}|iv)$", re.IGNORECASE)
NO_PHASE = frozenset({"na", "n/a", "not applicable"})


class MalformedRecord(ValueError):
    """A trial record lacks a required field or holds a field of the wrong shape."""


def mapping(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The object at `key`, empty when absent."""
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRecord(f"{key!r} is {type(value).__name__}, not an object")
    return value


def mappings(record: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The list of objects at `key`, empty when absent."""
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MalformedRecord(f"{key!r} is not a list of objects")
    return value


def text(record: Mapping[str, Any], key: str) -> str | None:
    """The stripped text at `key`; None when absent or blank."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedRecord(f"{key!r} is {type(value).__name__}, not text")
    return value.strip() or None


def texts(record: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The non-blank texts of the list at `key`."""
    value = record.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedRecord(f"{key!r} is not a list of texts")
    return tuple(v.strip() for v in value if v.strip())


def nct_id(value: str | None) -> str:
    """A checked NCT identifier."""
    if value is None:
        raise MalformedRecord("no NCT identifier")
    if not NCT_ID.match(value):
        raise MalformedRecord(f"{value!r} is not an NCT identifier")
    return value


def required_title(*candidates: str | None) -> str:
    """The first non-blank title."""
    title = next((c for c in candidates if c), None)
    if title is None:
        raise MalformedRecord("no title")
    return title


def age_years(value: str | None) -> float | None:
    """Years in a registry age ('13 Years', '6 Months', '5 Days'); None for 'N/A' or absent."""
    if value is None or value.strip().lower() in NO_AGE:
        return None
    match = AGE.match(value.strip())
    if match is None:
        raise MalformedRecord(f"unreadable age {value!r}")
    return round(float(match["number"]) * YEARS_PER_UNIT[match["unit"].lower()], 4)


def status_key(status: str) -> str:
    return " ".join(re.sub(r"[^a-z]+", " ", status.lower()).split())


def recruiting(status: str | None) -> bool | None:
    """True when the status says the trial is enrolling, False when it says not, None when it does not say."""
    if status is None:
        return None
    key = status_key(status)
    if key in OPEN_STATUSES:
        return True
    if key in CLOSED_STATUSES:
        return False
    return None


def phase_label(parts: Iterable[str]) -> str | None:
    """One phase label in CT.gov's wording: 'Phase 1/Phase 2', 'Early Phase 1', 'N/A'."""
    labels = [_phase_part(p) for p in parts if p.strip()]
    labels = [label for label in labels if label]
    if not labels:
        return None
    if all(label == "N/A" for label in labels):
        return "N/A"
    return "/".join(label for label in labels if label != "N/A")


def _phase_part(part: str) -> str:
    cleaned = part.strip()
    if cleaned.lower() in NO_PHASE:
        return "N/A"
    match = PHASE_PART.match(cleaned)
    if match is None:
        return cleaned  # kept as written: the record's own wording beats a guess
    number = ROMAN_PHASES.get(match["number"].lower(), match["number"])
    return f"Early Phase {number}" if match["early"] else f"Phase {number}"


def ctgov_url(trial_id: str) -> str:
    return f"https://clinicaltrials.gov/study/{trial_id}"
