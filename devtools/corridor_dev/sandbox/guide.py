"""Guided scenarios: the demo's stories, one step at a time or played automatically.

The page shows whose turn it is, in which chat, and which button to press; the person
presses it themselves (then "Next") or lets the guide do it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.i18n import tr
from corridor_dev.stories import (
    STORIES,
    Press,
    Race,
    Say,
    Send,
    Step,
    Story,
    Wait,
    find_button,
    story,
)

if TYPE_CHECKING:
    from corridor_dev.sandbox.session import Sandbox

log = logging.getLogger(__name__)
# Between automatic steps, so a person watching can follow what happens.
AUTOPLAY_PAUSE = 0.4


@dataclass(frozen=True)
class Position:
    story: Story
    beat: str
    step: Step


def plan(key: str, done: set[str]) -> list[Position]:
    """The steps of a story, after those of earlier stories it continues and nobody played."""
    chosen = story(key)
    stories = [story(k) for k in chosen.requires if k not in done] + [chosen]
    return [
        Position(each, beat.text, step)
        for each in stories
        for beat in each.beats
        for step in beat.steps
    ]


def step_actor(step: Step) -> str | None:
    if isinstance(step, Race):
        return step.actors[0]
    return step.actor


class Guide:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.key: str | None = None
        self.steps: list[Position] = []
        self.index = 0
        self.done: set[str] = set()
        self.begun: set[str] = set()  # stories at least one step of which ran
        self.error: str | None = None
        self._player: asyncio.Task[None] | None = None

    def choose(self, key: str) -> None:
        from corridor_dev.sandbox.session import SandboxError

        try:
            steps = plan(key, self.done)
        except KeyError:
            raise SandboxError(f"no story {key!r}") from None
        if key == self.key:
            return
        # A story's people start from an empty chat; a second telling needs a fresh world.
        replayed = {p.story.key for p in steps} & self.begun
        if replayed:
            language = self.sandbox.page_language
            raise SandboxError(
                tr(
                    language,
                    "“{story}” was already played here: press Reset to play it again",
                    story=tr(language, story(replayed.pop()).title),
                )
            )
        self.stop()
        self.steps = steps
        self.key, self.index, self.error = key, 0, None

    @property
    def playing(self) -> bool:
        return self._player is not None and not self._player.done()

    def _finish_stories(self) -> None:
        finished = {p.story.key for p in self.steps[: self.index]}
        remaining = {p.story.key for p in self.steps[self.index :]}
        self.done |= finished - remaining

    async def step(self) -> None:
        """Carries out the current step, as the person whose turn it is."""
        sandbox = self.sandbox
        async with sandbox.lock:
            if self.index >= len(self.steps):
                return  # a second click on the last step
            cast = sandbox.cast
            assert cast is not None
            position = self.steps[self.index]
            self.begun.add(position.story.key)
            try:
                await position.step.run(cast)
            except Exception as error:
                # Someone pressed something else by hand; the story cannot go on from here.
                log.warning("guided step failed: %s", error)
                self.error = tr(
                    self.sandbox.page_language,
                    "This step could not be done ({error}). Reset to start over.",
                    error=error,
                )
                self.stop_soon()
            else:
                self.index += 1
                self._finish_stories()
            await sandbox.after_action()

    async def next(self) -> None:
        """The person did the step by hand."""
        async with self.sandbox.lock:
            if self.index < len(self.steps):
                position = self.steps[self.index]
                self.begun.add(position.story.key)
                assert self.sandbox.cast is not None
                await position.step.observe(self.sandbox.cast)
                self.index += 1
                self._finish_stories()
            await self.sandbox.after_action()

    def play(self) -> None:
        if not self.playing:
            self._player = asyncio.create_task(self._play(), name="sandbox-autoplay")

    async def _play(self) -> None:
        while self.index < len(self.steps) and self.error is None:
            await self.step()
            await asyncio.sleep(AUTOPLAY_PAUSE)
        self._player = None  # so the page, woken below, shows it stopped
        await self.sandbox.after_action()

    def stop_soon(self) -> None:
        """From inside the player: it ends after this step."""
        self._player = None

    def stop(self) -> None:
        if self._player is not None and not self._player.done():
            if self._player is not asyncio.current_task():
                self._player.cancel()
        self._player = None

    async def state(self) -> dict[str, Any]:
        """What the page shows of the guide (the current step resolved to a chat and button)."""
        language = self.sandbox.page_language
        stories = [
            {"key": s.key, "title": tr(language, s.title), "done": s.key in self.done}
            for s in STORIES
        ]
        if self.key is None:
            return {"stories": stories, "story": None}
        current = None
        if self.index < len(self.steps):
            try:
                current = await self._describe(self.steps[self.index], language)
            except LookupError:  # a person or case an earlier step should have made
                current = {
                    "actor": None,
                    "actor_id": None,
                    "chat_id": None,
                    "button": None,
                    "beat": "",
                    "story": "",
                    "hint": tr(language, "this step cannot be done here"),
                }
        return {
            "stories": stories,
            "story": self.key,
            "title": tr(language, story(self.key).title),
            "position": self.index,
            "count": len(self.steps),
            "playing": self.playing,
            "error": self.error,
            "current": current,
        }

    async def _describe(self, position: Position, language: str) -> dict[str, Any]:
        cast = self.sandbox.cast
        assert cast is not None
        step = position.step
        actor = step_actor(step)
        described: dict[str, Any] = {
            "story": tr(language, position.story.title),
            "beat": cast.fill(tr(language, position.beat)),
            "actor": actor and cast.facts.get(actor, actor),
            "actor_id": cast.user(actor) if actor else None,
            "chat_id": None,
            "hint": await step.hint(cast, language),
            "button": None,
        }
        if isinstance(step, Press | Race):
            chat_id = step.chat_id(cast) if isinstance(step, Press) else cast.chat(step.chat)
            described["chat_id"] = chat_id
            with contextlib.suppress(LookupError):
                message, button = await find_button(cast.h, chat_id, step.button)
                described["button"] = {
                    "message_id": message["message_id"],
                    "data": button["callback_data"],
                }
        elif isinstance(step, Say | Send):
            described["chat_id"] = (
                cast.chat(step.chat)
                if isinstance(step, Say) and step.chat
                else cast.user(step.actor)
            )
        elif isinstance(step, Wait):
            described["actor"] = "clock"
        return described
