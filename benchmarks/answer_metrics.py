"""Helpers of the answer-quality benchmark (`benchmarks/answers.py`): the question format, text matching, the
per-question record and its aggregation into table rows, the checks on treatment-algorithm answers, MedQuAD.

They measure answers; nothing here changes how clinqa answers.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from clinqa.answer.algorithm import offered_text
from clinqa.clinical.regimens import Normaliser
from clinqa.types import Answer, AnswerStatus, Sentence

Kind = Literal[
    "treatment",
    "what_next",
    "dose",
    "prognosis",
    "diagnosis",
    "staging",
    "risk",
    "screening",
    "prevention",
    "symptoms",
    "yes_no",
    "research",
    "unanswerable",
    "out_of_scope",
]
Split = Literal["tune", "report"]

# --- the development questions ------------------------------------------------------------------------------


class Question(BaseModel):
    """One line of `benchmarks/questions/*.jsonl` (format: `benchmarks/questions/README.md`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    cancer: str
    kind: Kind
    question: str
    documents: list[str]
    facts: list[list[str]]
    split: Split
    audience: Literal["patient"] | None = None
    refuse_elsewhere: bool = True  # False: not scored on a knowledge base without its documents

    @field_validator("question", "cancer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("facts")
    @classmethod
    def _facts_have_phrases(cls, facts: list[list[str]]) -> list[list[str]]:
        for i, fact in enumerate(facts):
            if not fact or any(not phrase.strip() for phrase in fact):
                raise ValueError(f"fact {i + 1} needs at least one non-blank phrase")
        return facts

    @model_validator(mode="after")
    def _id_names_cancer(self) -> Question:
        if not self.id.startswith(f"{self.cancer}-"):
            raise ValueError(f"id {self.id!r} should be '<cancer>-<nn>' with cancer {self.cancer!r}")
        return self


def load_questions(folder: Path) -> list[Question]:
    """Every question of `folder/*.jsonl`; bad lines stop the run, each named by file and line number."""
    questions: list[Question] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                question = Question.model_validate(json.loads(line))
            except json.JSONDecodeError as ex:
                errors.append(f"{where}: not JSON: {ex}")
                continue
            except ValidationError as ex:
                details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in ex.errors())
                errors.append(f"{where}: {details}")
                continue
            if question.id in seen:
                errors.append(f"{where}: id {question.id!r} already used at {seen[question.id]}")
            seen[question.id] = where
            questions.append(question)
    if errors:
        raise SystemExit("invalid questions:\n" + "\n".join(errors))
    return questions


def split_of(key: str) -> Split:
    """A deterministic half for a key that has no split of its own (MedQuAD ids)."""
    return "tune" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 == 0 else "report"


# --- matching -------------------------------------------------------------------------------------------------

_CITATION_LINK = re.compile(r"\[[^\[\]]*\]\((?:#cit/|/Common/PopUps/)[^)]*\)")  # [12](#cit/…), [Level …](…)
_EMPTY_BRACKETS = re.compile(r"\[[\s,;]*\]")  # what is left of [[1](#cit/…),[2](#cit/…)]
_ESCAPED_BRACKETS = re.compile(r"\\\[[^\]]*?\\\]")  # \[…\]
_NUMBERED_CITATION = re.compile(r"\[\d+(?:\s*[-–,]\s*\d+)*\]")  # [1-4] of the plain-text seed
_LINK = re.compile(r"\[([^\[\]]*)\]\([^)]*\)")  # [text](url) -> text
_EMPHASIS = re.compile(r"\*\*|__")


def strip_markup(text: str) -> str:
    """Source or answer text without citation markers, links' addresses and bold markers."""
    text = _CITATION_LINK.sub("", text)
    text = _EMPTY_BRACKETS.sub("", text)
    text = _ESCAPED_BRACKETS.sub("", text)
    text = _NUMBERED_CITATION.sub("", text)
    text = _LINK.sub(r"\1", text)
    return _EMPHASIS.sub("", text)


def norm(text: str) -> str:
    """Lower case, one space for any run of white space, markup stripped."""
    return " ".join(strip_markup(text).lower().split())


def fact_present(fact: Sequence[str], normalised_text: str) -> bool:
    return any(norm(phrase) in normalised_text for phrase in fact)


def sentence_text(sentence: Sentence) -> str:
    return f"{sentence.label or ''} {sentence.text}".strip()


def answer_text(sentences: Iterable[Sentence]) -> str:
    return norm(" ".join(sentence_text(s) for s in sentences))


def fact_label(fact: Sequence[str]) -> str:
    return " / ".join(fact)


# --- one asked question ---------------------------------------------------------------------------------------


@dataclass
class Issue:
    """An option-step sentence of a treatment-algorithm answer that a check flags."""

    check: str
    step: str
    sentence: Sentence


@dataclass
class Record:
    question: Question
    expected_answerable: bool
    answer: Answer
    ms: float
    facts_present: list[bool]
    facts_in_bottom_line: list[bool]
    bottom_line_from_page: bool
    issues: list[Issue] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.answer.status is AnswerStatus.ANSWERED

    def missing_facts(self) -> list[str]:
        return [fact_label(f) for f, ok in zip(self.question.facts, self.facts_present, strict=True) if not ok]

    def failed(self) -> bool:
        if not self.expected_answerable:
            return self.answered
        return not self.answered or not all(self.facts_present) or not self.bottom_line_from_page


def measure(question: Question, expected: bool, answer: Answer, ms: float) -> Record:
    whole = answer_text(answer.sentences())
    bottom = answer_text(answer.bottom_line)
    first = answer.bottom_line[0].source.document_id if answer.bottom_line else None
    return Record(
        question=question,
        expected_answerable=expected,
        answer=answer,
        ms=ms,
        facts_present=[fact_present(f, whole) for f in question.facts],
        facts_in_bottom_line=[fact_present(f, bottom) for f in question.facts],
        bottom_line_from_page=first in question.documents,
    )


# --- aggregation ----------------------------------------------------------------------------------------------

ROW_HEADERS = [
    "",
    "answerable",
    "answered %",
    "unanswerable",
    "refused %",
    "facts present %",
    "facts in bottom line %",
    "bottom line from the right page %",
]


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}" if whole else "–"


