"""The treatment algorithm for "what next / what are the options" questions, ordered as a guideline reasons:
clinical trial first, surgery where resection is possible, then systemic options (split by what this patient
already received), then local and palliative options, then supportive care.

The steps, their search words and their cues are data (`clinqa/data/algorithm_steps.tsv`): generic for every
cancer, with additions for some diseases. Each step is filled from the sources by its own focused lexical search
(the topic of the question plus the step's words), so a step the question never mentions in words is still
looked up; a step the sources say nothing about stays empty rather than being filled with something else.
A step offers options only: a negative result, a study's design, a table legend or navigation text is never
one (`clinqa/data/answer_filters.tsv`), and a sentence from a page about another disease never fills a step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from itertools import islice

from clinqa.answer.compose import Candidate, rank_candidates
from clinqa.answer.filters import (
    lists_no_options,
    lists_options,
    not_an_option,
    offers_a_treatment,
    reports_a_result,
    says_randomised,
)
from clinqa.answer.scoring import is_guidance, jaccard, weigh_terms
from clinqa.answer.sentences import SourceSentence, split_passage
from clinqa.answer.topic import Fit, TopicFit
from clinqa.answer.triage import QuestionKind, kind_cues
from clinqa.clinical.biomarkers import conflict
from clinqa.clinical.disease import related
from clinqa.clinical.evidence import randomised
from clinqa.clinical.fitness import offers_unfit, speaks_to_unfit
from clinqa.clinical.regimens import shared_class
from clinqa.data import AnyPattern, VocabularyError, compile_any, compile_pattern, read_table
from clinqa.retrieve.analysis import analyze, analyze_cached
from clinqa.settings import settings
from clinqa.types import Passage, PatientContext

NOT_YET_RECEIVED = "Treatment algorithm: 3a. Systemic options not yet received"
INCLUDES_RECEIVED = (
    "Treatment algorithm: 3b. Regimens that include, or follow, an agent (or a drug of its class) already received"
)
ALREADY_RECEIVED = "Treatment algorithm: 3c. Systemic options already received"
STUDIES = "Evidence: studies of systemic agents not yet received"
RECEIVED_TITLES = (INCLUDES_RECEIVED, ALREADY_RECEIVED)
NOT_OPTIONS = (*RECEIVED_TITLES, STUDIES)  # steps that tell what the patient had, or what studies found
STUDIES_SHOWN = 6
# The setting or the comparator of an option, not the option: "progressed after trastuzumab", "versus docetaxel".
_NOT_THE_OPTION = re.compile(
    r"\b(?:after|following|(?:progress\w*|relaps\w*|recurr\w*|fail\w*) (?:on|after|during|following|with)|"
    r"refractory to|resistant to|intoleran\w+ (?:of|to)|(?:pre|previously )treated with|prior|previous|"
    r"previously (?:received|been treated with|given)|"
    r"compared with|compared to|versus|vs\.?|instead of|rather than|than|placebo|"
    r"(?:superior|inferior|similar|equivalent|noninferior|non-inferior) to)\s+(?:[^,;.()]|\.(?=\d)){1,60}",
    re.I,
)
# Who an option is for, in parentheses: "(for patients previously treated with sunitinib, pazopanib, or axitinib)".
_POPULATION_NOTE = re.compile(r"\((?:for|in) (?:patients|those|people|children|adults|women|men)\b[^)]*\)", re.I)


@lru_cache(maxsize=65536)
def offered_text(text: str) -> str:
    """`text` less what names an option's setting, comparator or population rather than the option (remembered:
    each step weighs many of the same sentences)."""
    return _NOT_THE_OPTION.sub(" ", _POPULATION_NOTE.sub(" ", text))


def setting_text(text: str) -> str:
    """What `offered_text` leaves out: the option's setting, comparator and population ("recurred after therapy
    that included standard-dose ifosfamide")."""
    return " ".join(m.group() for pattern in (_POPULATION_NOTE, _NOT_THE_OPTION) for m in pattern.finditer(text))


