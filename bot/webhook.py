"""Webhook mode's HTTP side: what Telegram posts to, and a defined answer to everything else.

Every answer is one log line at most, never a traceback:

* a request without the configured secret header → 403;
* a body larger than ``MAX_BODY`` → 413, refused on its Content-Length before it is read
  (a body without a length is read only up to the limit);
* a body that is not JSON → 400;
* JSON that is not an Update aiogram understands, or holds a number no Bot API field can
  hold (bot.polling.out_of_range) → 200, so Telegram does not send it again and again (the
  log line names its update_id and, for a number, where it is, never its value);
* an Update → 200 once it is handled and its commit is on disk (the handlers' replies go
  out after that, through delivery); 503 if the disk flush fails, so Telegram sends the
  update again (one that did commit is known and skipped). Killed in the middle, the bot
  has answered nothing, and Telegram sends the update again too;
* a request to any other path → 404, logged (once per path) with the path the bot listens
  on, so a URL that does not match the configuration is seen at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.polling import on_disk_already, screen

log = logging.getLogger("corridor.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes (a 4096-character message with its entities).
MAX_BODY = 1 << 20
# Paths answered 404 are logged once each, up to this many (a scanner cannot flood the log).
MAX_LOGGED_PATHS = 50


class WebhookHandler:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        secret: str,
        *,
        max_body: int = MAX_BODY,
        durable: Callable[[], Awaitable[None]] = on_disk_already,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret.encode()
        self.max_body = max_body
        # Awaited before an update is confirmed to Telegram (bot.polling's durable).
        self.durable = durable
        self.tasks: set[asyncio.Task[Any]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self.secret or not hmac.compare_digest(given, self.secret):
            log.warning(
                "webhook: refused a request from %s: %s secret header (403)",
                request.remote,
                "wrong" if given else "no",
            )
            return web.Response(status=403, text="forbidden")
        length = request.content_length
        if length is not None and length > self.max_body:
            return self._too_large(request, f"{length} bytes")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._too_large(request, "no length given")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            log.warning(
                "webhook: a %d-byte body from %s is not JSON (400)", len(body), request.remote
            )
            return web.Response(status=400, text="body is not JSON")
        update_id = data.get("update_id") if isinstance(data, dict) else None
        try:
            update = Update.model_validate(data, context={"bot": self.bot})
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "update"
            log.warning(
                "webhook: update %s is not a Telegram update (%s: %s); answered 200 so "
                "Telegram does not resend it",
                update_id if isinstance(update_id, int) else "without update_id",
                where,
                first["msg"],
            )
            return web.json_response({})
        where, unencodable = screen(data)
        if where is not None:
            log.warning(
                "webhook: update %s skipped: a number out of range at %s; answered 200 so "
                "Telegram does not resend it",
                update.update_id,
                where,
            )
            return web.json_response({})
        task = asyncio.create_task(
            self._feed(update, unencodable), name=f"update-{update.update_id}"
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        # A 200 tells Telegram the update is done: only once it is committed and on disk.
        # Shielded: a request dropped meanwhile does not stop the update half-way.
        await asyncio.shield(task)
        try:
            await self.durable()
        except Exception as error:
            log.error(
                "webhook: update %d not confirmed: commits not flushed to disk (%s); "
                "answered 503 so Telegram sends it again",
                update.update_id,
                error,
            )
            return web.Response(status=503, text="not on disk yet")
        return web.json_response({})

    def _too_large(self, request: web.Request, size: str) -> web.Response:
        log.warning(
            "webhook: refused a body from %s larger than %d bytes (%s; 413)",
            request.remote,
            self.max_body,
            size,
        )
        response = web.Response(status=413, text="body too large")
        response.force_close()
        return response

    async def _feed(self, update: Update, unencodable: bool) -> None:
        try:
            result = await self.dispatcher.feed_update(self.bot, update, unencodable=unencodable)
        except Exception:
            # The error handlers have already answered the user; this is for the operator.
            log.exception("webhook: update %d failed", update.update_id)
            return
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(self.bot, result)

    async def drain(self, seconds: float = 30) -> None:
        """Waits for the updates already accepted (at shutdown)."""
        if self.tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), seconds)


HANDLER: web.AppKey[WebhookHandler] = web.AppKey("webhook_handler", WebhookHandler)


def make_webhook_app(
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    secret: str,
    path: str,
    max_body: int = MAX_BODY,
    durable: Callable[[], Awaitable[None]] = on_disk_already,
) -> web.Application:
    """The aiohttp application: POST ``path`` for Telegram, GET /healthz for liveness."""
    web_app = web.Application(client_max_size=max_body)
    handler = WebhookHandler(dispatcher, bot, secret, max_body=max_body, durable=durable)
    web_app[HANDLER] = handler
    web_app.router.add_post(path, handler.handle)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app.router.add_get("/healthz", health)
    logged: set[str] = set()

    async def elsewhere(request: web.Request) -> web.Response:
        if request.path == path:
            return web.Response(status=405, text="method not allowed", headers={"Allow": "POST"})
        if request.path not in logged and len(logged) < MAX_LOGGED_PATHS:
            logged.add(request.path)
            log.warning(
                "webhook: %s %s answered 404: the bot listens on %s (the path of "
                "[telegram.webhook] url)",
                request.method,
                request.path,
                path,
            )
        return web.Response(status=404, text="not found")

    web_app.router.add_route("*", "/{tail:.*}", elsewhere)
    return web_app
