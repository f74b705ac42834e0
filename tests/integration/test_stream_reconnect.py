"""A market-data stream that breaks and comes back makes the session reconcile that venue's orders
(the reconciliation must not wait for itself among the order manager's tasks)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from helpers import ScriptedMarket, book
from loopback.testing import until

from app.domain.enums import OrderStatus, OrderType, Side
from app.domain.errors import TemporaryVenueError
from app.domain.market import Trade
from app.domain.order import OrderRequest
from app.engine.events import ReconciliationDone
from app.engine.session import TradingSession
from app.storage import Store
from app.venues.paper import PaperVenue

D = Decimal


class BreakingMarket(ScriptedMarket):
    """The trade stream fails once after its first trade (a dropped socket), then works."""

    def __init__(self) -> None:
        super().__init__()
        self.broke = False

    async def _trades_once(self, symbol: str):
        async for t in self._stream(symbol, Trade):
            yield t
            if not self.broke:
                self.broke = True
                raise TemporaryVenueError(detail="socket dropped")

    def watch_trades(self, symbol: str):
        return self._trades_once(symbol)

    def push(self, ev: object) -> None:
        for q in self._queues:
            q.put_nowait(ev)


async def test_a_stream_that_comes_back_reconciles_the_venues_orders(tmp_path):
    market = BreakingMarket()
    venue = PaperVenue(market, name="sim", initial_balances={"USDT": D("100000"), "BTC": D("1")})
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    session = TradingSession(store, venue, ["BTC/USDT"])
    done: list[ReconciliationDone] = []
    session.bus.subscribe(ReconciliationDone, done.append)
    try:
        await session.start()
        await until(lambda: len(market._queues) >= 3, what="the streams")
        venue.on_book(book("60000"))
        o = await session.orders.submit(
            OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000"))
        )
        assert o is not None and o.status is OrderStatus.NEW
        market.push(Trade("sim", "BTC/USDT", "t1", D("60000"), D("1"), Side.BUY, 1))  # then the socket drops
        await until(lambda: market.broke and len(market._queues) >= 4, what="the stream to come back")
        market.push(Trade("sim", "BTC/USDT", "t2", D("60001"), D("1"), Side.BUY, 2))
        await until(lambda: len(done) == 2, timeout=10, what="the reconciliation after the reconnect")
        await asyncio.wait_for(session.orders.drain(), 5)
    finally:
        await session.stop()
        store.close()