# Sections listing trials open now, where a trial's design is what the trial step offers.
_ONGOING = re.compile(r"clinical trials|under (?:clinical )?evaluation|ongoing|investigational", re.I)
# A finished trial reported in the past tense is evidence, not a trial to enter.
_REPORTED = re.compile(
    r"\b(?:enrolled|included|evaluated|investigated|compared|randomly assigned|randomized|examined|assessed|"
    r"reported|showed|found|demonstrated|conducted|completed|accrued|closed|was halted)\b",
    re.I,
)
RESULT_REACH = 8  # sentences read past a study's design for a result that offers its agent
_FIGURE = re.compile(r"\d")
NEW_OPTIONS = 2  # systemic options not yet received that a "what next" bottom line names
LATER_SECTION, FIRST_SECTION = 1.2, 0.5  # setting weights for a patient past first treatment
OTHER_SETTING = 0.7  # weight of a section about the other setting than the one a question names
STEP_KEYS = ("trial", "surgery", "systemic", "local", "supportive")
SETTINGS = (
    "later",
    "first",
    "phase",
    "resectable",
    "unresectable",
    "adjuvant",
    "neoadjuvant",
    "early",
    "advanced",
    "untreated",
)
# Settings that exclude each other besides the line of treatment: a question naming one and not the other is not
# answered by a section whose most specific heading names the other (preoperative therapy for an adjuvant
# question, metastatic disease for early disease).
OPPOSED = (("adjuvant", "neoadjuvant"), ("early", "advanced"))


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    probe: str  # words added to the topic for this step's search
    cue: AnyPattern | None  # a sentence must match this to belong to the step
    limit: int


@dataclass(frozen=True)
class _StepRow:
    key: str
    disease: str
    title: str
    probe: str
    cue: str
    limit: int


@cache
def _step_rows() -> tuple[_StepRow, ...]:
    rows = []
    for row in read_table("algorithm_steps.tsv", 6, 2):
        key, disease, title, probe, cue, limit = row.cells
        if key not in STEP_KEYS:
            raise VocabularyError(f"{row.where()}: unknown step {key!r} (one of {', '.join(STEP_KEYS)})")
        if cue:
            compile_pattern(cue, row.where())
        if disease == "*" and not limit.isdigit():
            raise VocabularyError(f"{row.where()}: a generic step needs a limit")
        rows.append(_StepRow(key, disease, title, probe, cue, int(limit or 0)))
    return tuple(rows)


@cache
def steps_for(disease: str | None) -> tuple[Step, ...]:
    """The algorithm's steps, with the additions for `disease` (and the categories it belongs to)."""
    rows = _step_rows()
    out = []
    for base in (r for r in rows if r.disease == "*"):
        extra = [r for r in rows if r.key == base.key and r.disease != "*" and disease and related(disease, r.disease)]
        probe = " ".join([base.probe, *(r.probe for r in extra)])
        # Additions widen a step's cue; a step open to any sentence (systemic: any that names an agent) stays open.
        cues = [c for c in (base.cue, *(r.cue for r in extra)) if c] if base.cue else []
        cue = compile_any(cues, f"algorithm_steps.tsv:{base.key}") if cues else None
        out.append(Step(base.key, base.title, probe, cue, base.limit))
    return tuple(out)


def _item_by_item(ranked: list[Candidate]) -> list[Candidate]:
    """A list read as one unit ("the options studied include: ...") offers its items one by one: each is judged
    on its own (a negative item is left out, not the whole list); the lead-in itself offers nothing."""
    out: list[Candidate] = []
    for c in ranked:
        if not c.items:
            out.append(c)
            continue
        for item in c.items:
            terms = frozenset(analyze_cached([item.labelled])[0])
            out.append(Candidate(item, terms, c.coverage, c.score))
    return out


