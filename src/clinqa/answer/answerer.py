"""From a question to an `Answer`: triage, retrieve, check the evidence suffices, compose."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import islice
from typing import TypeVar

import numpy as np

from clinqa.answer.algorithm import (
    AlgorithmStep,
    Line,
    TreatmentAlgorithm,
    fit_for_patient,
    for_other_marker_status,
    named_settings,
    open_options,
    question_setting,
    recommendations,
    section_setting_weight,
)
from clinqa.answer.compose import (
    Candidate,
    Citer,
    ComposeLimits,
    answer_worthy,
    build_sections,
    guideline_first,
    once,
    rank_candidates,
    select,
    source_documents,
    to_sentences,
)
from clinqa.answer.filters import (
    about_animals,
    asks_nonclinical,
    dose_unit_asked,
    lists_options,
    not_an_option,
    particular_words,
    states_a_verdict,
)
from clinqa.answer.parts import case_weighed, part_query, question_parts
from clinqa.answer.reader import explanations, safety_kept
from clinqa.answer.scoring import QueryTerms, is_guidance, weigh_terms
from clinqa.answer.sentences import SourceSentence, split_passage
from clinqa.answer.subjects import described_only, missing_subjects
from clinqa.answer.topic import Fit, Topic, TopicFit
from clinqa.answer.triage import QuestionKind, asked_kinds, is_clinical, is_yes_no, kind_cues
from clinqa.clinical.age import without_age_sex
from clinqa.clinical.applicability import assess
from clinqa.clinical.biomarkers import conflict
from clinqa.clinical.disease import diagnoses_in, is_listed, related
from clinqa.clinical.patient import extract_patient, merge
from clinqa.clinical.phases import next_phases
from clinqa.clinical.regimens import Normaliser
from clinqa.retrieve.analysis import QUESTION_WORDS, analyze, analyze_cached, query_terms
from clinqa.retrieve.expand import Expansion
from clinqa.retrieve.glossary import terms_in
from clinqa.retrieve.index import SearchIndex
from clinqa.retrieve.retriever import Hit, HybridRetriever, RetrievalConfig
from clinqa.settings import settings
from clinqa.store import Store
from clinqa.types import (
    Answer,
    AnswerSection,
    AnswerStatus,
    Audience,
    DocumentSummary,
    Flag,
    Passage,
    PatientContext,
    Sentence,
    TrialMatch,
)

DISCLAIMER = (
    "clinqa composes this answer only from sentences of the sources listed, each with its citations; it adds "
    "no advice of its own. It supports, and does not replace, the judgement of the clinician caring for the "
    "patient. Check the primary literature and current guidelines before acting, and mind each source's date."
)
PROFESSIONAL_ONLY = (
    "No page written for patients and families covers this question in the knowledge base: the answer below comes "
    "from summaries written for health professionals. Ask your care team to explain what it means for you."
)
CLOSE_CANDIDATES = 3  # the best sentences, one of which must cover enough of the question to answer it
DOSE_CANDIDATES = 10  # a dose question is answered only if one of the best sentences states a dose
FINDING_REACH = 4  # sentences read past a study's design for what it found
PARTICULAR_SPECIFICITY = 2.5  # a word this specific asks for something in particular (consolidation 3.9)
SETTING_SPECIFICITY = 3.5  # a word this specific steers the algorithm's searches (ESR1, consolidation)
SETTING_WORDS = 3
RERANKED = 120  # the best candidates re-ranked for the patient (what they had, their markers)
PARTICULAR_LEAD = 2  # bottom-line sentences a "what next" question's own ask gets before the algorithm's advice
LIKELY_DISEASE_PASSAGES = 10
TOXICITY_AGENTS = 2  # agents of a "what next" bottom line whose toxicities the answer reports
TOXICITY_PASSAGES = 10  # passages searched for each
TOXICITY_SENTENCES = 2  # sentences reported for each
TOXICITY_PROBE = "toxicity adverse events side effects"
PRIMARY_LITERATURE_WEIGHT = 0.5  # an abstract's sentence counts half a guideline's: it answers where they are silent
HISTORY_SHARE = 0.6  # score kept by a sentence naming only agents the patient already had
LIST_LIMIT = 20  # list items brought in under one lead-in
LIST_NEAR = 4  # passages read first for a list item's lead-in
OPTION_PASSAGES = 12  # passages of a section read for an option's evidence, or for the section's list of options
OPTION_SECTIONS = 5  # a step's first passages whose sections' lists of options it reads
LIST_SHARE = 0.95  # the prior of a list brought in by a passage found, relative to that passage's
LEAD_IN_CACHE = 50_000
_T = TypeVar("_T")
SPECIFIC_TITLE_TERM = 3.0  # a title word this specific names a topic ("osteosarcoma" 4.9), not a notion ("rates" 2.6)
# Parenthetical details ("after 4 lines (doxorubicin, ...)") describe the patient, not the topic asked about.
# One that offers another wording of the ask ("research (or clinical trials)", "(i.e., ...)") is the question's own.
_PARENTHETICAL = re.compile(r"\((?!\s*(?:or|i\.\s?e\.|e\.\s?g\.|also|aka)\b)([^)]*)\)", re.I)
_WORD = re.compile(r"[A-Za-z0-9][\w-]*")
_ONE_WORD = re.compile(r"\s*[A-Za-z][\w-]{1,9}\s*")
# A question about what to do next, or about the options, gets the treatment algorithm.
_NEXT_STEP = re.compile(
    r"\b(?:next|what (?:else|now)|after \d+ lines?|"
    r"(?:options|treat\w*|manage\w*) (?:after|for (?:a|this|the) patient))\b",
    re.I,
)


@dataclass
class Answerer:
    index: SearchIndex
    retriever: HybridRetriever
    store: Store
    documents: Mapping[str, DocumentSummary]
    normaliser: Normaliser
    trials: Callable[[PatientContext], list[TrialMatch]] = lambda _patient: []
    audience: Audience = "clinician"
    patient_aware: bool = True  # False: the core engine alone (no patient context, algorithm, flags or trials)
    limits: ComposeLimits = field(default_factory=ComposeLimits)
    _lead_ins: dict[str, Passage | None] = field(default_factory=dict, repr=False)
    _lists: dict[str, list[Passage]] = field(default_factory=dict, repr=False)
    _sections: dict[str, dict[tuple[str, ...], Passage]] = field(default_factory=dict, repr=False)
    _option_lists: dict[str, list[Passage]] = field(default_factory=dict, repr=False)

    @property
    def _specificity(self) -> Mapping[str, float]:
        return self.index.vocabulary.specificity

    @cached_property
    def _titles(self) -> dict[str, str]:
        return {d: s.title for d, s in self.documents.items()}

    @cached_property
    def _known_terms(self) -> set[str]:
        """Specific words of the page titles and the drug names the corpus knows, stemmed."""
        titles = " ".join(d.title for d in self.documents.values())
        names = " ".join(self.index.vocabulary.drugs)
        specific = {t for t in analyze([titles])[0] if self._specificity.get(t, 0.0) >= SPECIFIC_TITLE_TERM}
        return (specific | set(analyze([names])[0])) - QUESTION_WORDS

    def _known_in(self, question: str) -> set[str]:
        """The known terms, and the abbreviations the pages define that the question writes as they do ("CUP",
        not the "Cup" of a football final)."""
        written = [w for w in _WORD.findall(question) if w in self.index.vocabulary.abbreviations]
        return self._known_terms | set(analyze_cached([" ".join(written)])[0])

    def ask(
        self,
        question: str,
        patient: PatientContext | None = None,
        keep: list[Sentence] | None = None,
        read_question: bool = True,
    ) -> Answer:
        """Answer `question`; `patient` (e.g. from a file or an earlier turn) is merged with what the question
        itself says about the patient (not when `read_question` is False: a follow-up's patient is already
        updated). `keep`: sentences a patient reader's answer must not lose (the safety sentences of the
        clinician's answer to the same question)."""
        if not self.patient_aware:
            return self._answer(question, PatientContext(), [], algorithm=False)
        said = extract_patient(question, self.normaliser) if read_question else PatientContext()
        context = merge(patient or PatientContext(), said)
        searched = question
        if context.diagnosis and context.diagnosis.lower() not in question.lower():
            searched = f"{question} {context.diagnosis}"  # "what are the options?" is about the patient's disease
        answer = self._answer(searched, context, keep or []).model_copy(update={"question": question})
        if answer.status is not AnswerStatus.ANSWERED:
            return answer.model_copy(update={"patient": None if context.is_empty() else context})
        return self._apply_to_patient(answer, context)

    def _without_details(self, question: str) -> str:
        """The question less its parenthetical details, which describe the patient; an abbreviation in
        parentheses ("mismatch repair deficient (dMMR)") names what is asked again and stays, a drug or regimen
        ("(FOLFOX)") is the patient's history and goes."""

        def detail(match: re.Match[str]) -> str:
            inside = match.group(1)
            kept = _ONE_WORD.fullmatch(inside) and not self.normaliser.agents(inside)
            return match.group(0) if kept else " "

        return _PARENTHETICAL.sub(detail, question)

    def _triage(self, question: str) -> Answer | None:
        """The abstention owed before any search (an empty knowledge base, a question that is not clinical or
        that the sources cannot be about), or None."""
        if self.index.size == 0:
            return self._abstain(question, AnswerStatus.INSUFFICIENT_EVIDENCE, "The knowledge base is empty.")
        if not is_clinical(question, self._known_in(question)):
            return self._abstain(question, AnswerStatus.OUT_OF_SCOPE, "This does not read as a clinical question.")
        if asks_nonclinical(question):
            note = "This asks for something clinical guidelines do not give (a price, a market, a company)."
            return self._abstain(question, AnswerStatus.OUT_OF_SCOPE, note)
        if about_animals(question):
            note = "The knowledge base holds guidelines for people; it has nothing on animals."
            return self._abstain(question, AnswerStatus.INSUFFICIENT_EVIDENCE, note)
        return None

    def _answer(self, question: str, context: PatientContext, keep: list[Sentence], algorithm: bool = True) -> Answer:
        refused = self._triage(question)
        if refused:
            return refused
        treated = bool(context.prior_therapies or context.lines_of_therapy or context.recurrent)
        kinds = asked_kinds(question, treated)
        topic = TopicFit(Topic.of(question, context), self._titles)
        hints = kind_cues()[kinds[0]].search if kinds[0] in kind_cues() else ""
        k = settings().retrieval.passages
        focus_text = without_age_sex(self._without_details(question))
        line = Line.of(focus_text, context)
        had = self._history_terms(context, line)
        searched, told = _apart(question, had)
        result = self.retriever.search(
            searched, k=k, hints=f"{hints} {told}".strip(), document_weights=self._page_weights(topic)
        )
        expanded_from = {t for terms in analyze_cached([e.term for e in result.expansions]) for t in terms}
        history = set(context.prior_agents)  # drugs the patient had describe the case, not what is asked
        missing = [
            m
            for m in missing_subjects(question, self._specificity, expanded_from, self.normaliser.is_drug)
            if not set(self.normaliser.agents(m.word)) & history and not self._known_drug(m.word)
        ]
        parts = question_parts(focus_text)
        if is_listed(topic.topic.disease or ""):
            # The case of a known disease may name what the pages never do (where the patient lives, a drug
            # they take for another condition): it describes the patient; only what is asked decides.
            missing = described_only(missing, " ".join(parts.parts))
        decisive = [m.word for m in missing if m.decisive]
        if decisive:
            note = "The knowledge base has nothing on: " + ", ".join(decisive) + "."
            return self._abstain(question, AnswerStatus.INSUFFICIENT_EVIDENCE, note)
        asked = query_terms(focus_text)
        focus = [t for t in asked if t not in had] or asked
        details = [t for t in result.query_terms if t not in focus]
        expansion_terms = analyze([" ".join(e.adds for e in result.expansions)])[0]
        # A named subject the pages never use stays in the question's terms: no sentence covers it.
        weights = {**self._specificity, **{m.term: m.weight for m in missing}}
        synonyms = _rewordings(result.expansions)
        own = focus or result.query_terms
        q = without_topic(weigh_terms(own, expansion_terms, details, weights, 0.5, synonyms), topic)
        evidence = self._evidence(result.hits)
        next_step = _NEXT_STEP.search(focus_text) or bool(context.prior_therapies or context.lines_of_therapy)
        # The algorithm answers "what next" for a patient: asked so, or a patient with treatment behind them; a
        # question after a dose is answered by the dose, whatever the patient had.
        what_next = (
            algorithm and QuestionKind.TREATMENT in kinds[:2] and kinds[0] is not QuestionKind.DOSE and next_step
        )
        if not next_step:
            # What comes next for a treated patient is read from their case (what they had, when it came back);
            # any other question from what it asks.
            q = case_weighed(q, parts)
        broad = topic.topic.disease is None or not is_listed(topic.topic.disease)
        if broad and (treated or next_step):
            # A patient's disease that the question does not name, or names only by its organ ("central pelvic
            # recurrence after radical hysterectomy"), is the one the pages retrieved first are about; other
            # diseases' pages (vaginal, endometrial) stay out.
            inferred = self._likely_disease(evidence, within=topic.topic.disease)
            if inferred:
                topic = TopicFit(Topic.of(question, context.model_copy(update={"diagnosis": inferred})), self._titles)
        fit = _fit_with_setting(topic, focus_text, line)
        candidates = self._arranged(
            rank_candidates(evidence, self._titles, q, kinds, self._authority, fit, before=True),
            context,
            line,
            focus_text,
        )
        if what_next:
            # A "what next" question is answered by the algorithm's steps, each found by its own search.
            search_topic = self._topic(question, context.model_copy(update={"diagnosis": topic.topic.disease}), line)
            setting = self._setting_words(focus_text, topic, q, context)
            # The phase the history implies comes next (consolidation after chemoradiation), unless named.
            phases = [w for w in next_phases(question) if w not in focus_text.lower()]
            search_topic = " ".join([search_topic, *setting, *phases])
            steps = self._algorithm(topic, line).steps(search_topic, context)
            if steps:
                particular = self._asks_in_particular(focus_text, topic, q)
                return self._compose_algorithm(
                    question, steps, kinds, candidates, keep, context, line, particular, topic
                )
        if kinds[0] is QuestionKind.DOSE and not self._states_a_dose(candidates, focus_text):
            note = "The sources found give no dose or schedule for this; check the prescribing information."
            return self._abstain(question, AnswerStatus.INSUFFICIENT_EVIDENCE, note)
        firsts = (
            [
                self._part_answer(
                    evidence, q, part, parts.case, result.expansions, (treated, kinds), fit, (context, line)
                )
                for part in parts.parts
            ]
            if parts.several
            else []
        )
        if not self._answers_closely(candidates) and not (firsts and all(firsts)):
            disease = topic.topic.disease
            if disease and not any(topic.passage(p) is Fit.ON_TOPIC for _, p in evidence):
                note = f"The knowledge base has no page or section on {disease}."
            else:
                note = "No passage of the knowledge base answers this question closely enough."
            return self._abstain(question, AnswerStatus.INSUFFICIENT_EVIDENCE, note)
        return self._compose(question, kinds, candidates, keep, [c for c in firsts if c is not None])

    def _arranged(
        self, candidates: list[Candidate], context: PatientContext, line: Line, question: str
    ) -> list[Candidate]:
        """Ranked candidates, reordered for the patient: what they already had, another marker status, a therapy
        they are unfit for go down; for a yes/no question, verdicts go up."""
        if context.prior_agents and line.later:
            candidates = self._history_last(candidates, set(context.prior_agents))
        if context.biomarkers:
            candidates = _other_markers_last(candidates, context)
        if context.unfit_for:
            candidates = fit_for_patient(candidates, context.unfit_for)
        if is_yes_no(question):
            candidates = _verdicts_first(candidates)
        return candidates

    def _part_answer(
        self,
        evidence: list[tuple[float, Passage]],
        q: QueryTerms,
        part: str,
        case: str,
        expansions: list[Expansion],
        asked: tuple[bool, list[QuestionKind]],
        fit: Callable[[Passage], float],
        patient: tuple[PatientContext, Line],
    ) -> Candidate | None:
        """The sentence that best answers one part of a question that asks several things, when one covers the
        part closely enough; scored on the part's own terms and kinds."""
        q_part = part_query(q, part, case, expansions)
        if q_part is None:
            return None
        treated, kinds = asked
        own = asked_kinds(part, treated)
        kinds = own if own != [QuestionKind.GENERAL] else kinds
        ranked = rank_candidates(evidence, self._titles, q_part, kinds, self._authority, fit, before=True)
        ranked = self._arranged(ranked, *patient, part)
        return next((c for c in ranked[:1] if c.covers >= self.limits.min_coverage), None)

    def _answers_closely(self, candidates: list[Candidate]) -> bool:
        """Whether the evidence answers the question: one of its best few sentences covers enough of it (the
        best by score may be a list's lead-in, or a study's design ranked above its report, that covers less)."""
        return any(c.covers >= self.limits.min_coverage for c in candidates[:CLOSE_CANDIDATES])

    def _compose(
        self,
        question: str,
        kinds: list[QuestionKind],
        candidates: list[Candidate],
        keep: list[Sentence],
        firsts: list[Candidate] | None = None,
    ) -> Answer:
        """The answer from ranked candidates; `firsts` (the best answer to each part of a question that asks
        several things) lead its bottom line."""
        bottom, body = select(candidates, self.limits)
        if firsts:
            bottom = _distinct([*firsts, *bottom])[: max(self.limits.bottom_line, len(firsts) + 1)]
        bottom = self._with_findings(bottom)
        shown = {(c.sentence.passage.id, c.sentence.position) for c in bottom}
        body = [c for c in body if (c.sentence.passage.id, c.sentence.position) not in shown]
        citer = Citer(self.store.references, self.store.abstracts)
        bottom_line, sections = build_sections(bottom, body, kinds, citer)
        return self._answered(question, bottom_line, sections, citer, keep)

    def _with_findings(self, chosen: list[Candidate]) -> list[Candidate]:
        """A bottom-line sentence that only says how a study was run brings what the study found: the first
        sentence after it (in its passage, or the passages after it in the same section) that is not design too,
        within a few sentences."""
        out: list[Candidate] = []
        for c in chosen:
            out.append(c)
            if not_an_option(c.sentence.text) != "design" or c.items:
                continue
            finding = self._finding_after(c.sentence)
            if finding is not None and finding not in [x.sentence for x in [*chosen, *out]]:
                out.append(Candidate(finding, c.terms, c.coverage, c.score))
        return out

    def _finding_after(self, design: SourceSentence) -> SourceSentence | None:
        """The first sentence after a study's design, within a few, that is not design too: what it found."""
        return next(
            (s for s in islice(self._sentences_after(design), FINDING_REACH) if not_an_option(s.text) != "design"),
            None,
        )

    def _sentences_after(self, s: SourceSentence) -> Iterator[SourceSentence]:
        """The answer-worthy sentences that follow `s` in its section, in order, read one by one."""
        after = self._next_sentence(s)
        while after is not None:
            yield after
            after = self._next_sentence(after)

    def _next_sentence(self, s: SourceSentence) -> SourceSentence | None:
        sentences = split_passage(s.passage)
        after: SourceSentence | None
        if s.position + 1 < len(sentences):
            after = sentences[s.position + 1]
        else:
            following = self.store.following(s.passage, 1)  # in its section
            if not following:
                return None
            first = split_passage(following[0])
            after = first[0] if first else None
        return after if after is not None and answer_worthy(after.text) else None

    def _compose_algorithm(
        self,
        question: str,
        steps: list[AlgorithmStep],
        kinds: list[QuestionKind],
        candidates: list[Candidate],
        keep: list[Sentence],
        context: PatientContext,
        line: Line,
        particular: bool,
        fit: TopicFit,
    ) -> Answer:
        """Bottom line: what the question's own retrieval offers this patient (not a negative result, not only
        what was received), when it answers the question closely enough; else the first advice of the steps
        (trial, surgery, a new systemic option). Then the steps in order, whole; then what else was found, and
        the toxicities the sources report for the agents the bottom line offers."""
        if not steps:
            return self._compose(question, kinds, candidates, keep)
        citer = Citer(self.store.references, self.store.abstracts)
        # An agent the disease came back on is no offer; one given in an earlier phase (induction before
        # consolidation, with the disease in remission) may be given again.
        failed = context.prior_agents if line.later else []
        offers = [
            c
            for c in (open_options(candidates, failed, self.normaliser.agents) if particular else [])
            if (line.admits(c.sentence.passage) or self._advises_no_drug(c))
            and line.admits_sentence(c.sentence.labelled)
            and not for_other_marker_status(c, context.biomarkers)
            and not fit.names_only_another(c.sentence.labelled)
        ]  # in the patient's line of treatment (a sentence that offers no drug, such as when to assess response or
        # salvage surgery, may stand in any section), not for another status of one of their markers or disease
        advised = recommendations(steps, self.normaliser.agents)
        if offers and offers[0].coverage >= self.limits.min_coverage:
            # What the question asks in particular leads; the algorithm's first advice follows it.
            asked, _ = select(offers, self.limits)
            chosen = _distinct([*asked[:PARTICULAR_LEAD], *advised])[: self.limits.bottom_line]
        else:
            chosen = advised
        bottom_line = once(x for c in chosen for x in to_sentences(c, citer))
        sections = [
            AnswerSection(title=s.title, sentences=[x for c in s.candidates for x in to_sentences(c, citer)])
            for s in steps
        ]
        used = {c.sentence for s in steps for c in s.candidates}
        rest = [c for c in candidates if c.sentence not in used]
        _, body = select(rest, self.limits)
        offered = [a for c in chosen for a in self.normaliser.agents(c.sentence.labelled) if a not in failed]
        shown = used | {c.sentence for c in body[:6]}
        toxicities = [c for c in self._toxicities(list(dict.fromkeys(offered)), fit) if c.sentence not in shown]
        extra = [
            sec
            for sec in build_sections([], [*body[:6], *toxicities], kinds, citer)[1]
            if sec.title != "Treatment options"
        ]
        return self._answered(question, bottom_line, [s for s in sections if s.sentences] + extra, citer, keep)

    def _advises_no_drug(self, c: Candidate) -> bool:
        """A sentence that advises what to do and names no drug (salvage surgery, when to assess response): it
        fits a patient in any line, whichever section states it."""
        return is_guidance(c.said()) and not self.normaliser.agents(c.said())

    def _toxicities(self, agents: list[str], fit: TopicFit) -> list[Candidate]:
        """What the disease's own pages say of the harms of the first `TOXICITY_AGENTS` agents offered: sentences
        that name the agent (in them or in their section's heading) and report a toxicity or a caution."""
        pages = None  # TEMP
        found: list[Candidate] = []
        for agent in agents[:TOXICITY_AGENTS]:
            hits = self._lexical.search(f"{agent} {TOXICITY_PROBE}", k=TOXICITY_PASSAGES, document_weights=pages)
            passages = self.store.passages([h.passage_id for h in hits.hits])
            chosen: list[Candidate] = []
            for hit in hits.hits:
                passage = passages.get(hit.passage_id)
                if passage is None or fit.page(passage.document_id) is not Fit.ON_TOPIC:
                    continue
                heading = passage.section_path[-1] if passage.section_path else ""
                for sentence in split_passage(passage):
                    named = agent in self.normaliser.agents(f"{heading} {sentence.labelled}")
                    if named and answer_worthy(sentence.text) and not_an_option(sentence.text) == "caution":
                        chosen.append(Candidate(sentence, frozenset(), 0.0, 0.0))
                if len(chosen) >= TOXICITY_SENTENCES:
                    break
            found.extend(chosen[:TOXICITY_SENTENCES])
        return found

    def _answered(
        self,
        question: str,
        bottom_line: list[Sentence],
        sections: list[AnswerSection],
        citer: Citer,
        keep: list[Sentence],
    ) -> Answer:
        note = None
        if self.audience == "patient":
            shown = [*bottom_line, *(x for s in sections for x in s.sentences)]
            sections = sections + self._for_patient_reader(shown, keep, citer)
            if not any(self._is_patient_page(s.source.document_id) for s in shown):
                note = PROFESSIONAL_ONLY
        bottom_line = guideline_first(bottom_line, self.documents)
        sections = [
            sec.model_copy(update={"sentences": guideline_first(sec.sentences, self.documents)}) for sec in sections
        ]
        used = list(
            dict.fromkeys(s.source.document_id for s in [*bottom_line, *(x for sec in sections for x in sec.sentences)])
        )
        return Answer(
            note=note,
            status=AnswerStatus.ANSWERED,
            question=question,
            bottom_line=bottom_line,
            sections=sections,
            references=citer.references(),
            sources=source_documents(used, self.documents),
            disclaimer=DISCLAIMER,
        )

    def _is_patient_page(self, document_id: str) -> bool:
        summary = self.documents.get(document_id)
        return summary is not None and summary.audience == "patient"

    def _for_patient_reader(self, sentences: list[Sentence], keep: list[Sentence], citer: Citer) -> list[AnswerSection]:
        """Terms explained from patient pages; and the clinician answer's safety sentences, kept."""
        glossary = self.index.vocabulary.definitions
        terms = terms_in(" ".join(s.text for s in sentences), glossary)
        passages = self.store.passages([*(glossary[t] for t in terms), *(s.source.passage_id for s in keep)])
        added = [explanations(sentences, glossary, passages, citer), safety_kept(sentences, keep, passages, citer)]
        return [s for s in added if s is not None]

    def _topic(self, question: str, context: PatientContext, line: Line) -> str:
        """What the algorithm's searches are about: the diagnosis and the setting (recurrent, site)."""
        words = [context.diagnosis or " ".join(query_terms(self._without_details(question))[:3])]
        if line.later:  # "no progression on restaging" is no recurrence
            words.append("recurrent")
        return " ".join([*words, *context.sites])

    def _history_terms(self, context: PatientContext, line: Line) -> set[str]:
        """For a patient past the first line, the terms of the regimens they already received as the question
        writes them ("relapsed after BV-AVD"): they tell the case, not what is asked, and would draw the reports
        of first treatment. The agents' own names stay: sources write what comes after an agent with its name
        ("previously treated with docetaxel")."""
        if not line.later or not context.prior_therapies:
            return set()
        described = set(analyze_cached([" ".join(t.described for t in context.prior_therapies)])[0])
        return described - set(analyze_cached([" ".join(context.prior_agents)])[0])

    def _history_last(self, candidates: list[Candidate], prior: set[str]) -> list[Candidate]:
        """For a patient with therapies behind them, a sentence naming only agents they already had tells their
        history, not what to do: it ranks below the others (it stays in the answer, flagged)."""

        def received_only(c: Candidate) -> bool:
            agents = set(self.normaliser.agents(c.sentence.labelled))
            return bool(agents) and agents <= prior

        return _ranked_down(candidates, received_only)

    def _known_drug(self, word: str) -> bool:
        """A drug written in shorthand or by a brand ("nivo", "Keytruda") whose generic name the pages use."""
        agents = self.normaliser.agents(word)
        return bool(agents) and all(all(t in self._specificity for t in analyze_cached([agent])[0]) for agent in agents)

    def _likely_disease(self, evidence: list[tuple[float, Passage]], within: str | None = None) -> str | None:
        """The disease the best retrieved passages' pages are about, by their retrieval weight; one related to
        `within` (an organ or a group: 'gynecologic') when given."""
        votes: dict[str, float] = {}
        for prior, passage in evidence[:LIKELY_DISEASE_PASSAGES]:
            named = [
                d for d in diagnoses_in(self._titles.get(passage.document_id, "")) if not within or related(within, d)
            ]
            if named:
                votes[named[0]] = votes.get(named[0], 0.0) + prior
        return max(votes, key=lambda d: (votes[d], d)) if votes else None

    def _setting_words(self, question: str, topic: TopicFit, q: QueryTerms, context: PatientContext) -> list[str]:
        """The most specific words a "what next" question adds to its disease (a biomarker, a setting: ESR1,
        FLT3, consolidation), which steer the algorithm's searches to the right sections; not the therapies the
        patient had, which would steer them back to the sections on first treatment."""
        had = [*context.prior_agents, *(t.described for t in context.prior_therapies)]
        named = topic.terms() | set(analyze_cached([" ".join(had)])[0])
        weights = q.weights
        terms = [t for t in query_terms(particular_words(question)) if t not in named and t in weights]
        ranked = sorted(dict.fromkeys(terms), key=lambda t: -weights[t])
        return [t for t in ranked if weights[t] >= SETTING_SPECIFICITY][:SETTING_WORDS]

    def _states_a_dose(self, candidates: list[Candidate], question: str) -> bool:
        """Whether a sentence that answers the question closely enough states a dose or a schedule, of the drug
        the question asks about when it names one (another drug's dose is no answer), in the unit it asks for when
        it names one (a schedule is no answer to "how many mg")."""
        dose = kind_cues()[QuestionKind.DOSE].sentence
        unit = dose_unit_asked(question)
        asked = set(self.normaliser.agents(question))
        for c in candidates[:DOSE_CANDIDATES]:
            text = c.said(labelled=True)
            if c.coverage < self.limits.min_coverage or not dose.search(text) or (unit and not unit.search(text)):
                continue
            if not asked or asked & set(self.normaliser.agents(text)):
                return True
        return False

    def _asks_in_particular(self, question: str, topic: TopicFit, q: QueryTerms) -> bool:
        """Whether a "what next" question asks for something beyond the next options (a kind of therapy, a
        setting, an outcome): then its own retrieval answers it, ahead of the algorithm's general advice."""
        named = topic.terms()
        weights = {**q.expansion, **q.weights}
        return any(
            t not in named and weights.get(t, 0.0) >= PARTICULAR_SPECIFICITY
            for t in query_terms(particular_words(question))
        )

    def _page_weights(self, topic: TopicFit) -> np.ndarray | None:
        """Per indexed document, 0 for a page about another disease; None when nothing is left out."""
        if topic.topic.disease is None:
            return None
        weights = np.array([topic.page(d) is not Fit.OTHER for d in self.index.document_ids], dtype=np.float32)
        return None if weights.all() else weights

    @cached_property
    def _lexical(self) -> HybridRetriever:
        """Lexical retrieval alone, for the searches an answer makes beyond its question's own (the algorithm's
        steps, an offered agent's toxicities): their words are no question to embed."""
        return HybridRetriever(self.index, None, RetrievalConfig(use_dense=False))

    def _algorithm(self, fit: TopicFit, line: Line) -> TreatmentAlgorithm:
        return TreatmentAlgorithm(
            search=lambda text: self._with_option_lists(self._evidence(self._lexical.search(text, k=20).hits)),
            titles=self._titles,
            weights=self._specificity,
            agents_of=self.normaliser.agents,
            authority=self._authority,
            fit=fit,
            line=line,
            sentences_after=self._sentences_after,
            option_evidence=self._option_evidence,
            lead_in_of=self._lead_in,
        )

    def _with_option_lists(self, evidence: list[tuple[float, Passage]]) -> list[tuple[float, Passage]]:
        """A step's evidence with the list of options of each section its first passages stand in ("Treatment
        options for recurrent X include:" and its items), which a search on the topic's words may miss when the
        items only name the options; each at the prior of the passage that found its section."""
        have = {p.id for _, p in evidence}
        added: list[tuple[float, Passage]] = []
        sections: set[tuple[str, tuple[str, ...]]] = set()
        for prior, found in evidence[:OPTION_SECTIONS]:
            section = (found.document_id, found.section_path)
            if section in sections:
                continue
            sections.add(section)
            for p in self._option_list(found):
                if p.id not in have:
                    have.add(p.id)
                    added.append((LIST_SHARE * prior, p))
        return [*evidence, *added]

    def _option_list(self, found: Passage) -> list[Passage]:
        """The lead-in of the list of treatment options of the section `found` stands in, near it, and its items
        (none when there is no such list); remembered per passage."""

        def find() -> list[Passage]:
            near = [*reversed(self.store.preceding(found, OPTION_PASSAGES)), found]
            for p in [*near, *self.store.following(found, OPTION_PASSAGES)]:
                if p.kind != "list_item" and lists_options(p.text):
                    return [p, *self._list_under(p)]
            return []

        return _remembered(self._option_lists, found.id, find)

    def _option_evidence(self, item: SourceSentence) -> Iterator[SourceSentence]:
        """The sentences of the section a listed option's page names after it ("Nivolumab." -> "Nivolumab"): the
        first such section after the list (where a guideline gives each option's evidence), else the last before."""
        key = _title_key(item.text)
        named = [p for path, p in self._sections_of(item.passage.document_id).items() if _title_key(path[-1]) == key]
        after = [p for p in named if p.ordinal > item.passage.ordinal]
        first = after[0] if after else (named[-1] if named else None)
        if first is None:
            return iter(())
        passages = [first, *self.store.following(first, OPTION_PASSAGES)]
        return (s for p in passages for s in split_passage(p) if answer_worthy(s.text))

    def _sections_of(self, document_id: str) -> dict[tuple[str, ...], Passage]:
        """A page's sections: the first passage of each, in page order; remembered per page."""

        def index() -> dict[tuple[str, ...], Passage]:
            return {p.section_path: p for p in self.store.section_starts(document_id) if p.section_path}

        return _remembered(self._sections, document_id, index)

    def _apply_to_patient(self, answer: Answer, context: PatientContext) -> Answer:
        """Flag what does not apply to this patient, and list candidate trials."""
        if context.is_empty():
            return answer
        flags: dict[tuple[str, str | None, str, str], Flag] = {}
        for sentence in answer.sentences():  # a bottom-line sentence recurs in its section: flag it once
            text = f"{sentence.label or ''} {sentence.text}"
            for flag in assess(sentence.text, self.normaliser.agents(text), context):
                flags.setdefault((flag.kind.value, flag.agent, flag.sentence, flag.reason), flag)
        return answer.model_copy(
            update={"patient": context, "flags": list(flags.values()), "trials": self.trials(context)}
        )

    def _evidence(self, hits: list[Hit]) -> list[tuple[float, Passage]]:
        """Retrieved passages with their prior (fused score relative to the best); a list lead-in
        ("... include the following:") brings the list items under it, which carry the content, and a list
        item found alone brings its lead-in and the other items."""
        passages = self.store.passages([h.passage_id for h in hits])
        best = max((h.score for h in hits), default=1.0) or 1.0
        evidence: dict[str, tuple[float, Passage]] = {}  # in order; a list's items move under their lead-in
        for hit in hits:
            passage = passages.get(hit.passage_id)
            if passage is None or passage.id in evidence:
                continue
            prior = hit.score / best
            lead_in = self._lead_in(passage) if passage.kind == "list_item" else None
            if lead_in is not None:
                if lead_in.id in evidence:
                    continue  # already here with its items
                passage = lead_in
            evidence[passage.id] = (prior, passage)
            if passage.text.rstrip().endswith(":"):
                for item in self._list_under(passage):
                    earlier = evidence.pop(item.id, None)
                    evidence[item.id] = (max(0.95 * prior, earlier[0] if earlier else 0.0), item)
        return list(evidence.values())

    def _lead_in(self, item: Passage) -> Passage | None:
        """The passage that introduces the list `item` belongs to ("Risk factors include:"), if any;
        remembered per item, as list items recur across questions."""
        return _remembered(self._lead_ins, item.id, lambda: self._find_lead_in(item))

    def _find_lead_in(self, item: Passage) -> Passage | None:
        """The first passage before `item` in its section that is no list item, when it ends with a colon; the
        few passages right before it are read first (most items stand near their lead-in), then the rest."""
        for limit in (LIST_NEAR, LIST_LIMIT):
            before = self.store.preceding(item, limit)
            for p in before:
                if p.kind != "list_item":
                    return p if p.text.rstrip().endswith(":") else None
            if len(before) < limit:
                return None  # the section starts with the list
        return None

    def _list_under(self, lead_in: Passage) -> list[Passage]:
        """The items of the list `lead_in` introduces; remembered per lead-in, as lists recur across questions."""
        return _remembered(self._lists, lead_in.id, lambda: self._find_list_under(lead_in))

    def _find_list_under(self, lead_in: Passage) -> list[Passage]:
        items = []
        for p in self.store.following(lead_in, LIST_LIMIT):
            if p.kind != "list_item":
                break
            items.append(p)
        return items

    def _authority(self, document_id: str) -> float:
        """Health-professional summaries first for a clinician reader, patient versions first for a patient."""
        return authority(self.documents.get(document_id), self.audience)

    def _abstain(self, question: str, status: AnswerStatus, note: str) -> Answer:
        return Answer(
            status=status,
            question=question,
            bottom_line=[],
            sections=[],
            references=[],
            sources=[],
            disclaimer=DISCLAIMER,
            note=note,
        )


