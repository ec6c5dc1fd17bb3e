"""Ingest parsers on the real sources: the plain-text seed page and the PDQ osteosarcoma summary.

The whole-corpus run (every page under shared/data/pdq) is marked slow.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from pathlib import Path

import pytest

from clinqa.errors import IngestError
from clinqa.ingest import discover, parse_file
from clinqa.ingest.assemble import audience_of, document_slug
from clinqa.ingest.citations import extract_citations
from clinqa.types import Document, Passage

SHARED = Path(__file__).parents[1] / ".." / "shared"
SEED = SHARED / "seeds" / "000_e9b37f1732a04d97.txt"
PDQ_DIR = SHARED / "data" / "pdq"
PDQ = PDQ_DIR / "pdq" / "types-bone-hp-osteosarcoma-treatment-pdq.md"
RECURRENT = "Treatment of Recurrent Osteosarcoma and UPS of Bone"
LEFTOVER_MARKUP = ("](", "#cit/", "[[", "[Level", "**", "list_uids")

needs_seed = pytest.mark.skipif(not SEED.exists(), reason="shared/seeds is not beside the project")
needs_pdq = pytest.mark.skipif(not PDQ.exists(), reason="shared/data/pdq is not beside the project")


@pytest.fixture(scope="module")
def seed() -> Document:
    return parse_file(SEED)


@pytest.fixture(scope="module")
def pdq() -> Document:
    return parse_file(PDQ)


def passage_with(document: Document, *fragments: str) -> Passage:
    found = [p for p in document.passages if all(f in p.text for f in fragments)]
    assert len(found) == 1, f"{len(found)} passages contain {fragments}"
    return found[0]


def text_before(passage: Passage, offset: int) -> str:
    return passage.text[:offset]


def pmids(document: Document, numbers: tuple[int, ...]) -> list[str | None]:
    references = [document.reference(n) for n in numbers]
    assert all(r is not None for r in references)
    return [r.pmid for r in references if r is not None]


# --- citation markers ---------------------------------------------------------------------------------------


def test_pdq_markers_merge_into_one_citation_with_its_level_of_evidence() -> None:
    raw = (
        "all pulmonary metastases.[[4](#cit/section_9.4),[12](#cit/section_9.12)]; [[60](#cit/section_9.60)]"
        "[[Level of evidence C1](/Common/PopUps/popDefinition.aspx?id=810035&version=HealthProfessional)] Next."
    )
    text, citations = extract_citations(raw)
    assert text == "all pulmonary metastases. Next."
    assert [(c.numbers, c.level_of_evidence) for c in citations] == [((4, 12, 60), "C1")]
    assert text[: citations[0].offset] == "all pulmonary metastases."


def test_pdq_ranges_and_lists_expand() -> None:
    _, [ranged] = extract_citations("years.[[1](#cit/section_9.1)-[4](#cit/section_9.4)]")
    _, [listed] = extract_citations("cure.[[4](#cit/section_9.4),[6](#cit/section_9.6)]")
    assert ranged.numbers == (1, 2, 3, 4)
    assert listed.numbers == (4, 6)


def test_plain_text_markers() -> None:
    text, citations = extract_citations(
        "cured.[8,6,9-12] Ranges from 20% to 45%.[4,12,13]; [29][Level of evidence: 3iiiA] End.", markdown=False
    )
    assert text == "cured. Ranges from 20% to 45%. End."
    assert [(c.numbers, c.level_of_evidence) for c in citations] == [
        ((8, 6, 9, 10, 11, 12), None),
        ((4, 12, 13, 29), "3iiiA"),
    ]
    assert text[: citations[1].offset].endswith("45%.")


def test_inline_markdown_becomes_plain_text() -> None:
    text, citations = extract_citations(
        "- **Ifosfamide\nalone** with [mesna](/def/1)**.** See [AOST2031 [NCT05235165]](/clinicaltrials/NCT0)"
        " and NCCR\\*Explorer ![chart](/a.jpg) &amp; more."
    )
    assert text == "- Ifosfamide alone with mesna. See AOST2031 [NCT05235165] and NCCR*Explorer & more."
    assert citations == ()


def test_bracketed_arithmetic_is_not_a_citation() -> None:
    text, citations = extract_citations("computed as 51% (i.e., [206–160]/90).")
    assert text == "computed as 51% (i.e., [206–160]/90)."
    assert citations == ()


@pytest.mark.parametrize(
    ("url", "declared", "audience"),
    [
        ("https://www.cancer.gov/types/bone/hp/osteosarcoma-treatment-pdq", "patient", "health_professional"),
        ("https://www.cancer.gov/types/bone/hp", None, "health_professional"),
        ("https://www.cancer.gov/types/bone/patient/osteosarcoma-treatment-pdq", None, "patient"),
        ("https://www.cancer.gov/types/bone", None, None),
        (None, "health professional", "health_professional"),
        (None, "Patient", "patient"),
        ("https://www.cancer.gov/hpv-vaccine", None, None),
    ],
)
def test_audience_comes_from_the_url_first(url: str | None, declared: str | None, audience: str | None) -> None:
    assert audience_of(url, declared) == audience


def test_document_ids() -> None:
    url = "https://www.cancer.gov/types/bone/hp/osteosarcoma-treatment-pdq"
    assert document_slug(url, "x.md") == "types-bone-hp-osteosarcoma-treatment-pdq"
    assert document_slug(url + "?redirect=true#section", "x.md") == "types-bone-hp-osteosarcoma-treatment-pdq"
    assert document_slug(None, "/data/000_e9b37f1732a04d97.txt") == "000-e9b37f1732a04d97"
    assert document_slug("https://www.cancer.gov/", "/data/My Notes.md") == "my-notes"


# --- the plain-text seed page -------------------------------------------------------------------------------


@needs_seed
def test_seed_metadata(seed: Document) -> None:
    assert seed.title == "Osteosarcoma and Malignant Fibrous Histiocytoma of Bone Treatment (PDQ®)"
    assert seed.updated == dt.date(2014, 12, 4)
    assert seed.format == "plain-text"
    assert seed.id == "000-e9b37f1732a04d97"
    assert seed.source_path == str(SEED)
    assert len(seed.content_hash) == 64


@needs_seed
def test_seed_sections_and_chrome(seed: Document) -> None:
    titles = [s.title for s in seed.sections]
    for title in ("Recurrent Osteosarcoma and MFH of Bone", "Lung Only Recurrence", "Local Recurrence"):
        assert title in titles
    chrome = ("1-800-4-CANCER", "View entire document", "Pinterest", "Updated:")
    assert not [p.text for p in seed.passages if any(c in p.text for c in chrome)]
    trial = passage_with(seed, "EP-ILC-201")
    assert trial.kind == "list_item"
    assert trial.section_path == ("Treatment Options Under Clinical Evaluation for Recurrent Osteosarcoma",)


@needs_seed
def test_seed_survival_after_complete_resection_is_cited(seed: Document) -> None:
    passage = passage_with(seed, "5-year survival rate of 20% to 45% after complete resection")
    assert passage.section_path == ("Recurrent Osteosarcoma and MFH of Bone",)
    last = passage.citations[-1]
    assert last.numbers == (4, 6, 12, 13)
    assert text_before(passage, last.offset).endswith("complete resection of metastases at other sites.")
    first = passage.citations[0]
    assert first.numbers == (8, 6, 9, 10, 11, 12)

    efs = passage_with(seed, "Five-year event free survival (EFS)")
    cited = next(c for c in efs.citations if c.level_of_evidence)
    assert (cited.numbers, cited.level_of_evidence) == ((4, 12, 13, 29), "3iiiA")
    assert text_before(efs, cited.offset).endswith("ranges from 20% to 45%.")


@needs_seed
def test_seed_ranges_and_levels_of_evidence(seed: Document) -> None:
    opening = passage_with(seed, "Approximately 50% of relapses occur within 18 months")
    assert opening.citations[0].numbers == (1, 2, 3, 4)
    toxicity = passage_with(seed, "Toxicity of samarium-153-EDTMP is primarily hematologic.")
    assert (toxicity.citations[-1].numbers, toxicity.citations[-1].level_of_evidence) == ((26,), "3iiDiii")


@needs_seed
def test_seed_references(seed: Document) -> None:
    assert len(seed.references) == 45
    assert [r.number for r in seed.references] == list(range(1, 46))
    first = seed.references[0]
    assert first.text.startswith("Gelderblom H, Jinks RC, Sydes M, et al.: Survival after recurrent osteosarcoma")
    assert first.text.endswith("2011.")
    assert first.pmid is None
    assert "Bielack SS" in seed.references[44].text


# --- the PDQ Markdown summary -------------------------------------------------------------------------------


@needs_pdq
def test_pdq_metadata(pdq: Document) -> None:
    assert pdq.id == "types-bone-hp-osteosarcoma-treatment-pdq"
    assert pdq.title == "Osteosarcoma and UPS of Bone Treatment (PDQ®)"
    assert pdq.url == "https://www.cancer.gov/types/bone/hp/osteosarcoma-treatment-pdq"
    assert pdq.audience == "health_professional"  # although the front matter says audienceLevel: patient
    assert pdq.updated == dt.date(2025, 12, 30)
    assert pdq.format == "pdq-markdown"


@needs_pdq
def test_pdq_section_tree(pdq: Document) -> None:
    paths = {s.path for s in pdq.sections}
    assert (RECURRENT,) in paths
    for title in ("Prognostic Factors for Recurrence", "Treatment Options for Lung-Only Recurrence"):
        assert (RECURRENT, title) in paths
    assert (RECURRENT, "Treatment Options for Recurrent Osteosarcoma and UPS of Bone", "Surgery") in paths
    boilerplate = ("About This PDQ Summary", "Latest Updates to This Summary", "References")
    assert not [s for s in pdq.sections if s.title.startswith(boilerplate)]
    assert not [p for p in pdq.passages if "editorially independent of NCI" in p.text]


@needs_pdq
def test_pdq_survival_after_complete_resection_resolves_to_pubmed(pdq: Document) -> None:
    passage = passage_with(pdq, "5-year EFS rate ranges from 20% to 45%", "complete surgical resection")
    assert passage.section_path == (RECURRENT, "Treatment Options for Lung-Only Recurrence")
    last = passage.citations[-1]
    assert last.level_of_evidence == "C1"
    assert text_before(passage, last.offset).endswith("complete surgical resection of all pulmonary metastases.")
    # section 9's [4], [12], [13] and [60]: Kempf-Bielack 2005, Chou 2005, Harting 2006, Briccoli 2010
    assert pmids(pdq, last.numbers) == ["15659502", "16206297", "16410132", "19515554"]

    prognosis = passage_with(pdq, "5-year survival rate of 20% to 45% after complete")
    assert pmids(pdq, prognosis.citations[-1].numbers) == ["15659502", "16227167", "16206297", "16410132"]


@needs_pdq
def test_pdq_section_numbered_references_map_to_their_own_list(pdq: Document) -> None:
    baseline = passage_with(pdq, "The COG, in an attempt to establish baseline event-free survival")
    [lagmay] = baseline.citations[-1].numbers
    reference = pdq.reference(lagmay)
    assert reference is not None and reference.pmid == "27400942"
    assert reference.text.startswith("Lagmay JP, Krailo MD, Dang H, et al.: Outcome of Patients With Recurrent")
    # section 1's [1] is the first entry of the first list, which has no PubMed link
    incidence = passage_with(pdq, "estimated osteosarcoma incidence rate of 5.4 cases per 1 million")
    assert incidence.citations[0].numbers == (1,)
    assert pdq.references[0].text.startswith("National Cancer Institute: NCCR*Explorer")
    assert pdq.references[0].pmid is None


@needs_pdq
def test_pdq_ranges_and_levels_of_evidence(pdq: Document) -> None:
    ifosfamide = passage_with(pdq, "Ifosfamide alone with mesna uroprotection, or in combination with etoposide.")
    numbers = ifosfamide.citations[-1].numbers  # [16]-[21] of section 9
    assert numbers == tuple(range(numbers[0], numbers[0] + 6))
    assert pmids(pdq, numbers)[0] == "7990769"  # Harris MB 1995, section 9's [16]
    gemcitabine = passage_with(pdq, "A nonrandomized comparison of two doses of gemcitabine")
    assert [c.level_of_evidence for c in gemcitabine.citations] == ["C1", "C3"]
    assert len(gemcitabine.citations[1].numbers) == 4  # [23]-[25]; [26]
    everolimus = passage_with(pdq, "Sorafenib and everolimus.")
    assert everolimus.citations[-1].level_of_evidence == "B4"
    levels = Counter(c.level_of_evidence for p in pdq.passages for c in p.citations if c.level_of_evidence)
    assert {"A1", "C1", "C3", "B4"} <= set(levels)


@needs_pdq
def test_pdq_references_are_numbered_per_document(pdq: Document) -> None:
    assert [r.number for r in pdq.references] == list(range(1, len(pdq.references) + 1))
    assert len(pdq.references) > 250
    assert all("PUBMED" not in r.text and "](" not in r.text for r in pdq.references)
    cited = {n for p in pdq.passages for c in p.citations for n in c.numbers}
    assert cited <= {r.number for r in pdq.references}


@needs_pdq
def test_pdq_navigation_is_skipped(pdq: Document) -> None:
    texts = {p.text for p in pdq.passages}
    assert not [t for t in texts if "Go to Patient Version" in t]
    # A list item linking to its section is content: the factors that may influence outcome, each one's section.
    assert "Primary tumor site." in texts
    assert "Surgery to remove all sites of metastatic disease." in texts  # a link with words after it stays


@needs_seed
@needs_pdq
def test_no_markup_is_left_in_passages(seed: Document, pdq: Document) -> None:
    for document in (seed, pdq):
        leftovers = [p.text for p in document.passages if any(m in p.text for m in LEFTOVER_MARKUP)]
        assert leftovers == []
        assert all(p.text == p.text.strip() and "\n" not in p.text for p in document.passages)
        # A short paragraph is page furniture and left out; a short list item ("Sun exposure.") is content.
        assert all(len(p.text) >= 20 for p in document.passages if p.kind != "list_item")
        assert any(len(p.text) < 20 for p in document.passages if p.kind == "list_item") or document is seed


@needs_pdq
def test_passage_ids_are_stable_and_ordinals_dense(pdq: Document, tmp_path: Path) -> None:
    assert [p.ordinal for p in pdq.passages] == list(range(len(pdq.passages)))
    assert len({p.id for p in pdq.passages}) == len(pdq.passages)
    assert all(p.id.startswith(f"{pdq.id}#") and p.document_id == pdq.id for p in pdq.passages)
    assert [p.id for p in parse_file(PDQ).passages] == [p.id for p in pdq.passages]

    edited = tmp_path / PDQ.name
    text = PDQ.read_text(encoding="utf-8")
    edited.write_text(text.replace("Osteosarcoma can be diagnosed by core needle biopsy", "Diagnosis is by biopsy"))
    again = parse_file(edited)
    assert again.id == pdq.id and again.content_hash != pdq.content_hash
    changed = {p.id for p in pdq.passages} ^ {p.id for p in again.passages}
    assert len(changed) == 2  # only the edited paragraph's id changed


# --- HTML ---------------------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html><html><head>
<title>Osteosarcoma Treatment (PDQ®)–Health Professional Version - NCI</title>
<link rel="canonical" href="https://www.cancer.gov/types/bone/hp/osteosarcoma-treatment-pdq">
<meta name="dcterms.modified" content="2025-12-30"><script>var marker = "[1]";</script></head>
<body><nav><ul><li>A navigation link that is long enough to count</li></ul></nav>
<h1>Osteosarcoma Treatment (PDQ®)–Health Professional Version</h1>
<h2>Treatment of Recurrent Osteosarcoma</h2><h3>Lung-Only Recurrence</h3>
<p>The 5-year EFS rate ranges from 20% to 45% after complete resection of all pulmonary
metastases.[<a href="#cit/section_9.4">4</a>,<a href="#cit/section_9.12">12</a>]; [<a href="#cit/section_9.60">60</a>]
[<a href="/Common/PopUps/popDefinition.aspx?id=810035">Level of evidence C1</a>] More <b>bold</b> text &amp; a_b.</p>
<ul><li>Fewer pulmonary nodules, a list item.<ul><li>A nested item with its own text.</li></ul></li></ul>
<h6>References</h6>
<ol start="4"><li>Kempf-Bielack B, et al.: Osteosarcoma relapse. J Clin Oncol 23 (3): 559-68, 2005.
<a href="http://www.ncbi.nlm.nih.gov/entrez/query.fcgi?db=PubMed&amp;list_uids=15659502">[PUBMED Abstract]</a></li>
<li value="12">Chou AJ, et al.: Treatment at first recurrence. Cancer 104 (10): 2214-21, 2005.</li>
<li value="60">Briccoli A, et al.: High grade osteosarcoma. Surg Oncol 19 (4): 193-9, 2010.
<a href="https://pubmed.ncbi.nlm.nih.gov/19515554/">[PUBMED Abstract]</a></li></ol>
<footer><p>Footer text that should never become a passage.</p></footer></body></html>"""


