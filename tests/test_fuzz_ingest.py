"""Generated and mutated source files ingested beside good ones (Hypothesis): front matter, Markdown, plain text,
HTML, trial JSON, JSON Lines and XML. Whatever the bad file holds, the ingest returns a report (no exception),
within a time limit, with the bad file alone named in it, and the good guideline and trial land.

Mutations are structure-aware where that finds more: YAML tokens (anchors, aliases, tags, deep brackets, huge
numbers) inside the front matter, citation markers and block syntax inside a real-looking page, a field of a trial
record replaced by any JSON value, elements and entities spliced into an XML record; random text and bytes too.
Bounded and repeatable: a fixed number of cases per format, derandomized, no example database.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinqa.engine import Engine
from clinqa.ingest import content_hash

from .conftest import fresh_location
from .hostile import GOOD_TRIAL_ID, ctgov_study, ctgov_xml, finishes_within, guideline, write_good_sources

CASES = 40  # per format; the whole module stays well under a minute on 2 cores
FUZZ = settings(
    max_examples=CASES,
    derandomize=True,
    database=None,
    deadline=None,  # the hang guard below bounds each case; Hypothesis' deadline would only make timing flaky
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HANG_LIMIT_S = 30
GOOD_ID = "zz-good-guideline"
TALLY: dict[str, list[int]] = {}  # per format: [cases, cases whose bad file was refused], reported at the end

PLAIN_PAGE = (
    "Questions About Cancer? 1-800-4-CANCER\n\nExample Bone Tumour Treatment\n\n"
    "  • Updated: May 1, 2024\n\nTreatment Options\n\n"
    "Complete removal of the tumour is the main treatment when all of it can be taken out.[1,2]\n\n"
    "  • Chemotherapy before the operation shrinks some tumours. [Level of evidence: 3iiDiii]\n\n"
    "References\n\n1. Writer A: Surgery for bone tumours. J Example 12: 45-50, 2001. PUBMED Abstract\n"
    "2. Author B, et al.: Chemotherapy first. J Example 14: 1-9, 2003.\n"
)
HTML_PAGE = (
    '<html><head><title>Example Bone Tumour Treatment - NCI</title><link rel="canonical" '
    'href="https://www.cancer.gov/types/example/hp/bone-tumour-pdq"><meta name="dcterms.modified" '
    'content="2024-05-01"></head><body><h1>Example Bone Tumour Treatment</h1><h2>Treatment options</h2>'
    "<p>Complete removal of the tumour is the main treatment when all of it can be taken out.[<a "
    'href="#cit/section_1.1">1</a>]</p><ul><li>Chemotherapy before the operation shrinks some tumours.</li></ul>'
    '<h6>References</h6><ol><li>Writer A: Surgery for bone tumours. <a href="https://www.ncbi.nlm.nih.gov/entrez/'
    'query.fcgi?cmd=Retrieve&amp;list_uids=12345">[PUBMED Abstract]</a></li></ol></body></html>'
)
# fmt: off
MARKDOWN_TOKENS = [
    "\n\n", "# ", "## ", "###### References\n\n", "- ", "1. ", "2) ", "> ", "    ", "```\n", "| a | b |\n|---|---|\n",
    "[[1](#cit/section_1.1)]", "[[4](#cit/s_9.4),[6](#cit/s_9.6)]", "[1-4]", "[1-99999999999999999999]", "[8,6,9-12]",
    "[Level of evidence: 3iiDiii]", "[Level of evidence: ]", "](", "[", "]", "(", ")", "*", "_", "\\", "<div>", "&amp;",
    "[PUBMED Abstract](https://www.ncbi.nlm.nih.gov/entrez/query.fcgi?list_uids=1)", "NCT01234567 ", "(NCT0",
    "Updated: February 30, 2024", "\u200b", "\ufffd", "\x00", "\r", "\t", "é", "𝔘",
]
YAML_TOKENS = [
    "&a ", "*a", "<<: *a\n", "[", "]", "{", "}", "- ", ": ", "? ", "!!binary ", "!!python/object:os.system ",
    "!!timestamp ", "2024-13-45", "9" * 5000, "1e99999", "---\n", "...\n", "\t", "'", '"', "|\n", ">\n", "# ",
    "%YAML 1.1\n", "\n", "  ", "title: ", "url: ", "lastReviewed: ", "audience: ", "~", "null", "[[[[[[[[[[[[",
]
HTML_TOKENS = [
    "<h1>", "</h1>", "<h6>References</h6>", "<ol start=99999999999999999999>", "<li value=-3>", "<li>", "</li>",
    "<ul>", "<p>", "</p>", "<a href='#cit/section_1.1'>", "</a>", "<script>", "<!--", "-->", "<![CDATA[", "&#0;",
    "&nbsp;", "<meta name='dcterms.modified' content='2024-99-99'>", "<table><tr><td>", "<div>" * 300, "<",
]
XML_TOKENS = [
    "<!DOCTYPE clinical_study [<!ENTITY e 'x'>]>", "&e;", "&amp;", "&#0;", "<![CDATA[", "]]>", "<x>" * 100, "</x>",
    "<condition>", "</condition>", "<phase>", "Phase 9/Phase ", "<minimum_age>", "999999999999999999999 Years",
    "<?xml version='1.0'?>", "xmlns='urn:x'", "<id_info><nct_id>NCT1</nct_id></id_info>", "<", ">", "\x00",
]
# fmt: on
TRIAL_SEEDS = [
    ctgov_study("NCT09000077", "A study of another example drug"),
    {  # an NCI CTS record
        "nct_id": "NCT09000079",
        "brief_title": "A third example study",
        "current_trial_status": "Active",
        "phase": {"phase": "I_II"},
        "diseases": [{"inclusion_indicator": "TRIAL", "display_name": "Osteosarcoma"}],
        "arms": [{"interventions": [{"intervention_name": "Example drug"}]}],
        "eligibility": {
            "structured": {"min_age_in_years": 12, "max_age_in_years": 30},
            "unstructured": [{"description": "Aged 12 to 30 years", "inclusion_indicator": True, "display_order": 1}],
        },
    },
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.integers(min_value=10**300, max_value=10**320)  # past what a float holds
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "NCT00000000", "NCTX", "13 Years", "999 Years", "-1 Months", "RECRUITING", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)


@st.composite
def mutated(draw: st.DrawFn, seed: str, tokens: list[str], span: int | None = None) -> str:
    """`seed` after a few edits: tokens of its syntax inserted (repeated up to 60 times), slices deleted or
    repeated, random text spliced in; only the first `span` characters are edited when `span` is given."""
    text = seed
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        limit = min(len(text), span) if span is not None else len(text)
        at = draw(st.integers(min_value=0, max_value=limit))
        end = draw(st.integers(min_value=at, max_value=min(limit, at + 120)))
        edit = draw(st.sampled_from(["insert", "delete", "repeat", "splice"]))
        if edit == "insert":
            token = draw(st.sampled_from(tokens)) * draw(st.integers(min_value=1, max_value=60))
            text = text[:at] + token + text[at:]
        elif edit == "delete":
            text = text[:at] + text[end:]
        elif edit == "repeat":
            text = text[:end] + text[at:end] * draw(st.integers(min_value=2, max_value=200)) + text[end:]
        else:
            text = text[:at] + draw(st.text(max_size=40)) + text[end:]
    return text


def encoded(texts: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Text as the bytes of a file: mostly UTF-8 (lone surrogates kept, so invalid), one case in eight UTF-16 and
    one in eight raw bytes."""
    utf8 = texts.map(lambda text: text.encode("utf-8", "surrogatepass"))
    utf16 = texts.map(lambda text: text.encode("utf-16", "surrogatepass"))
    return st.one_of(utf8, utf8, utf8, utf8, utf8, utf8, utf16, st.binary(max_size=300))


