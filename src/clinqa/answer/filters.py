"""Sentences never offered as a treatment option: negative results, study designs, legends, cautions
(`clinqa/data/answer_filters.tsv`). They may still stand in an answer, as evidence or as a pitfall. The same file
lists the generic words of a "what next" question."""

from __future__ import annotations

import re
from functools import cache, lru_cache

from clinqa.data import AnyPattern, compile_groups, compile_pattern, read_table

SENTENCE_KINDS = ("negative", "design", "legend", "caution", "mechanism")


@cache
def _rows() -> tuple[tuple[str, re.Pattern[str]], ...]:
    rows = read_table("answer_filters.tsv", 2, 2)
    return tuple((row.cells[0], compile_pattern(row.cells[1], row.where())) for row in rows)


@cache
def _filters() -> dict[str, AnyPattern]:
    return compile_groups(((kind, pattern.pattern) for kind, pattern in _rows()), "answer_filters.tsv")


@cache
def _generic_words() -> re.Pattern[str]:
    return compile_pattern(_filters()["generic"].pattern, "answer_filters.tsv:generic")


@lru_cache(maxsize=65536)
def not_an_option(text: str, trial: bool = False) -> str | None:
    """Why a sentence cannot be offered as a treatment option ("negative", "design", "legend", "caution",
    "mechanism"), or None. For the clinical-trial step a trial's design is what is offered."""
    filters = _filters()
    for kind, pattern in filters.items():
        if kind in SENTENCE_KINDS and pattern.search(text) and not (trial and kind == "design"):
            return kind
        if kind == "study" and not trial and pattern.search(text) and not filters["result"].search(text):
            return "design"  # how a study was run, and nothing of what it found
    return None


def says_randomised(text: str) -> bool:
    """A sentence that says its result comes from randomised comparison (a randomised or phase III trial)."""
    return bool(_filters()["randomised"].search(text))


def offers_a_treatment(text: str) -> bool:
    """A sentence that offers a treatment: it advises it, reports its approval, or a benefit it showed."""
    return bool(_filters()["offer"].search(text))


def lists_no_options(lead_in: str) -> bool:
    """Whether a list's lead-in says its items are no treatment options (risk factors, side effects, symptoms)."""
    return bool(_filters()["non_option_list"].search(lead_in))


def lists_options(lead_in: str) -> bool:
    """Whether a list's lead-in says its items are the treatment options of its section."""
    return bool(_filters()["option_list"].search(lead_in))


def reports_a_result(text: str) -> bool:
    """A sentence that reports what a study found (a figure, a response, survival, a benefit)."""
    return bool(_filters()["result"].search(text))


def states_a_verdict(text: str) -> bool:
    """A sentence that answers a yes/no question: an effect found, or not found."""
    return bool(_filters()["verdict"].search(text))


def about_animals(question: str) -> bool:
    """A question about animals (a dog's lymphoma): the sources are about people."""
    return bool(_filters()["animals"].search(question))


def asks_nonclinical(question: str) -> bool:
    """A question after something no clinical source gives (a share price, a market), whatever it names."""
    return bool(_filters()["nonclinical"].search(question))


def dose_unit_asked(question: str) -> re.Pattern[str] | None:
    """The unit a dose question asks in ("in mg", "lipase units"): a pattern that a sentence answering it shows
    right after a figure; None when the question names no unit."""
    for kind, pattern in _rows():
        if kind == "dose_unit" and pattern.search(question):
            return re.compile(rf"\d(?:[.,]\d+)?\s*(?:{pattern.pattern})", pattern.flags)
    return None


def particular_words(question: str) -> str:
    """A "what next" question less its generic words ("options", "next line", "after", "patient"): what it
    asks in particular, if anything ("consolidation", "a cellular therapy", "with an OS benefit")."""
    return _generic_words().sub(" ", question)
