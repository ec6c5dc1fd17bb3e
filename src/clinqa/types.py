"""Domain types: what is ingested (documents, passages, references) and what is answered.

The JSON answer contract is generated from `Answer` (see `answer_json_schema`), never written by hand twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentAudience = Literal["health_professional", "patient"]
DocumentKind = Literal["guideline", "primary_literature"]
Audience = Literal["clinician", "patient"]  # who reads an answer


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- ingested material -------------------------------------------------------------------------------------


class Reference(Frozen):
    """One entry of a document's numbered reference list."""

    number: int = Field(description="The entry's own number in the document's reference list")
    text: str
    pmid: str | None = None


class Citation(Frozen):
    """A citation marker inside a passage: the reference numbers it names and where it sits."""

    offset: int = Field(description="Character offset in the passage text right after which the marker stood")
    numbers: tuple[int, ...]
    level_of_evidence: str | None = None


class Passage(Frozen):
    """A paragraph or list item, the unit of retrieval and of traceability."""

    id: str
    document_id: str
    ordinal: int
    section_path: tuple[str, ...]
    kind: Literal["paragraph", "list_item"]
    text: str = Field(description="Plain text, citation markers removed")
    citations: tuple[Citation, ...] = ()

    @property
    def section(self) -> str:
        return " > ".join(self.section_path)

    @property
    def text_hash(self) -> str:
        """Content key of the text: equal texts share one embedding."""
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


class Section(Frozen):
    """A heading in the document's section tree."""

    title: str
    level: int
    path: tuple[str, ...]


class LiteratureRecord(Frozen):
    """What a primary-literature document (a PubMed record) says of itself besides its abstract."""

    pmid: str
    doi: str | None = None
    journal: str | None = None
    year: int | None = None
    authors: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    mesh_headings: tuple[str, ...] = ()
    study_design: str | None = Field(
        default=None, description="Design level read from the publication types, e.g. 'randomised trial'"
    )
    conclusion: str | None = Field(default=None, description="The abstract's CONCLUSIONS section, when labelled")

    @property
    def pubmed_url(self) -> str:
        return pubmed_url(self.pmid)


def pubmed_url(pmid: str) -> str:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


class Document(Frozen):
    """A parsed source document, ready to be stored: a guideline page, or a PubMed record (primary literature)."""

    id: str
    title: str
    url: str | None = None
    audience: DocumentAudience | None = None
    updated: dt.date | None = None
    source_path: str
    format: Literal["pdq-markdown", "plain-text", "html", "pubmed-xml", "medline-text"]
    content_hash: str
    sections: tuple[Section, ...]
    passages: tuple[Passage, ...]
    references: tuple[Reference, ...]
    kind: DocumentKind = "guideline"
    literature: LiteratureRecord | None = Field(default=None, description="Set for primary literature")

    def reference(self, number: int) -> Reference | None:
        return next((r for r in self.references if r.number == number), None)


class DocumentSummary(Frozen):
    id: str
    title: str
    url: str | None
    audience: DocumentAudience | None
    updated: dt.date | None
    passages: int
    references: int
    kind: DocumentKind = "guideline"
    study_design: str | None = None


class ChangeKind(StrEnum):
    ADDED = "added"
    UPDATED = "updated"


class DocumentChange(Frozen):
    """A recorded change of a document's content between two ingests."""

    document_id: str
    kind: ChangeKind
    at: dt.datetime
    old_hash: str | None
    new_hash: str
    passages_added: tuple[str, ...]
    passages_removed: tuple[str, ...]


class IngestFailure(Frozen):
    path: str
    reason: str


class IngestReport(BaseModel):
    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    passages: int = 0
    references: int = 0
    trials: int = 0
    skipped: list[IngestFailure] = []  # not failures: e.g. the same document found at a second path
    failed: list[IngestFailure] = []
    seconds: float = 0.0

    @property
    def documents(self) -> int:
        return self.documents_added + self.documents_updated + self.documents_unchanged


# --- patients and trials ----------------------------------------------------------------------------------


class PriorTherapy(Frozen):
    """One line of therapy the patient has had, as described and as normalised."""

    described: str = Field(description="As the user wrote it, e.g. 'gem/doc'")
    agents: list[str] = Field(description="Normalised lower-case generic names, e.g. ['gemcitabine', 'docetaxel']")
    regimen: str | None = Field(default=None, description="Regimen name when one was recognised, e.g. 'MAP'")
    line: int | None = Field(default=None, description="Line of therapy (1 = first), when given")
    started: dt.date | None = Field(default=None, description="First dose, when a record gives it")
    ended: dt.date | None = Field(default=None, description="Last dose or end of the line, when a record gives it")
    stopped_for: Literal["progression", "toxicity", "completed"] | None = Field(
        default=None, description="Why the line ended, where the record says"
    )


