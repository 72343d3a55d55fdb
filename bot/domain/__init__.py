"""The rules of Corridor, free of Telegram: every handler, timer, web page and command
changes cases through these modules."""

# Rollups are kept in step by session events registered when the domain is imported, so
# every session that changes a case through it keeps them.
from bot.domain import rollups  # noqa: F401
