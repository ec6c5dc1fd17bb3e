"""The 'prior therapy' verdict: what a record says about earlier treatment, against the patient's prior agents.

Three kinds of statement count:

- exposure exclusions: an exclusion item about earlier treatment ('Prior treatment with pembrolizumab'), or an
  inclusion item that forbids it ('No prior anthracycline');
- required treatment: an inclusion item that asks for it ('refractory to systemic therapy', 'must have received
  doxorubicin');
- lines of therapy: 'at least one prior line', 'no more than 2 prior regimens'.

Agents match as whole words, case-insensitively, by generic name or through a small table of drug classes.
A statement with a time window ('within 14 days') is unknown: the patient's timing is not known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clinqa.types import CriterionVerdict, PatientContext, Trial, Verdict

CRITERION = "prior therapy"
NEGATED_PRIOR = re.compile(
    r"\b(?:no\s+(?:prior|previous)|without\s+(?:prior|previous)"
    r"|(?:must|should|may)\s+not\s+have\s+(?:been\s+)?(?:previously\s+)?(?:received|had|been\s+treated)"
    r"|(?:has|have)\s+not\s+(?:previously\s+)?(?:received|been\s+treated)|na[iï]ve\s+to"
    r"|(?:chemotherapy|treatment|therapy)[-\s]na[iï]ve)\b",
    re.IGNORECASE,
)
PRIOR_EXPOSURE = re.compile(
    r"\b(?:prior|previous(?:ly)?|received|receiving|treated\s+with|treatment\s+with|therapy\s+with"
    r"|exposure\s+to|exposed\s+to)\b",
    re.IGNORECASE,
)
# The plain ways of excluding earlier drug treatment. Only these make the record state a prior-therapy criterion
# when none of the patient's agents is named ('Prior treatment with X', 'No prior chemotherapy'); the looser
# PRIOR_EXPOSURE words ('receiving', 'previous') also cover non-drug history ('previous myocardial infarction').
STATED_EXCLUSION = re.compile(
    r"\b(?:(?:prior|previous)\s+(?:treatment|therapy|exposure)\s+(?:with|to)"
    r"|no\s+(?:prior|previous)\s+(?:[\w-]+\s+){0,3}?(?:therap(?:y|ies)|treatments?|chemotherapy|immunotherapy|agents?"
    r"|drugs?|regimens?|inhibitors?|antibod(?:y|ies))"
    r"|(?:must|should)\s+not\s+have\s+received|(?:has|have)\s+not\s+received|previously\s+treated\s+with"
    r"|(?:chemotherapy|treatment|therapy)[-\s]na[iï]ve"
    r"|(?:prior|previous)\s+(?:chemotherapy|immunotherapy|systemic\s+therapy|anti-?cancer\s+therapy))\b",
    re.IGNORECASE,
)
REQUIRED_PRIOR = re.compile(
    r"\b(?:must\s+have\s+(?:previously\s+)?(?:received|been\s+treated)|previously\s+treated\s+with"
    r"|progress(?:ed|ion)\s+(?:on|after|following)|refractory\s+to|relapsed\s+after|resistant\s+to)\b",
    re.IGNORECASE,
)
# An item about reactions to or toxicity of earlier treatment is not about having had it.
NOT_EXPOSURE = re.compile(
    r"\b(?:toxicit(?:y|ies)|recovered|adverse\s+events?|side\s+effects?|allerg\w*|hypersensitivity|intoleran\w*)\b",
    re.IGNORECASE,
)
ALLOWED = re.compile(r"\b(?:allowed|permitted|acceptable|are\s+eligible|is\s+eligible)\b", re.IGNORECASE)
# Present-tense treatment ('receiving', 'on chemotherapy') is about now, which the patient's history does not say.
CURRENT_TREATMENT = re.compile(
    r"\b(?:currently|concurrent(?:ly)?|ongoing|receiving|on\s+(?:chemotherapy|treatment|therapy))\b", re.IGNORECASE
)
TIME_WINDOW = re.compile(
    r"\bwithin\s+(?:the\s+)?(?:last\s+|past\s+|previous\s+)?\d+\s*(?:hours?|days?|weeks?|months?|years?)\b"
    r"|\b\d+\s*(?:days?|weeks?|months?)\s+(?:period\s+)?(?:prior|before)\b"
    r"|\bat\s+least\s+\d+\s*(?:days?|weeks?|months?|years?)\s+since\b",
    re.IGNORECASE,
)
COUNT = r"(\d+|one|two|three|four|five)"  # the only capturing group of the patterns using it
LINES = r"(?:lines?|regimens?|therap(?:y|ies)|treatments?|systemic\s+(?:therapy|therapies|regimens?))"
LINES_AT_LEAST = re.compile(
    rf"\bat\s+least\s+{COUNT}\s+(?:prior\s+|previous\s+)?(?:(?:standard|systemic)\s+)?{LINES}"
    rf"|\b{COUNT}\s+or\s+more\s+(?:prior\s+|previous\s+){LINES}"
    rf"|(?:≥|>=)\s*{COUNT}\s+(?:prior\s+|previous\s+){LINES}",
    re.IGNORECASE,
)
LINES_AT_MOST = re.compile(
    rf"\b(?:no\s+more\s+than|at\s+most|up\s+to|≤|<=)\s*{COUNT}\s+(?:prior\s+|previous\s+){LINES}", re.IGNORECASE
)
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
QUOTE_MAX = 90

CYTOTOXICS = (
    "doxorubicin", "daunorubicin", "epirubicin", "idarubicin", "cisplatin", "carboplatin", "oxaliplatin",
    "methotrexate", "ifosfamide", "cyclophosphamide", "etoposide", "gemcitabine", "docetaxel", "paclitaxel",
    "vincristine", "vinorelbine", "irinotecan", "topotecan", "temozolomide", "dacarbazine", "trabectedin",
    "eribulin", "dactinomycin", "fluorouracil", "capecitabine", "pemetrexed", "cytarabine", "melphalan",
)  # fmt: skip
# Class words a record uses for agents the patient's list names generically.
AGENT_CLASSES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\banthracyclines?\b", re.I), ("doxorubicin", "daunorubicin", "epirubicin", "idarubicin")),
    (re.compile(r"\bplatinum\b", re.I), ("cisplatin", "carboplatin", "oxaliplatin")),
    (re.compile(r"\btaxanes?\b", re.I), ("paclitaxel", "docetaxel", "cabazitaxel")),
    (re.compile(r"\balkylating\s+agents?\b", re.I), ("ifosfamide", "cyclophosphamide", "dacarbazine", "temozolomide")),
    (
        re.compile(r"\b(?:(?:immune\s+)?checkpoint\s+inhibitors?|anti-?PD-?L?1|anti-?CTLA-?4)\b", re.I),
        ("pembrolizumab", "nivolumab", "atezolizumab", "durvalumab", "avelumab", "cemiplimab", "ipilimumab"),
    ),
    (
        re.compile(r"\b(?:(?:multi-?)?(?:tyrosine\s+)?kinase\s+inhibitors?|TKIs?)\b", re.I),
        ("cabozantinib", "regorafenib", "sorafenib", "pazopanib", "lenvatinib", "sunitinib", "imatinib"),
    ),
    (re.compile(r"\b(?:chemotherap(?:y|ies)|cytotoxic\s+(?:agents?|drugs?|therap(?:y|ies)))\b", re.I), CYTOTOXICS),
)


@dataclass(frozen=True)
class _Finding:
    verdict: Verdict
    reason: str


def prior_therapy_verdict(trial: Trial, patient: PatientContext) -> CriterionVerdict | None:
    """One verdict over every statement about earlier treatment; None when the record makes none."""
    exposures = _exposure_items(trial)
    required = _required_items(trial)
    findings = [
        *(f for item, where in exposures if (f := _exposure_finding(item, where, patient))),
        *(f for item in required if (f := _required_finding(item, patient))),
        *_lines_findings(trial, patient),
    ]
    if findings:
        return _combined(findings)
    stated = [(item, where) for item, where in exposures if STATED_EXCLUSION.search(item)]
    return _combined([_unnamed_exposures(stated, patient)]) if stated else None


def _exposure_items(trial: Trial) -> list[tuple[str, str]]:
    items = [(i, "exclusion criteria") for i in trial.exclusion if PRIOR_EXPOSURE.search(i)]
    items += [(i, "inclusion criteria") for i in trial.inclusion if NEGATED_PRIOR.search(i)]
    items += [(trial.title, "title")] if NEGATED_PRIOR.search(trial.title) else []
    return [(item, where) for item, where in items if not NOT_EXPOSURE.search(item)]


def _required_items(trial: Trial) -> list[str]:
    return [i for i in trial.inclusion if REQUIRED_PRIOR.search(i) and not NEGATED_PRIOR.search(i)]


def _exposure_finding(item: str, where: str, patient: PatientContext) -> _Finding | None:
    named = _named_agents(item, patient.prior_agents)
    if not named:
        return None
    said = f"record excludes {_quote(item)} ({where})"
    if TIME_WINDOW.search(item) or CURRENT_TREATMENT.search(item) or ALLOWED.search(item):
        limits = "current treatment, a time window or exceptions"
        return _Finding("unknown", f"{said}, which names {limits}; patient received {named}, timing not given")
    return _Finding("not_met", f"{said}; patient received {named}")


def _required_finding(item: str, patient: PatientContext) -> _Finding | None:
    received = _named_agents(item, patient.prior_agents)
    if received:
        return _Finding("met", f"record requires {_quote(item)}; patient received {received}")
    missing = _named_agents(item, patient.not_received)
    if missing:
        return _Finding("not_met", f"record requires {_quote(item)}; patient has not received {missing}")
    return None


def _lines_findings(trial: Trial, patient: PatientContext) -> Iterable[_Finding]:
    known, floor = _patient_lines(patient)
    for item in trial.inclusion:
        for match in LINES_AT_LEAST.finditer(item):
            yield _lines_finding(match.group(), _count(match), known, floor, at_least=True)
        for match in LINES_AT_MOST.finditer(item):
            yield _lines_finding(match.group(), _count(match), known, floor, at_least=False)


def _lines_finding(words: str, bound: int, known: int | None, floor: int, *, at_least: bool) -> _Finding:
    said = f"record requires {_quote(words)} (inclusion criteria)"
    if known is not None:
        fits = known >= bound if at_least else known <= bound
        return _Finding("met" if fits else "not_met", f"{said}; patient has had {known} lines")
    if at_least and floor >= bound:
        return _Finding("met", f"{said}; patient has had at least {floor}")
    if not at_least and floor > bound:
        return _Finding("not_met", f"{said}; patient has had at least {floor}")
    return _Finding("unknown", f"{said}; patient's number of lines not given")


def _patient_lines(patient: PatientContext) -> tuple[int | None, int]:
    """(lines of therapy when stated, the fewest the patient can have had)."""
    floor = len(patient.prior_therapies) or (1 if patient.prior_agents else 0)
    return patient.lines_of_therapy, floor


def _unnamed_exposures(exposures: list[tuple[str, str]], patient: PatientContext) -> _Finding:
    first, _ = exposures[0]
    more = f" and {len(exposures) - 1} more" if len(exposures) > 1 else ""
    said = f"record excludes some earlier treatment ({_quote(first)}{more})"
    if not (patient.prior_agents or patient.prior_therapies or patient.lines_of_therapy is not None):
        return _Finding("unknown", f"{said}; patient's prior therapy not given")
    if not patient.prior_agents:
        return _Finding("met", f"{said}; patient has had no prior agents")
    return _Finding("met", f"{said}; none names the patient's agents ({', '.join(patient.prior_agents)})")


def _named_agents(item: str, agents: Iterable[str]) -> str:
    """The agents of `agents` the item names, directly or by class, as a readable list ('' when none):
    'pembrolizumab', 'doxorubicin, cisplatin (as 'chemotherapy')'."""
    direct: list[str] = []
    by_class: dict[str, list[str]] = {}
    for agent in agents:
        if re.search(rf"\b{re.escape(agent)}\b", item, re.IGNORECASE):
            direct.append(agent)
            continue
        drug_class = next(
            (m for p, members in AGENT_CLASSES if agent.lower() in members and (m := p.search(item))), None
        )
        if drug_class:
            by_class.setdefault(drug_class.group().lower(), []).append(agent)
    classed = [f"{', '.join(members)} (as '{word}')" for word, members in by_class.items()]
    return "; ".join(filter(None, [", ".join(direct), *classed]))


def _combined(findings: list[_Finding]) -> CriterionVerdict:
    severity: tuple[Verdict, ...] = ("not_met", "unknown", "met")
    for verdict in severity:
        chosen = [f.reason for f in findings if f.verdict == verdict]
        if chosen:
            return CriterionVerdict(criterion=CRITERION, verdict=verdict, reason="; and ".join(chosen[:2]))
    raise AssertionError("findings is never empty here")


def _count(match: re.Match[str]) -> int:
    word = next(g for g in match.groups() if g)
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def _quote(item: str) -> str:
    text = " ".join(item.split())
    return f"'{text}'" if len(text) <= QUOTE_MAX else f"'{text[: QUOTE_MAX - 1].rstrip()}…'"
