"""Nobody hears of a commit before it is on disk: while the flush of SQLite's log is held,
the bot handles and commits an update, but neither answers it nor confirms it to
Telegram; both follow the flush (models.durability)."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

from corridor_dev.harness import Harness
from models import durability, sqlite_inline
from models.durability import GroupCommit


def group_commit_of(h: Harness) -> GroupCommit:
    kept = h.app.domain.durability
    if not isinstance(kept, GroupCommit):
        pytest.skip("PostgreSQL flushes at each commit and checkpoints on its own")
    return kept


async def test_no_answer_and_no_confirmation_before_the_commit_is_flushed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    kept = group_commit_of(h)
    user = await h.user("Amina")
    await h.settle()
    gate, flushed = threading.Event(), []
    real_fsync = os.fsync

    def held(descriptor: int) -> None:
        gate.wait(20)
        flushed.append(descriptor)
        real_fsync(descriptor)

    monkeypatch.setattr(durability.os, "fsync", held)
    commits = sqlite_inline.commits(kept.commits_key)
    sent = await h.tg.send_message(user, "/start")
    for _ in range(500):
        if sqlite_inline.commits(kept.commits_key) > commits:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the update was never committed")
    await asyncio.sleep(0.3)
    answers = [m for m in await h.tg.transcript(user) if m.get("from_bot")]
    assert answers == [] and not flushed
    assert [u["update_id"] for u in await h.tg.pending_updates()], "confirmed before the flush"

    gate.set()
    reply = await h.tg.wait_for_message(user, after_message_id=sent["message_id"], timeout=10)
    assert reply["reply_markup"]["inline_keyboard"]
    await h.settle()
    assert flushed
    assert await h.tg.pending_updates() == []


async def test_the_running_bot_checkpoints_the_log_in_the_background_even_after_a_failure(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    kept = group_commit_of(h)
    done = []
    real_checkpoint = kept.checkpoint

    async def counted(**options: Any) -> durability.Checkpointed | None:
        if not done:
            done.append(None)
            raise RuntimeError("the first checkpoint fails; the next ones must still come")
        result = await real_checkpoint(**options)
        done.append(result)
        return result

    monkeypatch.setattr(kept, "checkpoint", counted)
    monkeypatch.setattr("bot.app.CHECKPOINT_EVERY_S", 0.05)
    await h.app.start_background()
    user = await h.user("Bayu")
    await h.say(user, "/start")
    await h.settle()
    for _ in range(200):
        if any(c is not None and c.copied_frames for c in done):
            break
        await asyncio.sleep(0.02)
    await h.app.stop_background()
    copied = [c for c in done if c is not None and c.copied_frames]
    # Each checkpoint ends with every frame copied: the next writer starts the log over.
    assert copied and all(c.copied_frames == c.log_frames for c in copied)
    stopped_at = len(done)
    await asyncio.sleep(0.2)
    assert len(done) == stopped_at  # stopped with the rest of the background work


async def test_while_commits_cannot_be_flushed_nothing_is_answered_and_all_follows_the_disk(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    group_commit_of(h)
    user = await h.user("Chandra")
    await h.say(user, "/start")
    await h.settle()
    menu = [m for m in await h.tg.transcript(user) if m.get("from_bot")][-1]

    def broken(_descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(durability.os, "fsync", broken)
    query = await h.tg.press_button(user, user, menu["message_id"], data="menu:help")
    with pytest.raises(TimeoutError):
        await h.tg.get_callback_answer(query, timeout=1)
    assert "answerCallbackQuery not sent: the log flush failed" in caplog.text

    monkeypatch.undo()
    query = await h.tg.press_button(user, user, menu["message_id"], data="menu:help")
    await h.tg.get_callback_answer(query, timeout=10)
    await h.settle()
    # The first press's reply was committed and waited for the disk: it goes out too.
    texts = [m.get("text", "") for m in await h.tg.transcript(user) if m.get("from_bot")]
    assert len([t for t in texts if "Verified help contacts" in t]) == 2
