"""An answer as CDS Hooks cards (https://cds-hooks.hl7.org/2.0/#card-attributes): a summary under 140
characters, an indicator, a Markdown detail with the bottom line and its numbered citations, the source, and
links to the full answer and to the trials matching the patient."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from clinqa.answer.render import STATUS_LINE, sentence_markdown
from clinqa.trials.fields import ctgov_url
from clinqa.types import Answer, AnswerStatus

MAX_SUMMARY_CHARS = 139  # the specification: "<140 characters"
MAX_LINK_TRIALS = 3
MAX_LABEL_CHARS = 80
PRODUCT = "clinqa"


class CardSource(BaseModel):
    label: str = Field(description="Who the advice comes from")
    url: str | None = Field(default=None, description="Where to read more about the source")


class CardLink(BaseModel):
    label: str
    url: str
    type: Literal["absolute", "smart"] = "absolute"


class Card(BaseModel):
    summary: str = Field(max_length=MAX_SUMMARY_CHARS, description="One line, under 140 characters")
    indicator: Literal["info", "warning", "critical"]
    detail: str | None = Field(default=None, description="Markdown")
    source: CardSource
    links: list[CardLink] = Field(default_factory=list)


class CardsResponse(BaseModel):
    cards: list[Card]


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word to at most `limit` characters, an ellipsis marking the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}…"


def answer_link(site: str, question: str) -> str:
    """The full answer on clinqa's ask page (the question only: the patient never goes in an address)."""
    return f"{site}/ask?{urlencode({'question': question})}"


def answer_cards(answer: Answer, topic: str, site: str) -> list[Card]:
    """One card for the answer to the "what next" question about `topic`; `site` is clinqa's address."""
    links = [CardLink(label="Full answer in clinqa", url=answer_link(site, answer.question))]
    links += [
        CardLink(label=shorten(f"Trial {m.id}: {m.title}", MAX_LABEL_CHARS), url=ctgov_url(m.id))
        for m in answer.trials[:MAX_LINK_TRIALS]
    ]
    first = answer.sources[0] if answer.sources else None
    source = CardSource(label=f"{PRODUCT}: {first.title}" if first else PRODUCT, url=first.url if first else None)
    if answer.status is not AnswerStatus.ANSWERED or not answer.bottom_line:
        summary = shorten(f"No guideline answer for {topic}", MAX_SUMMARY_CHARS)
        detail = f"**{answer.question}**\n\n_{STATUS_LINE[answer.status]}_. {answer.note or ''}".rstrip()
        return [Card(summary=summary, indicator="info", detail=detail, source=source, links=links)]
    summary = shorten(f"Next steps, {topic}: {answer.bottom_line[0].text}", MAX_SUMMARY_CHARS)
    indicator: Literal["info", "warning"] = "warning" if answer.flags else "info"
    return [Card(summary=summary, indicator=indicator, detail=detail_markdown(answer), source=source, links=links)]


def detail_markdown(answer: Answer) -> str:
    """The question, the bottom line with its citation numbers and applicability warnings, and the references it
    cites (PubMed links), then the disclaimer."""
    lines = [f"**{answer.question}**", "", "**Bottom line**", ""]
    lines += [f"- {sentence_markdown(s, answer.flags)}" for s in answer.bottom_line]
    cited = {n for s in answer.bottom_line for n in s.citations}
    references = [r for r in answer.references if r.n in cited]
    if references:
        lines += ["", "**References**", ""]
        for r in references:
            link = f" [PMID {r.pmid}]({r.pubmed_url})" if r.pmid and r.pubmed_url else (f" <{r.url}>" if r.url else "")
            lines.append(f"- **[{r.n}]** {r.text}{link}")  # the answer's own numbers, which a list would renumber
    if answer.flags:
        lines += ["", f"⚠ {len(answer.flags)} statement(s) may not apply to this patient: see the full answer."]
    return "\n".join([*lines, "", f"_{answer.disclaimer}_"])
