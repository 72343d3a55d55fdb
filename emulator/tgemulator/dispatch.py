"""Routes a Bot API call to its method: counting, injected failures, coercion."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from typing import Any

from . import botapi, sending  # noqa: F401 - importing registers their methods
from .errors import ApiError
from .registry import METHODS, Request, Upload
from .spec import canonical_names, coerce_params, is_implemented
from .state import World
from .webhook import WebhookDispatcher

UPLOAD_LIMIT = 50 * 1024 * 1024


@dataclass
class Dispatcher:
    webhooks: WebhookDispatcher = field(default_factory=WebhookDispatcher)

    def __post_init__(self) -> None:
        self.webhooks.execute = self.execute

    async def execute(self, world: World, name: str, raw: dict[str, Any]) -> Any:
        return await self.call(world, name, raw, {})

    async def call(
        self, world: World, name: str, raw: dict[str, Any], files: dict[str, Upload]
    ) -> Any:
        canonical = canonical_names().get(name.lower())
        world.stats[canonical or name] += 1
        if canonical is None:
            raise ApiError(404, "Not Found: method not found")
        chat = raw.get("chat_id")
        world.retries.check(chat, world.now_float())
        try:
            return await self._call(world, canonical, raw, files, chat)
        except ApiError as error:
            world.retries.record(chat, error, world.now_float())
            raise

    async def _call(
        self,
        world: World,
        canonical: str,
        raw: dict[str, Any],
        files: dict[str, Upload],
        chat: Any,
    ) -> Any:
        injected, rule = world.fail_rules.check(canonical, raw)
        if rule is None and chat is not None:
            rule = world.chaos.pick()
            injected = rule.fire() if rule is not None and rule.error_code else None
        if rule is not None and rule.delay:
            await asyncio.sleep(rule.delay)
        if injected is not None and not rule.after:
            raise injected
        if not is_implemented(canonical) or canonical not in METHODS:
            raise ApiError(501, f"Not Implemented: the emulator does not implement {canonical}")
        for upload in files.values():
            if len(upload.data) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
        params = coerce_params(canonical, raw, files.keys())
        result = METHODS[canonical](Request(world, params, files, self.webhooks))
        if inspect.isawaitable(result):
            result = await result
        if injected is not None:
            raise injected
        return result
