"""Starts the window on a qasync loop: Qt and asyncio share one thread and one loop."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app import i18n
from app.engine.alerts import AlertService
from app.engine.session import TradingSession
from app.i18n import _

from . import dialogs, theme
from .bridge import EngineBridge
from .context import Selection, UiContext
from .main_window import MainWindow

log = logging.getLogger(__name__)


def _install_excepthook(log_path: Path) -> None:
    """Unexpected errors go to the log and to one plain dialog that says where the log is. The
    dialog is shown and left (never ``exec()``): the market and the orders carry on behind it,
    and further errors while it is open only go to the log."""
    shown: list[QMessageBox] = []

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, exc, tb))
        if QApplication.instance() is None:
            traceback.print_exception(kind, exc, tb)
            return
        if any(b in dialogs.open_dialogs() for b in shown):
            return
        shown[:] = [dialogs.inform(None, _("Something went wrong"), _(
            "An unexpected error happened. Your orders are safe: everything is saved before it is shown. "
            "Details are in the log file:\n{path}").format(path=log_path), error=True)]

    sys.excepthook = hook


async def run_window(session: TradingSession, *, mode: str, data_dir: Path, log_path: Path,
                     symbol: str = "BTC/USDT") -> int:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    store = session.store
    i18n.set_language(store.get_setting("ui.language", "en"))
    theme_name = store.get_setting("ui.theme", "dark")
    theme.apply(app, theme_name)
    _install_excepthook(log_path)
    bridge = EngineBridge(session.bus)
    alerts = AlertService(session.bus, store, session.clock)
    saved = store.get_setting("ui.window") or {}
    selection = Selection(saved.get("symbol", symbol), saved.get("timeframe", "1m"))
    ctx = UiContext(session, bridge, alerts, selection, mode=mode, confirm_orders=mode == "live")
    await session.start()
    if selection.symbol not in {s for (_v, s) in session.orders.instruments}:
        selection.symbol = symbol
    window = MainWindow(ctx, theme_name=theme_name, data_dir=str(data_dir))
    window.apply_theme(theme_name)
    window.show()
    window.load_history()
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.closed.connect(closed.set)
    await closed.wait()
    bridge.close()
    await session.stop()
    store.close()
    return 0


def run(session_factory, *, mode: str, data_dir: Path, log_path: Path) -> int:
    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("AutoGrowth Trader")
    app.setOrganizationName("AutoGrowth")
    # The window's closing ends run_window, which then stops the engine cleanly before the loop ends.
    app.setQuitOnLastWindowClosed(False)
    session = session_factory()
    return qasync.run(run_window(session, mode=mode, data_dir=data_dir, log_path=log_path))
