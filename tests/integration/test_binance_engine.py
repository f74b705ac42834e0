"""The real engine (``TradingSession`` / ``OrderManager``) trading on the loopback Binance through
the unmodified ccxt classes: orders of every type placed, filled, cancelled and reconciled,
Binance's native OCO (one exchange order list; the exchange ends the other leg), brackets whose
exits sell what the entry left after Binance's fee in the coin, a send that timed out after it
landed, and reconciliation after the account stream reconnects and after a restart. The scenarios
every exchange shares are in ``venue_scenarios``."""

from __future__ import annotations

from decimal import Decimal

import pytest
import venue_scenarios as vs
from loopback.testing import binance_thread, until

from app.domain.enums import Emulation, OrderStatus, OrderType, Side
from app.domain.order import OrderRequest
from app.domain.order_list import OcoRequest
from app.engine.session import TradingSession
from app.storage import Store

D = Decimal


def _cancel_on_the_website(server, cid: str) -> None:
    server._end(server.by_client[("BTCUSDT", cid)], OrderStatus.CANCELLED, "CANCELED", server.now_ms())


BINANCE = vs.Spec(
    name="binance",
    symbol="BTC/USDT",
    quote="USDT",
    balances={"USDT": "100000", "BTC": "0.5"},
    trade_stream="btcusdt@trade",
    account_sockets=("ws-api",),
    exchange=lambda server: server,
    cancel_at_exchange=_cancel_on_the_website,
)


@pytest.fixture(scope="module")
def lb():
    with binance_thread() as thread:
        yield thread


async def test_orders_of_every_type_are_placed_filled_and_cancelled_on_binance(lb, tmp_path):
    async with vs.running(BINANCE, lb, tmp_path) as live:
        mkt = await vs.plain_orders(live, ioc_ends=OrderStatus.EXPIRED, crossing_post_only_ends=OrderStatus.REJECTED)
        assert mkt.fee_asset == "BTC" and mkt.fee == D("0.00001")  # Binance takes a buy's fee in the coin
        await vs.stops_take_profits_and_trailing_stops(live, held_by_venue=True)  # trailing: basis points only


async def test_native_oco_is_one_exchange_order_list_and_the_exchange_ends_the_other_leg(lb, tmp_path):
    async with vs.running(BINANCE, lb, tmp_path) as live:
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
        await live.done(ol.list_id, "the list done")
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
        assert live.at_exchange() == sorted([ol3.limit_id, ol3.stop_id])
        assert live.om.get(ol3.stop_id).stop_price == D("59000")


async def test_a_bracket_exits_sell_what_the_entry_left_after_binances_fee_in_the_coin(lb, tmp_path):
    async with vs.running(BINANCE, lb, tmp_path) as live:
        ol = await vs.bracket_entered(live, exit_qty="0.00999", stop_at_exchange=True)  # 0.01 bought, 0.00001 BTC fee
        assert live.lb.call(lambda: len(live.server.lists)) == 1
        await vs.bracket_taken_profit(live, ol, stop_ends=OrderStatus.EXPIRED)


async def test_a_send_that_timed_out_but_landed_is_adopted_not_sent_again(lb, tmp_path):
    async with vs.running(BINANCE, lb, tmp_path, timeout_ms=800) as live:
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


class TestOnBinance(vs.Reconciliation):
    """Reconciliation, as on every venue."""

    spec = BINANCE