# How deep or how many: small, at a limit, far past it.
sizes = st.sampled_from([2, 9, 64, 65, 300, 2_000, 20_000, 100_000])


def nested(opening: str, closing: str, inside: str = "") -> st.SearchStrategy[str]:
    return sizes.map(lambda n: opening * n + inside + closing * n)


@st.composite
def spliced(draw: st.DrawFn, seed: str, fragments: st.SearchStrategy[str], after: str = "\n") -> str:
    """`seed` with a hostile fragment put in after one of its `after` characters (line starts, or tag ends)."""
    starts = [0] + [i + 1 for i, char in enumerate(seed) if char == after]
    at = draw(st.sampled_from(starts))
    return seed[:at] + draw(fragments) + after.replace(">", "") + seed[at:]


# Front matter lines a page's metadata never needs: aliases (a small "billion laughs" too), merge keys, tags,
# dates that do not exist, numbers past any limit, lists or mappings where one value belongs, deep nesting.
yaml_lines = st.sampled_from([
        "title: [one, two]", "url: {a: 1}", "audience: [patient]", "lastReviewed: 2024-13-45",
        "lastReviewed: 2023-02-30", "date: 2024-01-01 25:61:00", "updated: [2024-01-01]", "n: " + "9" * 5000,
        "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\ntitle: *b", "a: &a {x: 1}\nb:\n  <<: *a",
        "title: *missing", "x: !!binary AAAA", "x: !!python/name:os.system", "x: !!float nan",
        "title: !!timestamp 2024-99-99", "? [a, b]\n: c", "title: 2024-01-01", "url: 12", "%TAG ! x\n",
])  # fmt: skip
hostile_yaml = st.one_of(
    yaml_lines,
    yaml_lines,
    yaml_lines,
    nested("[", "]").map(lambda deep: f"notes: {deep}"),
    sizes.map(lambda n: "notes:" + "".join(f"\n{'  ' * (i + 1)}k{i}:" for i in range(min(n, 2_000))) + " end"),
)  # fmt: skip


