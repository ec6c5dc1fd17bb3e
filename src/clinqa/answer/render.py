"""Render an answer for people: Markdown, and rich text for the terminal."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from clinqa.types import Answer, AnswerStatus, Flag, FlagKind, PatientContext, PatientRecord, Sentence, TrialMatch

STATUS_LINE = {
    AnswerStatus.ANSWERED: "Answered from the sources below",
    AnswerStatus.INSUFFICIENT_EVIDENCE: "Insufficient evidence",
    AnswerStatus.OUT_OF_SCOPE: "Out of scope",
}


FLAG_MARK = {
    FlagKind.PREVIOUSLY_RECEIVED: "already received",
    FlagKind.SAME_CLASS_RECEIVED: "same class already received",
    FlagKind.POPULATION_MISMATCH: "does not apply",
    FlagKind.UNKNOWN_ELIGIBILITY: "may not apply",
}


def sentence_markdown(s: Sentence, flags: list[Flag] = ()) -> str:  # type: ignore[assignment]
    cites = f" [{', '.join(str(n) for n in s.citations)}]" if s.citations else ""
    level = f" *(level of evidence {s.level_of_evidence})*" if s.level_of_evidence else ""
    if s.primary_literature:
        level += f" *({primary_literature_label(s)})*"
    lead = f"**{s.label}:** " if s.label else ""
    warnings = "".join(f" ⚠ *{FLAG_MARK[f.kind]}: {f.reason}*" for f in flags if f.sentence == s.text)
    return f"{lead}{s.text}{cites}{level}{warnings}"


def primary_literature_label(s: Sentence) -> str:
    """How a sentence from an abstract is marked: 'primary literature: randomised trial'."""
    return f"primary literature: {s.study_design}" if s.study_design else "primary literature"


def patient_markdown(p: PatientContext) -> list[str]:
    """What clinqa understood about the patient, so the user can correct it."""
    facts = [
        f"age {p.age:g}" if p.age is not None else None,
        p.age_group,
        p.diagnosis,
        f"stage {p.stage}" if p.stage else None,
        (f"recurrence {p.recurrence_number}" if p.recurrence_number else "recurrent") if p.recurrent else None,
        f"sites: {', '.join(p.sites)}" + (" (bilateral)" if p.bilateral else "") if p.sites else None,
        f"{p.lesion_count} lesion(s)" if p.lesion_count is not None else None,
        f"{p.months_since_therapy:g} months after therapy" if p.months_since_therapy is not None else None,
        {True: "resectable", False: "unresectable"}.get(p.resectable) if p.resectable is not None else None,
        f"ECOG {p.ecog}" if p.ecog is not None else None,
        f"Karnofsky {p.karnofsky}" if p.karnofsky is not None else None,
        f"{p.lines_of_therapy} prior lines" if p.lines_of_therapy is not None else None,
    ]
    lines = ["## Patient as understood", "", "- " + "; ".join(f for f in facts if f)] if any(facts) else []
    if not lines:
        lines = ["## Patient as understood", ""]
    for t in p.prior_therapies:
        line = f"line {t.line}: " if t.line else ""
        when = f" ({t.started} to {t.ended})" if t.started and t.ended else ""
        stop = f", stopped for {t.stopped_for}" if t.stopped_for else ""
        lines.append(f"- prior therapy: {line}{t.described} → {', '.join(t.agents) or 'not recognised'}{when}{stop}")
    lines += [
        f"- prior {d.kind}: {d.described}" + (f" ({d.performed})" if d.performed else "") for d in p.prior_procedures
    ]
    if p.not_received:
        lines.append(f"- not received: {', '.join(p.not_received)}")
    if p.biomarkers:
        lines.append("- tumour markers: " + ", ".join(f"{m} {s}" for m, s in p.biomarkers.items()))
    if p.unfit_for:
        lines.append(f"- cannot have: {', '.join(p.unfit_for)}")
    lines += [f"- ⚠ conflicting details: {c}" for c in p.conflicts]
    return [*lines, "", *record_markdown(p.record)] if p.record else [*lines, ""]


def record_markdown(record: PatientRecord) -> list[str]:
    """Where each fact of a patient read from a FHIR record came from, and what could not be read."""
    lines = [f"### Read from {record.source}", ""]
    for fact in record.facts:
        shown = ", ".join(fact.resources[:3]) + (
            f" and {len(fact.resources) - 3} more" if len(fact.resources) > 3 else ""
        )
        lines.append(f"- {fact.fact}: {shown}")
    lines += [f"- ⚠ not read: {u.resource}: {u.reason}" for u in record.unread]
    return [*lines, ""]


def trials_markdown(matches: list[TrialMatch]) -> list[str]:
    lines = ["## Clinical trials to consider", ""]
    for m in matches:
        status = f" — {m.status}" if m.status else ""
        verdict = "eligible so far" if m.eligible else "not eligible"
        lines.append(f"- **{m.id}** {m.title}{status} ({verdict})")
        lines += [f"  - {c.criterion}: {c.verdict.replace('_', ' ')} — {c.reason}" for c in m.criteria]
    return [*lines, ""]


def trials_table(matches: list[TrialMatch]) -> Table:
    table = Table("trial", "title", "status", "criteria", show_lines=True)
    for m in matches:
        criteria = "\n".join(f"{c.criterion}: {c.verdict.replace('_', ' ')} ({c.reason})" for c in m.criteria)
        # Registry text, never rich markup: a title may hold "[/]".
        table.add_row(Text(m.id), Text(m.title), Text(m.status or "unknown"), Text(criteria))
    return table


def to_markdown(answer: Answer) -> str:
    lines = [f"# {answer.question}", "", f"_{STATUS_LINE[answer.status]}_", ""]
    if answer.note:
        lines += [f"> {answer.note}", ""]
    if answer.patient:
        lines += patient_markdown(answer.patient)
    if answer.bottom_line:
        lines += ["## Bottom line", "", " ".join(sentence_markdown(s, answer.flags) for s in answer.bottom_line), ""]
    for section in answer.sections:
        lines += [f"## {section.title}", ""]
        lines += [f"- {sentence_markdown(s, answer.flags)}" for s in section.sentences]
        lines.append("")
    if answer.trials:
        lines += trials_markdown(answer.trials)
    if answer.references:
        lines += ["## References", ""]
        for r in answer.references:
            link = f" [PubMed {r.pmid}]({r.pubmed_url})" if r.pmid else (f" <{r.url}>" if r.url else "")
            lines.append(f"{r.n}. {r.text}{link}")
            if r.abstract:
                design = f" ({r.abstract.study_design})" if r.abstract.study_design else ""
                conclusion = f": {r.abstract.conclusion}" if r.abstract.conclusion else ""
                lines.append(f"   - Abstract ingested as `{r.abstract.document_id}`{design}{conclusion}")
        lines.append("")
    if answer.sources:
        lines += ["## Sources", ""]
        for d in answer.sources:
            updated = f", updated {d.updated.isoformat()}" if d.updated else ""
            title = f"[{d.title}]({d.url})" if d.url else d.title
            lines.append(f"- {title} (`{d.id}`{updated})")
        lines.append("")
    lines += ["## Disclaimer", "", answer.disclaimer, ""]
    if answer.thread_id:
        lines += [f'_Follow up with_ `clinqa ask --thread {answer.thread_id} "..."`', ""]
    return "\n".join(lines)


def to_terminal(answer: Answer) -> RenderableType:
    style = {"answered": "green", "insufficient_evidence": "yellow", "out_of_scope": "red"}[answer.status.value]
    header = Text.assemble((answer.question, "bold"), "\n", (STATUS_LINE[answer.status], style))
    body = to_markdown(answer).split("\n", 3)[3]  # drop the title and status lines shown in the header
    return Group(Panel(header, expand=True), Markdown(body, hyperlinks=True))


def print_answer(answer: Answer, console: Console) -> None:
    console.print(to_terminal(answer))
