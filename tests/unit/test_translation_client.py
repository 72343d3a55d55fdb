"""The LibreTranslate client over real HTTP against the local stand-in server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bot.domain.context import Domain
from bot.translation import LibreTranslate, TranslationFailed
from tgemulator.libretranslate import FakeLibreTranslate


@pytest.fixture
async def engine() -> AsyncIterator[FakeLibreTranslate]:
    fake = await FakeLibreTranslate(api_key="s3cret").start()
    yield fake
    await fake.close()


async def test_codes_are_mapped_and_the_key_is_sent(engine: FakeLibreTranslate) -> None:
    engine.detections["Kumusta"] = "tl"  # LibreTranslate's code for Filipino
    client = LibreTranslate(engine.url, api_key="s3cret", timeout=2)
    try:
        result = await client.translate("Kumusta", target="en", hint="fil")
        assert result is not None and result.source == "fil" and result.text == "[en] Kumusta"
        assert await client.translate("Hello", target="en", hint="en") is None
        await client.translate("Hello there", target="fil", hint="en")
    finally:
        await client.close()
    assert [r["target"] for r in engine.requests] == ["en", "en", "tl"]
    assert all(r["api_key"] == "s3cret" for r in engine.requests)


async def test_a_refused_key_is_an_engine_failure(engine: FakeLibreTranslate) -> None:
    client = LibreTranslate(engine.url, api_key="wrong", timeout=2)
    try:
        with pytest.raises(TranslationFailed) as failure:
            await client.translate("Hello", target="ne", hint="en")
    finally:
        await client.close()
    assert failure.value.reason == "error" and "403" in str(failure.value)


async def test_an_unreachable_engine_is_an_engine_failure() -> None:
    client = LibreTranslate("http://127.0.0.1:9", timeout=2)
    try:
        with pytest.raises(TranslationFailed) as failure:
            await client.translate("Hello", target="ne", hint="en")
    finally:
        await client.close()
    assert failure.value.reason == "error"


async def test_never_asked_inside_a_database_transaction(
    domain: Domain, engine: FakeLibreTranslate
) -> None:
    client = LibreTranslate(engine.url, api_key="s3cret", timeout=2)
    try:
        async with domain.sessions() as session, session.begin():
            await session.execute(text("SELECT 1"))
            with pytest.raises(RuntimeError, match="inside a database transaction"):
                await client.translate("Hello", target="ne", hint="en")
    finally:
        await client.close()
    assert engine.requests == []
