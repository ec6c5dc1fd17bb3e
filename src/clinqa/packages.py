"""Where installed packages and the time of day come from: small helpers every layer shares."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path


def package_dir(package: str) -> Path | None:
    """The folder of an installed package (without importing it), or None when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def utc_now() -> dt.datetime:
    """Now, in UTC, to the second: the timestamp of records and audit events."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
