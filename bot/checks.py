"""What `corridor run` needs before it starts, checked the same way by `run` and by
`corridor check-config` (which with ``--live`` also asks the Bot API, every configured
group, the database and Redis)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Config, entry_label
from bot.errors import first_line, safe_url


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)  # each stops `run`
    warnings: list[str] = field(default_factory=list)  # worth knowing, not fatal
    notes: list[str] = field(default_factory=list)  # what was found, for the report


def database_label(url: str) -> str:
    """The database for messages: the absolute SQLite file, or the URL without password."""
    from models.db import sqlite_file

    path = sqlite_file(url)
    return str(path.resolve()) if path is not None else safe_url(url)


def _key_problems(config: Config, environ: dict[str, str]) -> list[str]:
    from cryptography.fernet import Fernet

    security = config.security
    make_one = "`corridor keys generate` makes one"
    if security.encryption_keys:
        source = (
            "CORRIDOR_ENCRYPTION_KEYS (environment)"
            if environ.get("CORRIDOR_ENCRYPTION_KEYS")
            else f"{config.path}: [security] encryption_keys"
        )
        keys = security.encryption_keys
    elif security.key_file:
        source = f"{config.path}: [security] key_file {security.key_file}"
        path = Path(security.key_file)
        try:
            keys = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        except FileNotFoundError:
            return [f"{source}: file not found"]
        except (OSError, UnicodeDecodeError) as exc:
            return [f"{source}: cannot be read ({getattr(exc, 'strerror', None) or exc})"]
        if not keys:
            return [f"{source}: holds no key ({make_one})"]
    else:
        return [
            f"no encryption key: set CORRIDOR_ENCRYPTION_KEYS, or [security] key_file in "
            f"{config.path} ({make_one})"
        ]
    problems = []
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            problems.append(
                f"{source}: key {number} of {len(keys)} is not a valid key ({make_one})"
            )
    return problems


def readiness(config: Config, environ: dict[str, str] | None = None) -> Findings:
    """Everything `run` needs that the file and the environment can tell, without network."""
    from models.db import sqlite_file

    environ = dict(os.environ if environ is None else environ)
    found = Findings()
    path = config.path
    if not config.telegram.token:
        found.problems.append(
            f"{path}: [telegram] token: missing: set CORRIDOR_TELEGRAM_TOKEN (the token "
            "@BotFather gave)"
        )
    found.problems += _key_problems(config, environ)
    if not config.corridors:
        found.problems.append(
            f"{path}: no [[corridors]]: the bot would have nowhere to send a case "
            "(config.example.toml shows the network)"
        )
    database = sqlite_file(config.database.url)
    if database is not None and not database.resolve().parent.is_dir():
        found.problems.append(
            f"{path}: [database] url: the folder {database.resolve().parent} does not exist"
        )
    data = config.model_dump(exclude={"path"})
    with_groups = {g.organisation for g in config.groups}
    for index, corridor in enumerate(config.corridors):
        if not corridor.coordinators:
            found.warnings.append(
                f"{path}: {entry_label(data, 'corridors', index)}: no coordinators: a case "
                "that no group takes would reach nobody"
            )
    for index, organisation in enumerate(config.organisations):
        if organisation.id not in with_groups:
            found.warnings.append(
                f"{path}: {entry_label(data, 'organisations', index)}: no [[groups]] entry: "
                "its cases go to the corridor's coordinators"
            )
    found.notes.append(
        f"{path}: {len(config.corridors)} corridors, {len(config.organisations)} organisations, "
        f"{len(config.groups)} groups, {len(config.people)} people; {config.telegram.mode}"
        + (
            f" (Telegram posts to {config.telegram.webhook.url})"
            if config.telegram.mode == "webhook"
            else ""
        )
        + f"; database {database_label(config.database.url)}"
    )
    return found


async def live(config: Config, found: Findings) -> None:
    """getMe, then getChat and the bot's own membership for every configured group; the
    database and, if configured, Redis. Adds to ``found``."""
    await _bot_api(config, found)
    await _database(config, found)
    if config.fsm.storage == "redis":
        await _redis(config, found)


async def _bot_api(config: Config, found: Findings) -> None:
    from aiogram.exceptions import (
        TelegramAPIError,
        TelegramForbiddenError,
        TelegramNetworkError,
        TelegramUnauthorizedError,
    )

    from bot.app import make_bot

    api = config.telegram.api_base_url
    bot = make_bot(config)
    data = config.model_dump(exclude={"path"})
    try:
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            found.problems.append(f"Bot API at {api} refused the token (getMe: Unauthorized)")
            return
        except (TelegramNetworkError, TelegramAPIError, OSError) as exc:
            found.problems.append(f"Bot API at {api} unreachable: {first_line(exc)}")
            return
        found.notes.append(f"Bot API at {api}: the bot is @{me.username} (id {me.id})")
        for index, group in enumerate(config.groups):
            label = f"{config.path}: {entry_label(data, 'groups', index)}"
            try:
                chat = await bot.get_chat(group.chat_id)
                member = await bot.get_chat_member(group.chat_id, me.id)
            except TelegramForbiddenError as exc:
                found.problems.append(f"{label}: the bot is not in this group ({exc.message})")
                continue
            except TelegramAPIError as exc:
                found.problems.append(
                    f"{label}: {exc.message}: add the bot to the group, or correct chat_id"
                )
                continue
            except (TelegramNetworkError, OSError) as exc:
                found.problems.append(f"{label}: Bot API unreachable: {first_line(exc)}")
                continue
            if chat.type not in ("group", "supergroup"):
                found.problems.append(f"{label}: is a {chat.type}, not a group")
                continue
            if member.status in ("left", "kicked"):
                found.problems.append(f"{label}: the bot is not a member ({member.status})")
                continue
            found.notes.append(
                f"{label}: {chat.title!r} ({chat.type}, organisation {group.organisation}); "
                f"the bot is {member.status}"
            )
        if config.telegram.mode == "webhook":
            info = await bot.get_webhook_info()
            if info.url and info.url != config.telegram.webhook.url:
                found.warnings.append(
                    f"Telegram now posts to {info.url}; `run` will register "
                    f"{config.telegram.webhook.url}"
                )
            if info.last_error_message:
                found.warnings.append(
                    f"Telegram reports its last webhook delivery failed: {info.last_error_message}"
                )
    finally:
        await bot.session.close()


async def _database(config: Config, found: Findings) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from models.db import make_engine, sqlite_file
    from models.migrate import alembic_config

    label = database_label(config.database.url)
    database = sqlite_file(config.database.url)
    if database is not None and not database.exists():
        found.notes.append(f"database {label}: does not exist yet; `run` creates it")
        return
    engine = make_engine(config.database.url)
    try:

        def heads(connection) -> set[str]:  # type: ignore[no-untyped-def]
            return set(MigrationContext.configure(connection).get_current_heads())

        async with engine.connect() as connection:
            current = await connection.run_sync(heads)
    except Exception as exc:  # any driver's connection error
        found.problems.append(f"database {label} unavailable: {first_line(exc)}")
        return
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if not current:
        found.notes.append(f"database {label}: reachable, empty; `run` creates the tables")
    elif head in current:
        found.notes.append(f"database {label}: reachable, schema up to date")
    else:
        found.notes.append(f"database {label}: reachable; `run` applies the newer migrations")


async def redis_problem(config: Config) -> str | None:
    """Why the configured Redis cannot be used (one line), or None when it answers."""
    from redis.asyncio import from_url

    client = from_url(config.fsm.redis_url)
    try:
        await client.ping()
    except Exception as exc:  # redis' connection errors
        return (
            f"{config.path}: [fsm] redis_url: {safe_url(config.fsm.redis_url)} "
            f"unavailable: {first_line(exc)}"
        )
    finally:
        await client.aclose()
    return None


async def _redis(config: Config, found: Findings) -> None:
    problem = await redis_problem(config)
    if problem:
        found.problems.append(problem)
    else:
        found.notes.append(f"redis {safe_url(config.fsm.redis_url)}: reachable")
