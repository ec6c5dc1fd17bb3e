"""The one settings tree: every tunable of clinqa, typed, read from `CLINQA_` environment variables.

Nested keys use a double underscore: `CLINQA_WEB__BASE_URL=https://clinqa.example.org`,
`CLINQA_ANSWER__MIN_COVERAGE=0.4`. `settings()` reads the environment once per process; tests and the CLI pass
overrides with `configure(**sections)`. docs/settings.md lists every key.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseModel):
    base_url: str = Field(
        default="",
        description="The site's public address (https://clinqa.example.org); share links use it, not the Host header",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest request body read, in bytes")
    max_record_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest body of a request that may carry a FHIR record (`POST /api/ask`, `POST /ask` as multipart,"
        " `POST /cds-services/{id}`), in bytes; mCODE bundles run to 64 KB and more",
    )
    max_question_chars: int = Field(
        default=2_000, ge=10, description="Longest question or patient description accepted"
    )
    session_ttl_s: int = Field(default=8 * 3600, ge=60, description="A login lasts this long")
    answer_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Answers each server worker computes at once; more wait, while pages and logins go on",
    )
    answer_processes: int = Field(
        default=0,
        ge=0,
        le=64,
        description="0: answers run on threads of each server worker; N: on N child processes of each worker, at a"
        " lower priority, so that pages never wait for the CPU behind an answer (each costs one engine's memory)",
    )
    answer_niceness: int = Field(
        default=10, ge=0, le=19, description="How much lower the answer processes' scheduling priority is"
    )


class PrivacySettings(BaseModel):
    thread_retention_days: float = Field(
        default=3.0,
        ge=0,
        description="Questions, patient details and answers of a conversation are purged after this long",
    )


class AccountSettings(BaseModel):
    token_ttl_days: float = Field(default=90.0, gt=0, description="An API token expires this long after it is made")
    min_password_length: int = Field(default=8, ge=8, description="Shortest password accepted")


class StoreSettings(BaseModel):
    index_dir: str = Field(
        default="",
        description="Folder of the derived search indexes (BM25, vectors, drug names); empty: beside a SQLite file"
        " (`kb.sqlite.index`), or for a postgresql:// URL a folder per database in the user cache directory",
    )
    pool_size: int = Field(
        default=4, ge=1, le=100, description="PostgreSQL: connections each process (a server worker) may hold"
    )
    hnsw_ef_search: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="PostgreSQL: candidates an HNSW vector search keeps (pgvector `hnsw.ef_search`); at least"
        " `retrieval.depth` is used",
    )
    exact_search_passages: int = Field(
        default=100_000,
        ge=0,
        description="PostgreSQL: a search filtered to at most this many passages (a disease's pages) scores each"
        " of them exactly instead of walking the HNSW index, which is slow when few passages pass the filter",
    )


class IngestSettings(BaseModel):
    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="Larger files are refused by name")
    max_trial_file_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024,
        description="Larger trial registry files are refused by name (JSON Lines exports hold many records)",
    )
    max_front_matter_depth: int = Field(
        default=10, ge=2, description="YAML front matter nested deeper than this is refused (page metadata is flat)"
    )
    max_html_depth: int = Field(
        default=256, ge=32, description="HTML pages whose elements nest deeper than this are refused (pages: ~30)"
    )
    max_json_depth: int = Field(
        default=64, ge=8, description="Trial JSON nested deeper than this is refused before parsing (records: ~20)"
    )
    max_xml_depth: int = Field(
        default=64, ge=8, description="Trial XML nested deeper than this is refused while parsing (records: ~12)"
    )
    max_xml_elements: int = Field(
        default=500_000, ge=1_000, description="Trial XML with more elements than this is refused while parsing"
    )


class RecordSettings(BaseModel):
    max_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Larger FHIR patient records (files, folders) are refused"
    )
    max_resources: int = Field(
        default=100_000, ge=10, description="FHIR patient records with more resources than this are refused"
    )
    new_line_after_days: int = Field(
        default=28,
        ge=1,
        le=365,
        description="A new agent started this many days or more after a line began starts the next line",
    )


class RetrievalSettings(BaseModel):
    model: Literal["minilm-l3-int8", "minilm-l6"] = Field(
        default="minilm-l3-int8", description="Embedding model (docs/BENCHMARKS.md compares them)"
    )
    passages: int = Field(default=30, ge=1, le=200, description="Passages retrieved for a question")
    depth: int = Field(default=100, ge=1, description="Candidates taken from each retriever before fusion")
    expansion_weight: float = Field(
        default=0.5, ge=0, le=1, description="BM25 weight of expansion terms relative to the question's own terms"
    )
    fusion: Literal["convex", "rrf"] = Field(default="convex", description="How lexical and dense runs are fused")
    dense_weight: float = Field(default=0.3, ge=0, le=1, description="Convex blend: the dense share")
    use_dense: bool = Field(default=True, description="Use dense vectors at all")
    normalisation: Literal["zscore", "minmax"] = Field(default="zscore", description="Convex blend normalisation")
    dense_candidates: bool = Field(
        default=True, description="Dense adds candidates of its own (else it only re-scores BM25's)"
    )


class AnswerSettings(BaseModel):
    bottom_line: int = Field(default=5, ge=1, le=10, description="Most sentences in the bottom line")
    body: int = Field(default=20, ge=0, le=60, description="Most sentences in the sections below it")
    bottom_line_margin: float = Field(
        default=0.6, ge=0, le=1, description="Bottom-line sentences after the first score within this share of it"
    )
    min_coverage: float = Field(
        default=0.35,
        ge=0,
        le=1,
        description="Abstain when none of the best three sentences covers this share of the question's terms",
    )
    relative_floor: float = Field(
        default=0.45, ge=0, le=1, description="Body sentences score at least this share of the best one"
    )
    duplicate_jaccard: float = Field(default=0.6, ge=0, le=1, description="Near-duplicate sentences are dropped")
    covered_terms: int = Field(
        default=6, ge=1, description="Full coverage means the question's this-many most specific terms"
    )
    detail_weight: float = Field(
        default=0.15, ge=0, le=1, description="Weight of parenthetical details (the patient's history) in coverage"
    )
    section_bonus: float = Field(
        default=0.12, ge=0, description="Score a sentence gains in a section where its question kind is answered"
    )
    sentence_bonus: float = Field(
        default=0.08, ge=0, description="Score a sentence gains for stating what its question kind asks for"
    )
    guidance_bonus: float = Field(
        default=0.08, ge=0, description="Score a treatment sentence gains for advising (should, recommended...)"
    )
    list_bonus: float = Field(default=0.1, ge=0, description="Score a list gains when its lead-in names what is asked")
    design_share: float = Field(
        default=0.8, ge=0, le=1, description="Score share kept by a sentence that describes a study's design"
    )
    list_items: int = Field(default=12, ge=1, description="List items a lead-in carries into an answer")
    short_item_words: int = Field(
        default=30, ge=1, description="A list whose items are all this short is read as one unit with its lead-in"
    )
    rare_zipf: float = Field(
        default=2.5, ge=0, le=8, description="A word rarer than this in English (Zipf) names a subject"
    )
    ordinary_share: float = Field(
        default=0.5, ge=0, le=1, description="Weight of a missing ordinary word, as a share of its specificity"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLINQA_", env_nested_delimiter="__", extra="ignore")

    web: WebSettings = Field(default_factory=WebSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    accounts: AccountSettings = Field(default_factory=AccountSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    record: RecordSettings = Field(default_factory=RecordSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)


_current: list[Settings] = []  # the process settings once read (a list: no global statement needed)


def settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    if not _current:
        _current.append(Settings())
    return _current[0]


def configure(**sections: dict[str, Any]) -> Settings:
    """Override keys of the process settings (tests, CLI flags): `configure(web={"base_url": "https://x"})`.

    The values are validated like those from the environment."""
    data = settings().model_dump()
    for name, values in sections.items():
        data[name] = {**data[name], **values}
    updated = Settings.model_validate(data)
    _current[:] = [updated]
    return updated


def reset() -> None:
    """Forget overrides; the next `settings()` reads the environment again."""
    _current.clear()


def default_from(section: str, name: str) -> Any:
    """A dataclass field whose default is a key of the settings tree, read when the object is made:
    `depth: int = default_from("retrieval", "depth")`."""
    return field(default_factory=lambda: getattr(getattr(settings(), section), name))


def described() -> list[tuple[str, str, str, str]]:
    """Every key of the tree: (dotted key, environment variable, default, description)."""
    rows = []
    for section, info in Settings.model_fields.items():
        model = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg,misc]
        for name, key in type(model).model_fields.items():
            env = f"CLINQA_{section.upper()}__{name.upper()}"
            rows.append((f"{section}.{name}", env, repr(getattr(model, name)), key.description or ""))
    return rows


def markdown_table() -> str:
    """The settings as the Markdown table of docs/settings.md."""
    lines = ["| key | environment variable | default | what it does |", "|---|---|---|---|"]
    lines += [f"| `{key}` | `{env}` | `{default}` | {text} |" for key, env, default, text in described()]
    return "\n".join(lines)


def override(assignment: str) -> Settings:
    """Apply one `section.key=value` override (the CLI's `--set`), validated like the environment."""
    key, sep, value = assignment.partition("=")
    section, dot, name = key.strip().partition(".")
    if not sep or not dot or section not in Settings.model_fields:
        sections = ", ".join(Settings.model_fields)
        raise ValueError(f"--set {assignment!r}: write SECTION.KEY=VALUE, with SECTION one of {sections}")
    current = getattr(settings(), section)
    if name not in type(current).model_fields:
        keys = ", ".join(type(current).model_fields)
        raise ValueError(f"--set {assignment!r}: {section} has no key {name!r} (keys: {keys})")
    return configure(**{section: {name: value.strip()}})
