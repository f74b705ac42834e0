"""API keys: the one door to them. In the operating system's keyring (one entry per account) where
there is a usable one; where there is none (headless Linux: keyring's fail/null backends), in an
encrypted file unlocked by a passphrase (``vault.Vault``). Never in plaintext: not in files, the
database or logs — with neither a keyring nor an unlocked file, keys cannot be saved at all."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from . import redaction
from .vault import Vault, VaultError, WrongPassphrase

SERVICE = "AutoGrowthTrader"
VAULT_FILE = "keys.vault"
log = logging.getLogger(__name__)

KEYRING, FILE, NONE = "keyring", "file", "none"


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: str
    passphrase: str = ""

    def __post_init__(self) -> None:
        redaction.remember(self.api_key, self.secret, self.passphrase)  # never in a log line

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"Credentials(api_key={mask(self.api_key)}, secret=***)"

    __str__ = __repr__


def mask(value: str) -> str:
    return (value[:4] + "…" + value[-2:]) if len(value) > 8 else "***"


def keyring_usable() -> bool:
    """False on keyring's fail and null backends (priority 0 or less): nothing could be saved."""
    try:
        backend = keyring.get_keyring()
    except KeyringError:
        return False
    module = type(backend).__module__
    if module.endswith(("backends.fail", "backends.null")):
        return False
    try:
        priority = getattr(backend, "priority", 1)  # a number (not money), or a property that raises
        return bool(priority > 0)
    except Exception:  # some backends compute their priority and raise when unusable
        return False


class StoreLocked(VaultError):
    key = "error.vault_locked"
    template = "No system keyring: unlock the encrypted key file with its passphrase first"


class NoSecretStore(VaultError):
    key = "error.no_secret_store"
    template = "No system keyring and no encrypted key file: API keys cannot be saved"


class CredentialStore:
    """One entry per account (``binance``, ``coinbase:main`` …), in the OS keyring or, where there
    is none, in the encrypted file ``vault_path`` once it is unlocked."""

    def __init__(self, service: str = SERVICE, *, vault_path: Path | None = None) -> None:
        self.service = service
        self.vault = Vault(vault_path) if vault_path is not None else None

    # -- which store -------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``keyring``, ``file`` (no keyring; the encrypted file is the store) or ``none``."""
        if keyring_usable():
            return KEYRING
        return FILE if self.vault is not None else NONE

    @property
    def locked(self) -> bool:
        """True while the encrypted file is the store and its passphrase has not been given."""
        return self.kind == FILE and self.vault is not None and not self.vault.unlocked

    def available(self) -> bool:
        """True when keys can be saved and read now."""
        k = self.kind
        return k == KEYRING or (k == FILE and self.vault is not None and self.vault.unlocked)

    def unlock(self, passphrase: str) -> None:
        """Open the encrypted file (create it on first use). ``WrongPassphrase``/``VaultDamaged``
        otherwise, and nothing changes."""
        if self.vault is None:
            raise NoSecretStore()
        if self.vault.exists:
            self.vault.unlock(passphrase)
            log.info("encrypted key file unlocked")
        else:
            self.vault.create(passphrase)
            log.info("encrypted key file created")

    def lock(self) -> None:
        if self.vault is not None:
            self.vault.lock()

    # -- entries -----------------------------------------------------------------------------------
    def save(self, account: str, creds: Credentials) -> None:
        if not creds.api_key.strip() or not creds.secret.strip():
            raise ValueError("an API key and its secret are both required")
        payload = json.dumps({"k": creds.api_key.strip(), "s": creds.secret.strip(), "p": creds.passphrase.strip()})
        kind = self.kind
        if kind == KEYRING:
            keyring.set_password(self.service, account, payload)
        else:
            self._vault().set(account, payload)
        log.info("saved API key %s for %s (%s)", mask(creds.api_key.strip()), account, kind)

    def load(self, account: str) -> Credentials | None:
        if self.kind == KEYRING:
            try:
                raw = keyring.get_password(self.service, account)
            except KeyringError:
                log.warning("the OS keyring is not available")
                return None
        elif self.vault is not None and self.vault.unlocked:
            raw = self.vault.get(account)
        else:
            return None
        if not raw:
            return None
        d = json.loads(raw)
        return Credentials(d["k"], d["s"], d.get("p", ""))

    def has(self, account: str) -> bool:
        return self.load(account) is not None

    def delete(self, account: str) -> None:
        if self.kind == KEYRING:
            try:
                keyring.delete_password(self.service, account)
            except PasswordDeleteError:
                pass
        elif self.vault is not None and self.vault.unlocked:
            self.vault.delete(account)

    def _vault(self) -> Vault:
        if self.vault is None:
            raise NoSecretStore()
        if not self.vault.unlocked:
            raise StoreLocked()
        return self.vault


def default_store(data_dir: Path) -> CredentialStore:
    """The app's store: the OS keyring, or the encrypted file in the data folder where there is none."""
    return CredentialStore(vault_path=Path(data_dir) / VAULT_FILE)


__all__ = [
    "FILE",
    "KEYRING",
    "NONE",
    "CredentialStore",
    "Credentials",
    "NoSecretStore",
    "StoreLocked",
    "WrongPassphrase",
    "default_store",
    "keyring_usable",
    "mask",
]
