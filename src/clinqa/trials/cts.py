"""NCI Clinical Trials Search (CTS) records, and registry descriptions (title and summary, no eligibility),
as `Trial`s."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from clinqa.trials.fields import (
    NO_MAX_AGE_YEARS,
    MalformedRecord,
    age_years,
    ctgov_url,
    mapping,
    mappings,
    nct_id,
    phase_label,
    recruiting,
    required_title,
    text,
)
from clinqa.types import Trial

SOURCE_CTS = "nci-cts"
SOURCE_DESCRIPTION = "registry-description"

# CTS lists each concept named by the trial ("TRIAL") and its thesaurus ancestors ("TREE"); only the first count.
NAMED_BY_TRIAL = "TRIAL"
PHASE_SEPARATOR = re.compile(r"[_/]")
# Far beyond any age (CTS's "no limit" is 999): larger numbers, infinities and NaN are refused, not converted.
MAX_AGE_MAGNITUDE = 1_000_000


def trial_from_cts(record: Mapping[str, Any]) -> Trial:
    """An NCI CTS trial: structured ages, NCIt diseases, and, in full records, the criteria with their flags."""
    trial_id = nct_id(text(record, "nct_id"))
    status = text(record, "current_trial_status")
    eligibility = mapping(record, "eligibility")
    inclusion, exclusion = _criteria(mappings(eligibility, "unstructured"))
    min_age, max_age = _ages(mapping(eligibility, "structured"))
    return Trial(
        id=trial_id,
        title=required_title(text(record, "brief_title"), text(record, "official_title")),
        status=status,
        recruiting=recruiting(status),
        phase=_phase(mapping(record, "phase")),
        conditions=_named(mappings(record, "diseases"), "display_name", "preferred_name"),
        interventions=_named(
            [i for arm in mappings(record, "arms") for i in mappings(arm, "interventions")], "intervention_name"
        ),
        min_age_years=min_age,
        max_age_years=max_age,
        inclusion=inclusion,
        exclusion=exclusion,
        source=SOURCE_CTS,
        url=ctgov_url(trial_id),
    )


def trial_from_description(record: Mapping[str, Any]) -> Trial:
    """A registry description record: NCT id and title only; no status, ages or criteria."""
    trial_id = nct_id(text(record, "nct_id"))
    return Trial(
        id=trial_id,
        title=required_title(text(record, "title")),
        source=SOURCE_DESCRIPTION,
        url=ctgov_url(trial_id),
    )


def _ages(structured: Mapping[str, Any]) -> tuple[float | None, float | None]:
    minimum = _age(structured, "min_age")
    maximum = _age(structured, "max_age")
    # CTS writes "no lower limit" as 0 and "no upper limit" as 999 Years: neither is a stated criterion.
    return (minimum or None), (None if maximum is not None and maximum >= NO_MAX_AGE_YEARS else maximum)


def _age(structured: Mapping[str, Any], key: str) -> float | None:
    years = structured.get(f"{key}_in_years")
    if isinstance(years, int | float) and not isinstance(years, bool):
        if not -MAX_AGE_MAGNITUDE < years < MAX_AGE_MAGNITUDE:  # false for NaN too; a huge int never meets float()
            raise MalformedRecord(f"{key}_in_years is not an age in years (out of range)")
        return round(float(years), 4)
    if years is not None:
        raise MalformedRecord(f"{key}_in_years is {type(years).__name__}, not a number")
    return age_years(text(structured, key))


def _criteria(items: list[Mapping[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ordered = sorted(items, key=lambda item: _order(item))
    inclusion: list[str] = []
    exclusion: list[str] = []
    for item in ordered:
        description = text(item, "description")
        flag = item.get("inclusion_indicator")
        if description is None:
            continue
        if not isinstance(flag, bool):
            raise MalformedRecord("an eligibility criterion has no true/false inclusion_indicator")
        (inclusion if flag else exclusion).append(description.replace("\r\n", "\n").replace("\r", "\n"))
    return tuple(inclusion), tuple(exclusion)


def _order(item: Mapping[str, Any]) -> int:
    order = item.get("display_order")
    return order if isinstance(order, int) else 0


def _phase(phase: Mapping[str, Any]) -> str | None:
    code = text(phase, "phase")
    return phase_label(PHASE_SEPARATOR.split(code)) if code else None


def _named(concepts: list[Mapping[str, Any]], *keys: str) -> tuple[str, ...]:
    """The names of the concepts the trial itself names, each once, in record order."""
    names: dict[str, None] = {}
    for concept in concepts:
        if concept.get("inclusion_indicator") != NAMED_BY_TRIAL:
            continue
        name = next((n for n in (text(concept, k) for k in keys) if n), None)
        if name:
            names.setdefault(name, None)
    return tuple(names)
