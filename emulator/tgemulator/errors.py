"""Errors shaped like the Bot API's `{"ok": false, ...}` answers."""

from __future__ import annotations

from typing import Any

_PREFIXES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """A Bot API failure; `description` is the full text Telegram would send."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class Disconnect(Exception):
    """Drop the HTTP connection without answering (injected network failure)."""


class ControlError(Exception):
    """A control API call that makes no sense in the current world."""

    def __init__(self, description: str, status: int = 400):
        super().__init__(description)
        self.description = description
        self.status = status


def default_description(code: int, detail: str | None = None) -> str:
    prefix = _PREFIXES.get(code, "Error")
    return f"{prefix}: {detail}" if detail else prefix


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def retry_after(seconds: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


def migrated(new_chat_id: int) -> ApiError:
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )
