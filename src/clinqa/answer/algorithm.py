"""The treatment algorithm for "what next / what are the options" questions, ordered as a guideline reasons:
clinical trial first, surgery where resection is possible, then systemic options (split into not yet received and
already received by this patient), then local and palliative options, then supportive care.

Each step is filled from the sources by its own focused lexical search (the topic of the question plus the step's
words), so a step the question never mentions in words is still looked up; a step the sources say nothing about
stays empty rather than being filled with something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from clinqa.answer.compose import Candidate, rank_candidates
from clinqa.answer.scoring import jaccard, weigh_terms
from clinqa.answer.triage import QuestionKind
from clinqa.retrieve.analysis import analyze, analyze_cached
from clinqa.types import Passage, PatientContext


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    probe: str  # words added to the topic for this step's search
    cue: re.Pattern[str] | None  # a sentence must match this to belong to the step
    limit: int


STEPS = (
    Step(
        "trial",
        "Treatment algorithm: 1. Clinical trial first",
        "clinical trial enrollment eligible patients",
        # Advice to enter a trial, or a named trial; not the report of a finished study ("enrolled 37 patients").
        re.compile(
            r"\bNCT\d{8}|\b(?:enrol\w*|participat\w*|take part) in (?:a |an )?(?:clinical )?trials?|"
            r"\bclinical trials? (?:is|are|should|may|can|for|that)\b|under clinical evaluation",
            re.I,
        ),
        3,
    ),
    Step(
        "surgery",
        "Treatment algorithm: 2. Surgery where resection is possible",
        "surgery complete resection metastases survival",
        re.compile(r"\b(?:resect\w*|surg\w*|thoracotomy|thoracoscop\w*|metastasectom\w*|amputation)", re.I),
        4,
    ),
    Step("systemic", "", "chemotherapy targeted therapy agents response", None, 12),
    Step(
        "local",
        "Treatment algorithm: 4. Local and palliative options",
        "radiation therapy palliation radiopharmaceutical samarium",
        re.compile(r"\b(?:radiation|radiotherap\w*|samarium|153Sm|radiopharmaceutic\w*|palliat\w*|stereotactic)", re.I),
        3,
    ),
    Step(
        "supportive",
        "Treatment algorithm: 5. Supportive care",
        "supportive care pain management psychosocial support palliative care",
        re.compile(
            r"\b(?:supportive care|pain (?:control|management|relief)|psychosocial|hospice|palliative care)", re.I
        ),
        2,
    ),
)
NOT_YET_RECEIVED = "Treatment algorithm: 3a. Systemic options not yet received"
ALREADY_RECEIVED = "Treatment algorithm: 3b. Systemic options already received"


@dataclass(frozen=True)
class AlgorithmStep:
    title: str
    candidates: list[Candidate]


@dataclass
class TreatmentAlgorithm:
    search: Callable[[str], list[tuple[float, Passage]]]  # a lexical search returning (prior, passage)
    titles: Mapping[str, str]
    idf: Mapping[str, float]
    agents_of: Callable[[str], list[str]]  # normalised agents a text names
    authority: Callable[[str], float]
    _anchor: set[str] = field(default_factory=set)

    def steps(self, topic: str, patient: PatientContext, anchor: str) -> list[AlgorithmStep]:
        """The algorithm's steps for `topic`; every sentence must name `anchor` (the diagnosis) in itself, its
        section or its document title, so that another disease's evidence never fills a step."""
        topic_terms = analyze([topic])[0]
        self._anchor = set(analyze([anchor])[0])
        taken: list[Candidate] = []
        out: list[AlgorithmStep] = []
        for step in STEPS:
            found = self._step_candidates(step, topic, topic_terms, taken)
            if step.key == "systemic":
                out.extend(self._split_systemic(found, patient))
            elif found:
                out.append(AlgorithmStep(step.title, found[: step.limit]))
            taken.extend(found[: step.limit])
        return [s for s in out if s.candidates]

    def _step_candidates(
        self, step: Step, topic: str, topic_terms: list[str], taken: list[Candidate]
    ) -> list[Candidate]:
        probe = analyze([step.probe])[0]
        q = weigh_terms(topic_terms, probe, [], self.idf, 0.5)
        evidence = self.search(f"{topic} {step.probe}")
        ranked = rank_candidates(evidence, self.titles, q, [QuestionKind.TREATMENT], self.authority)
        chosen: list[Candidate] = []
        for c in ranked:
            text = f"{c.sentence.label or ''} {c.sentence.text}"
            if step.cue and not step.cue.search(text):
                continue
            if step.key == "systemic" and not self.agents_of(text):
                continue
            if not self._on_topic(c):
                continue
            if any(jaccard(set(c.terms), set(k.terms)) >= 0.6 for k in [*taken, *chosen]):
                continue
            chosen.append(c)
        return chosen

    def _on_topic(self, c: Candidate) -> bool:
        if not self._anchor:
            return True
        passage = c.sentence.passage
        context = analyze_cached([" ".join([self.titles.get(passage.document_id, ""), *passage.section_path])])[0]
        return self._anchor <= (set(c.terms) | set(context))

    def _split_systemic(self, found: list[Candidate], patient: PatientContext) -> list[AlgorithmStep]:
        new, received = [], []
        for c in found:
            agents = self.agents_of(f"{c.sentence.label or ''} {c.sentence.text}")
            if agents and all(a in patient.prior_agents for a in agents):
                received.append(c)
            else:
                new.append(c)
        return [AlgorithmStep(NOT_YET_RECEIVED, new[:10]), AlgorithmStep(ALREADY_RECEIVED, received[:4])]
