"""The real engine (``TradingSession`` / ``OrderManager``) trading on the loopback Kraken through the
unmodified ccxt classes: every order type of the core placed, filled, cancelled (stops and
take-profits held by Kraken; trailing stops and OCO emulated by the app), and reconciliation after
the account stream (websocket v2 executions) reconnects and after a restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from loopback.testing import loopback_thread, loopback_venue, until

from app.domain.enums import Emulation, OrderListStatus, OrderStatus, OrderType, Side, TimeInForce, TrailingMode
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest
from app.engine.events import ReconciliationDone
from app.engine.retry import RetryPolicy
from app.engine.session import TradingSession
from app.storage import Store

D = Decimal
BTC = "BTC/USDT"
FAST_STREAMS = RetryPolicy(attempts=1_000_000, base_s=0.1, factor=2.0, max_s=1.0)


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("kraken") as thread:
        yield thread


class Live:
    def __init__(self, lb, tmp: Path, *, fresh: bool = True) -> None:
        self.lb, self.server = lb, lb.server
        if fresh:
            lb.call(self.server.reset, {"USDT": "100000", "BTC": "0.5"})
            lb.call(self.server.book_around, BTC, "60000", spread="1", levels=10, qty="1")
        self.store = Store.open(f"sqlite:///{tmp / 'db.sqlite3'}")
        self.venue = loopback_venue("kraken", self.server.base_url, symbols=(BTC,))
        self.session = TradingSession(self.store, self.venue, [BTC], mode="live", stream_policy=FAST_STREAMS)
        self.om = self.session.orders
        self.reconciled: list[ReconciliationDone] = []
        self.session.bus.subscribe(ReconciliationDone, self.reconciled.append)

    async def start(self, price: str = "60000") -> Live:
        await self.session.start()
        await until(lambda: self.lb.call(self.server.subscribed, "trade:BTC/USDT"), what="the trade stream")
        await until(lambda: self.lb.call(self.server.user_subscribed), what="the account stream")
        await self.trade(price, "0.1")
        await until(lambda: self.om.last_price("kraken", BTC) == D(price), what="the last price")
        return self

    async def book(self, mid: str) -> None:
        await self.lb.acall(self.server.book_around, BTC, mid, spread="1", levels=10, qty="1")

    async def trade(self, price: str, qty: str = "0.1", taker: str = "buy") -> None:
        await self.lb.acall(self.server.trade, BTC, price, qty, taker)

    async def move(self, price: str, taker: str = "buy") -> None:
        await self.book(price)
        await self.trade(price, "0.1", taker)
        await until(lambda: self.om.last_price("kraken", BTC) == D(price), what=f"price {price}")

    async def submit(self, t: OrderType, side: Side, qty: str = "0.01", **kw):
        o = await self.om.submit(OrderRequest("kraken", BTC, side, t, D(qty), **kw))
        assert o is not None
        return o

    async def status(self, cid: str, status: OrderStatus) -> None:
        await until(lambda: self.om.get(cid).status is status, what=f"{cid} {status.value}")

    def at_exchange(self) -> list[str]:
        return self.lb.call(lambda: sorted(o.client_id for o in self.server.core.orders.values() if o.is_open))

    async def stop(self) -> None:
        await self.session.stop()
        self.store.close()


async def test_orders_of_every_type_are_placed_filled_and_cancelled_on_kraken(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        inst = live.om.instruments[("kraken", BTC)]
        assert (inst.tick_size, inst.min_qty, inst.min_notional) == (D("0.1"), D("0.00005"), D("0.5"))
        mkt = await live.submit(OrderType.MARKET, Side.BUY)
        await live.status(mkt.client_order_id, OrderStatus.FILLED)
        assert mkt.fee_asset == "USDT" and mkt.fee == D("2.40002")  # 0.4 % taker of 600.005

        lim = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59990"))
        await live.status(lim.client_order_id, OrderStatus.NEW)
        ioc = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59000"), tif=TimeInForce.IOC)
        await live.status(ioc.client_order_id, OrderStatus.EXPIRED)
        maker = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59980"), post_only=True)
        await live.status(maker.client_order_id, OrderStatus.NEW)
        crossing = await live.submit(OrderType.LIMIT, Side.BUY, price=D("60000.5"), post_only=True)
        await live.status(crossing.client_order_id, OrderStatus.CANCELLED)  # Kraken cancels a post-only that would take
        assert await live.om.cancel(maker.client_order_id)
        await live.status(maker.client_order_id, OrderStatus.CANCELLED)
        await live.trade("59985", "0.05", "sell")
        await live.status(lim.client_order_id, OrderStatus.FILLED)

        stop = await live.submit(OrderType.STOP_MARKET, Side.SELL, stop_price=D("59500"))
        stop_lim = await live.submit(OrderType.STOP_LIMIT, Side.BUY, stop_price=D("60500"), price=D("60600"))
        tp = await live.submit(OrderType.TAKE_PROFIT_MARKET, Side.SELL, stop_price=D("61000"))
        tp_lim = await live.submit(OrderType.TAKE_PROFIT_LIMIT, Side.BUY, stop_price=D("59200"), price=D("59300"))
        trail = await live.submit(
            OrderType.TRAILING_STOP, Side.SELL, trail_mode=TrailingMode.PERCENT, trail_value=D("1")
        )
        for o in (stop, stop_lim, tp, tp_lim):
            await live.status(o.client_order_id, OrderStatus.NEW)
            assert o.emulation is Emulation.NONE  # held by Kraken
        assert trail.emulation is Emulation.EMULATED
        assert len(live.at_exchange()) == 4

        await live.move("60550")
        await live.status(stop_lim.client_order_id, OrderStatus.FILLED)
        await live.move("61050")
        await live.status(tp.client_order_id, OrderStatus.FILLED)
        await live.move("59400", "sell")
        await live.status(stop.client_order_id, OrderStatus.FILLED)
        await live.status(trail.client_order_id, OrderStatus.FILLED)
        await live.move("59150", "sell")
        await live.status(tp_lim.client_order_id, OrderStatus.FILLED)

        await live.om.drain()
        assert live.at_exchange() == []
        # What the engine holds comes to what the exchange holds (its balance stream, as it arrives).
        btc = live.lb.call(lambda: live.server.core.ledger.balances()["BTC"].total)
        await until(lambda: live.session.portfolio.balances["kraken"]["BTC"] == btc, what="the balances")
    finally:
        await live.stop()


async def test_an_oco_is_emulated_its_limit_rests_at_kraken_and_a_fill_cancels_the_other(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        ol = await live.om.submit_oco(OcoRequest("kraken", BTC, Side.SELL, D("0.01"), D("60500"), D("59500")))
        assert ol is not None
        await live.status(ol.limit_id, OrderStatus.NEW)
        # The stop leg is watched by the app (the base is held once, by the resting limit at Kraken).
        assert live.om.get(ol.stop_id).emulation is Emulation.EMULATED
        assert live.at_exchange() == [ol.limit_id]
        await live.trade("60600", "0.05")
        await live.status(ol.limit_id, OrderStatus.FILLED)
        await live.status(ol.stop_id, OrderStatus.CANCELLED)
        await until(lambda: live.om.order_list(ol.list_id).status is OrderListStatus.DONE, what="the OCO done")
        assert live.at_exchange() == []
    finally:
        await live.stop()


async def test_a_bracket_on_kraken_enters_then_places_its_exits(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        ol = await live.om.submit_bracket(
            BracketRequest("kraken", BTC, Side.BUY, D("0.01"), OrderType.MARKET, None, D("61000"), D("59000"))
        )
        assert ol is not None
        await live.status(ol.entry_id, OrderStatus.FILLED)
        await until(lambda: live.om.order_list(ol.list_id).stop_id is not None, what="the exits")
        ol = live.om.order_list(ol.list_id)
        await live.status(ol.limit_id, OrderStatus.NEW)
        await live.status(ol.stop_id, OrderStatus.NEW)
        await live.move("61100")
        await live.status(ol.limit_id, OrderStatus.FILLED)
        await live.status(ol.stop_id, OrderStatus.CANCELLED)
        await until(lambda: live.om.order_list(ol.list_id).status is OrderListStatus.DONE, what="the bracket done")
    finally:
        await live.stop()


async def test_after_the_account_stream_reconnects_missed_fills_are_reconciled(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        o = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59990"))
        await live.status(o.client_order_id, OrderStatus.NEW)
        done = len(live.reconciled)
        live.lb.call(live.server.silence_sockets, "private")  # executions are lost from here on
        await live.trade("59980", "0.05", "sell")
        await asyncio.sleep(0.2)
        assert live.om.get(o.client_order_id).status is OrderStatus.NEW
        await until(lambda: len(live.reconciled) > done, what="a reconciliation")
        await live.status(o.client_order_id, OrderStatus.FILLED)
        assert any("Missed fill" in c for r in live.reconciled[done:] for c in r.changes)
        assert len(live.store.load_fills(venue="kraken")) == 1
    finally:
        await live.stop()


async def test_a_restart_reconciles_what_happened_while_the_app_was_closed(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    o = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59990"))
    other = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59000"))
    await live.status(o.client_order_id, OrderStatus.NEW)
    await live.status(other.client_order_id, OrderStatus.NEW)
    await live.stop()
    await lb.acall(lb.server.trade, BTC, "59980", "0.05", "sell")  # fills while closed
    await lb.acall(lambda: lb.server.core.cancel(lb.server.core.by_client[other.client_order_id]))  # on the website

    again = Live(lb, tmp_path, fresh=False)
    try:
        await again.start("59980")
        first = again.reconciled[0]
        assert again.om.get(o.client_order_id).status is OrderStatus.FILLED
        assert again.om.get(other.client_order_id).status is OrderStatus.CANCELLED
        assert any("Missed fill" in c for c in first.changes)
        assert len(again.store.load_fills(venue="kraken")) == 1
    finally:
        await again.stop()
