"""Text analysis shared by indexing and querying, so that both see the same terms."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Accents folded ("Sézary" -> "Sezary"), so that a question typed without them finds the source."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# bm25s's analysis (`bm25s.tokenize(..., stopwords="en")`): scikit-learn's token pattern, bm25s's English
# stopwords, then the stemmer. Done here text by text: bm25s's own function builds progress bars and its stopword
# set for every call and text, which costs more than the analysis of a question's few hundred sentences.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


def analyze(texts: list[str]) -> list[list[str]]:
    """Lower-cased, accent-folded, stop-worded, Snowball-stemmed terms of each text."""
    words = [[w for w in _TOKEN.findall(fold(t).lower()) if w not in _STOPWORDS] for t in texts]
    unique = list(dict.fromkeys(w for text in words for w in text))
    stems = dict(zip(unique, _stemmer().stemWords(unique), strict=True))
    return [[stems[w] for w in text] for text in words]


# Words that shape a question but name nothing to look for: English function words (bm25s's longer list; the
# index itself keeps Lucene's short list) and the verbs and adverbs of asking.
QUESTION_WORDS = frozenset(
    _stemmer().stemWords(
        [
            *STOPWORDS_EN_PLUS,
            *(
                "what whats which who whom whose how when where why next best good should would could can do does "
                "did is are was were will tell know explain describe anyone someone please exist available known "
                "current currently us give given old yo boy girl man woman male female associated linked "
                "husband wife partner son daughter mother father mom mum dad grandmother grandfather grandma grandpa "
                "brother sister kid baby aunt uncle friend"
            ).split(),
        ]
    )
)


def query_terms(question: str) -> list[str]:
    """The terms of a question worth searching for."""
    return [t for t in analyze([question])[0] if t not in QUESTION_WORDS]


_CACHE: dict[str, list[str]] = {}
CACHE_LIMIT = 200_000


def analyze_cached(texts: list[str]) -> list[list[str]]:
    """`analyze`, remembering each text's terms: answer sentences recur across questions and steps."""
    missing = list(dict.fromkeys(t for t in texts if t not in _CACHE))
    if missing:
        if len(_CACHE) + len(missing) > CACHE_LIMIT:
            _CACHE.clear()
        _CACHE.update(zip(missing, analyze(missing), strict=True))
    return [_CACHE[t] for t in texts]


def stem(word: str) -> str:
    return str(_stemmer().stemWord(fold(word).lower()))
