"""Which asyncio task holds an open database transaction, so the Bot API client can refuse to
talk to Telegram from inside one.

Talking to Telegram inside a transaction is the root of three faults: a lost HTTP answer rolls
back a case that the user was already told about, SQLite's write lock is held for network
round trips, and a chat's next update can read state that is not yet committed. The rule is
kept by the runtime (replies are deferred until after the commit) and checked here."""

from __future__ import annotations

import asyncio
import logging
import weakref

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

# task → ids of the sessions whose transaction is open in it
_open: weakref.WeakKeyDictionary[asyncio.Task, set[int]] = weakref.WeakKeyDictionary()


class Violations:
    """Bot API calls made while the calling task had a transaction open."""

    count = 0
    # Tests set this so a violation fails loudly where it happens.
    strict = False


def _task() -> asyncio.Task | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


@event.listens_for(Session, "after_begin")
def _began(session: Session, transaction: SessionTransaction, connection: object) -> None:
    task = _task()
    if task is not None:
        _open.setdefault(task, set()).add(id(session))
        session.info["_tx_task"] = task


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    task = session.info.pop("_tx_task", None)
    if task is not None and task in _open:
        _open[task].discard(id(session))


def open_in_current_task() -> bool:
    task = _task()
    return bool(task is not None and _open.get(task))


def refuse_inside_transaction(what: str) -> None:
    """Counts (and in strict mode refuses) a network request made while the calling task has a
    database transaction open: the Bot API, and the translation engine too."""
    if open_in_current_task():
        Violations.count += 1
        log.error("%s made inside a database transaction", what)
        if Violations.strict:
            raise RuntimeError(f"{what} made inside a database transaction")


class TransactionGuard:
    """Bot API request middleware, innermost: no request while a transaction is open."""

    async def __call__(self, make_request, bot, method):  # type: ignore[no-untyped-def]
        refuse_inside_transaction(f"Bot API {method.__api_method__}")
        return await make_request(bot, method)
