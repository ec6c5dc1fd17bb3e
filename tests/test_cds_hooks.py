"""The patient as a FHIR record over HTTP, against a running `clinqa serve` on a free port: the CDS Hooks service
(discovery, a `patient-view` round trip with our own fixture record and, when ../shared is there, a real mCODE
bundle, and its errors), and the record sent to `POST /api/ask` (JSON) and to the ask form (a file upload)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clinqa.clinical.fhir import load_resources
from clinqa.settings import settings
from clinqa.web.cds_hooks import SERVICE_ID, patient_view_call
from tests.conftest import Location, copy_kb
from tests.test_fhir import RELAPSE, REQUESTS, SHARED, needs_shared
from tests.test_workers import clinqa, free_port, wait_until_up

SERVICE = f"/cds-services/{SERVICE_ID}"
MCODE = SHARED / "mcode" / "ctm-app_TrialMatching_Patient01.json"
QUESTION = "What are the options for recurrent osteosarcoma?"


@pytest.fixture(scope="module")
def server(answer_kb_path: Location, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """`clinqa serve` over a copy of the answer knowledge base, and a client of it."""
    kb = copy_kb(answer_kb_path, tmp_path_factory.mktemp("cds"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CLINQA_DB"}
    process = subprocess.Popen(
        clinqa(kb, "serve", "--port", str(port)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, trust_env=False) as client:
            wait_until_up(process, client)
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)


def call_for(path: Path, patient_id: str) -> dict[str, Any]:
    return patient_view_call(load_resources(path), patient_id, "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea")


def test_discovery_lists_the_patient_view_service(server: httpx.Client) -> None:
    response = server.get("/cds-services")
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
    (service,) = response.json()["services"]
    assert (service["id"], service["hook"]) == (SERVICE_ID, "patient-view")
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert service["prefetch"]["conditions"] == "Condition?patient={{context.patientId}}"
    assert {"medicationStatements", "medicationRequests", "medicationAdministrations"} <= set(service["prefetch"])


def test_a_patient_view_round_trip_with_the_fixture_record(server: httpx.Client) -> None:
    response = server.post(SERVICE, json=call_for(RELAPSE, "ost-1"))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert len(card["summary"]) < 140 and "recurrent osteosarcoma" in card["summary"]
    assert card["indicator"] in ("info", "warning")
    assert "**Bottom line**" in card["detail"] and "https://pubmed.ncbi.nlm.nih.gov/" in card["detail"]
    assert card["source"]["label"].startswith("clinqa")
    full, *trials = card["links"]
    assert all(link["type"] == "absolute" for link in card["links"])
    assert full["url"].startswith(f"{server.base_url}/ask?question=What+are+the+next+treatment+options+for+recurrent")
    assert all(t["url"].startswith("https://clinicaltrials.gov/study/NCT") for t in trials)
    page = server.get(full["url"])  # the link opens the full answer on the same server
    assert page.status_code == 200 and "Bottom line" in page.text


@needs_shared
def test_a_patient_view_round_trip_with_a_real_mcode_bundle(server: httpx.Client) -> None:
    call = call_for(MCODE, load_resources(MCODE)[0]["id"])
    response = server.post(SERVICE, json=call)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert "breast cancer" in card["summary"] and len(card["summary"]) < 140
    assert card["links"][0]["url"].startswith(f"{server.base_url}/ask?question=")


def test_a_patient_without_a_cancer_gets_no_card(server: httpx.Client) -> None:
    call = call_for(RELAPSE, "ost-1")
    for key, value in call["prefetch"].items():
        if key != "patient":
            value["entry"] = []
    response = server.post(SERVICE, json=call)
    assert response.status_code == 200 and response.json() == {"cards": []}


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        (lambda call: call["prefetch"].pop("conditions"), 412, "prefetch lacks conditions"),
        (lambda call: call.pop("prefetch"), 412, "reaches no FHIR server"),
        (lambda call: call.update(hook="order-select"), 400, "'patient-view' only"),
        (lambda call: call["context"].pop("patientId"), 400, "context.patientId"),
        (lambda call: call["prefetch"]["conditions"]["entry"].append({"resource": {}}), 400, "Bundle.entry[2]"),
        (lambda call: call["context"].update(patientId="someone-else"), 400, "no Patient with id 'someone-else'"),
    ],
)
def test_a_call_the_service_cannot_serve_is_a_json_error(
    server: httpx.Client, change: Any, status: int, message: str
) -> None:
    call = call_for(RELAPSE, "ost-1")
    change(call)
    response = server.post(SERVICE, json=call)
    assert response.status_code == status and message in response.json()["error"], response.text


def test_malformed_json_and_an_unknown_service(server: httpx.Client) -> None:
    bad = server.post(SERVICE, content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("the body is not JSON")
    assert bad.headers["access-control-allow-origin"] == "*"
    unknown = server.post("/cds-services/nope", json=call_for(RELAPSE, "ost-1"))
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]


# --- the record sent to the JSON API and the ask form -----------------------------------------------------------


def padded(path: Path, size: int) -> dict[str, Any]:
    """The Bundle at `path` made larger than `size` bytes by narrative text, which the reader does not look at."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    narrative = {"status": "generated", "div": "<div>" + "x" * size + "</div>"}
    bundle["entry"][0]["resource"]["text"] = narrative
    return dict(bundle)


