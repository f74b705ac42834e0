"""Choosing where to trade: the offline demo market, or an exchange — paper on its live market data
(no key) or live with an account's API key (checked on entry). Switching to live asks first, in the
LIVE colours; the window then restarts on the new venue (orders, fills and candles are kept per
venue, so nothing of one venue mixes with another)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.engine.venue_setup import DEMO, LIVE, PAPER, VenueChoice, known_exchanges
from app.i18n import _
from app.security.credentials import CredentialStore, mask

from . import dialogs
from .api_key_dialog import ApiKeyDialog

NAMES = {"demo": "Demo market", "binance": "Binance", "coinbase": "Coinbase", "kraken": "Kraken", "upbit": "Upbit"}


class VenuePicker(QDialog):
    """Non-modal: the market keeps running behind it. ``switchRequested`` carries the choice once
    the user confirmed it (live mode asks first)."""

    switchRequested = Signal(object)  # VenueChoice

    def __init__(self, parent: QWidget | None, creds: CredentialStore, current: VenueChoice) -> None:
        super().__init__(parent)
        self.creds, self.current = creds, current
        self.key_dialog: ApiKeyDialog | None = None
        self.exchange = QComboBox()
        self.exchange.addItem("", DEMO)
        for ex in known_exchanges():
            self.exchange.addItem("", ex)
        self.paper = QRadioButton()
        self.live = QRadioButton()
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.paper)
        self.modes.addButton(self.live)
        self.account = QLineEdit()
        self.base_url = QLineEdit()
        self.key_state = QLabel()
        self.key_btn = QPushButton()
        self.key_btn.clicked.connect(self.open_key_dialog)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("muted")
        self.switch_btn = QPushButton()
        self.switch_btn.clicked.connect(self.switch)
        self.close_btn = QPushButton()
        self.close_btn.clicked.connect(self.close)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.paper)
        mode_row.addWidget(self.live)
        mode_row.addStretch(1)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_state, 1)
        key_row.addWidget(self.key_btn)
        self.labels = [QLabel() for _i in range(5)]
        self.form = QFormLayout()
        self.form.addRow(self.labels[0], self.exchange)
        self.form.addRow(self.labels[1], mode_row)
        self.form.addRow(self.labels[2], self.account)
        self.form.addRow(self.labels[3], key_row)
        self.form.addRow(self.labels[4], self.base_url)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.switch_btn)
        buttons.addWidget(self.close_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.note)
        lay.addLayout(buttons)
        self.setMinimumWidth(480)
        self.exchange.setCurrentIndex(max(0, self.exchange.findData(current.exchange)))
        (self.live if current.mode == LIVE else self.paper).setChecked(True)
        self.account.setText(current.account)
        self.base_url.setText(current.base_url or "")
        self.exchange.currentIndexChanged.connect(lambda _i: self.update_state())
        self.paper.toggled.connect(lambda _c: self.update_state())
        self.account.textChanged.connect(lambda _t: self.update_state())
        self.retranslate()

    # -- what is chosen ------------------------------------------------------------------------------
    def choice(self) -> VenueChoice:
        ex = str(self.exchange.currentData())
        if ex == DEMO:
            return VenueChoice()
        mode = LIVE if self.live.isChecked() else PAPER
        return VenueChoice(ex, mode, self.account.text().strip(), self.base_url.text().strip() or None)

    def retranslate(self) -> None:
        self.setWindowTitle(_("Exchange and account"))
        for i in range(self.exchange.count()):
            code = str(self.exchange.itemData(i))
            self.exchange.setItemText(i, _("Demo market (offline)") if code == DEMO else NAMES.get(code, code))
        self.paper.setText(_("Paper (live market data, simulated orders)"))
        self.live.setText(_("Live (real orders with your API key)"))
        labels = (_("Venue"), _("Mode"), _("Account"), _("API key"), _("Exchange address"))
        for label, text in zip(self.labels, labels, strict=True):
            label.setText(text)
        self.account.setPlaceholderText(_("e.g. main (default: the exchange's name)"))
        self.base_url.setPlaceholderText(_("the exchange's own (or a loopback exchange, http://127.0.0.1:8765)"))
        self.key_btn.setText(_("Enter key…"))
        self.switch_btn.setText(_("Switch"))
        self.close_btn.setText(_("Done"))
        self.update_state()

    def update_state(self) -> None:
        c = self.choice()
        exchange = c.exchange != DEMO
        for w in (self.paper, self.live, self.base_url):
            w.setEnabled(exchange)
        live = c.mode == LIVE
        self.account.setEnabled(live)
        self.key_btn.setEnabled(live)
        saved = self.creds.load(c.account_id) if live and self.creds.available() else None
        if not live:
            self.key_state.setText(_("not needed"))
        elif saved is not None:
            self.key_state.setText(_("saved ({key})").format(key=mask(saved.api_key)))
        elif self.creds.locked:
            self.key_state.setText(_("key file locked"))
        else:
            self.key_state.setText(_("no key saved"))
        if c.mode == DEMO:
            self.note.setText(_("The offline demo market: no account, no network."))
        elif c.mode == PAPER:
            self.note.setText(
                _("Paper trading on {name}'s live market data: orders are filled here, never sent.").format(
                    name=NAMES.get(c.exchange, c.exchange)
                )
            )
        else:
            self.note.setText(
                _("Live trading: orders go to {name} with real money.").format(name=NAMES.get(c.exchange, c.exchange))
            )
        self.switch_btn.setEnabled(c != self.current and (not live or saved is not None))

    # -- actions -------------------------------------------------------------------------------------
    def open_key_dialog(self) -> ApiKeyDialog:
        c = self.choice()
        dlg = ApiKeyDialog(self, self.creds, c.exchange, c.account_id, base_url=c.base_url)
        dlg.saved.connect(lambda _a: self.update_state())
        dlg.finished.connect(lambda _r: self.update_state())
        dlg.open()
        self.key_dialog = dlg
        return dlg

    @asyncSlot()
    async def switch(self) -> None:
        c = self.choice()
        if c.mode == LIVE:
            answer = await dialogs.ask(
                self,
                _("Trade live"),
                _(
                    "Switch to LIVE trading on {name} (account {account})? Orders will be real and use real money."
                ).format(name=NAMES.get(c.exchange, c.exchange), account=c.account_id),
                accept=_("Trade live"),
                reject=_("Stay"),
                danger=True,
            )
            if not answer:
                return
        self.switchRequested.emit(c)
        self.close()
