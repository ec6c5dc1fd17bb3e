"""The command line's two consoles (answers and tables on standard output, status on standard error) and the
one way a status line is printed: literally, never read as markup."""

from __future__ import annotations

from rich.console import Console

console = Console()
errors = Console(stderr=True)


def status(message: str) -> None:
    """A status line on standard error; the message may hold user or document text, so it is never markup."""
    errors.print(message, highlight=False, soft_wrap=True, markup=False)
