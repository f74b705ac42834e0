"""Unexpected errors: logged in full, and shown as one plain, non-blocking dialog that says the
orders are safe and where the log is (never a traceback).

Three doors lead here: ``sys.excepthook`` (an exception in a Qt slot or in the main thread),
``threading.excepthook`` (a worker thread) and the asyncio loop's exception handler (a task that
failed with nobody awaiting it). The dialog is shown and left (never ``exec()``): the market and
the orders carry on behind it, and further errors while it is open only go to the log."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox

from app.domain.errors import AppError
from app.i18n import _

from . import dialogs

log = logging.getLogger(__name__)


def add_log_button(box: QMessageBox, log_path: Path) -> None:
    """A button beside OK that opens the folder of the log in the file manager."""
    button = box.addButton(_("Open the log folder"), QMessageBox.ButtonRole.ActionRole)
    button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_path.parent))))


def message(log_path: Path) -> str:
    return _(
        "An unexpected error happened. Your orders are safe: everything is saved before it is shown. "
        "Details are in the log file:\n{path}"
    ).format(path=log_path)


class CrashReporter(QObject):
    """Shows at most one error dialog at a time; errors from other threads arrive by a queued signal."""

    _from_thread = Signal()

    def __init__(self, log_path: Path) -> None:
        super().__init__(QApplication.instance())
        self.log_path = log_path
        self.shown: list[QMessageBox] = []
        self._from_thread.connect(self.show_dialog)

    def show_dialog(self) -> QMessageBox | None:
        if any(b in dialogs.open_dialogs() for b in self.shown):
            return None
        box = dialogs.inform(None, _("Something went wrong"), message(self.log_path), error=True)
        add_log_button(box, self.log_path)
        self.shown[:] = [box]
        return box

    def report(self, exc_info: tuple[type[BaseException], BaseException, TracebackType | None], where: str) -> None:
        log.error("unexpected error (%s)", where, exc_info=exc_info)
        if QApplication.instance() is None:
            traceback.print_exception(*exc_info)
            return
        if threading.current_thread() is threading.main_thread():
            self.show_dialog()
        else:
            self._from_thread.emit()

    # -- the three doors ------------------------------------------------------------------------------
    def excepthook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        self.report((kind, exc, tb), "main thread")

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "?"
        self.report((args.exc_type, args.exc_value, args.exc_traceback), f"thread {name}")

    def loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if not isinstance(exc, BaseException) or isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            # A warning without an exception (an unclosed connection at exit...): the log only.
            log.warning("asyncio: %s", context.get("message", context))
            return
        self.report((type(exc), exc, exc.__traceback__), f"asyncio: {context.get('message', 'a task failed')}")


def install(log_path: Path, loop: asyncio.AbstractEventLoop | None = None) -> Callable[[], None]:
    """Route unexpected errors to the log and the dialog; returns a function that undoes it."""
    reporter = CrashReporter(log_path)
    old_sys, old_thread = sys.excepthook, threading.excepthook
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook
    old_loop = loop.get_exception_handler() if loop is not None else None
    if loop is not None:
        loop.set_exception_handler(reporter.loop_handler)

    def uninstall() -> None:
        sys.excepthook, threading.excepthook = old_sys, old_thread
        if loop is not None:
            loop.set_exception_handler(old_loop)
        reporter.deleteLater()

    return uninstall


def startup_message(exc: BaseException, log_path: Path) -> str:
    """Why the app could not start, in words (an error the app explains, else a generic reason)."""
    if isinstance(exc, AppError):
        try:
            reason = _(exc.template).format(**exc.params)
        except (KeyError, IndexError, ValueError):
            reason = exc.message
    else:
        reason = _("an unexpected error")
    return _("AutoGrowth Trader could not start: {reason}\n\nDetails are in the log file:\n{path}").format(
        reason=reason, path=log_path
    )


def startup_failed(exc: BaseException, log_path: Path) -> int:
    """Before the window: log the error, say why in a dialog (not modal; the application's own
    event loop runs until it is closed) and return the exit code 1."""
    log.error("the app could not start", exc_info=exc)
    text = startup_message(exc, log_path)
    if sys.stderr is not None:
        print(text, file=sys.stderr)
    box = dialogs.inform(None, _("AutoGrowth Trader could not start"), text, error=True)
    add_log_button(box, log_path)
    wait = QEventLoop()  # no window yet: this loop is the app's, until the message is closed
    box.finished.connect(lambda _code: wait.quit())
    wait.exec()
    return 1
