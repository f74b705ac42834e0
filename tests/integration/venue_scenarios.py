"""What the real engine (``TradingSession`` / ``OrderManager``) does on every exchange, written once:
a trading session on a loopback exchange through the unmodified ccxt classes (``Live``), and the
scenarios each ``test_<venue>_engine.py`` runs on its own loopback with its own expectations.

Prices in the scenarios are written around 60,000; ``Live.px`` puts them on the venue's market
(Upbit: 60,000 is 100,000,000 KRW and each unit 1,000 KRW, the price unit of that band)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from loopback.testing import loopback_venue, until

from app.domain.enums import Emulation, OrderListStatus, OrderStatus, OrderType, Side, TimeInForce, TrailingMode
from app.domain.order import Order, OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest, OrderList
from app.engine.events import ReconciliationDone
from app.engine.retry import RetryPolicy
from app.engine.risk.limits import RiskLimits
from app.engine.session import TradingSession
from app.storage import Store

D = Decimal
FAST_STREAMS = RetryPolicy(attempts=1_000_000, base_s=0.1, factor=2.0, max_s=1.0)


def in_core(server: Any) -> Any:
    """The matching core the Upbit, Kraken and Coinbase loopbacks share (its ``orders``, ``ledger``)."""
    return server.core


def cancel_in_core(server: Any, cid: str) -> None:
    """Cancels ``cid`` in that core, as on the website."""
    server.core.cancel(server.core.by_client[cid])


@dataclass(frozen=True)
class Spec:
    """One exchange as the scenarios see it: its market, its loopback's names, its account."""

    name: str
    symbol: str
    quote: str
    balances: dict[str, str]
    trade_stream: str  # the loopback's name for the trade subscription
    account_sockets: tuple[str, ...]  # ``silence_sockets`` arguments that cut the account stream
    mid: str = "60000"
    scale: str = "1"
    spread: str = "1"
    step: str = "1"
    limits: RiskLimits | None = None
    exchange: Callable[[Any], Any] = in_core  # the loopback's matching engine (its ``orders``, ``ledger``)
    cancel_at_exchange: Callable[[Any, str], None] = cancel_in_core  # cancels a client id, as on the website


class Live:
    """A trading session on a loopback exchange, with what it reconciled recorded."""

    def __init__(self, spec: Spec, lb: Any, tmp: Path, *, fresh: bool = True, timeout_ms: int = 5000) -> None:
        self.spec, self.lb, self.server = spec, lb, lb.server
        self.name, self.symbol = spec.name, spec.symbol
        if fresh:
            lb.call(self.server.reset, spec.balances)
            lb.call(self.server.book_around, **self._book("60000"))
            lb.call(self.server.trade, self.symbol, str(self.px("60000")), "0.1")  # a last price (Upbit: its band)
        self.store = Store.open(f"sqlite:///{tmp / 'db.sqlite3'}")
        self.venue = loopback_venue(spec.name, self.server.base_url, symbols=(self.symbol,), timeout_ms=timeout_ms)
        self.session = TradingSession(
            self.store,
            self.venue,
            [self.symbol],
            mode="live",
            stream_policy=FAST_STREAMS,
            valuation_currency=spec.quote,
        )
        self.om = self.session.orders
        if spec.limits is not None:
            self.session.risk.limits = spec.limits
        self.reconciled: list[ReconciliationDone] = []
        self.session.bus.subscribe(ReconciliationDone, self.reconciled.append)

    def px(self, price: str) -> Decimal:
        """The tests' price (around 60,000) on this venue's market."""
        return D(self.spec.mid) + (D(price) - 60000) * D(self.spec.scale)

    def _book(self, mid: str) -> dict[str, Any]:
        s = self.spec
        return {"symbol": self.symbol, "mid": str(self.px(mid)), "spread": s.spread, "step": s.step, "qty": "1"}

    async def start(self, price: str = "60000") -> Live:
        await self.session.start()
        await until(lambda: self.lb.call(self.server.subscribed, self.spec.trade_stream), what="the trade stream")
        await until(lambda: self.lb.call(self.server.user_subscribed), what="the account stream")
        await self.trade(price, "0.1")
        await until(lambda: self.om.last_price(self.name, self.symbol) == self.px(price), what="the last price")
        return self

    async def book(self, mid: str) -> None:
        await self.lb.acall(lambda: self.server.book_around(**self._book(mid)))

    async def trade(self, price: str, qty: str = "0.1", taker: str = "buy") -> None:
        await self.lb.acall(self.server.trade, self.symbol, str(self.px(price)), qty, taker)

    async def move(self, price: str, taker: str = "buy") -> None:
        """The market moves to ``price``: a book around it, then a trade there."""
        await self.book(price)
        await self.trade(price, "0.1", taker)
        await until(lambda: self.om.last_price(self.name, self.symbol) == self.px(price), what=f"price {price}")

    async def submit(self, t: OrderType, side: Side, qty: str = "0.01", **kw: Any) -> Order:
        o = await self.om.submit(OrderRequest(self.name, self.symbol, side, t, D(qty), **kw))
        assert o is not None
        return o

    async def status(self, cid: str, status: OrderStatus) -> None:
        await until(lambda: self.om.get(cid).status is status, what=f"{cid} {status.value}")

    async def done(self, list_id: str, what: str) -> None:
        await until(lambda: self.om.order_list(list_id).status is OrderListStatus.DONE, what=what)

    def at_exchange(self) -> list[str]:
        """The client ids of the orders working at the exchange."""
        ex = self.spec.exchange
        return self.lb.call(lambda: sorted(o.client_id for o in ex(self.server).orders.values() if o.is_open))

    async def stop(self) -> None:
        await self.session.stop()
        self.store.close()


