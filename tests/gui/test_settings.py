"""Settings: API keys are entered through the dialog that checks them, kept in the OS keyring, and a
saved secret is never shown again."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtWidgets import QLabel, QLineEdit

from app.security.credentials import Credentials, CredentialStore
from app.ui.settings_dialog import SettingsDialog


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring (the system boundary) during the test."""

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
def ring():
    old = keyring.get_keyring()
    mem = MemoryKeyring()
    keyring.set_keyring(mem)
    yield mem
    keyring.set_keyring(old)


def _texts(dlg) -> str:
    return " ".join(w.text() for w in dlg.findChildren(QLabel) + dlg.findChildren(QLineEdit))


def test_saved_keys_show_as_a_masked_id_only_and_can_be_removed(qtbot, ring, tmp_path):
    creds = CredentialStore()
    creds.save("upbit", Credentials("AKEY1234567890", "s3cr3t-value"))
    dlg = SettingsDialog(None, theme="dark", data_dir=str(tmp_path), creds=creds)
    qtbot.addWidget(dlg)
    rows = {r.exchange: r for r in dlg.key_rows}
    assert list(rows) == ["binance", "upbit", "kraken", "coinbase"]
    assert rows["upbit"].state.text() == "AKEY…90 · in the system keyring"
    assert rows["binance"].state.text() == "No key saved" and not rows["binance"].delete_btn.isEnabled()
    assert "s3cr3t" not in _texts(dlg) and "AKEY1234567890" not in _texts(dlg)
    rows["upbit"].delete_btn.click()
    assert creds.load("upbit") is None and rows["upbit"].state.text() == "No key saved"


def test_a_key_is_entered_only_through_the_dialog_that_checks_it(qt_loop, qtbot, ring, tmp_path):
    dlg = SettingsDialog(None, theme="dark", data_dir=str(tmp_path), creds=CredentialStore())
    qtbot.addWidget(dlg)
    dlg.show()
    row = dlg.key_rows[2]
    # no secret field in the settings themselves
    assert all(e.echoMode() != QLineEdit.EchoMode.Password for e in dlg.findChildren(QLineEdit))
    keys = row.open_key_dialog()
    assert keys.isVisible() and keys.exchange == "kraken" and keys.account == "kraken"
    keys.key.setText("only-a-key")
    keys.save_btn.click()
    qtbot.waitUntil(lambda: keys.state.text() == "Enter both the API key and the secret")
    assert ring.items == {}
    keys.close()
