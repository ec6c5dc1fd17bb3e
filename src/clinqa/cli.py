"""Command line: parse input, call one engine method, render. No clinical logic here."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from clinqa.answer.render import print_answer, to_markdown, trials_table
from clinqa.cli_users import users
from clinqa.config import DEMO_QUESTION, db_location, default_db_path, starter_corpus
from clinqa.errors import ClinqaError, NoKnowledgeBase
from clinqa.review.models import MAX_VERSION, Article, User
from clinqa.store.db import redacted
from clinqa.terminal import console, errors, status
from clinqa.types import Answer, Audience, IngestReport, PatientContext, answer_json_schema, patient_json_schema

if TYPE_CHECKING:
    from clinqa.engine import Engine


class Context:
    def __init__(self, db: Path | str) -> None:
        self.db = db
        self._engine: Engine | None = None

    def engine(self, create: bool = False) -> Engine:
        """The knowledge base's engine. Only commands that write sources or accounts (`create`) may start a new
        one; any other command on a SQLite file that does not exist stops with a message naming it, instead of
        leaving an empty database behind and answering from nothing."""
        from clinqa.engine import Engine  # imported on use: keeps `clinqa --help` fast

        if self._engine is None:
            if not create and isinstance(self.db, Path) and not self.db.exists():
                raise NoKnowledgeBase(f"{self.db}: no knowledge base here. {self.ingest_hint()}")
            self._engine = Engine(self.db)
        return self._engine

    def with_sources(self) -> Engine:
        """The engine of a knowledge base that holds sources: an empty one stops with a message naming it."""
        engine = self.engine()
        if not engine.store.document_count():
            raise NoKnowledgeBase(
                f"{redacted(str(self.db))}: the knowledge base holds no sources yet. {self.ingest_hint()}"
            )
        return engine

    def ingest_hint(self) -> str:
        db = redacted(str(self.db))
        return f"Add sources with: clinqa --db {db} ingest FILE_OR_FOLDER (or: clinqa --db {db} demo)."


class ClinqaGroup(click.Group):
    """Translates clinqa's named errors into a message and exit status 2, at the edge."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ClinqaError as ex:
            raise click.ClickException(str(ex)) from ex


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["terminal", "markdown", "json"]),
    default="terminal",
    show_default=True,
    help="How to print the answer.",
)


@click.group(cls=ClinqaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="CLINQA_DB",
    default=lambda: str(default_db_path()),
    show_default="$CLINQA_DB or the user data directory",
    help="Knowledge base: a SQLite file, or a postgresql:// URL.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override one setting for this run (repeatable); docs/settings.md lists them.",
)
@click.version_option(package_name="clinqa")
@click.pass_context
def cli(ctx: click.Context, db: str, overrides: tuple[str, ...]) -> None:
    """clinqa: guideline-backed, cited answers to clinical questions, offline."""
    from pydantic import ValidationError

    from clinqa.settings import override  # imported on use: keeps `clinqa --help` fast

    for assignment in overrides:
        try:
            override(assignment)
        except (ValueError, ValidationError) as ex:
            raise click.BadParameter(str(ex), param_hint="--set") from ex
    ctx.obj = Context(db_location(db))


@cli.command()
@click.pass_obj
def migrate(obj: Context) -> None:
    """Bring the knowledge base's schema up to date (numbered migrations; back the database up first)."""
    from clinqa.store import migrate_database  # imported on use: keeps `clinqa --help` fast

    report = migrate_database(obj.db)
    if report.adopted_legacy:
        status("adopted a knowledge base made before numbered migrations")
    for migration in report.applied:
        status(f"applied migration {migration.version:04d} {migration.name}")
    status(f"schema up to date ({len(report.applied)} migration(s) applied in {report.seconds:.2f} s)")


@cli.command("settings")
def settings_command() -> None:
    """The settings in force: every key, its value and its environment variable."""
    from clinqa.settings import described, settings

    table = Table("key", "value", "environment variable", "what it does")
    for key, env, _default, text in described():
        section, name = key.split(".")
        value = getattr(getattr(settings(), section), name)
        table.add_row(key, repr(value), env, text)
    console.print(table)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def ingest(obj: Context, paths: tuple[Path, ...]) -> None:
    """Ingest sources: files or folders (recursive). Guidelines in Markdown, plain text or HTML; trial registry
    records; PubMed records (PubMed XML, MEDLINE XML, MEDLINE text, gzipped or not) as primary literature."""
    report = _ingest(obj, list(paths))
    if report.failed:
        sys.exit(1)


