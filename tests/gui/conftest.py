"""A real window on a scripted market: the test moves the market, the app reacts as it would live."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import qasync
from helpers import ScriptedMarket, book, btc
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from app.domain.enums import Side
from app.domain.market import Trade
from app.engine.alerts import AlertService
from app.engine.risk import RiskLimits
from app.engine.session import TradingSession
from app.storage import Store
from app.ui import theme
from app.ui.bridge import EngineBridge
from app.ui.context import Selection, UiContext
from app.ui.main_window import MainWindow
from app.venues.paper import PaperVenue

D = Decimal


class Gui:
    """The app's set-up on a scripted market. As in the app, Qt's event loop drives asyncio: the
    qasync loop counts as running for the whole test, so whoever processes Qt events (the test,
    pytest-qt between tests, a dialog) runs the engine's tasks too, and nothing else runs them."""

    def __init__(self, loop, qtbot, tmp_path) -> None:
        self.loop, self.qtbot, self.tmp_path = loop, qtbot, tmp_path
        self._n = 0
        self._open(limits=True)

    def _open(self, *, limits: bool) -> None:
        tmp_path = self.tmp_path
        self.store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
        eth = btc(symbol="ETH/USDT", base="ETH", lot_step=D("0.0001"), min_qty=D("0.0001"))
        self.venue = PaperVenue(
            ScriptedMarket([btc(), eth]),
            name="sim",
            journal_path=tmp_path / "paper.journal",
            initial_balances={"USDT": D("100000"), "BTC": D("2")},
        )
        self.session = TradingSession(self.store, self.venue, ["BTC/USDT"])
        if limits:
            self.session.orders.set_limits(
                RiskLimits(max_order_notional=D("1000000"), max_position_notional=D("10000000"))
            )
        self.bridge = EngineBridge(self.session.bus, frame_ms=10)
        self.alerts = AlertService(self.session.bus, self.store)
        # The scripted market moves only when a test says so; a slow machine may take seconds
        # between two steps, which is not stale data (tests of the stale check lower this).
        self.ctx = UiContext(
            self.session, self.bridge, self.alerts, Selection("BTC/USDT"), mode="paper", stale_after_s=600
        )
        self.run(self.session.start())
        theme.apply(QApplication.instance(), "dark")
        self.window = MainWindow(self.ctx, data_dir=str(tmp_path))
        self.qtbot.addWidget(self.window)
        self.window.show()
        self.market("60000")

    def restart(self) -> None:
        """Close the window and the session as the app does, then start both again on the same
        database and paper journal (what a user sees after reopening the app)."""
        self._shut()
        self._open(limits=False)  # the limits were stored

    def run(self, coro, timeout_s: float = 30):
        """Process Qt events (so the loop runs) until ``coro`` is done; its result."""
        task = asyncio.ensure_future(coro)
        self.qtbot.waitUntil(task.done, timeout=int(timeout_s * 1000))
        return task.result()

    def pump(self, seconds: float = 0.05) -> None:
        self.run(asyncio.sleep(seconds))
        self.run(self.session.orders.drain())

    def market(self, price: str, qty: str = "1", taker: Side = Side.BUY, symbol: str = "BTC/USDT") -> None:
        snap = book(price, spread="1", qty="2", symbol=symbol)
        self.venue.on_book(snap)
        self.session.bus.publish(snap)
        self._n += 1
        t = Trade("sim", symbol, f"g{self._n}", D(price), D(qty), taker, 1_722_000_000_000 + self._n)
        self.venue.on_trade(t)
        self.session.bus.publish(t)
        self.pump()

    def _shut(self) -> None:
        self.window.close()
        self.bridge.close()
        self.run(self.session.stop())
        self.store.close()

    def close(self) -> None:
        self._shut()
        left = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for t in left:
            t.cancel()
        self.qtbot.waitUntil(lambda: all(t.done() for t in left), timeout=10_000)


_LOOP: list[qasync.QEventLoop] = []


@pytest.fixture
def qt_loop(qapp):
    """The one qasync loop of the GUI tests (the app has one too), running while a test runs: Qt's
    event processing runs it. Between tests no loop runs, so plain asyncio tests are unaffected."""
    if not _LOOP:
        loop = qasync.QEventLoop(qapp, already_running=True)
        # The app's loop is closed at exit (qasync.run), which stops its default executor's QThreads;
        # this one lives until the interpreter ends, so it gets plain threads: Qt aborts the process
        # when a QThread is destroyed still running.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-loop"))
        _LOOP.append(loop)
    loop = _LOOP[0]
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    yield loop
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


class ModalWatchdog:
    """Closes a modal dialog that stays on screen for ``period_s`` twice in a row. A dialog run with
    ``exec()`` blocks the test inside Qt's nested loop; this lets such a test end (and fail on
    its assertions) instead of hanging. A test that answers its dialogs never meets it."""

    def __init__(self, period_s: float = 10.0) -> None:
        self.seen: object = None
        self.closed = 0
        self.timer = QTimer()
        self.timer.setInterval(int(period_s * 1000))
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        modal = QApplication.activeModalWidget()
        if modal is not None and modal is self.seen and isinstance(modal, QDialog):
            self.closed += 1
            modal.reject()
            modal = None
        self.seen = modal

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def modal_watchdog(qapp):
    dog = ModalWatchdog()
    yield dog
    dog.stop()


@pytest.fixture
def gui(qt_loop, qtbot, tmp_path, modal_watchdog):
    g = Gui(qt_loop, qtbot, tmp_path)
    yield g
    g.close()
