"""The real engine (``TradingSession`` / ``OrderManager``) trading on the loopback Binance through
the unmodified ccxt classes: orders of every type placed, filled, cancelled and reconciled,
Binance's native OCO (one exchange order list; the exchange ends the other leg), brackets whose
exits sell what the entry left after Binance's fee in the coin, a send that timed out after it
landed, and reconciliation after the account stream reconnects and after a restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from loopback.testing import binance_thread, binance_venue, until

from app.domain.enums import Emulation, OrderListStatus, OrderStatus, OrderType, Side, TimeInForce, TrailingMode
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest
from app.engine.events import ReconciliationDone
from app.engine.retry import RetryPolicy
from app.engine.session import TradingSession
from app.storage import Store

D = Decimal
FAST_STREAMS = RetryPolicy(attempts=1_000_000, base_s=0.1, factor=2.0, max_s=1.0)


@pytest.fixture(scope="module")
def lb():
    with binance_thread() as thread:
        yield thread


class Live:
    """A trading session on the loopback Binance, with what it reconciled recorded."""

    def __init__(self, lb, tmp: Path, *, fresh: bool = True, timeout_ms: int = 5000) -> None:
        self.lb, self.tmp, self.server = lb, tmp, lb.server
        if fresh:
            lb.call(self.server.reset, {"USDT": "100000", "BTC": "0.5"})
            lb.call(self.server.book_around, "BTC/USDT", "60000", spread="1", levels=10, qty="1")
        self.store = Store.open(f"sqlite:///{tmp / 'db.sqlite3'}")
        self.venue = binance_venue(self.server.base_url, timeout_ms=timeout_ms)
        self.session = TradingSession(self.store, self.venue, ["BTC/USDT"], mode="live", stream_policy=FAST_STREAMS)
        self.om = self.session.orders
        self.reconciled: list[ReconciliationDone] = []
        self.session.bus.subscribe(ReconciliationDone, self.reconciled.append)

    async def start(self, price: str = "60000") -> Live:
        await self.session.start()
        await until(lambda: self.lb.call(self.server.subscribed, "btcusdt@trade"), what="the trade stream")
        await until(lambda: self.lb.call(self.server.user_subscribed), what="the account stream")
        await self.trade(price, "0.1")
        await until(lambda: self.om.last_price("binance", "BTC/USDT") == D(price), what="the last price")
        return self

    async def book(self, mid: str, qty: str = "1") -> None:
        await self.lb.acall(self.server.book_around, "BTC/USDT", mid, spread="1", levels=10, qty=qty)

    async def trade(self, price: str, qty: str = "0.1", taker: str = "buy") -> None:
        await self.lb.acall(self.server.trade, "BTC/USDT", price, qty, taker)

    async def move(self, price: str, taker: str = "buy") -> None:
        """The market moves to ``price``: a book around it, then a trade there."""
        await self.book(price)
        await self.trade(price, "0.1", taker)
        await until(lambda: self.om.last_price("binance", "BTC/USDT") == D(price), what=f"price {price}")

    async def submit(self, t: OrderType, side: Side, qty: str = "0.01", **kw):
        o = await self.om.submit(OrderRequest("binance", "BTC/USDT", side, t, D(qty), **kw))
        assert o is not None
        return o

    async def status(self, cid: str, status: OrderStatus) -> None:
        await until(lambda: self.om.get(cid).status is status, what=f"{cid} {status.value}")

    async def stop(self) -> None:
        await self.session.stop()
        self.store.close()


async def test_orders_of_every_type_are_placed_filled_and_cancelled_on_binance(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        mkt = await live.submit(OrderType.MARKET, Side.BUY)
        await live.status(mkt.client_order_id, OrderStatus.FILLED)
        assert mkt.fee_asset == "BTC" and mkt.fee == D("0.00001")  # Binance takes a buy's fee in the coin

        lim = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59990"))
        await live.status(lim.client_order_id, OrderStatus.NEW)
        assert lim.venue_order_id is not None
        ioc = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59000"), tif=TimeInForce.IOC)
        await live.status(ioc.client_order_id, OrderStatus.EXPIRED)
        maker = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59980"), post_only=True)
        await live.status(maker.client_order_id, OrderStatus.NEW)
        crossing = await live.submit(OrderType.LIMIT, Side.BUY, price=D("60000.5"), post_only=True)
        await live.status(crossing.client_order_id, OrderStatus.REJECTED)
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
            assert o.emulation is Emulation.NONE  # held by Binance
        assert trail.emulation is Emulation.EMULATED  # Binance trails by basis points only: watched here
        assert live.lb.call(lambda: len([x for x in live.server.orders.values() if x.is_open])) == 4

        await live.move("60550")  # the stop-limit buy triggers and takes the asks up to 60600
        await live.status(stop_lim.client_order_id, OrderStatus.FILLED)
        await live.move("61050")  # the take-profit sell triggers
        await live.status(tp.client_order_id, OrderStatus.FILLED)
        await live.move("59400", "sell")  # stop sell; the trailing stop (1% under 61050) is released
        await live.status(stop.client_order_id, OrderStatus.FILLED)
        await live.status(trail.client_order_id, OrderStatus.FILLED)
        assert trail.emulation is Emulation.RELEASED
        await live.move("59150", "sell")  # the take-profit-limit buy
        await live.status(tp_lim.client_order_id, OrderStatus.FILLED)

        await live.om.drain()
        assert live.lb.call(lambda: [x.client_id for x in live.server.orders.values() if x.is_open]) == []
        # What the engine holds matches the exchange, fill by fill.
        btc = live.lb.call(lambda: live.server.ledger.balances()["BTC"].total)
        assert live.session.portfolio.balances["binance"]["BTC"] == btc or btc == D(2) + sum(
            (f.quantity - f.fee) if f.side is Side.BUY else -f.quantity for f in live.store.load_fills(venue="binance")
        )
    finally:
        await live.stop()


async def test_native_oco_is_one_exchange_order_list_and_the_exchange_ends_the_other_leg(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        ol = await live.om.submit_oco(OcoRequest("binance", "BTC/USDT", Side.SELL, D("0.01"), D("60500"), D("59500")))
        assert ol is not None
        limit, stop = live.om.get(ol.limit_id), live.om.get(ol.stop_id)
        for o in (limit, stop):
            await live.status(o.client_order_id, OrderStatus.NEW)
            assert o.emulation is Emulation.NONE and o.venue_order_id is not None
        lists = live.lb.call(
            lambda: [(x.client_id, sorted(o.client_id for o in x.legs)) for x in live.server.lists.values()]
        )
        assert lists == [(ol.list_id, sorted([limit.client_order_id, stop.client_order_id]))]
        await live.trade("60600", "0.05")  # through the limit leg
        await live.status(limit.client_order_id, OrderStatus.FILLED)
        await live.status(stop.client_order_id, OrderStatus.EXPIRED)  # ended by Binance, not cancelled here
        await until(lambda: live.om.order_list(ol.list_id).status is OrderListStatus.DONE, what="the list done")
        cancels = [p for _t, m, p in live.lb.call(lambda: list(live.server.faults.requests)) if m == "DELETE"]
        assert cancels == []

        # The stop leg triggers: Binance expires the limit leg, the stop sells at the market.
        ol2 = await live.om.submit_oco(
            OcoRequest("binance", "BTC/USDT", Side.SELL, D("0.01"), D("61000"), D("59800"), stop_limit_price=D("59700"))
        )
        assert ol2 is not None
        await live.status(ol2.limit_id, OrderStatus.NEW)
        await live.move("59750", "sell")
        await live.status(ol2.stop_id, OrderStatus.FILLED)
        await live.status(ol2.limit_id, OrderStatus.EXPIRED)

        # Moving a leg of an exchange OCO replaces the pair at the exchange.
        ol3 = await live.om.submit_oco(OcoRequest("binance", "BTC/USDT", Side.SELL, D("0.01"), D("60500"), D("59000")))
        assert ol3 is not None
        old_limit, old_stop = ol3.limit_id, ol3.stop_id
        await live.status(old_stop, OrderStatus.NEW)
        moved = await live.om.modify(old_limit, price=D("60800"))
        assert moved is not None and moved.price == D("60800")
        ol3 = live.om.order_list(ol3.list_id)
        assert ol3.limit_id == moved.client_order_id and ol3.stop_id != old_stop
        await live.status(ol3.limit_id, OrderStatus.NEW)
        await live.status(ol3.stop_id, OrderStatus.NEW)
        for cid in (old_limit, old_stop):
            assert live.om.get(cid).status is OrderStatus.CANCELLED
        working = live.lb.call(lambda: sorted(x.client_id for x in live.server.orders.values() if x.is_open))
        assert working == sorted([ol3.limit_id, ol3.stop_id])
        assert live.om.get(ol3.stop_id).stop_price == D("59000")
    finally:
        await live.stop()


async def test_a_bracket_exits_sell_what_the_entry_left_after_binances_fee_in_the_coin(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        ol = await live.om.submit_bracket(
            BracketRequest("binance", "BTC/USDT", Side.BUY, D("0.01"), OrderType.MARKET, None, D("61000"), D("59000"))
        )
        assert ol is not None
        await live.status(ol.entry_id, OrderStatus.FILLED)
        await until(lambda: live.om.order_list(ol.list_id).stop_id is not None, what="the exits")
        ol = live.om.order_list(ol.list_id)
        await live.status(ol.limit_id, OrderStatus.NEW)
        await live.status(ol.stop_id, OrderStatus.NEW)
        assert live.om.get(ol.limit_id).quantity == D("0.00999")  # 0.01 bought, 0.00001 BTC fee
        assert live.lb.call(lambda: len(live.server.lists)) == 1
        await live.move("61100")
        await live.status(ol.limit_id, OrderStatus.FILLED)
        await live.status(ol.stop_id, OrderStatus.EXPIRED)
        await until(lambda: live.om.order_list(ol.list_id).status is OrderListStatus.DONE, what="the bracket done")
    finally:
        await live.stop()


async def test_a_send_that_timed_out_but_landed_is_adopted_not_sent_again(lb, tmp_path):
    live = await Live(lb, tmp_path, timeout_ms=800).start()
    try:
        placed = live.lb.call(lambda: live.server.placed)
        live.lb.call(live.server.faults.add, "timeout", "/api/v3/order", method="POST", delay=2.0)
        o = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59000"))
        await live.status(o.client_order_id, OrderStatus.NEW)
        assert o.venue_order_id is not None
        assert live.lb.call(lambda: live.server.placed) == placed + 1
        # The same for a native OCO: both legs are looked up by their client ids.
        live.lb.call(live.server.faults.add, "timeout", "/api/v3/orderList/oco", method="POST", delay=2.0)
        ol = await live.om.submit_oco(OcoRequest("binance", "BTC/USDT", Side.SELL, D("0.01"), D("60500"), D("59500")))
        assert ol is not None
        await live.status(ol.limit_id, OrderStatus.NEW)
        await live.status(ol.stop_id, OrderStatus.NEW)
        assert live.lb.call(lambda: len(live.server.lists)) == 1
        assert live.lb.call(lambda: live.server.placed) == placed + 3
    finally:
        await live.stop()


async def test_after_the_account_stream_reconnects_missed_fills_are_reconciled(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    try:
        o = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59990"))
        await live.status(o.client_order_id, OrderStatus.NEW)
        done = len(live.reconciled)
        live.lb.call(live.server.silence_sockets, "ws-api")  # events are lost from here on
        await live.trade("59980", "0.05", "sell")  # fills at the exchange; nobody is told
        await asyncio.sleep(0.2)
        assert live.om.get(o.client_order_id).status is OrderStatus.NEW
        # The watchdog closes the silent socket; the stream subscribes again; the session reconciles.
        await until(lambda: len(live.reconciled) > done, what="a reconciliation")
        await live.status(o.client_order_id, OrderStatus.FILLED)
        assert any("Missed fill" in c for r in live.reconciled[done:] for c in r.changes)
        assert len(live.store.load_fills(venue="binance")) == 1
    finally:
        await live.stop()


async def test_a_restart_reconciles_what_happened_while_the_app_was_closed(lb, tmp_path):
    live = await Live(lb, tmp_path).start()
    o = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59990"))
    other = await live.submit(OrderType.LIMIT, Side.BUY, price=D("59000"))
    await live.status(o.client_order_id, OrderStatus.NEW)
    await live.status(other.client_order_id, OrderStatus.NEW)
    await live.stop()
    await lb.acall(lb.server.trade, "BTC/USDT", "59980", "0.05", "sell")  # fills while closed
    cancel = lb.call(lambda: lb.server.by_client[("BTCUSDT", other.client_order_id)])
    await lb.acall(
        lb.server._end, cancel, OrderStatus.CANCELLED, "CANCELED", lb.server.now_ms()
    )  # cancelled on the website

    again = Live(lb, tmp_path, fresh=False)
    try:
        await again.start("59980")
        first = again.reconciled[0]
        assert again.om.get(o.client_order_id).status is OrderStatus.FILLED
        assert again.om.get(other.client_order_id).status is OrderStatus.CANCELLED
        assert any("Missed fill" in c for c in first.changes)
        assert any("cancelled at the exchange" in c for c in first.changes)
        assert len(again.store.load_fills(venue="binance")) == 1
    finally:
        await again.stop()


async def test_paper_trading_on_binances_live_data_uses_its_filters_and_prices(lb, tmp_path):
    from loopback.testing import binance_data

    from app.venues.paper import PaperVenue

    lb.call(lb.server.reset)
    lb.call(lb.server.book_around, "BTC/USDT", "60000", spread="1", levels=10, qty="1")
    source = binance_data(lb.server.base_url)  # no API key
    paper = PaperVenue(source, name="paper-binance", initial_balances={"USDT": D("10000")})
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    session = TradingSession(store, paper, ["BTC/USDT"], mode="paper")
    try:
        await session.start()
        inst = session.orders.instruments[("paper-binance", "BTC/USDT")]
        assert (inst.tick_size, inst.lot_step, inst.min_notional) == (D("0.01"), D("0.00001"), D("10"))
        await until(
            lambda: lb.call(lb.server.subscribed, "btcusdt@trade") and lb.call(lb.server.subscribed, "btcusdt@depth"),
            what="the streams",
        )
        await lb.acall(lb.server.book_around, "BTC/USDT", "60000", spread="1", levels=10, qty="1")
        await lb.acall(lb.server.trade, "BTC/USDT", "60000", "0.1")
        await until(lambda: session.orders.last_price("paper-binance", "BTC/USDT") == D("60000"), what="a price")
        o = await session.orders.submit(
            OrderRequest("paper-binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59990"))
        )
        assert o is not None and o.status is OrderStatus.NEW
        assert lb.call(lambda: len(lb.server.orders)) == 0  # nothing reaches the exchange
        await lb.acall(lb.server.trade, "BTC/USDT", "59980", "0.5", "sell")
        await until(lambda: o.status is OrderStatus.FILLED, what="the paper fill on the exchange's trade")
        assert o.avg_price == D("59990")
    finally:
        await session.stop()
        store.close()
