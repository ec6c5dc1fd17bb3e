"""How specific a word is, from its frequency in general English (wordfreq), not from the knowledge base.

Corpus statistics mean different things on one page and on a thousand: on a one-page knowledge base every
word the page lacks looks like the rarest word there is. General-English frequency does not move with the
corpus, so weights and thresholds built on it mean the same at every size. `osteosarcoma` is specific (Zipf
frequency 2.1), `relieve` is ordinary (3.8), `soon` is a function word (5.3).

The specificity of every term the corpus holds is computed when the index is built (`corpus_specificity`) and
saved with it; a question's words the corpus lacks are looked up on demand (`word_specificity`), so answering a
question that the corpus covers never loads the frequency lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from clinqa.retrieve.analysis import fold, stem

CEILING = 7.0  # Zipf frequency of the commonest words ("the" is 7.7): specificity is CEILING - Zipf
FLOOR = 0.5  # the least weight a searched term has
MAX_SPECIFICITY = 6.0  # words wordfreq has never seen (new drug names) are as specific as the rarest it knows
_WORD = re.compile(r"[a-z][a-z0-9']*")  # hyphenated compounds count by their parts, as the index reads them


@cache
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict  # about half a second: only when a word needs it

    return get_frequency_dict("en", wordlist="best")  # type: ignore[no-any-return]


def zipf(word: str) -> float:
    """The word's Zipf frequency in English (log10 of occurrences per billion words); 0 when unknown."""
    import math

    frequency = _frequencies().get(fold(word).lower(), 0.0)
    return math.log10(frequency * 1e9) if frequency > 0 else 0.0


def specificity_of_zipf(value: float) -> float:
    return min(MAX_SPECIFICITY, max(FLOOR, CEILING - value))


def word_specificity(word: str) -> float:
    return specificity_of_zipf(zipf(word))


def corpus_specificity(texts: Iterable[str]) -> dict[str, float]:
    """Stemmed term -> specificity, for every word of `texts`; a term takes the specificity of its commonest
    surface form ("therapy" for `therapi`), since that is how the question most likely wrote it."""
    words: set[str] = set()
    for text in texts:
        words.update(_WORD.findall(fold(text).lower()))
    common: dict[str, float] = {}
    for word in words:
        term = stem(word)
        value = zipf(word)
        if value > common.get(term, -1.0):
            common[term] = value
    return {term: round(specificity_of_zipf(value), 2) for term, value in common.items()}
