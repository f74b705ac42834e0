"""Reusable factories for the tests: instruments, a scripted market, a paper trading rig."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

from app.domain.enums import Side
from app.domain.instrument import Instrument
from app.domain.market import Bar, BookLevel, BookSnapshot, Trade
from app.engine.bus import EventBus
from app.engine.clock import ManualClock
from app.engine.orders import OrderManager
from app.engine.risk import RiskEngine, RiskLimits
from app.storage import Store
from app.venues.paper import PaperVenue

D = Decimal


def btc(venue: str = "sim", **kw: object) -> Instrument:
    params: dict[str, object] = dict(
        venue=venue,
        symbol="BTC/USDT",
        base="BTC",
        quote="USDT",
        tick_size=D("0.01"),
        lot_step=D("0.00001"),
        min_qty=D("0.00001"),
        max_qty=D("9000"),
        min_notional=D("5"),
        maker_fee=D("0.001"),
        taker_fee=D("0.001"),
    )
    params.update(kw)
    return Instrument(**params)  # type: ignore[arg-type]


class ScriptedMarket:
    """A market-data source driven by the test: nothing moves unless the test says so."""

    name = "sim"

    def __init__(self, instruments: list[Instrument] | None = None) -> None:
        self.instruments = {i.symbol: i for i in (instruments or [btc()])}
        self._queues: list[asyncio.Queue[object]] = []

    async def load_markets(self) -> dict[str, Instrument]:
        return dict(self.instruments)

    async def _stream(self, symbol: str, kind: type) -> AsyncIterator:
        q: asyncio.Queue[object] = asyncio.Queue()
        self._queues.append(q)
        while True:
            ev = await q.get()
            if isinstance(ev, kind) and getattr(ev, "symbol", None) == symbol:
                yield ev

    def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        return self._stream(symbol, Trade)

    def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        return self._stream(symbol, BookSnapshot)

    def watch_bars(self, symbol: str, timeframe: str) -> AsyncIterator[Bar]:
        return self._stream(symbol, Bar)

    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]:
        return []

    async def close(self) -> None:
        pass


def book(
    mid: str,
    *,
    spread: str = "1",
    qty: str = "1",
    levels: int = 5,
    step: str = "1",
    symbol: str = "BTC/USDT",
    ts: int = 0,
) -> BookSnapshot:
    m, s, st = D(mid), D(spread), D(step)
    bids = tuple(BookLevel(m - s / 2 - i * st, D(qty)) for i in range(levels))
    asks = tuple(BookLevel(m + s / 2 + i * st, D(qty)) for i in range(levels))
    return BookSnapshot("sim", symbol, bids, asks, ts)


class Rig:
    """Paper venue + order manager on a real SQLite file, with a manual clock."""

    def __init__(
        self,
        tmp: Path,
        *,
        balances: dict[str, str] | None = None,
        limits: RiskLimits | None = None,
        instruments: list[Instrument] | None = None,
        journal: bool = True,
    ) -> None:
        self.tmp = tmp
        self.clock = ManualClock()
        self.bus = EventBus()
        self.store = Store.open(f"sqlite:///{tmp / 'db.sqlite3'}")
        self.market = ScriptedMarket(instruments)
        self.venue = PaperVenue(
            self.market,
            name="sim",
            journal_path=(tmp / "paper.journal") if journal else None,
            initial_balances={k: D(v) for k, v in (balances or {"USDT": "100000", "BTC": "2"}).items()},
        )
        limits = limits or RiskLimits(max_order_notional=D("1000000"), max_position_notional=D("10000000"))
        self.om = OrderManager(self.bus, self.store, risk=RiskEngine(limits), clock=self.clock)
        self.events: list[object] = []
        self._trade_seq = 0

    async def start(self):
        return await self.om.add_venue(self.venue)

    def book(self, mid: str, **kw: object) -> None:
        snap = book(mid, ts=self.clock.now_ms(), **kw)  # type: ignore[arg-type]
        self.venue.on_book(snap)
        self.bus.publish(snap)

    def trade(self, price: str, qty: str = "1", taker: Side = Side.BUY, symbol: str = "BTC/USDT") -> None:
        self._trade_seq += 1
        self.clock.advance(10)
        t = Trade("sim", symbol, f"t{self._trade_seq}", D(price), D(qty), taker, self.clock.now_ms())
        self.venue.on_trade(t)
        self.bus.publish(t)

    def capture(self, *types: type) -> list[object]:
        got: list[object] = []
        for t in types:
            self.bus.subscribe(t, got.append)
        return got

    async def settle(self) -> None:
        await asyncio.sleep(0)
        await self.om.drain()

    def close(self) -> None:
        self.store.close()
