"""`corridor sandbox`: start the world, serve the page on 127.0.0.1, wait for Ctrl+C."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import time
import webbrowser

from aiohttp import web

from bot.errors import StartupError
from corridor_dev.sandbox.session import Sandbox
from corridor_dev.sandbox.web import make_app

HOST = "127.0.0.1"  # never another interface: the sandbox has no login


def has_display() -> bool:
    """Whether a browser window could open here (a desktop session, not a server)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


async def listen(sandbox: Sandbox, port: int) -> tuple[web.AppRunner, str]:
    """Serves the page of ``sandbox`` on 127.0.0.1:``port`` (0: any free port); its URL."""
    runner = web.AppRunner(make_app(sandbox), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, port).start()
    except OSError as error:
        await runner.cleanup()
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise StartupError(f"cannot listen on {HOST}:{port}: {reason}") from None
    return runner, f"http://{HOST}:{runner.addresses[0][1]}/"


async def serve(port: int, open_browser: bool) -> int:
    logging.getLogger("aiogram").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("bot").setLevel(logging.WARNING)  # the in-process bot's routine lines
    started = time.monotonic()
    sandbox = Sandbox()
    await sandbox.start()
    try:
        runner, url = await listen(sandbox, port)
    except StartupError:
        await sandbox.stop()
        raise
    print(
        f"Corridor sandbox: {url}\n"
        f"  listening on {HOST} only (this machine); the bot talks to the built-in emulator, "
        "never to Telegram.\n"
        f"  ready in {time.monotonic() - started:.1f}s; Ctrl+C stops it and deletes its database.",
        flush=True,
    )
    if open_browser and has_display():
        webbrowser.open(url)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        await runner.cleanup()
        await sandbox.stop()
    print("sandbox stopped", file=sys.stderr)
    return 0