def row(label: str, records: Sequence[Record]) -> list[object]:
    """Facts count over every answerable question (an unanswered one states none of its facts)."""
    answerable = [r for r in records if r.expected_answerable]
    refusable = [r for r in records if not r.expected_answerable]
    facts = sum(len(r.facts_present) for r in answerable)
    return [
        label,
        len(answerable),
        pct(sum(r.answered for r in answerable), len(answerable)),
        len(refusable),
        pct(sum(not r.answered for r in refusable), len(refusable)),
        pct(sum(sum(r.facts_present) for r in answerable), facts),
        pct(sum(sum(r.facts_in_bottom_line) for r in answerable), facts),
        pct(sum(r.bottom_line_from_page for r in answerable), len(answerable)),
    ]


def grouped_rows(records: Sequence[Record], key: Callable[[Record], str], prefix: str) -> list[list[object]]:
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(key(r), []).append(r)
    return [row(f"{prefix} {name}", groups[name]) for name in sorted(groups)]


def latency(ms: Sequence[float]) -> str:
    if not ms:
        return "no questions"
    ordered = sorted(ms)
    p95 = statistics.quantiles(ordered, n=20)[18] if len(ordered) > 1 else ordered[0]
    return f"p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms over {len(ordered)} asks"


def failure_line(r: Record) -> str:
    q = r.question
    first = r.answer.bottom_line[0].source.document_id if r.answer.bottom_line else "nothing"
    if not r.expected_answerable:
        return f"- {q.id} ({q.kind}): expected refused, got {r.answer.status.value} (bottom line from {first})"
    parts = [f"- {q.id} ({q.kind}): {r.answer.status.value}"]
    missing = r.missing_facts()
    if missing and r.answered:
        parts.append(f"missing {len(missing)}/{len(q.facts)}: " + "; ".join(missing))
    if r.answered and not r.bottom_line_from_page:
        parts.append(f"bottom line from {first}")
    return ", ".join(parts)


# --- treatment-algorithm checks -------------------------------------------------------------------------------

DESIGN = "design or eligibility"
CHECKS: dict[str, re.Pattern[str]] = {
    "negative result": re.compile(
        r"\bdid not (?:improve|meet|show|demonstrate|prolong|increase|reduce|differ|respond|predict|reach|achieve)\b|"
        r"\bno (?:statistically )?(?:significant )?(?:difference|benefit|activity|improvement|advantage)\b|"
        r"\bfailed to\b|\b(?:was|were) not (?:superior|associated|significant|improved)|"
        r"\bno (?:objective )?responses? (?:was|were) (?:seen|observed)|\bno objective responses?\b|"
        r"\bnot associated with (?:an? )?(?:improved|better|longer|significant)",
        re.I,
    ),
    DESIGN: re.compile(
        r"\bwere eligible\b|\bwere randomly assigned\b|\brandomi[sz]ed to (?:receive|either)\b|\benroll?ed\b|"
        r"\binclusion criteria\b|\baged \d+(?:\.\d+)? (?:to|and) \d+ years (?:were|was|who)\b|"
        r"\ba phase (?:[IV1-4]+|[IV1-4]+/[IV1-4]+) (?:\w+ ){0,4}trial was designed\b|"
        r"\b(?:included|evaluated \w+(?: \w+)? in) \d[\d,]* (?:patients|children|adults|men|women)\b",
        re.I,
    ),
    "legend or navigation": re.compile(
        r"^\s*(?:Table|Figure)\s+\d|\b(?:Table|Figure) \d+\b|\bsee the .{0,80}? section\b|"
        r"\bfor more information\b|\brefer to the\b.{0,60}\bsummary\b|\bcan be found (?:on|at|in) the\b",
        re.I,
    ),
}
OTHER_DISEASE = "other disease"
RECEIVED_AGENT = "received agent under not yet received"
NON_OPTION_STEP = re.compile(r"already received|includes an agent|include, or follow", re.I)
NON_OPTION_TITLE = re.compile(r"^(?:Evidence|Pitfalls)\b", re.I)