def first_finding(
    sentences: Iterable[SourceSentence], reports: Callable[[str], bool] = offers_a_treatment
) -> SourceSentence | None:
    """The first of `sentences` (what follows a study's design, or an option's evidence section), within
    `RESULT_REACH`, that `reports` (a benefit) with a figure; None when a negative result comes first or none
    does."""
    for s in islice(sentences, RESULT_REACH):
        kind = not_an_option(s.text)
        if kind == "negative":
            return None  # what the study found first is that it did not work
        if kind is None and reports(s.text) and _FIGURE.search(s.text):
            return s
    return None


def option_agents(c: Candidate, agents_of: Callable[[str], list[str]]) -> set[str]:
    """The agents a sentence offers: those it names, less those named as its setting or comparator."""
    text = c.said(labelled=True)  # a study's design with what it found
    offered = set(agents_of(offered_text(text)))
    if not offered and c.sentence.label:
        return set(agents_of(c.sentence.label))
    return offered


def is_an_offer(c: Candidate) -> bool:
    """A systemic option: a short item of a list (the options a source lists: "Belzutifan."), a sentence that
    advises a treatment or reports a benefit, or an item under an agent's name that reports what it achieved; not
    one that only names an agent (its mechanism, toxicity, or how a study of it was run), even under the agent's
    label ("TK216: an agent thought to interfere with ...")."""
    s = c.sentence
    listed = s.passage.kind == "list_item" and not s.label and len(s.text.split()) <= settings().answer.short_item_words
    # A list item under its agent's name that reports what the agent achieved ("Trastuzumab deruxtecan. ... gave a
    # 12-month PFS of 75.8%") offers that agent.
    reported = bool(s.label) and not_an_option(s.text) is None and reports_a_result(s.text)
    return listed or reported or offers_a_treatment(s.text)


def not_offered(c: Candidate, step: str) -> bool:
    """A labelled list item ("**Denosumab.** A phase II study ...") offers its agent: it is not an option when
    anything in the item reports a negative result; another sentence is judged by itself."""
    passage = c.sentence.passage
    if passage.kind == "list_item" and c.sentence.label and not_an_option(passage.text) == "negative":
        return True
    text = c.said()
    if step == "trial" and _REPORTED.search(text):
        return True  # a finished trial's report is evidence, not a trial to enter
    ongoing = step == "trial" and bool(_ONGOING.search(" ".join(passage.section_path)))
    return not_an_option(text, trial=ongoing) is not None


@cache
def _setting_sections() -> dict[str, re.Pattern[str]]:
    patterns = {}
    for row in read_table("treatment_settings.tsv", 2, 2):
        setting, pattern = row.cells
        if setting not in SETTINGS:
            raise VocabularyError(f"{row.where()}: unknown setting {setting!r} (one of {', '.join(SETTINGS)})")
        patterns[setting] = compile_pattern(pattern, row.where())
    return patterns


def section_setting(passage: Passage) -> str | None:
    """The treatment setting ("later" or "first") of the passage's most specific heading that names only one:
    "Stage IV and Recurrent RCC > First-Line Therapy" is first-line treatment, whatever its parent says. A phase
    of first treatment ("Consolidation phase") is first treatment when no heading names a setting."""
    later = _deepest_says(passage.section_path, "later", "first")
    if later is not None:
        return "later" if later else "first"
    return "first" if _setting_sections()["phase"].search(" ".join(passage.section_path)) else None


def for_resected_disease(passage: Passage) -> bool:
    """Whether the passage's most specific heading that says so is about resectable or resected disease
    (surgery, adjuvant or perioperative therapy): no option for a patient whose disease cannot be resected."""
    return _deepest_says(passage.section_path, "resectable", "unresectable") is True


@lru_cache(maxsize=65536)
def _deepest_says(path: tuple[str, ...], yes: str, no: str) -> bool | None:
    """Whether the most specific heading of `path` that names only one of two settings names `yes` (True) or
    `no` (False); None when no heading does. Remembered per path: candidates of one section recur."""
    sections = _setting_sections()
    for heading in reversed(path):
        said_yes, said_no = bool(sections[yes].search(heading)), bool(sections[no].search(heading))
        if said_yes != said_no:
            return said_yes
    return None


