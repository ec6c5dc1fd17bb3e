"""The web app and JSON API in-process (httpx through Starlette's test client): pages, API, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clinqa.settings import settings
from clinqa.web.app import create_app

QUESTION = "What is the 5-year survival after complete resection of pulmonary metastases in recurrent osteosarcoma?"


@pytest.fixture(scope="module")
def client(kb_path: Path) -> TestClient:
    return TestClient(create_app(kb_path), raise_server_exceptions=False)


def test_ask_page_is_accessible_and_self_contained(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<label for="question">' in html and 'lang="en"' in html and "Skip to content" in html
    assert "http://" not in html and "https://" not in html, "no external assets"
    assert client.get("/static/style.css").status_code == 200


def test_ask_form_renders_a_cited_answer_with_links_to_passages(client: TestClient) -> None:
    page = client.post("/ask", data={"question": QUESTION, "audience": "clinician"})
    assert page.status_code == 200
    html = page.text
    assert "Bottom line" in html and "20% to 45%" in html
    assert 'href="#ref-1"' in html and 'id="ref-1"' in html and "pubmed.ncbi.nlm.nih.gov" in html
    assert "/sources/types-bone-hp-osteosarcoma-treatment-pdq?passage=" in html
    assert "Disclaimer" in html and 'name="thread_id"' in html


def test_source_viewer_highlights_the_cited_passage(client: TestClient) -> None:
    answer = client.post("/api/ask", json={"question": QUESTION}).json()
    source = answer["bottom_line"][0]["source"]
    page = client.get(f"/sources/{source['document_id']}", params={"passage": source["passage_id"]})
    assert page.status_code == 200
    assert 'class="passage highlight"' in page.text and 'aria-current="true"' in page.text


def test_api_ask_follows_the_answer_contract(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": QUESTION, "audience": "clinician"})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "answered" and data["bottom_line"] and data["references"] and data["thread_id"]
    follow = client.post("/api/ask", json={"question": "and for bone metastases?", "thread_id": data["thread_id"]})
    assert follow.status_code == 200 and follow.json()["thread_id"] == data["thread_id"]


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/ask" in spec["paths"] and "/api/sources/{document_id}" in spec["paths"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"question": ""}, 422, "question"),
        ({"question": 42}, 422, "question"),
        ({"question": "x", "audience": "robot"}, 422, "audience"),
        ({"question": "x", "surprise": True}, 422, "surprise"),
        ({"question": "x", "patient": {"age": "old"}}, 422, "patient.age"),
    ],
)
def test_bad_api_requests_name_the_field(client: TestClient, body: object, status: int, field: str) -> None:
    response = client.post("/api/ask", json=body)
    assert response.status_code == status
    assert response.json()["field"] == field and field in response.json()["error"]


def test_malformed_json_oversize_and_unknown_ids(client: TestClient) -> None:
    bad = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and "error" in bad.json()
    too_many = settings().web.max_record_body_bytes + 1  # the ask routes may carry a FHIR record
    big = client.post("/api/ask", content=b"x" * too_many, headers={"content-type": "application/json"})
    assert big.status_code == 413
    missing = client.get("/api/sources/no-such-document")
    assert missing.status_code == 404 and "no-such-document" in missing.json()["error"]
    page = client.get("/sources/no-such-document")
    assert page.status_code == 404 and "Traceback" not in page.text
    unknown_thread = client.post("/api/ask", json={"question": QUESTION, "thread_id": "nope"})
    assert unknown_thread.status_code == 404


def test_health_reports_the_knowledge_base_without_an_account(client: TestClient) -> None:
    health = client.get("/api/health")
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok" and body["documents"] >= 1 and body["generation"] >= 1