# Which document titles are about the question's cancer; a cancer not listed is matched by its own name.
CANCER_TITLES: dict[str, str] = {
    "osteosarcoma": r"osteosarcoma|\bbone\b",
    "ewing": r"ewing",
    "breast": r"breast",
    "nsclc": r"non-?small[ -]cell lung|\blung",
    "sclc": r"\bsmall[ -]cell lung|\blung",
    "lung": r"lung",
    "colon": r"colon|colorectal",
    "colorectal": r"colon|rect|colorectal",
    "rectal": r"rect|colorectal",
    "prostate": r"prostate",
    "aml": r"acute myeloid|\baml\b|myeloid",
    "all": r"acute lymphoblastic|\ball\b",
    "cll": r"chronic lymphocytic",
    "cml": r"chronic myeloid",
    "hodgkin": r"hodgkin",
    "nhl": r"non-?hodgkin|lymphoma",
    "lymphoma": r"lymphoma",
    "melanoma": r"melanoma|skin",
    "ovarian": r"ovarian|fallopian|peritoneal",
    "pancreatic": r"pancrea",
    "bladder": r"bladder|urothelial",
    "kidney": r"kidney|renal",
    "renal": r"kidney|renal",
    "rcc": r"kidney|renal",
    "stomach": r"stomach|gastric",
    "gastric": r"stomach|gastric",
    "cervical": r"cervi",
    "endometrial": r"endometri|uter",
    "uterine": r"endometri|uter",
    "myeloma": r"myeloma|plasma cell",
    "neuroblastoma": r"neuroblastoma",
    "retinoblastoma": r"retinoblastoma",
    "wilms": r"wilms|kidney",
    "esophageal": r"esophag",
    "liver": r"liver|hepatocellular",
    "hcc": r"liver|hepatocellular",
    "thyroid": r"thyroid",
    "testicular": r"testicular|germ cell",
    "mesothelioma": r"mesothelioma",
    "glioma": r"glioma|astrocytoma|brain|central nervous",
    "headneck": r"head and neck|oral|lip|mouth|pharyn|laryn|salivary|sinus|nasal|neck",
    "anal": r"\banal\b|\banus\b",
    "dlbcl": r"b-cell lymphoma|large b-cell|lymphoma",
    "follicular": r"indolent|follicular|lymphoma",
    "mantle": r"mantle",
    "sts": r"soft tissue sarcoma|gastrointestinal stromal|gist\b",
    "mds": r"myelodysplastic",
    "skin": r"skin|cutaneous",
    "merkel": r"merkel",
    "medulloblastoma": r"embryonal|medulloblastoma|central nervous|brain",
}


def cancer_title_pattern(cancer: str) -> re.Pattern[str]:
    default = re.escape(cancer).replace(r"\-", "[ -]").replace("_", "[ -]")
    return re.compile(CANCER_TITLES.get(cancer.lower(), default), re.I)


ALGORITHM_STEP = re.compile(r"^(?:Treatment algorithm:\s*)?\d+[a-z]?\.\s")


def option_steps(answer: Answer) -> list[tuple[str, list[Sentence]]]:
    """The sections that offer options: the numbered algorithm steps when the answer has them, else every
    section; never one of agents already received, nor Evidence or Pitfalls."""
    sections = [s for s in answer.sections if ALGORITHM_STEP.match(s.title)] or answer.sections
    return [
        (sec.title, sec.sentences)
        for sec in sections
        if not NON_OPTION_STEP.search(sec.title) and not NON_OPTION_TITLE.match(_short_title(sec.title))
    ]


def is_algorithm(answer: Answer) -> bool:
    return any(ALGORITHM_STEP.match(s.title) for s in answer.sections)


def _short_title(title: str) -> str:
    return title.split(":", 1)[1].strip() if title.startswith("Treatment algorithm:") else title


