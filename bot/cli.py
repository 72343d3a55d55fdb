"""The `corridor` command.

Every failure an operator can cause (a file, a key, a database, an argument) ends in one
line naming what is wrong and a non-zero exit status: 2 for the configuration or the
command line, 1 for everything else. Tracebacks are left for bugs."""

from __future__ import annotations

import argparse
import asyncio
import gc
import html
import importlib
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Literal, NoReturn

from bot.config import Config, ConfigError, load_config
from bot.errors import CommandError, StartupError, UsageError, first_line

log = logging.getLogger("corridor")
DEFAULT_CONFIG = "config.toml"
PASSPHRASE_VARIABLE = "CORRIDOR_EXPORT_PASSPHRASE"


# ---------------------------------------------------------------------------------------
# Configuration, databases and files
# ---------------------------------------------------------------------------------------


def _config_path(args: argparse.Namespace) -> str:
    return args.config or os.environ.get("CORRIDOR_CONFIG") or DEFAULT_CONFIG


def _load(args: argparse.Namespace) -> Config:
    path = _config_path(args)
    if path == DEFAULT_CONFIG and not Path(path).exists():
        raise ConfigError(
            f"{DEFAULT_CONFIG}: file not found in {Path.cwd()} "
            "(give --config FILE or set CORRIDOR_CONFIG)"
        )
    return load_config(path)


def _database_label(config: Config) -> str:
    from bot.checks import database_label

    return database_label(config.database.url)


async def _schema(engine) -> tuple[set[str], list[str]]:  # type: ignore[no-untyped-def]
    """(revisions the database is at, revisions still to apply)."""
    from alembic.runtime.migration import MigrationContext

    from models.migrate import pending_revisions

    def current(connection) -> set[str]:  # type: ignore[no-untyped-def]
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        heads = await connection.run_sync(current)
    return heads, await pending_revisions(engine)


Schema = Literal["required", "upgrade"]


async def _with_engine(
    config: Config,
    work: Callable[..., Awaitable[int]],
    *,
    schema: Schema = "required",
    keys: bool = True,
    read_only: bool = False,
) -> int:
    """Runs ``work(engine, sessions)`` on the configured database. ``required``: the
    database must exist and be at the latest schema (a command that only reads never
    creates an empty database by mistake); ``upgrade``: it is created or migrated first.
    ``read_only``: for commands that only read, while the bot may be running: SQLite is
    opened read-only, so the command never takes (or waits for) the write lock the bot's
    updates need; PostgreSQL transactions are read-only."""
    from sqlalchemy.exc import DBAPIError

    from bot.crypto import make_keyring
    from models.db import make_engine, make_sessionmaker, sqlite_file
    from models.migrate import upgrade

    if read_only and schema == "upgrade":
        raise ValueError("a read-only command cannot migrate the database")
    if keys:
        try:
            make_keyring(config)
        except StartupError as error:
            raise CommandError(str(error)) from None
    label = _database_label(config)
    database = sqlite_file(config.database.url)
    if database is not None:
        if not database.resolve().parent.is_dir():
            raise CommandError(
                f"database {label}: the folder {database.resolve().parent} does not exist"
                f" (relative paths in {config.path} are relative to its folder)"
            )
        if schema == "required" and not database.exists():
            raise CommandError(
                f"database {label} does not exist (relative paths in {config.path} are "
                "relative to its folder); `corridor run` or `corridor db upgrade` creates it"
            )
    engine = make_engine(config.database.url, read_only=read_only)
    try:
        try:
            heads, pending = await _schema(engine)
            if schema == "upgrade":
                await upgrade(engine)
        except (OSError, DBAPIError) as exc:
            raise CommandError(f"database {label} unavailable: {first_line(exc)}") from None
        if schema == "required" and pending:
            if not heads:
                raise CommandError(
                    f"database {label} holds no Corridor tables: is it the right database? "
                    "(`corridor db upgrade` creates them)"
                )
            raise CommandError(
                f"database {label} is {len(pending)} migrations behind: run `corridor db upgrade`"
            )
        try:
            return await work(engine, make_sessionmaker(engine))
        except DBAPIError as exc:
            raise CommandError(f"database {label}: {first_line(exc)}") from None
    finally:
        await engine.dispose()