def test_html_page(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(HTML, encoding="utf-8")
    document = parse_file(page)
    assert document.title == "Osteosarcoma Treatment (PDQ®)–Health Professional Version"
    assert (document.id, document.audience, document.updated, document.format) == (
        "types-bone-hp-osteosarcoma-treatment-pdq",
        "health_professional",
        dt.date(2025, 12, 30),
        "html",
    )
    assert [s.path for s in document.sections] == [
        ("Treatment of Recurrent Osteosarcoma",),
        ("Treatment of Recurrent Osteosarcoma", "Lung-Only Recurrence"),
    ]
    first, item, nested = document.passages
    assert first.text.endswith("all pulmonary metastases. More bold text & a_b.")
    [citation] = first.citations
    assert (citation.numbers, citation.level_of_evidence) == ((1, 2, 3), "C1")
    assert [(r.number, r.pmid) for r in document.references] == [(1, "15659502"), (2, None), (3, "19515554")]
    assert (item.text, item.kind) == ("Fewer pulmonary nodules, a list item.", "list_item")
    assert nested.text == "A nested item with its own text."


# --- bad input ----------------------------------------------------------------------------------------------


def test_missing_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.md"
    with pytest.raises(IngestError, match="no such file") as error:
        parse_file(missing)
    assert error.value.path == str(missing) and str(missing) in str(error.value)
    with pytest.raises(IngestError, match=r"nowhere\.md"):
        list(discover([tmp_path, missing]))


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.md", b"# Title\n\x00\x01\x02 data", "not a text file (binary content)"),
        (
            "latin1.txt",
            "Caf\u00e9 au lait is a long enough line.".encode("latin-1"),
            "not a text file (binary content)",
        ),
        ("garbled.md", ("# T\n\n" + "\ufffd x " * 200).encode(), "not a text file (binary content)"),
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"  \n\t\n  ", "empty file"),
        (
            "broken.md",
            b"---\ntitle: [unclosed\nurl: x\n---\n\n# Title\n\nSome text here.\n",
            "broken YAML front matter",
        ),
        ("unclosed.md", b"---\ntitle: x\n\n# Title\n\nSome text that is long enough.\n", "never closed"),
        ("list.md", b"---\n- a\n- b\n---\n\n# Title\n\nSome text that is long enough.\n", "not a mapping"),
        ("headings.md", b"# Title\n\n## Only headings\n\nShort.\n", "no passages found"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
    ],
)
def test_bad_files_raise_ingest_error(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError) as error:
        parse_file(path)
    assert reason in error.value.reason
    assert str(error.value).startswith(f"{path}: ")


