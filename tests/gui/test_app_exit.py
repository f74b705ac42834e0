"""Closing the window ends the app: the session stops, the data is flushed and the process exits,
whatever the loop is doing (issue 7, item 2)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import ScriptedMarket
from PySide6.QtWidgets import QApplication, QMessageBox

from app.engine.session import TradingSession
from app.storage import Store
from app.ui import app as ui_app
from app.ui.main_window import MainWindow
from app.venues.paper import PaperVenue

ROOT = Path(__file__).resolve().parents[2]
D = Decimal


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is how a POSIX desktop asks an app to close")
def test_the_app_exits_cleanly_when_asked_to_close(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AUTOGROWTH_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    log = tmp_path / "autogrowth.log"
    try:
        _wait_for(lambda: log.exists() and "window shown" in log.read_text(), 120, "the window")
        time.sleep(1.0)  # the market is running
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    text = log.read_text()
    assert rc == 0, (rc, out, text[-3000:])
    assert "session stopped and data flushed" in text and "ending the process" not in text
    assert took < ui_app.HARD_EXIT_S, took  # it ended by itself, not by the watchdog
    with Store.open(f"sqlite:///{tmp_path / 'autogrowth.sqlite3'}") as store:
        assert store.get_setting("ui.window")["symbol"] == "BTC/USDT"  # the layout was saved on close


def _session(tmp_path: Path) -> TradingSession:
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    venue = PaperVenue(
        ScriptedMarket(),
        name="sim",
        journal_path=tmp_path / "paper.journal",
        initial_balances={"USDT": D("100000"), "BTC": D("2")},
    )
    return TradingSession(store, venue, ["BTC/USDT"])


def _window() -> MainWindow | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)


@pytest.fixture
def excepthook():
    old = sys.excepthook
    yield
    sys.excepthook = old


def test_closing_the_window_with_a_question_open_stops_everything(qt_loop, qtbot, tmp_path, excepthook):
    session = _session(tmp_path)
    task = asyncio.ensure_future(
        ui_app.run_window(
            session, mode="paper", data_dir=tmp_path, log_path=tmp_path / "log", symbol="BTC/USDT", hard_exit_s=None
        )
    )
    qtbot.waitUntil(lambda: _window() is not None, timeout=30_000)
    window = _window()
    window.risk.flatten.setChecked(True)
    window.risk.kill_btn.click()
    qtbot.waitUntil(
        lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()),
        timeout=10_000,
    )
    window.close()
    qtbot.waitUntil(task.done, timeout=30_000)
    assert task.result() == 0
    assert not any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())
    assert session.feed._tasks == {} and session.store._closed
    assert session.orders.risk.state.value == "active"  # the unanswered question did nothing


def test_a_session_that_does_not_stop_does_not_keep_the_app_open(qt_loop, qtbot, tmp_path, excepthook):
    session = _session(tmp_path)
    real_stop = session.stop

    async def stuck() -> None:
        await real_stop()
        await asyncio.Event().wait()  # never returns

    session.stop = stuck  # type: ignore[method-assign]
    task = asyncio.ensure_future(
        ui_app.run_window(
            session,
            mode="paper",
            data_dir=tmp_path,
            log_path=tmp_path / "log",
            shutdown_timeout_s=0.5,
            hard_exit_s=None,
        )
    )
    qtbot.waitUntil(lambda: _window() is not None, timeout=30_000)
    _window().close()
    qtbot.waitUntil(task.done, timeout=30_000)
    assert task.result() == 0 and session.store._closed
