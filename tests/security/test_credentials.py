"""API keys: the OS keyring, one entry per account; where there is no keyring, an encrypted file
unlocked by a passphrase — never plaintext."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from app.security.credentials import (
    FILE,
    KEYRING,
    NONE,
    Credentials,
    CredentialStore,
    StoreLocked,
    keyring_usable,
)
from app.security.vault import Vault, VaultDamaged, WeakPassphrase, WrongPassphrase

SECRET = "S3CRET-never-on-disk-0123456789abcdef"
KEY = "AKIA-test-key-9876543210"


class MemoryKeyring(KeyringBackend):
    """The OS keyring (the system boundary) in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def use_keyring():
    old = keyring.get_keyring()

    def use(backend):
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(old)


def test_keys_go_to_the_keyring_one_entry_per_account(use_keyring, tmp_path):
    ring = use_keyring(MemoryKeyring())
    store = CredentialStore(vault_path=tmp_path / "keys.vault")
    assert store.kind == KEYRING and store.available() and not store.locked
    store.save("binance", Credentials(KEY, SECRET))
    store.save("kraken:main", Credentials("k2-key-123456", "k2-secret-123456"))
    assert store.load("binance") == Credentials(KEY, SECRET)
    assert sorted(u for (_s, u) in ring.items) == ["binance", "kraken:main"]
    assert not (tmp_path / "keys.vault").exists()  # with a keyring, no file at all
    assert SECRET not in repr(store.load("binance")) and SECRET not in str(store.load("binance"))
    store.delete("binance")
    assert store.load("binance") is None and store.has("kraken:main")


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring], ids=["fail", "null"])
def test_without_a_usable_keyring_the_encrypted_file_is_offered_never_plaintext(use_keyring, tmp_path, backend):
    use_keyring(backend())
    assert not keyring_usable()
    assert CredentialStore().kind == NONE  # no file configured: keys cannot be saved at all
    with pytest.raises(Exception, match="cannot be saved"):
        CredentialStore().save("binance", Credentials(KEY, SECRET))
    store = CredentialStore(vault_path=tmp_path / "keys.vault")
    assert store.kind == FILE and store.locked and not store.available()
    with pytest.raises(StoreLocked):
        store.save("binance", Credentials(KEY, SECRET))
    assert store.load("binance") is None
    assert not (tmp_path / "keys.vault").exists()
    store.unlock("correct horse battery")  # first use: creates the file
    store.save("binance", Credentials(KEY, SECRET, "pp-phrase"))
    assert store.load("binance") == Credentials(KEY, SECRET, "pp-phrase")
    raw = (tmp_path / "keys.vault").read_bytes()
    assert SECRET.encode() not in raw and KEY.encode() not in raw and b"binance" not in raw
    assert (tmp_path / "keys.vault").stat().st_mode & 0o077 == 0  # only the user may read it

    again = CredentialStore(vault_path=tmp_path / "keys.vault")  # the next start
    assert again.locked and again.load("binance") is None
    again.unlock("correct horse battery")
    assert again.load("binance") == Credentials(KEY, SECRET, "pp-phrase")
    again.delete("binance")
    assert again.load("binance") is None


def test_a_wrong_passphrase_is_said_plainly_and_changes_nothing(tmp_path):
    path = tmp_path / "keys.vault"
    v = Vault(path)
    v.create("the right passphrase")
    v.set("binance", SECRET)
    before = path.read_bytes()
    other = Vault(path)
    with pytest.raises(WrongPassphrase) as err:
        other.unlock("the wrong passphrase")
    assert err.value.message == "Wrong passphrase: the encrypted key file was not opened"
    assert not other.unlocked and path.read_bytes() == before
    other.unlock("the right passphrase")
    assert other.get("binance") == SECRET


def test_a_tampered_file_is_refused_not_decrypted(tmp_path):
    path = tmp_path / "keys.vault"
    v = Vault(path)
    v.create("the right passphrase")
    v.set("binance", SECRET)
    doc = json.loads(path.read_text())
    data = bytearray(__import__("base64").b64decode(doc["data"]))
    data[5] ^= 0x01  # one bit of the ciphertext
    doc["data"] = __import__("base64").b64encode(bytes(data)).decode()
    path.write_text(json.dumps(doc))
    with pytest.raises(VaultDamaged):
        Vault(path).unlock("the right passphrase")
    # the header is authenticated too: weaker KDF parameters cannot be slipped in
    v.set("binance", SECRET)
    doc = json.loads(path.read_text())
    doc["kdf"]["r"] = 4
    path.write_text(json.dumps(doc))
    with pytest.raises((VaultDamaged, WrongPassphrase)):
        Vault(path).unlock("the right passphrase")
    path.write_text("not json at all")
    with pytest.raises(VaultDamaged):
        Vault(path).unlock("the right passphrase")


def test_a_short_passphrase_is_refused(tmp_path):
    with pytest.raises(WeakPassphrase):
        Vault(tmp_path / "keys.vault").create("short")
    assert not (tmp_path / "keys.vault").exists()


def test_each_write_uses_a_fresh_nonce(tmp_path):
    v = Vault(tmp_path / "keys.vault")
    v.create("the right passphrase")
    v.set("a", SECRET)
    first = json.loads((tmp_path / "keys.vault").read_text())
    v.set("a", SECRET)
    second = json.loads((tmp_path / "keys.vault").read_text())
    assert first["nonce"] != second["nonce"] and first["data"] != second["data"]
