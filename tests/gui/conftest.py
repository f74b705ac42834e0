"""A real window on a scripted market: the test moves the market, the app reacts as it would live."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import qasync
from helpers import ScriptedMarket, book

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
    def __init__(self, qapp, qtbot, tmp_path) -> None:
        self.loop = qasync.QEventLoop(qapp, already_running=False)
        asyncio.set_event_loop(self.loop)
        self.store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
        self.venue = PaperVenue(ScriptedMarket(), name="sim", journal_path=tmp_path / "paper.journal",
                                initial_balances={"USDT": D("100000"), "BTC": D("2")})
        self.session = TradingSession(self.store, self.venue, ["BTC/USDT"])
        self.session.orders.set_limits(RiskLimits(max_order_notional=D("1000000"),
                                                  max_position_notional=D("10000000")))
        self.bridge = EngineBridge(self.session.bus, frame_ms=10)
        self.alerts = AlertService(self.session.bus, self.store)
        self.ctx = UiContext(self.session, self.bridge, self.alerts, Selection("BTC/USDT"), mode="paper")
        self.run(self.session.start())
        theme.apply(qapp, "dark")
        self.window = MainWindow(self.ctx, data_dir=str(tmp_path))
        qtbot.addWidget(self.window)
        self.window.show()
        self._n = 0
        self.market("60000")

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def pump(self, seconds: float = 0.05) -> None:
        self.run(asyncio.sleep(seconds))
        self.run(self.session.orders.drain())

    def market(self, price: str, qty: str = "1", taker: Side = Side.BUY) -> None:
        snap = book(price, spread="1", qty="2")
        self.venue.on_book(snap)
        self.session.bus.publish(snap)
        self._n += 1
        t = Trade("sim", "BTC/USDT", f"g{self._n}", D(price), D(qty), taker, 1_722_000_000_000 + self._n)
        self.venue.on_trade(t)
        self.session.bus.publish(t)
        self.pump()

    def close(self) -> None:
        self.window.close()
        self.bridge.close()
        self.run(self.session.stop())
        self.store.close()
        self.loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture
def gui(qapp, qtbot, tmp_path):
    g = Gui(qapp, qtbot, tmp_path)
    yield g
    g.close()