def setting_weight(passage: Passage, later_line: bool) -> float:
    """For a patient past first treatment, sections about recurrent or previously treated disease first, and
    sections about first treatment (adjuvant, resectable, first-line) well below."""
    if not later_line:
        return 1.0
    setting = section_setting(passage)
    return LATER_SECTION if setting == "later" else FIRST_SECTION if setting == "first" else 1.0


@lru_cache(maxsize=65536)
def question_setting(question: str) -> str | None:
    """The treatment setting a question names ("second-line", "relapsed" -> later; "adjuvant", "newly
    diagnosed" -> first), by the same patterns as the sections; None when it names neither or both."""
    sections = _setting_sections()
    later, first = bool(sections["later"].search(question)), bool(sections["first"].search(question))
    return "later" if later and not first else "first" if first and not later else None


def named_settings(question: str) -> frozenset[str]:
    """The settings of `OPPOSED` that a question names ("adjuvant", "early"...), by the sections' patterns."""
    sections = _setting_sections()
    return frozenset(name for pair in OPPOSED for name in pair if sections[name].search(question))


def section_setting_weight(passage: Passage, setting: str | None, named: frozenset[str] = frozenset()) -> float:
    """A section about the other setting than the question's ranks lower: a second-line list for a first-line
    question, adjuvant therapy for a relapse, preoperative therapy for an adjuvant question, metastatic disease
    for early disease."""
    found = section_setting(passage) if setting is not None else None
    if found is not None and found != setting:
        return OTHER_SETTING
    for a, b in OPPOSED:
        for asked, other in ((a, b), (b, a)):
            if asked in named and other not in named and _deepest_says(passage.section_path, other, asked):
                return OTHER_SETTING
    return 1.0


@dataclass(frozen=True)
class Line:
    """Where a patient stands in treatment, read once per question: past the first line, still in it (said so,
    in remission, no progression), unresectable. Which sections' options fit such a patient."""

    later: bool = False
    first: bool = False
    unresectable: bool = False

    @classmethod
    def of(cls, question: str, context: PatientContext) -> Line:
        """The setting the question names ("second-line", "relapsed"; "adjuvant", "first-line") decides; else the
        patient: a recurrence or two lines behind them is past the first line; therapy behind a patient said to be
        in first remission or free of progression (induction before consolidation) is still the first line;
        therapy behind a patient whose course is not told is taken as failed."""
        setting = question_setting(question)
        if setting is not None:
            later, first = setting == "later", setting == "first"
        elif context.recurrent is not None:
            later = context.recurrent or (context.lines_of_therapy or 0) >= 2
            first = not later
        else:
            later, first = bool(context.prior_therapies or context.lines_of_therapy), False
        return cls(later, first, context.resectable is False)

    def admits(self, passage: Passage) -> bool:
        """Whether the passage's section offers this patient anything: not first treatment after it, not
        treatment after progression before it, not surgery or adjuvant therapy for unresectable disease."""
        if not self._fits(section_setting(passage)):
            return False
        return not (self.unresectable and for_resected_disease(passage))

    def admits_sentence(self, text: str) -> bool:
        """Whether what a sentence offers is for this patient's line, by the setting the sentence itself names
        once who it is for is set aside: "FOLFIRINOX is standard first-line therapy" offers nothing after
        progression on first-line gemcitabine; "after progression on gemcitabine" names the population, not the
        option."""
        if self.later and _setting_sections()["untreated"].search(text):
            return False  # what it offers is for patients not yet treated ("who have not received prior therapy")
        return self._fits(question_setting(offered_text(text)))

    def _fits(self, setting: str | None) -> bool:
        return not ((self.later and setting == "first") or (self.first and setting == "later"))


