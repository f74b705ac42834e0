"""Checks of a ccxt venue against its loopback that read the same on every exchange: market data
and account streams dropped, silenced and subscribed again, a book reloaded after a gap, a send
that timed out after it landed. Each ``test_<venue>_loopback.py`` runs them with its ``Case``.

Prices are written around 60,000; ``Case.px`` puts them on the venue's market (Upbit: 60,000 is
100,000,000 KRW and each unit 1,000 KRW, the price unit of that band)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from loopback.testing import Pump, loopback_data, loopback_venue, until

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side
from app.domain.errors import TemporaryVenueError
from app.domain.order import Fill, Order
from app.venues.base import BalancesChanged, Venue
from app.venues.ccxt import errors as E
from app.venues.ccxt.market_data import LIVE

D = Decimal


@dataclass(frozen=True)
class Case:
    """One exchange's loopback as the checks see it."""

    name: str
    symbol: str
    trade_sub: str  # the loopback's name for the trade subscription
    public: tuple[str, ...]  # ``drop_sockets``/``silence_sockets`` arguments for the market data socket
    private: tuple[str, ...]  # the same for the account socket
    order_path: str  # where orders are sent
    qty: str = "0.01"  # the orders' quantity unless told
    mid: str = "60000"
    scale: str = "1"
    spread: str = "1"
    step: str = "1"

    def px(self, price: str) -> Decimal:
        """The checks' price (around 60,000) on this venue's market."""
        return D(self.mid) + (D(price) - 60000) * D(self.scale)

    def best_bid(self, mid: str) -> Decimal:
        return self.px(mid) - D(self.spread) / 2

    def order(self, cid: str, t: OrderType = OrderType.LIMIT, side: Side = Side.BUY, qty: str = "", **kw: Any) -> Order:
        return Order(cid, self.name, self.symbol, side, t, D(qty or self.qty), **kw)

    def book(self, lb: Any, mid: str, qty: str = "1") -> Any:
        """A ten-level book around ``mid`` (a call to run on the loopback's thread)."""
        spread, step = D(self.spread), D(self.step)
        return lambda: lb.server.book_around(self.symbol, self.px(mid), spread=spread, levels=10, qty=qty, step=step)

    async def trade(self, lb: Any, price: str, qty: str, taker: str = "buy") -> None:
        await lb.acall(lb.server.trade, self.symbol, self.px(price), qty, taker)


def fresh_market(lb: Any, case: Case) -> Any:
    """A fresh account on a market at 60,000 (a book and a last trade); returns ``lb``."""
    lb.call(lb.server.reset)
    lb.call(case.book(lb, "60000"))
    lb.call(lb.server.trade, case.symbol, case.px("60000"), "0.1")
    return lb


async def market_data_streams_and_a_dropped_socket_subscribes_again(server: Any, case: Case) -> None:
    """Trades, the book and the ticker stream; the book follows the market; when the socket is
    cut the streams fail (the feed reconnects them) and a new watch subscribes again."""
    data = loopback_data(case.name, server.server.base_url)
    subscribed = lambda: server.call(server.server.subscribed, case.trade_sub)  # noqa: E731
    try:
        await data.load_markets()
        sym = case.symbol
        trades, books, tickers = Pump(data.watch_trades(sym)), Pump(data.watch_book(sym)), Pump(data.watch_ticker(sym))
        await until(subscribed, what="the trade subscription")
        await until(lambda: books.items and tickers.items, what="the book and the ticker")
        assert books.items[-1].bids[0].price == case.best_bid("60000") and data.stream_state(sym, "book") == LIVE
        await server.acall(case.book(server, "60010", qty="2"))
        await until(lambda: books.items[-1].bids[0].price == case.best_bid("60010"), what="a book update")
        assert books.items[-1].bids[0].quantity == D(2) and len(books.items[-1].asks) == 10
        await case.trade(server, "60010", "0.2")
        await until(lambda: any(t.price == case.px("60010") for t in trades.items), what="a trade")
        t = next(t for t in trades.items if t.price == case.px("60010"))
        assert (t.quantity, t.taker_side) == (D("0.2"), Side.BUY)
        assert server.call(server.server.drop_sockets, *case.public) == 1
        await until(lambda: trades.done, what="the trade stream to fail")
        assert isinstance(trades.error, TemporaryVenueError)
        for p in (books, tickers):
            await p.stop()
        again = Pump(data.watch_trades(sym))
        await until(subscribed, what="the new subscription")
        await case.trade(server, "60011", "0.1")
        await until(lambda: any(t.price == case.px("60011") for t in again.items), what="a trade after the drop")
        await again.stop()
    finally:
        await data.close()


async def a_silent_socket_is_closed_by_the_watchdog(server: Any, case: Case) -> None:
    data = loopback_data(case.name, server.server.base_url)
    try:
        await data.load_markets()
        trades = Pump(data.watch_trades(case.symbol))
        await until(lambda: server.call(server.server.subscribed, case.trade_sub), what="the subscription")
        server.call(server.server.silence_sockets, *case.public)
        await until(lambda: trades.done, timeout=30, what="the watchdog")
        assert isinstance(trades.error, TemporaryVenueError)  # E.StreamStalled, or the socket closed
    finally:
        await data.close()


