"""The one settings tree: every tunable of clinqa, typed, read from `CLINQA_` environment variables.

Nested keys use a double underscore: `CLINQA_WEB__BASE_URL=https://clinqa.example.org`,
`CLINQA_ANSWER__MIN_COVERAGE=0.4`. `settings()` reads the environment once per process; tests and the CLI pass
overrides with `configure(**sections)`. docs/settings.md lists every key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseModel):
    base_url: str = Field(
        default="",
        description="The site's public address (https://clinqa.example.org); share links use it, not the Host header",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest request body read, in bytes")
    max_question_chars: int = Field(
        default=2_000, ge=10, description="Longest question or patient description accepted"
    )
    session_ttl_s: int = Field(default=8 * 3600, ge=60, description="A login lasts this long")


class PrivacySettings(BaseModel):
    thread_retention_days: float = Field(
        default=3.0,
        ge=0,
        description="Questions, patient details and answers of a conversation are purged after this long",
    )


class AccountSettings(BaseModel):
    token_ttl_days: float = Field(default=90.0, gt=0, description="An API token expires this long after it is made")
    min_password_length: int = Field(default=8, ge=8, description="Shortest password accepted")


class IngestSettings(BaseModel):
    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="Larger files are refused by name")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLINQA_", env_nested_delimiter="__", extra="ignore")

    web: WebSettings = Field(default_factory=WebSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    accounts: AccountSettings = Field(default_factory=AccountSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)


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
