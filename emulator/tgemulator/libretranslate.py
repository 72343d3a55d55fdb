"""A stand-in LibreTranslate server for tests, the demo and benchmarks: it speaks the same HTTP
API (POST /translate, POST /detect, GET /languages) with fixed answers, and can be told to be
slow or to fail, so the bot's real client is exercised over real HTTP without any engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

LANGUAGES = ("en", "ne", "bn", "id", "tl", "hi", "ar", "ms", "ur")


@dataclass
class FakeLibreTranslate:
    # text → language code the "detector" reports for it (default: ``default_language``)
    detections: dict[str, str] = field(default_factory=dict)
    # (text, target) → translation; anything else comes back as "[target] text"
    answers: dict[tuple[str, str], str] = field(default_factory=dict)
    default_language: str = "en"
    delay: float = 0.0  # seconds before answering
    status: int = 200  # anything else is answered with this status and an error body
    api_key: str = ""  # when set, requests without it get 403, as LibreTranslate does
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeLibreTranslate:
        app = web.Application()
        app.router.add_post("/translate", self._translate)
        app.router.add_post("/detect", self._detect)
        app.router.add_get("/languages", self._languages)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def texts(self) -> list[str]:
        return [r.get("q", "") for r in self.requests]

    async def _common(self, request: web.Request) -> tuple[dict[str, Any] | None, web.Response]:
        body = await request.json()
        self.requests.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return None, web.json_response({"error": "engine failure"}, status=self.status)
        if self.api_key and body.get("api_key") != self.api_key:
            return None, web.json_response({"error": "Invalid API key"}, status=403)
        return body, web.Response()

    def _detected(self, text: str) -> str:
        return self.detections.get(text, self.default_language)

    async def _translate(self, request: web.Request) -> web.Response:
        body, failure = await self._common(request)
        if body is None:
            return failure
        text, source, target = body["q"], body.get("source", "auto"), body["target"]
        translated = self.answers.get((text, target), f"[{target}] {text}")
        answer: dict[str, Any] = {"translatedText": translated}
        if source == "auto":
            answer["detectedLanguage"] = {"confidence": 90.0, "language": self._detected(text)}
        return web.json_response(answer)

    async def _detect(self, request: web.Request) -> web.Response:
        body, failure = await self._common(request)
        if body is None:
            return failure
        return web.json_response([{"confidence": 90.0, "language": self._detected(body["q"])}])

    async def _languages(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"code": code, "name": code, "targets": list(LANGUAGES)} for code in LANGUAGES]
        )