async def a_book_with_a_gap_is_loaded_again(server: Any, case: Case) -> None:
    """The loopback skips book messages: the venue notices, drops the book and loads it again."""
    data = loopback_data(case.name, server.server.base_url)
    try:
        await data.load_markets()
        books = Pump(data.watch_book(case.symbol))
        await until(lambda: books.items, what="the book")
        server.call(setattr, server.server.faults, "book_gap", 2)
        await server.acall(case.book(server, "60020", qty="3"))
        await until(lambda: data.book_gaps >= 1, what="the gap noticed")
        # Dropped and subscribed again: the next book is whole, from a new snapshot.
        await until(
            lambda: (
                books.items[-1].bids[0].price == case.best_bid("60020")
                and data.stream_state(case.symbol, "book") == LIVE
            ),
            what="the book live again",
        )
        assert books.items[-1].bids[0].quantity == D(3) and len(books.items[-1].bids) == 10
        assert not books.done
        await books.stop()
    finally:
        await data.close()


async def a_send_that_timed_out_after_it_landed_is_found_by_its_client_id(server: Any, case: Case, cid: str) -> None:
    """The order lands but its answer is late: the venue finds it by its client id, and a blind
    resend is "already there", not a second order."""
    v = loopback_venue(case.name, server.server.base_url, timeout_ms=600)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "timeout", case.order_path, method="POST", delay=1.5)
        with pytest.raises(E.RequestTimedOut):
            await v.place(case.order(cid, price=case.px("59000")))
        st = await v.fetch_order(case.order(cid, price=case.px("59000")))  # what the engine asks next
        assert st is not None and st.status is OrderStatus.NEW and st.client_order_id == cid
        again = await v.place(case.order(cid, price=case.px("59000")))
        assert again.event is OrderEvent.ACCEPTED and again.venue_order_id == st.venue_order_id
        assert server.call(lambda: server.server.placed) == 1
    finally:
        await v.close()


class Account:
    """A venue's account stream, pumped, with what the venue reported recorded."""

    def __init__(self, server: Any, case: Case) -> None:
        self.server, self.case = server, case
        self.venue: Venue = loopback_venue(case.name, server.server.base_url, symbols=(case.symbol,))
        self.reports: list[Any] = []
        self.venue.set_report_handler(self.reports.append)
        self.stream: Pump | None = None

    async def watch(self, what: str) -> None:
        await self.venue.load_markets()
        self.stream = Pump(self.venue.watch_account())
        await until(lambda: self.server.call(self.server.server.user_subscribed), what=what)

    def fills(self, cid: str) -> list[Fill]:
        return [r.fill for r in self.reports if r.fill is not None and r.client_order_id == cid]

    async def a_resting_buy_fills_in_two(self, cid: str, first: str) -> list[Fill]:
        """A buy at the best bid fills ``first``, then the rest: each fill is reported once, at its price."""
        case = self.case
        price = case.best_bid("60000")
        await self.venue.place(case.order(cid, price=price))
        await case.trade(self.server, "59990", first, "sell")
        await case.trade(self.server, "59990", str(D(case.qty) * 2), "sell")
        await until(lambda: sum(f.quantity for f in self.fills(cid)) == D(case.qty), what="both fills")
        fills = self.fills(cid)
        assert [f.quantity for f in fills] == [D(first), D(case.qty) - D(first)]
        assert all(f.price == price for f in fills)
        return fills

    async def holds(self, asset: str, free: str, what: str) -> None:
        """The stream's latest balances come to ``free`` of ``asset``."""
        changed = lambda: [e for e in self.stream.items if isinstance(e, BalancesChanged)]  # noqa: E731
        await until(lambda: changed() and changed()[-1].balances[asset].free == D(free), what=what)

    async def cancelled_on_the_website(self, cid: str) -> None:
        core = self.server.server.core
        self.server.call(lambda: core.cancel(core.by_client[cid]))
        await until(
            lambda: any(r.client_order_id == cid and r.event is OrderEvent.CANCELLED for r in self.reports),
            what="the cancel",
        )

    async def resubscribes_after_a_drop(self, cid: str) -> None:
        """Dropped: the stream fails; a new one subscribes and reports on; every fill it reported is
        in the venue's trade history."""
        self.server.call(self.server.server.drop_sockets, *self.case.private)
        await until(lambda: self.stream.done, what="the account stream to fail")
        await self.stream.stop()
        await self.watch("subscribed again")
        await self.venue.place(self.case.order(cid, OrderType.MARKET, Side.SELL))
        await until(lambda: self.fills(cid), what="a fill after")
        history = await self.venue.fetch_my_trades(self.case.symbol, None)
        assert sorted(f.trade_id for f in history) == sorted(r.fill.trade_id for r in self.reports if r.fill)
        await self.stream.stop()

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.stop()
        await self.venue.close()
