"""Shared helpers for tests: configuration, databases (SQLite or PostgreSQL), a domain, a
player for the guided report."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Config, parse_config
from bot.crypto import KeyRing, generate_key, install
from bot.domain.cases import Report
from models import Corridor

if TYPE_CHECKING:
    from corridor_dev.harness import Harness

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
TEST_KEY = generate_key()
PG_URL = os.environ.get("CORRIDOR_TEST_DATABASE_URL", "")


def free_port() -> int:
    """A local TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def in_webhook_mode(config_text: str, port: int, secret: str) -> str:
    """The example configuration's text in webhook mode: Telegram posts to
    http://127.0.0.1:``port``/telegram, where the bot listens, with ``secret``."""
    text = config_text.replace('mode = "polling"', 'mode = "webhook"')
    # The webhook's own url, the first of the file (translation's stays empty).
    url = f"http://127.0.0.1:{port}/telegram"
    text = re.sub(r'(?m)^url = ""', f'url = "{url}"', text, count=1)
    text = text.replace('secret = ""', f'secret = "{secret}"')
    return text.replace('listen = "127.0.0.1:8080"', f'listen = "127.0.0.1:{port}"')


def wage_report(**changes: Any) -> Report:
    """A worker in Qatar, from Nepal, owed four months' wages, consenting to everything;
    tests change what they are about."""
    values: dict[str, Any] = dict(
        reporter_role="self",
        destination_country="QA",
        origin_country="NP",
        categories=["WAGE"],
        language="ne",
        area="Doha",
        description="Not paid for four months",
        employer="Al Noor Contracting",
        wage_owed_minor=480000,
        wage_currency="QAR",
        consents={"destination_help": True, "origin_help": True, "statistics": True},
    )
    values.update(changes)
    return Report(**values)


def example_corridors(*codes: str) -> list[Corridor]:
    """Active corridors as the wizard sees them, without a database: the example network's
    (NP-QA, NP-MY, ID-MY) unless ``codes`` names others."""
    codes = codes or tuple(c["code"] for c in example_data()["corridors"])
    return [
        Corridor(code=code, origin=code[:2], destination=code[3:], active=True) for code in codes
    ]


def example_data() -> dict[str, Any]:
    with EXAMPLE.open("rb") as handle:
        return tomllib.load(handle)


def make_config(database_url: str, **overrides: Any) -> Config:
    data = example_data()
    data["security"] = {"encryption_keys": [TEST_KEY], "hash_key": "test-hash-key"}
    data["database"] = {"url": database_url}
    data["outbox"] = {
        "per_chat_per_second": 1000.0,
        "per_group_per_minute": 100000,
        "global_per_second": 100000,
    }
    for section, values in overrides.items():
        if isinstance(values, dict) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    return parse_config(data, "test.toml", environ={})


def install_test_keys() -> KeyRing:
    ring = KeyRing([TEST_KEY], "test-hash-key")
    install(ring)
    return ring


_template_ready = False


def _with_database(url: str, name: str) -> str:
    base, _, _query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """``app`` on an ephemeral local port for the block; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def database(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database URL: a SQLite file, or a PostgreSQL database copied from
    a template that was migrated once (copying is much faster than migrating)."""
    global _template_ready
    from models.db import make_engine
    from models.migrate import upgrade

    if not PG_URL:
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
        return
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    # One template per checkout: several work trees (or their CI runs) may share a server,
    # each with migrations of its own.
    template = "corridor_tpl_" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    try:
        if not _template_ready:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
                await connection.execute(text(f'CREATE DATABASE "{template}"'))
            engine = make_engine(_with_database(PG_URL, template))
            await upgrade(engine)
            await engine.dispose()
            _template_ready = True
        name = "corridor_t_" + secrets.token_hex(5)
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        try:
            yield _with_database(PG_URL, name)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


# -- the guided report, played from what the bot shows ---------------------------------------

HURRIED_WORDS = "Not paid for three months; the employer keeps my passport."


def callback_data(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button.get("callback_data", "") for row in rows for button in row]


@dataclass(frozen=True)
class Step:
    """One thing the reporter does: press the button with ``data``, or type ``text``."""

    data: str | None = None
    text: str | None = None
    opening: bool = False  # getting to the report (/start, the language, the menu)


@dataclass
class Counted:
    taps: int = 0
    typed: int = 0
    language_asked: bool = False


def _question(data: list[str]) -> str | None:
    for item in data:
        parts = item.split(":")
        if parts[0] in ("r", "nav") and len(parts) == 3:
            return parts[1] if parts[0] == "r" else parts[2]
    return None


