"""Numbers and ordinals as clinicians write them: "16", "two", "a single", "second", "2nd", "2L"."""

from __future__ import annotations

import re

CARDINALS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "a": 1, "an": 1, "single": 1, "a single": 1, "solitary": 1, "a solitary": 1, "isolated": 1, "an isolated": 1,
    "one single": 1, "a couple of": 2, "a pair of": 2,
}  # fmt: skip
ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8,
    "9th": 9, "10th": 10,
}  # fmt: skip


def _alternation(words: dict[str, int]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# A count: digits (with an optional decimal) or a number word; "a"/"an" only where a caller allows them.
NUMBER = rf"(?:\d+(?:\.\d+)?|{_alternation({k: v for k, v in CARDINALS.items() if k not in ('a', 'an')})})"
COUNT = rf"(?:\d+|{_alternation(CARDINALS)})"
ORDINAL = rf"(?:{_alternation(ORDINALS)})"


def number_value(text: str) -> float | None:
    """The value of a number written in digits or words, or None."""
    word = " ".join(text.lower().split())
    if word in CARDINALS:
        return float(CARDINALS[word])
    try:
        return float(word)
    except ValueError:
        return None


def ordinal_value(text: str) -> int | None:
    """The value of "second", "2nd" or "2L"; None when `text` is not an ordinal."""
    word = text.lower().strip()
    if word in ORDINALS:
        return ORDINALS[word]
    match = re.fullmatch(r"(\d{1,2})l", word)
    return int(match.group(1)) if match else None
