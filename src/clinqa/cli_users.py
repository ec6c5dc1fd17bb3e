"""`clinqa users`: local accounts and their API tokens.

An account change is made either by an admin (`--as USERNAME`, whose password is asked, or `--token`), or, with
neither, by the local operator: whoever runs clinqa on the server's own shell can write the database file anyway,
so the change is recorded in the audit log as made by 'local-operator'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from clinqa.review.models import Role, User
from clinqa.terminal import console, status

if TYPE_CHECKING:
    from clinqa.cli import Context


def admin_options(command: Callable[..., None]) -> Callable[..., None]:
    """--as ADMIN or --token: the admin making an account change; with neither, the local operator."""
    command = click.option(
        "--password-stdin",
        is_flag=True,
        help="Read passwords from standard input, one a line: the admin's (with --as) first, then a new one.",
    )(command)
    # No $CLINQA_TOKEN here: an author's token in the environment must not decide who manages accounts.
    command = click.option("--token", help="An admin's API token instead of --as.")(command)
    return click.option(
        "--as",
        "admin",
        metavar="USERNAME",
        help="The admin making the change (the password is asked); without --as or --token, the local operator.",
    )(command)


def _acting_admin(obj: Context, admin: str | None, token: str | None, password_stdin: bool) -> User | None:
    """The admin named by --as or --token (authenticated), or None for the local operator."""
    if not admin and not token:
        return None
    from clinqa.cli import _login

    return _login(obj, admin, token, password_stdin)


def _read_password(password_stdin: bool, prompt: str, confirm: bool = False) -> str:
    """The next line of standard input, or a hidden prompt (asked twice with `confirm`)."""
    from clinqa.cli import _password

    return _password(password_stdin, prompt, confirm)


@click.group()
def users() -> None:
    """Local accounts (roles: reader, author, reviewer, admin) and their API tokens."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@admin_options
@click.pass_obj
def users_add(
    obj: Context, username: str, role: str, admin: str | None, token: str | None, password_stdin: bool
) -> None:
    """Add a user; the password is asked twice, hidden (or read from standard input)."""
    accounts = obj.engine(create=True).review().accounts  # a site may set up its accounts before its sources
    by = _acting_admin(obj, admin, token, password_stdin)
    password = _read_password(password_stdin, f"Password for {username}", confirm=True)
    user = accounts.add_user(username, password, Role(role), by)
    status(f"user {user.username} added as {user.role.value}")


@users.command("list")
@click.pass_obj
def users_list(obj: Context) -> None:
    """List the users, their roles, and whether they are disabled."""
    from clinqa.review.render import users_table

    console.print(users_table(obj.engine().review().users()))


@users.command("token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for (shown in listings and the audit log).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
def users_token(obj: Context, username: str, name: str, password_stdin: bool) -> None:
    """Create an API token for a user (asks the user's password). The token is printed once and not stored; it
    expires after accounts.token_ttl_days."""
    accounts = obj.engine().review().accounts
    user = accounts.authenticate(username, _read_password(password_stdin, f"Password for {username}"))
    info, secret = accounts.issue_token(user, name)
    click.echo(secret)
    label = f" ({info.name})" if info.name else ""
    status(
        f"token {info.id}{label} for {info.username}, expires {info.expires_at.date().isoformat()};"
        " keep it: it is shown only once"
    )


@users.command("tokens")
@click.argument("username")
@click.pass_obj
def users_tokens(obj: Context, username: str) -> None:
    """List a user's API tokens: id, name, created, expires, last used, status (never the token itself)."""
    from clinqa.review.render import tokens_table

    accounts = obj.engine().review().accounts
    console.print(tokens_table(accounts.tokens(username), accounts.clock()))


@users.command("revoke-token")
@click.argument("token_id", metavar="TOKEN_ID")
@admin_options
@click.pass_obj
def users_revoke_token(obj: Context, token_id: str, admin: str | None, token: str | None, password_stdin: bool) -> None:
    """Revoke an API token (by its id, from `clinqa users tokens`): refused from now on. Its owner may revoke it
    too (--as OWNER)."""
    by = _acting_admin(obj, admin, token, password_stdin)
    revoked = obj.engine().review().accounts.revoke_token(token_id, by)
    status(f"token {revoked.id} of {revoked.username} is revoked")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@admin_options
@click.pass_obj
def users_set_role(
    obj: Context, username: str, role: str, admin: str | None, token: str | None, password_stdin: bool
) -> None:
    """Change a user's role; it counts at once, in running servers too."""
    by = _acting_admin(obj, admin, token, password_stdin)
    user = obj.engine().review().accounts.set_role(username, Role(role), by)
    status(f"user {user.username} is now {user.role.value}")


@users.command("disable")
@click.argument("username")
@admin_options
@click.pass_obj
def users_disable(obj: Context, username: str, admin: str | None, token: str | None, password_stdin: bool) -> None:
    """Disable a user: they cannot log in, and their sessions and API tokens stop working at once."""
    by = _acting_admin(obj, admin, token, password_stdin)
    user = obj.engine().review().accounts.disable(username, by)
    status(f"user {user.username} is disabled")


@users.command("enable")
@click.argument("username")
@admin_options
@click.pass_obj
def users_enable(obj: Context, username: str, admin: str | None, token: str | None, password_stdin: bool) -> None:
    """Enable a disabled user again (their old sessions stay ended; unexpired, unrevoked tokens work again)."""
    by = _acting_admin(obj, admin, token, password_stdin)
    user = obj.engine().review().accounts.enable(username, by)
    status(f"user {user.username} is enabled")


@users.command("reset-password")
@click.argument("username")
@admin_options
@click.pass_obj
def users_reset_password(
    obj: Context, username: str, admin: str | None, token: str | None, password_stdin: bool
) -> None:
    """Set a new password (asked twice, hidden, or read from standard input); the user's sessions end."""
    by = _acting_admin(obj, admin, token, password_stdin)
    password = _read_password(password_stdin, f"New password for {username}", confirm=True)
    user = obj.engine().review().accounts.reset_password(username, password, by)
    status(f"password of {user.username} reset; their sessions have ended")


@users.command("audit")
@click.argument("username", required=False)
@click.pass_obj
def users_audit(obj: Context, username: str | None) -> None:
    """The audit log of account changes (of one user, or of everyone): who did what, when."""
    from clinqa.review.render import account_events_table

    console.print(account_events_table(obj.engine().review().accounts.events(username)))
