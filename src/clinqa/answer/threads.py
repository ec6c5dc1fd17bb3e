"""Conversations: rewrite an elliptical follow-up into a question that stands alone for retrieval; who owns a
conversation and how long it is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from clinqa.retrieve.analysis import query_terms
from clinqa.settings import settings

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


# --- who a conversation belongs to, and for how long -------------------------------------------------------

CLI_OWNER = "cli"  # conversations started on this machine's command line


def user_owner(user_id: str) -> str:
    """The owner of a logged-in user's (or an API token's) conversations: the user, from any session."""
    return f"user:{user_id}"


def browser_owner(cookie: str) -> str:
    """The owner of an anonymous browser's conversations: the SHA-256 of its random owner cookie (the cookie
    itself is never stored, so the database does not hold what would let someone read the threads)."""
    return "browser:" + hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def retention() -> dt.timedelta:
    """How long a conversation is kept after it starts (`privacy.thread_retention_days`)."""
    return dt.timedelta(days=settings().privacy.thread_retention_days)