def _check_output(path: str | None) -> None:
    """Fails before any work when ``--out`` cannot be written."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--out {path}: is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"--out {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--out {path}: the folder {folder} is not writable")


def write_output(path: str | None, data: str | bytes) -> None:
    if path is None:
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        return
    try:
        if isinstance(data, bytes):
            Path(path).write_bytes(data)
        else:
            Path(path).write_text(data, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def _passphrase(purpose: str, *, confirm: bool) -> str:
    """From CORRIDOR_EXPORT_PASSPHRASE, else asked on the terminal; never read from a pipe."""
    import getpass

    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given:
        return given
    if not sys.stdin.isatty():
        raise UsageError(f"{purpose}: set {PASSPHRASE_VARIABLE} (there is no terminal to ask on)")
    try:
        first = getpass.getpass("Passphrase: ")
        if confirm and getpass.getpass("Passphrase again: ") != first:
            raise UsageError("the two passphrases differ")
    except EOFError:
        raise UsageError("no passphrase given") from None
    return first


async def _write_briefly(config: Config, work: Callable[..., Awaitable[None]]) -> None:
    """One short write transaction, e.g. the audit record of a report read read-only."""

    async def run(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            await work(session)
        return 0

    await _with_engine(config, run)


# ---------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    """Checks what `run` would: the file and environment, and with --live the Bot API, every
    group, the database and Redis. Problems go to stderr, one line each."""
    from bot.checks import live, readiness

    path = args.file or _config_path(args)
    config = load_config(path)
    found = readiness(config)
    if found.problems:
        raise ConfigError(found.problems)
    if args.live:
        asyncio.run(live(config, found))
    for line in found.notes:
        print(line)
    for line in found.warnings:
        print(f"warning: {line}", file=sys.stderr)
    if found.problems:
        for line in found.problems:
            print(f"check-config: {line}", file=sys.stderr)
        return 1
    print(f"{path}: OK" + (" (live checks passed)" if args.live else ""))
    return 0


async def _network_source(session) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
    """(file, when) of the last network change recorded in the audit trail."""
    from sqlalchemy import select

    from models import CaseEvent

    event = await session.scalar(
        select(CaseEvent)
        .where(CaseEvent.kind == "network_sync")
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    return str(event.data.get("source", "?")), f"{event.at:%Y-%m-%d %H:%M} UTC"


def _source(config: Config) -> str:
    return str(Path(config.path).resolve())


async def _apply_network(  # type: ignore[no-untyped-def]
    session, config: Config, actor: str, *, source: str, record: bool = True
):
    """Makes the database's network match ``config`` and records, in the audit trail, that
    ``source`` did."""
    from bot.app import make_domain
    from bot.domain import events
    from bot.domain.network import sync_network

    report = await sync_network(session, config)
    if report.changes and record:
        domain = make_domain(config, None)
        await events.record(
            session,
            domain,
            "network_sync",
            actor=actor,
            data={"source": source, "changes": len(report.changes)},
        )
    return report


async def prepare_database(config: Config, *, migrate: bool, source: str) -> None:
    """What `run` does before the bot starts: say which database it uses (and whether it is
    new), bring the schema up to date, and apply the file's network, logging every change.

    The configuration file is the network's single source of truth: whatever `network
    sync` loaded from another file is undone here, and said so."""
    from sqlalchemy.exc import DBAPIError

    from bot.crypto import make_keyring
    from models.db import make_engine, make_sessionmaker, sqlite_file
    from models.migrate import upgrade

    make_keyring(config)
    database = sqlite_file(config.database.url)
    # A URL from the environment is the operator's own, given as is: named, not repeated.
    if os.environ.get("CORRIDOR_DATABASE_URL"):
        label, hint = "from CORRIDOR_DATABASE_URL", ""
    else:
        label = _database_label(config)
        hint = f" (relative paths in {config.path} are relative to its folder)"
    if database is not None and not database.exists():
        log.warning("database %s does not exist: starting a new, empty one%s", label, hint)
    else:
        log.info("database %s", label)
    engine = make_engine(config.database.url)
    try:
        try:
            _heads, pending = await _schema(engine)
            if pending and migrate:
                await upgrade(engine)
                log.info("database schema upgraded (%d migrations)", len(pending))
        except (OSError, DBAPIError) as exc:
            raise StartupError(f"database {label} unavailable: {first_line(exc)}") from None
        if pending and not migrate:
            raise StartupError(
                f"the database schema is {len(pending)} migrations behind: run "
                "`corridor db upgrade`"
            )
        async with make_sessionmaker(engine)() as session, session.begin():
            previous = await _network_source(session)
            report = await _apply_network(session, config, "cli:run", source=source)
        if not report.changes:
            log.info("network: the database already matches %s", config.path)
            return
        if previous is not None and previous[0] != source:
            log.warning(
                "network: %s is the source of truth, so `run` undoes the network loaded from "
                "%s on %s (to keep that, put it in %s)",
                config.path,
                previous[0],
                previous[1],
                config.path,
            )
        log.info("network: applying %d changes from %s", len(report.changes), config.path)
        for line in report.changes:
            log.info("network: %s", line)
    finally:
        await engine.dispose()


def keep_out_of_garbage_collection() -> None:
    """What the process has built by now (the libraries, the app, the kept network) lives as
    long as it does: Python's full garbage collections skip it from here on. They went over
    these 280,000 objects each time, 0.3 s on a small machine, during which no update was
    handled."""
    gc.collect()
    gc.freeze()


def cmd_run(args: argparse.Namespace) -> int:
    from bot.checks import readiness

    config = _load(args)
    found = readiness(config)
    if found.problems:
        raise ConfigError(found.problems)
    for line in found.warnings:
        log.warning("%s", line)
    source = _source(config)

    async def main() -> None:
        from bot.app import build_app
        from bot.checks import redis_problem

        # Drafts and the per-chat lock live there: without it every update would fail.
        if config.fsm.storage == "redis" and (problem := await redis_problem(config)):
            raise StartupError(problem)
        loop = asyncio.get_running_loop()
        log.info("event loop: %s", type(loop).__module__.partition(".")[0])
        await prepare_database(config, migrate=not args.no_migrate, source=source)
        app = await build_app(config, migrate=not args.no_migrate)
        keep_out_of_garbage_collection()
        if config.telegram.mode == "webhook":
            await app.run_webhook()
        else:
            await app.run_polling()

    run_serving(main())
    return 0


def run_serving(work: Coroutine[Any, Any, None]) -> None:
    """The running bot's loop is uvloop's where it is installed (Linux, macOS), asyncio's own
    elsewhere. uvloop runs the loop and its sockets in C: about a tenth less CPU per report
    step on SQLite in bench/process_ratio.py (no difference measured on PostgreSQL)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(work)
        return
    uvloop.run(work)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    config = _load(args)

    async def work(engine, _sessions) -> int:  # type: ignore[no-untyped-def]
        print(f"database {_database_label(config)} is at the latest schema")
        return 0

    return asyncio.run(_with_engine(config, work, schema="upgrade", keys=False))


def cmd_db_backup(args: argparse.Namespace) -> int:
    """An online copy of a SQLite database (safe while the bot runs)."""
    import sqlite3

    from models.db import sqlite_file

    config = _load(args)
    source = sqlite_file(config.database.url)
    if source is None:
        raise UsageError(
            "db backup copies SQLite databases; for PostgreSQL use pg_dump (README: Runbook)"
        )
    source = source.resolve()
    target = Path(args.file)
    if not source.exists():
        raise CommandError(f"database {source} does not exist")
    if target.exists():
        raise UsageError(f"{target} already exists: give a new file name")
    if not target.parent.is_dir():
        raise UsageError(f"{target}: the folder {target.parent} does not exist")
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reader:
            writer = sqlite3.connect(target)
            try:
                reader.backup(writer)
            finally:
                writer.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise CommandError(f"backup of {source} to {target} failed: {exc}") from None
    print(f"database {source} copied to {target} ({target.stat().st_size} bytes)")
    return 0


def cmd_network_sync(args: argparse.Namespace) -> int:
    import getpass

    file_config = load_config(args.file)
    # The database comes from the running configuration when one is named, else the file.
    named = args.config or os.environ.get("CORRIDOR_CONFIG")
    runtime = load_config(named) if named else file_config
    source = _source(file_config)
    elsewhere = bool(named) and _source(runtime) != source

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session:
            report = await _apply_network(
                session,
                file_config,
                f"cli:{getpass.getuser()}",
                source=source,
                record=not args.dry_run,
            )
            if args.dry_run:
                await session.rollback()
            else:
                await session.commit()
        for line in report.changes:
            print(line)
        verb = "would change" if args.dry_run else "changed"
        print(f"{len(report.changes)} {verb}" if report.changes else "network already up to date")
        if elsewhere and report.changes:
            print(
                f"note: `corridor run` applies the network of {named} at every start, which "
                f"would undo this: make the same change in {named}"
            )
        return 0

    return asyncio.run(_with_engine(runtime, work, schema="upgrade"))


def cmd_network_dump(args: argparse.Namespace) -> int:
    from bot.domain.network_dump import dump_network

    _check_output(args.out)

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session:
            text = await dump_network(session)
        write_output(args.out, text)
        return 0

    return asyncio.run(_with_engine(_load(args), work, read_only=True))


def cmd_keys_generate(args: argparse.Namespace) -> int:
    from bot.crypto import generate_key

    print(generate_key())
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from cryptography.fernet import InvalidToken

    from bot.crypto import keys_from
    from bot.keys import RotationIncomplete, rotate_all

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        try:
            count = await rotate_all(sessions)
        except RotationIncomplete as exc:
            raise CommandError(f"{exc}: run `corridor keys rotate` again") from None
        except InvalidToken:
            raise CommandError(
                "a stored value was encrypted with a key that is not configured: put the old "
                "key after the new one in CORRIDOR_ENCRYPTION_KEYS (newest first) and run "
                "`corridor keys rotate` again (values already re-encrypted stay readable)"
            ) from None
        print(f"re-encrypted {count} values with the newest key")
        configured = keys_from(config.security.encryption_keys, config.security.key_file)
        if not config.security.hash_key and len(configured) > 1:
            print(
                "note: no hash key is set, so Telegram ids are pseudonymised with the oldest "
                "key in the list: set CORRIDOR_HASH_KEY to that key before you remove it, or "
                "returning reporters are no longer recognised"
            )
        if config.fsm.storage == "redis":
            await _rotate_drafts(config)
        return 0

    config = _load(args)
    return asyncio.run(_with_engine(config, work))


async def _rotate_drafts(config: Config) -> None:
    """Drafts kept in Redis are encrypted too: re-encrypted with the newest key."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from bot.crypto import active
    from bot.fsm import rotate_redis

    redis = Redis.from_url(config.fsm.redis_url)
    try:
        drafts = await rotate_redis(redis, active())
    except RedisError as exc:
        raise CommandError(
            f"drafts in Redis not re-encrypted ({first_line(exc)}): run `corridor keys rotate` "
            "again once Redis is reachable"
        ) from None
    finally:
        await redis.aclose()
    print(f"re-encrypted {drafts} draft values in Redis")


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from bot.domain.events import unlinked_count, verify_chain

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session:
            count, broken = await verify_chain(session)
            waiting = await unlinked_count(session)
        if broken:
            print(f"audit trail BROKEN at events {broken[:20]} ({count} checked)")
            return 1
        later = f"; {waiting} recorded since, linked by the running bot" if waiting else ""
        print(f"audit trail intact ({count} events{later})")
        return 0

    return asyncio.run(_with_engine(_load(args), work, read_only=True))


def plain_text(telegram_html: str) -> str:
    """Telegram's HTML as text for a terminal: links keep their address, tags go."""
    text = re.sub(
        r'<a\s+href="([^"]*)"\s*>(.*?)</a>',
        lambda m: m.group(2) if m.group(1) in m.group(2) else f"{m.group(2)} ({m.group(1)})",
        telegram_html,
        flags=re.DOTALL,
    )
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.digest_cli import print_or_send

    config = _load(args)
    out = Path(args.out) if args.out else None
    if out is not None:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: is a file; give a folder")
        if not out.exists():
            if not out.parent.is_dir():
                raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
            out.mkdir()

    # Built in a read-only transaction (the bot keeps working); with --send, queued in a
    # short write transaction per digest.
    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async def run(writer=None) -> int:  # type: ignore[no-untyped-def]
            return await print_or_send(
                config,
                sessions,
                send=args.send,
                person_id=args.person,
                out=out,
                render=(lambda text: text) if args.html else plain_text,
                writer=writer,
            )

        if not args.send:
            return await run()

        async def queue(_engine, writer) -> int:  # type: ignore[no-untyped-def]
            return await run(writer)

        return await _with_engine(config, queue)

    return asyncio.run(_with_engine(config, work, read_only=True))


def _day(value: str, flag: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag}: {value!r} is not a date like 2026-01-31") from None


def cmd_export(args: argparse.Namespace) -> int:
    """Anonymised statistics (CSV or JSON), or with --full an encrypted full-detail file."""
    if args.hxl and (args.format != "csv" or args.full):
        raise UsageError("--hxl adds a row of HXL hashtags to a CSV export only")
    if args.full:
        return _export_full(args)
    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if start > end:
        raise UsageError(f"--from {args.start} is after --to {args.end}")
    _check_output(args.out)
    config = _load(args)

    from bot.app import make_domain
    from bot.domain.exports import anonymised_rows, record_export, threshold, to_csv, to_json

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        from models import Corridor

        domain = make_domain(config, sessions)
        k = threshold(config.statistics, args.audience)
        # Read in a read-only transaction (the bot keeps working), recorded in the audit
        # trail in a short write transaction, and only then written out.
        async with sessions() as session, session.begin():
            if args.corridor:
                known = sorted(await session.scalars(select(Corridor.code)))
                if args.corridor not in known:
                    raise UsageError(
                        f"--corridor {args.corridor}: no such corridor (known: "
                        f"{', '.join(known) or 'none'})"
                    )
            result = await anonymised_rows(
                session, start=start, end=end, corridor=args.corridor, audience=args.audience, k=k
            )

        async def record(session) -> None:  # type: ignore[no-untyped-def]
            await record_export(
                session,
                domain,
                "cli",
                fmt=args.format,
                audience=args.audience,
                results=[result],
                start=start,
                end=end,
            )

        await _write_briefly(config, record)
        text = to_csv(result, hxl=args.hxl) if args.format == "csv" else to_json(result)
        write_output(args.out, text)
        print(
            f"{result.cases_included} cases with statistics consent; {result.cells_suppressed} "
            f"cells suppressed (k={k})",
            file=sys.stderr,
        )
        return 0

    return asyncio.run(_with_engine(config, work, read_only=True))


def _export_full(args: argparse.Namespace) -> int:
    import getpass

    from bot.app import make_domain
    from bot.domain.exports import MIN_PASSPHRASE, build_full_export, record_full_export

    if not args.out:
        raise UsageError("--full needs --out FILE (the encrypted file is binary)")
    _check_output(args.out)
    config = _load(args)
    passphrase = _passphrase("--full needs a passphrase", confirm=True)
    if len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]

        domain = make_domain(config, sessions)
        actor = f"cli:{getpass.getuser()}"
        # Read in a read-only transaction (the bot keeps working); the file is written
        # before its audit event (no event for a file that was never written), and removed
        # again when the event cannot be recorded (no export the audit trail misses).
        async with sessions() as session, session.begin():
            blob, counts = await build_full_export(session, domain, passphrase, actor)
        write_output(args.out, blob)

        async def record(session) -> None:  # type: ignore[no-untyped-def]
            await record_full_export(session, domain, actor, blob, counts)

        try:
            await _write_briefly(config, record)
        except BaseException:
            await asyncio.to_thread(Path(args.out).unlink, missing_ok=True)
            raise
        print(
            f"encrypted full export written to {args.out}; `corridor export decrypt "
            f"{args.out}` reads it",
            file=sys.stderr,
        )
        return 0

    return asyncio.run(_with_engine(config, work, read_only=True))


