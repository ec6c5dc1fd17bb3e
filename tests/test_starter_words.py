"""Guard the "whose words" rule for the bundled starter corpus.

The starter summary must be written in our own words: no run of 8
consecutive words of its prose may appear in the NCI PDQ osteosarcoma
summary or in the seed pages it was researched from.  Runs made mostly of
numbers (reported figures such as "HR 0.42; 95% CI 0.21-0.85") are facts,
not wording, and are not counted (see MIN_WORDS).  Reference lists
(bibliographic data, copied on purpose) are excluded on both sides.
Every PubMed id the starter cites must also be present in the PDQ file.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
STARTER = REPO / "src" / "clinqa" / "starter" / "recurrent-osteosarcoma.md"
PDQ = SHARED / "data" / "pdq" / "pdq" / "types-bone-hp-osteosarcoma-treatment-pdq.md"
SEEDS = [
    SHARED / "seeds" / "000_e9b37f1732a04d97.txt",
    SHARED / "seeds" / "004_5b99a292af66bebe.txt",
]
N = 8
# A window counts as copied prose only when at least MIN_WORDS of its N
# tokens contain a letter.  Windows made mostly of numbers (hazard ratios,
# confidence intervals, doses, counts) are reported figures, which the
# rule allows us to share with the literature.
MIN_WORDS = 4

PMID_RE = re.compile(r"list_uids=(\d+)")


def _require_sources():
    if not SHARED.is_dir():
        pytest.skip("../shared is absent; source texts unavailable")
    missing = [p for p in [PDQ, *SEEDS] if not p.is_file()]
    if missing:
        pytest.skip(f"source files missing: {missing}")


def _strip_front_matter(text: str) -> str:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            return text[end + 4 :]
    return text


def _split_references(text: str):
    """Return (prose, reference_text). Reference blocks run from a
    '###### References' heading to the next level-1/2 heading; any line
    carrying a PubMed link (plain-text reference lists in the seeds) also
    counts as reference text."""
    prose, refs = [], []
    in_refs = False
    for line in text.split("\n"):
        if line.startswith("###### References"):
            in_refs = True
            continue
        if in_refs and re.match(r"^#{1,5} ", line):
            in_refs = False
        if in_refs or "PUBMED Abstract" in line or "list_uids=" in line:
            refs.append(line)
        else:
            prose.append(line)
    return "\n".join(prose), "\n".join(refs)


def _words(text: str):
    # citation markup: [[3](#cit/section_1.3)], level-of-evidence pop-ups
    text = re.sub(r"\[\[Level of evidence[^\]]*\]\([^)]*\)\]", " ", text)
    text = re.sub(r"\[(\d+)\]\(#cit/[^)]*\)", " ", text)
    # old plain-text citations such as [1-4] or [4,6,12,13]
    text = re.sub(r"\[[\d,\s\-–]+\]", " ", text)
    # markdown links: keep the visible text, drop the target
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = text.lower()
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return text.split()


def _ngrams(words, n=N):
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _prose_of(path: Path) -> str:
    text = _strip_front_matter(path.read_text(encoding="utf-8"))
    return _split_references(text)[0]


def test_starter_exists():
    assert STARTER.is_file(), STARTER


def test_no_eight_word_run_copied_from_sources():
    _require_sources()
    starter_words = _words(_prose_of(STARTER))
    assert len(starter_words) > 1000
    source_grams = set()
    for src in [PDQ, *SEEDS]:
        source_grams |= _ngrams(_words(_prose_of(src)))
    hits = []
    for i in range(len(starter_words) - N + 1):
        gram = tuple(starter_words[i : i + N])
        if sum(any(c.isalpha() for c in w) for w in gram) < MIN_WORDS:
            continue
        if gram in source_grams:
            hits.append(" ".join(gram))
    assert not hits, f"{len(hits)} copied {N}-word runs, e.g.:\n" + "\n".join(sorted(set(hits))[:40])


def test_starter_pmids_come_from_pdq():
    _require_sources()
    _, starter_refs = _split_references(_strip_front_matter(STARTER.read_text(encoding="utf-8")))
    starter_pmids = set(PMID_RE.findall(starter_refs))
    assert starter_pmids, "starter reference list carries no PMIDs"
    pdq_pmids = set(PMID_RE.findall(PDQ.read_text(encoding="utf-8")))
    unknown = sorted(starter_pmids - pdq_pmids)
    assert not unknown, f"PMIDs not in the PDQ osteosarcoma file: {unknown}"


def test_citations_resolve_to_reference_list():
    text = _strip_front_matter(STARTER.read_text(encoding="utf-8"))
    prose, refs = _split_references(text)
    cited = {int(n) for n in re.findall(r"#cit/section_1\.(\d+)\)", prose)}
    listed = {int(n) for n in re.findall(r"^(\d+)\. ", refs, flags=re.M)}
    assert cited, "no citations found"
    assert cited <= listed, f"dangling citations: {sorted(cited - listed)}"
    assert listed == set(range(1, len(listed) + 1)), "reference list not 1..N"