def _ingest(obj: Context, paths: list[Path]) -> IngestReport:
    from clinqa.engine import find_sources

    found = find_sources(p for p in paths if p.exists())
    total = len(found.guidelines) + len(found.trials) + len(found.literature)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=errors, transient=True) as bar:
        task = bar.add_task("Ingesting", total=total)
        report = obj.engine(create=True).ingest(paths, progress=lambda _p: bar.advance(task))
    _print_report(report)
    return report


def _print_report(report: IngestReport) -> None:
    for skip in report.skipped:
        errors.print(
            f"[yellow]skipped[/yellow] {escape(str(skip.path))}: {escape(skip.reason)}", highlight=False, soft_wrap=True
        )
    for failure in report.failed:
        errors.print(
            f"[red]failed[/red] {escape(str(failure.path))}: {escape(failure.reason)}", highlight=False, soft_wrap=True
        )
    table = Table(show_header=False, box=None)
    for label, value in (
        (
            "documents",
            f"{report.documents} ({report.documents_added} added, {report.documents_updated} updated, "
            f"{report.documents_unchanged} unchanged)",
        ),
        ("passages", report.passages),
        ("references", report.references),
        ("trials", report.trials),
        (
            "skipped",
            f"{report.documents_unchanged + len(report.skipped)} ({report.documents_unchanged} unchanged, "
            f"{len(report.skipped)} duplicates)",
        ),
        ("failed", len(report.failed)),
        ("time", f"{report.seconds:.1f} s"),
    ):
        table.add_row(label, str(value))
    errors.print(table)


def patient_option(command: Callable[..., None]) -> Callable[..., None]:
    """`--patient FILE` (JSON fields, or a FHIR R4 Bundle, NDJSON file or folder) and `--patient-id`."""
    command = click.option(
        "--patient-id",
        help="In a FHIR record holding several patients (a bulk export), the Patient id to read.",
    )(command)
    return click.option(
        "--patient",
        "patient_file",
        type=click.Path(path_type=Path),
        help="Patient details: JSON fields (docs/patient.md) or a FHIR R4 record (a Bundle, NDJSON, a folder of"
        " NDJSON); merged with what the question says.",
    )(command)


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (same as --format json).")
@format_option
@patient_option
@click.option("--thread", "thread_id", help="Continue this conversation (ids: clinqa threads).")
@click.option(
    "--audience",
    type=click.Choice(["clinician", "patient"]),
    default="clinician",
    show_default=True,
    help="Who reads the answer (a thread keeps the audience it started with).",
)
@click.pass_obj
def ask(
    obj: Context,
    question: str,
    as_json: bool,
    fmt: str,
    patient_file: Path | None,
    patient_id: str | None,
    thread_id: str | None,
    audience: Audience,
) -> None:
    """Answer a clinical question from the ingested sources."""
    if not question.strip():
        raise click.BadParameter("the question is empty", param_hint="QUESTION")
    engine = obj.with_sources()
    patient = engine.load_patient(patient_file, patient_id) if patient_file else None
    _show(engine.ask(question, patient=patient, thread_id=thread_id, audience=audience), "json" if as_json else fmt)


def _show(answer: Answer, fmt: str) -> None:
    if fmt == "json":
        click.echo(answer.model_dump_json(indent=2))
    elif fmt == "markdown":
        click.echo(to_markdown(answer))
    else:
        print_answer(answer, console)


@cli.command()
@click.option("--question", default=DEMO_QUESTION, show_default=True)
@format_option
@click.pass_obj
def demo(obj: Context, question: str, fmt: str) -> None:
    """Ingest the bundled starter corpus (recurrent osteosarcoma) and answer a question from it."""
    report = _ingest(obj, [starter_corpus()])
    if report.failed:
        sys.exit(1)
    _show(obj.engine().ask(question), fmt)


@cli.command()
@click.pass_obj
def documents(obj: Context) -> None:
    """List the ingested documents."""
    table = Table("title", "audience", "updated", "passages", "references")
    table.add_column("id", no_wrap=True)
    for d in obj.engine().documents():
        table.add_row(
            Text(d.title), Text(d.audience or ""), str(d.updated or ""), str(d.passages), str(d.references), Text(d.id)
        )
    console.print(table)


