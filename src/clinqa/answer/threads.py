"""Follow-up questions: rewrite an elliptical follow-up into a question that stands alone for retrieval."""

from __future__ import annotations

import re

from clinqa.retrieve.analysis import query_terms

_ELLIPTICAL_START = re.compile(
    r"^\s*(?:and|or|but|so|also|then|what about|how about|what if|and if|if|in that case|same)\b[\s,]*", re.I
)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|this|that|these|those|she|he|her|his)\b", re.I)
STANDALONE_TERMS = 6  # a follow-up with fewer content terms than this leans on the earlier question


def standalone_question(follow_up: str, previous: str | None) -> str:
    """The follow-up as a question that can be searched on its own.

    "and if the nodules are in both lungs?" after "What's next for recurrent osteosarcoma ...?" becomes the
    earlier question followed by the follow-up's own words, so retrieval keeps the topic and adds the new detail.
    A follow-up that already stands alone (a full question with its own topic) is returned unchanged.
    """
    text = follow_up.strip()
    if not previous:
        return text
    elliptical = bool(_ELLIPTICAL_START.search(text)) or bool(_PRONOUN.search(text))
    if not elliptical and len(query_terms(text)) >= STANDALONE_TERMS:
        return text
    rest = _ELLIPTICAL_START.sub("", text).strip()
    return f"{previous.strip()} {rest}" if rest else previous.strip()
