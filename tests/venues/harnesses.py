"""Venues under the conformance suite, each with a market the test can move: the paper venue on a
scripted market, the ccxt Binance venue against the loopback Binance. A new exchange adds a
harness here (its loopback server, its venue) and a line in ``HARNESSES``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from helpers import ScriptedMarket, book
from loopback.testing import FAST, Pump, binance_thread, binance_venue, loopback_thread, loopback_venue, until

from app.domain.enums import Side
from app.domain.execution import ExecutionReport
from app.domain.market import Trade
from app.venues.base import Venue
from app.venues.paper import PaperVenue

D = Decimal
BALANCES = {"USDT": "100000", "BTC": "2"}


class Harness:
    """One venue with its reports recorded, on a market at ``mid`` (a ten-level book, a last trade)."""

    name = ""
    venue: Venue
    settles_at_once = False  # True: what the venue reports has arrived when a call returns
    symbol = "BTC/USDT"
    quote = "USDT"
    scale = D(1)  # the tests' prices (around 60,000) times this are the market's (Upbit: KRW)

    def px(self, price: str) -> Decimal:
        return D(price) * self.scale

    def __init__(self) -> None:
        self.reports: list[ExecutionReport] = []

    async def open(self, tmp: Path) -> Venue:
        raise NotImplementedError

    async def market(self, mid: str) -> None:
        raise NotImplementedError

    async def trade(self, price: str, qty: str, taker: Side) -> None:
        """Others trade at ``price``: resting orders it reaches fill (up to ``qty``)."""
        raise NotImplementedError

    async def settle(self, cond: Callable[[], Any], what: str = "") -> None:
        await until(cond, what=what)

    async def close(self) -> None:
        await self.venue.close()


class PaperHarness(Harness):
    name = "paper"
    settles_at_once = True

    async def open(self, tmp: Path) -> Venue:
        self.market_data = ScriptedMarket()
        self.paper = PaperVenue(self.market_data, name="paper", initial_balances={k: D(v) for k, v in BALANCES.items()})
        self.venue = self.paper
        self.venue.set_report_handler(self.reports.append)
        await self.venue.load_markets()
        self._seq = 0
        return self.venue

    async def market(self, mid: str) -> None:
        self.paper.on_book(book(mid, levels=10))
        await self.trade(mid, "0.1", Side.BUY)

    async def trade(self, price: str, qty: str, taker: Side) -> None:
        self._seq += 1
        self.paper.on_trade(Trade("sim", "BTC/USDT", f"t{self._seq}", D(price), D(qty), taker, self._seq))


class DemoHarness(PaperHarness):
    """The demo venue as the app builds it (the paper venue over the offline demo market: its
    instruments, fees and journal), its prices scripted here instead of simulated."""

    name = "demo"

    async def open(self, tmp: Path) -> Venue:
        from app.venues.demo import DemoMarket

        self.paper = PaperVenue(
            DemoMarket(seed=1),
            name="demo",
            journal_path=tmp / "paper-demo.journal",
            initial_balances={k: D(v) for k, v in BALANCES.items()},
        )
        self.venue = self.paper
        self.venue.set_report_handler(self.reports.append)
        await self.venue.load_markets()
        self._seq = 0
        return self.venue


class BinanceHarness(Harness):
    """The loopback server lives for the whole module (``close_all``); each test gets a fresh account."""

    name = "binance"
    _thread: Any = None
    _ctx: Any = None

    @classmethod
    def server(cls) -> Any:
        if cls._thread is None:
            cls._ctx = binance_thread()
            cls._thread = cls._ctx.__enter__()
        return cls._thread

    @classmethod
    def close_all(cls) -> None:
        if cls._ctx is not None:
            cls._ctx.__exit__(None, None, None)
            cls._thread = cls._ctx = None

    async def open(self, tmp: Path) -> Venue:
        lb = self.server()
        self.lb = lb
        lb.call(lb.server.reset, BALANCES)
        self.ccxt = binance_venue(lb.server.base_url, timing=FAST)
        self.venue = self.ccxt
        self.venue.set_report_handler(self.reports.append)
        await self.venue.load_markets()
        self.account = Pump(self.ccxt.watch_account())
        await until(lambda: self.account.items, what="the account stream")
        return self.venue

    async def market(self, mid: str) -> None:
        await self.lb.acall(self.lb.server.book_around, "BTC/USDT", mid, spread="1", levels=10, qty="1")
        await self.trade(mid, "0.1", Side.BUY)

    async def trade(self, price: str, qty: str, taker: Side) -> None:
        await self.lb.acall(self.lb.server.trade, "BTC/USDT", price, qty, taker.value)

    async def close(self) -> None:
        await self.account.stop()
        await self.venue.close()


class LoopbackHarness(Harness):
    """A ccxt venue against the loopback of ``name`` (one server per module, a fresh account per test)."""

    balances: dict[str, str] = BALANCES
    _threads: dict[str, tuple[Any, Any]] = {}

    @classmethod
    def server(cls) -> Any:
        if cls.name not in LoopbackHarness._threads:
            ctx = loopback_thread(cls.name)
            LoopbackHarness._threads[cls.name] = (ctx, ctx.__enter__())
        return LoopbackHarness._threads[cls.name][1]

    @classmethod
    def close_all(cls) -> None:
        for ctx, _thread in LoopbackHarness._threads.values():
            ctx.__exit__(None, None, None)
        LoopbackHarness._threads.clear()

    async def open(self, tmp: Path) -> Venue:
        lb = self.server()
        self.lb = lb
        lb.call(lb.server.reset, self.balances)
        self.ccxt = loopback_venue(self.name, lb.server.base_url, timing=FAST, symbols=(self.symbol,))
        self.venue = self.ccxt
        self.venue.set_report_handler(self.reports.append)
        self.account = Pump(self.ccxt.watch_account())
        await until(lambda: self.account.items or self.account.error, what="the account stream")
        if self.account.error is not None:
            raise self.account.error
        return self.venue

    async def market(self, mid: str) -> None:
        step = self.px("1")
        await self.lb.acall(
            self.lb.server.book_around, self.symbol, self.px(mid), spread=step, levels=10, qty="1", step=step
        )
        await self.trade(mid, "0.1", Side.BUY)
        await self.ccxt.load_markets()  # ticks by price band know the price now

    async def trade(self, price: str, qty: str, taker: Side) -> None:
        await self.lb.acall(self.lb.server.trade, self.symbol, self.px(price), qty, taker.value)

    async def close(self) -> None:
        await self.account.stop()
        await self.venue.close()


class UpbitHarness(LoopbackHarness):
    name = "upbit"
    symbol = "BTC/KRW"
    quote = "KRW"
    scale = D(1000)  # 60,000,000 KRW: the 1,000 KRW price unit of its band
    balances = {"KRW": "100000000", "BTC": "2"}


class KrakenHarness(LoopbackHarness):
    name = "kraken"


class CoinbaseHarness(LoopbackHarness):
    name = "coinbase"
    symbol = "BTC/USD"
    quote = "USD"
    balances = {"USD": "100000", "BTC": "2"}


HARNESSES: dict[str, type[Harness]] = {
    "paper": PaperHarness,
    "demo": DemoHarness,
    "binance": BinanceHarness,
    "upbit": UpbitHarness,
    "kraken": KrakenHarness,
    "coinbase": CoinbaseHarness,
}
