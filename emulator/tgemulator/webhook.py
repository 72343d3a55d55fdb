"""Webhook delivery: POST each update in order, retrying until acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from .state import World

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Execute = Callable[[World, str, dict[str, Any]], Awaitable[Any]]


class WebhookDispatcher:
    """One delivery task per world with a webhook set."""

    def __init__(
        self,
        retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1.0),
        timeout: float = 10.0,
    ) -> None:
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.execute: Execute | None = None  # runs a method sent back in a webhook reply
        self._http: aiohttp.ClientSession | None = None

    def start(self, world: World) -> None:
        self.stop(world)
        world.webhook.task = asyncio.create_task(self._run(world), name=f"webhook-{world.bot_id}")

    def stop(self, world: World) -> None:
        task, world.webhook.task = world.webhook.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        world.webhook.delivering = False

    async def close(self, worlds: list[World]) -> None:
        tasks = [w.webhook.task for w in worlds if w.webhook.task]
        for world in worlds:
            self.stop(world)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._http

    async def _run(self, world: World) -> None:
        attempt = 0
        hook = world.webhook
        while True:
            await world.signal.wait_for(
                lambda: world.updates or world.closed or world.webhook is not hook or not hook.url,
                None,
            )
            if world.closed or world.webhook is not hook or not hook.url:
                return
            update = world.updates[0]
            hook.delivering = True
            try:
                error, reply = await self._post(hook.url, hook.secret_token, update)
            finally:
                hook.delivering = False
                world.touch()
            if error is None:
                attempt = 0
                if world.updates and world.updates[0] is update:
                    world.updates.pop(0)
                    world.signal.fire()
                if reply is not None:
                    await self._answer(world, reply)
                continue
            hook.last_error_date = world.now()
            hook.last_error_message = error
            await asyncio.sleep(self.retry_delays[min(attempt, len(self.retry_delays) - 1)])
            attempt += 1

    async def _post(
        self, url: str, secret: str | None, update: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any] | None]:
        headers = {SECRET_HEADER: secret} if secret else {}
        try:
            async with self._session().post(url, json=update, headers=headers) as resp:
                body = await resp.read()
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}", None
        except TimeoutError:
            return "Read timeout expired", None
        except aiohttp.ClientError as exc:
            return f"Connection failed: {type(exc).__name__}", None
        try:
            reply = json.loads(body) if body.strip() else None
        except ValueError:
            reply = None
        return None, reply if isinstance(reply, dict) and reply.get("method") else None

    async def _answer(self, world: World, reply: dict[str, Any]) -> None:
        """Telegram executes a method returned in the webhook response body."""
        if self.execute is None:
            return
        params = {k: v for k, v in reply.items() if k != "method"}
        try:
            await self.execute(world, str(reply["method"]), params)
        except Exception as exc:  # the bot never learns about these failures
            log.info("method in webhook reply failed: %s", exc)