@asynccontextmanager
async def running(spec: Spec, lb: Any, tmp: Path, **kw: Any) -> AsyncIterator[Live]:
    """A started ``Live`` on a fresh account for the ``async with`` block."""
    live = Live(spec, lb, tmp, **kw)
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


async def plain_orders(
    live: Live, *, ioc_ends: OrderStatus, crossing_post_only_ends: OrderStatus | None = None, market_sell: bool = False
) -> Order:
    """A market buy fills; a limit rests, then fills on a trade through it; an IOC ends unfilled
    (``ioc_ends``); a post-only rests and is cancelled; one that would take ends as
    ``crossing_post_only_ends`` (when the venue is asked). Returns the market buy."""
    mkt = await live.submit(OrderType.MARKET, Side.BUY)
    await live.status(mkt.client_order_id, OrderStatus.FILLED)
    lim = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("59990"))
    await live.status(lim.client_order_id, OrderStatus.NEW)
    assert lim.venue_order_id is not None
    ioc = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("59000"), tif=TimeInForce.IOC)
    await live.status(ioc.client_order_id, ioc_ends)
    maker = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("59980"), post_only=True)
    await live.status(maker.client_order_id, OrderStatus.NEW)
    if crossing_post_only_ends is not None:
        crossing = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("60000.5"), post_only=True)
        await live.status(crossing.client_order_id, crossing_post_only_ends)
    assert await live.om.cancel(maker.client_order_id)
    await live.status(maker.client_order_id, OrderStatus.CANCELLED)
    if market_sell:
        sell = await live.submit(OrderType.MARKET, Side.SELL, qty="0.005")
        await live.status(sell.client_order_id, OrderStatus.FILLED)
    await live.trade("59985", "0.05", "sell")
    await live.status(lim.client_order_id, OrderStatus.FILLED)
    return mkt