@cli.command()
@click.argument("document_id", required=False)
@click.pass_obj
def changes(obj: Context, document_id: str | None) -> None:
    """Show the recorded changes of documents between ingests."""
    table = Table("when", "document", "change", "passages added", "passages removed")
    for c in obj.engine().changes(document_id):
        table.add_row(
            c.at.isoformat(),
            Text(c.document_id),
            c.kind.value,
            str(len(c.passages_added)),
            str(len(c.passages_removed)),
        )
    console.print(table)


@cli.group(invoke_without_command=True)
@click.pass_context
def threads(ctx: click.Context) -> None:
    """List the command line's stored conversations (`ask --thread`); web conversations belong to their browser or
    user. Each is deleted after privacy.thread_retention_days (settings)."""
    if ctx.invoked_subcommand is not None:
        return
    from clinqa.answer.threads import CLI_OWNER

    table = Table("started", "expires", "audience", "turns", "first question")
    table.add_column("id", no_wrap=True)
    for t in ctx.obj.engine().threads(CLI_OWNER):
        first = t.turns[0].question if t.turns else ""
        table.add_row(
            t.created_at.isoformat(),
            t.expires_at.isoformat(),
            Text(t.audience),
            str(len(t.turns)),
            Text(first),
            Text(t.id),
        )
    console.print(table)


@threads.command("purge")
@click.pass_obj
def threads_purge(obj: Context) -> None:
    """Delete the expired conversations (web and command line) now; prints how many were deleted."""
    click.echo(f"{obj.engine().purge_threads()} expired conversation(s) deleted")


@cli.command()
@patient_option
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@click.pass_obj
def trials(obj: Context, patient_file: Path | None, patient_id: str | None, as_json: bool) -> None:
    """List the ingested clinical trials for a patient, eligible first, with a verdict per criterion."""
    engine = obj.engine()
    patient = engine.load_patient(patient_file, patient_id) if patient_file else PatientContext()
    matches = engine.match_trials(patient)
    if as_json:
        click.echo(json.dumps([m.model_dump(mode="json") for m in matches], indent=2))
    else:
        console.print(trials_table(matches))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes, each with its own engine and database connection (sessions are in the database).",
)
@click.pass_obj
def serve(obj: Context, host: str, port: int, workers: int) -> None:
    """Serve the web app and JSON API (OpenAPI at /openapi.json)."""
    from clinqa.web.workers import serve as run_server

    if not obj.engine().store.document_count():
        status(f"warning: {obj.ingest_hint()} Until then every question is answered 'insufficient evidence'.")
    obj.engine().close()
    run_server(obj.db, host, port, workers)


# --- accounts and editorial review -----------------------------------------------------------------------

acting_version_option = click.option(
    "--version",
    type=click.IntRange(1, MAX_VERSION),
    required=True,
    help="The version you reviewed (`clinqa review show ARTICLE`); refused when a newer one was made since.",
)
password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


def login_options(command: Callable[..., None]) -> Callable[..., None]:
    """--as USERNAME (its password is asked, hidden) or --token: who acts."""
    command = password_stdin_option(command)
    command = click.option(
        "--token", envvar="CLINQA_TOKEN", help="An API token instead of a password (or $CLINQA_TOKEN)."
    )(command)
    return click.option("--as", "username", metavar="USERNAME", help="Act as this user; asks for the password.")(
        command
    )


def _password(password_stdin: bool, prompt: str, confirm: bool = False) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def _login(obj: Context, username: str | None, token: str | None, password_stdin: bool) -> User:
    """The acting user, from a token or from --as and the password."""
    service = obj.engine().review()
    if token:
        user = service.user_for_token(token)
        if username and username.strip().lower() != user.username:
            raise click.UsageError(f"the token belongs to {user.username}, not {username}")
        return user
    if not username:
        raise click.UsageError("say who acts: --as USERNAME (the password is asked) or --token")
    return service.authenticate(username, _password(password_stdin, f"Password for {username}"))


# `clinqa users`: accounts and API tokens (cli_users.py).
cli.add_command(users)


@cli.group()
def articles() -> None:
    """Answers saved as articles for the medical advisory board."""


