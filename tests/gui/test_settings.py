"""Settings: API keys go to the OS keyring and a saved secret is never shown again."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend

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


def test_saved_secret_is_never_shown_again_and_can_be_removed(qtbot, ring, tmp_path):
    creds = CredentialStore()
    dlg = SettingsDialog(None, theme="dark", data_dir=str(tmp_path), creds=creds)
    qtbot.addWidget(dlg)
    box = dlg.key_boxes[0]
    box.key.setText("AKEY1234567890")
    box.secret.setText("s3cr3t-value")
    box.save()
    assert creds.load("binance") == Credentials("AKEY1234567890", "s3cr3t-value")
    assert box.key.text() == "" and box.secret.text() == ""  # nothing comes back into a field
    assert box.key.placeholderText() == "AKEY…90"
    assert "s3cr3t" not in repr(creds.load("binance"))
    assert box.state.text() == "Saved in the system keyring"
    box.delete()
    assert creds.load("binance") is None and box.state.text() == "No key saved"


def test_a_key_without_its_secret_is_refused_with_a_message(qtbot, ring, tmp_path):
    dlg = SettingsDialog(None, theme="dark", data_dir=str(tmp_path), creds=CredentialStore())
    qtbot.addWidget(dlg)
    box = dlg.key_boxes[1]
    box.key.setText("only-a-key")
    box.save()
    assert box.state.text() == "Enter both the API key and the secret"
    assert ring.items == {}
