"""Callback data. aiogram parses and validates it: forged or stale data does not match and
falls through to the fallback router, which answers politely."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Case ids are 32-bit integers in the database (PostgreSQL): a forged larger number is
# stale data like any other, not a query that fails.
CaseId = Annotated[int, Field(gt=0, lt=2**31)]


class Lang(CallbackData, prefix="lang"):
    code: str


class Menu(CallbackData, prefix="menu"):
    action: str  # sos | report | missing | status | help | language


class Claim(CallbackData, prefix="claim"):
    case_id: CaseId


class Pass(CallbackData, prefix="pass"):
    case_id: CaseId


class PassReason(CallbackData, prefix="passr"):
    case_id: CaseId
    reason: str


class CheckIn(CallbackData, prefix="chk"):
    case_id: CaseId
    answer: str  # safe | unsafe | changed


class Snooze(CallbackData, prefix="snz"):
    case_id: CaseId
    hours: int


class Feedback(CallbackData, prefix="fb"):
    case_id: CaseId
    score: int


class ConsentAnswer(CallbackData, prefix="cns"):
    case_id: CaseId
    purpose: str
    granted: int


class Outcome(CallbackData, prefix="out"):
    case_id: CaseId
    code: str


class Refer(CallbackData, prefix="ref"):
    case_id: CaseId
    org: str


class Step(CallbackData, prefix="r"):
    """One answer in the guided report: ``field`` names the step, ``value`` the choice."""

    field: str
    value: str


class Nav(CallbackData, prefix="nav"):
    action: str  # back | cancel | skip | done | submit
    step: str  # the question the button belongs to


class SosSend(CallbackData, prefix="sos"):
    country: str


class PickCase(CallbackData, prefix="pick"):
    case_id: CaseId


class Withdraw(CallbackData, prefix="wd"):
    case_id: CaseId
    confirm: int


class InviteOrg(CallbackData, prefix="inv"):
    org: str


class ClearChat(CallbackData, prefix="clr"):
    confirm: int


class Forget(CallbackData, prefix="fgt"):
    confirm: int


class ConsentWithdraw(CallbackData, prefix="cwd"):
    case_id: CaseId
    purpose: str


class SavedCase(CallbackData, prefix="svc"):
    """Which of the sender's cases a saved reply is for."""

    case_id: CaseId


class SavedPick(CallbackData, prefix="svp"):
    case_id: CaseId
    code: str


class SavedSend(CallbackData, prefix="svs"):
    case_id: CaseId
    send: int  # 1 send, 0 cancel


class ConsentGive(CallbackData, prefix="cgv"):
    case_id: CaseId
    purpose: str