@articles.command("save")
@click.argument("question")
@login_options
@click.pass_obj
def articles_save(obj: Context, question: str, username: str | None, token: str | None, password_stdin: bool) -> None:
    """Answer QUESTION and save the answer as a draft article."""
    user = _login(obj, username, token, password_stdin)
    article = obj.engine().save_article(question, user)
    click.echo(article.id)
    status(f"saved as draft article {article.id}")


@articles.command("regenerate")
@click.argument("article_id", metavar="ARTICLE")
@login_options
@click.option("--comment", help="What changed and why.")
@acting_version_option
@click.pass_obj
def articles_regenerate(
    obj: Context,
    article_id: str,
    username: str | None,
    token: str | None,
    password_stdin: bool,
    comment: str | None,
    version: int,
) -> None:
    """Answer the article's question again from the current sources, as a new draft version."""
    user = _login(obj, username, token, password_stdin)
    article = obj.engine().regenerate_article(article_id, user, comment, version=version)
    status(f"article {article.id}: version {article.current_version} saved as draft")


@articles.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the articles as JSON.")
@click.pass_obj
def articles_list(obj: Context, as_json: bool) -> None:
    """List every article with its state and versions."""
    _show_articles(obj.engine().review().articles(), as_json)


def _show_articles(found: list[Article], as_json: bool) -> None:
    from clinqa.review.render import articles_table

    if as_json:
        click.echo(json.dumps([a.model_dump(mode="json") for a in found], indent=2))
    else:
        console.print(articles_table(found))


def _transition_command(group: click.Group, name: str, method: str, summary: str) -> None:
    @group.command(name, help=summary)
    @click.argument("article_id", metavar="ARTICLE")
    @login_options
    @click.option("--comment", help="Recorded in the audit log (required to reject or request changes).")
    @acting_version_option
    @click.pass_obj
    def command(
        obj: Context,
        article_id: str,
        username: str | None,
        token: str | None,
        password_stdin: bool,
        comment: str | None,
        version: int,
    ) -> None:
        user = _login(obj, username, token, password_stdin)
        article = getattr(obj.engine().review(), method)(article_id, user, comment, version=version)
        status(f"article {article.id} is now {article.state.value}")


_transition_command(articles, "submit", "submit", "Submit a draft (or a revised) article for review.")


@cli.group()
def review() -> None:
    """The reviewers' queue and review decisions."""


@review.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the articles as JSON.")
@click.pass_obj
def review_list(obj: Context, as_json: bool) -> None:
    """The queue: articles submitted, under review, or whose sources changed since approval."""
    _show_articles(obj.engine().review().queue(), as_json)


@review.command("show")
@click.argument("article_id", metavar="ARTICLE")
@click.option(
    "--version", "number", type=click.IntRange(1, MAX_VERSION), help="Show this version (default: the current one)."
)
@click.pass_obj
def review_show(obj: Context, article_id: str, number: int | None) -> None:
    """An article: its state, the source changes to re-review, the answer and the audit log."""
    from clinqa.review.render import article_header, audit_table, source_changes

    service = obj.engine().review()
    article = service.article(article_id)
    console.print(article_header(article))
    if article.source_changes:
        console.print(source_changes(article.source_changes))
    version = service.version(article_id, number)
    console.print(
        f"[bold]Version {version.number}[/bold] by {escape(version.created_by)}, {version.created_at.isoformat()}"
    )
    print_answer(version.answer, console)
    console.print(audit_table(service.audit(article_id)))


for _name, _method, _summary in (
    ("start", "start_review", "Start reviewing a submitted article (or one whose sources changed)."),
    ("approve", "approve", "Approve the article under review; readers then see this version."),
    ("request-changes", "request_changes", "Send the article back to its author (--comment says what to change)."),
    ("reject", "reject", "Reject the article under review (--comment says why)."),
):
    _transition_command(review, _name, _method, _summary)


@cli.command()
@click.option("--of", "what", type=click.Choice(["answer", "patient"]), default="answer", show_default=True)
def schema(what: str) -> None:
    """Print a JSON Schema: of `ask --json` output, or of the `--patient` file."""
    click.echo(json.dumps(answer_json_schema() if what == "answer" else patient_json_schema(), indent=2))


def main() -> None:
    cli(prog_name="clinqa")