def _remembered(cache: dict[str, _T], key: str, compute: Callable[[], _T]) -> _T:
    """`cache[key]`, computed the first time; the cache starts over past `LEAD_IN_CACHE` entries. The answerer
    is rebuilt with each new index, so what it remembers of the store never outlives an ingest."""
    if key not in cache:
        if len(cache) > LEAD_IN_CACHE:
            cache.clear()
        cache[key] = compute()
    return cache[key]


def _title_key(text: str) -> str:
    """A heading or a short item as compared with each other: lower case, words only."""
    return " ".join(_WORD.findall(text.lower()))


def _apart(question: str, terms: set[str]) -> tuple[str, str]:
    """The question less its words whose terms are all in `terms`, and those words: searched apart, at the
    weight of an expansion."""
    if not terms:
        return question, ""
    told: list[str] = []

    def apart(match: re.Match[str]) -> str:
        said = analyze_cached([match.group(0)])[0]
        if said and set(said) <= terms:
            told.append(match.group(0))
            return " "
        return match.group(0)

    rest = _WORD.sub(apart, question)
    return (rest, " ".join(told)) if query_terms(rest) else (question, "")


def _fit_with_setting(topic: TopicFit, question: str, line: Line) -> Callable[[Passage], float]:
    """How a passage fits the question: its page's topic, and its section's treatment setting against the one
    the question names (or the patient's: therapies behind them, a recurrence)."""
    setting = "later" if line.later else question_setting(question)
    named = named_settings(question)

    def fit(passage: Passage) -> float:
        return topic.weight(passage) * section_setting_weight(passage, setting, named)

    return fit


