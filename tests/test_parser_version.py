"""A file is re-read when the parser that read it changes, even if its bytes did not."""

from __future__ import annotations

from pathlib import Path

import pytest

import clinqa.ingest as ingest
from clinqa.config import starter_corpus
from clinqa.engine import Engine
from tests.conftest import fresh_location


def test_an_upgraded_parser_rereads_unchanged_files(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine(fresh_location(request, tmp_path))
    assert engine.ingest([starter_corpus()]).documents_added == 1
    assert engine.ingest([starter_corpus()]).documents_unchanged == 1, "same bytes, same parser: skipped"
    monkeypatch.setattr(ingest, "PARSER_VERSION", ingest.PARSER_VERSION + 1)
    again = engine.ingest([starter_corpus()])
    assert again.documents_updated == 1 and again.documents_unchanged == 0
    engine.close()
