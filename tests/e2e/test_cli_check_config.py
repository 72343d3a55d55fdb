"""`corridor check-config` checks what `run` needs: the file and the environment, and with
--live the Bot API (getMe) and every configured group (getChat), against the emulator."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.crypto import generate_key
from tests.support import EXAMPLE, ROOT
from tgemulator.client import EmulatorClient
from tgemulator.server import start_emulator

TOKEN = "7000000013:AAHcheckCHECKcheckCHECKcheck12345"
GROUP_IDS = [-1001000000001, -1001000000002, -1001000000003, -1001000000004]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CORRIDOR_TELEGRAM_TOKEN", "CORRIDOR_ENCRYPTION_KEYS", "CORRIDOR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CORRIDOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("CORRIDOR_HASH_KEY", raising=False)


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check-config", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_file_without_token_or_key_fails(capsys, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    code, out, err = check(capsys, str(config))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"configuration error: {config}: [telegram] token: missing: set CORRIDOR_TELEGRAM_TOKEN "
        "(the token @BotFather gave)",
        "configuration error: no encryption key: set CORRIDOR_ENCRYPTION_KEYS, or [security] "
        f"key_file in {config} (`corridor keys generate` makes one)",
    ]


def test_an_empty_file_fails(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CORRIDOR_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", generate_key())
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    code, out, err = check(capsys, str(empty))
    assert code == 2 and "OK" not in out
    assert err.strip() == (
        f"configuration error: {empty}: no [[corridors]]: the bot would have nowhere to send a "
        "case (config.example.toml shows the network)"
    )


def test_bad_keys_are_named(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CORRIDOR_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", f"{generate_key()},not-a-key")
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    code, _, err = check(capsys, str(config))
    assert code == 2
    assert err.strip() == (
        "configuration error: CORRIDOR_ENCRYPTION_KEYS (environment): key 2 of 2 is not a "
        "valid key (`corridor keys generate` makes one)"
    )


def test_a_complete_file_passes_and_defaults_to_the_config_option(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CORRIDOR_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", generate_key())
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    code, out, err = main(["--config", str(config), "check-config"]), *capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [
        f"{config}: 3 corridors, 4 organisations, 4 groups, 7 people; polling; database "
        f"{tmp_path / 'corridor.sqlite3'}",
        f"{config}: OK",
    ]


def webhook_file(tmp_path: Path, url: str, path: str | None) -> Path:
    config = tmp_path / "webhook.toml"
    text = EXAMPLE.read_text().replace('mode = "polling"', 'mode = "webhook"')
    text = text.replace('url = ""', f'url = "{url}"').replace(
        'secret = ""', 'secret = "' + "s" * 20 + '"'
    )
    text = text.replace('# path = "/telegram"\n', "" if path is None else f'path = "{path}"\n')
    config.write_text(text)
    return config


def test_webhook_url_and_path_are_checked_against_each_other(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CORRIDOR_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("CORRIDOR_ENCRYPTION_KEYS", generate_key())
    # The old way of writing it: host in url, path appended. Telegram would post to "/".
    config = webhook_file(tmp_path, "https://bot.example.org", "/telegram")
    code, _, err = check(capsys, str(config))
    assert code == 2
    assert err.strip() == (
        f"configuration error: {config}: [telegram.webhook] path: Telegram posts to '/' (the "
        "path of webhook.url) but the bot would listen on '/telegram': leave path out, it "
        "follows the url"
    )
    # The full URL, with or without the same path repeated: registered once, no doubling.
    for path in (None, "/telegram"):
        config = webhook_file(tmp_path, "https://bot.example.org/telegram", path)
        code, out, err = check(capsys, str(config))
        assert code == 0, err
        assert "webhook (Telegram posts to https://bot.example.org/telegram)" in out


async def check_live(tmp_path: Path, config: Path, api: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check-config",
        str(config),
        "--live",
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "CORRIDOR_TELEGRAM_TOKEN": TOKEN,
            "CORRIDOR_TELEGRAM_API_BASE_URL": api,
            "CORRIDOR_ENCRYPTION_KEYS": generate_key(),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_live_reaches_the_bot_api_and_every_group(tmp_path: Path) -> None:
    server = await start_emulator()
    tg = EmulatorClient(server.base_url, TOKEN)
    try:
        founder = (await tg.create_user("Founder"))["id"]
        titles = ["DMWC responders", "KRS responders", "KLMLA caseworkers", "JMWU rapid response"]
        chats = [await tg.create_group(t, [founder], supergroup=True) for t in titles]
        text = EXAMPLE.read_text()
        for old, chat in zip(GROUP_IDS, chats, strict=True):
            text = text.replace(f"chat_id = {old}", f"chat_id = {chat['id']}")
        config = tmp_path / "config.toml"
        config.write_text(text)

        code, out, err = await check_live(tmp_path, config, server.base_url)
        assert code == 0, err
        assert f"Bot API at {server.base_url}: the bot is @" in out
        for chat, title in zip(chats, titles, strict=True):
            assert f"[[groups]] {chat['id']}: {title!r} (supergroup" in out
        assert f"database {tmp_path / 'corridor.sqlite3'}: does not exist yet" in out
        assert out.strip().endswith(f"{config}: OK (live checks passed)")

        # The bot is removed from one group, another id is mistyped.
        await tg.kick_bot(chats[0]["id"], by_user_id=founder)
        config.write_text(text.replace(f"chat_id = {chats[1]['id']}", "chat_id = -1009999999"))
        code, out, err = await check_live(tmp_path, config, server.base_url)
        assert code == 1 and "OK" not in out and "Traceback" not in err
        problems = [line for line in err.splitlines() if line.startswith("check-config: ")]
        assert problems == [
            f"check-config: {config}: [[groups]] {chats[0]['id']}: the bot is not in this "
            "group (Forbidden: bot was kicked from the supergroup chat)",
            f"check-config: {config}: [[groups]] -1009999999: Bad Request: chat not found: add "
            "the bot to the group, or correct chat_id",
        ]
    finally:
        await tg.close()
        await server.close()


async def test_live_with_an_unreachable_bot_api(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    code, _, err = await check_live(tmp_path, config, "http://127.0.0.1:9")
    assert code == 1 and "Traceback" not in err
    assert "check-config: Bot API at http://127.0.0.1:9 unreachable: " in err
