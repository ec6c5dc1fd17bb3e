"""The command line through click's runner: ingest, ask (all formats), bad inputs, documentation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from clinqa.cli import cli
from clinqa.config import starter_corpus
from clinqa.types import Answer, AnswerStatus, answer_json_schema, patient_json_schema
from tests.conftest import Location, fresh_location

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def starter_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Location:
    db = fresh_location(request, tmp_path_factory.mktemp("cli"))
    result = CliRunner().invoke(cli, ["--db", str(db), "ingest", str(starter_corpus())])
    assert result.exit_code == 0, result.output
    return db


def run(db: Location, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    return result.exit_code, result.output


def test_ask_json_follows_the_contract(starter_db: Location) -> None:
    code, out = run(starter_db, "ask", "--json", "What is the survival after complete resection of lung metastases?")
    assert code == 0, out
    data = json.loads(out)
    assert set(data) >= {"status", "question", "bottom_line", "sections", "references", "sources", "disclaimer"}
    answer = Answer.model_validate(data)
    assert answer.status is AnswerStatus.ANSWERED
    sentence = data["bottom_line"][0]
    assert set(sentence) >= {"text", "source", "citations", "level_of_evidence"}
    assert set(sentence["source"]) == {"document_id", "section", "passage_id"}
    assert data["sources"][0]["updated"] == "2026-11-21"


def test_ask_markdown_and_terminal(starter_db: Location) -> None:
    question = "What response did cabozantinib give in relapsed osteosarcoma?"
    code, markdown = run(starter_db, "ask", "--format", "markdown", question)
    assert code == 0
    assert markdown.startswith(f"# {question}")
    assert "## Bottom line" in markdown and "## References" in markdown and "## Disclaimer" in markdown
    assert re.search(r"\[PubMed \d+\]\(https://pubmed\.ncbi\.nlm\.nih\.gov/\d+/\)", markdown)
    code, terminal = run(starter_db, "ask", question)
    assert code == 0 and "Bottom line" in terminal and "cabozantinib" in terminal.lower()


def test_db_from_environment(starter_db: Location) -> None:
    result = CliRunner(env={"CLINQA_DB": str(starter_db)}).invoke(cli, ["documents"])
    assert result.exit_code == 0 and "recurrent-osteosarcoma" in result.output


def test_empty_question_is_refused(starter_db: Location) -> None:
    code, out = run(starter_db, "ask", "   ")
    assert code == 2 and "question is empty" in out


@pytest.mark.sqlite_only  # a knowledge base file in tmp_path
def test_a_missing_knowledge_base_is_named_with_the_ingest_command_and_not_created(tmp_path: Path) -> None:
    db = tmp_path / "missing.sqlite"
    for args in (("ask", "What is osteosarcoma?"), ("documents",), ("trials",), ("review", "list")):
        code, output = run(db, *args)
        assert code != 0, (args, output)
        assert str(db) in output and "ingest" in output, (args, output)
    assert not db.exists() and not list(tmp_path.iterdir())


@pytest.mark.sqlite_only  # a knowledge base file in tmp_path
def test_an_empty_knowledge_base_is_named_with_the_ingest_command(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite"
    added = CliRunner().invoke(
        cli,
        ["--db", str(db), "users", "add", "admin", "--role", "admin", "--password-stdin"],
        input="long passphrase 1\n",
    )
    assert added.exit_code == 0 and db.exists(), added.output  # a site may set up accounts before its sources
    code, output = run(db, "ask", "What is osteosarcoma?")
    assert code != 0 and "no sources" in output and f"--db {db} ingest" in output, output
    ingest_code, _ = run(db, "ingest", str(starter_corpus()))
    assert ingest_code == 0
    code, output = run(db, "ask", "--json", "What is the survival after complete resection of lung metastases?")
    assert code == 0 and Answer.model_validate_json(output).status is AnswerStatus.ANSWERED


def test_bad_files_are_reported_by_name_and_the_rest_ingested(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "good.md").write_text((starter_corpus() / "recurrent-osteosarcoma.md").read_text())
    (sources / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    (sources / "empty.txt").write_text("   \n")
    (sources / "front.md").write_text("---\ntitle: [unclosed\n---\n\nSome text that is long enough to be a passage.\n")
    db = fresh_location(request, tmp_path)
    code, out = run(db, "ingest", str(sources / "missing.md"), str(sources))
    assert code == 1
    assert re.search(r"missing\.md: no such file or directory", out), out
    for name, reason in (("binary.md", "binary"), ("empty.txt", "empty"), ("front.md", "front matter")):
        assert re.search(rf"{name}: .*{reason}", out, re.IGNORECASE), (name, out)
    code, listing = run(db, "documents")
    assert code == 0 and "good" in listing


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in cli.commands:
        assert f"`clinqa {name}" in readme, f"clinqa {name} is not in the README"


def test_committed_schemas_match_the_types() -> None:
    committed = json.loads((ROOT / "docs" / "answer.schema.json").read_text())
    assert committed == answer_json_schema(), "run: clinqa schema > docs/answer.schema.json"
    committed = json.loads((ROOT / "docs" / "patient.schema.json").read_text())
    assert committed == patient_json_schema(), "run: clinqa schema --of patient > docs/patient.schema.json"


def test_patient_file_errors_name_the_file_and_field(starter_db: Location, tmp_path: Path) -> None:
    bad = tmp_path / "patient.json"
    bad.write_text('{"age": "sixteen"}')
    code, out = run(starter_db, "ask", "--patient", str(bad), "What next for recurrent osteosarcoma?")
    assert code == 1 and "patient.json" in out and "age" in out
    bad.write_text("{not json")
    code, out = run(starter_db, "ask", "--patient", str(bad), "What next for recurrent osteosarcoma?")
    assert code == 1 and "patient.json" in out
    code, out = run(starter_db, "ask", "--patient", str(tmp_path / "missing.json"), "What next?")
    assert code == 1 and "missing.json" in out


def test_ask_with_patient_file_and_follow_up(starter_db: Location, tmp_path: Path) -> None:
    patient = tmp_path / "patient.json"
    patient.write_text(
        json.dumps(
            {
                "age": 16,
                "diagnosis": "osteosarcoma",
                "recurrence_number": 2,
                "prior_therapies": [{"described": "MAP", "agents": [], "line": 1}],
            }
        )
    )
    code, out = run(starter_db, "ask", "--json", "--patient", str(patient), "What are the next options?")
    assert code == 0, out
    data = json.loads(out)
    assert data["patient"]["age"] == 16
    assert data["patient"]["prior_agents"] == ["methotrexate", "doxorubicin", "cisplatin"]
    assert any(s["title"].startswith("Treatment algorithm") for s in data["sections"])
    thread = data["thread_id"]
    code, out = run(starter_db, "ask", "--json", "--thread", thread, "and if the nodules are in both lungs?")
    assert code == 0, out
    follow = json.loads(out)
    assert follow["thread_id"] == thread and follow["patient"]["bilateral"] is True
    assert follow["patient"]["age"] == 16, "the patient context carries over"
    code, out = run(starter_db, "threads")
    assert code == 0 and thread in out


def test_trials_command_lists_verdicts(starter_db: Location, tmp_path: Path) -> None:
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps({"age": 10, "diagnosis": "osteosarcoma"}))
    code, out = run(starter_db, "trials", "--json", "--patient", str(patient))
    assert code == 0, out
    matches = json.loads(out)
    ilc = next(m for m in matches if m["id"] == "NCT01650090")
    age = next(c for c in ilc["criteria"] if c["criterion"] == "age")
    assert age["verdict"] == "not_met" and "13" in age["reason"]


FHIR_RELAPSE = Path(__file__).parent / "fixtures" / "fhir" / "relapsed-osteosarcoma.json"


def test_ask_with_a_fhir_record_shows_where_each_fact_came_from(starter_db: Location) -> None:
    code, out = run(starter_db, "ask", "What are the options now?", "--patient", str(FHIR_RELAPSE), "--json")
    assert code == 0, out
    patient = json.loads(out)["patient"]
    assert patient["diagnosis"] == "osteosarcoma" and patient["recurrent"] is True
    facts = {f["fact"]: f["resources"] for f in patient["record"]["facts"]}
    assert facts["ECOG 1"] == ["Observation/ost-ecog"]
    code, out = run(starter_db, "ask", "What are the options now?", "--patient", str(FHIR_RELAPSE))
    assert code == 0 and "Read from" in out and "not read: Observation/ost-ecog-bad" in out, out


def test_a_broken_fhir_record_is_named_without_a_traceback(starter_db: Location, tmp_path: Path) -> None:
    path = tmp_path / "record.ndjson"
    path.write_text('{"resourceType": "Patient"}\n{broken\n')
    code, out = run(starter_db, "trials", "--patient", str(path))
    assert code != 0 and f"{path}:2" in out and "Traceback" not in out, out