def front_matter_pages() -> st.SearchStrategy[bytes]:
    page = guideline("Front matter under test")
    body = page.split("\n---\n", 1)[1]
    random_yaml = st.text(max_size=200).map(lambda yaml_text: f"---\n{yaml_text}\n---\n{body}")
    hostile = st.lists(hostile_yaml, min_size=1, max_size=3).map(lambda lines: "---\n" + "\n".join(lines))
    with_hostile = hostile.map(lambda head: f"{head}\ntitle: x\n---\n{body}")
    return encoded(
        st.one_of(mutated(page, YAML_TOKENS, span=page.index("\n---\n") + 4), with_hostile, with_hostile, random_yaml)
    )


MARKDOWN_PAGE = guideline("Markdown under test")
hostile_markdown = st.one_of(
    nested("> ", "", "Quoted text that is long enough to be kept."),
    sizes.map(lambda n: "".join(f"{'  ' * i}- Item text that is long enough.\n" for i in range(min(n, 2_000)))),
    nested("[", "", "Bracketed text that is long enough."),
    nested("*", "*", "Emphasis that is long enough to keep."),
    sizes.map(lambda n: "A very long paragraph of words. " * min(n, 3_000)),
    sizes.map(lambda n: "| a | b |\n|---|---|\n" + "| x | y |\n" * min(n, 5_000)),
    st.sampled_from([
        "99999999999. A numbered item.", "###### References\n\n99999999. Writer A. list_uids=9999999999999999999",
        "Text [[9999](#cit/section_1.9999)] and [1-99999] and [99999999999999999999].", "```\nunclosed fence",
        "<div>" * 500, "[Level of evidence: " + "x" * 5_000 + "]", "NCT" + "0" * 5_000,
    ]),
)  # fmt: skip
hostile_plain_text = st.one_of(
    sizes.map(lambda n: "  • A bullet item long enough.\n" * min(n, 5_000)),
    sizes.map(lambda n: "".join(f"{i % 1000}. Writer A, et al.: A study. 2001.\n" for i in range(min(n, 5_000)))),
    st.sampled_from(["Updated: February 30, 2024", "Updated: 99/99/9999", "[" * 10_000, "1-800-4-CANCER " * 1_000]),
)  # fmt: skip
hostile_html = st.one_of(
    nested("<div>", "</div>", "<p>Deep text that is long enough to be kept.</p>"),
    nested("<ul><li>", "</li></ul>", "Deep item text that is long enough."),
    nested("<p><table><tr><td>", "</td></tr></table></p>", "Cell text that is long enough to be kept."),
    nested("<span>", "</span>", "Updated: May 1, 2024"),
    st.sampled_from([
        "<ol start='" + "9" * 5_000 + "'><li>Writer A. list_uids=1</li></ol>", "<ol><li value='²'>Writer B.</li></ol>",
        "<h6>References</h6><ol><li value='-1'>Writer C.</li></ol>",
        "<meta name='dcterms.modified' content='2024-02-30'>",
        "<h7>Not a heading</h7>", "<svg><p>Inside an image, long enough to be kept.</p></svg>", "&#0;&#xD800;",
    ]),
)  # fmt: skip


