"""An encrypted file of secrets, for computers without an OS keyring (headless Linux, a VPS).

The key is derived from the user's passphrase with scrypt (N=2**15, r=8, p=1: ~32 MiB, a tenth of
a second) and never stored; the entries are encrypted with AES-256-GCM, so a changed byte is
detected, not decrypted into garbage. A short check value, encrypted under the same key, tells a
wrong passphrase apart from a damaged file. Nothing is ever written in plaintext: without the
passphrase there is no store.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.domain.errors import AppError

FORMAT = "autogrowth-vault"
VERSION = 1
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSPHRASE = 8
_CHECK = b"autogrowth-vault-check"


class VaultError(AppError):
    key = "error.vault"
    template = "The encrypted key file cannot be used: {detail}"


class WrongPassphrase(VaultError):
    key = "error.vault_passphrase"
    template = "Wrong passphrase: the encrypted key file was not opened"


class VaultDamaged(VaultError):
    key = "error.vault_damaged"
    template = "The encrypted key file was changed or damaged; it cannot be read ({detail})"


class WeakPassphrase(VaultError):
    key = "error.vault_weak"
    template = "Choose a passphrase of at least {n} characters"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


class Vault:
    """Account → secret text, kept encrypted in one file. ``create`` or ``unlock`` first; every
    change is written at once (atomically: a crash leaves the old file or the new one)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._key: bytes | None = None
        self._header: dict[str, Any] = {}
        self._entries: dict[str, str] = {}

    # -- state ---------------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.path.is_file()

    @property
    def unlocked(self) -> bool:
        return self._key is not None

    def lock(self) -> None:
        self._key, self._entries = None, {}

    # -- opening -------------------------------------------------------------------------------------
    def create(self, passphrase: str, *, n: int = SCRYPT_N) -> None:
        """A new, empty store protected by ``passphrase`` (an existing file is replaced)."""
        if len(passphrase) < MIN_PASSPHRASE:
            raise WeakPassphrase(n=MIN_PASSPHRASE)
        salt = secrets.token_bytes(16)
        self._header = {
            "format": FORMAT,
            "version": VERSION,
            "kdf": {"name": "scrypt", "n": n, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
            "cipher": "AES-256-GCM",
        }
        self._key = _derive(passphrase, salt, n, SCRYPT_R, SCRYPT_P)
        self._entries = {}
        self._write()

    def unlock(self, passphrase: str) -> None:
        """Open the store: ``WrongPassphrase`` or ``VaultDamaged`` otherwise (nothing changes)."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise VaultError(detail="the file does not exist") from None
        except (OSError, ValueError) as exc:
            raise VaultDamaged(detail="not a key file") from exc
        try:
            if doc.get("format") != FORMAT or doc.get("version") != VERSION:
                raise VaultDamaged(detail="unknown format")
            kdf = doc["kdf"]
            if kdf.get("name") != "scrypt":
                raise VaultDamaged(detail="unknown key derivation")
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
            if not (2**10 <= n <= 2**22 and 1 <= r <= 32 and 1 <= p <= 16):
                raise VaultDamaged(detail="key derivation parameters out of range")
            salt = _unb64(kdf["salt"])
            header = {k: doc[k] for k in ("format", "version", "kdf", "cipher")}
            check_nonce, check = _unb64(doc["check_nonce"]), _unb64(doc["check"])
            nonce, data = _unb64(doc["nonce"]), _unb64(doc["data"])
        except VaultDamaged:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise VaultDamaged(detail="fields missing") from exc
        key = _derive(passphrase, salt, n, r, p)
        aad = self._aad(header)
        aes = AESGCM(key)
        try:
            if aes.decrypt(check_nonce, check, aad) != _CHECK:
                raise WrongPassphrase()
        except InvalidTag:
            raise WrongPassphrase() from None
        try:
            entries = json.loads(aes.decrypt(nonce, data, aad))
        except InvalidTag:
            raise VaultDamaged(detail="authentication failed") from None
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise VaultDamaged(detail="unexpected content")
        self._key, self._header, self._entries = key, header, entries

    # -- entries -------------------------------------------------------------------------------------
    def get(self, account: str) -> str | None:
        self._need_key()
        return self._entries.get(account)

    def set(self, account: str, secret: str) -> None:
        self._need_key()
        self._entries[account] = secret
        self._write()

    def delete(self, account: str) -> None:
        self._need_key()
        if self._entries.pop(account, None) is not None:
            self._write()

    def accounts(self) -> list[str]:
        self._need_key()
        return sorted(self._entries)

    # -- the file ------------------------------------------------------------------------------------
    @staticmethod
    def _aad(header: dict[str, Any]) -> bytes:
        """The header is authenticated too: its parameters cannot be swapped unnoticed."""
        return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def _need_key(self) -> None:
        if self._key is None:
            raise VaultError(detail="it is locked; enter its passphrase first")

    def _write(self) -> None:
        assert self._key is not None
        aes, aad = AESGCM(self._key), self._aad(self._header)
        check_nonce, nonce = secrets.token_bytes(12), secrets.token_bytes(12)
        doc = {
            **self._header,
            "check_nonce": _b64(check_nonce),
            "check": _b64(aes.encrypt(check_nonce, _CHECK, aad)),
            "nonce": _b64(nonce),
            "data": _b64(aes.encrypt(nonce, json.dumps(self._entries).encode("utf-8"), aad)),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        os.replace(tmp, self.path)
