"""Random and mutated request bodies against the JSON API and the forms (Hypothesis), in-process over a copy of the
test knowledge base: whatever arrives, the answer is a status below 500 with a message, never a stack trace.
Bounded and repeatable: a fixed number of cases per endpoint, derandomized, no example database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .conftest import copy_kb
from .test_web_review import QUESTION, Site, csrf_in, log_in, open_site, save, session_csrf

CASES = 150  # per endpoint and body kind; the whole module stays well under a minute
FUZZ = settings(
    max_examples=CASES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TALLY: dict[str, int] = {}  # cases sent per endpoint, reported at the end of the module

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", " ", "\x00", "\ud800", "[/]", "{{ 7*7 }}", "<script>", "x" * 5000, "clinician", "draft"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
form_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["", "0", "-1", "99999999999999999999", "x" * 3000, "<script>", "approved", "clinician", "[/]"]
)


def mutated(valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid body with one field (or one field of a nested object) replaced, dropped or added, or something
    else entirely."""
    keys = sorted(valid)
    replace = st.tuples(st.sampled_from(keys), json_values).map(lambda kv: {**valid, kv[0]: kv[1]})
    drop = st.sampled_from(keys).map(lambda k: {f: v for f, v in valid.items() if f != k})
    add = st.tuples(st.text(max_size=12), json_values).map(lambda kv: {**valid, kv[0]: kv[1]})
    body = replace | drop | add | json_values
    for key in (k for k in keys if isinstance(valid[k], dict)):
        field = st.sampled_from(sorted(valid[key])) | st.text(max_size=12)
        body |= st.tuples(field, json_values).map(lambda kv, key=key: {**valid, key: {**valid[key], kv[0]: kv[1]}})
    return body


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Bytes that are not quite JSON or form encoding: truncated, invalid UTF-8, deep nesting."""
    return (
        st.binary(max_size=200)
        | st.integers(min_value=1, max_value=5000).map(lambda n: b"[" * n + b"]" * n)
        | st.sampled_from([b"", b"{", b'{"question": "x"', b"\xff\xfe", b"question=%ff%fe", b"a=1&a=2&" * 50])
    )


def check(response: httpx.Response, endpoint: str) -> None:
    TALLY[endpoint] = TALLY.get(endpoint, 0) + 1
    assert response.status_code < 500, (endpoint, response.status_code, response.text[:300])
    assert "Traceback" not in response.text and 'File "' not in response.text
    if endpoint.startswith("/api/") and response.status_code >= 400:
        assert "error" in response.json(), response.text[:300]


def send_json(client: TestClient, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    # Encoded here: lone surrogates and NaN are sent as JSON allows them to be written, not refused client-side.
    content = json.dumps(body, allow_nan=True).encode()
    return client.post(path, content=content, headers={"content-type": "application/json", **(headers or {})})


@pytest.fixture(scope="module")
def site(kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    opened = open_site(copy_kb(kb_path, tmp_path_factory.mktemp("fuzz")))
    started = time.perf_counter()
    yield opened
    seconds = time.perf_counter() - started
    print(f"\nfuzz: {sum(TALLY.values())} cases in {seconds:.1f} s: {TALLY}")
    opened.web.engine.close()


@pytest.fixture(scope="module")
def article(site: Site) -> str:
    return save(site, "alice")


PATIENT = {"age": 16, "diagnosis": "osteosarcoma", "recurrent": True, "sites": ["lung"], "prior_agents": ["cisplatin"]}


def test_api_ask_bodies(site: Site) -> None:
    client = site.client()
    valid = {"question": QUESTION, "audience": "clinician", "patient": PATIENT, "thread_id": None}

    @FUZZ
    @given(body=mutated(valid))
    @example(body={**valid, "patient": {**PATIENT, "diagnosis": "\udfff"}})  # JSON may carry a lone surrogate
    def case(body: Any) -> None:
        check(send_json(client, "/api/ask", body), "/api/ask")

    case()


def test_api_article_bodies(site: Site) -> None:
    client = site.client()
    valid = {"question": "What is the role of surgery for lung metastases?", "audience": "patient", "patient": PATIENT}

    @FUZZ
    @given(body=mutated(valid))
    @example(body={**valid, "patient": {**PATIENT, "sites": ["\ud800"]}})
    def case(body: Any) -> None:
        check(send_json(client, "/api/articles", body, site.auth("alice")), "/api/articles")

    case()


def test_api_transition_bodies(site: Site, article: str) -> None:
    client = site.client()
    valid = {"to": "submitted", "version": 1, "comment": "ready"}

    @FUZZ
    @given(body=mutated(valid), who=st.sampled_from(["alice", "rhea", "rita"]))
    def case(body: Any, who: str) -> None:
        check(send_json(client, f"/api/articles/{article}/transitions", body, site.auth(who)), "/api/transitions")

    case()


def test_raw_bodies(site: Site, article: str) -> None:
    client = site.client()
    paths = ["/api/ask", "/api/articles", f"/api/articles/{article}/transitions", "/ask", "/login", "/articles"]
    kinds = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]

    @FUZZ
    @given(body=raw_bodies(), path=st.sampled_from(paths), kind=st.sampled_from(kinds))
    def case(body: bytes, path: str, kind: str) -> None:
        headers = {"content-type": kind} | site.auth("alice")
        check(client.post(path, content=body, headers=headers), "raw " + path.split("/")[-1])

    case()


def test_login_forms(site: Site) -> None:
    client = site.client()
    token = csrf_in(client.get("/login").text)

    @FUZZ
    @given(
        form=st.fixed_dictionaries(
            {},
            optional={
                "username": form_text,
                "password": form_text,
                "next": form_text,
                "csrf": st.just(token) | form_text,
            },
        )
    )
    def case(form: dict[str, str]) -> None:
        check(client.post("/login", data=form, follow_redirects=False), "/login")

    case()


def test_ask_and_review_forms(site: Site, article: str) -> None:
    reviewer = log_in(site, "rhea")
    csrf = session_csrf(reviewer)
    fields = {
        "question": form_text,
        "audience": form_text,
        "patient_details": form_text,
        "thread_id": form_text,
        "to": form_text,
        "version": form_text,
        "comment": form_text,
        "csrf": st.just(csrf) | form_text,
    }
    paths = ["/ask", "/articles", f"/articles/{article}/transitions"]

    @FUZZ
    @given(form=st.fixed_dictionaries({}, optional=fields), path=st.sampled_from(paths))
    def case(form: dict[str, str], path: str) -> None:
        check(reviewer.post(path, data=form, follow_redirects=False), path.split("/")[-1] + " form")

    case()