def _other_markers_last(candidates: list[Candidate], context: PatientContext) -> list[Candidate]:
    """A sentence about tumours with another status of one of the patient's markers ranks below the others (it
    stays in the answer, flagged)."""
    return _ranked_down(candidates, lambda c: conflict(c.sentence.labelled, context.biomarkers) is not None)


def _ranked_down(candidates: list[Candidate], applies_less: Callable[[Candidate], bool]) -> list[Candidate]:
    """The candidates re-ranked, those that apply less to this patient keeping `HISTORY_SHARE` of their score;
    only the best `RERANKED` are read (an answer shows far fewer), the rest follow as they were."""
    head, rest = candidates[:RERANKED], candidates[RERANKED:]
    ranked = [replace(c, score=c.score * HISTORY_SHARE) if applies_less(c) else c for c in head]
    return sorted([*ranked, *rest], key=lambda c: -c.score)


def _distinct(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates less repeats of a sentence (the question's own search and a step can find the same one)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for c in candidates:
        key = (c.sentence.passage.id, c.sentence.position)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _verdicts_first(candidates: list[Candidate]) -> list[Candidate]:
    """For a yes/no question, a sentence that states an effect found or not found gains the sentence bonus."""
    bonus = settings().answer.sentence_bonus
    ranked = [replace(c, score=c.score + bonus) if states_a_verdict(c.sentence.text) else c for c in candidates]
    return sorted(ranked, key=lambda c: -c.score)


def _rewordings(expansions: list[Expansion]) -> dict[str, tuple[frozenset[str], ...]]:
    """Own term -> the wordings an abbreviation, shorthand or drug-name expansion gives it ("chemo" ->
    {chemotherapi}); a one-word expansion term, so each wording stands for that word alone, or each word of a
    phrase the pages write as one abbreviation ("bispecific T-cell engager" -> {bite})."""
    found: dict[str, list[frozenset[str]]] = {}
    for e in expansions:
        if e.origin == "kind":
            continue
        said = analyze_cached([e.term])[0]
        adds = frozenset(analyze_cached([e.adds])[0])
        if len(said) == 1 and adds and said[0] not in adds:
            found.setdefault(said[0], []).append(adds)
        elif len(said) > 1 and len(adds) == 1 and not adds & set(said):
            for word in said:  # a phrase the pages abbreviate ("bispecific T-cell engager" -> BiTE)
                found.setdefault(word, []).append(adds)
    return {t: tuple(w) for t, w in found.items()}


def without_topic(q: QueryTerms, topic: TopicFit) -> QueryTerms:
    """The question's terms less those naming its disease, when others remain: the topic decides which pages
    fit; the rest of the question decides which sentence answers it."""
    named = topic.terms()
    rest = {t: w for t, w in q.weights.items() if t not in named}
    if not named or not any(rest.values()):
        return q
    return QueryTerms(rest, {t: w for t, w in q.expansion.items() if t not in named}, q.synonyms)


def authority(document: DocumentSummary | None, reader: Audience) -> float:
    """How much a document's sentences count for this reader: the version written for them comes first; an
    abstract of primary literature counts less than any guideline (it answers where the guidelines are silent)."""
    if document is None or document.audience is None:
        return 0.95
    preferred = "patient" if reader == "patient" else "health_professional"
    weight = 1.0 if document.audience == preferred else 0.85
    return weight * PRIMARY_LITERATURE_WEIGHT if document.kind == "primary_literature" else weight
