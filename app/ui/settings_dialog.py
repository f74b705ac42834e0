"""Settings: language, theme, exchange API keys (saved in the OS keyring; a saved secret is never
shown again), and where the data lives."""

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
from app.security.credentials import FILE, KEYRING, Credentials, CredentialStore, mask

from .api_key_dialog import UnlockBox

EXCHANGES = (("binance", "Binance"), ("coinbase", "Coinbase"), ("kraken", "Kraken"))
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


class ApiKeyBox(QGroupBox):
    def __init__(self, account: str, title: str, creds: CredentialStore) -> None:
        super().__init__(title)
        self.account, self.creds = account, creds
        self.key = QLineEdit()
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.state = QLabel()
        self.state.setObjectName("muted")
        self.save_btn = QPushButton(_("Save key"))
        self.delete_btn = QPushButton(_("Remove key"))
        self.save_btn.clicked.connect(self.save)
        self.delete_btn.clicked.connect(self.delete)
        form = QFormLayout(self)
        form.addRow(_("API key"), self.key)
        form.addRow(_("Secret"), self.secret)
        if account == "coinbase":
            form.addRow(_("Passphrase"), self.passphrase)
        row = QHBoxLayout()
        row.addWidget(self.state, 1)
        row.addWidget(self.save_btn)
        row.addWidget(self.delete_btn)
        form.addRow(row)
        self.refresh()

    def refresh(self) -> None:
        saved = self.creds.load(self.account)
        # A saved secret is never put back into a field: only a masked key id is shown.
        self.key.clear()
        self.secret.clear()
        self.passphrase.clear()
        self.key.setPlaceholderText(mask(saved.api_key) if saved else "")
        where = _("Saved in the system keyring") if self.creds.kind == KEYRING else _("Saved in the encrypted key file")
        self.state.setText(where if saved else _("No key saved"))
        self.delete_btn.setEnabled(saved is not None)

    def save(self) -> None:
        try:
            self.creds.save(self.account, Credentials(self.key.text(), self.secret.text(), self.passphrase.text()))
        except ValueError:
            self.state.setText(_("Enter both the API key and the secret"))
            return
        except Exception:
            self.state.setText(_("The system keyring refused the key; it was not saved"))
            return
        self.refresh()

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
        self.key_boxes = [ApiKeyBox(acc, title, creds) for acc, title in EXCHANGES]
        for box in self.key_boxes:
            lay.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("OK"))  # ours, in the app's language
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        buttons.accepted.connect(self.accept)
        self.buttons = buttons
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _refresh_keys(self) -> None:
        for box in self.key_boxes:
            box.refresh()

    def hotkey_keys(self) -> dict[str, str]:
        return {a: e.keySequence().toString() for a, e in self.hotkey_edits.items()}
