"""Which files an ingest reads, and reading one without being fooled by what sits in a folder.

`find_files` walks the given paths and lists the files with a wanted suffix, sorted, each once (by real path).
Whatever it will not read is a problem named by path, never a silent skip: a path that does not exist, a
folder it may not list, a folder with no wanted file, a named pipe or device, a broken link or a link loop, a
link out of the given folders. Links inside the given folders are followed; a path named directly is taken
as the user's choice, link or not. `read_regular_file` opens only regular files, with a size limit.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from clinqa.errors import IngestError


@dataclass
class FoundFiles:
    """The files to read, sorted, and one IngestError for every path that will not be read."""

    files: list[Path] = field(default_factory=list)
    problems: list[IngestError] = field(default_factory=list)


def find_files(paths: Iterable[Path], suffixes: Collection[str], kinds: str = "supported files") -> FoundFiles:
    """The files under `paths` whose suffix is in `suffixes` (folders recursively, hidden names left out).

    A file named directly is listed whatever its suffix, so that its reader reports it. `kinds` names the
    wanted files in the report of a folder that holds none.
    """
    walk = _Walk(suffixes={s.lower() for s in suffixes})
    given: list[tuple[Path, str]] = []
    for path in map(Path, paths):
        real = walk.real_path(path)
        if real is not None:
            given.append((path, real))
    walk.roots = [real for _, real in given]
    for path, real in given:
        if not os.path.isdir(real):
            walk.file(path, real)
            continue
        files, problems = len(walk.found), len(walk.problems)
        walk.folder(path)
        if len(walk.found) == files and len(walk.problems) == problems:
            expected = ", ".join(sorted(walk.suffixes))
            walk.problems.append(IngestError(str(path), f"no {kinds} in this folder (expected {expected})"))
    return FoundFiles(sorted(walk.found.values(), key=str), walk.problems)


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes.

    Anything else (a pipe, a device, a socket, a folder) is refused before it is opened: opening a pipe blocks
    until someone writes to it, and reading a device may never end.
    """
    name = str(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise IngestError(name, f"not a regular file ({_kind(os.stat(path).st_mode)}); not opened")
        # O_NONBLOCK: should the path be swapped for a pipe after the check, opening it still returns at once.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise IngestError(name, f"not a regular file ({_kind(status.st_mode)}); not read")
            if status.st_size > limit:
                size = f"{status.st_size / 2**20:.1f} MB"
                raise IngestError(name, f"file is {size}, larger than the {_megabytes(limit)} limit")
            raw = file.read(limit + 1)  # the file may have grown since fstat
    except FileNotFoundError:
        raise IngestError(name, "no such file or directory") from None
    except OSError as error:
        raise IngestError(name, f"cannot read the file: {error.strerror or error}") from None
    if len(raw) > limit:
        raise IngestError(name, f"file is larger than the {_megabytes(limit)} limit")
    return raw


def _megabytes(size: int) -> str:
    return f"{size / 2**20:g} MB"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a plain file"


@dataclass
class _Walk:
    suffixes: set[str]
    roots: list[str] = field(default_factory=list)  # real paths of the given paths
    found: dict[str, Path] = field(default_factory=dict)  # real path -> the path it was first found as
    via_link: set[str] = field(default_factory=set)  # real paths found so far only through a link
    problems: list[IngestError] = field(default_factory=list)

    def real_path(self, path: Path) -> str | None:
        """The path with every link resolved; None, with the problem noted, when it cannot be."""
        try:
            return os.path.realpath(path, strict=True)
        except FileNotFoundError:
            reason = "broken symbolic link" if os.path.islink(path) else "no such file or directory"
        except OSError as error:
            loop = error.errno == errno.ELOOP
            reason = "symbolic link loop" if loop else f"cannot be resolved: {error.strerror or error}"
        self.problems.append(IngestError(str(path), reason))
        return None

    def inside_roots(self, real: str) -> bool:
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.roots)

    def file(self, path: Path, real: str, linked: bool = False) -> None:
        try:
            mode = os.stat(real).st_mode
        except OSError as error:
            self.problems.append(IngestError(str(path), f"cannot be read: {error.strerror or error}"))
            return
        if not stat.S_ISREG(mode):
            self.problems.append(IngestError(str(path), f"not a regular file ({_kind(mode)}); not opened"))
        elif real not in self.found or (real in self.via_link and not linked):
            # Each file once, named as first found; where it is beats a link to it met first.
            self.found[real] = path
            if linked:
                self.via_link.add(real)
            else:
                self.via_link.discard(real)

    def folder(self, top: Path) -> None:
        """Every wanted file under `top`, depth first with an explicit stack (no recursion limit to hit)."""
        pending = [top]
        while pending:
            folder = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda e: e.name, reverse=True)
            except OSError as error:
                reason = f"cannot list the folder ({error.strerror or error}); the files in it were not ingested"
                self.problems.append(IngestError(str(folder), reason))
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    self.link(Path(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif self.wanted(entry.name):
                    self.file(Path(entry.path), os.path.realpath(entry.path))

    def link(self, path: Path) -> None:
        """A link met in a folder: followed when it leads inside the given paths, reported otherwise."""
        if not self.wanted(path.name) and not os.path.isdir(path):
            return  # a link to a file of a kind not ingested, left alone as such a file would be
        real = self.real_path(path)
        if real is None:
            return
        if not self.inside_roots(real):
            what = "folder" if os.path.isdir(real) else "file"
            reason = f"symbolic link to a {what} outside the given paths; not followed"
            self.problems.append(IngestError(str(path), reason))
        elif not os.path.isdir(real):
            self.file(path, real, linked=True)
        # A link to a folder inside the given paths adds nothing: that folder is walked where it is.

    def wanted(self, name: str) -> bool:
        return os.path.splitext(name)[1].lower() in self.suffixes
