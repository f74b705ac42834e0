"""GUI figures, offscreen: chart frames on a million candles, a live tick's redraw, and how long
the Qt loop stalls while the window shows a book and chart fed 2,000 book updates a second."""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from PySide6.QtWidgets import QApplication  # noqa: E402

D = Decimal


def _app() -> QApplication:
    return QApplication.instance() or QApplication([])  # type: ignore[return-value]


def _million(n: int = 1_000_000):
    rng = np.random.default_rng(1)
    c = 60000 * np.exp(np.cumsum(rng.standard_normal(n) * 0.001))
    o = np.roll(c, 1)
    o[0] = c[0]
    h = np.maximum(o, c) * (1 + rng.random(n) * 0.001)
    low = np.minimum(o, c) * (1 - rng.random(n) * 0.001)
    v = rng.lognormal(1, 1, n)
    t = 1_600_000_000_000 + np.arange(n, dtype=np.int64) * 60_000
    return t, o, h, low, c, v


def chart_figures() -> list[tuple[str, float, str]]:
    app = _app()
    from app.ui.chart import ChartWidget

    w = ChartWidget()
    w.resize(1400, 800)
    t, o, h, low, c, v = _million()
    w.set_history(t, o, h, low, c, v)
    for name in ("sma", "ema", "bollinger", "vwap", "rsi", "macd"):
        w.set_indicator(name, True)
    w.show()
    app.processEvents()
    n = len(t)
    frames: list[float] = []
    vb = w.price_plot.getViewBox()
    spans = [40, 120, 500, 2_000, 10_000, 50_000, 200_000, 1_000_000]
    for span in spans + spans[::-1]:  # zoom out, then back in
        for shift in (0, span // 4, span // 2):  # and pan
            start = max(0, n - span - shift)
            s = time.perf_counter()
            vb.setXRange(start, start + span, padding=0)
            w.grab()
            frames.append((time.perf_counter() - s) * 1000)
    frames.sort()
    p95 = frames[int(len(frames) * 0.95) - 1]
    vb.setXRange(n - 150, n + 3, padding=0)
    w.grab()
    ticks: list[float] = []
    last_t = int(t[-1])
    for i in range(60):
        s = time.perf_counter()
        if i % 20 == 19:
            last_t += 60_000
        w.update_bar(
            last_t, float(c[-1]), float(c[-1]) * 1.001, float(c[-1]) * 0.999, float(c[-1]) * (1 + i * 1e-5), 1.0
        )
        w.grab()
        ticks.append((time.perf_counter() - s) * 1000)
    w.close()
    return [("chart_1m_frame_p95_ms", p95, "ms"), ("chart_append_ms", statistics.median(ticks), "ms")]


def ui_stall() -> list[tuple[str, float, str]]:
    """Worst delays of a 5 ms timer on the Qt loop while 2,000 book updates/s flow to the window."""
    app = _app()
    import qasync
    from helpers import ScriptedMarket, book
    from PySide6.QtCore import QTimer

    from app.domain.enums import Side
    from app.domain.market import Trade
    from app.engine.alerts import AlertService
    from app.engine.session import TradingSession
    from app.storage import Store
    from app.ui.bridge import EngineBridge
    from app.ui.context import Selection, UiContext
    from app.ui.main_window import MainWindow
    from app.venues.paper import PaperVenue

    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    tmp = Path(tempfile.mkdtemp())
    store = Store.open(f"sqlite:///{tmp / 'db.sqlite3'}")
    venue = PaperVenue(ScriptedMarket(), name="sim", initial_balances={"USDT": D("100000"), "BTC": D("2")})
    session = TradingSession(store, venue, ["BTC/USDT"])
    bridge = EngineBridge(session.bus)
    ctx = UiContext(session, bridge, AlertService(session.bus, store), Selection("BTC/USDT"), mode="paper")
    loop.run_until_complete(session.start())
    win = MainWindow(ctx)
    win.resize(1600, 980)
    win.show()
    t, o, h, low, c, v = _million(20_000)
    win.chart.set_history(t, o, h, low, c, v)
    delays: list[float] = []
    expected = {"at": time.perf_counter()}
    timer = QTimer()
    timer.setInterval(5)

    def tick() -> None:
        now = time.perf_counter()
        delays.append(max(0.0, (now - expected["at"]) * 1000 - 5))
        expected["at"] = now

    timer.timeout.connect(tick)

    async def feed(seconds: float = 4.0) -> None:
        rate, n = 2000, 0
        start = time.perf_counter()
        mid = 60000.0
        while time.perf_counter() - start < seconds:
            due = int((time.perf_counter() - start) * rate)
            while n < due:
                n += 1
                mid += float(np.sin(n / 50.0))
                snap = book(f"{mid:.2f}", spread="0.01", qty="0.5", levels=20, step="0.01")
                venue.on_book(snap)
                session.bus.publish(snap)
                if n % 10 == 0:
                    tr = Trade("sim", "BTC/USDT", f"s{n}", D(f"{mid:.2f}"), D("0.01"), Side.BUY, int(t[-1]) + n)
                    venue.on_trade(tr)
                    session.bus.publish(tr)
            await asyncio.sleep(0.002)
        return n

    expected["at"] = time.perf_counter()
    timer.start()
    sent = loop.run_until_complete(feed())
    timer.stop()
    win.close()
    bridge.close()
    loop.run_until_complete(session.stop())
    store.close()
    delays = sorted(delays[5:])
    p99 = delays[int(len(delays) * 0.99) - 1] if delays else float("nan")
    return [("ui_stall_p99_ms", p99, "ms"), ("ui_book_updates_per_s", sent / 4.0, "updates/s")]


def dialog_feed_gap() -> list[tuple[str, float, str]]:
    """The longest gap between market updates reaching the window (the bridge's trade batches)
    while a confirmation dialog (moving an order) is open for 2 s, with 200 trades and books a
    second flowing. A dialog that blocked the loop would show here as a gap of 2,000 ms."""
    app = _app()
    import qasync
    from helpers import ScriptedMarket, book
    from PySide6.QtWidgets import QMessageBox

    from app.domain.enums import OrderType, Side
    from app.domain.market import Trade
    from app.domain.order import OrderRequest
    from app.engine.alerts import AlertService
    from app.engine.risk import RiskLimits
    from app.engine.session import TradingSession
    from app.storage import Store
    from app.ui.bridge import EngineBridge
    from app.ui.context import Selection, UiContext
    from app.ui.main_window import MainWindow
    from app.venues.paper import PaperVenue

    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    tmp = Path(tempfile.mkdtemp())
    store = Store.open(f"sqlite:///{tmp / 'db.sqlite3'}")
    venue = PaperVenue(ScriptedMarket(), name="sim", initial_balances={"USDT": D("100000"), "BTC": D("2")})
    session = TradingSession(store, venue, ["BTC/USDT"])
    session.orders.set_limits(RiskLimits(max_order_notional=None, max_position_notional=None))
    bridge = EngineBridge(session.bus)
    ctx = UiContext(session, bridge, AlertService(session.bus, store), Selection("BTC/USDT"), mode="paper")
    loop.run_until_complete(session.start())
    win = MainWindow(ctx)
    win.resize(1280, 720)
    win.show()
    arrivals: list[float] = []
    bridge.tradesUpdated.connect(lambda _s, _t: arrivals.append(time.perf_counter()))

    async def scenario() -> tuple[float, float]:
        stop = asyncio.Event()

        async def feed() -> None:
            n, mid = 0, 60000.0
            while not stop.is_set():
                n += 1
                mid += float(np.sin(n / 40.0))
                snap = book(f"{mid:.2f}", spread="0.01", qty="0.5", levels=20, step="0.01")
                venue.on_book(snap)
                session.bus.publish(snap)
                tr = Trade("sim", "BTC/USDT", f"d{n}", D(f"{mid:.2f}"), D("0.01"), Side.BUY, 1_700_000_000_000 + n)
                venue.on_trade(tr)
                session.bus.publish(tr)
                await asyncio.sleep(0.005)

        task = asyncio.ensure_future(feed())
        await asyncio.sleep(1.0)
        order = await session.orders.submit(
            OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000"))
        )
        assert order is not None
        win.chart.orderLineMoved.emit(order.client_order_id, 59100.0)
        while not [w for w in app.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]:
            await asyncio.sleep(0.001)
        opened = time.perf_counter()
        await asyncio.sleep(2.0)
        closed = time.perf_counter()
        for w in app.topLevelWidgets():
            if isinstance(w, QMessageBox) and w.isVisible():
                w.reject()
        await asyncio.sleep(0.3)
        stop.set()
        await task
        return opened, closed

    async def settle() -> None:
        await asyncio.sleep(0.1)

    opened, closed = loop.run_until_complete(scenario())
    win.close()
    bridge.close()
    loop.run_until_complete(session.stop())
    loop.run_until_complete(settle())
    store.close()
    inside = [opened] + [t for t in arrivals if opened <= t <= closed] + [closed]
    gap = max(b - a for a, b in itertools.pairwise(inside)) * 1000
    return [("ui_dialog_feed_gap_ms", gap, "ms")]


if __name__ == "__main__":
    for name, value, unit in chart_figures() + ui_stall() + dialog_feed_gap():
        print(f"{name}: {value:.3f} {unit}")
