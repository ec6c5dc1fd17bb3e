"""What each retriever reads of a passage, and the content key of what the dense model reads.

Shared by the store (PostgreSQL links each passage to its stored vector by this key) and the retrievers."""

from __future__ import annotations

import hashlib

from clinqa.types import Passage


def embedding_text(passage: Passage, title: str) -> str:
    """What the dense model reads for a passage: document title and nearest heading give it the topic that
    short passages ("Fewer pulmonary nodules.") leave unsaid."""
    heading = f" {passage.section_path[-1]}:" if passage.section_path else ""
    return f"{title}.{heading} {passage.text}"


def embedding_key(text: str) -> str:
    """Content key of an embedding text: equal texts share one vector."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def lexical_text(passage: Passage, title: str) -> str:
    """What BM25 reads for a passage: document title and section path give context to short passages."""
    return " ".join([title, *passage.section_path, passage.text])
