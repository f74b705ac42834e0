"""What every venue promises the order manager (after Hummingbot's shared connector tests): the
paper venue on a scripted market, the demo venue as the app builds it and each ccxt venue against its loopback exchange pass the same
tests."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from harnesses import HARNESSES, BinanceHarness, Harness, LoopbackHarness

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side
from app.domain.money import ZERO
from app.domain.order import Fill, Order

D = Decimal


@pytest.fixture(scope="module", autouse=True)
def _servers():
    yield
    BinanceHarness.close_all()
    LoopbackHarness.close_all()


@pytest.fixture(params=sorted(HARNESSES))
def harness(request):
    return HARNESSES[request.param]()


def order(
    h: Harness, cid: str, t: OrderType = OrderType.LIMIT, side: Side = Side.BUY, qty: str = "0.01", **kw
) -> Order:
    return Order(cid, h.venue.name, h.symbol, side, t, D(qty), **kw)


def fills_of(h: Harness, cid: str) -> list[Fill]:
    return [r.fill for r in h.reports if r.fill is not None and r.client_order_id == cid]


async def test_placing_twice_with_one_client_id_makes_one_order(harness, tmp_path):
    venue = await harness.open(tmp_path)
    try:
        await harness.market("60000")
        o = order(harness, "twice1", price=harness.px("59000"))
        first = await venue.place(o)
        second = await venue.place(o)
        assert first.event is OrderEvent.ACCEPTED and second.event is OrderEvent.ACCEPTED
        assert second.venue_order_id == first.venue_order_id
        open_ = [s for s in await venue.fetch_open_orders(harness.symbol) if s.client_order_id == "twice1"]
        assert len(open_) == 1
    finally:
        await harness.close()


async def test_fetch_order_finds_an_order_by_its_client_id(harness, tmp_path):
    venue = await harness.open(tmp_path)
    try:
        await harness.market("60000")
        ack = await venue.place(order(harness, "find1", price=harness.px("59000")))
        # A fresh copy that never heard back from the venue: only the client id is known.
        st = await venue.fetch_order(order(harness, "find1", price=harness.px("59000")))
        assert st is not None
        assert (st.client_order_id, st.venue_order_id, st.status) == ("find1", ack.venue_order_id, OrderStatus.NEW)
        assert await venue.fetch_order(order(harness, "never-sent", price=harness.px("59000"))) is None
        await venue.cancel(order(harness, "find1", price=harness.px("59000")))
        st = await venue.fetch_order(order(harness, "find1", price=harness.px("59000")))
        assert st is not None and st.status is OrderStatus.CANCELLED
    finally:
        await harness.close()


async def test_cancelling_a_filled_order_is_rejected(harness, tmp_path):
    venue = await harness.open(tmp_path)
    try:
        await harness.market("60000")
        o = order(harness, "filled1", OrderType.MARKET)
        assert (await venue.place(o)).event is OrderEvent.ACCEPTED
        await harness.settle(lambda: sum(f.quantity for f in fills_of(harness, "filled1")) == D("0.01"), "the fill")
        answer = await venue.cancel(o)
        assert answer.event is OrderEvent.CANCEL_REJECTED
        assert "filled" in answer.reason
        st = await venue.fetch_order(o)
        assert st is not None and st.status is OrderStatus.FILLED and st.filled_qty == D("0.01")
    finally:
        await harness.close()


async def test_fills_arrive_once_through_the_report_handler(harness, tmp_path):
    venue = await harness.open(tmp_path)
    try:
        await harness.market("60000")
        o = order(harness, "rest1", price=harness.px("59990"))
        await venue.place(o)
        await harness.trade("59980", "0.004", Side.SELL)  # through the price: a partial fill
        await harness.settle(lambda: fills_of(harness, "rest1"), "the first fill")
        await harness.trade("59980", "0.02", Side.SELL)
        await harness.settle(lambda: sum(f.quantity for f in fills_of(harness, "rest1")) == D("0.01"), "the rest")
        await harness.trade("59970", "0.02", Side.SELL)  # nothing left to fill
        await harness.market("59970")
        fills = fills_of(harness, "rest1")
        assert [f.quantity for f in fills] == [D("0.004"), D("0.006")]
        assert all(c == 1 for c in Counter(f.trade_id for f in fills).values())
        assert all(
            f.price == harness.px("59990") and f.venue == venue.name and f.symbol == harness.symbol for f in fills
        )
        history = [f for f in await venue.fetch_my_trades(harness.symbol, None) if f.client_order_id == "rest1"]
        assert sorted(f.trade_id for f in history) == sorted(f.trade_id for f in fills)
        st = await venue.fetch_order(o)
        assert st is not None and st.status is OrderStatus.FILLED
    finally:
        await harness.close()


async def test_balances_move_as_the_fills_say(harness, tmp_path):
    venue = await harness.open(tmp_path)
    try:
        await harness.market("60000")
        before = await venue.fetch_balances()
        await venue.place(order(harness, "bal-buy", OrderType.MARKET, qty="0.02"))
        await venue.place(
            order(harness, "bal-sell", OrderType.LIMIT, Side.SELL, qty="0.015", price=harness.px("60010"))
        )
        await harness.settle(lambda: sum(f.quantity for f in fills_of(harness, "bal-buy")) == D("0.02"), "the buy")
        await harness.trade("60020", "1", Side.BUY)
        await harness.settle(lambda: sum(f.quantity for f in fills_of(harness, "bal-sell")) == D("0.015"), "the sell")
        fills = fills_of(harness, "bal-buy") + fills_of(harness, "bal-sell")
        base, quote = ZERO, ZERO
        for f in fills:
            sign = 1 if f.side is Side.BUY else -1
            base += sign * f.quantity
            quote -= sign * f.quantity * f.price
            if f.fee_asset == "BTC":
                base -= f.fee
            elif f.fee_asset == harness.quote:
                quote -= f.fee
            else:
                pytest.fail(f"fee in {f.fee_asset}")
        after = await venue.fetch_balances()
        assert after["BTC"].total - before["BTC"].total == base
        q = harness.quote
        assert after[q].total - before[q].total == quote
        assert after["BTC"].locked == ZERO and after[q].locked == ZERO
    finally:
        await harness.close()
