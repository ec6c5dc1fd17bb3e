"""User and document text is never rich markup: a title, path, question, comment or trial title holding `[/]`,
`[bold]` or `[link=…]` goes through every listing command of the real CLI (on a real knowledge base) with exit
status 0 and is shown literally."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clinqa.cli import cli
from clinqa.config import starter_corpus
from tests.conftest import Location, fresh_location

MARKUP = ("[/]", "[bold]", "[link=javascript:x]")
MARKED = " ".join(MARKUP)
TITLE = f"Recurrent osteosarcoma {MARKED}"
QUESTION = f"What is the survival after complete resection of lung metastases? {MARKED}"
COMMENT = f"checked {MARKED}"
TRIAL_TITLE = f"Cabozantinib for relapsed osteosarcoma {MARKED}"
PASSWORD = "correct horse battery"


@dataclass
class Corpus:
    db: Location
    broken: Path  # a file that fails to ingest, its path holding markup
    ingest: Result

    def run(self, *args: str, password: str | None = None) -> str:
        """Run a command; it must succeed. A terminal wide enough that no table cell wraps."""
        result = CliRunner(env={"COLUMNS": "400"}).invoke(
            cli, ["--db", str(self.db), *args], input=f"{password}\n" if password else None
        )
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output


def trial_record() -> dict[str, object]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT09999999", "briefTitle": TRIAL_TITLE},
            "statusModule": {"overallStatus": "RECRUITING"},
            "conditionsModule": {"conditions": ["Osteosarcoma"]},
            "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Relapsed osteosarcoma"},
        }
    }


@pytest.fixture(scope="module")
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("markup")
    sources = root / "sources"
    (sources / "[").mkdir(parents=True)
    text = (starter_corpus() / "recurrent-osteosarcoma.md").read_text()
    text = re.sub(r"^title: .*$", f"title: '{TITLE}'", text, count=1, flags=re.MULTILINE)
    (sources / "osteosarcoma [bold].md").write_text(text)
    broken = sources / "[" / "]broken [link=javascript:x].md"  # the path holds "[/]"
    broken.write_bytes(b"\x00\x01\x02" * 100)
    (sources / "trial.json").write_text(json.dumps(trial_record()))
    db = fresh_location(request, root)
    result = CliRunner(env={"COLUMNS": "400"}).invoke(cli, ["--db", str(db), "ingest", str(sources)])
    return Corpus(db, broken, result)


def shows(output: str, *texts: str) -> None:
    for text in texts:
        assert text in output, (text, output)


def test_the_ingest_report_names_a_path_holding_markup(corpus: Corpus) -> None:
    # The broken file fails (exit status 1); the report itself does not crash.
    assert isinstance(corpus.ingest.exception, SystemExit), corpus.ingest.exception
    assert corpus.ingest.exit_code == 1, corpus.ingest.output
    shows(corpus.ingest.output, f"failed {corpus.broken}", "documents")


def test_documents_and_trials_show_their_titles_literally(corpus: Corpus) -> None:
    shows(corpus.run("documents"), TITLE)
    shows(corpus.run("trials"), TRIAL_TITLE)


def test_questions_articles_and_comments_are_shown_literally(corpus: Corpus) -> None:
    answer = corpus.run("ask", QUESTION)
    shows(answer, QUESTION, TITLE)
    shows(corpus.run("threads"), QUESTION)
    corpus.run("users", "add", "alice", "--role", "author", "--password-stdin", password=PASSWORD)
    corpus.run("users", "add", "ravi", "--role", "reviewer", "--password-stdin", password=PASSWORD)
    shows(corpus.run("users", "list"), "alice", "ravi")
    article_id = corpus.run("articles", "save", QUESTION, "--as", "alice", "--password-stdin", password=PASSWORD)
    article_id = article_id.splitlines()[0].strip()
    shows(corpus.run("articles", "list"), QUESTION)
    corpus.run(
        "articles",
        "submit",
        article_id,
        "--version",
        "1",
        "--as",
        "alice",
        "--password-stdin",
        "--comment",
        COMMENT,
        password=PASSWORD,
    )
    shows(corpus.run("review", "list"), QUESTION)
    corpus.run(
        "review",
        "start",
        article_id,
        "--version",
        "1",
        "--as",
        "ravi",
        "--password-stdin",
        "--comment",
        COMMENT,
        password=PASSWORD,
    )
    shown = corpus.run("review", "show", article_id)
    shows(shown, QUESTION, COMMENT, TITLE)
