"""Callback data. aiogram parses and validates it: forged or stale data does not match and
falls through to the fallback router, which answers politely.

Callback data comes from the client and can be forged, so every field is held to what the
database can take before any query sees it: a row id is a positive 32-bit integer (the
``INTEGER`` primary keys; 2**63 used to raise ``OverflowError`` in the driver), small
numbers have the range their handler accepts, and text has no control characters
(PostgreSQL refuses NUL) and no lone surrogates (nothing can encode them)."""

from __future__ import annotations

import re
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import AfterValidator, Field

INT32_MAX = 2**31 - 1
_UNSAFE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _printable(value: str) -> str:
    if _UNSAFE.search(value):
        raise ValueError("control character or lone surrogate in callback data")
    return value


RowId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Flag = Annotated[int, Field(ge=0, le=1)]
Word = Annotated[str, Field(max_length=64), AfterValidator(_printable)]


class Lang(CallbackData, prefix="lang"):
    code: Word


class Menu(CallbackData, prefix="menu"):
    action: Word  # sos | report | missing | status | help | language


class Claim(CallbackData, prefix="claim"):
    case_id: RowId


class Pass(CallbackData, prefix="pass"):
    case_id: RowId


class PassReason(CallbackData, prefix="passr"):
    case_id: RowId
    reason: Word


class CheckIn(CallbackData, prefix="chk"):
    case_id: RowId
    answer: Word  # safe | unsafe | changed


class Snooze(CallbackData, prefix="snz"):
    case_id: RowId
    hours: Annotated[int, Field(ge=1, le=24 * 30)]


class Feedback(CallbackData, prefix="fb"):
    case_id: RowId
    score: Annotated[int, Field(ge=1, le=5)]


class ConsentAnswer(CallbackData, prefix="cns"):
    case_id: RowId
    purpose: Word
    granted: Flag


class Outcome(CallbackData, prefix="out"):
    case_id: RowId
    code: Word


class Refer(CallbackData, prefix="ref"):
    case_id: RowId
    org: Word


class Step(CallbackData, prefix="r"):
    """One answer in the guided report: ``field`` names the step, ``value`` the choice."""

    field: Word
    value: Word


class Nav(CallbackData, prefix="nav"):
    action: Word  # back | cancel | skip | done | details | submit
    step: Word  # the question the button belongs to


class SosSend(CallbackData, prefix="sos"):
    country: Word


class PickCase(CallbackData, prefix="pick"):
    case_id: RowId


class Withdraw(CallbackData, prefix="wd"):
    case_id: RowId
    confirm: Flag


class InviteOrg(CallbackData, prefix="inv"):
    org: Word


class ClearChat(CallbackData, prefix="clr"):
    confirm: Flag


class Forget(CallbackData, prefix="fgt"):
    confirm: Flag


class ConsentWithdraw(CallbackData, prefix="cwd"):
    case_id: RowId
    purpose: Word


class SavedCase(CallbackData, prefix="svc"):
    """Which of the sender's cases a saved reply is for."""

    case_id: RowId


class SavedPick(CallbackData, prefix="svp"):
    case_id: RowId
    code: Word


class SavedSend(CallbackData, prefix="svs"):
    case_id: RowId
    send: Flag  # 1 send, 0 cancel


class ConsentGive(CallbackData, prefix="cgv"):
    case_id: RowId
    purpose: Word


class Unfinished(CallbackData, prefix="nav"):
    """Continue or restart an unfinished report: packs to ``nav:resume`` / ``nav:restart``,
    the raw strings of buttons already in chats. Two parts, so it never matches ``Nav``."""

    action: Word  # resume | restart
