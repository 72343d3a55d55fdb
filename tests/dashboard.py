"""The dashboard served for tests: the bot's own aiohttp app on a local port, and
requests signed the way Telegram signs a Mini App launch."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from bot.webapp.auth import sign_init_data
from bot.webapp.routes import mount
from corridor_dev.harness import Harness
from tests.support import served

PUBLIC_URL = "https://dashboard.example.org/webapp/"
DASHBOARD_CONFIG = {"webapp": {"public_url": PUBLIC_URL, "init_data_max_age": 3600}}


class Dashboard:
    def __init__(self, harness: Harness, base_url: str, http: aiohttp.ClientSession) -> None:
        self.harness = harness
        self.base_url = base_url  # ends in /webapp/
        self.http = http

    def init_data(
        self, user_id: int, signed_at: dt.datetime | None = None, token: str | None = None
    ) -> str:
        return sign_init_data(
            token or self.harness.app.config.telegram.token,
            user_id,
            signed_at or self.harness.clock.now(),
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        user_id: int | None = None,
        init_data: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        if init_data is None and user_id is not None:
            init_data = self.init_data(user_id)
        headers = {"Authorization": f"tma {init_data}"} if init_data is not None else {}
        async with self.http.request(
            method, self.base_url + path, headers=headers, json=body
        ) as response:
            kind = response.content_type
            data = await (response.json() if kind == "application/json" else response.text())
            status = response.status
        # Whatever the request queued (card edits, pings) is delivered before the test looks.
        await self.harness.settle()
        return status, data

    async def get(self, path: str, user_id: int, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("GET", path, user_id=user_id, **kwargs)

    async def post(
        self, path: str, user_id: int, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        return await self.call("POST", path, user_id=user_id, body=body or {})

    def page_url(self, user_id: int) -> str:
        from urllib.parse import quote

        return f"{self.base_url}#initData={quote(self.init_data(user_id), safe='')}"


@asynccontextmanager
async def serve_dashboard(harness: Harness) -> AsyncIterator[Dashboard]:
    """The dashboard as the bot serves it (the same sub-application as in webhook mode),
    on an ephemeral local port."""
    web_app = web.Application()
    mount(web_app, harness.app.domain)
    async with served(web_app) as base, aiohttp.ClientSession() as http:
        yield Dashboard(harness, f"{base}/webapp/", http)