async def stops_take_profits_and_trailing_stops(live: Live, *, held_by_venue: bool) -> None:
    """A stop, a stop-limit, a take-profit, a take-profit-limit and a trailing stop, each triggered
    as the market moves through it: held by the venue (``held_by_venue``) or watched by the app
    (then released to the venue when triggered). Trailing stops are always the app's. At the end
    nothing works at the exchange and the engine's balance comes to the exchange's."""
    stop = await live.submit(OrderType.STOP_MARKET, Side.SELL, stop_price=live.px("59500"))
    stop_lim = await live.submit(OrderType.STOP_LIMIT, Side.BUY, stop_price=live.px("60500"), price=live.px("60600"))
    tp = await live.submit(OrderType.TAKE_PROFIT_MARKET, Side.SELL, stop_price=live.px("61000"))
    tp_lim = await live.submit(
        OrderType.TAKE_PROFIT_LIMIT, Side.BUY, stop_price=live.px("59200"), price=live.px("59300")
    )
    trail = await live.submit(OrderType.TRAILING_STOP, Side.SELL, trail_mode=TrailingMode.PERCENT, trail_value=D("1"))
    assert trail.emulation is Emulation.EMULATED
    if held_by_venue:
        for o in (stop, stop_lim, tp, tp_lim):
            await live.status(o.client_order_id, OrderStatus.NEW)
            assert o.emulation is Emulation.NONE
        assert len(live.at_exchange()) == 4
    else:
        for o in (stop, stop_lim, tp, tp_lim):
            assert o.emulation is Emulation.EMULATED
        assert live.at_exchange() == []

    await live.move("60550")  # the stop-limit buy triggers and takes the asks up to its limit
    await live.status(stop_lim.client_order_id, OrderStatus.FILLED)
    if not held_by_venue:
        assert live.om.get(stop_lim.client_order_id).emulation is Emulation.RELEASED
    await live.move("61050")  # the take-profit sell
    await live.status(tp.client_order_id, OrderStatus.FILLED)
    await live.move("59400", "sell")  # the stop sell; the trailing stop (1 % under 61,050) is released
    await live.status(stop.client_order_id, OrderStatus.FILLED)
    await live.status(trail.client_order_id, OrderStatus.FILLED)
    assert trail.emulation is Emulation.RELEASED
    await live.move("59150", "sell")  # the take-profit-limit buy
    await live.status(tp_lim.client_order_id, OrderStatus.FILLED)

    await live.om.drain()
    assert live.at_exchange() == []
    # What the engine holds comes to what the exchange holds (its balance stream, as it arrives).
    ex, server = live.spec.exchange, live.server
    btc = live.lb.call(lambda: ex(server).ledger.balances()["BTC"].total)
    await until(lambda: live.session.portfolio.balances[live.name]["BTC"] == btc, what="the balances")


async def emulated_oco(live: Live) -> None:
    """An OCO the app emulates: its limit rests at the exchange, its stop is watched here; a fill of
    the limit cancels the stop, and a triggered stop sells at the market and cancels the limit."""
    ol = await live.om.submit_oco(
        OcoRequest(live.name, live.symbol, Side.SELL, D("0.01"), live.px("60500"), live.px("59500"))
    )
    assert ol is not None
    limit, stop = live.om.get(ol.limit_id), live.om.get(ol.stop_id)
    await live.status(limit.client_order_id, OrderStatus.NEW)
    # The stop leg is watched by the app (the base is held once, by the resting limit).
    assert stop.emulation is Emulation.EMULATED and live.at_exchange() == [limit.client_order_id]
    await live.trade("60600", "0.05")  # through the limit leg
    await live.status(limit.client_order_id, OrderStatus.FILLED)
    await live.status(stop.client_order_id, OrderStatus.CANCELLED)
    await live.done(ol.list_id, "the OCO done")
    assert live.at_exchange() == []

    # The stop leg triggers: the app sells at the market and cancels the resting limit.
    ol2 = await live.om.submit_oco(
        OcoRequest(live.name, live.symbol, Side.SELL, D("0.01"), live.px("61000"), live.px("59800"))
    )
    assert ol2 is not None
    await live.status(ol2.limit_id, OrderStatus.NEW)
    await live.move("59750", "sell")
    await live.status(ol2.stop_id, OrderStatus.FILLED)
    await live.status(ol2.limit_id, OrderStatus.CANCELLED)
    assert live.at_exchange() == []


