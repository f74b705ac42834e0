"""How the desktop app starts: portable mode, one running app per data folder, and the dialog an
unexpected error shows (never a traceback, never blocking)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QLockFile, QTimer

from app.storage import location
from app.storage.errors import SchemaTooNew
from app.ui import crash, dialogs
from app.ui.single_instance import LOCK_FILE, SingleInstance, show_already_running

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


# -- portable mode ----------------------------------------------------------------------------------
def test_a_marker_beside_the_executable_keeps_the_data_beside_it(tmp_path, monkeypatch):
    exe_dir = tmp_path / "AutoGrowthTrader"
    exe_dir.mkdir()
    monkeypatch.delenv(location.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe_dir / "AutoGrowthTrader"))
    assert location.portable_data_dir(exe_dir) is None  # no marker: the user's data folder
    assert location.default_data_dir() != exe_dir / "data"
    for marker in location.PORTABLE_MARKERS:
        (exe_dir / marker).write_text("")
        assert location.default_data_dir() == exe_dir / "data"
        assert (exe_dir / "data").is_dir()
        (exe_dir / marker).unlink()


def test_portable_mode_is_for_the_built_executable_and_the_environment_still_wins(tmp_path, monkeypatch):
    (tmp_path / "portable").write_text("")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert location.executable_dir() is None  # python -m app: a marker beside python means nothing
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv(location.DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert location.default_data_dir() == tmp_path / "elsewhere"


# -- one app per data folder -------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is how a POSIX desktop asks an app to close")
def test_a_second_start_brings_the_first_window_to_the_front(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AUTOGROWTH_DATA_DIR=str(tmp_path))
    first = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    log = tmp_path / "autogrowth.log"
    try:
        _wait_for(lambda: log.exists() and "window shown" in log.read_text(), 120, "the first window")
        second = subprocess.run(
            [sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already running" in second.stdout
        _wait_for(lambda: "bringing it to the front" in log.read_text(), 30, "the first app to hear it")
        assert first.poll() is None  # the first one runs on
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert log.read_text().count("window shown") == 1  # the second start opened nothing


def test_a_lock_left_by_a_killed_app_is_taken_over(qapp, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from PySide6.QtCore import QLockFile;"
            f"l = QLockFile({str(tmp_path / LOCK_FILE)!r}); assert l.tryLock(0); print('locked', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        busy = SingleInstance(tmp_path)
        assert not busy.acquire()  # held by a live process
        assert busy.holder_pid() == holder.pid
    finally:
        holder.kill()  # as a crash or the task manager would: the lock file stays behind
        holder.wait()
    assert (tmp_path / LOCK_FILE).exists()
    instance = SingleInstance(tmp_path)
    try:
        assert instance.acquire()
    finally:
        instance.release()


def test_when_the_running_app_does_not_answer_the_second_start_says_why(qapp, qtbot, tmp_path):
    lock = QLockFile(str(tmp_path / LOCK_FILE))  # held, but nobody listens: a stuck first start
    assert lock.tryLock(0)
    try:
        second = SingleInstance(tmp_path)
        assert not second.acquire()
        assert not second.ask_running_to_activate(timeout_ms=300)
        box = show_already_running(tmp_path, second.holder_pid())
        try:
            assert box.isVisible() and not box.isModal()
            assert str(tmp_path) in box.text() and str(os.getpid()) in box.text()
            assert "already running" in box.windowTitle()
        finally:
            box.reject()
    finally:
        lock.unlock()


# -- unexpected errors -------------------------------------------------------------------------------
@pytest.fixture
def reporter(qapp, tmp_path):
    loop = asyncio.new_event_loop()
    uninstall = crash.install(tmp_path / "autogrowth.log", loop)
    yield loop
    uninstall()
    loop.close()
    dialogs.close_all()


def _error_box(qtbot):
    qtbot.waitUntil(lambda: len(dialogs.open_dialogs()) == 1, timeout=10_000)
    (box,) = dialogs.open_dialogs()
    return box


def test_an_error_in_a_worker_thread_shows_the_dialog_without_blocking(reporter, qtbot, tmp_path):
    worker = threading.Thread(target=lambda: 1 / 0, name="worker")
    worker.start()
    worker.join()
    box = _error_box(qtbot)
    assert str(tmp_path / "autogrowth.log") in box.text()
    assert "Traceback" not in box.text() and "ZeroDivisionError" not in box.text()
    assert not box.isModal()
    assert "Open the log folder" in [b.text() for b in box.buttons()]


def test_a_failed_asyncio_callback_shows_the_dialog_once(reporter, qtbot, tmp_path):
    loop = reporter

    def boom() -> None:
        raise ValueError("boom")

    for _ in range(3):
        loop.call_soon(boom)
    loop.run_until_complete(asyncio.sleep(0.05))
    box = _error_box(qtbot)
    assert "orders are safe" in box.text()
    qtbot.wait(100)
    assert len(dialogs.open_dialogs()) == 1  # a burst of errors: one dialog, the rest to the log


def test_an_asyncio_warning_without_an_exception_only_goes_to_the_log(reporter, qtbot):
    reporter.call_exception_handler({"message": "Unclosed client session"})
    qtbot.wait(200)
    assert dialogs.open_dialogs() == []


def test_when_the_app_cannot_start_a_dialog_says_why_and_where_the_log_is(qapp, tmp_path):
    seen: list[tuple[str, bool]] = []

    def read_and_close() -> None:
        for box in dialogs.open_dialogs():
            seen.append((box.text(), box.isModal()))
            box.accept()

    QTimer.singleShot(300, read_and_close)
    exc = SchemaTooNew(url="sqlite:///autogrowth.sqlite3", revision="9999")
    rc = crash.startup_failed(exc, tmp_path / "autogrowth.log")
    assert rc == 1
    ((text, modal),) = seen
    assert "newer version of the app" in text and str(tmp_path / "autogrowth.log") in text
    assert "Traceback" not in text and not modal


ASK = (
    "import sys; from pathlib import Path; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
    "from app.ui.single_instance import SingleInstance; s = SingleInstance(Path(sys.argv[1]));"
    "print(s.acquire(), s.ask_running_to_activate(20000))"
)


def _second_start_answer(qtbot, data_dir: Path) -> str:
    """A second start in another process asks this one (whose event loop the test runs)."""
    proc = subprocess.Popen([sys.executable, "-c", ASK, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.communicate()[0].strip()


def test_the_running_app_answers_a_second_start_and_not_once_it_is_closing(qapp, qtbot, tmp_path):
    first = SingleInstance(tmp_path)
    assert first.acquire()
    try:
        with qtbot.waitSignal(first.activate_requested, timeout=60_000):
            assert _second_start_answer(qtbot, tmp_path) == "False True"  # not the owner; brought to front
        first.closing = True  # the window closed, the data is being saved
        assert _second_start_answer(qtbot, tmp_path) == "False False"  # told to wait: it says why
    finally:
        first.release()
