"""The `corridor` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config import Config, ConfigError, load_config

log = logging.getLogger("corridor")
DEFAULT_CONFIG = "config.toml"


def _config_path(args: argparse.Namespace) -> str:
    return args.config or os.environ.get("CORRIDOR_CONFIG") or DEFAULT_CONFIG


def _load(args: argparse.Namespace) -> Config:
    return load_config(_config_path(args))


async def _with_engine(
    config: Config, work: Callable[..., Awaitable[int]], *, read_only: bool = False
) -> int:
    """Runs ``work(engine, sessions)``. ``read_only``: for commands that only read, while
    the bot may be running: SQLite is opened read-only, so the command never takes (or
    waits for) the write lock the bot's updates need, and the schema must be current
    (migrating is `corridor db upgrade`'s job, not a report's)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from bot.crypto import make_keyring
    from bot.errors import StartupError, safe_url
    from models.db import make_engine, make_sessionmaker
    from models.migrate import pending_revisions

    make_keyring(config)
    engine = make_engine(config.database.url, read_only=read_only)
    try:
        if read_only and await pending_revisions(engine):
            raise StartupError("the database schema is out of date: run `corridor db upgrade`")
        return await work(engine, make_sessionmaker(engine))
    except (OSError, OperationalError, DBAPIError) as exc:
        raise StartupError(f"database {safe_url(config.database.url)} unavailable: {exc}") from exc
    finally:
        await engine.dispose()


