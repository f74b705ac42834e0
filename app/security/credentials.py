"""API keys in the operating system's keyring — never in files, the database or logs."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

SERVICE = "AutoGrowthTrader"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: str
    passphrase: str = ""

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"Credentials(api_key={mask(self.api_key)}, secret=***)"

    __str__ = __repr__


def mask(value: str) -> str:
    return (value[:4] + "…" + value[-2:]) if len(value) > 8 else "***"


class CredentialStore:
    """One keyring entry per account (``binance``, ``coinbase:main`` …)."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def save(self, account: str, creds: Credentials) -> None:
        if not creds.api_key.strip() or not creds.secret.strip():
            raise ValueError("an API key and its secret are both required")
        payload = json.dumps({"k": creds.api_key.strip(), "s": creds.secret.strip(), "p": creds.passphrase.strip()})
        keyring.set_password(self.service, account, payload)
        log.info("saved API key %s for %s", mask(creds.api_key), account)

    def load(self, account: str) -> Credentials | None:
        try:
            raw = keyring.get_password(self.service, account)
        except KeyringError:
            log.warning("the OS keyring is not available")
            return None
        if not raw:
            return None
        d = json.loads(raw)
        return Credentials(d["k"], d["s"], d.get("p", ""))

    def has(self, account: str) -> bool:
        return self.load(account) is not None

    def delete(self, account: str) -> None:
        try:
            keyring.delete_password(self.service, account)
        except PasswordDeleteError:
            pass

    def available(self) -> bool:
        """False when the system has no usable keyring (keys can then not be saved at all)."""
        try:
            backend = keyring.get_keyring()
        except KeyringError:
            return False
        return getattr(backend, "priority", 1) > 0
