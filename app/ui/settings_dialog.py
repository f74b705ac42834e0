"""Settings: language, theme, hotkeys, exchange API keys (each checked with a read-only call before
it is saved in the OS keyring or the encrypted key file; a saved secret is never shown again), and
where the data lives."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.i18n import LANGUAGES, N_, _, language
from app.security.credentials import FILE, KEYRING, CredentialStore, mask

from .api_key_dialog import ApiKeyDialog, UnlockBox

EXCHANGES = (("binance", "Binance"), ("upbit", "Upbit"), ("kraken", "Kraken"), ("coinbase", "Coinbase"))
HOTKEYS_SETTING = "ui.hotkeys"
HOTKEY_ACTIONS = {
    "cancel_all": N_("Cancel all orders"),
    "close_position": N_("Close the position on screen"),
    "market_buy": N_("Market buy (hotkey size)"),
    "market_sell": N_("Market sell (hotkey size)"),
}
DEFAULT_HOTKEYS = {
    "cancel_all": "Ctrl+Shift+X",
    "close_position": "Ctrl+Shift+C",
    "market_buy": "Ctrl+Shift+B",
    "market_sell": "Ctrl+Shift+S",
}


class ApiKeyRow(QWidget):
    """One exchange's saved key, shown as a masked key id. "Enter key…" opens the key dialog, which
    checks a key with a read-only call before it keeps it; there is no other way a key gets saved."""

    def __init__(self, exchange: str, title: str, creds: CredentialStore) -> None:
        super().__init__()
        self.exchange, self.account, self.creds = exchange, exchange, creds
        self.key_dialog: ApiKeyDialog | None = None
        self.name = QLabel(title)
        self.name.setMinimumWidth(self.name.fontMetrics().horizontalAdvance("Coinbase") + 16)  # one column
        self.state = QLabel()
        self.state.setObjectName("muted")
        self.enter_btn = QPushButton(_("Enter key…"))
        self.delete_btn = QPushButton(_("Remove key"))
        self.enter_btn.clicked.connect(self.open_key_dialog)
        self.delete_btn.clicked.connect(self.delete)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.name)
        row.addWidget(self.state, 1)
        row.addWidget(self.enter_btn)
        row.addWidget(self.delete_btn)
        self.refresh()

    def refresh(self) -> None:
        ready = self.creds.available()
        saved = self.creds.load(self.account) if ready else None
        if saved is None:
            self.state.setText(_("No key saved") if ready or not self.creds.locked else _("Unlock the key file first"))
        elif self.creds.kind == KEYRING:
            self.state.setText(_("{key} · in the system keyring").format(key=mask(saved.api_key)))
        else:
            self.state.setText(_("{key} · in the encrypted key file").format(key=mask(saved.api_key)))
        self.enter_btn.setEnabled(ready)
        self.delete_btn.setEnabled(saved is not None)

    def open_key_dialog(self) -> ApiKeyDialog:
        """Beside the settings (``open()``, never ``exec()``); the row follows what it saves."""
        dlg = ApiKeyDialog(self.window(), self.creds, self.exchange, self.account)
        dlg.saved.connect(lambda _a: self.refresh())
        dlg.finished.connect(lambda _r: self.refresh())
        dlg.open()
        self.key_dialog = dlg
        return dlg

    def delete(self) -> None:
        self.creds.delete(self.account)
        self.refresh()


class SettingsDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None,
        *,
        theme: str,
        data_dir: str,
        creds: CredentialStore,
        hotkeys: dict[str, str] | None = None,
        hotkey_value: str = "",
        quote: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Settings"))
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(self.language.findData(language()))
        self.theme = QComboBox()
        self.theme.addItem(_("Dark"), "dark")
        self.theme.addItem(_("Light"), "light")
        self.theme.setCurrentIndex(self.theme.findData(theme))
        general = QFormLayout()
        general.addRow(_("Language"), self.language)
        general.addRow(_("Theme"), self.theme)
        folder = QLabel(data_dir)
        folder.setObjectName("muted")
        general.addRow(_("Data folder"), folder)
        lay = QVBoxLayout(self)
        lay.addLayout(general)
        if creds.kind == FILE:  # no OS keyring: the encrypted key file, unlocked by its passphrase
            self.unlock_box = UnlockBox(creds)
            self.unlock_box.unlocked.connect(self._refresh_keys)
            lay.addWidget(self.unlock_box)
        elif not creds.available():
            warn = QLabel(_("No system keyring is available: API keys cannot be saved on this computer."))
            warn.setObjectName("error")
            warn.setWordWrap(True)
            lay.addWidget(warn)
        keys_box = QGroupBox(_("Hotkeys"))
        keys_form = QFormLayout(keys_box)
        self.hotkey_edits: dict[str, QKeySequenceEdit] = {}
        for action, label in HOTKEY_ACTIONS.items():
            edit = QKeySequenceEdit(QKeySequence((hotkeys or DEFAULT_HOTKEYS).get(action, "")))
            edit.setClearButtonEnabled(True)
            keys_form.addRow(_(label), edit)
            self.hotkey_edits[action] = edit
        self.hotkey_value = QLineEdit(hotkey_value)
        self.hotkey_value.setPlaceholderText(_("e.g. 100"))
        keys_form.addRow(_("Hotkey order size ({quote})").format(quote=quote or _("quote currency")), self.hotkey_value)
        lay.addWidget(keys_box)
        keys_group = QGroupBox(_("Exchange API keys"))
        keys_lay = QVBoxLayout(keys_group)
        self.key_rows = [ApiKeyRow(exchange, title, creds) for exchange, title in EXCHANGES]
        for row in self.key_rows:
            keys_lay.addWidget(row)
        lay.addWidget(keys_group)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("OK"))  # ours, in the app's language
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        buttons.accepted.connect(self.accept)
        self.buttons = buttons
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _refresh_keys(self) -> None:
        for row in self.key_rows:
            row.refresh()

    def hotkey_keys(self) -> dict[str, str]:
        return {a: e.keySequence().toString() for a, e in self.hotkey_edits.items()}
