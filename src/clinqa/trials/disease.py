"""Verdicts on the disease's state: recurrence (newly diagnosed, recurrent, which recurrence) and resectability.

Requirements are read from the record's title, conditions and inclusion items; resectability also from the
exclusion items, where it counts the other way round. Each verdict quotes the record's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clinqa.types import CriterionVerdict, PatientContext, Trial, Verdict

RECURRENT = re.compile(
    r"\b(?:recurren(?:t|ce|ces)|relaps(?:ed|es?|ing)|refractory|progressive|progressed)\b", re.IGNORECASE
)
# Words before or after that make 'relapse' a risk or an outcome rather than the patient's state.
NOT_A_STATE_BEFORE = re.compile(r"(?:risk\s+of|prevent\w*|reduc\w*|delay\w*|time\s+to|free\s+of)\s+$", re.IGNORECASE)
NOT_A_STATE_AFTER = re.compile(r"^[-\s]*free\b", re.IGNORECASE)
# 'No stage IV or recurrent disease': a negation earlier in the same clause turns the mention round.
# The negation must be close: in 'With or Without Docetaxel in Treating Patients With Relapsed NSCLC' it is not.
NEGATED_BEFORE = re.compile(
    r"(?<!with or )\b(?:no|not|without|never|free\s+of)\s+(?:[^\s.;:]+\s+){0,3}$", re.IGNORECASE
)
NEWLY_DIAGNOSED = re.compile(
    r"\b(?:newly[-\s]diagnosed|previously\s+untreated)\b",  # 'chemotherapy-naive' is for the prior-therapy verdict
    re.IGNORECASE,
)
ORDINAL = r"(?:first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)"
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5,
}  # fmt: skip
RECURRENCE_NUMBER = re.compile(
    rf"\b(?P<ordinals>{ORDINAL}(?:\s*(?:,|/|or|and)\s*{ORDINAL})*)"
    r"(?P<later>\s+or\s+(?:later|greater|subsequent|more|higher))?\s+(?:recurrence|relapse)s?\b",
    re.IGNORECASE,
)
UNRESECTABLE = re.compile(
    r"\b(?:unresectable|non-?resectable|inoperable|not\s+(?:surgically\s+)?resectable"
    r"|cannot\s+be\s+(?:completely\s+|surgically\s+)?resected"
    r"|not\s+(?:be\s+)?amenable\s+to\s+(?:complete\s+|curative\s+|surgical\s+)*(?:resection|surgery))\b",
    re.IGNORECASE,
)
RESECTABLE = re.compile(
    r"\b(?:resectable|can\s+be\s+(?:completely\s+|surgically\s+)?resected"
    r"|amenable\s+to\s+(?:complete\s+|curative\s+|surgical\s+)*resection)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Mention:
    words: str  # the record's words, quoted in the reason
    where: str


def recurrence_verdict(trial: Trial, patient: PatientContext) -> CriterionVerdict | None:
    """Whether the trial is for newly diagnosed or recurrent disease, and for which recurrence."""
    texts = _requirement_texts(trial)
    recurrent = _first(texts, RECURRENT, states_only=True)
    newly = _first(texts, NEWLY_DIAGNOSED) or _first(texts, RECURRENT, states_only=True, negated=True)
    if recurrent is None and newly is None:
        return None
    state = _patient_recurrent(patient)
    if recurrent and newly:
        said = f"record mentions both newly diagnosed ({_q(newly)}) and recurrent ({_q(recurrent)}) disease"
        return _verdict("recurrence", "unknown", said, state, patient)
    if newly:
        verdict: Verdict = "unknown" if state is None else ("not_met" if state else "met")
        return _verdict("recurrence", verdict, f"record is not for recurrent disease ({_q(newly)})", state, patient)
    assert recurrent is not None
    number = _first(texts, RECURRENCE_NUMBER)
    if number is not None:
        return _numbered(number, state, patient)
    wanted: Verdict = "unknown" if state is None else ("met" if state else "not_met")
    said = f"record is for recurrent or refractory disease ({_q(recurrent)})"
    return _verdict("recurrence", wanted, said, state, patient)


def resectability_verdict(trial: Trial, patient: PatientContext) -> CriterionVerdict | None:
    """Whether the trial requires resectable or unresectable disease."""
    required: dict[bool, _Mention] = {}
    for wants_resectable, mention in _resectability_mentions(trial):
        required.setdefault(wants_resectable, mention)
    if len(required) != 1:
        return None  # silent, or 'resectable or unresectable': no requirement either way
    wants_resectable, mention = next(iter(required.items()))
    need = "resectable" if wants_resectable else "unresectable"
    said = f"record requires {need} disease ({_q(mention)})"
    if patient.resectable is None:
        return CriterionVerdict(criterion="resectability", verdict="unknown", reason=f"{said}; resectability not given")
    has = "resectable" if patient.resectable else "unresectable"
    verdict: Verdict = "met" if patient.resectable == wants_resectable else "not_met"
    return CriterionVerdict(criterion="resectability", verdict=verdict, reason=f"{said}; patient's disease is {has}")


def _resectability_mentions(trial: Trial) -> Iterable[tuple[bool, _Mention]]:
    """(whether resectable disease is wanted, the words saying so), inclusion side first."""
    for text, where in _requirement_texts(trial):
        yield from _resectability_in(text, where, inverted=False)
    for item in trial.exclusion:
        yield from _resectability_in(item, "exclusion criteria", inverted=True)


def _resectability_in(text: str, where: str, *, inverted: bool) -> Iterable[tuple[bool, _Mention]]:
    unresectable = UNRESECTABLE.search(text)
    if unresectable:
        yield inverted, _Mention(unresectable.group(), where)
    resectable = RESECTABLE.search(UNRESECTABLE.sub(" ", text))
    if resectable:
        yield not inverted, _Mention(resectable.group(), where)


def _numbered(number: _Mention, state: bool | None, patient: PatientContext) -> CriterionVerdict:
    allowed, at_least = _allowed_recurrences(number.words)
    said = f"record requires '{number.words}' ({number.where})"
    if state is False:
        return _verdict("recurrence", "not_met", said, state, patient)
    which = patient.recurrence_number
    if which is None:
        return CriterionVerdict(
            criterion="recurrence", verdict="unknown", reason=f"{said}; recurrence number not given"
        )
    fits = which in allowed or (at_least is not None and which >= at_least)
    return CriterionVerdict(
        criterion="recurrence",
        verdict="met" if fits else "not_met",
        reason=f"{said}; patient has {_ordinal(which)} recurrence",
    )


def _allowed_recurrences(words: str) -> tuple[frozenset[int], int | None]:
    match = RECURRENCE_NUMBER.search(words)
    assert match is not None
    numbers = [ORDINALS[w.lower()] for w in re.findall(ORDINAL, match["ordinals"], re.IGNORECASE)]
    at_least = max(numbers) if match["later"] else None
    return frozenset(numbers), at_least


def _verdict(
    criterion: str, verdict: Verdict, said: str, state: bool | None, patient: PatientContext
) -> CriterionVerdict:
    if state is None:
        return CriterionVerdict(criterion=criterion, verdict="unknown", reason=f"{said}; recurrence not given")
    if not state:
        has = "disease has not recurred"
    elif patient.recurrence_number:
        has = f"{_ordinal(patient.recurrence_number)} recurrence"
    else:
        has = "recurrent disease"
    return CriterionVerdict(criterion=criterion, verdict=verdict, reason=f"{said}; patient has {has}")


def _patient_recurrent(patient: PatientContext) -> bool | None:
    if patient.recurrent is not None:
        return patient.recurrent
    return True if patient.recurrence_number else None


def _requirement_texts(trial: Trial) -> list[tuple[str, str]]:
    return [
        (trial.title, "title"),
        *((c, "conditions") for c in trial.conditions),
        *((i, "inclusion criteria") for i in trial.inclusion),
    ]


def _first(
    texts: list[tuple[str, str]], pattern: re.Pattern[str], *, states_only: bool = False, negated: bool = False
) -> _Mention | None:
    """The first mention of `pattern`; with `states_only`, of the patient's state, negated or not as asked."""
    for text, where in texts:
        for match in pattern.finditer(text):
            if not states_only:
                return _Mention(match.group(), where)
            if _is_state(text, match) and _is_negated(text, match) == negated:
                return _Mention(_clause(text, match) if negated else match.group(), where)
    return None


def _is_negated(text: str, match: re.Match[str]) -> bool:
    return NEGATED_BEFORE.search(text[: match.start()]) is not None


def _clause(text: str, match: re.Match[str]) -> str:
    """The negation and what it negates: 'No stage IV or recurrent disease'."""
    negation = NEGATED_BEFORE.search(text[: match.start()])
    start = negation.start() if negation else match.start()
    return text[start : match.end()]


def _is_state(text: str, match: re.Match[str]) -> bool:
    """Whether 'relapse' here is the patient's state, not a risk ('risk of relapse') or an outcome."""
    return not (NOT_A_STATE_BEFORE.search(text[: match.start()]) or NOT_A_STATE_AFTER.match(text[match.end() :]))


def _q(mention: _Mention) -> str:
    return f"'{mention.words}', {mention.where}"


def _ordinal(number: int) -> str:
    names = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
    return names.get(number, f"{number}th")