@st.composite
def trial_records(draw: st.DrawFn) -> Any:
    """The seed record with one value somewhere in it replaced, or a key added or dropped; or any JSON value."""
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        return draw(json_values)
    record = json.loads(json.dumps(draw(st.sampled_from(TRIAL_SEEDS))))
    holder: dict[str, Any] = record
    while True:  # walk down to a random object of the record, through objects and lists of objects
        inner = [v for v in holder.values() if isinstance(v, dict)]
        inner += [item for v in holder.values() if isinstance(v, list) for item in v if isinstance(item, dict)]
        if not inner or draw(st.booleans()):
            break
        holder = draw(st.sampled_from(inner))
    key = draw(st.sampled_from(sorted(holder)) | st.text(max_size=10))
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        holder.pop(key, None)
    else:
        holder[key] = draw(json_values)
    return record


# What each element of a legacy record usually holds; a case mostly keeps to these, now and then any text.
XML_VALUES = {
    "id_info/nct_id": ["NCT09000080"],
    "brief_title": ["A fourth example study"],
    "official_title": ["A randomised study of an example drug"],
    "overall_status": ["Recruiting", "Completed", "Unknown status"],
    "phase": ["Phase 2", "Phase 1/Phase 2", "N/A", "Early Phase 1"],
    "condition": ["Osteosarcoma", "Ewing Sarcoma"],
    "eligibility/minimum_age": ["13 Years", "6 Months", "N/A"],
    "eligibility/maximum_age": ["30 Years", "N/A", "999 Years"],
    "eligibility/criteria/textblock": ["Inclusion Criteria:\n  - Age 12 to 30\nExclusion Criteria:\n  - None"],
    "intervention/intervention_type": ["Drug", "Procedure"],
    "intervention/intervention_name": ["Example drug", "Placebo"],
    "location/facility/name": ["A hospital"],
}
any_xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=40)


@st.composite
def xml_records(draw: st.DrawFn) -> str:
    """A `<clinical_study>` built from the legacy record's elements in any number and order (the id and title
    first), each holding a usual value or, one time in four, any text."""
    root = ET.Element(draw(st.sampled_from(["clinical_study"] * 5 + ["search_results"])))
    extra = draw(st.lists(st.sampled_from(sorted(XML_VALUES)), max_size=12))
    for path in ["id_info/nct_id", "brief_title", *extra]:
        element = root
        for tag in path.split("/"):
            element = ET.SubElement(element, tag)
        usual = st.sampled_from(XML_VALUES[path])
        element.text = draw(st.one_of(usual, usual, usual, any_xml_text))
    return ET.tostring(root, encoding="unicode")


# Raw JSON text for one value: deep nesting, numbers past what int() or float() take, NaN, escapes. As text, since
# Hypothesis itself cannot print an int of thousands of digits.
HOLE = "\x00hostile value\x00"
hostile_json = st.one_of(
    nested("[", "]"),
    nested('{"a":', "}", "1"),
    st.sampled_from(["9" * 5_000, "-" + "9" * 400, "1e999999", "NaN", "-Infinity", '"\\ud800"', '"\\u0000"']),
)  # fmt: skip


@st.composite
def trial_json_texts(draw: st.DrawFn) -> str:
    """A record as JSON text: changed by `trial_records`, with a hostile raw value in one place, or mutated."""
    record = draw(trial_records())
    if isinstance(record, dict) and draw(st.booleans()):
        holder = record
        while isinstance(holder.get(key := draw(st.sampled_from(sorted(holder) or ["x"]))), dict):
            holder = holder[key]
        holder[key] = HOLE
        return json.dumps(record).replace(json.dumps(HOLE), draw(hostile_json))
    text = json.dumps(record)
    return draw(st.just(text) | mutated(text, ["[", "{", "]", "}", ",", '"', ":", "-", "\\u0000"]))


def json_files() -> st.SearchStrategy[bytes]:
    return encoded(trial_json_texts())


def json_lines_files() -> st.SearchStrategy[bytes]:
    lines = st.lists(trial_json_texts() | st.text(max_size=60), min_size=0, max_size=4)
    return encoded(lines.map("\n".join))


