"""Bad input to the `corridor` command: one line naming what is wrong, a non-zero exit,
never a traceback. The command runs through its real entry point (``main``) on real files;
one test runs it as a process, with no terminal, as cron or systemd would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import crypto
from bot.app import make_domain
from bot.cli import main, parser
from bot.config import load_config
from bot.domain import cases, network
from tests.support import EXAMPLE, ROOT, wage_report

ENVIRONMENT = (
    "CORRIDOR_CONFIG",
    "CORRIDOR_TELEGRAM_TOKEN",
    "CORRIDOR_DATABASE_URL",
    "CORRIDOR_ENCRYPTION_KEYS",
    "CORRIDOR_HASH_KEY",
    "CORRIDOR_EXPORT_PASSPHRASE",
    "CORRIDOR_WEBHOOK_SECRET",
    "CORRIDOR_TELEGRAM_API_BASE_URL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = crypto.generate_key()
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", value)
    return value


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The example configuration in a folder of its own (its database beside it)."""
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(EXAMPLE.read_text())
    return path


def corridor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


async def seed_case(config_path: Path, key: str) -> None:
    """One case with encrypted fields, written with ``key``."""
    from bot.clock import FakeClock
    from models.db import make_engine, make_sessionmaker
    from models.migrate import upgrade

    config = load_config(config_path, environ={"CORRIDOR_ENCRYPTION_KEYS": key})
    ring = crypto.KeyRing([key], "")
    crypto.install(ring)
    engine = make_engine(config.database.url)
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        domain = make_domain(config, sessions, clock=FakeClock(), keys=ring)
        async with sessions() as session, session.begin():
            await network.sync_network(session, config)
            reporter = await cases.reporter_for(session, domain, 4242, 4242, "en")
            await cases.submit_report(session, domain, reporter, wage_report())
    finally:
        await engine.dispose()


# --- keys ---------------------------------------------------------------------------


def test_keys_rotate_without_the_old_key_names_the_missing_key(
    capsys, config: Path, key: str, monkeypatch
) -> None:
    asyncio.run(seed_case(config, key))
    new = crypto.generate_key()
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", new)
    code, _, err = corridor(capsys, "--config", str(config), "keys", "rotate")
    line = one_line(err)
    assert code == 1
    assert line.startswith("keys rotate: ")
    assert "not configured" in line and "CORRIDOR_ENCRYPTION_KEYS" in line
    # With the old key behind the new one, the rotation goes through.
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", f"{new},{key}")
    code, out, _ = corridor(capsys, "--config", str(config), "keys", "rotate")
    assert code == 0 and "re-encrypted" in out
    assert "CORRIDOR_HASH_KEY" in out  # the pseudonyms still hang on the old key


def test_no_encryption_key_is_one_line(capsys, config: Path) -> None:
    code, _, err = corridor(capsys, "--config", str(config), "keys", "rotate")
    assert code == 1 and "no encryption key" in one_line(err)


# --- export -------------------------------------------------------------------------


def test_full_export_without_terminal_or_passphrase(capsys, config: Path, key: str) -> None:
    asyncio.run(seed_case(config, key))
    out = config.parent / "full.bin"
    code, _, err = corridor(capsys, "--config", str(config), "export", "--full", "--out", str(out))
    line = one_line(err)
    assert code == 2
    assert "CORRIDOR_EXPORT_PASSPHRASE" in line and "no terminal" in line
    assert not out.exists()


def test_full_export_then_decrypt(capsys, config: Path, key: str, monkeypatch) -> None:
    import json

    asyncio.run(seed_case(config, key))
    blob = config.parent / "full.bin"
    monkeypatch.setenv("CORRIDOR_EXPORT_PASSPHRASE", "short")
    code, _, err = corridor(capsys, "--config", str(config), "export", "--full", "--out", str(blob))
    assert code == 2 and "at least 12 characters" in one_line(err)
    monkeypatch.setenv("CORRIDOR_EXPORT_PASSPHRASE", "correct horse battery")
    code, _, err = corridor(capsys, "--config", str(config), "export", "--full", "--out", str(blob))
    assert code == 0 and blob.read_bytes()[:16] != b"{"
    # To standard output, or to a file.
    code, out, _ = corridor(capsys, "export", "decrypt", str(blob))
    assert code == 0
    document = json.loads(out)
    assert document["format"] == "corridor-full-export/1"
    assert document["cases"][0]["employer"] == "Al Noor Contracting"
    plain = config.parent / "full.json"
    code, _, err = corridor(capsys, "export", "decrypt", str(blob), "--out", str(plain))
    assert code == 0 and json.loads(plain.read_text()) == document
    assert "personal data" in err
    # Wrong passphrase, a file that is not an export, a missing file: one line each.
    monkeypatch.setenv("CORRIDOR_EXPORT_PASSPHRASE", "wrong horse battery")
    code, _, err = corridor(capsys, "export", "decrypt", str(blob))
    assert code == 1 and "wrong passphrase" in one_line(err)
    junk = config.parent / "junk.bin"
    junk.write_bytes(os.urandom(100))
    code, _, err = corridor(capsys, "export", "decrypt", str(junk))
    assert code == 1 and one_line(err).endswith(
        "junk.bin: not a full export (`corridor export --full` writes one)"
    )
    # A damaged export is not blamed on the passphrase alone.
    damaged = config.parent / "damaged.bin"
    damaged.write_bytes(blob.read_bytes()[:-40] + b"x" * 40)
    code, _, err = corridor(capsys, "export", "decrypt", str(damaged))
    assert code == 1 and "wrong passphrase, or the file is damaged" in one_line(err)
    code, _, err = corridor(capsys, "export", "decrypt", str(config.parent / "nope.bin"))
    assert code == 1 and one_line(err).endswith("nope.bin: file not found")