def fit_for_patient(ranked: list[Candidate], unfit: list[str]) -> list[Candidate]:
    """For a patient who cannot have a treatment ("not a transplant candidate"), a sentence written for such
    patients ("for older patients or patients with comorbidities that preclude SCT") weighs what a section on the
    patient's line weighs, and one that offers that treatment to fit patients weighs what a section on another
    line weighs; best first again."""
    if not unfit:
        return ranked

    def share(c: Candidate) -> float:
        text = c.sentence.labelled
        return FIRST_SECTION if offers_unfit(text, unfit) else LATER_SECTION if speaks_to_unfit(text) else 1.0

    return sorted((replace(c, score=c.score * share(c)) for c in ranked), key=lambda c: -c.score)


@dataclass(frozen=True)
class AlgorithmStep:
    title: str
    candidates: list[Candidate]


@dataclass
class TreatmentAlgorithm:
    search: Callable[[str], list[tuple[float, Passage]]]  # a lexical search returning (prior, passage)
    titles: Mapping[str, str]
    weights: Mapping[str, float]  # term -> weight (specificity)
    agents_of: Callable[[str], list[str]]  # normalised agents a text names
    authority: Callable[[str], float]
    fit: TopicFit
    line: Line = Line()  # where the patient stands in treatment
    # The sentences that follow one in its section, in order (where what a study found is read after its design).
    sentences_after: Callable[[SourceSentence], Iterable[SourceSentence]] = lambda _s: ()
    # The sentences of the section that gives the evidence for a listed option ("Nivolumab." -> its section).
    option_evidence: Callable[[SourceSentence], Iterable[SourceSentence]] = lambda _s: ()
    # The passage that introduces a list item's list ("Risk factors include:"); None when there is none.
    lead_in_of: Callable[[Passage], Passage | None] = lambda _item: None

    def steps(self, topic: str, patient: PatientContext) -> list[AlgorithmStep]:
        """The algorithm's steps for `topic` (the diagnosis and setting, as search words), in the algorithm's
        order; the systemic step chooses last, so a radiopharmaceutical goes to local options, not systemic."""
        topic_terms = analyze([topic])[0]
        taken: list[Candidate] = []
        studies: list[Candidate] = []
        found: dict[str, list[AlgorithmStep]] = {}
        steps = steps_for(self.fit.topic.disease)
        for step in sorted(steps, key=lambda s: s.key == "systemic"):
            if step.key == "surgery" and self.line.unresectable:
                found[step.key] = []  # resection is not possible for this patient
                continue
            chosen = self._step_candidates(step, topic, topic_terms, taken, studies, patient)
            if step.key == "systemic":
                found[step.key] = self._split_systemic(chosen, patient)
                prior = set(patient.prior_agents)
                new = [c for c in studies if set(self.agents_of(c.sentence.labelled)) - prior]
                found[step.key].append(AlgorithmStep(STUDIES, new[:STUDIES_SHOWN]))
                taken.extend(c for s in found[step.key] for c in s.candidates)
            else:
                found[step.key] = [AlgorithmStep(step.title, chosen[: step.limit])]
                taken.extend(chosen[: step.limit])
        ordered = [s for step in steps for s in found[step.key] if s.candidates]
        return sorted(ordered, key=lambda s: s.title == STUDIES)  # the studies after every step

    def _step_candidates(
        self,
        step: Step,
        topic: str,
        topic_terms: list[str],
        taken: list[Candidate],
        studies: list[Candidate],
        patient: PatientContext,
    ) -> list[Candidate]:
        probe = analyze_cached([step.probe])[0]
        q = weigh_terms(topic_terms, probe, [], self.weights, 0.5)
        evidence = self.search(f"{topic} {step.probe}")
        later = self.line.later

        def weight(passage: Passage) -> float:
            return self.fit.weight(passage) * setting_weight(passage, later)

        ranked = rank_candidates(
            evidence, self.titles, q, [QuestionKind.TREATMENT], self.authority, weight, wanted=self._may_fill(step)
        )
        ranked = fit_for_patient(ranked, patient.unfit_for)
        chosen: list[Candidate] = []
        for c in _item_by_item(ranked):
            text = c.sentence.labelled
            if step.cue and not step.cue.search(text):
                continue
            if step.key == "systemic" and not self.agents_of(text):
                continue
            if not self._on_topic(c, page_only=step.key in ("systemic", "trial")) or self.fit.names_only_another(text):
                continue  # another disease, by its page or section or by the sentence itself
            if self._no_option_here(c, step.key):
                continue  # a prevention page's hormone therapy, an item of a list of risk factors
            if not self.line.admits(c.sentence.passage):
                continue  # another line of treatment, or resection for disease that cannot be resected
            if not self.line.admits_sentence(text) or for_other_marker_status(c, patient.biomarkers):
                continue  # an option the sentence itself places in another line, or for another marker status
            if any(jaccard(set(c.terms), set(k.terms)) >= 0.6 for k in [*taken, *chosen, *studies]):
                continue
            shown = {x for k in [*taken, *chosen] for x in (k.sentence, *k.items)}
            if c.sentence in shown:
                continue  # already shown as what a study found
            reported = self._with_finding(c) if step.key == "systemic" else None
            if reported is not None and reported.items[0] not in shown:
                chosen.append(reported)  # a study of the agent with what it found: the finding offers it
                continue
            if not_offered(c, step.key) or (step.key == "systemic" and not is_an_offer(c)):
                if step.key == "systemic" and not_an_option(c.sentence.text) in (None, "negative", "design"):
                    studies.append(c)  # what a study of the agent found or how it was run: evidence, not an option
                continue
            chosen.append(c)
        return chosen

    def _may_fill(self, step: Step) -> Callable[[str], bool] | None:
        """What a text needs to fill `step` (its cue; for systemic options, an agent's name), checked before any
        candidate is scored; a list whose lead-in and items together have neither has no item that does."""
        if step.cue is not None:
            return step.cue.search
        if step.key == "systemic":
            return lambda text: bool(self.agents_of(text))
        return None

    def _with_finding(self, c: Candidate) -> Candidate | None:
        """An option carrying what its study found: a sentence that says how a study of an agent was run, with the
        first sentence of its section that reports a benefit with a figure; a listed option named in a few words
        ("Nivolumab."), with the first such sentence of the section its page gives its evidence in. None when a
        negative result comes first or none reports one."""
        if c.items or not self.agents_of(c.sentence.labelled):
            return None
        found = None
        if c.sentence.passage.kind == "list_item" and c.sentence.position == 0:
            # The section the sources give a listed option's evidence in reports its result ("The median OS was
            # 10.2 months in the nivolumab group"); the option itself is what the list offers.
            found = first_finding(self.option_evidence(c.sentence), reports_a_result)
        if found is None and not_an_option(c.sentence.text) == "design":
            found = first_finding(self.sentences_after(c.sentence))
        return replace(c, items=(found,)) if found is not None else None

    def _on_topic(self, c: Candidate, page_only: bool = False) -> bool:
        """With a disease asked about, only its own pages and sections fill a step; the systemic and trial steps
        only its own pages (a genetics or complementary-medicine page's section on it is no treatment summary);
        and not a page for the other population when one for the patient's is at hand."""
        if self.fit.topic.disease is None:
            return True
        if self.fit.for_other_population(c.sentence.passage.document_id):
            return False
        if page_only:
            return self.fit.page(c.sentence.passage.document_id) is Fit.ON_TOPIC
        return self.fit.passage(c.sentence.passage) is Fit.ON_TOPIC

    def _no_option_here(self, c: Candidate, step: str) -> bool:
        """Whether the candidate stands where no option of `step` does: on a page or in a section on prevention
        or screening (for the systemic and trial steps), or in a list of what is no option; or, outside the
        systemic step, whether it only names an option ("Surgery to remove the tumor."), the step's own sentences
        saying more."""
        passage = c.sentence.passage
        if step in ("systemic", "trial") and self._about_prevention(passage):
            return True
        return self._listed_as_no_option(passage) or (step != "systemic" and self._names_an_option_only(c))

    def _names_an_option_only(self, c: Candidate) -> bool:
        """An item of a section's list of options that only names one, in one sentence citing nothing (its
        evidence stands in a section of its own)."""
        passage = c.sentence.passage
        if passage.kind != "list_item" or c.sentence.citation_numbers or len(split_passage(passage)) > 1:
            return False
        lead_in = self.lead_in_of(passage)
        return lead_in is not None and lists_options(lead_in.text)

    def _listed_as_no_option(self, passage: Passage) -> bool:
        """Whether the passage is an item of a list whose lead-in says it lists what is no option (risk factors,
        causes, side effects, symptoms: `non_option_list` in `data/answer_filters.tsv`)."""
        if passage.kind != "list_item":
            return False
        lead_in = self.lead_in_of(passage)
        return lead_in is not None and lists_no_options(lead_in.text)

    def _about_prevention(self, passage: Passage) -> bool:
        """Whether the passage's page or section is about preventing or screening for cancer, not treating it."""
        return _prevention_context(f"{self.titles.get(passage.document_id, '')} {' '.join(passage.section_path)}")

    def _split_systemic(self, found: list[Candidate], patient: PatientContext) -> list[AlgorithmStep]:
        """Options that offer no agent the patient received (an agent received named only as the option's setting
        or comparator, "after progression on trastuzumab", does not count: the option is for this patient);
        regimens that include one and, past the first line, options only of a class the patient had (vemurafenib
        after dabrafenib), or that give a received agent again to patients who had it; options wholly received."""
        new, partly, received = [], [], []
        prior = set(patient.prior_agents)
        for c in found:  # evidence for another marker status never reaches here (_step_candidates)
            text = c.said(labelled=True)
            named = set(self.agents_of(text))
            offered = option_agents(c, self.agents_of)
            if named and not offered:
                continue  # it names agents only as its setting or comparator: what it offers is not named
            if not offered & prior and not (self.line.later and _only_classes_received(offered, prior)):
                new.append(c)
            elif offered and offered <= prior and not offered & set(self.agents_of(setting_text(text))):
                received.append(c)
            else:
                # A regimen with a received agent, or an option for after one; or the agent received given again
                # to patients who had it ("high-dose ifosfamide after standard-dose ifosfamide").
                partly.append(c)
        # An option whose result rests on randomised comparison (so graded, or so said) comes first; the sources'
        # order otherwise.
        new.sort(key=lambda c: not _randomised(c))
        return [
            AlgorithmStep(NOT_YET_RECEIVED, new[:10]),
            AlgorithmStep(INCLUDES_RECEIVED, partly[:4]),
            AlgorithmStep(ALREADY_RECEIVED, received[:4]),
        ]