hostile_xml = st.one_of(
    nested("<x>", "</x>"),
    sizes.map(lambda n: "<x/>" * min(n, 100_000)),
    st.sampled_from([
        "<!DOCTYPE clinical_study [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>",
        "<!DOCTYPE clinical_study [<!ENTITY e SYSTEM 'file:///etc/hostname'>]>", "&a;&b;&e;", "&#0;", "<![CDATA[",
        "<!DOCTYPE clinical_study SYSTEM 'http://example.invalid/x.dtd'>", "<?xml-stylesheet href='x'?>",
    ]),
)  # fmt: skip


XML_MUTATED = mutated(ctgov_xml("NCT09000078"), XML_TOKENS) | st.text()


@pytest.fixture(scope="module")
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """One knowledge base for the module, the good sources in it; each case adds a folder beside them."""
    work = Path(tempfile.mkdtemp(prefix="clinqa-fuzz-"))
    kb = Engine(fresh_location(request, work))
    write_good_sources(work / "first")
    assert not kb.ingest([work / "first"]).failed
    started = time.perf_counter()
    yield kb
    seconds = time.perf_counter() - started
    cases = sum(n for n, _ in TALLY.values())
    each = ", ".join(f"{label} {n} ({refused} refused)" for label, (n, refused) in TALLY.items())
    print(f"\ningest fuzz: {cases} cases in {seconds:.1f} s: {each}")
    kb.close()
    shutil.rmtree(work, ignore_errors=True)


def ingest_beside_good_sources(engine: Engine, label: str, name: str, content: bytes) -> None:
    """Ingests `content` as `name` in a folder with the good guideline and trial; checks what the module promises."""
    folder = Path(tempfile.mkdtemp(prefix="case-"))
    try:
        write_good_sources(folder)
        (folder / name).write_bytes(content)
        with finishes_within(HANG_LIMIT_S):
            report = engine.ingest([folder])
        named = {Path(f.path).name for f in [*report.failed, *report.skipped]}
        assert named <= {name}, report
        good = engine.document(GOOD_ID)
        assert good.content_hash == _sha256(folder / "zz-good-guideline.md")
        assert GOOD_TRIAL_ID in {t.id for t in engine.store.trials()}
        assert report.documents >= 1 and report.trials >= 1  # the good guideline and trial were read this time
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    tally = TALLY.setdefault(label, [0, 0])
    tally[0] += 1
    tally[1] += bool(report.failed)


def _sha256(path: Path) -> str:
    return content_hash(path.read_bytes())


@FUZZ
@given(content=front_matter_pages())
def test_front_matter(engine: Engine, content: bytes) -> None:
    ingest_beside_good_sources(engine, "front matter", "front.md", content)


@FUZZ
@given(
    content=encoded(
        st.one_of(mutated(MARKDOWN_PAGE, MARKDOWN_TOKENS), spliced(MARKDOWN_PAGE, hostile_markdown), st.text())
    )
)
def test_markdown(engine: Engine, content: bytes) -> None:
    ingest_beside_good_sources(engine, "markdown", "page.md", content)


@FUZZ
@given(
    content=encoded(st.one_of(mutated(PLAIN_PAGE, MARKDOWN_TOKENS), spliced(PLAIN_PAGE, hostile_plain_text), st.text()))
)
def test_plain_text(engine: Engine, content: bytes) -> None:
    ingest_beside_good_sources(engine, "plain text", "page.txt", content)


@FUZZ
@given(content=encoded(st.one_of(mutated(HTML_PAGE, HTML_TOKENS), spliced(HTML_PAGE, hostile_html, ">"), st.text())))
def test_html(engine: Engine, content: bytes) -> None:
    ingest_beside_good_sources(engine, "html", "page.html", content)


@FUZZ
@given(content=json_files())
def test_trial_json(engine: Engine, content: bytes) -> None:
    ingest_beside_good_sources(engine, "trial json", "trial.json", content)


@FUZZ
@given(content=json_lines_files())
def test_trial_json_lines(engine: Engine, content: bytes) -> None:
    ingest_beside_good_sources(engine, "trial json lines", "trials.jsonl", content)


@FUZZ
@given(
    content=encoded(
        st.one_of(xml_records(), xml_records().flatmap(lambda x: spliced(x, hostile_xml, ">")), XML_MUTATED)
    )
)
def test_trial_xml(engine: Engine, content: bytes) -> None:
    ingest_beside_good_sources(engine, "trial xml", "trial.xml", content)