@dataclass
class ReportPlayer:
    """A reporter played by what the bot shows, not by a script of the flow: at each message
    it finds the question from its buttons and answers it, so the same player goes through
    any version of the wizard.

    With ``answers`` it answers only what they name (a question → the values to try in turn,
    the first one offered is pressed; a list of lists for a multiple choice; ("type", text)),
    presses Skip or Done where a question may be left out and fails on a required question
    they do not answer: the fewest steps. Without ``answers`` it is a hurried person: the
    first offered answer, then Done or Skip, ``words`` where a question wants words."""

    answers: Mapping[str, Any] | None = None
    words: str = HURRIED_WORDS
    pressed: dict[tuple[int, str | None], int] = field(default_factory=dict)

    def steps(self, message: dict[str, Any]) -> list[Step]:
        data = callback_data(message)
        if self.answers is None:
            return [self._hurried(message, data)]
        return self._answering(message, data, self.answers)

    def _hurried(self, message: dict[str, Any], data: list[str]) -> Step:
        submit = [d for d in data if d.startswith("nav:submit")]
        if submit:
            return Step(submit[0])
        answers = [d for d in data if d.startswith("r:")]
        navigation = {d.split(":")[1]: d for d in data if d.startswith("nav:")}
        # A multiple choice stays on the same message: one answer, then Done. The next
        # question takes the same message's place, so a question is known by both.
        asked = (message["message_id"], _question(data))
        times = self.pressed.get(asked, 0)
        self.pressed[asked] = times + 1
        choice = (
            answers[0]
            if answers and not times
            else navigation.get("done") or navigation.get("skip") or (answers or [None])[0]
        )
        return Step(text=self.words) if choice is None else Step(choice)

    @staticmethod
    def _answering(
        message: dict[str, Any], data: list[str], answers: Mapping[str, Any]
    ) -> list[Step]:
        question = _question(data)
        assert question, f"no question in {message.get('text')!r}"
        answer = answers.get(question)
        if isinstance(answer, tuple):
            return [Step(text=answer[1])]
        if answer and isinstance(answer[0], list):
            done = next(d for d in data if d.startswith("nav:done:"))
            return [*(Step(f"r:{question}:{value}") for value in answer[0]), Step(done)]
        if answer:
            value = next(v for v in answer if f"r:{question}:{v}" in data)
            return [Step(f"r:{question}:{value}")]
        submit = [d for d in data if d.startswith("nav:submit:")]
        if submit:
            return [Step(submit[0])]
        optional = [d for d in data if d.startswith(("nav:skip:", "nav:done:"))]
        assert optional, f"{question!r} is required and the script does not answer it"
        return [Step(optional[0])]


Act = Callable[[int, Step, dict[str, Any] | None], Awaitable[None]]


def harness_act(h: Harness) -> Act:
    async def act(uid: int, step: Step, message: dict[str, Any] | None) -> None:
        if step.data is None:
            await h.say(uid, step.text or "")
        else:
            await h.press_data(uid, lambda data: data == step.data)

    return act


async def play_report(
    h: Harness,
    uid: int,
    flow: str = "report",
    player: ReportPlayer | None = None,
    *,
    language: str = "en",
    submit: bool = True,
    act: Act | None = None,
) -> Counted:
    """From /start to "Send report" (or to the summary, ``submit=False``): answers the
    language question if the bot asks it (with ``language``), opens ``flow`` from the menu,
    then plays the report with ``player``. ``act`` does each step (by default through the
    harness, which waits until the bot has answered); returns the taps and typed messages
    after /start."""
    player = player or ReportPlayer()
    act = act or harness_act(h)
    counted = Counted()

    async def last() -> dict[str, Any]:
        return [m for m in await h.tg.transcript(uid) if m.get("from_bot")][-1]

    async def do(step: Step, message: dict[str, Any] | None) -> None:
        if step.data is None:
            counted.typed += 1
        else:
            counted.taps += 1
        await act(uid, step, message)

    await act(uid, Step(text="/start", opening=True), None)
    message = await last()
    if any(d.startswith("lang:") for d in callback_data(message)):
        counted.language_asked = True
        await do(Step(f"lang:{language}", opening=True), message)
        message = await last()
    await do(Step(f"menu:{flow}", opening=True), message)
    for _ in range(80):
        message = await last()
        for step in player.steps(message):
            if step.data and step.data.startswith("nav:submit"):
                if submit:
                    await do(step, message)
                return counted
            await do(step, message)
    raise AssertionError("the report never reached its end")
