"""Starts the window on a qasync loop: Qt and asyncio share one thread and one loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import qasync
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication

from app import assets, i18n
from app.engine.alerts import AlertService
from app.engine.session import TradingSession

from . import crash, dialogs, theme
from .bridge import EngineBridge
from .context import Selection, UiContext
from .main_window import MainWindow
from .single_instance import SingleInstance, bring_to_front, second_start

log = logging.getLogger(__name__)


def _install_excepthook(log_path: Path) -> None:
    """Unexpected errors go to the log and to one non-blocking dialog (``crash.py``)."""
    crash.install(log_path)


SHUTDOWN_S = 5.0  # the engine gets this long to stop after the window closes
HARD_EXIT_S = 12.0  # after this, the process ends whatever still runs (the data is flushed by then)


def _exit_watchdog(seconds: float) -> threading.Timer:
    """Ends the process ``seconds`` after the window closed if something (a stuck task, a C
    library) keeps it alive: closing the window must always end the app."""

    def force() -> None:
        log.error("still running %.0f s after the window closed: ending the process", seconds)
        logging.shutdown()
        os._exit(3)

    timer = threading.Timer(seconds, force)
    timer.daemon = True
    timer.start()
    _WATCHDOGS.append(timer)
    return timer


_WATCHDOGS: list[threading.Timer] = []


def keep_running() -> None:
    """The process goes on after a window closed on purpose (the user switched venue and the next
    window opens): the closed window's exit watchdog stands down."""
    while _WATCHDOGS:
        _WATCHDOGS.pop().cancel()


def _close_on_signals(close: Callable[[], object]) -> Callable[[], None]:
    """SIGINT/SIGTERM (Ctrl+C, logout, a service manager) close the window as its ✕ does. Python
    runs the handler at its next bytecode: the bridge's frame timer makes that within ~33 ms."""
    old: dict[int, Callable[[int, FrameType | None], Any] | int | signal.Handlers | None] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, lambda *_a: QTimer.singleShot(0, close))
        except (ValueError, OSError):  # not the main thread, or not on this platform
            pass

    def restore() -> None:
        for sig, handler in old.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)

    return restore


async def shutdown(session: TradingSession, bridge: EngineBridge, *, timeout_s: float = SHUTDOWN_S) -> bool:
    """Stop the engine and flush the store after the window closed: open questions are answered
    "no", the session gets ``timeout_s`` to stop (a stuck stop is abandoned, not awaited), then
    the store is closed. True when the session stopped in time."""
    dialogs.close_all()
    bridge.close()
    stop = asyncio.ensure_future(session.stop())
    done, _pending = await asyncio.wait({stop}, timeout=timeout_s)
    stopped = stop in done and not stop.cancelled() and stop.exception() is None
    if stop not in done:
        stop.cancel()
        log.error("the session did not stop within %.0f s; closing the store anyway", timeout_s)
    elif not stopped:
        log.error("stopping the session failed", exc_info=stop.exception())
    try:
        session.store.close()
    except Exception:
        log.exception("closing the store failed")
    log.info("session stopped and data flushed")
    return stopped


def open_window(
    session: TradingSession, *, mode: str, data_dir: Path, symbol: str = "BTC/USDT", language: str | None = None
) -> tuple[MainWindow, EngineBridge]:
    """The main window on ``session`` in the stored language and theme (``language`` overrides the
    stored one), not shown yet and with the engine not started."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    store = session.store
    i18n.set_language(language or store.get_setting("ui.language", "en"))
    theme_name = store.get_setting("ui.theme", "dark")
    theme.apply(app, theme_name)
    bridge = EngineBridge(session.bus)
    alerts = AlertService(session.bus, store, session.clock)
    saved = store.get_setting("ui.window") or {}
    selection = Selection(saved.get("symbol", symbol), saved.get("timeframe", "1m"))
    ctx = UiContext(session, bridge, alerts, selection, mode=mode, confirm_orders=mode == "live")
    # The window first, then the engine: the user sees the app at once, with "Connecting…" and
    # then "Loading history…" in the status bar, instead of a black window.
    window = MainWindow(ctx, theme_name=theme_name, data_dir=str(data_dir))
    window.apply_theme(theme_name)
    return window, bridge


def app_icon() -> QIcon:
    """The app's icon from the shipped PNG sizes (an empty icon if none ships)."""
    icon = QIcon()
    for f in assets.icon_files():
        pixmap = QPixmap()
        if pixmap.loadFromData(f.read_bytes()):
            icon.addPixmap(pixmap)
    return icon


def make_application() -> QApplication:
    """The one QApplication, named, with the app's icon."""
    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("AutoGrowth Trader")
    app.setOrganizationName("AutoGrowth")
    app.setWindowIcon(app_icon())
    return app


async def run_window(
    session: TradingSession,
    *,
    mode: str,
    data_dir: Path,
    log_path: Path,
    symbol: str = "BTC/USDT",
    shutdown_timeout_s: float = SHUTDOWN_S,
    hard_exit_s: float | None = HARD_EXIT_S,
    instance: SingleInstance | None = None,
) -> int:
    uninstall_crash = crash.install(log_path, asyncio.get_running_loop())
    window, bridge = open_window(session, mode=mode, data_dir=data_dir, symbol=symbol)
    if instance is not None:  # a second start of the app asks for this window
        instance.activate_requested.connect(lambda: bring_to_front(window))
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.closed.connect(closed.set)
    restore_signals = _close_on_signals(window.close)
    window.show()
    log.info("window shown")
    try:
        starting = asyncio.ensure_future(window.start_session(default_symbol=symbol))
        await closed.wait()
        starting.cancel()
    finally:
        if instance is not None:
            instance.closing = True  # a start from now on is told to wait, the window stays closed
        restore_signals()
        if window.isVisible():  # the app is quitting another way: save the layout as a close does
            window.close()
        if hard_exit_s is not None:
            _exit_watchdog(hard_exit_s)
        await shutdown(session, bridge, timeout_s=shutdown_timeout_s)
        uninstall_crash()
    return 0


def run(session_factory: Callable[[], TradingSession], *, mode: str, data_dir: Path, log_path: Path) -> int:
    app = make_application()
    # One app per data folder: a second start brings the first to the front (or says why not)
    # before it opens the database.
    instance = SingleInstance(data_dir)
    if not instance.acquire():
        return second_start(instance)
    try:
        # The window's closing ends run_window, which then stops the engine cleanly before the loop ends.
        app.setQuitOnLastWindowClosed(False)
        try:
            session = session_factory()  # opens the database (a newer schema, a locked file...)
        except Exception as exc:
            return crash.startup_failed(exc, log_path)
        rc = qasync.run(run_window(session, mode=mode, data_dir=data_dir, log_path=log_path, instance=instance))
    finally:
        instance.release()
    log.info("exiting with %s", rc)
    return rc
