"""Where things live: the knowledge base path (flag > CLINQA_DB > user data directory) and the starter corpus."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import platformdirs

DEMO_QUESTION = (
    "What's next for an osteosarcoma patient after 4 lines of chemo "
    "(doxorubicin, ifosfamide, dacarbazine, gemcitabine with docetaxel)?"
)


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("clinqa")) / "kb.sqlite"


def starter_corpus() -> Path:
    """The starter corpus shipped with the package: clinqa's own summary of recurrent osteosarcoma."""
    return Path(str(resources.files("clinqa").joinpath("starter")))
