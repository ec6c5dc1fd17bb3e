"""Hostile and awkward inputs at ingest, and the derived index after crashes and under concurrency.

Each test ingests the bad thing next to good sources and checks three things: the bad one is reported by name,
the good ones land, and nothing hangs or blows up. Crashes are real: a child process is killed with SIGKILL at
a chosen point of the ingest.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from clinqa.cli import cli
from clinqa.engine import Engine
from clinqa.errors import IngestError
from clinqa.ingest import parse_file
from clinqa.types import IngestReport

from .conftest import fresh_location
from .hostile import GOOD_TRIAL_ID, ctgov_study, ctgov_xml, finishes_within, guideline, write_good_sources

GOOD_ID = "zz-good-guideline"


def failures(report: IngestReport) -> dict[str, str]:
    return {Path(f.path).name: f.reason for f in report.failed}


def assert_good_sources_landed(engine: Engine) -> None:
    assert engine.document(GOOD_ID).title == "Good guideline"
    assert GOOD_TRIAL_ID in {t.id for t in engine.store.trials()}


def run_python(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True, timeout=timeout
    )


# --- item 2: denial of service at ingest ----------------------------------------------------------------------


def alias_bomb() -> str:
    """Nine anchors, each a list of nine aliases of the one before: 9**9 strings once expanded."""
    lines = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *i\n---\n\n# Bomb\n\nA paragraph that is long enough to be kept.\n"


ALIAS_BOMB_RUN = """
    import json, resource, sys, time
    from pathlib import Path
    from clinqa.engine import Engine

    db, warm, folder = map(Path, sys.argv[1:])
    engine = Engine(db)
    engine.ingest([warm])  # the model and the drug dictionary are loaded before measuring
    # A runaway stops at 1 GiB more address space with a MemoryError instead of taking the machine.
    size = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, resource.RLIM_INFINITY))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        outcome = engine.ingest([folder]).model_dump(mode="json")
    except MemoryError:
        outcome = "MemoryError"
    seconds = time.perf_counter() - started
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    print(json.dumps({"seconds": seconds, "growth_mb": growth_mb, "report": outcome}))
"""


@pytest.mark.sqlite_only  # a child process killed or measured on a SQLite file
def test_a_yaml_alias_bomb_is_refused_in_seconds_and_bounded_memory(tmp_path: Path) -> None:
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "warm-up.md").write_text(guideline("Warm-up guideline"))
    sources = tmp_path / "sources"
    write_good_sources(sources)
    (sources / "bomb.md").write_text(alias_bomb())
    assert (sources / "bomb.md").stat().st_size < 1024
    run = run_python(ALIAS_BOMB_RUN, str(tmp_path / "kb.sqlite"), str(warm), str(sources))
    assert run.returncode == 0, run.stderr[-3000:]
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    assert measured["report"] != "MemoryError", "the alias bomb exhausted memory"
    assert measured["seconds"] < 5, measured
    assert measured["growth_mb"] < 200, measured
    failed = {Path(f["path"]).name: f["reason"] for f in measured["report"]["failed"]}
    assert set(failed) == {"bomb.md"} and "alias" in failed["bomb.md"]
    engine = Engine(tmp_path / "kb.sqlite")
    assert_good_sources_landed(engine)
    engine.close()


def test_front_matter_fields_that_are_not_single_values_are_refused_by_name(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    (sources / "listed-title.md").write_text(guideline("x").replace("title: x", "title: [one, two]"))
    # Block style, which the YAML scanner does not limit: building it recursed past Python's limit.
    deep = "".join(f"\n{'  ' * (level + 1)}level{level}:" for level in range(400)) + " end"
    (sources / "deep-front.md").write_text(guideline("x").replace("title: x", f"title: x\nnotes:{deep}"))
    engine = Engine(kb)
    report = engine.ingest([sources])
    failed = failures(report)
    assert set(failed) == {"listed-title.md", "deep-front.md"}
    assert "title" in failed["listed-title.md"] and "nested" in failed["deep-front.md"]
    assert_good_sources_landed(engine)
    engine.close()


def test_a_named_pipe_is_reported_by_name_and_never_opened(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    os.mkfifo(sources / "pipe.md")
    os.mkfifo(sources / "pipe.json")
    elsewhere = tmp_path / "named.txt"
    os.mkfifo(elsewhere)
    engine = Engine(kb)
    with finishes_within(60):  # opening a pipe nobody writes to blocks for ever
        report = engine.ingest([sources, elsewhere])
    failed = failures(report)
    assert set(failed) == {"pipe.md", "pipe.json", "named.txt"}
    assert all("not a regular file" in reason for reason in failed.values()), failed
    assert_good_sources_landed(engine)
    engine.close()


def test_a_symbolic_link_loop_is_reported_and_the_rest_lands(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    (sources / "a.md").symlink_to(sources / "b.md")
    (sources / "b.md").symlink_to(sources / "a.md")
    engine = Engine(kb)
    report = engine.ingest([sources])
    failed = failures(report)
    assert set(failed) == {"a.md", "b.md"} and all("loop" in r for r in failed.values()), failed
    assert_good_sources_landed(engine)
    engine.close()


def test_links_are_followed_only_inside_the_given_folders(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    kb = fresh_location(request, tmp_path)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.md").write_text(guideline("Private notes"))
    (outside / "folder").mkdir()
    (outside / "folder" / "more.md").write_text(guideline("More private notes"))
    sources = tmp_path / "sources"
    write_good_sources(sources)
    (sources / "inside").mkdir()
    (sources / "inside" / "kept.md").write_text(guideline("Kept guideline"))
    (sources / "x.txt").symlink_to(outside / "secret.md")
    (sources / "linked-folder").symlink_to(outside / "folder")
    (sources / "alias.md").symlink_to(sources / "inside" / "kept.md")  # inside: the same file, listed once
    engine = Engine(kb)
    report = engine.ingest([sources])
    failed = failures(report)
    assert set(failed) == {"x.txt", "linked-folder"}, failed
    assert all("outside" in reason for reason in failed.values())
    ids = {d.id for d in engine.documents()}
    assert ids == {GOOD_ID, "kept"}, ids  # neither the secret nor the linked folder's page
    assert not report.skipped
    assert_good_sources_landed(engine)
    engine.close()


def test_deep_json_and_huge_numbers_are_reported_and_later_files_land(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    (sources / "a-deep.json").write_text("[" * 200_000 + "]" * 200_000)
    (sources / "b-number.json").write_text('{"nct_id": ' + "7" * 5000 + "}")
    deep_object = '{"a":' * 100_000 + "1" + "}" * 100_000
    (sources / "c-lines.jsonl").write_text(json.dumps(ctgov_study("NCT09000002")) + "\n" + deep_object + "\n")
    engine = Engine(kb)
    report = engine.ingest([sources])
    failed = failures(report)
    assert set(failed) == {"a-deep.json", "b-number.json", "c-lines.jsonl"}, failed
    assert "nested" in failed["a-deep.json"] and "line 2" in failed["c-lines.jsonl"]
    assert "digits" in failed["b-number.json"]
    assert {"NCT09000002", GOOD_TRIAL_ID} <= {t.id for t in engine.store.trials()}
    assert_good_sources_landed(engine)
    engine.close()


def test_hostile_xml_trial_records_are_refused_by_name(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    entity = '<!DOCTYPE clinical_study [<!ENTITY e "expanded">]>\n'
    declared = ctgov_xml("NCT09000003").replace("<clinical_study>", entity + "<clinical_study>", 1)
    declared = declared.replace("UTF-8", "UTF-16").replace("</brief_title>", "&e;</brief_title>")
    (sources / "entity.xml").write_bytes(declared.encode("utf-16"))  # not visible to a scan of the raw bytes
    deep = ctgov_xml("NCT09000004").replace("</clinical_study>", "<x>" * 50_000 + "</x>" * 50_000 + "</clinical_study>")
    (sources / "deep.xml").write_text(deep)
    (sources / "good.xml").write_text(ctgov_xml("NCT09000005"))
    engine = Engine(kb)
    with finishes_within(60):
        report = engine.ingest([sources])
    failed = failures(report)
    assert set(failed) == {"entity.xml", "deep.xml"}, failed
    assert "entity declaration" in failed["entity.xml"] and "nested" in failed["deep.xml"]
    assert "NCT09000005" in {t.id for t in engine.store.trials()}
    assert_good_sources_landed(engine)
    engine.close()


def test_values_past_what_a_conversion_takes_are_reported_by_name(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Found by the fuzz test: each of these once escaped as a bare ValueError or OverflowError and ended the ingest."""
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    page = guideline("Dated page")
    (sources / "no-such-date.md").write_text(page.replace("'2024-05-01'", "2024-13-45"))
    (sources / "long-number.md").write_text(page.replace("title: Dated page", "title: x\nrevision: " + "9" * 5000))
    lines = []
    for nct_id, age in (("NCT09000011", 10**400), ("NCT09000012", 13)):  # an NCI CTS record, as JSON Lines
        eligibility = {"structured": {"min_age_in_years": age}}
        record = {"nct_id": nct_id, "brief_title": "A study", "current_trial_status": "Active"}
        lines.append(json.dumps({**record, "eligibility": eligibility}) + "\n")
    (sources / "ages.jsonl").write_text("".join(lines))
    html = (
        "<html><body><h1>Listed references</h1><p>Complete removal of the tumour is the main treatment.[1]</p>"
        "<h6>References</h6><ol start='"
        + "9" * 5000
        + "'><li value='²'>Writer A: Surgery. 2001.</li></ol></body></html>"
    )
    (sources / "listed-references.html").write_text(html)
    engine = Engine(kb)
    report = engine.ingest([sources])
    failed = failures(report)
    assert set(failed) == {"no-such-date.md", "long-number.md", "ages.jsonl"}, failed
    assert "month must be in 1..12" in failed["no-such-date.md"] and "digits" in failed["long-number.md"]
    assert "line 1: min_age_in_years" in failed["ages.jsonl"]
    assert "NCT09000012" in {t.id for t in engine.store.trials()}
    assert [r.number for r in engine.document("listed-references").references] == [1]
    assert_good_sources_landed(engine)
    engine.close()