def test_broken_front_matter_names_the_yaml_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.md"
    path.write_text("---\ntitle: ok\nurl: [unclosed\n---\n\n# Title\n\nSome text that is long enough.\n")
    with pytest.raises(IngestError, match=r"broken YAML front matter: .*line \d+") as error:
        parse_file(path)
    assert error.value.path == str(path)


def test_front_matter_without_url_and_declared_audience(tmp_path: Path) -> None:
    path = tmp_path / "My Notes.md"
    path.write_text(
        "---\ntitle: Starter\nurl: null\naudience: health professional\nlastReviewed: '2026-11-21'\n---\n\n"
        "# Starter\n\n## Scope\n\nThis summary covers osteosarcoma that returns after treatment.[1]\n"
    )
    document = parse_file(path)
    assert (document.id, document.title, document.url) == ("my-notes", "Starter", None)
    assert (document.audience, document.updated) == ("health_professional", dt.date(2026, 11, 21))
    assert document.passages[0].section_path == ("Scope",)


def test_file_over_20_mb_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as file:
        file.truncate(21 * 2**20)
    with pytest.raises(IngestError, match=r"file is 21\.0 MB, larger than the 20 MB limit"):
        parse_file(path)


@needs_pdq
def test_10_mb_of_valid_markdown_parses_in_linear_time(tmp_path: Path) -> None:
    text = PDQ.read_text(encoding="utf-8")
    end = text.index("\n---\n", 4) + 5
    front, body = text[:end], text[end:]
    copies = 10 * 2**20 // len(body.encode())
    path = tmp_path / "big.md"
    path.write_text(front + body * copies, encoding="utf-8")
    started = time.perf_counter()
    document = parse_file(path)
    elapsed = time.perf_counter() - started
    single = parse_file(PDQ)
    assert len(document.passages) == copies * len(single.passages)
    assert len({p.id for p in document.passages}) == len(document.passages)  # repeats get -2, -3 ... suffixes
    assert elapsed < 60


