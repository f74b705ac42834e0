"""Public market data of a ccxt exchange (no API key): markets, candles, trades, the order book
and tickers by websocket (ccxt.pro ``watch_*``), REST polling where the exchange has no stream.

Streams raise ``TemporaryVenueError`` when a socket drops or stalls; the engine's feed reconnects
them with its backoff. A book whose updates skipped a sequence number is loaded again from a REST
snapshot before anything more of it is published: while that happens its state is "resyncing",
never "live".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar, cast

from app.domain.errors import VenueError
from app.domain.instrument import Instrument
from app.domain.market import TIMEFRAME_MS, Bar, BookSnapshot, Ticker, Trade

from . import convert
from .client import CcxtClient, make_exchange
from .errors import BookOutOfSync
from .profile import ExchangeProfile

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_RESYNCS = 3  # gaps in a row resynced here before the feed's backoff takes over

LIVE, RESYNCING, STALE, CONNECTING = "live", "resyncing", "stale", "connecting"


class CcxtMarketData:
    """A ``MarketData`` source over one exchange; the source of a paper account on live data."""

    def __init__(
        self,
        profile: ExchangeProfile,
        *,
        exchange: Any = None,
        base_url: str | None = None,
        name: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.profile = profile
        self.name = name or profile.venue_name
        self.client = CcxtClient(
            profile, exchange if exchange is not None else self._make_exchange(profile, base_url, config)
        )
        self.instruments: dict[str, Instrument] = {}
        self.book_gaps = 0
        self._states: dict[tuple[str, str], str] = {}

    @staticmethod
    def _make_exchange(profile: ExchangeProfile, base_url: str | None, config: dict[str, Any] | None) -> Any:
        return make_exchange(profile, base_url=base_url, config=config)

    @property
    def exchange(self) -> Any:
        return self.client.exchange

    # -- what the window shows -----------------------------------------------------------------------
    @property
    def clock_offset_ms(self) -> int:
        """Server time − this computer's time, as last measured (requests are signed with the server's)."""
        return self.client.clock_offset_ms

    @property
    def latency_ms(self) -> float | None:
        return self.client.last_latency_ms

    @property
    def banned_until_ms(self) -> int | None:
        return self.client.banned_until_ms

    def stream_state(self, symbol: str, kind: str) -> str:
        """``live``, ``resyncing`` (a book being loaded again), ``stale`` (its stream is down) or ``connecting``."""
        return self._states.get((symbol, kind), STALE)

    # -- markets and history ---------------------------------------------------------------------------
    async def load_markets(self) -> dict[str, Instrument]:
        ex = self.exchange
        if self.client.clock_synced_ms is None:  # first: signed requests of the markets need the clock
            await self.client.sync_clock()
        markets = await self.client.call(lambda: ex.load_markets(True))
        out: dict[str, Instrument] = {}
        for m in markets.values():
            inst = self.profile.instrument(m, ex.precisionMode)
            if inst is not None:
                out[inst.symbol] = replace(inst, venue=self.name) if inst.venue != self.name else inst
        if self.profile.needs_prices and out:
            out = await self._at_prices(out)
        self.instruments = out
        return dict(out)

    async def _at_prices(self, instruments: dict[str, Instrument]) -> dict[str, Instrument]:
        """Ticks that depend on the price (Upbit's KRW bands): the exchange's own ticks where it
        says them, else each instrument at its last price by the profile's table."""
        ex, p = self.exchange, self.profile
        symbols = sorted(instruments)
        out = dict(instruments)
        ticks: dict[str, Decimal] = {}
        if type(p).tick_lookup is not ExchangeProfile.tick_lookup:
            try:
                ticks = await self.client.call(lambda: cast(Awaitable[dict[str, Decimal]], p.tick_lookup(ex, symbols)))
            except VenueError as exc:
                log.warning("%s: no tick sizes from the exchange (%s); from its price table", self.name, exc)
        for symbol, tick in ticks.items():
            out[symbol] = replace(out[symbol], tick_size=tick)
        rest = [s for s in symbols if s not in ticks]
        if not rest:
            return out
        tickers = await self.client.call(lambda: ex.fetch_tickers(rest))
        for symbol, t in (tickers or {}).items():
            last = t.get("last") if isinstance(t, dict) else None
            if symbol in out and last is not None:
                out[symbol] = p.at_price(out[symbol], convert.dec(last))
        return out

    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]:
        ex = self.exchange
        rows = await self.client.call(lambda: ex.fetch_ohlcv(symbol, timeframe, since_ms, limit))
        now = time.time() * 1000 + self.client.clock_offset_ms
        span = TIMEFRAME_MS.get(timeframe, 60_000)
        return [convert.bar(self.name, symbol, timeframe, r, closed=r[0] + span <= now) for r in rows]

    async def fetch_book(self, symbol: str, limit: int | None = None) -> BookSnapshot:
        ex = self.exchange
        ob = await self.client.call(lambda: ex.fetch_order_book(symbol, limit))
        return convert.book(self.name, symbol, ob, self.profile.book_depth)

    async def server_time_ms(self) -> int:
        ex = self.exchange
        return int(await self.client.call(lambda: ex.fetch_time()))

    # -- streams ---------------------------------------------------------------------------------------
    def _has(self, what: str) -> bool:
        return bool(self.exchange.has.get(what))

    async def _poll(self, fn: Callable[[], Awaitable[T]]) -> T:
        await asyncio.sleep(self.profile.timing.poll_s)
        return await self.client.call(fn)

    async def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        ex, key = self.exchange, (symbol, "trades")
        self._states[key] = CONNECTING
        seen: set[str] = set()
        try:
            while True:
                if self._has("watchTrades"):
                    trades = await self.client.stream(lambda: ex.watch_trades(symbol))
                else:  # REST fallback: recent trades, each once
                    trades = await self._poll(lambda: ex.fetch_trades(symbol, None, 100))
                    trades = [t for t in trades if str(t.get("id")) not in seen]
                    seen.update(str(t.get("id")) for t in trades)
                    if len(seen) > 10_000:
                        seen = {str(t.get("id")) for t in trades}
                self._states[key] = LIVE
                for t in trades:
                    yield convert.trade(self.name, symbol, t)
        finally:
            self._states[key] = STALE

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        ex, key, depth = self.exchange, (symbol, "book"), self.profile.book_depth
        limit = self.profile.book_limit
        self._states[key] = CONNECTING
        gaps = 0
        try:
            while True:
                if self._has("watchOrderBook"):
                    try:
                        ob = await self.client.stream(lambda: ex.watch_order_book(symbol, limit))
                    except BookOutOfSync:
                        # A delta skipped a sequence number: ccxt dropped the book; the next watch
                        # subscribes again and starts from a fresh REST snapshot. Nothing of this
                        # book is published until then.
                        self._states[key] = RESYNCING
                        self.book_gaps += 1
                        gaps += 1
                        if gaps > MAX_RESYNCS:
                            raise
                        continue
                else:
                    ob = await self._poll(lambda: ex.fetch_order_book(symbol, limit))
                gaps = 0
                self._states[key] = LIVE
                yield convert.book(self.name, symbol, ob, depth)
        finally:
            self._states[key] = STALE

    async def watch_bars(self, symbol: str, timeframe: str) -> AsyncIterator[Bar]:
        """Candles as they form (``closed=False``); a candle is published closed once the next
        one starts (ccxt keeps the latest values of each)."""
        ex, key = self.exchange, (symbol, f"bars:{timeframe}")
        self._states[key] = CONNECTING
        last: Bar | None = None
        streamed = self._has("watchOHLCV") and (
            self.profile.ws_timeframes is None or timeframe in self.profile.ws_timeframes
        )
        try:
            while True:
                if streamed:
                    rows = await self.client.stream(lambda: ex.watch_ohlcv(symbol, timeframe))
                else:
                    rows = await self._poll(lambda: ex.fetch_ohlcv(symbol, timeframe, None, 2))
                self._states[key] = LIVE
                for row in sorted(rows, key=lambda r: r[0]):
                    b = convert.bar(self.name, symbol, timeframe, row, closed=False)
                    if last is not None and b.open_ms < last.open_ms:
                        continue
                    if last is not None and b.open_ms > last.open_ms:
                        yield replace(last, closed=True)
                    last = b
                    yield b
        finally:
            self._states[key] = STALE

    async def watch_ticker(self, symbol: str) -> AsyncIterator[Ticker]:
        ex, key = self.exchange, (symbol, "ticker")
        self._states[key] = CONNECTING
        try:
            while True:
                if self._has("watchTicker"):
                    t = await self.client.stream(lambda: ex.watch_ticker(symbol))
                else:
                    t = await self._poll(lambda: ex.fetch_ticker(symbol))
                self._states[key] = LIVE
                yield convert.ticker(self.name, symbol, t)
        finally:
            self._states[key] = STALE

    async def watch_best(self, symbol: str) -> AsyncIterator[Ticker]:
        """Best bid and ask as they change (Binance's bookTicker stream)."""
        ex = self.exchange
        if not self._has("watchBidsAsks"):
            async for t in self.watch_ticker(symbol):
                yield t
            return
        while True:
            tickers = await self.client.stream(lambda: ex.watch_bids_asks([symbol]))
            t = tickers.get(symbol)
            if t is not None and t.get("bid") is not None and t.get("ask") is not None:
                yield convert.ticker(self.name, symbol, t)

    async def close(self) -> None:
        await self.client.close()
