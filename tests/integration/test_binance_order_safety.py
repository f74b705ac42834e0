"""Live order safety on the loopback Binance, where an exchange's answer is ambiguous: a market
order whose send timed out is never sent a second time unless the exchange says it does not have
it; a reconciliation while a send is retrying leaves that order to its send; after a restart, a
fill on a symbol the app was not watching is still found and recorded."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
import venue_scenarios as vs
from loopback.testing import binance_thread, until
from test_binance_engine import BINANCE

from app.domain.enums import OrderStatus, OrderType, Side
from app.domain.order import OrderRequest


@pytest.fixture(scope="module")
def lb():
    with binance_thread() as thread:
        yield thread


async def test_a_market_order_whose_send_and_check_both_failed_is_not_sent_again(lb, tmp_path):
    async with vs.running(BINANCE, lb, tmp_path, timeout_ms=800) as live:
        placed = live.lb.call(lambda: live.server.placed)
        # The order lands but its answer is late; then the check "did it land?" fails too.
        live.lb.call(live.server.faults.add, "timeout", "/api/v3/order", method="POST", delay=2.0)
        live.lb.call(live.server.faults.add, "5xx", "/api/v3/order", method="GET", count=10)
        o = await live.om.submit(OrderRequest("binance", "BTC/USDT", Side.BUY, OrderType.MARKET, D("0.01")))
        await until(lambda: o.status is OrderStatus.FILLED, what="the fill, from the account stream")
        await asyncio.sleep(1.5)  # past the send's retries
        live.lb.call(live.server.faults.clear)
        await live.om.reconcile(live.venue)  # and a reconciliation after it finds nothing more
        assert live.lb.call(lambda: live.server.placed) == placed + 1  # sent once, never twice
        assert o.filled_qty == D("0.01")
        assert sum(f.quantity for f in live.store.load_fills(venue="binance")) == D("0.01")


async def test_a_reconciliation_while_a_send_retries_leaves_that_order_to_its_send(lb, tmp_path):
    async with vs.running(BINANCE, lb, tmp_path) as live:
        live.lb.call(live.server.faults.add, "5xx", "/api/v3/order", method="POST", count=2)
        req = OrderRequest("binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000"))
        submitted = asyncio.ensure_future(live.om.submit(req))
        posts = lambda: [r for r in live.lb.call(lambda: list(live.server.faults.requests)) if r[1] == "POST"]  # noqa: E731
        await until(posts, what="the first try to reach the exchange")  # it fails; the send waits to retry
        await live.om.reconcile(live.venue)  # e.g. the account stream reconnected meanwhile
        o = await submitted
        await until(lambda: o.status is OrderStatus.NEW, what="the order to rest")
        assert o.client_order_id in live.at_exchange() and o.is_open  # what rests there is shown, and can be cancelled


async def test_after_a_restart_a_fill_on_a_symbol_not_watched_is_found(lb, tmp_path):
    live = await vs.Live(BINANCE, lb, tmp_path).start()
    o = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("59990"))
    await live.status(o.client_order_id, OrderStatus.NEW)
    await live.stop()
    await live.trade("59980", "0.05", "sell")  # it fills while the app is closed
    again = vs.Live(BINANCE, lb, tmp_path, fresh=False)
    again.venue._symbols = {"ETH/USDT"}  # the symbols the restarted app watches do not include it
    try:
        await again.start("59980")
        mine = again.om.get(o.client_order_id)
        assert mine.status is OrderStatus.FILLED and mine.filled_qty == o.quantity
        assert any("Missed fill recorded" in c for c in again.reconciled[0].changes)
        assert sum(f.quantity for f in again.store.load_fills(venue=BINANCE.name)) == o.quantity
    finally:
        await again.stop()
