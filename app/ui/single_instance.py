"""One running app per data folder: a second start brings the first window to the front, or says
why it cannot.

The first start takes a lock file in the data folder (``QLockFile``: a lock left by a process that
no longer runs is taken over) and listens on a local socket named after the folder. A second start
finds the lock taken, connects to that socket and asks the first to show itself; the first answers
``ok <pid>`` and raises its window. When nobody answers (the first is still starting, or stuck),
the second start shows a message that says so and which process holds the folder."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QLockFile, QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QMessageBox, QWidget

from app.i18n import _

from . import dialogs

log = logging.getLogger(__name__)

LOCK_FILE = "autogrowth.lock"
ANSWER_MS = 3000  # how long a second start waits for the first to answer


def server_name(data_dir: Path) -> str:
    """The local socket's name for ``data_dir`` (one per folder; case-insensitive on Windows)."""
    key = str(data_dir.resolve())
    if os.name == "nt":
        key = key.lower()
    return "autogrowth-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


class SingleInstance(QObject):
    """``acquire()`` once at start; ``activate_requested`` fires when a second start asks."""

    activate_requested = Signal()

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.name = server_name(data_dir)
        self.lock = QLockFile(str(data_dir / LOCK_FILE))
        self.lock.setStaleLockTime(0)  # never by age: only a lock whose process is gone is stale
        self.server: QLocalServer | None = None
        self.closing = False  # the window closed: later starts are told to wait, not "ok"

    def acquire(self) -> bool:
        """True when this process now owns the data folder (and listens for later starts)."""
        if not self.lock.tryLock(0):
            return False
        QLocalServer.removeServer(self.name)  # a socket file left by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("single instance: cannot listen on %s: %s", self.name, server.errorString())
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def holder_pid(self) -> int | None:
        info = self.lock.getLockInfo()  # (pid, host name, app name); pid 0 when unknown
        pid = info[0] if isinstance(info, tuple) and info else 0
        return pid if isinstance(pid, int) and pid > 0 else None

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock.isLocked():
            self.lock.unlock()

    def _on_connection(self) -> None:
        assert self.server is not None
        while (sock := self.server.nextPendingConnection()) is not None:
            sock.readyRead.connect(lambda s=sock: self._on_request(s))
            sock.disconnected.connect(sock.deleteLater)

    def _on_request(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        request = bytes(sock.readLine().data()).strip()
        if request == b"activate" and self.closing:
            sock.write(b"closing\n")  # the data is being saved: the second start says to wait
            sock.flush()
        elif request == b"activate":
            sock.write(f"ok {os.getpid()}\n".encode())
            sock.flush()
            log.info("a second start asked for the window: bringing it to the front")
            # A moment later: the second start first lets this process take the foreground (Windows).
            QTimer.singleShot(150, self.activate_requested.emit)

    def ask_running_to_activate(self, timeout_ms: int = ANSWER_MS) -> bool:
        """Second start: ask the first to show its window. True when it answered.

        Blocking waits are fine here: this process has no window and nothing else to do yet."""
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(b"activate\n")
        sock.flush()
        while not sock.canReadLine():
            if not sock.waitForReadyRead(timeout_ms):
                return False
        answer = bytes(sock.readLine().data()).decode("ascii", "replace").split()
        if answer[:1] != ["ok"]:
            return False
        if len(answer) > 1 and answer[1].isdigit():
            _allow_foreground(int(answer[1]))
        sock.disconnectFromServer()
        return True


def _allow_foreground(pid: int) -> None:
    """Windows only lets the process the user just started take the foreground: pass it on."""
    if sys.platform == "win32":
        import ctypes

        ctypes.windll.user32.AllowSetForegroundWindow(pid)


def bring_to_front(window: QWidget) -> None:
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


def already_running_message(data_dir: Path, pid: int | None) -> str:
    process = _("process {pid}").format(pid=pid) if pid else _("another process")
    return _(
        "AutoGrowth Trader is already running with this data folder ({process}), but it does not answer. "
        "Wait until it has finished starting, or close it. If it is stuck, end it in the task manager, "
        "then start the app again.\n\nData folder: {path}"
    ).format(process=process, path=data_dir)


def show_already_running(data_dir: Path, pid: int | None) -> QMessageBox:
    """The message a second start shows when the first does not answer (not modal; the caller
    runs the event loop until it is closed)."""
    return dialogs.inform(None, _("AutoGrowth Trader is already running"), already_running_message(data_dir, pid))


def second_start(instance: SingleInstance) -> int:
    """What a second start does: the first window comes to the front (exit 0), or a message says
    why not (exit 1 once it is closed)."""
    if instance.ask_running_to_activate():
        log.info("already running with %s: brought its window to the front", instance.data_dir)
        if sys.stdout is not None:
            print("AutoGrowth Trader is already running with this data folder: its window was brought to the front.")
        return 0
    pid = instance.holder_pid()
    log.warning("already running with %s (process %s) but it does not answer", instance.data_dir, pid)
    if sys.stderr is not None:
        print(already_running_message(instance.data_dir, pid), file=sys.stderr)
    box = show_already_running(instance.data_dir, pid)
    wait = QEventLoop()  # no window: this loop is the app's, until the message is closed (not modal)
    box.finished.connect(lambda _code: wait.quit())
    wait.exec()
    return 1
