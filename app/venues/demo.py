"""The offline demo market: trades, an order book and bars for a few symbols, with no network.

Prices follow a GARCH(1,1) volatility process with Student-t shocks fitted to real Binance 1m
candles (``demo_params.json``, made by ``demo_calibration``): fat tails and volatility clustering.
Within a minute, trades arrive as a Poisson process; each trade moves a latent price, buys lift
the ask and sells hit the bid, and the book is rebuilt around the latent price whenever a trade
would fall outside it (and every half second). Everything is driven by simulated time from one
seeded generator per symbol, so a seed always gives the same sequence of events.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from app.domain.enums import Side
from app.domain.instrument import Instrument
from app.domain.market import TIMEFRAME_MS, Bar, BookLevel, BookSnapshot, Trade

PARAMS_FILE = Path(__file__).with_name("demo_params.json")
BOOK_EVERY_MS = 500
BOOK_LEVELS = 15
HISTORY_MINUTES = 7 * 24 * 60
MINUTE = 60_000


def load_params() -> dict[str, Any]:
    return json.loads(PARAMS_FILE.read_text())


class _Sim:
    """One symbol's simulation, advanced a minute at a time."""

    def __init__(self, symbol: str, p: dict[str, Any], rng: np.random.Generator, start_ms: int) -> None:
        self.symbol = symbol
        self.p = p
        self.rng = rng
        self.tick = Decimal(p["tick_size"])
        self.lot = Decimal(p["lot_step"])
        self.tick_f = float(self.tick)
        self.lot_f = float(self.lot)
        self.var0 = p["sample_vol_1m"] ** 2
        self.h = self.var0
        self.nu = p["t_nu"]
        self.t_scale = math.sqrt((self.nu - 2) / self.nu)
        self.price = p["start_price"]  # latent price, float: a model state, not money
        self.now = start_ms
        self.seq = 0
        self.bid_t = self.ask_t = 0  # current book edges in ticks
        self.last_book_ms = -(10**15)
        self.depth_unit = max(p["mean_volume_1m"] * p["depth_fraction"], self.lot_f * 10)

    def _ticks(self, px: float) -> int:
        return max(1, round(px / self.tick_f))

    def _book(self, ts: int) -> BookSnapshot:
        center = self._ticks(self.price)
        spread = int(self.rng.choice(self.p["spread_ticks"]))
        self.bid_t = center - spread // 2 - (spread % 2)
        self.ask_t = self.bid_t + spread
        self.last_book_ms = ts
        sizes = self.depth_unit * (1 + 0.35 * np.arange(BOOK_LEVELS)) * self.rng.lognormal(0, 0.5, (2, BOOK_LEVELS))
        lots = np.maximum(1, np.round(sizes / self.lot_f)).astype(np.int64)
        tick, lot = self.tick, self.lot
        bids = tuple(BookLevel(Decimal(self.bid_t - i) * tick, Decimal(int(lots[0, i])) * lot) for i in range(BOOK_LEVELS))
        asks = tuple(BookLevel(Decimal(self.ask_t + i) * tick, Decimal(int(lots[1, i])) * lot) for i in range(BOOK_LEVELS))
        return BookSnapshot("demo", self.symbol, bids, asks, ts)

    def minute(self) -> list[Trade | BookSnapshot]:
        """The events of the next simulated minute, in time order."""
        p, rng = self.p, self.rng
        start = self.now
        n = max(1, int(rng.poisson(p["trades_per_minute"])))
        times = np.sort(rng.integers(0, MINUTE, n)) + start
        shocks = rng.standard_t(self.nu, n) * self.t_scale * math.sqrt(self.h / n)
        r_min = float(shocks.sum())
        z = abs(r_min) / math.sqrt(self.h)
        vol = float(rng.lognormal(p["volume_log_intercept"] + p["volume_log_slope_abs_z"] * z, p["volume_log_sigma"]))
        shares = rng.dirichlet(np.ones(n)) * vol
        qty_lots = np.maximum(1, np.round(shares / self.lot_f)).astype(np.int64)
        events: list[Trade | BookSnapshot] = []
        if start - self.last_book_ms >= BOOK_EVERY_MS:
            events.append(self._book(start))
        for i in range(n):
            ts = int(times[i])
            while ts - self.last_book_ms >= BOOK_EVERY_MS:
                events.append(self._book(self.last_book_ms + BOOK_EVERY_MS))
            self.price *= math.exp(shocks[i])
            pt = self._ticks(self.price)
            if pt > self.ask_t or pt < self.bid_t:
                events.append(self._book(ts))
            side = Side.BUY if shocks[i] > 0 else Side.SELL
            px_t = self.ask_t if side is Side.BUY else self.bid_t
            self.seq += 1
            events.append(Trade("demo", self.symbol, f"d{self.seq}", Decimal(px_t) * self.tick,
                                Decimal(int(qty_lots[i])) * self.lot, side, ts))
        self.now = start + MINUTE
        # Next minute's variance; bounded so a near-integrated fit cannot run away in long sessions.
        h = p["garch_omega"] + p["garch_alpha"] * r_min**2 + p["garch_beta"] * self.h
        self.h = min(max(h, 0.2 * self.var0), 25 * self.var0)
        return events


