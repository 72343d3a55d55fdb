"""The apology after a handler failed."""

from __future__ import annotations

from bot.i18n import tr


def apology(language: str) -> str:
    """``language`` is given rather than taken from the context: the failure may have come
    before the reader's language was set for the update."""
    return tr(
        language,
        "Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment.",
    )
