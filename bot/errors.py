"""Errors meant for the operator, importable without loading the bot framework."""

from __future__ import annotations


class StartupError(Exception):
    """Start-up cannot continue; the message is meant for the operator."""


def safe_url(url: str) -> str:
    """The database URL without its password, for log lines."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url
