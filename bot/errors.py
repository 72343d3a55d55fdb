"""Errors meant for the operator, importable without loading the bot framework."""

from __future__ import annotations


class StartupError(Exception):
    """Start-up cannot continue; the message is meant for the operator."""


class CommandError(Exception):
    """A command cannot do what it was asked (a database, a file, a key); one line for the
    operator, exit status 1."""


class UsageError(CommandError):
    """A command-line argument is wrong (a date, a path, a missing option); exit status 2."""


def safe_url(url: str) -> str:
    """The database URL without its password, for log lines."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def first_line(error: BaseException) -> str:
    """An exception's message without the SQL, parameters and links SQLAlchemy appends."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line.removeprefix("(sqlite3.OperationalError) ")
