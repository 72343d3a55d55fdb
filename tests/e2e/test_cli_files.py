"""Where the `corridor` command reads and writes files: the database next to the
configuration (not the current folder), digests only where asked, backups, and what git
must never pick up."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from bot import crypto
from bot.cli import main
from tests.support import EXAMPLE, ROOT

RELATIVE = 'url = "sqlite+aiosqlite:///state/corridor.sqlite3"'


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CORRIDOR_CONFIG", "CORRIDOR_DATABASE_URL", "CORRIDOR_HASH_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", crypto.generate_key())


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """(configuration file in etc/ naming a relative database, an unrelated working folder)."""
    etc, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    (etc / "state").mkdir(parents=True)
    elsewhere.mkdir()
    config = etc / "config.toml"
    text = EXAMPLE.read_text()
    assert 'url = "sqlite+aiosqlite:///corridor.sqlite3"' in text
    config.write_text(text.replace('url = "sqlite+aiosqlite:///corridor.sqlite3"', RELATIVE))
    return config, elsewhere


def corridor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_relative_database_path_is_relative_to_the_configuration_file(
    capsys, layout, monkeypatch
) -> None:
    config, elsewhere = layout
    database = config.parent / "state" / "corridor.sqlite3"
    monkeypatch.chdir(elsewhere)
    code, out, _ = corridor(capsys, "--config", str(config), "db", "upgrade")
    assert code == 0 and str(database) in out
    assert database.exists()
    assert list(elsewhere.iterdir()) == []
    code, out, _ = corridor(capsys, "--config", str(config), "network", "sync", str(config))
    assert code == 0 and "+ person sita" in out
    # From yet another folder, with a relative --config: the same database, the same network.
    monkeypatch.chdir(config.parent.parent)
    code, out, err = corridor(capsys, "--config", "etc/config.toml", "network", "dump")
    assert code == 0, err
    assert 'id = "sita"' in out
    assert list(elsewhere.iterdir()) == []


def test_a_relative_key_file_is_relative_to_the_configuration_file(
    capsys, layout, monkeypatch
) -> None:
    config, elsewhere = layout
    monkeypatch.delenv("CORRIDOR_ENCRYPTION_KEYS")
    (config.parent / "keys.txt").write_text(crypto.generate_key() + "\n")
    config.write_text(config.read_text().replace('key_file = ""', 'key_file = "keys.txt"'))
    monkeypatch.chdir(elsewhere)
    assert corridor(capsys, "--config", str(config), "db", "upgrade")[0] == 0
    code, _out, err = corridor(capsys, "--config", str(config), "audit", "verify")
    assert code == 0, err
    config.write_text(config.read_text().replace('"keys.txt"', '"nokeys.txt"'))
    code, _, err = corridor(capsys, "--config", str(config), "audit", "verify")
    assert code == 1 and f"key file {config.parent / 'nokeys.txt'} not found" in err


def test_reading_commands_never_create_an_empty_database(capsys, layout, monkeypatch) -> None:
    config, elsewhere = layout
    database = config.parent / "state" / "corridor.sqlite3"
    monkeypatch.chdir(elsewhere)
    for argv in (["network", "dump"], ["audit", "verify"], ["export"], ["digest", "--now"]):
        code, _, err = corridor(capsys, "--config", str(config), *argv)
        assert code == 1, argv
        assert err.strip() == (
            f"{argv[0]}{' ' + argv[1] if argv[0] in ('network', 'audit') else ''}: "
            f"database {database} does not exist (relative paths in {config} are relative to "
            "its folder); `corridor run` or `corridor db upgrade` creates it"
        )
    assert not database.exists()
    # A file that is not a Corridor database (a wrong path to some other file).
    database.write_bytes(b"")
    code, _, err = corridor(capsys, "--config", str(config), "network", "dump")
    assert code == 1 and "holds no Corridor tables" in err and "Traceback" not in err


def test_digest_prints_plain_text_and_writes_only_where_asked(capsys, layout, monkeypatch) -> None:
    config, elsewhere = layout
    monkeypatch.chdir(elsewhere)
    corridor(capsys, "--config", str(config), "network", "sync", str(config))
    code, out, _ = corridor(capsys, "--config", str(config), "digest", "--now")
    assert code == 0
    assert "— Sita (sita) —" in out and "Daily digest" in out
    assert "<b>" not in out and "--out DIR" in out
    assert list(elsewhere.iterdir()) == []
    code, out, _ = corridor(
        capsys, "--config", str(config), "digest", "--now", "--person", "sita", "--out", "charts"
    )
    assert code == 0
    charts = elsewhere / "charts"
    assert sorted(p.name for p in charts.iterdir()) == ["digest-sita.png", "digest-sita.txt"]
    assert (charts / "digest-sita.png").read_bytes().startswith(b"\x89PNG")
    assert "<b>" not in (charts / "digest-sita.txt").read_text()
    code, out, _ = corridor(capsys, "--config", str(config), "digest", "--person", "sita", "--html")
    assert "<b>" in out
    code, _, err = corridor(capsys, "--config", str(config), "digest", "--person", "nobody")
    assert code == 1 and "--person nobody: no active coordinator" in err
    code, _, err = corridor(capsys, "--config", str(config), "digest", "--out", "a/b/c")
    assert code == 2 and "the folder a/b does not exist" in err


def test_sqlite_backup_while_open(capsys, layout, monkeypatch) -> None:
    config, elsewhere = layout
    monkeypatch.chdir(elsewhere)
    corridor(capsys, "--config", str(config), "network", "sync", str(config))
    database = config.parent / "state" / "corridor.sqlite3"
    holder = sqlite3.connect(database)  # the running bot, say
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM people").fetchone()
    try:
        code, _out, err = corridor(capsys, "--config", str(config), "db", "backup", "copy.sqlite3")
    finally:
        holder.rollback()
        holder.close()
    assert code == 0, err
    with sqlite3.connect(elsewhere / "copy.sqlite3") as copy:
        assert copy.execute("SELECT count(*) FROM people").fetchone() == (7,)
    code, _, err = corridor(capsys, "--config", str(config), "db", "backup", "copy.sqlite3")
    assert code == 2 and "already exists" in err
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", "postgresql+asyncpg://corridor@127.0.0.1/x")
    code, _, err = corridor(capsys, "--config", str(config), "db", "backup", "pg.sql")
    assert code == 2 and "pg_dump" in err


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_ignores_what_must_not_be_committed() -> None:
    candidates = [
        "config.toml",
        "corridor.sqlite3",
        "corridor.sqlite3-wal",
        "corridor.sqlite3-shm",
        "corridor.sqlite3-journal",
        "digest-sita.png",
        "digests/digest-sita.txt",
        "full-export.bin",
        "keys.txt",
        "dist/corridor-0.1.0-py3-none-any.whl",
    ]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin", "-v", "-n"],
        input="\n".join(candidates),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode == 128:
        pytest.skip(f"not a git checkout: {result.stderr.strip()}")
    unignored = [
        line.split("\t")[-1] for line in result.stdout.splitlines() if line.startswith("::")
    ]
    assert unignored == []
    # The documented example stays in the repository.
    kept = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", "config.example.toml"], cwd=ROOT
    )
    assert kept.returncode == 1


def test_nothing_is_left_in_the_working_folder_by_a_failed_command(
    capsys, layout, monkeypatch
) -> None:
    config, elsewhere = layout
    monkeypatch.chdir(elsewhere)
    code, _, _ = corridor(capsys, "--config", str(config), "export", "--out", "x/y.csv")
    assert code == 2
    assert list(elsewhere.iterdir()) == []
