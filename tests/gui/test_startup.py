"""First paint (issue 7, item 19): the window is on screen before the engine has started, says
what it is doing, and fills itself in once the session is up."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import ScriptedMarket
from PySide6.QtWidgets import QApplication

from app.engine.session import TradingSession
from app.storage import Store
from app.ui import app as ui_app
from app.ui.main_window import MainWindow
from app.venues.paper import PaperVenue

D = Decimal


@pytest.fixture
def excepthook():
    old = sys.excepthook
    yield
    sys.excepthook = old


def _window() -> MainWindow | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)


def test_the_window_shows_before_the_session_has_started(qt_loop, qtbot, tmp_path: Path, excepthook):
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    venue = PaperVenue(
        ScriptedMarket(),
        name="sim",
        journal_path=tmp_path / "paper.journal",
        initial_balances={"USDT": D("100000"), "BTC": D("2")},
    )
    session = TradingSession(store, venue, ["BTC/USDT"])
    go = asyncio.Event()
    real_start = session.start

    async def slow_start():
        await go.wait()  # a slow exchange, a long reconciliation
        return await real_start()

    session.start = slow_start  # type: ignore[method-assign]
    task = asyncio.ensure_future(
        ui_app.run_window(session, mode="paper", data_dir=tmp_path, log_path=tmp_path / "log", hard_exit_s=None)
    )
    qtbot.waitUntil(lambda: _window() is not None, timeout=30_000)
    window = _window()
    qtbot.waitUntil(lambda: window.jobs.isVisible(), timeout=10_000)
    assert window.jobs.label.text() == "Connecting to sim…" and not window.jobs.cancel_btn.isVisible()
    assert window.symbol.count() == 0 and not window.ticket.submit_btn.isEnabled()
    go.set()
    qtbot.waitUntil(lambda: window.symbol.count() == 1 and not window.jobs.isVisible(), timeout=30_000)
    assert window.symbol.currentText() == "BTC/USDT"
    assert window.ticket.submit_btn.text() == "Buy BTC"
    window.close()
    qtbot.waitUntil(task.done, timeout=30_000)
    assert task.result() == 0
