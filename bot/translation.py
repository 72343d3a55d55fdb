"""Machine translation of free text that people write to each other through the bot.

Design: the text is never translated inside a database transaction. The domain queues the
relayed message with the original only and a *translation request* in its (encrypted) outbox
payload; delivery, after the commit and outside any transaction, asks the engine, writes the
translation into the message and sends it. A slow or broken engine costs one chat at most
``[translation] timeout`` seconds: then the original goes alone and the reader (or, for a
message to a reporter, its writer) is told.

Only LibreTranslate (https://github.com/LibreTranslate/LibreTranslate), which an operator runs
on their own machine, is spoken; with ``backend = "none"`` nothing leaves the bot.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp

from bot.config import TranslationSection
from bot.i18n import language_name, tr
from bot.transactions import refuse_inside_transaction

# Our catalogue codes where LibreTranslate (Argos) names the language differently.
ENGINE_CODES = {"fil": "tl"}
OUR_CODES = {engine: ours for ours, engine in ENGINE_CODES.items()}

# Where a translation goes: under the original, for staff ("add"), or in place of it with the
# original underneath, for a reporter ("replace").
Style = Literal["add", "replace"]


class TranslationFailed(Exception):
    """The engine did not give a usable answer; ``reason`` is "timeout" or "error"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Translation:
    text: str
    source: str  # the language it was translated from, in our codes


class Translator(Protocol):
    async def translate(self, text: str, *, target: str, hint: str | None) -> Translation | None:
        """None when the text is already in ``target``; raises ``TranslationFailed``."""

    async def close(self) -> None: ...


class LibreTranslate:
    """A client of LibreTranslate's HTTP API (POST /translate, JSON)."""

    def __init__(self, url: str, api_key: str = "", timeout: float = 3.0) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def translate(self, text: str, *, target: str, hint: str | None) -> Translation | None:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._translate(text, target, hint)
        except TimeoutError:
            raise TranslationFailed("timeout") from None
        except (aiohttp.ClientError, ValueError) as error:
            raise TranslationFailed("error", str(error)) from None

    async def _translate(self, text: str, target: str, hint: str | None) -> Translation | None:
        answer = await self._post(text, "auto", target)
        detected = _ours((answer.get("detectedLanguage") or {}).get("language"))
        if detected == target:
            if not hint or hint == target:
                return None
            # Short texts fool detectors; the language the writer chose is the better guess.
            answer = await self._post(text, hint, target)
            detected = hint
        translated = answer.get("translatedText")
        if not isinstance(translated, str) or not translated.strip():
            raise ValueError("no translatedText in the answer")
        return Translation(text=translated, source=detected or hint or "und")

    async def _post(self, text: str, source: str, target: str) -> dict[str, Any]:
        refuse_inside_transaction("translation request")
        body = {"q": text, "source": _engine(source), "target": _engine(target), "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        async with self._session.post(f"{self.url}/translate", json=body) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError("the answer is not a JSON object")
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def engine_for(settings: TranslationSection) -> Translator | None:
    """The configured engine, or None: with ``backend = "none"`` nothing is ever sent."""
    if settings.backend == "libretranslate":
        return LibreTranslate(settings.url, settings.api_key, settings.timeout)
    return None


def _engine(code: str) -> str:
    return ENGINE_CODES.get(code, code)


def _ours(code: object) -> str | None:
    return OUR_CODES.get(code, code) if isinstance(code, str) and code else None


# ---- requests stored with a queued message, and their rendering at delivery -----------------


def request(
    original: str,
    *,
    reader: str,
    writer: str | None,
    style: Style,
    tell_chat: int | None = None,
    code: str = "",
) -> dict[str, Any]:
    """What delivery needs to translate ``original`` (a part of the queued text) for a reader
    of ``reader``; ``writer`` is the language the writer chose, if known. ``tell_chat`` is told
    when a message to a reporter had to go untranslated."""
    return {
        "original": original,
        "reader": reader,
        "writer": writer,
        "style": style,
        "tell_chat": tell_chat,
        "code": code,
    }


def wanted(enabled: bool, writer: str | None, reader: str) -> bool:
    """Translate only when an engine is configured and the two chose different languages."""
    return enabled and writer != reader


@dataclass
class Rendered:
    text: str
    # Writers whose message went untranslated: (chat id, their language, case code, reason).
    untranslated: list[tuple[int, str, str, str]]


async def render(
    translator: Translator | None, text: str, requests: list[dict[str, Any]], limit: int
) -> Rendered:
    """The message text with every requested translation written in (or the reason why not)."""
    untranslated: list[tuple[int, str, str, str]] = []
    for wish in requests:
        original, reader = wish["original"], wish["reader"]
        if translator is None or original not in text:
            continue
        try:
            result = await translator.translate(original, target=reader, hint=wish.get("writer"))
        except TranslationFailed as failure:
            if wish["style"] == "add":
                text = _insert(text, original, "\n\n" + _failure_line(reader, failure.reason))
            elif wish.get("tell_chat"):
                # The writer reads this in their own language, which is the original's.
                untranslated.append(
                    (
                        wish["tell_chat"],
                        wish.get("writer") or "en",
                        wish.get("code", ""),
                        failure.reason,
                    )
                )
            continue
        if result is None:
            continue
        source = language_name(result.source, reader)
        room = max(0, limit - len(text) - 120)
        translated = _cut(result.text, room)
        if wish["style"] == "add":
            mark = tr(
                reader, "🌐 Machine translation from {language} (may be wrong):", language=source
            )
            text = _insert(text, original, f"\n\n{mark}\n{translated}")
        else:
            mark = tr(
                reader,
                "🌐 Machine translation from {language} (may be wrong). The original:",
                language=source,
            )
            before, _, after = text.rpartition(original)
            text = f"{before}{translated}\n\n{mark}\n{original}{after}"
    return Rendered(text=text[:limit], untranslated=untranslated)


def _insert(text: str, original: str, addition: str) -> str:
    # The original is the last part of the queued text that holds it (headers come first).
    at = text.rindex(original) + len(original)
    return text[:at] + addition + text[at:]


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(0, room - 1)] + "…"


def _failure_line(language: str, reason: str) -> str:
    if reason == "timeout":
        return tr(language, "⚠️ Not translated: the translation engine did not answer in time.")
    return tr(language, "⚠️ Not translated: the translation engine is not working.")
