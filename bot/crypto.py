"""Encryption of personal fields at rest and keyed hashing of Telegram ids.

Keys come from the environment or a key file, never from the repository. Several keys
may be configured (newest first): all decrypt, the newest encrypts, which is what makes
`corridor keys rotate` possible without downtime.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PSEUDONYMS_KEPT = 10_000


class KeyError_(Exception):
    """No usable key: the operator must configure one."""


class KeyRing:
    def __init__(self, keys: list[str], hash_key: str) -> None:
        if not keys:
            raise KeyError_("no encryption key configured")
        try:
            self._fernets = [Fernet(k.encode()) for k in keys]
        except (ValueError, TypeError) as exc:
            raise KeyError_("an encryption key is not a valid Fernet key") from exc
        self._multi = MultiFernet(self._fernets)
        # Without a configured hash key, the oldest encryption key serves: new keys go in
        # front when rotating, so the pseudonyms stay the same.
        self._hash_key = (hash_key or keys[-1]).encode()
        self._pseudonyms: dict[tuple[str, int | str], str] = {}

    def encrypt(self, plain: str) -> str:
        return self._multi.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise KeyError_("a stored value cannot be decrypted with the configured keys") from exc

    def is_current(self, token: str) -> bool:
        """Whether the newest key already encrypted this token (rotation skips it)."""
        try:
            self._fernets[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        return self._multi.rotate(token.encode()).decode()

    def pseudonym(self, kind: str, value: int | str) -> str:
        # An update asks for its chat's and its user's several times (its conversation, its
        # reporter, the messages /clear may delete): the recent ones are kept.
        known = self._pseudonyms.get((kind, value))
        if known is not None:
            return known
        digest = hmac.new(self._hash_key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
        made = base64.urlsafe_b64encode(digest[:24]).decode()
        if len(self._pseudonyms) >= PSEUDONYMS_KEPT:
            self._pseudonyms.clear()
        self._pseudonyms[(kind, value)] = made
        return made


def generate_key() -> str:
    return Fernet.generate_key().decode()


def keys_from(config_keys: list[str], key_file: str) -> list[str]:
    if config_keys:
        return list(config_keys)
    if key_file:
        path = Path(key_file)
        if not path.exists():
            raise KeyError_(f"key file {key_file} not found")
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return []


_active: KeyRing | None = None


def install(ring: KeyRing) -> None:
    """The ORM's encrypted column type reads the process-wide key ring."""
    global _active
    _active = ring


def active() -> KeyRing:
    if _active is None:
        raise KeyError_("encryption keys were not loaded")
    return _active


def make_keyring(config) -> KeyRing:  # type: ignore[no-untyped-def]
    """The configured key ring, installed for the ORM's encrypted columns."""
    from bot.errors import StartupError

    keys = keys_from(config.security.encryption_keys, config.security.key_file)
    if not keys:
        raise StartupError(
            "no encryption key: set CORRIDOR_ENCRYPTION_KEYS or [security] key_file "
            "(make one with `corridor keys generate`)"
        )
    ring = KeyRing(keys, config.security.hash_key)
    install(ring)
    return ring
