"""The one settings tree: environment, overrides, validation, and the documented table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from clinqa.answer.compose import ComposeLimits
from clinqa.retrieve.retriever import RetrievalConfig
from clinqa.settings import markdown_table, override, reset, settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    reset()
    yield
    reset()


def test_environment_reaches_nested_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINQA_ANSWER__MIN_COVERAGE", "0.42")
    monkeypatch.setenv("CLINQA_RETRIEVAL__DENSE_WEIGHT", "0.2")
    assert settings().answer.min_coverage == 0.42
    assert ComposeLimits().min_coverage == 0.42
    assert RetrievalConfig().dense_weight == 0.2


def test_an_override_wins_and_is_validated() -> None:
    override("answer.bottom_line=2")
    assert ComposeLimits().bottom_line == 2
    with pytest.raises(ValidationError):
        override("answer.bottom_line=0")
    with pytest.raises(ValueError, match="no key 'nope'"):
        override("answer.nope=1")
    with pytest.raises(ValueError, match=r"SECTION\.KEY=VALUE"):
        override("bottom_line")
    assert settings().answer.bottom_line == 2, "a refused override changes nothing"


def test_a_bad_environment_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINQA_RETRIEVAL__MODEL", "gpt")
    with pytest.raises(ValidationError, match=r"retrieval\.model"):
        settings()


def test_every_key_is_documented() -> None:
    assert markdown_table() in DOCS.read_text(encoding="utf-8"), "regenerate docs/settings.md's table"