def cmd_export_decrypt(args: argparse.Namespace) -> int:
    """The JSON inside a full export, given its passphrase."""
    import json

    from bot.domain.exports import ExportDecryptionError, decrypt_full_export

    source = Path(args.file)
    _check_output(args.out)
    try:
        blob = source.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise CommandError(f"{source}: is a folder") from None
    except OSError as exc:
        raise CommandError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    passphrase = _passphrase("a passphrase is needed", confirm=False)
    try:
        document = decrypt_full_export(blob, passphrase)
    except ExportDecryptionError as error:
        raise CommandError(f"{source}: {error}") from None
    except ValueError:  # decrypted, but not JSON: not a full export
        raise CommandError(f"{source}: not a Corridor full export") from None
    write_output(args.out, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    if args.out:
        print(
            f"{len(document.get('cases', []))} cases decrypted to {args.out}: it holds "
            "personal data in clear; delete it when done",
            file=sys.stderr,
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The corridor evidence report (PDF and HTML) into --out."""
    import datetime as dt

    from bot.domain import evidence

    try:
        first = evidence.parse_month(args.start, "--from")
        last = evidence.parse_month(args.end, "--to")
        language = evidence.check_language(args.language)
    except evidence.ReportError as error:
        raise UsageError(str(error)) from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; give a folder")
    if not out.exists() and not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    config = _load(args)
    from bot.domain.exports import threshold

    k = threshold(config.statistics, args.audience)

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        from bot.app import make_domain
        from bot.domain import events

        domain = make_domain(config, sessions)
        async with sessions() as session, session.begin():
            try:
                report = await evidence.build(
                    session,
                    corridor=args.corridor,
                    first=first,
                    last=last,
                    audience=args.audience,
                    language=language,
                    k=k,
                    pattern_threshold=config.statistics.pattern_threshold,
                    today=dt.date.today(),
                )
            except evidence.ReportError as error:
                raise UsageError(str(error)) from None

        # Built in a read-only transaction, recorded in a short write one (see export).
        async def record(session) -> None:  # type: ignore[no-untyped-def]
            await events.record(
                session,
                domain,
                "report",
                actor="cli",
                data={
                    "corridor": args.corridor,
                    "from": args.start,
                    "to": args.end,
                    "audience": args.audience,
                    "language": language,
                },
            )

        await _write_briefly(config, record)
        try:
            paths = evidence.save(report, out)
        except OSError as exc:
            raise CommandError(f"cannot write into {out}: {exc.strerror or exc}") from None
        for path in paths:
            print(path)
        print(
            f"{report.cases if report.cases is not None else 'fewer than k'} cases; "
            f"{report.hidden} of {report.figures} figures suppressed (k={k})",
            file=sys.stderr,
        )
        return 0

    return asyncio.run(_with_engine(config, work, read_only=True))


def cmd_rollups_rebuild(args: argparse.Namespace) -> int:
    from bot.domain.rollups import rebuild

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            cases, rows = await rebuild(session)
        print(f"rollups rebuilt from {cases} cases: {rows} rows")
        return 0

    return asyncio.run(_with_engine(_load(args), work))


def cmd_example_config(args: argparse.Namespace) -> int:
    """The documented example configuration, as shipped in the package."""
    from bot.config import EXAMPLE_CONFIG

    _check_output(args.out)
    if args.out and Path(args.out).exists():
        raise UsageError(f"--out {args.out}: already exists; choose a new name")
    write_output(args.out, EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    if args.out:
        print(f"wrote {args.out}: describe your network in it, then `corridor check-config`")
    return 0


# The demo and the sandbox live in separate distributions (devtools/, emulator/) that a
# production install leaves out.
DEV_TOOLING = ("corridor_dev", "tgemulator")


def _dev_tooling(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as missing:
        if (missing.name or "").partition(".")[0] not in DEV_TOOLING:
            raise
        raise CommandError(
            f"needs Corridor's development tools, which this installation lacks "
            f"({missing.name}); in a checkout: `make setup`, or "
            f"`pip install -e ./emulator -e ./devtools`"
        ) from None


def cmd_demo(args: argparse.Namespace) -> int:
    run_demo = _dev_tooling("corridor_dev.demo").run_demo

    keep = Path(args.keep) if args.keep else None
    if keep is not None and keep.exists() and not keep.is_dir():
        raise UsageError(f"--keep {keep}: is a file; give a folder")
    if keep is not None and not keep.parent.is_dir():
        raise UsageError(f"--keep {keep}: the folder {keep.parent} does not exist")
    return asyncio.run(run_demo(keep=keep, quiet=args.quiet))


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """Usage errors in one line, with where to look for help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _global_options(*, after_command: bool) -> argparse.ArgumentParser:
    """Global options. The root parser has them with real defaults; every command has them
    too, defaulting to nothing, so they may also follow the command (`corridor run
    --config x`) without undoing what came before it."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--config",
        default=argparse.SUPPRESS if after_command else None,
        help=f"configuration file (default: $CORRIDOR_CONFIG or {DEFAULT_CONFIG})",
    )
    options.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS if after_command else False,
        help="also log the migrations' and the webhook server's routine lines, and debug lines",
    )
    return options


def cmd_sandbox(args: argparse.Namespace) -> int:
    serve = _dev_tooling("corridor_dev.sandbox.run").serve

    return asyncio.run(serve(args.port, open_browser=not args.no_browser))


def parser() -> argparse.ArgumentParser:
    common = _global_options(after_command=True)
    root = Parser(
        prog="corridor",
        description="Rapid-response bot for migrant workers in distress.",
        parents=[_global_options(after_command=False)],
    )
    commands = root.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def command(group: Any, name: str, help: str) -> argparse.ArgumentParser:
        return group.add_parser(name, help=help, description=help, parents=[common])

    run = command(commands, "run", "run the bot (polling or webhook, as configured)")
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="refuse to start on an outdated schema instead of upgrading",
    )
    run.set_defaults(func=cmd_run)

    check = command(
        commands, "check-config", "check everything `run` needs, then exit (0 when all is well)"
    )
    check.add_argument("file", nargs="?", help="the file (default: --config, as for run)")
    check.add_argument(
        "--live",
        action="store_true",
        help="also reach the Bot API (getMe), every configured group (getChat), the database "
        "and Redis",
    )
    check.set_defaults(func=cmd_check_config)

    db = command(commands, "db", "database schema and backups").add_subparsers(
        dest="db_command", required=True, metavar="upgrade|backup", parser_class=Parser
    )
    command(db, "upgrade", "create the database or apply migrations").set_defaults(
        func=cmd_db_upgrade
    )
    backup = command(db, "backup", "online copy of the SQLite database to a new file")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_db_backup)

    network = command(commands, "network", "responder network").add_subparsers(
        dest="network_command", required=True, metavar="sync|dump", parser_class=Parser
    )
    sync = command(network, "sync", "apply a TOML file's network now, printing the diff")
    sync.add_argument("file")
    sync.add_argument("--dry-run", action="store_true", help="only show what would change")
    sync.set_defaults(func=cmd_network_sync)

    dump = command(network, "dump", "write the network in the database back as TOML")
    dump.add_argument("--out", help="file to write (default: standard output)")
    dump.set_defaults(func=cmd_network_dump)

    export = command(commands, "export", "anonymised statistics (--full: everything, encrypted)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--from", dest="start", default="2000-01-01", help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", default="2100-12-31", help="last day, YYYY-MM-DD")
    export.add_argument("--corridor", help="one corridor code, e.g. NP-QA")
    export.add_argument(
        "--audience",
        choices=("public", "partner"),
        default="public",
        help="public: k=10 suppression; partner: k=5 (see [statistics])",
    )
    export.add_argument("--out", help="file to write (default: standard output)")
    export.add_argument(
        "--hxl",
        action="store_true",
        help="add a row of HXL hashtags under the CSV header (for humanitarian data tools)",
    )
    export.add_argument(
        "--full",
        action="store_true",
        help=f"every field, encrypted with a passphrase (${PASSPHRASE_VARIABLE} or asked); "
        "recorded in the audit trail",
    )
    export.set_defaults(func=cmd_export)
    export_commands = export.add_subparsers(
        dest="export_command", metavar="decrypt", parser_class=Parser
    )
    decrypt = command(export_commands, "decrypt", "decrypt a full export to JSON")
    decrypt.add_argument("file")
    decrypt.add_argument("--out", help="file to write (default: standard output)")
    decrypt.set_defaults(func=cmd_export_decrypt)

    report = command(
        commands, "report", "corridor evidence report (PDF and HTML) from anonymised statistics"
    )
    report.add_argument("--corridor", required=True, help="corridor code, e.g. NP-QA")
    report.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    report.add_argument("--to", dest="end", required=True, help="last month, YYYY-MM")
    report.add_argument(
        "--audience",
        choices=("public", "partner"),
        default="public",
        help="public: k=10, no names; partner: k=5, repeated names allowed (see [statistics])",
    )
    report.add_argument("--language", default="en", help="report language (default: en)")
    report.add_argument("--out", required=True, metavar="DIR", help="folder for the two files")
    report.set_defaults(func=cmd_report)

    rollups = command(commands, "rollups", "per-day statistics rollups").add_subparsers(
        dest="rollups_command", required=True, metavar="rebuild", parser_class=Parser
    )
    command(
        rollups, "rebuild", "recompute every rollup row from the cases (after a bulk import)"
    ).set_defaults(func=cmd_rollups_rebuild)

    keys = command(commands, "keys", "encryption keys").add_subparsers(
        dest="keys_command", required=True, metavar="generate|rotate", parser_class=Parser
    )
    command(keys, "generate", "print a new key").set_defaults(func=cmd_keys_generate)
    command(keys, "rotate", "re-encrypt everything with the first configured key").set_defaults(
        func=cmd_keys_rotate
    )

    audit = command(commands, "audit", "audit trail").add_subparsers(
        dest="audit_command", required=True, metavar="verify", parser_class=Parser
    )
    command(audit, "verify", "check the hash chain").set_defaults(func=cmd_audit_verify)

    digest = command(commands, "digest", "build every coordinator's digest now")
    digest.add_argument("--now", action="store_true", help="build it now (the default)")
    digest.add_argument(
        "--send", action="store_true", help="queue it to the coordinators instead of printing"
    )
    digest.add_argument("--person", help="only this coordinator id")
    digest.add_argument(
        "--out", metavar="DIR", help="also write each digest's text and chart into DIR"
    )
    digest.add_argument(
        "--html", action="store_true", help="print Telegram's HTML instead of plain text"
    )
    digest.set_defaults(func=cmd_digest)

    example = command(
        commands, "example-config", "print the documented example configuration (or --out FILE)"
    )
    example.add_argument("--out", help="new file to write (default: standard output)")
    example.set_defaults(func=cmd_example_config)

    demo = command(commands, "demo", "offline demo against the built-in Bot API emulator")
    demo.add_argument(
        "--keep", metavar="DIR", help="leave the database, transcripts and files in DIR"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=cmd_demo)

    sandbox = commands.add_parser(
        "sandbox",
        help="try Corridor in the browser: several people's chats, a clock, guided stories",
        description="Runs the bot against the built-in emulator with a fresh database and the "
        "example network, and serves a web page on 127.0.0.1 only. Nothing goes to Telegram.",
    )
    sandbox.add_argument(
        "--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free)"
    )
    sandbox.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser window (none opens anyway without a display)",
    )
    sandbox.set_defaults(func=cmd_sandbox)
    return root


# Libraries whose routine INFO lines drown what matters: the migrations' two lines at every
# start, the webhook server's line per request, aiogram's per update, fontTools' 200 per
# evidence report (and APScheduler's two per tick, should it come back as a dependency of a
# dependency).
ROUTINE_LOGGERS = ("apscheduler", "alembic", "aiohttp.access", "aiogram.event", "fontTools")


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in ROUTINE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    if verbose:
        for name in ("corridor", "bot", "handlers", "models"):
            logging.getLogger(name).setLevel(logging.DEBUG)


def _command_name(args: argparse.Namespace) -> str:
    words = [args.command, getattr(args, f"{args.command.replace('-', '_')}_command", None)]
    return " ".join(word for word in words if word)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser().print_help()
        return 2
    from bot.crypto import KeyError_

    name = _command_name(args)
    try:
        return args.func(args)
    except ConfigError as error:
        for line in error.problems:
            print(f"configuration error: {line}", file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    except (CommandError, KeyError_) as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 1
    except StartupError as error:
        print(
            f"cannot start: {error}" if args.command == "run" else f"{name}: {error}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
