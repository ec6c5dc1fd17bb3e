"""PubMed records as primary-literature documents: PubMed XML, the older MEDLINE XML, and MEDLINE text.

Formats, told apart by their content (a `.gz` file is read unzipped):

- PubMed XML: `PubmedArticleSet` of `PubmedArticle`s, each wrapping a `MedlineCitation` (what PubMed exports);
- MEDLINE XML: `MedlineCitationSet` with `MedlineCitation`s straight under the root (the older baseline files);
- MEDLINE text: `PMID- ` tagged records separated by blank lines (PubMed's "MEDLINE" / `.nbib` export).

Each record becomes one `Document` of kind "primary_literature" (id `pubmed-<PMID>`), one passage per abstract
section keeping its label; the record's own content is hashed, so an updated record replaces the stored one and
an unchanged one is left alone. A bad record is an `IngestError` naming its PMID (or its place when it has none);
the others are kept. XML is read by the bounded expat reader the trial registry files use: entity declarations
and external entities are refused, never expanded.
"""

from __future__ import annotations

import gzip
import io
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from clinqa.data import read_table
from clinqa.errors import IngestError
from clinqa.ingest import content_hash
from clinqa.ingest.files import read_regular_file
from clinqa.settings import settings
from clinqa.trials.decode import Undecodable, load_xml
from clinqa.types import Document, LiteratureRecord, Passage, Section, pubmed_url

__all__ = ["LITERATURE_SUFFIXES", "is_literature_file", "parse_literature", "study_design"]

# .xml and .txt are shared with trial registry files and plain-text guidelines: `is_literature_file` looks inside.
LITERATURE_SUFFIXES = (".gz", ".medline", ".nbib", ".txt", ".xml")
_SNIFF_BYTES = 4096
_GZIP_MAGIC = b"\x1f\x8b"
_XML_ROOTS = ("PubmedArticleSet", "MedlineCitationSet")
_MEDLINE_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*PMID- ")
_CONCLUSION = {"CONCLUSION", "CONCLUSIONS", "INTERPRETATION"}  # labels and NlmCategory of an abstract's conclusion
_FIELD = re.compile(r"^([A-Z][A-Z0-9 ]{1,3})- ?(.*)$")
# An inline label of a flattened structured abstract: upper-case words and a colon, at the start or after a sentence.
_INLINE_LABEL = re.compile(r"(?:^|(?<=[.!?])\s+)([A-Z][A-Z ,&/-]{2,40}):\s+")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class _Record:
    """One record as read, before it becomes a Document."""

    pmid: str
    title: str
    sections: list[tuple[str, str, str]]  # (label, category, text) per abstract section
    literature: LiteratureRecord
    raw: bytes  # the record's own content, hashed to tell an updated record from an unchanged one
    format: Literal["pubmed-xml", "medline-text"]


def is_literature_file(path: Path) -> bool:
    """Whether `path` holds PubMed records, judged by its first bytes (an unreadable file is not: its usual
    reader reports it)."""
    if path.suffix.lower() not in LITERATURE_SUFFIXES:
        return False
    try:
        with open(path, "rb") as file:
            head = file.read(_SNIFF_BYTES)
        if head.startswith(_GZIP_MAGIC):
            with gzip.open(path, "rb") as unzipped:
                head = unzipped.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error):
        return False
    return bool(_MEDLINE_START.match(head)) or any(f"<{root}".encode() in head for root in _XML_ROOTS)


def parse_literature(path: Path) -> tuple[list[Document], list[IngestError]]:
    """(records read, one IngestError per record that could not be), in file order.

    Raises IngestError when the file as a whole cannot be read (size limit, broken gzip, not XML, no record).
    """
    name = str(path)
    limit = settings().ingest.max_trial_file_bytes
    raw = _unzipped(name, read_regular_file(Path(path), limit), limit)
    documents: list[Document] = []
    errors: list[IngestError] = []
    records = _medline_records(name, raw) if _MEDLINE_START.match(raw) else _xml_records(name, raw)
    for record in records:
        if isinstance(record, IngestError):
            errors.append(record)
        else:
            documents.append(_document(name, record))
    if not documents and not errors:
        raise IngestError(name, "no PubMed record in the file")
    return documents, errors


