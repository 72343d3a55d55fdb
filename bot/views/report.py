"""/report's answers (the report itself is rendered by bot.domain.evidence)."""

from __future__ import annotations

from bot.i18n import _


def usage() -> str:
    return _("Usage: /report [FROM TO as YYYY-MM] [corridor, e.g. NP-QA] [public|partner]")