class DemoMarket:
    """A ``MarketData`` source for the offline demo. ``speed`` is market seconds per real second
    (0: no waiting at all, for tests and benchmarks)."""

    name = "demo"

    def __init__(self, seed: int = 7, speed: float = 1.0, start_ms: int | None = None,
                 symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")) -> None:
        self.seed = seed
        self.speed = speed
        self.params = load_params()["symbols"]
        self.symbols = tuple(s for s in symbols if s in self.params)
        self.start_ms = start_ms if start_ms is not None else int(time.time() * 1000)
        self._subs: dict[str, list[asyncio.Queue[Any]]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._history: dict[str, np.ndarray] = {}
        self._closed = False

    def _sim(self, symbol: str) -> _Sim:
        idx = self.symbols.index(symbol)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, idx, 1]))
        return _Sim(symbol, self.params[symbol], rng, self.start_ms)

    # -- instruments ------------------------------------------------------------------------------
    async def load_markets(self) -> dict[str, Instrument]:
        out = {}
        for s in self.symbols:
            p = self.params[s]
            base, quote = s.split("/")
            out[s] = Instrument("demo", s, base, quote, Decimal(p["tick_size"]), Decimal(p["lot_step"]),
                                min_qty=Decimal(p["min_qty"]), max_qty=Decimal("9000"),
                                min_notional=Decimal(p["min_notional"]), band_down=Decimal("0.2"),
                                band_up=Decimal("5"), maker_fee=Decimal("0.001"), taker_fee=Decimal("0.001"))
        return out

    # -- synchronous generation (tests, benchmarks) ---------------------------------------------------
    def events(self, symbol: str, n: int) -> Iterator[Trade | BookSnapshot]:
        sim = self._sim(symbol)
        made = 0
        while made < n:
            for ev in sim.minute():
                yield ev
                made += 1
                if made >= n:
                    return

    # -- streams ----------------------------------------------------------------------------------
    async def _pump(self, symbol: str) -> None:
        sim = self._sim(symbol)
        t0 = time.monotonic()
        bars: dict[str, list[Any]] = {}
        queues = self._subs[symbol]
        while not self._closed:
            for ev in sim.minute():
                if self.speed > 0:
                    due = t0 + (ev.ts_ms - self.start_ms) / 1000 / self.speed
                    delay = due - time.monotonic()
                    if delay > 0.005:
                        await asyncio.sleep(delay)
                for q in queues:
                    q.put_nowait(ev)
                if isinstance(ev, Trade):
                    for out in self._bar_updates(bars, ev):
                        for q in queues:
                            q.put_nowait(out)
            if self.speed <= 0:
                await asyncio.sleep(0)

    @staticmethod
    def _bar_updates(bars: dict[str, list[Any]], t: Trade) -> list[Bar]:
        out: list[Bar] = []
        for tf, ms in TIMEFRAME_MS.items():
            start = t.ts_ms - t.ts_ms % ms
            cur = bars.get(tf)
            if cur is not None and cur[0] != start:
                out.append(Bar("demo", t.symbol, tf, cur[0], cur[1], cur[2], cur[3], cur[4], cur[5], True))
                cur = None
            if cur is None:
                cur = bars[tf] = [start, t.price, t.price, t.price, t.price, t.quantity, 0]
            else:
                cur[2] = max(cur[2], t.price)
                cur[3] = min(cur[3], t.price)
                cur[4] = t.price
                cur[5] += t.quantity
            if tf == "1m" or t.ts_ms - cur[6] >= 250:  # forming bars at most 4 times a second
                cur[6] = t.ts_ms
                out.append(Bar("demo", t.symbol, tf, cur[0], cur[1], cur[2], cur[3], cur[4], cur[5], False))
        return out

    async def _stream(self, symbol: str, kind: type, timeframe: str | None = None) -> AsyncIterator[Any]:
        if symbol not in self.symbols:
            raise ValueError(f"the demo market has no {symbol}")
        q: asyncio.Queue[Any] = asyncio.Queue()
        self._subs.setdefault(symbol, []).append(q)
        if symbol not in self._pumps:
            self._pumps[symbol] = asyncio.ensure_future(self._pump(symbol))
        try:
            while True:
                ev = await q.get()
                if isinstance(ev, kind) and (timeframe is None or ev.timeframe == timeframe):
                    yield ev
        finally:
            self._subs[symbol].remove(q)

    def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        return self._stream(symbol, Trade)

    def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        return self._stream(symbol, BookSnapshot)

    def watch_bars(self, symbol: str, timeframe: str) -> AsyncIterator[Bar]:
        return self._stream(symbol, Bar, timeframe)

    # -- history ----------------------------------------------------------------------------------
    def _minutes(self, symbol: str) -> np.ndarray:
        """A week of 1m OHLCV before the start, ending at the live simulation's first price."""
        if symbol in self._history:
            return self._history[symbol]
        p = self.params[symbol]
        idx = self.symbols.index(symbol)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, idx, 2]))
        n, sub = HISTORY_MINUTES, 12
        var0 = p["sample_vol_1m"] ** 2
        h = np.empty(n)
        r = np.empty(n)
        hv = var0
        nu = p["t_nu"]
        shocks = rng.standard_t(nu, n) * math.sqrt((nu - 2) / nu)
        for i in range(n):
            h[i] = hv
            r[i] = shocks[i] * math.sqrt(hv)
            hv = min(max(p["garch_omega"] + p["garch_alpha"] * r[i] ** 2 + p["garch_beta"] * hv, 0.2 * var0), 25 * var0)
        steps = rng.standard_normal((n, sub))
        steps = steps / np.sqrt((steps**2).sum(axis=1, keepdims=True)) * r[:, None]  # path within the minute
        path = np.cumsum(steps.ravel()).reshape(n, sub)
        path = path - path[-1, -1] + math.log(p["start_price"])
        opens = np.concatenate([[path[0, 0] - steps[0, 0]], path[:-1, -1]])
        prices = np.exp(np.concatenate([opens[:, None], path], axis=1))
        tick = float(p["tick_size"])
        q = np.round(prices / tick) * tick
        vol = rng.lognormal(p["volume_log_intercept"] + p["volume_log_slope_abs_z"] * np.abs(r / np.sqrt(h)),
                            p["volume_log_sigma"])
        t = self.start_ms - MINUTE * np.arange(n, 0, -1)
        arr = np.column_stack([t, q[:, 0], q.max(axis=1), q.min(axis=1), q[:, -1], vol])
        self._history[symbol] = arr
        return arr

    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]:
        m = self._minutes(symbol)
        k = TIMEFRAME_MS[timeframe] // MINUTE
        if k > 1:
            t0 = m[:, 0].astype(np.int64)
            keys = t0 - t0 % TIMEFRAME_MS[timeframe]
            _, first = np.unique(keys, return_index=True)
            rows = []
            for a, b in zip(first, [*first[1:], len(m)], strict=True):
                seg = m[a:b]
                rows.append([keys[a], seg[0, 1], seg[:, 2].max(), seg[:, 3].min(), seg[-1, 4], seg[:, 5].sum()])
            m = np.array(rows)
        if since_ms is not None:
            m = m[m[:, 0] >= since_ms]
        m = m[-limit:] if limit else m
        p = self.params[symbol]
        tick, lot = Decimal(p["tick_size"]), Decimal(p["lot_step"])
        out = []
        for row in m:
            o, h, lo, c = (Decimal(round(x / float(tick))) * tick for x in row[1:5])
            out.append(Bar("demo", symbol, timeframe, int(row[0]), o, h, lo, c,
                           Decimal(round(row[5] / float(lot))) * lot))
        return out

    async def close(self) -> None:
        self._closed = True
        for t in self._pumps.values():
            t.cancel()
        if self._pumps:
            await asyncio.wait(list(self._pumps.values()), timeout=2)
        self._pumps.clear()
