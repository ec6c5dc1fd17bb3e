"""Where things live: the knowledge base (flag > CLINQA_DB > user data directory; a SQLite path or a PostgreSQL URL)
and the starter corpus."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import platformdirs

DEMO_QUESTION = (
    "What's next for an osteosarcoma patient after 4 lines of chemo "
    "(doxorubicin, ifosfamide, dacarbazine, gemcitabine with docetaxel)?"
)


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("clinqa")) / "kb.sqlite"


def db_location(value: str | Path) -> Path | str:
    """A `--db` value as the stores take it: a postgresql:// URL as given, anything else a SQLite path."""
    return str(value) if str(value).startswith(POSTGRES_SCHEMES) else Path(value)


def starter_corpus() -> Path:
    """The starter corpus shipped with the package: clinqa's own summary of recurrent osteosarcoma."""
    return Path(str(resources.files("clinqa").joinpath("starter")))
