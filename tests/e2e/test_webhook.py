"""Webhook mode as a real process against the emulator: the configured URL is registered
exactly once (no doubled path), updates posted there are answered, and every other request
gets a defined status and at most one log line, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import aiohttp

from bot.crypto import generate_key
from tests.support import EXAMPLE, ROOT, free_port, in_webhook_mode
from tgemulator.client import EmulatorClient
from tgemulator.server import start_emulator

TOKEN = "7000000014:AAHwebhookWEBHOOKwebhookWEBHOOK1234"
SECRET = "webhook-secret-0123456789abcdef"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_config(folder: Path, port: int) -> Path:
    text = in_webhook_mode(EXAMPLE.read_text(), port, SECRET)
    config = folder / "config.toml"
    config.write_text(text)
    return config


async def raw_post(port: int, head: str, body: bytes) -> bytes:
    """Sends ``head`` and only ``body`` (whatever Content-Length says); the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), 10)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


class Output:
    """Collects a process's output lines while the test goes on."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.lines: list[str] = []
        self.task = asyncio.create_task(self._read(process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        while line := await process.stdout.readline():
            self.lines.append(line.decode())

    async def wait_for(self, needle: str, seconds: float = 90) -> str:
        async def poll() -> str:
            while True:
                found = [line for line in self.lines if needle in line]
                if found:
                    return found[0]
                if self.task.done():
                    raise AssertionError(f"no {needle!r} in:\n" + "".join(self.lines))
                await asyncio.sleep(0.05)

        return await asyncio.wait_for(poll(), seconds)

    def webhook_lines(self) -> list[str]:
        return [
            line.split(" corridor.webhook: ", 1)[1].strip()
            for line in self.lines
            if " corridor.webhook: " in line
        ]


async def test_webhook_mode_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    config = webhook_config(tmp_path, port)
    server = await start_emulator()
    tg = EmulatorClient(server.base_url, TOKEN)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "CORRIDOR_TELEGRAM_TOKEN": TOKEN,
            "CORRIDOR_TELEGRAM_API_BASE_URL": server.base_url,
            "CORRIDOR_ENCRYPTION_KEYS": generate_key(),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = Output(process)
    url = f"http://127.0.0.1:{port}/telegram"
    try:
        started = await output.wait_for("webhook: Telegram posts to")
        assert f"Telegram posts to {url}; listening on 127.0.0.1:{port}, path /telegram" in started

        async with aiohttp.ClientSession() as http:
            # 1. What Telegram holds is the configured URL, once: no /telegram/telegram.
            async with http.get(f"{server.base_url}/bot{TOKEN}/getWebhookInfo") as r:
                assert (await r.json())["result"]["url"] == url

            # … and an update posted there is answered.
            user = (await tg.create_user("Webhook user"))["id"]
            sent = await tg.send_message(user, "/help")
            reply = await tg.wait_for_message(user, after_message_id=sent["message_id"], timeout=30)
            assert "help contacts" in reply["text"]
            assert output.webhook_lines() == []

            # 2. Every other request: a defined status and one log line.
            update = {"update_id": 5, "message": {"text": "hello"}}
            async with http.post(url, json=update) as r:
                assert r.status == 403
            async with http.post(url, json=update, headers={HEADER: "wrong"}) as r:
                assert r.status == 403
            async with http.post(url, data=b"{not json", headers={HEADER: SECRET}) as r:
                assert r.status == 400
            async with http.post(
                url, json={"update_id": 77, "message": "x"}, headers={HEADER: SECRET}
            ) as r:
                assert r.status == 200
            async with http.post(url, json=[1, 2], headers={HEADER: SECRET}) as r:
                assert r.status == 200
            # A sender id no Bot API field can hold: skipped before any handler sees it.
            forged = {
                "update_id": 78,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": user, "type": "private"},
                    "from": {"id": 2**63, "is_bot": False, "first_name": "Forged"},
                    "text": "/help",
                },
            }
            async with http.post(url, json=forged, headers={HEADER: SECRET}) as r:
                assert r.status == 200
            async with http.post(f"{url}/telegram", json=update, headers={HEADER: SECRET}) as r:
                assert r.status == 404
            async with http.get(url) as r:
                assert r.status == 405

            # 3. Ten megabytes announced: refused on the header, before the body is sent.
            head = (
                f"POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\n{HEADER}: {SECRET}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {10 * 1024 * 1024}\r\n"
            )
            answer = await raw_post(port, head, b'{"update_id": 1, ')
            assert answer.startswith(b"HTTP/1.1 413"), answer[:100]

            # … and without a length, reading stops at the limit.
            async def chunks():  # type: ignore[no-untyped-def]
                yield b'{"update_id": 2, "padding": "'
                for _ in range(3 * 1024):
                    yield b"x" * 1024

            try:
                async with http.post(url, data=chunks(), headers={HEADER: SECRET}) as r:
                    assert r.status == 413
            except aiohttp.ClientError:
                pass  # the server may close before the client has sent everything

            # The bot still answers.
            sent = await tg.send_message(user, "/help")
            reply = await tg.wait_for_message(user, after_message_id=sent["message_id"], timeout=30)
            assert "help contacts" in reply["text"]

        await asyncio.sleep(0.2)
        lines = output.webhook_lines()
        assert lines[:2] == [
            "webhook: refused a request from 127.0.0.1: no secret header (403)",
            "webhook: refused a request from 127.0.0.1: wrong secret header (403)",
        ]
        assert lines[2] == "webhook: a 9-byte body from 127.0.0.1 is not JSON (400)"
        assert lines[3].startswith("webhook: update 77 is not a Telegram update (message: ")
        assert lines[3].endswith("answered 200 so Telegram does not resend it")
        assert lines[4].startswith("webhook: update without update_id is not a Telegram update")
        assert lines[5] == (
            "webhook: update 78 skipped: a number out of range at message.from.id; answered "
            "200 so Telegram does not resend it"
        )
        assert lines[6] == (
            "webhook: POST /telegram/telegram answered 404: the bot listens on /telegram (the "
            "path of [telegram.webhook] url)"
        )
        assert lines[7] == (
            "webhook: refused a body from 127.0.0.1 larger than 1048576 bytes (10485760 bytes; 413)"
        )
        assert lines[8] == (
            "webhook: refused a body from 127.0.0.1 larger than 1048576 bytes (no length given; 413)"
        )
        assert len(lines) == 9, lines
        # Quiet by default: no routine line per update (aiogram's "is handled").
        assert not [line for line in output.lines if " aiogram.event: " in line], output.lines
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            finally:
                if process.returncode is None:
                    process.kill()
        await output.task
        await tg.close()
        await server.close()
    assert process.returncode == 0
    assert "Traceback" not in "".join(output.lines), "".join(output.lines)


async def test_a_webhook_telegram_refuses_stops_the_start_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    config = webhook_config(tmp_path, port)
    server = await start_emulator()
    refusal = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    try:
        async with EmulatorClient(server.base_url, TOKEN) as tg:
            await tg.fail_next("setWebhook", error_code=400, description=refusal)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(tmp_path),
                "PYTHONPATH": str(ROOT),
                "CORRIDOR_TELEGRAM_TOKEN": TOKEN,
                "CORRIDOR_TELEGRAM_API_BASE_URL": server.base_url,
                "CORRIDOR_ENCRYPTION_KEYS": generate_key(),
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out = (await asyncio.wait_for(process.communicate(), 90))[0].decode()
    finally:
        await server.close()
    assert process.returncode == 1, out
    assert "Traceback" not in out, out
    assert out.splitlines()[-1] == (
        f"cannot start: Telegram refused the webhook http://127.0.0.1:{port}/telegram "
        f"([telegram.webhook] url): {refusal}"
    )