class PriorProcedure(Frozen):
    """A cancer surgery or course of radiotherapy the patient has had (read from a record)."""

    kind: Literal["surgery", "radiotherapy"]
    described: str = Field(description="As the record names it, e.g. 'Lumpectomy of breast'")
    performed: dt.date | None = None


class RecordFact(Frozen):
    """Which resources of a FHIR record a fact about the patient was read from."""

    fact: str = Field(description="The fact as shown, e.g. 'ECOG 1' or 'line 2: fulvestrant'")
    resources: list[str] = Field(description="Resource references, e.g. ['Observation/ecog-1']")


class UnreadResource(Frozen):
    resource: str
    reason: str


class PatientRecord(Frozen):
    """Where a patient context read from a FHIR record came from: fact by fact, and what could not be read."""

    source: str = Field(description="The file or request the record came from")
    patient_id: str | None = None
    facts: list[RecordFact] = Field(default_factory=list)
    unread: list[UnreadResource] = Field(
        default_factory=list, description="Resources of a kind clinqa reads that it could not read, and why"
    )


class PatientContext(BaseModel):
    """What clinqa understood about the patient; shown back so the user can correct it."""

    model_config = ConfigDict(extra="forbid")

    age: float | None = Field(default=None, ge=0, le=120, description="Age in years")
    age_group: Literal["child", "adolescent", "adult"] | None = None
    diagnosis: str | None = None
    recurrent: bool | None = Field(default=None, description="Disease has recurred or progressed")
    recurrence_number: int | None = Field(default=None, ge=1, description="1 = first recurrence")
    stage: str | None = Field(default=None, description="Stage group as recorded, e.g. 'IV' or 'IIIA'")
    sites: list[str] = Field(default_factory=list, description="Sites of disease, e.g. ['lung']")
    bilateral: bool | None = Field(default=None, description="Disease in both lungs (or both sides)")
    lesion_count: int | None = Field(default=None, ge=0, description="Number of nodules or lesions, when given")
    months_since_therapy: float | None = Field(default=None, ge=0, description="Time from end of therapy to relapse")
    resectable: bool | None = None
    ecog: int | None = Field(default=None, ge=0, le=5, description="ECOG performance status")
    karnofsky: int | None = Field(default=None, ge=0, le=100, description="Karnofsky performance status")
    lines_of_therapy: int | None = Field(default=None, ge=0, description="Number of prior lines, when given")
    prior_therapies: list[PriorTherapy] = Field(default_factory=list, description="In the order given")
    prior_agents: list[str] = Field(
        default_factory=list, description="Every agent received, normalised lower-case generic names"
    )
    not_received: list[str] = Field(
        default_factory=list, description="Agents the user said the patient has NOT had ('no prior ifosfamide')"
    )
    prior_procedures: list[PriorProcedure] = Field(default_factory=list, description="Surgery and radiotherapy")
    biomarkers: dict[str, Literal["positive", "negative"]] = Field(
        default_factory=dict,
        description="Tumour markers stated, e.g. {'RAS': 'positive'} for RAS-mutant, {'HER2': 'negative'}",
    )
    unfit_for: list[str] = Field(
        default_factory=list,
        description="Treatments the patient cannot have, as stated ('not a transplant candidate': ['transplant'])",
    )
    record: PatientRecord | None = Field(
        default=None, description="For a patient read from a FHIR record: the resource each fact came from"
    )
    conflicts: list[str] = Field(
        default_factory=list, description="Contradictions found (e.g. age 12 and 'adult'); reported, not resolved"
    )

    def is_empty(self) -> bool:
        return self == PatientContext()


class FlagKind(StrEnum):
    PREVIOUSLY_RECEIVED = "previously_received"
    SAME_CLASS_RECEIVED = "same_class_received"
    POPULATION_MISMATCH = "population_mismatch"
    UNKNOWN_ELIGIBILITY = "unknown_eligibility"


class Flag(Frozen):
    """A warning attached to an answer sentence about whether its evidence applies to this patient."""

    kind: FlagKind
    agent: str | None
    sentence: str
    reason: str