def test_deeply_nested_html_is_refused_in_linear_time(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Found by the fuzz test: every block walked all its ancestors, so 20,000 nested divs (1 MB) took 30 s.
    Linear, not quadratic: four times the nesting takes well under sixteen times as long to refuse (a ratio, so
    a busy machine does not fail it)."""
    kb = fresh_location(request, tmp_path)
    block = "<div><p>Text of a nested block, long enough to be a passage.</p>"

    def refusal_seconds(blocks: int) -> float:
        path = tmp_path / f"nested-{blocks}.html"
        path.write_text("<html><body><h1>Nested</h1>" + block * blocks + "</body></html>")
        started = time.perf_counter()
        with pytest.raises(IngestError, match="nested more than 256 elements deep"):
            parse_file(path)
        return time.perf_counter() - started

    refusal_seconds(1_000)  # warm-up
    small, large = min(refusal_seconds(5_000) for _ in range(3)), min(refusal_seconds(20_000) for _ in range(3))
    assert large < 8 * small + 0.2, (small, large)

    sources = tmp_path / "sources"
    write_good_sources(sources)
    (sources / "nested.html").write_text("<html><body><h1>Nested</h1>" + block * 20_000 + "</body></html>")
    engine = Engine(kb)
    with finishes_within(120):
        report = engine.ingest([sources])
    assert "nested more than 256 elements deep" in failures(report)["nested.html"]
    assert_good_sources_landed(engine)
    engine.close()


# --- item 5: the derived index after a crash, and under concurrency -------------------------------------------


@pytest.mark.sqlite_only  # a child process killed or measured on a SQLite file
def test_a_leftover_old_index_folder_blocks_neither_ingest_nor_ask(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    write_good_sources(sources)
    db = tmp_path / "kb" / "kb.sqlite"
    engine = Engine(db)
    engine.ingest([sources])
    leftover = db.with_name("kb.sqlite.index.old")
    leftover.mkdir()
    (leftover / "meta.json").write_text("{}")
    (sources / "second.md").write_text(guideline("Second guideline"))
    report = engine.ingest([sources])
    assert report.documents_added == 1 and not report.failed
    answer = engine.ask("What is the main treatment when all of the tumour can be taken out?")
    assert answer.sentences()
    assert not leftover.exists()
    engine.close()


KILLED_AT = """
    import os, signal, sys
    from pathlib import Path

    def kill_at(event, function, argument_name=None, argument_value=None):
        def hook(frame, seen, _arg):
            if seen != event or frame.f_code.co_name != function:
                return
            if argument_name is None or Path(str(frame.f_locals.get(argument_name))).name == argument_value:
                os.kill(os.getpid(), signal.SIGKILL)
        sys.setprofile(hook)

    from clinqa.engine import Engine
    db, folder, *point = sys.argv[1:]
    engine = Engine(Path(db))
    kill_at(*point)
    engine.ingest([Path(folder)])
    print("not killed")
"""


@pytest.mark.sqlite_only  # a child process killed or measured on a SQLite file
def test_a_save_killed_midway_leaves_nothing_behind_after_the_next_ingest(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    write_good_sources(sources)
    db = tmp_path / "kb" / "kb.sqlite"
    # Killed while the index is written, after the data files and before meta.json.
    killed = run_python(KILLED_AT, str(db), str(sources), "call", "_write_json", "path", "meta.json")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    folders = {p.name for p in db.parent.iterdir() if p.is_dir()}
    assert folders - {"kb.sqlite.index"}, "the killed save left no staging folder: the kill came too late"
    engine = Engine(db)
    report = engine.ingest([sources])
    assert not report.failed and report.documents_unchanged == 1
    assert {p.name for p in db.parent.iterdir() if p.is_dir()} == {"kb.sqlite.index"}
    assert engine.ask("What is the main treatment when all of the tumour can be taken out?").sentences()
    engine.close()


@pytest.mark.sqlite_only  # a child process killed or measured on a SQLite file
def test_trials_named_in_a_guideline_survive_a_kill_after_its_write(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    named = " The ongoing trial (EXAMPLE1 [NCT09000009]) enrols patients aged 12 to 30 years."
    (sources / "names-a-trial.md").write_text(guideline("Guideline naming a trial", extra=named))
    db = tmp_path / "kb.sqlite"
    killed = run_python(KILLED_AT, str(db), str(sources), "return", "put_document")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    engine = Engine(db)
    report = engine.ingest([sources])  # the document is stored: this run sees it unchanged
    assert report.documents_unchanged == 1
    assert "NCT09000009" in {t.id for t in engine.store.trials()}
    engine.close()


CONCURRENT_SAVES = """
    import sys
    from pathlib import Path
    from clinqa.retrieve.index import load_index, save_index

    directory, generation, model, rounds = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    index = load_index(directory, generation, model)
    errors = []
    for _ in range(rounds):
        try:
            save_index(index, directory)
            if load_index(directory, generation, model) is None:
                errors.append("a save left no usable index")
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
    print(len(errors), errors[:3])
"""


@pytest.mark.sqlite_only  # a child process killed or measured on a SQLite file
def test_three_processes_saving_the_index_at_once_all_succeed(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    write_good_sources(sources)
    db = tmp_path / "kb.sqlite"
    engine = Engine(db)
    engine.ingest([sources])
    generation, model = engine.store.generation(), engine.model
    engine.close()
    args = [str(db.with_name("kb.sqlite.index")), str(generation), model, "60"]
    script = textwrap.dedent(CONCURRENT_SAVES)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], [err[-2000:] for _, err in outputs]
    assert [out.split(" ", 1)[0] for out, _ in outputs] == ["0", "0", "0"], outputs
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == {"sources", "kb.sqlite.index"}
    engine = Engine(db)
    assert engine.ask("What is the main treatment when all of the tumour can be taken out?").sentences()
    engine.close()


# --- item 6: nothing skipped in silence -----------------------------------------------------------------------


def ingest_command(db: Path, *paths: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), "ingest", *map(str, paths)])
    return result.exit_code, result.output


@pytest.mark.sqlite_only  # the child drops the rights that would let it reach the test server's socket
def test_an_unreadable_subfolder_is_reported_and_the_command_fails(tmp_path: Path) -> None:
    kb = tmp_path / "kb.sqlite"
    sources = tmp_path / "sources"
    write_good_sources(sources)
    locked = sources / "locked"
    locked.mkdir()
    (locked / "hidden-from-us.md").write_text(guideline("Locked guideline"))
    locked.chmod(0)
    db = kb
    command = [sys.executable, "-c", "from clinqa.cli import main; main()", "--db", str(db), "ingest", str(sources)]
    if os.geteuid() == 0:  # root reads any folder: drop the capabilities that let it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a folder cannot be made unreadable")
        command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        locked.chmod(0o755)
    assert run.returncode == 1, run.stderr[-3000:]
    assert f"{locked}: cannot list the folder" in " ".join(run.stderr.split()), run.stderr[-3000:]
    engine = Engine(db)
    assert_good_sources_landed(engine)
    engine.close()


def test_a_folder_without_a_supported_file_is_reported_and_the_command_fails(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    empty = tmp_path / "scans"
    empty.mkdir()
    (empty / "scan.pdf").write_bytes(b"%PDF-1.4")
    code, out = ingest_command(kb, sources, empty)
    assert code == 1, out
    assert f"{empty}: no guideline, trial or PubMed files" in " ".join(out.split()), out


@pytest.mark.parametrize("content", ["[]", '{"studies": []}', "\n\n"])
def test_a_trial_file_without_records_is_reported_and_the_command_fails(
    request: pytest.FixtureRequest, tmp_path: Path, content: str
) -> None:
    kb = fresh_location(request, tmp_path)
    sources = tmp_path / "sources"
    write_good_sources(sources)
    suffix = ".jsonl" if content.isspace() else ".json"
    (sources / f"nothing{suffix}").write_text(content)
    code, out = ingest_command(kb, sources)
    assert code == 1, out
    assert f"nothing{suffix}: holds no trial records" in " ".join(out.split()), out
    engine = Engine(kb)
    assert_good_sources_landed(engine)
    engine.close()


def test_a_second_file_with_the_same_id_and_other_content_is_reported_and_the_command_fails(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    kb = fresh_location(request, tmp_path)
    first, second = tmp_path / "a" / "guide.md", tmp_path / "b" / "guide.md"
    for path, title in ((first, "First version"), (second, "Second version")):
        path.parent.mkdir()
        path.write_text(guideline(title))
    db = kb
    code, out = ingest_command(db, tmp_path / "a", tmp_path / "b")
    assert code == 1, out
    flat = " ".join(out.split())
    assert f"{second}: has the same document id (guide) as {first}" in flat, out
    engine = Engine(db)
    assert engine.document("guide").title == "First version"
    # Unchanged the second time, the first file still claims the id: the conflict is reported again.
    assert failures(engine.ingest([tmp_path / "a", tmp_path / "b"])).keys() == {"guide.md"}
    engine.close()
    # The same content at a second path is a harmless duplicate: skipped, and the command succeeds.
    shutil.copy(first, second)
    code, out = ingest_command(db, tmp_path / "a", tmp_path / "b")
    assert code == 0, out
    assert "skipped" in out