async def _write_briefly(config: Config, work: Callable[..., Awaitable[None]]) -> None:
    """One short write transaction, e.g. the audit record of a report read read-only."""

    async def run(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            await work(session)
        return 0

    await _with_engine(config, run)


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    print(
        f"{args.file}: OK ({len(config.corridors)} corridors, {len(config.organisations)} organisations, "
        f"{len(config.groups)} groups, {len(config.people)} people)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import build_app

    config = _load(args)
    if not config.telegram.token:
        raise ConfigError(
            f"{_config_path(args)}: [telegram] token: missing (or set CORRIDOR_TELEGRAM_TOKEN)"
        )

    async def main() -> None:
        app = await build_app(config, migrate=not args.no_migrate)
        if config.telegram.mode == "webhook":
            await app.run_webhook()
        else:
            await app.run_polling()

    asyncio.run(main())
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from models.migrate import upgrade

    async def work(engine, _sessions) -> int:  # type: ignore[no-untyped-def]
        await upgrade(engine)
        print("database is at the latest schema")
        return 0

    return asyncio.run(_with_engine(_load(args), work))


def cmd_network_sync(args: argparse.Namespace) -> int:
    from bot.domain.network import sync_network
    from models.migrate import upgrade

    config = load_config(args.file)

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        await upgrade(engine)
        async with sessions() as session:
            report = await sync_network(session, config)
            if args.dry_run:
                await session.rollback()
            else:
                await session.commit()
        for line in report.changes:
            print(line)
        verb = "would change" if args.dry_run else "changed"
        print(f"{len(report.changes)} {verb}" if report.changes else "network already up to date")
        return 0

    return asyncio.run(_with_engine(_load(args) if args.config else config, work))


def cmd_keys_generate(args: argparse.Namespace) -> int:
    from bot.crypto import generate_key

    print(generate_key())
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from bot.keys import rotate_all

    config = _load(args)

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        count = await rotate_all(sessions)
        print(f"re-encrypted {count} values with the newest key")
        if config.fsm.storage == "redis":
            from redis.asyncio import Redis

            from bot.crypto import active
            from bot.fsm import rotate_redis

            redis = Redis.from_url(config.fsm.redis_url)
            try:
                drafts = await rotate_redis(redis, active())
            finally:
                await redis.aclose()
            print(f"re-encrypted {drafts} draft values in Redis")
        return 0

    return asyncio.run(_with_engine(config, work))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from bot.domain.events import verify_chain

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session:
            count, broken = await verify_chain(session)
        if broken:
            print(f"audit trail BROKEN at events {broken[:20]} ({count} checked)")
            return 1
        print(f"audit trail intact ({count} events)")
        return 0

    return asyncio.run(_with_engine(_load(args), work, read_only=True))


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.digest_cli import print_or_send

    config = _load(args)
    return asyncio.run(print_or_send(config, send=args.send, person_id=args.person))


def cmd_export(args: argparse.Namespace) -> int:
    """Anonymised statistics (CSV or JSON), or with --full an encrypted full-detail file."""
    import datetime as dt
    import getpass

    from bot.domain import events
    from bot.domain.context import Domain
    from bot.domain.exports import (
        anonymised_rows,
        build_full_export,
        record_full_export,
        to_csv,
        to_json,
    )

    config = _load(args)
    if args.hxl and (args.format != "csv" or args.full):
        print("export: --hxl adds a row of HXL hashtags to a CSV export only", file=sys.stderr)
        return 2

    def day(value: str, flag: str) -> dt.date:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{flag}: {value!r} is not a date like 2026-01-31") from None

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        from bot.clock import SystemClock
        from bot.crypto import active

        domain = Domain(config=config, clock=SystemClock(), sessions=sessions, keys=active())
        # Read in a read-only transaction (the bot keeps working), recorded in the audit
        # trail in a short write transaction, and only then written out.
        async with sessions() as session:
            if args.full:
                passphrase = os.environ.get("CORRIDOR_EXPORT_PASSPHRASE") or getpass.getpass(
                    "Passphrase: "
                )
                full_detail_export_sync_guard(args.out)
                actor = f"cli:{getpass.getuser()}"
                blob, counts = await build_full_export(session, domain, passphrase, actor)
            else:
                k = (
                    config.statistics.k_public
                    if args.audience == "public"
                    else config.statistics.k_partner
                )
                result = await anonymised_rows(
                    session,
                    start=day(args.start, "--from"),
                    end=day(args.end, "--to"),
                    corridor=args.corridor,
                    audience=args.audience,
                    k=k,
                )
        if args.full:

            async def record_full(session) -> None:  # type: ignore[no-untyped-def]
                await record_full_export(session, domain, actor, blob, counts)

            await _write_briefly(config, record_full)
            write_output(args.out, blob)
            print(f"encrypted full export written to {args.out}", file=sys.stderr)
            return 0

        async def record(session) -> None:  # type: ignore[no-untyped-def]
            await events.record(
                session,
                domain,
                "export",
                actor="cli",
                data={
                    "format": args.format,
                    "audience": args.audience,
                    "corridor": args.corridor,
                    "from": args.start,
                    "to": args.end,
                    "cases": result.cases_included,
                },
            )

        await _write_briefly(config, record)
        text = to_csv(result, hxl=args.hxl) if args.format == "csv" else to_json(result)
        write_output(args.out, text)
        print(
            f"{result.cases_included} cases with statistics consent; {result.cells_suppressed} cells suppressed (k={k})",
            file=sys.stderr,
        )
        return 0

    try:
        return asyncio.run(_with_engine(config, work, read_only=True))
    except ValueError as error:
        print(f"export: {error}", file=sys.stderr)
        return 2
    except PermissionError as error:
        print(f"export: {error}", file=sys.stderr)
        return 2


def write_output(path: str | None, data: str | bytes) -> None:
    if path is None:
        sys.stdout.write(data if isinstance(data, str) else data.decode())
    elif isinstance(data, bytes):
        Path(path).write_bytes(data)
    else:
        Path(path).write_text(data, encoding="utf-8")


def full_detail_export_sync_guard(out: str | None) -> None:
    if not out:
        raise ValueError("--full needs --out FILE (the encrypted file is binary)")


def cmd_report(args: argparse.Namespace) -> int:
    """The corridor evidence report (PDF and HTML) into --out."""
    import datetime as dt

    from bot.domain import evidence

    config = _load(args)
    try:
        first = evidence.parse_month(args.start, "--from")
        last = evidence.parse_month(args.end, "--to")
        language = evidence.check_language(args.language)
    except evidence.ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    k = config.statistics.k_public if args.audience == "public" else config.statistics.k_partner

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        from bot.clock import SystemClock
        from bot.crypto import active
        from bot.domain import events
        from bot.domain.context import Domain

        domain = Domain(config=config, clock=SystemClock(), sessions=sessions, keys=active())
        # Built in a read-only transaction, recorded in a short write one (see export).
        async with sessions() as session:
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
        paths = evidence.save(report, Path(args.out))
        for path in paths:
            print(path)
        print(
            f"{report.cases if report.cases is not None else 'fewer than k'} cases; "
            f"{report.hidden} of {report.figures} figures suppressed (k={k})",
            file=sys.stderr,
        )
        return 0

    try:
        return asyncio.run(_with_engine(config, work, read_only=True))
    except evidence.ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2


def cmd_rollups_rebuild(args: argparse.Namespace) -> int:
    from bot.domain.rollups import rebuild

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            cases, rows = await rebuild(session)
        print(f"rollups rebuilt from {cases} cases: {rows} rows")
        return 0

    return asyncio.run(_with_engine(_load(args), work))


def cmd_network_dump(args: argparse.Namespace) -> int:
    from bot.domain.network_dump import dump_network

    async def work(engine, sessions) -> int:  # type: ignore[no-untyped-def]
        async with sessions() as session:
            text = await dump_network(session)
        write_output(args.out, text)
        return 0

    return asyncio.run(_with_engine(_load(args), work, read_only=True))


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(keep=Path(args.keep) if args.keep else None, quiet=args.quiet))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="corridor", description="Rapid-response bot for migrant workers in distress."
    )
    root.add_argument(
        "--config", help=f"configuration file (default: $CORRIDOR_CONFIG or {DEFAULT_CONFIG})"
    )
    root.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot (polling or webhook, as configured)")
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="refuse to start on an outdated schema instead of upgrading",
    )
    run.set_defaults(func=cmd_run)

    check = commands.add_parser("check-config", help="validate a configuration file and exit")
    check.add_argument("file")
    check.set_defaults(func=cmd_check_config)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    network = commands.add_parser("network", help="responder network").add_subparsers(
        dest="network_command", required=True
    )
    sync = network.add_parser("sync", help="load the network from a TOML file (idempotent)")
    sync.add_argument("file")
    sync.add_argument("--dry-run", action="store_true", help="only show what would change")
    sync.set_defaults(func=cmd_network_sync)

    dump = network.add_parser("dump", help="write the network in the database back as TOML")
    dump.add_argument("--out", help="file to write (default: standard output)")
    dump.set_defaults(func=cmd_network_dump)

    export = commands.add_parser(
        "export", help="anonymised statistics for advocacy (or --full for admins)"
    )
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
        help="every field, encrypted with a passphrase ($CORRIDOR_EXPORT_PASSPHRASE or prompt); recorded",
    )
    export.set_defaults(func=cmd_export)

    report = commands.add_parser(
        "report", help="corridor evidence report (PDF and HTML) from anonymised statistics"
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

    rollups = commands.add_parser("rollups", help="per-day statistics rollups").add_subparsers(
        dest="rollups_command", required=True
    )
    rollups.add_parser(
        "rebuild", help="recompute every rollup row from the cases (after a bulk import)"
    ).set_defaults(func=cmd_rollups_rebuild)

    keys = commands.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_command", required=True
    )
    keys.add_parser("generate", help="print a new key").set_defaults(func=cmd_keys_generate)
    keys.add_parser(
        "rotate", help="re-encrypt everything with the first configured key"
    ).set_defaults(func=cmd_keys_rotate)

    audit = commands.add_parser("audit", help="audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)

    digest = commands.add_parser("digest", help="build a coordinator digest now")
    digest.add_argument("--now", action="store_true", help="build it now (the default)")
    digest.add_argument(
        "--send", action="store_true", help="queue it to the coordinators instead of printing"
    )
    digest.add_argument("--person", help="only this coordinator id")
    digest.set_defaults(func=cmd_digest)

    demo = commands.add_parser("demo", help="offline demo against the built-in Bot API emulator")
    demo.add_argument(
        "--keep", metavar="DIR", help="leave the database, transcripts and files in DIR"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=cmd_demo)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic announces every plugin at INFO; operators only need its warnings.
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    if not getattr(args, "func", None):
        parser().print_help()
        return 2
    from bot.crypto import KeyError_
    from bot.errors import StartupError

    try:
        return args.func(args)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except (StartupError, KeyError_) as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