def for_other_marker_status(c: Candidate, markers: Mapping[str, str]) -> bool:
    """Whether the sentence, or a heading of its section ("Metastatic HER2-Negative ... Breast Cancer",
    "Triple-Negative Breast Cancer"), names another status of one of the patient's markers."""
    if not markers:
        return False
    return conflict(c.sentence.labelled, markers) is not None or _headings_conflict(
        c.sentence.passage.section_path, tuple(sorted(markers.items()))
    )


@lru_cache(maxsize=65536)
def _headings_conflict(path: tuple[str, ...], markers: tuple[tuple[str, str], ...]) -> bool:
    return conflict("; ".join(path), dict(markers)) is not None


def _randomised(c: Candidate) -> bool:
    """Whether what the candidate offers rests on randomised comparison: its level of evidence, or that of what
    its study found, says so, or the sentence (with what its study found) does."""
    return any(randomised(x.level_of_evidence) for x in (c.sentence, *c.items)) or says_randomised(c.said())


@lru_cache(maxsize=65536)
def _prevention_context(context: str) -> bool:
    cues = kind_cues()
    return any(cues[k].section.search(context) for k in (QuestionKind.PREVENTION, QuestionKind.SCREENING))


def recommendations(
    steps: list[AlgorithmStep], agents_of: Callable[[str], list[str]], limit: int = 4
) -> list[Candidate]:
    """The bottom line of a "what next" answer, as a guideline puts it: a clinical trial when the sources advise
    one, then the best systemic options this patient has not received (the step's first two that offer different
    agents; what studies of agents not yet received found, when the sources offer fewer), then the first advice of
    the other open steps (surgery, local, supportive); in the algorithm's order."""
    studies = next((s for s in steps if s.title == STUDIES), None)
    open_steps = [s for s in _with_studies_after_systemic(steps) if s.title not in RECEIVED_TITLES and s.candidates]
    chosen: list[Candidate] = []
    new: list[Candidate] = []
    offered: set[str] = set()
    for step in open_steps:
        if step.title in (NOT_YET_RECEIVED, STUDIES):
            for c in step.candidates:
                if len(new) == NEW_OPTIONS:
                    break
                # What a study found offers the agent; a negative result or how a study was run offers nothing.
                if step.title == STUDIES and not_an_option(c.sentence.text) is not None:
                    continue
                agents = set(option_agents(c, agents_of))
                if agents and agents <= offered:
                    continue  # the same agent again: the second option is another one
                offered |= agents
                new.append(c)
            continue
        advice = next((c for c in step.candidates if is_guidance(c.sentence.text)), None)
        if advice is not None:
            chosen.append(advice)
    if not chosen and not new:
        chosen = [s.candidates[0] for s in open_steps if s is not studies]
    first = [c for c in chosen if c in open_steps[0].candidates] if open_steps else []
    rest = [c for c in chosen if c not in first]
    kept = [*first[:1], *new, *rest][:limit]  # the trial advice, the new options, then the rest, within limit
    order = {id(c): i for i, c in enumerate(c for s in open_steps for c in s.candidates)}
    return sorted(kept, key=lambda c: order[id(c)])


