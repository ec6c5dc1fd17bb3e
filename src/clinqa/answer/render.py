"""Render an answer for people: Markdown, and rich text for the terminal."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from clinqa.types import Answer, AnswerStatus, Sentence

STATUS_LINE = {
    AnswerStatus.ANSWERED: "Answered from the sources below",
    AnswerStatus.INSUFFICIENT_EVIDENCE: "Insufficient evidence",
    AnswerStatus.OUT_OF_SCOPE: "Out of scope",
}


def sentence_markdown(s: Sentence) -> str:
    cites = f" [{', '.join(str(n) for n in s.citations)}]" if s.citations else ""
    level = f" *(level of evidence {s.level_of_evidence})*" if s.level_of_evidence else ""
    lead = f"**{s.label}:** " if s.label else ""
    return f"{lead}{s.text}{cites}{level}"


def to_markdown(answer: Answer) -> str:
    lines = [f"# {answer.question}", "", f"_{STATUS_LINE[answer.status]}_", ""]
    if answer.note:
        lines += [f"> {answer.note}", ""]
    if answer.bottom_line:
        lines += ["## Bottom line", "", " ".join(sentence_markdown(s) for s in answer.bottom_line), ""]
    for section in answer.sections:
        lines += [f"## {section.title}", ""]
        lines += [f"- {sentence_markdown(s)}" for s in section.sentences]
        lines.append("")
    if answer.references:
        lines += ["## References", ""]
        for r in answer.references:
            link = f" [PubMed {r.pmid}]({r.pubmed_url})" if r.pmid else ""
            lines.append(f"{r.n}. {r.text}{link}")
        lines.append("")
    if answer.sources:
        lines += ["## Sources", ""]
        for d in answer.sources:
            updated = f", updated {d.updated.isoformat()}" if d.updated else ""
            title = f"[{d.title}]({d.url})" if d.url else d.title
            lines.append(f"- {title} (`{d.id}`{updated})")
        lines.append("")
    lines += ["## Disclaimer", "", answer.disclaimer, ""]
    return "\n".join(lines)


def to_terminal(answer: Answer) -> RenderableType:
    style = {"answered": "green", "insufficient_evidence": "yellow", "out_of_scope": "red"}[answer.status.value]
    header = Text.assemble((answer.question, "bold"), "\n", (STATUS_LINE[answer.status], style))
    body = to_markdown(answer).split("\n", 3)[3]  # drop the title and status lines shown in the header
    return Group(Panel(header, expand=True), Markdown(body, hyperlinks=True))


def print_answer(answer: Answer, console: Console) -> None:
    console.print(to_terminal(answer))
