"""A Telegram Bot API emulator for end-to-end tests and offline demos.

Start it with `start_emulator()` (or `python -m tgemulator`), point aiogram at
`server.base_url`, and play users through `EmulatorClient`.
"""

from .client import EmulatorClient, EmulatorError
from .server import EmulatorServer, create_app, start_emulator

__all__ = ["EmulatorClient", "EmulatorError", "EmulatorServer", "create_app", "start_emulator"]