def _with_studies_after_systemic(steps: list[AlgorithmStep]) -> list[AlgorithmStep]:
    """The steps with the studies of agents not yet received right after the systemic steps, where the bottom
    line takes them from when the sources list fewer options."""
    studies = [s for s in steps if s.title == STUDIES]
    others = [s for s in steps if s.title != STUDIES]
    systemic = [i for i, s in enumerate(others) if s.title in (NOT_YET_RECEIVED, *RECEIVED_TITLES)]
    at = systemic[-1] + 1 if systemic else len(others)
    return [*others[:at], *studies, *others[at:]]


def open_options(
    candidates: list[Candidate], prior_agents: list[str], agents_of: Callable[[str], list[str]]
) -> list[Candidate]:
    """The candidates that can be offered to this patient: not a negative result, a design or a legend, and
    naming no agent already received (a regimen with one has its own step) nor only drugs of a class received; a
    list keeps only its items that name none (a list of first-line regimens offers nothing to a patient who had
    them); in their ranked order."""
    prior = set(prior_agents)
    out = []
    for c in candidates:
        if not_offered(c, "systemic"):
            continue
        if _received_or_same_class(agents_of(offered_text(c.sentence.labelled)), prior):
            # A regimen with a received agent ("after a prior trastuzumab-based regimen" is its setting), or only
            # drugs of a class the disease came back on (vemurafenib after dabrafenib).
            continue
        if c.items:
            items = tuple(x for x in c.items if not _received_or_same_class(agents_of(offered_text(x.labelled)), prior))
            if not items:
                continue
            c = replace(c, items=items)
        out.append(c)
    return out


def _received_or_same_class(agents: list[str], prior: set[str]) -> bool:
    offered = set(agents)
    return bool(offered & prior) or _only_classes_received(offered, prior)


def _only_classes_received(offered: set[str], prior: set[str]) -> bool:
    """Whether every agent offered is of a class the patient already had a member of (vemurafenib after
    dabrafenib)."""
    return bool(offered) and all(shared_class(a, prior) for a in offered)
