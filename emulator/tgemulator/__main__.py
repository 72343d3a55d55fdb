"""Run the Telegram Bot API emulator: python -m tgemulator --host 127.0.0.1 --port 8081"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .server import start_emulator
from .spec import SPEC_PATH, write_spec


async def _serve(host: str, port: int) -> None:
    server = await start_emulator(host, port)
    print(f"Telegram Bot API emulator on {server.base_url}", flush=True)
    print(f"  aiogram: TelegramAPIServer.from_base({server.base_url!r})", flush=True)
    print(f"  control: POST {server.base_url}/control/<token>/<action>", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tgemulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "--derive-spec",
        metavar="API_JSON",
        help="regenerate spec.json from the official api.min.json, then exit",
    )
    args = parser.parse_args(argv)
    if args.derive_spec:
        size = write_spec(args.derive_spec)
        print(f"wrote {SPEC_PATH} ({size} bytes)")
        return
    logging.basicConfig(level=args.log_level.upper())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
