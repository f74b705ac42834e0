"""The bridge from the engine's bus to Qt: typed signals, with high-rate market data coalesced to
the screen's pace (the latest book/ticker per symbol per frame, trades batched)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.market import Bar, BookSnapshot, Trade
from app.engine.alerts import AlertsChanged, Notification
from app.engine.bus import EventBus
from app.engine.events import (
    ActivityLogged,
    EquityPoint,
    FillReceived,
    OrderDenied,
    OrderListUpdated,
    OrderUpdated,
    PortfolioChanged,
    ReconciliationDone,
    RiskStateChanged,
)

FRAME_MS = 33  # ~30 screen updates per second are plenty for a book ladder


class EngineBridge(QObject):
    # Market data, coalesced per frame.
    bookUpdated = Signal(object)  # BookSnapshot (latest per symbol)
    tradesUpdated = Signal(str, list)  # symbol, list[Trade] since the last frame
    barUpdated = Signal(object)  # Bar (latest per symbol/timeframe per frame)
    # Trading events, delivered as they come (already persisted).
    orderUpdated = Signal(object)  # Order
    fillReceived = Signal(object, object)  # Fill, Order
    orderDenied = Signal(object)  # OrderDenied
    orderListUpdated = Signal(object)  # OrderList
    riskStateChanged = Signal(object)  # RiskStateChanged
    portfolioChanged = Signal(str)  # venue
    equityPoint = Signal(object)  # EquityPoint
    activity = Signal(object)  # ActivityLogged
    reconciled = Signal(object)  # ReconciliationDone
    notification = Signal(object)  # Notification (alert fired, fill, rejection)
    alertsChanged = Signal(object)  # AlertsChanged

    def __init__(self, bus: EventBus, parent: QObject | None = None, frame_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self._books: dict[str, BookSnapshot] = {}
        self._trades: dict[str, list[Trade]] = {}
        self._bars: dict[tuple[str, str], Bar] = {}
        self._portfolio_dirty: set[str] = set()
        self.frames = 0
        # What the window knows of the market now (read by the ticket's price buttons and the
        # stale-data check): the latest book per symbol, and when data last came (monotonic s).
        self.last_book: dict[str, BookSnapshot] = {}
        self.last_data: dict[str, float] = {}
        self._unsubs = [
            bus.subscribe(BookSnapshot, self._on_book),
            bus.subscribe(Trade, self._on_trade),
            bus.subscribe(Bar, self._on_bar),
            bus.subscribe(OrderUpdated, lambda e: self.orderUpdated.emit(e.order)),
            bus.subscribe(FillReceived, lambda e: self.fillReceived.emit(e.fill, e.order)),
            bus.subscribe(OrderDenied, self.orderDenied.emit),
            bus.subscribe(OrderListUpdated, lambda e: self.orderListUpdated.emit(e.order_list)),
            bus.subscribe(RiskStateChanged, self.riskStateChanged.emit),
            bus.subscribe(PortfolioChanged, lambda e: self._portfolio_dirty.add(e.venue)),
            bus.subscribe(EquityPoint, self.equityPoint.emit),
            bus.subscribe(ActivityLogged, self.activity.emit),
            bus.subscribe(ReconciliationDone, self.reconciled.emit),
            bus.subscribe(Notification, self.notification.emit),
            bus.subscribe(AlertsChanged, self.alertsChanged.emit),
        ]
        self._timer = QTimer(self)
        self._timer.setInterval(frame_ms)
        self._timer.timeout.connect(self.flush)
        self._timer.start()

    def _on_book(self, b: BookSnapshot) -> None:
        self._books[b.symbol] = b
        self.last_book[b.symbol] = b
        self.last_data[b.symbol] = time.monotonic()

    def _on_trade(self, t: Trade) -> None:
        self._trades.setdefault(t.symbol, []).append(t)
        self.last_data[t.symbol] = time.monotonic()

    def data_age_s(self, symbol: str) -> float | None:
        """Seconds since the last trade or book of ``symbol`` (None: nothing yet)."""
        at = self.last_data.get(symbol)
        return None if at is None else time.monotonic() - at

    def _on_bar(self, b: Bar) -> None:
        self._bars[(b.symbol, b.timeframe)] = b

    def flush(self) -> None:
        """Emit what accumulated since the last frame (called by the frame timer)."""
        self.frames += 1
        if self._books:
            books, self._books = self._books, {}
            for b in books.values():
                self.bookUpdated.emit(b)
        if self._trades:
            trades, self._trades = self._trades, {}
            for sym, lst in trades.items():
                self.tradesUpdated.emit(sym, lst[-200:])
        if self._bars:
            bars, self._bars = self._bars, {}
            for bar in bars.values():
                self.barUpdated.emit(bar)
        if self._portfolio_dirty:
            dirty, self._portfolio_dirty = self._portfolio_dirty, set()
            for v in dirty:
                self.portfolioChanged.emit(v)

    def close(self) -> None:
        self._timer.stop()
        for u in self._unsubs:
            u()
        self._unsubs.clear()