def test_10_mb_of_valid_plain_text_parses(tmp_path: Path) -> None:
    paragraph = "Patients with recurrent osteosarcoma should be assessed for resection.[8,6,9-12] " * 20
    block = f"Recurrence Section\n\n{paragraph}\n\n  • A bullet item that is long enough.\n\n"
    path = tmp_path / "big.txt"
    path.write_text("Big Guideline Title\n\n" + block * (10 * 2**20 // len(block)), encoding="utf-8")
    started = time.perf_counter()
    document = parse_file(path)
    assert time.perf_counter() - started < 60
    assert document.title == "Big Guideline Title"
    assert len(document.passages) > 10_000


def test_pathological_brackets_stay_linear(tmp_path: Path) -> None:
    path = tmp_path / "brackets.md"
    path.write_text("# T\n\n" + "[a [b ](x " * 200_000 + "\n")
    started = time.perf_counter()
    with pytest.raises(IngestError, match="single paragraph"):  # it parses, in linear time, then is refused
        parse_file(path)
    assert time.perf_counter() - started < 30


# --- discovery ----------------------------------------------------------------------------------------------


def test_discover_lists_supported_files_sorted_once(tmp_path: Path) -> None:
    for name in ("b/z.md", "b/a.txt", "a.html", "c/d/e.htm", "c/notes.pdf", ".hidden/x.md", "b/.x.md", "f.markdown"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = list(discover([tmp_path / "b", tmp_path, tmp_path / "a.html"]))
    names = [str(p.relative_to(tmp_path)) for p in found]
    assert names == ["a.html", "b/a.txt", "b/z.md", "c/d/e.htm", "f.markdown"]
    assert list(discover([tmp_path / "c" / "notes.pdf"])) == [tmp_path / "c" / "notes.pdf"]


# --- the whole PDQ folder -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not PDQ_DIR.exists(), reason="shared/data/pdq is not beside the project")
def test_every_pdq_page_parses_or_fails_with_a_reason() -> None:
    started = time.perf_counter()
    files = list(discover([PDQ_DIR]))
    failures: Counter[str] = Counter()
    passages = references = 0
    for path in files:
        try:
            document = parse_file(path)
        except IngestError as error:
            failures[error.reason] += 1
            continue
        passages += len(document.passages)
        references += len(document.references)
        assert not [p.text for p in document.passages if "](" in p.text or "#cit/" in p.text]
    elapsed = time.perf_counter() - started
    parsed = len(files) - sum(failures.values())
    print(
        f"\n{len(files)} files: {parsed} parsed, {sum(failures.values())} failed {dict(failures)}; "
        f"{passages} passages, {references} references in {elapsed:.1f} s"
    )
    assert parsed >= 0.99 * len(files)
    assert set(failures) <= {"no passages found", "not a text file (binary content)"}
    assert elapsed < 120
