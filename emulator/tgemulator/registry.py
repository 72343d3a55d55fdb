"""The Bot API method registry shared by the method modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .state import World
from .webhook import WebhookDispatcher


@dataclass
class Upload:
    filename: str | None
    data: bytes
    content_type: str | None = None


@dataclass
class Request:
    world: World
    params: dict[str, Any]
    files: dict[str, Upload]
    webhooks: WebhookDispatcher


@dataclass
class Described:
    """A successful result that Telegram accompanies with a description."""

    result: Any
    description: str


Handler = Callable[[Request], Any]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name] = fn
        return fn

    return register
