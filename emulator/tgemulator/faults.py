"""Injected failures and Telegram-like flood limits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, Disconnect, default_description, retry_after

_DEFAULT_DETAILS = {
    400: "injected error",
    403: "injected error",
    409: "injected conflict",
}


@dataclass
class FailRule:
    method: str  # lower-case method name
    error_code: int
    description: str | None
    retry_after: int | None
    times: int
    chat_id: int | str | None
    disconnect: bool
    # The call is carried out and only its answer fails: the message is delivered, the
    # client does not know it. What a real network does to a 502 or a dropped connection.
    after: bool = False
    # Seconds before answering (a slow server; longer than the client's timeout is a timeout).
    delay: float = 0.0

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.method != method.lower() or self.times <= 0:
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)

    def fire(self) -> Exception:
        self.times -= 1
        if self.disconnect:
            return Disconnect()
        if self.error_code == 429:
            seconds = self.retry_after or 5
            error = retry_after(seconds)
            if self.description:
                error.description = self.description
            return error
        description = self.description or default_description(
            self.error_code, _DEFAULT_DETAILS.get(self.error_code)
        )
        parameters = {"retry_after": self.retry_after} if self.retry_after else None
        return ApiError(self.error_code, description, parameters)


class FailRules:
    def __init__(self) -> None:
        self.rules: list[FailRule] = []

    def add(self, rule: FailRule) -> None:
        self.rules.append(rule)

    def check(
        self, method: str, params: dict[str, Any]
    ) -> tuple[Exception | None, FailRule | None]:
        for rule in self.rules:
            if rule.matches(method, params):
                error = None if rule.delay and not rule.error_code else rule.fire()
                if error is None:
                    rule.times -= 1
                self.rules = [r for r in self.rules if r.times > 0]
                return error, rule
        return None, None


class _Bucket:
    """Token bucket: `capacity` burst, refilled at `rate` tokens per second."""

    def __init__(self, capacity: float, rate: float, now: float):
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodControl:
    """Telegram's published limits: ~1 msg/s per chat (small bursts pass),
    20 msg/min per group, 30 msg/s overall. Off unless switched on."""

    PER_CHAT = (3, 1.0)
    PER_GROUP = (20, 20 / 60)
    GLOBAL = (30, 30.0)

    def __init__(self) -> None:
        self.enabled = False
        self._buckets: dict[tuple[str, int], _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def _bucket(self, key: tuple[str, int], spec: tuple[float, float], now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(spec[0], spec[1], now)
        bucket.refill(now)
        return bucket

    def check(self, chat_id: int, is_group: bool, now: float) -> ApiError | None:
        if not self.enabled:
            return None
        buckets = [
            self._bucket(("global", 0), self.GLOBAL, now),
            self._bucket(("chat", chat_id), self.PER_CHAT, now),
        ]
        if is_group:
            buckets.append(self._bucket(("group", chat_id), self.PER_GROUP, now))
        wait = max(b.wait_time() for b in buckets)
        if wait > 0:
            return retry_after(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1
        return None


@dataclass
class Chaos:
    """A share of all chat calls fails at random, the way a bad network and a busy Telegram
    fail: 429 with retry_after, 500 and 502 (some after the message was delivered), dropped
    connections (after delivery) and slow answers. Seeded, so a run can be repeated."""

    rate: float = 0.0
    seed: int = 0
    slow_seconds: float = 0.0  # a slow answer; longer than the client's timeout is a timeout

    def __post_init__(self) -> None:
        import random

        self.random = random.Random(self.seed)

    def pick(self) -> FailRule | None:
        if self.rate <= 0 or self.random.random() >= self.rate:
            return None
        kind = self.random.choice(["429", "500", "502", "502 after", "drop after", "slow"])
        rule = FailRule(
            method="",
            error_code={"429": 429, "500": 500, "slow": 0}.get(kind, 502),
            description=None,
            retry_after=1 if kind == "429" else None,
            times=1,
            chat_id=None,
            disconnect=kind == "drop after",
            after=kind.endswith("after"),
            delay=self.slow_seconds if kind == "slow" else 0.0,
        )
        return rule


class RetryLedger:
    """Remembers each chat's retry_after, and counts calls to a chat before it ran out:
    the one thing Telegram punishes hardest."""

    def __init__(self) -> None:
        self.until: dict[str, float] = {}
        self.early = 0
        self.refused = 0

    def check(self, chat_id: Any, now: float) -> None:
        if chat_id is not None and self.until.get(str(chat_id), 0.0) > now:
            self.early += 1

    def record(self, chat_id: Any, error: Exception, now: float) -> None:
        parameters = getattr(error, "parameters", None) or {}
        seconds = parameters.get("retry_after")
        if getattr(error, "code", None) == 429:
            self.refused += 1
        if seconds and chat_id is not None:
            self.until[str(chat_id)] = now + float(seconds)