def study_design(publication_types: tuple[str, ...]) -> str | None:
    """The design level of a record with these publication types: the strongest that `study_designs.tsv` names."""
    wanted = {t.casefold() for t in publication_types}
    return next((level for kind, level in _design_levels() if kind in wanted), None)


@cache
def _design_levels() -> tuple[tuple[str, str], ...]:
    return tuple((row.cells[0].casefold(), row.cells[1]) for row in read_table("study_designs.tsv", 2, 2))


def _unzipped(name: str, raw: bytes, limit: int) -> bytes:
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
            data = unzipped.read(limit + 1)  # never more than the limit, however well it compresses
    except (OSError, EOFError, zlib.error) as error:
        raise IngestError(name, f"not a readable gzip file ({error})") from None
    if len(data) > limit:
        raise IngestError(name, f"unzips to more than the {limit / 2**20:g} MB limit")
    return data


# --- XML ---------------------------------------------------------------------------------------------------


def _xml_records(name: str, raw: bytes) -> Iterator[_Record | IngestError]:
    try:
        root = load_xml(raw)
    except Undecodable as error:
        raise IngestError(name, str(error)) from None
    if root.tag not in _XML_ROOTS:
        raise IngestError(
            name, f"XML root <{root.tag}> is not a PubMed record set (expected {' or '.join(_XML_ROOTS)})"
        )
    for number, element in enumerate(root, start=1):
        if element.tag not in ("PubmedArticle", "MedlineCitation"):
            continue  # DeleteCitation, PubmedBookArticle: not records of an abstract
        citation = element if element.tag == "MedlineCitation" else element.find("MedlineCitation")
        pmid = _text(citation.find("PMID")) if citation is not None else ""
        if citation is None or not pmid:
            yield IngestError(name, f"record {number}: no MedlineCitation/PMID; not ingested")
            continue
        try:
            yield _xml_record(pmid, element, citation)
        except ValueError as error:
            yield IngestError(name, f"PMID {pmid}: {error}; not ingested")


def _xml_record(pmid: str, element: ET.Element, citation: ET.Element) -> _Record:
    article = citation.find("Article")
    title = _text(article.find("ArticleTitle")) if article is not None else ""
    if article is None or not title:
        raise ValueError("no article title")
    sections = [
        (a.get("Label") or "", (a.get("NlmCategory") or "").upper(), _text(a))
        for a in article.findall("Abstract/AbstractText")
        if _text(a)
    ]
    types = tuple(_text(t) for t in article.findall("PublicationTypeList/PublicationType") if _text(t))
    literature = LiteratureRecord(
        pmid=pmid,
        doi=_xml_doi(element, article),
        journal=_text(article.find("Journal/Title")) or None,
        year=_xml_year(article),
        authors=tuple(a for a in map(_author, article.findall("AuthorList/Author")) if a),
        publication_types=types,
        mesh_headings=tuple(_mesh(m) for m in citation.findall("MeshHeadingList/MeshHeading") if _mesh(m)),
        study_design=study_design(types),
        conclusion=_conclusion(sections),
    )
    return _Record(pmid, title, sections, literature, ET.tostring(element, encoding="utf-8"), "pubmed-xml")


def _text(element: ET.Element | None) -> str:
    """All the text inside `element` (markup such as <sub> or <b> flattened), whitespace collapsed."""
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _xml_doi(element: ET.Element, article: ET.Element) -> str | None:
    for found in (*article.findall("ELocationID"), *element.findall("PubmedData/ArticleIdList/ArticleId")):
        if (found.get("EIdType") or found.get("IdType")) == "doi" and _text(found):
            return _text(found)
    return None


def _xml_year(article: ET.Element) -> int | None:
    date = article.find("Journal/JournalIssue/PubDate")
    found = _YEAR.search(_text(date.find("Year")) or _text(date.find("MedlineDate"))) if date is not None else None
    return int(found[1]) if found else None


def _author(author: ET.Element) -> str:
    last, initials = _text(author.find("LastName")), _text(author.find("Initials"))
    return f"{last} {initials}".strip() or _text(author.find("CollectiveName"))


def _mesh(heading: ET.Element) -> str:
    descriptor = _text(heading.find("DescriptorName"))
    qualifiers = [_text(q) for q in heading.findall("QualifierName")]
    return "/".join([descriptor, *qualifiers]) if descriptor else ""


# --- MEDLINE text ------------------------------------------------------------------------------------------


def _medline_records(name: str, raw: bytes) -> Iterator[_Record | IngestError]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestError(name, "MEDLINE text that is not UTF-8") from None
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip())
    for number, block in enumerate(blocks, start=1):
        fields = _medline_fields(block)
        pmid = next(iter(fields.get("PMID", [])), "")
        if not pmid:
            yield IngestError(name, f"record {number}: no PMID line; not ingested")
            continue
        title = " ".join(fields.get("TI", []))
        if not title:
            yield IngestError(name, f"PMID {pmid}: no title (TI); not ingested")
            continue
        types = tuple(fields.get("PT", []))
        sections = _inline_sections(" ".join(fields.get("AB", [])))
        literature = LiteratureRecord(
            pmid=pmid,
            doi=next((v.split()[0] for v in fields.get("AID", []) + fields.get("LID", []) if "[doi]" in v), None),
            journal=next(iter(fields.get("JT", fields.get("TA", []))), None),
            year=next((int(m[1]) for v in fields.get("DP", []) if (m := _YEAR.search(v))), None),
            authors=tuple(fields.get("AU", [])),
            publication_types=types,
            mesh_headings=tuple(fields.get("MH", [])),
            study_design=study_design(types),
            conclusion=_conclusion(sections),
        )
        yield _Record(pmid, title, sections, literature, block.encode("utf-8"), "medline-text")


def _medline_fields(block: str) -> dict[str, list[str]]:
    """Each tag's values, in order; continuation lines (indented) joined onto the value they continue."""
    fields: dict[str, list[str]] = {}
    values: list[str] | None = None
    for line in block.split("\n"):
        match = _FIELD.match(line)
        if match:
            values = fields.setdefault(match[1].strip(), [])
            values.append(match[2].strip())
        elif values is not None and line.strip():
            values[-1] = f"{values[-1]} {line.strip()}".strip()
    return fields


def _inline_sections(abstract: str) -> list[tuple[str, str, str]]:
    """A flattened structured abstract ("BACKGROUND: ... RESULTS: ...") split at its labels; otherwise whole."""
    abstract = " ".join(abstract.split())
    labels = list(_INLINE_LABEL.finditer(abstract))
    if not labels or labels[0].start() != 0:
        return [("", "", abstract)] if abstract else []
    ends = [m.start() for m in labels[1:]] + [len(abstract)]
    sections = [(m[1], "", abstract[m.end() : end].strip()) for m, end in zip(labels, ends, strict=True)]
    return [s for s in sections if s[2]]


# --- records as documents ----------------------------------------------------------------------------------


def _conclusion(sections: list[tuple[str, str, str]]) -> str | None:
    found = [text for label, category, text in sections if label.upper() in _CONCLUSION or category in _CONCLUSION]
    return " ".join(found) or None


def _document(source_path: str, record: _Record) -> Document:
    document_id = f"pubmed-{record.pmid}"
    passages = []
    for ordinal, (label, _category, text) in enumerate(record.sections):
        heading = label.upper() if label else "Abstract"
        passages.append(
            Passage(
                id=f"{document_id}#{ordinal + 1}",
                document_id=document_id,
                ordinal=ordinal,
                section_path=(heading,),
                kind="paragraph",
                text=text,
            )
        )
    headings = dict.fromkeys(p.section_path[0] for p in passages)
    return Document(
        id=document_id,
        title=record.title,
        url=pubmed_url(record.pmid),
        audience="health_professional",
        source_path=source_path,
        format=record.format,
        content_hash=content_hash(record.raw),
        sections=tuple(Section(title=h, level=2, path=(h,)) for h in headings),
        passages=tuple(passages),
        references=(),
        kind="primary_literature",
        literature=record.literature,
    )
