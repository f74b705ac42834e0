"""Entering an account's API key: checked with a read-only call before it is saved (a key the
exchange refuses is not kept), a warning when the exchange says the key can withdraw, and — on a
computer without an OS keyring — the passphrase of the encrypted key file. A saved secret is never
shown again; nothing of it goes to a log."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.domain.errors import AppError
from app.engine.venue_setup import KeyCheck, check_key, needs_passphrase
from app.i18n import _
from app.security.credentials import KEYRING, Credentials, CredentialStore, mask
from app.security.vault import VaultDamaged, WeakPassphrase, WrongPassphrase

log = logging.getLogger(__name__)


def vault_error_text(exc: Exception) -> str:
    if isinstance(exc, WrongPassphrase):
        return _("Wrong passphrase: the encrypted key file was not opened")
    if isinstance(exc, VaultDamaged):
        return _("The encrypted key file was changed or damaged; it cannot be read")
    if isinstance(exc, WeakPassphrase):
        return _("Choose a passphrase of at least 8 characters")
    return _("The key store refused the key; it was not saved")


def check_text(check: KeyCheck) -> str:
    if not check.ok:
        if check.error_key == "error.auth_failed":
            return _("The exchange refused this key: {detail}").format(detail=check.error)
        return _("The key could not be checked: {detail}").format(detail=check.error)
    return _("The key works (read-only call answered; {n} asset(s) held)").format(n=check.assets)


class UnlockBox(QWidget):
    """No OS keyring: the encrypted key file's passphrase (the file is created on first use)."""

    unlocked = Signal()

    def __init__(self, creds: CredentialStore) -> None:
        super().__init__()
        self.creds = creds
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("error")
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.unlock_btn = QPushButton()
        self.unlock_btn.clicked.connect(self.unlock)
        self.state = QLabel()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.note)
        row = QHBoxLayout()
        row.addWidget(self.passphrase, 1)
        row.addWidget(self.unlock_btn)
        lay.addLayout(row)
        lay.addWidget(self.state)
        self.retranslate()

    def retranslate(self) -> None:
        exists = self.creds.vault is not None and self.creds.vault.exists
        self.note.setText(
            _(
                "No system keyring is available on this computer. API keys can be kept in a file encrypted "
                "with a passphrase instead (never in plain text)."
            )
        )
        self.passphrase.setPlaceholderText(_("Passphrase of the key file") if exists else _("New passphrase"))
        self.unlock_btn.setText(_("Unlock") if exists else _("Create key file"))
        self.setVisible(self.creds.locked)

    def unlock(self) -> None:
        try:
            self.creds.unlock(self.passphrase.text())
        except AppError as exc:
            self.state.setText(vault_error_text(exc))
            return
        finally:
            self.passphrase.clear()
        self.state.setText("")
        self.setVisible(False)
        self.unlocked.emit()


class ApiKeyDialog(QDialog):
    """Key and secret (and passphrase where the exchange has one) of one account."""

    saved = Signal(str)  # account

    def __init__(
        self,
        parent: QWidget | None,
        creds: CredentialStore,
        exchange: str,
        account: str = "",
        *,
        base_url: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.creds, self.exchange, self.account = creds, exchange, account or exchange
        self.base_url = base_url
        self.last_check: KeyCheck | None = None
        self.unlock_box = UnlockBox(creds)
        self.unlock_box.unlocked.connect(self.refresh)
        self.key = QLineEdit()
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setObjectName("error")
        self.warning.setVisible(False)
        self.save_btn = QPushButton()
        self.save_btn.clicked.connect(self.check_and_save)
        self.delete_btn = QPushButton()
        self.delete_btn.clicked.connect(self.delete)
        self.close_btn = QPushButton()
        self.close_btn.clicked.connect(self.close)
        self.labels = [QLabel() for _i in range(3)]
        self.form = QFormLayout()
        self.form.addRow(self.labels[0], self.key)
        self.form.addRow(self.labels[1], self.secret)
        self.form.addRow(self.labels[2], self.passphrase)
        self.form.setRowVisible(2, needs_passphrase(exchange))  # Binance, Kraken, Upbit: key and secret only
        lay = QVBoxLayout(self)
        lay.addWidget(self.unlock_box)
        lay.addLayout(self.form)
        lay.addWidget(self.state)
        lay.addWidget(self.warning)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.delete_btn)
        row.addWidget(self.save_btn)
        row.addWidget(self.close_btn)
        lay.addLayout(row)
        self.setMinimumWidth(460)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.setWindowTitle(_("API key for {account}").format(account=self.account))
        for label, text in zip(self.labels, (_("API key"), _("Secret"), _("Passphrase")), strict=True):
            label.setText(text)
        self.save_btn.setText(_("Check and save"))
        self.delete_btn.setText(_("Remove key"))
        self.close_btn.setText(_("Done"))
        self.unlock_box.retranslate()

    def refresh(self) -> None:
        """What is saved, shown only as a masked key id; the fields start empty."""
        ready = self.creds.available()
        saved = self.creds.load(self.account) if ready else None
        self.key.clear()
        self.secret.clear()
        self.passphrase.clear()
        self.key.setPlaceholderText(mask(saved.api_key) if saved else "")
        for w in (self.key, self.secret, self.passphrase, self.save_btn):
            w.setEnabled(ready)
        self.delete_btn.setEnabled(saved is not None)
        if not ready:
            self.state.setText(
                _("Unlock the key file first") if self.creds.locked else _("API keys cannot be saved on this computer")
            )
        elif saved is not None:
            where = _("the system keyring") if self.creds.kind == KEYRING else _("the encrypted key file")
            self.state.setText(_("A key is saved in {where}").format(where=where))
        else:
            self.state.setText(_("No key saved"))

    @asyncSlot()
    async def check_and_save(self) -> None:
        creds = Credentials(self.key.text().strip(), self.secret.text().strip(), self.passphrase.text().strip())
        if not creds.api_key or not creds.secret:
            self.state.setText(_("Enter both the API key and the secret"))
            return
        self.save_btn.setEnabled(False)
        self.warning.setVisible(False)
        self.state.setText(_("Checking the key with {exchange}…").format(exchange=self.exchange))
        try:
            check = await check_key(self.exchange, creds, base_url=self.base_url)
        finally:
            self.save_btn.setEnabled(True)
        self.last_check = check
        if not check.ok:
            log.info("key %s for %s refused: %s", mask(creds.api_key), self.account, check.error_key)
            self.state.setText(check_text(check))
            return
        try:
            self.creds.save(self.account, creds)
        except AppError as exc:
            self.state.setText(vault_error_text(exc))
            return
        except Exception:
            log.exception("saving the key of %s failed", self.account)
            self.state.setText(_("The key store refused the key; it was not saved"))
            return
        self.refresh()
        self.state.setText(check_text(check))
        if check.can_withdraw:
            self.warning.setText(
                _(
                    "This key can withdraw funds. A trading app needs no withdrawal permission: create a key "
                    "without it on the exchange's website."
                )
            )
            self.warning.setVisible(True)
        self.saved.emit(self.account)

    def delete(self) -> None:
        self.creds.delete(self.account)
        self.refresh()
