"""The window's exchange tools, installed by ``MainWindow`` in one call: the venue and account
picker, the history download dialog (toolbar), the per-venue status (status bar) and the
reconciliation results after the start and after each reconnect (a toast when something changed).

Switching venues closes the window; the entry point (``app.__main__``) starts the next session on
the new choice (``take_switch``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMainWindow, QToolBar

from app import i18n
from app.engine.events import ReconciliationDone
from app.engine.venue_setup import CHOICE_SETTING, LIVE, PAPER, VenueChoice
from app.i18n import _
from app.security.credentials import CredentialStore, default_store

from .history_dialog import HistoryDialog
from .venue_picker import VenuePicker
from .venue_status import VenueStatus, data_source, reconciliation_text

if TYPE_CHECKING:
    from .main_window import MainWindow

_CREDS: list[CredentialStore] = []
_SWITCH: list[VenueChoice] = []
_NOTICES: list[Callable[[], tuple[str, str]]] = []


def credential_store(data_dir: str | Path | None = None) -> CredentialStore:
    """The process's one credential store: an encrypted file unlocked once stays unlocked across
    venue switches (the window is rebuilt, the process is not)."""
    if not _CREDS:
        _CREDS.append(default_store(Path(data_dir)) if data_dir else CredentialStore())
    return _CREDS[0]


def set_credential_store(store: CredentialStore | None) -> None:
    _CREDS[:] = [store] if store is not None else []


def live_fell_back(account: str) -> None:
    """The next window says that a live start became paper: no readable key for ``account``."""
    _NOTICES.append(
        lambda: (
            _("Started in paper mode"),
            _(
                "No API key of {account} could be read (none saved, or the key file is locked). Open "
                "Exchange… to enter or unlock it, then switch to live."
            ).format(account=account),
        )
    )


def dispose_windows() -> None:
    """Delete the closed windows of the session that ended (before the next one opens: restyling
    the application for the new window would otherwise go through every widget of the old one)."""
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMainWindow) and w.parent() is None:  # its docks, dialogs and popups go with it
            w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def take_switch() -> VenueChoice | None:
    """The venue the user switched to when the window closed for it (once), else None."""
    return _SWITCH.pop() if _SWITCH else None


class VenueTools(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        ctx = window.ctx
        self.creds = credential_store(window.data_dir or None)
        self.picker: VenuePicker | None = None
        self.history: HistoryDialog | None = None
        self.picker_action = QAction(window)
        self.picker_action.triggered.connect(self.open_picker)
        self.history_action = QAction(window)
        self.history_action.triggered.connect(self.open_history)
        tb = window.findChild(QToolBar, "main_toolbar")
        if tb is not None:
            acts = tb.actions()
            if acts:
                tb.insertAction(acts[0], self.picker_action)  # before the venue's name
            else:
                tb.addAction(self.picker_action)
            tb.addAction(self.history_action)
        self.status = VenueStatus(ctx)
        window.statusBar().addPermanentWidget(self.status)
        window.conn_label.setVisible(False)  # said per venue here, with latency and clock
        ctx.bridge.reconciled.connect(self.on_reconciled)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.status.refresh)
        self._timer.start()
        self._unlisten = i18n.on_language_changed(lambda _l: self.retranslate())
        window.destroyed.connect(lambda *_a: self._unlisten())
        self.retranslate()
        while _NOTICES:
            window.toasts.show("rejection", _NOTICES.pop(0))

    def current_choice(self) -> VenueChoice:
        saved = VenueChoice.from_dict(self.window.ctx.session.store.get_setting(CHOICE_SETTING))
        ctx = self.window.ctx
        if saved.venue_name == ctx.venue and saved.mode == ctx.mode:
            return saved
        profile = getattr(data_source(ctx.session.venue), "profile", None)
        if profile is None or ctx.mode not in (PAPER, LIVE):
            return VenueChoice()
        account = ctx.venue.partition(":")[2] if ctx.mode == LIVE else ""
        return VenueChoice(profile.ccxt_id, ctx.mode, account)

    def retranslate(self) -> None:
        self.picker_action.setText(_("Exchange…"))
        self.picker_action.setToolTip(_("Choose the exchange, paper or live, and the account; enter API keys"))
        self.history_action.setText(_("Download history…"))
        for dlg in (self.picker, self.history):
            if dlg is not None and dlg.isVisible():
                dlg.retranslate()
        self.status.refresh()

    def open_picker(self) -> VenuePicker:
        dlg = VenuePicker(self.window, self.creds, self.current_choice())
        dlg.switchRequested.connect(self.switch_to)
        dlg.open()
        self.picker = dlg
        return dlg

    def open_history(self) -> HistoryDialog:
        if self.history is not None and self.history.isVisible():
            self.history.raise_()
            return self.history
        dlg = HistoryDialog(self.window, self.window.ctx)
        dlg.show()  # not modal: the window stays usable during a download
        self.history = dlg
        return dlg

    def switch_to(self, choice: VenueChoice) -> None:
        """Remember the choice, and close the window: the entry point starts the new session."""
        self.window.ctx.session.store.set_setting(CHOICE_SETTING, choice.to_dict())
        _SWITCH[:] = [choice]
        QTimer.singleShot(0, self.window.close)

    def on_reconciled(self, e: ReconciliationDone) -> None:
        if e.changes:
            self.window.toasts.show("info", lambda: (_("Reconciliation"), reconciliation_text(e)))