def algorithm_issues(answer: Answer, cancer: str, titles: dict[str, str]) -> list[Issue]:
    """Option-step sentences that report a negative result, a study's design, a legend or a cross-reference,
    come from another disease's page (unless their section names the question's cancer), or offer an agent the
    patient already had as not yet received (an agent named only as the option's setting or comparator, "after
    progression on trastuzumab", is not offered)."""
    about = cancer_title_pattern(cancer) if cancer != "none" else None
    received = received_agents(answer)
    issues: list[Issue] = []
    for title, sentences in option_steps(answer):
        for s, after in zip(sentences, [*sentences[1:], None], strict=True):
            text = sentence_text(s)
            found = [name for name, cue in CHECKS.items() if cue.search(text)]
            if found == [DESIGN] and after is not None and _reports(s, after):
                found = []  # a study's design followed by what it found is a study report, not design alone
            issues += [Issue(name, title, s) for name in found]
            # Another disease's: neither the page's title nor the sentence's section names the question's cancer
            # (a mistletoe page's section on pancreatic cancer is about pancreatic cancer).
            page = titles.get(s.source.document_id, s.source.document_id)
            if about and not about.search(page) and not about.search(s.source.section):
                issues.append(Issue(OTHER_DISEASE, title, s))
            if "not yet received" in title and _agents(offered_text(text)) & received:
                issues.append(Issue(RECEIVED_AGENT, title, s))
    return issues


def _reports(design: Sentence, after: Sentence) -> bool:
    """Whether `after` is what the study `design` describes found: the next sentence of the same section of the
    same page, itself neither design nor anything else a check flags."""
    same = (after.source.document_id, after.source.section) == (design.source.document_id, design.source.section)
    return same and not any(cue.search(sentence_text(after)) for cue in CHECKS.values())


def received_agents(answer: Answer) -> set[str]:
    if answer.patient is None:
        return set()
    agents = {a for t in answer.patient.prior_therapies for a in t.agents}
    return {a.lower() for a in agents | set(answer.patient.prior_agents)}


@cache
def _normaliser() -> Normaliser:
    return Normaliser()


def _agents(text: str) -> set[str]:
    """The agents a sentence names, normalised as clinqa does (trastuzumab deruxtecan is not trastuzumab)."""
    return set(_normaliser().agents(text))


ISSUE_NAMES = [*CHECKS, OTHER_DISEASE, RECEIVED_AGENT]


# --- MedQuAD ----------------------------------------------------------------------------------------------------


class MedQuadPair(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    question: str
    qtype: str
    focus: str
    patient_page: str | None = None
    hp_page: str | None = None

    def pages(self) -> set[str]:
        """The document ids of the pair's pages (their file names under ../pdq/ without .md)."""
        return {Path(p).stem for p in (self.hp_page, self.patient_page) if p}


@dataclass
class MedQuadRecord:
    pair: MedQuadPair
    answer: Answer
    ms: float
    from_page: bool
    section_matches: bool | None  # None: no section pattern for the qtype


def load_medquad(path: Path) -> list[MedQuadPair]:
    return [MedQuadPair.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]


def load_section_patterns(path: Path) -> dict[str, re.Pattern[str]]:
    """qtype -> regex over the bottom line's section path, from a TSV with a header line."""
    patterns: dict[str, re.Pattern[str]] = {}
    for line in path.read_text().splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            qtype, regex = line.split("\t", 1)
            patterns[qtype.strip()] = re.compile(regex.strip(), re.I)
    return patterns


def spread(pairs: Sequence[MedQuadPair], limit: int) -> list[MedQuadPair]:
    """At most `limit` pairs, taken in turn from each qtype, each qtype's pairs in a fixed hashed order."""
    by_type: dict[str, list[MedQuadPair]] = {}
    for p in sorted(pairs, key=lambda p: hashlib.sha1(p.id.encode()).hexdigest()):
        by_type.setdefault(p.qtype, []).append(p)
    chosen: list[MedQuadPair] = []
    queues = [by_type[t] for t in sorted(by_type)]
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def measure_medquad(
    pair: MedQuadPair, answer: Answer, ms: float, patterns: dict[str, re.Pattern[str]]
) -> MedQuadRecord:
    first = answer.bottom_line[0] if answer.status is AnswerStatus.ANSWERED and answer.bottom_line else None
    pattern = patterns.get(pair.qtype)
    matches = None if pattern is None else bool(first and pattern.search(first.source.section))
    return MedQuadRecord(pair, answer, ms, bool(first and first.source.document_id in pair.pages()), matches)


def medquad_row(label: str, records: Sequence[MedQuadRecord]) -> list[object]:
    with_pattern = [r for r in records if r.section_matches is not None]
    return [
        label,
        len(records),
        pct(sum(r.answer.status is AnswerStatus.ANSWERED for r in records), len(records)),
        pct(sum(r.from_page for r in records), len(records)),
        pct(sum(bool(r.section_matches) for r in with_pattern), len(with_pattern)),
    ]


MEDQUAD_HEADERS = ["qtype", "pairs", "answered %", "bottom line from the pair's page %", "bottom line section %"]