def test_export_to_a_missing_folder_blames_the_folder(capsys, config: Path, key: str) -> None:
    asyncio.run(seed_case(config, key))
    target = config.parent / "missing" / "x.csv"
    code, _, err = corridor(capsys, "--config", str(config), "export", "--out", str(target))
    line = one_line(err)
    assert code == 2
    assert f"the folder {target.parent} does not exist" in line
    assert "database" not in line


def test_export_dates_are_argument_errors(capsys, config: Path, key: str) -> None:
    code, _, err = corridor(capsys, "--config", str(config), "export", "--from", "2026-02-30")
    line = one_line(err)
    assert code == 2
    assert line == "export: --from: '2026-02-30' is not a date like 2026-01-31"
    code, _, err = corridor(
        capsys, "--config", str(config), "export", "--from", "2026-03-01", "--to", "2026-02-01"
    )
    assert code == 2 and "is after --to" in one_line(err)


def test_export_of_an_unknown_corridor(capsys, config: Path, key: str) -> None:
    asyncio.run(seed_case(config, key))
    code, _, err = corridor(capsys, "--config", str(config), "export", "--corridor", "XX-YY")
    assert code == 2 and "no such corridor (known: ID-MY, NP-MY, NP-QA)" in one_line(err)


def test_export_writes_a_file(capsys, config: Path, key: str) -> None:
    asyncio.run(seed_case(config, key))
    target = config.parent / "stats.csv"
    code, _, err = corridor(capsys, "--config", str(config), "export", "--out", str(target))
    assert code == 0 and target.read_text(encoding="utf-8-sig").startswith("month,corridor")
    assert "1 cases with statistics consent" in err


# --- configuration from the environment ---------------------------------------------


def test_a_bad_database_url_in_the_environment_blames_the_environment(
    capsys, config: Path, key: str, monkeypatch
) -> None:
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", "mysql://user:secret@db/corridor")
    code, _, err = corridor(capsys, "--config", str(config), "network", "dump")
    line = one_line(err)
    assert code == 2
    assert line.startswith("configuration error: CORRIDOR_DATABASE_URL (environment): mysql://")
    assert str(config) not in line and "secret" not in line


def test_a_missing_configuration_file(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = corridor(capsys, "network", "dump")
    assert code == 2 and "config.toml: file not found" in one_line(err)
    assert "--config" in err
    code, _, err = corridor(capsys, "--config", str(tmp_path / "other.toml"), "network", "dump")
    assert code == 2 and one_line(err).endswith("other.toml: file not found")


def test_every_configuration_problem_is_listed(capsys, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    text = EXAMPLE.read_text()
    text = text.replace("telegram_user_id = 5000003", "telegram_user_id = -3")
    text = text.replace(
        'organisation = "id-migrant-union"\nchat_id', 'organisation = "id-union"\nchat_id'
    )
    text = text.replace('kind = "hotline"', 'kind = "radio"')
    broken.write_text(text)
    code, _, err = corridor(capsys, "check-config", str(broken))
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err
    assert f"configuration error: {broken}: [[people]] aisha: telegram_user_id: " in lines[0]
    assert any("[[help]] 'Migrant workers hotline, Kuala Lumpur': kind:" in x for x in lines)
    assert lines[-1].endswith(
        "[[groups]] -1001000000004: organisation: unknown organisation 'id-union'"
    )
    assert len(lines) == 3, lines


# --- the command line itself --------------------------------------------------------


def test_global_options_are_accepted_after_the_command() -> None:
    for argv in (
        ["--config", "x.toml", "run"],
        ["run", "--config", "x.toml"],
        ["db", "upgrade", "--config", "x.toml"],
        ["network", "dump", "--config", "x.toml", "--verbose"],
    ):
        args = parser().parse_args(argv)
        assert args.config == "x.toml", argv
    assert parser().parse_args(["network", "dump", "-v"]).verbose
    assert parser().parse_args(["--verbose", "run"]).verbose
    assert not parser().parse_args(["run"]).verbose


def test_an_unknown_argument_is_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--bogus"])
    assert exit_.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert "unrecognized arguments: --bogus" in line


def test_no_traceback_without_a_terminal(tmp_path: Path, config: Path) -> None:
    """As cron would run it: no terminal, no passphrase in the environment."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "CORRIDOR_ENCRYPTION_KEYS": crypto.generate_key(),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "--full",
            "--out",
            "x.bin",
            "--config",
            str(config),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "export: --full needs a passphrase: set CORRIDOR_EXPORT_PASSPHRASE "
        "(there is no terminal to ask on)"
    ]


def test_routine_library_lines_are_quiet_unless_verbose() -> None:
    import logging

    from bot.cli import ROUTINE_LOGGERS, configure_logging

    touched = (*ROUTINE_LOGGERS, "corridor", "bot", "handlers", "models")
    saved = {name: logging.getLogger(name).level for name in touched}
    # Per start, per update, per request, per report (fontTools: 216 lines for one report).
    routine = ("alembic.runtime.migration", "aiogram.event", "aiohttp.access", "fontTools.subset")
    try:
        configure_logging(verbose=False)
        assert [n for n in routine if logging.getLogger(n).isEnabledFor(logging.INFO)] == []
        assert logging.getLogger("fontTools.subset").isEnabledFor(logging.WARNING)
        configure_logging(verbose=True)
        assert all(logging.getLogger(n).isEnabledFor(logging.INFO) for n in routine)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
