"""ClinicalTrials.gov records as `Trial`s: API v2 JSON (`protocolSection`), the retired API v1 JSON
(`FullStudiesResponse`, PascalCase modules) and the legacy public.xsd XML (`clinical_study`)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

from clinqa.trials.criteria import split_criteria
from clinqa.trials.fields import (
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
    texts,
)
from clinqa.types import Trial

SOURCE_V2 = "clinicaltrials.gov-v2"
SOURCE_V1 = "clinicaltrials.gov-v1"
SOURCE_XML = "clinicaltrials.gov-xml"

# Intervention types that name an agent; behavioural, device, procedure and radiation arms do not.
AGENT_TYPES = frozenset({"drug", "biological", "combination product", "combination_product", "genetic"})
PLACEBO = re.compile(r"^\s*(?:matching\s+|matched\s+)?placebos?\b", re.IGNORECASE)


def trial_from_v2(study: Mapping[str, Any]) -> Trial:
    """A CT.gov API v2 study (`{"protocolSection": {...}}`)."""
    protocol = mapping(study, "protocolSection")
    identification = mapping(protocol, "identificationModule")
    status_module = mapping(protocol, "statusModule")
    eligibility = mapping(protocol, "eligibilityModule")
    trial_id = nct_id(text(identification, "nctId"))
    status = text(status_module, "overallStatus")
    inclusion, exclusion = split_criteria(text(eligibility, "eligibilityCriteria") or "", markdown=True)
    interventions = mappings(mapping(protocol, "armsInterventionsModule"), "interventions")
    return Trial(
        id=trial_id,
        title=required_title(text(identification, "briefTitle"), text(identification, "officialTitle")),
        status=status,
        recruiting=recruiting(status),
        phase=phase_label(texts(mapping(protocol, "designModule"), "phases")),
        conditions=texts(mapping(protocol, "conditionsModule"), "conditions"),
        interventions=_agents((text(i, "type"), text(i, "name")) for i in interventions),
        min_age_years=age_years(text(eligibility, "minimumAge")),
        max_age_years=age_years(text(eligibility, "maximumAge")),
        inclusion=inclusion,
        exclusion=exclusion,
        source=SOURCE_V2,
        url=ctgov_url(trial_id),
    )


def trial_from_v1(study: Mapping[str, Any]) -> Trial:
    """A study of the retired CT.gov API v1 full_studies response (`{"ProtocolSection": {...}}`)."""
    protocol = mapping(study, "ProtocolSection")
    identification = mapping(protocol, "IdentificationModule")
    eligibility = mapping(protocol, "EligibilityModule")
    trial_id = nct_id(text(identification, "NCTId"))
    status = text(mapping(protocol, "StatusModule"), "OverallStatus")
    inclusion, exclusion = split_criteria(text(eligibility, "EligibilityCriteria") or "")
    interventions = mappings(mapping(mapping(protocol, "ArmsInterventionsModule"), "InterventionList"), "Intervention")
    return Trial(
        id=trial_id,
        title=required_title(text(identification, "BriefTitle"), text(identification, "OfficialTitle")),
        status=status,
        recruiting=recruiting(status),
        phase=phase_label(texts(mapping(mapping(protocol, "DesignModule"), "PhaseList"), "Phase")),
        conditions=texts(mapping(mapping(protocol, "ConditionsModule"), "ConditionList"), "Condition"),
        interventions=_agents((text(i, "InterventionType"), text(i, "InterventionName")) for i in interventions),
        min_age_years=age_years(text(eligibility, "MinimumAge")),
        max_age_years=age_years(text(eligibility, "MaximumAge")),
        inclusion=inclusion,
        exclusion=exclusion,
        source=SOURCE_V1,
        url=ctgov_url(trial_id),
    )


def trial_from_xml(root: ET.Element) -> Trial:
    """A legacy ClinicalTrials.gov `<clinical_study>` element."""
    if root.tag != "clinical_study":
        raise MalformedRecord(f"root element is <{root.tag}>, not <clinical_study>")
    trial_id = nct_id(_xml_text(root, "id_info/nct_id"))
    status = _xml_text(root, "overall_status")
    inclusion, exclusion = split_criteria(_xml_text(root, "eligibility/criteria/textblock") or "", hard_wrapped=True)
    phases = [part for p in root.findall("phase") for part in (p.text or "").split("/")]
    interventions = (
        (_xml_text(i, "intervention_type"), _xml_text(i, "intervention_name")) for i in root.iter("intervention")
    )
    return Trial(
        id=trial_id,
        title=required_title(_xml_text(root, "brief_title"), _xml_text(root, "official_title")),
        status=status,
        recruiting=recruiting(status),
        phase=phase_label(phases),
        conditions=tuple(c.text.strip() for c in root.findall("condition") if c.text and c.text.strip()),
        interventions=_agents(interventions),
        min_age_years=age_years(_xml_text(root, "eligibility/minimum_age")),
        max_age_years=age_years(_xml_text(root, "eligibility/maximum_age")),
        inclusion=inclusion,
        exclusion=exclusion,
        source=SOURCE_XML,
        url=ctgov_url(trial_id),
    )


def _xml_text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    if found is None:
        return None
    return "".join(found.itertext()).strip() or None


def _agents(interventions: Iterable[tuple[str | None, str | None]]) -> tuple[str, ...]:
    """Names of the drug-like interventions, placebos left out, each once, in record order."""
    names: dict[str, None] = {}
    for kind, name in interventions:
        if name and kind and kind.lower() in AGENT_TYPES and not PLACEBO.match(name):
            names.setdefault(name, None)
    return tuple(names)