def test_the_api_reads_a_bundle_larger_than_the_plain_body_limit(server: httpx.Client) -> None:
    bundle = padded(RELAPSE, settings().web.max_body_bytes)
    response = server.post("/api/ask", json={"question": QUESTION, "patient_record": bundle})
    assert response.status_code == 200, response.text
    patient = response.json()["patient"]
    assert (patient["diagnosis"], patient["recurrent"], patient["record"]["source"]) == (
        "osteosarcoma",
        True,
        "patient_record",
    )


def test_the_api_reads_ndjson_text_and_lays_fields_over_it(server: httpx.Client) -> None:
    body = {"question": "What next?", "patient_record": REQUESTS.read_text(), "patient": {"ecog": 2}}
    response = server.post("/api/ask", json=body)
    assert response.status_code == 200, response.text
    patient = response.json()["patient"]
    assert patient["diagnosis"] == "breast cancer" and patient["ecog"] == 2 and patient["prior_agents"]


def test_a_bad_record_is_a_422_naming_the_resource(server: httpx.Client) -> None:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]}
    response = server.post("/api/ask", json={"question": QUESTION, "patient_record": bundle})
    assert response.status_code == 422
    assert response.json() == {
        "error": "patient_record: Bundle.entry[0]: has no resource with a resourceType",
        "field": "patient_record",
    }
    text = server.post("/api/ask", json={"question": QUESTION, "patient_record": "{not json\n"})
    assert text.status_code == 422 and text.json()["error"].startswith("patient_record:1:")


def test_the_form_takes_a_record_file(server: httpx.Client) -> None:
    assert 'type="file" id="patient_record"' in server.get("/").text
    files = {"patient_record": ("relapse.json", RELAPSE.read_bytes(), "application/fhir+json")}
    page = server.post("/ask", data={"question": QUESTION}, files=files)
    assert page.status_code == 200 and "Condition/ost-primary" in page.text  # the patient shown back names it
    empty = {"patient_record": ("", b"", "application/octet-stream")}  # no file chosen
    assert server.post("/ask", data={"question": QUESTION}, files=empty).status_code == 200
    bad = {"patient_record": ("notes.json", b"\xff\xfe bad", "application/json")}
    refused = server.post("/ask", data={"question": QUESTION}, files=bad)
    assert refused.status_code == 422 and "is not UTF-8 text" in refused.text and "Traceback" not in refused.text