async def bracket_entered(live: Live, *, exit_qty: str, stop_at_exchange: bool) -> OrderList:
    """A bracket's market entry fills, then its exits are placed, for ``exit_qty`` (what the entry
    left after the fee); its stop rests at the exchange when ``stop_at_exchange``."""
    ol = await live.om.submit_bracket(
        BracketRequest(
            live.name, live.symbol, Side.BUY, D("0.01"), OrderType.MARKET, None, live.px("61000"), live.px("59000")
        )
    )
    assert ol is not None
    await live.status(ol.entry_id, OrderStatus.FILLED)
    await until(lambda: live.om.order_list(ol.list_id).stop_id is not None, what="the exits")
    ol = live.om.order_list(ol.list_id)
    await live.status(ol.limit_id, OrderStatus.NEW)
    if stop_at_exchange:
        await live.status(ol.stop_id, OrderStatus.NEW)
    assert live.om.get(ol.limit_id).quantity == D(exit_qty)
    return ol


async def bracket_taken_profit(live: Live, ol: OrderList, *, stop_ends: OrderStatus) -> None:
    """The market rises through the bracket's take-profit: it fills, the stop ends (``stop_ends``)."""
    await live.move("61100")
    await live.status(ol.limit_id, OrderStatus.FILLED)
    await live.status(ol.stop_id, stop_ends)
    await live.done(ol.list_id, "the bracket done")


async def missed_fills_after_the_account_stream_reconnects(live: Live) -> None:
    """Events are lost on a silent account stream; once it reconnects the session reconciles them."""
    o = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("59990"))
    await live.status(o.client_order_id, OrderStatus.NEW)
    done = len(live.reconciled)
    live.lb.call(live.server.silence_sockets, *live.spec.account_sockets)  # events are lost from here on
    await live.trade("59980", "0.05", "sell")  # fills at the exchange; nobody is told
    await asyncio.sleep(0.2)
    assert live.om.get(o.client_order_id).status is OrderStatus.NEW
    # The watchdog closes the silent socket; the stream subscribes again; the session reconciles.
    await until(lambda: len(live.reconciled) > done, what="a reconciliation")
    await live.status(o.client_order_id, OrderStatus.FILLED)
    assert any("Missed fill" in c for r in live.reconciled[done:] for c in r.changes)
    assert len(live.store.load_fills(venue=live.name)) == 1


async def a_restart_reconciles_what_happened_while_closed(spec: Spec, lb: Any, tmp: Path) -> None:
    """An order fills and another is cancelled on the website while the app is closed: the next
    start reconciles both."""
    live = await Live(spec, lb, tmp).start()
    o = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("59990"))
    other = await live.submit(OrderType.LIMIT, Side.BUY, price=live.px("59000"))
    await live.status(o.client_order_id, OrderStatus.NEW)
    await live.status(other.client_order_id, OrderStatus.NEW)
    await live.stop()
    await live.trade("59980", "0.05", "sell")  # fills while closed
    await lb.acall(spec.cancel_at_exchange, lb.server, other.client_order_id)  # cancelled on the website

    again = Live(spec, lb, tmp, fresh=False)
    try:
        await again.start("59980")
        first = again.reconciled[0]
        assert again.om.get(o.client_order_id).status is OrderStatus.FILLED
        assert again.om.get(other.client_order_id).status is OrderStatus.CANCELLED
        assert any("Missed fill" in c for c in first.changes)
        assert any("cancelled at the exchange" in c for c in first.changes)
        assert len(again.store.load_fills(venue=spec.name)) == 1
    finally:
        await again.stop()


class Reconciliation:
    """Reconciliation tests every venue runs: a ``Test...`` class in its module names its ``spec``
    (the module has the ``lb`` fixture, its loopback)."""

    spec: ClassVar[Spec]

    async def test_after_the_account_stream_reconnects_missed_fills_are_reconciled(self, lb, tmp_path):
        async with running(self.spec, lb, tmp_path) as live:
            await missed_fills_after_the_account_stream_reconnects(live)

    async def test_a_restart_reconciles_what_happened_while_the_app_was_closed(self, lb, tmp_path):
        await a_restart_reconciles_what_happened_while_closed(self.spec, lb, tmp_path)


class EmulatedOco:
    """The test of venues that hold no OCO (the app emulates it), as ``Reconciliation``."""

    spec: ClassVar[Spec]

    async def test_an_oco_is_emulated_its_limit_rests_at_the_exchange_and_a_fill_cancels_the_other(self, lb, tmp_path):
        async with running(self.spec, lb, tmp_path) as live:
            await emulated_oco(live)