class Trial(Frozen):
    """A clinical trial record, from a registry file or named in guideline text."""

    id: str = Field(description="NCT identifier")
    title: str
    status: str | None = Field(default=None, description="Overall status as the record gives it")
    recruiting: bool | None = None
    phase: str | None = None
    conditions: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    min_age_years: float | None = None
    max_age_years: float | None = None
    inclusion: tuple[str, ...] = Field(default=(), description="Inclusion criteria, one per item")
    exclusion: tuple[str, ...] = Field(default=(), description="Exclusion criteria, one per item")
    source: str = Field(description="Where the record came from: a registry format or 'guideline:<document id>'")
    url: str | None = None


Verdict = Literal["met", "not_met", "unknown"]


class CriterionVerdict(Frozen):
    criterion: str
    verdict: Verdict
    reason: str


class TrialMatch(Frozen):
    id: str
    title: str
    status: str | None
    criteria: list[CriterionVerdict]
    source: str | None = None

    @property
    def eligible(self) -> bool:
        return all(c.verdict != "not_met" for c in self.criteria)


class Turn(Frozen):
    question: str
    standalone: str = Field(description="The question rewritten to stand alone; what retrieval used")
    status: str
    at: dt.datetime


class Thread(Frozen):
    """A conversation: follow-up questions inherit the patient context and the earlier questions."""

    id: str
    created_at: dt.datetime
    expires_at: dt.datetime = Field(description="When the conversation is deleted (privacy.thread_retention_days)")
    audience: Audience
    patient: PatientContext
    turns: list[Turn]


# --- answers -----------------------------------------------------------------------------------------------


class AnswerStatus(StrEnum):
    ANSWERED = "answered"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    OUT_OF_SCOPE = "out_of_scope"


class SentenceSource(Frozen):
    document_id: str
    section: str
    passage_id: str


class Sentence(Frozen):
    """An answer sentence: taken from one source passage, with the citations the source attached to it."""

    text: str
    label: str | None = Field(default=None, description="The bold lead of the source list item, if any")
    source: SentenceSource
    citations: list[int] = Field(description="Values of references[].n")
    level_of_evidence: str | None = None
    primary_literature: bool = Field(
        default=False, description="Taken from a PubMed abstract, not a guideline; ranked below guideline sentences"
    )
    study_design: str | None = Field(default=None, description="For primary literature: e.g. 'randomised trial'")


class AnswerSection(Frozen):
    title: str
    sentences: list[Sentence]


class LinkedAbstract(Frozen):
    """An ingested PubMed record that a guideline reference cites."""

    document_id: str = Field(description="The record's document id in this knowledge base")
    conclusion: str | None = Field(description="The abstract's conclusion, when the abstract labels one")
    study_design: str | None = None


class AnswerReference(Frozen):
    n: int
    text: str
    pmid: str | None
    source_number: int | None = Field(description="The reference's own number in its source document's list")
    document_id: str
    pubmed_url: str | None = None
    url: str | None = Field(default=None, description="A registry record's address, for a trial the source names")
    abstract: LinkedAbstract | None = Field(default=None, description="The cited record, when it has been ingested")


class SourceDocument(Frozen):
    id: str
    title: str
    url: str | None
    updated: dt.date | None = Field(description="Last-updated date of the source, YYYY-MM-DD")


class Answer(Frozen):
    """A structured answer. Every sentence is a source sentence and keeps its source and citations."""

    status: AnswerStatus
    question: str
    bottom_line: list[Sentence]
    sections: list[AnswerSection]
    references: list[AnswerReference]
    sources: list[SourceDocument]
    disclaimer: str
    note: str | None = Field(
        default=None,
        description="Why the answer abstained, when it did; or a caveat on the answer (e.g. no patient-version page)",
    )
    patient: PatientContext | None = Field(default=None, description="The patient context clinqa understood")
    flags: list[Flag] = Field(default_factory=list, description="Applicability warnings on answer sentences")
    trials: list[TrialMatch] = Field(default_factory=list, description="Candidate trials, eligible first")
    audience: Audience = "clinician"
    thread_id: str | None = Field(default=None, description="The conversation this answer belongs to")

    def sentences(self) -> list[Sentence]:
        return [*self.bottom_line, *(s for sec in self.sections for s in sec.sentences)]


def answer_json_schema() -> dict[str, Any]:
    """The JSON Schema of `clinqa ask --json` output, generated from the types."""
    return Answer.model_json_schema(mode="serialization")


def patient_json_schema() -> dict[str, Any]:
    """The JSON Schema of a `--patient` file, generated from the types."""
    return PatientContext.model_json_schema(mode="validation")
