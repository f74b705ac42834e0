"""The offline demo market: trades, a 20-level order book and bars for BTC/USDT, ETH/USDT and
SOL/USDT with no network, the same for the same seed.

The numbers come from ``demo_params.json`` (fitted on real Binance data by ``demo_calibration``):

- each minute's log return is GARCH(1,1) with Student-t shocks: fat tails, volatility clusters;
- the minute's volume is log-normal, larger when volatility is high and when the return is large,
  with AR(1) memory; trades arrive as a Poisson process whose rate grows with that volume;
- within a minute a Brownian bridge carries the price to the minute's return. Every ``BOOK_MS``
  the book is re-centred on it one tick wide; levels keep their size until they change (at the
  rate the recordings show) or are traded away. Buys lift the ask, sells hit the bid, and a large
  trade walks the book one level (one trade print) at a time, a fresh snapshot before each print.

Simulated time drives everything, from seeded generators, so a seed gives one sequence of events
whoever listens and however fast. There are no background tasks: each stream pulls events from
one shared simulation per symbol and, when ``speed > 0``, waits until the event is due.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import math
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from app.domain.enums import Side
from app.domain.instrument import Instrument
from app.domain.market import TIMEFRAME_MS, Bar, BookLevel, BookSnapshot, Trade

PARAMS_FILE = Path(__file__).with_name("demo_params.json")
VENUE = "demo"
MINUTE_MS = 60_000
DAY_MS = 86_400_000
BOOK_MS = 250  # book snapshots on this simulated-time grid (Binance streams depth every 100 ms)
BOOK_LEVELS = 20
MAX_SWEEP = 5  # a trade walks at most this many levels; the rest of it is not traded
HISTORY_DAYS = 30  # 1m history before the start (from the same model) for the charts
FORMING_BAR_MS = 500  # a forming bar is re-sent at most this often (simulated time)
VAR_BOUNDS = (0.05, 50.0)  # simulated variance stays within these multiples of the fitted one
# Chosen, not fitted (the candles carry no trade count): trades per minute rise with the square
# root of the minute's volume; trade sizes split it with Gamma(0.5) weights (many small, few big).
TRADE_RATE_EXPONENT = 0.5
TRADE_SIZE_SHAPE = 0.5
YIELD_EVERY = 64  # with speed=0 a stream lets the event loop run after this many events


@dataclass(frozen=True, slots=True)
class DemoSymbol:
    """Binance's filters for the pair and the demo's chosen activity (about 3 trades a second)."""

    tick: Decimal
    lot: Decimal
    max_qty: Decimal
    trades_per_minute: float
    min_notional: Decimal = Decimal("5")


SYMBOLS: dict[str, DemoSymbol] = {
    "BTC/USDT": DemoSymbol(Decimal("0.01"), Decimal("0.00001"), Decimal("9000"), 240),
    "ETH/USDT": DemoSymbol(Decimal("0.01"), Decimal("0.0001"), Decimal("9000"), 200),
    "SOL/USDT": DemoSymbol(Decimal("0.01"), Decimal("0.001"), Decimal("90000"), 160),
}
DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")

DemoEvent = Trade | BookSnapshot


@cache
def load_params() -> dict[str, Any]:
    return json.loads(PARAMS_FILE.read_text())


class _Model:
    """One symbol's fitted numbers, as floats ready for the simulation."""

    def __init__(self, symbol: str) -> None:
        params = load_params()
        p, book, spec = params["symbols"][symbol], params["book"], SYMBOLS[symbol]
        g, v = p["garch"], p["volume"]
        self.var = p["return_sd_1m"] ** 2
        self.h_start = self.var * math.exp(g["log_h_over_var_mean"])  # a typical variance, not the mean
        self.omega, self.alpha, self.beta, self.nu = g["omega"], g["alpha"], g["beta"], g["nu"]
        self.t_scale = math.sqrt((self.nu - 2) / self.nu)  # Student-t with unit variance
        self.h_lo, self.h_hi = VAR_BOUNDS[0] * self.var, VAR_BOUNDS[1] * self.var
        self.v_c0, self.v_vol, self.v_z = v["log_intercept"], v["log_slope_log_vol"], v["log_slope_abs_z"]
        self.v_ar, self.v_sd, self.v_mean = v["ar1"], v["innovation_sd"], v["mean_1m"]
        self.start_price = p["last_close"]
        self.trades_per_minute = spec.trades_per_minute
        lot = float(spec.lot)
        sd = book["depth_log_sd"]
        weights = np.exp(book["depth_log_slope_per_level"] * np.arange(BOOK_LEVELS))
        mean_lots = book["mean_level_over_volume_1m"] * self.v_mean / lot
        # Lots of a new level at depth k: scale[k] * exp(sd * N(0,1)), so its mean follows the profile.
        self.level_scale = (mean_lots * weights / weights.mean() * math.exp(-sd * sd / 2)).tolist()
        self.level_sd = sd
        self.gap_p = book["level_gap_extra_prob"]
        self.gap_extra_mean = extra = book["level_gap_extra_mean"]
        self.gap_log_q = math.log(1 - 1 / extra) if extra > 1 else 0.0
        per_level_s = book["level_changes_per_trade"] * self.trades_per_minute / 60 / (2 * BOOK_LEVELS)
        # A level changes size with probability 1 - exp(-rate * dt) at each snapshot; log of its complement:
        self.change_log_q = -max(per_level_s * BOOK_MS / 1000, 1e-9)

    def step(self, h: float, u: float, z: float, eta: float) -> tuple[float, float, float]:
        """Log volume of a minute with variance h, memory u and shock z; then next h and u."""
        logv = self.v_c0 + self.v_vol * 0.5 * math.log(h / self.var) + self.v_z * abs(z) + u
        h_next = min(max(self.omega + (self.alpha * z * z + self.beta) * h, self.h_lo), self.h_hi)
        return logv, h_next, self.v_ar * u + eta


class _Sim:
    """One symbol's live simulation, advanced a minute (a chunk of events) at a time."""

    def __init__(
        self, symbol: str, model: _Model, rng: np.random.Generator, start_ms: int, start_price: float | None = None
    ) -> None:
        spec = SYMBOLS[symbol]
        self.symbol, self.m, self.rng = symbol, model, rng
        self.tick, self.lot = spec.tick, spec.lot
        self.tick_f = float(spec.tick)
        self.now = start_ms
        self.logp = math.log(start_price or model.start_price)
        self.h, self.u = model.h_start, 0.0
        self.seq = 0
        self.minutes: list[tuple[int, int, int, int, int, int]] = []  # open_ms, o, h, l, c (ticks), lots
        # Book sides, best first, as "values": ask tick, and minus the bid tick, so that for both
        # sides better means smaller. Parallel lists: value, lots, the BookLevel shown.
        self.av: list[int] = []
        self.al: list[int] = []
        self.ao: list[BookLevel] = []
        self.bv: list[int] = []
        self.bl: list[int] = []
        self.bo: list[BookLevel] = []
        self._norm: list[float] = []
        self._unif: list[float] = []
        self._ladders: list[tuple[list[int], list[int]]] = []
        self._price_cache: dict[int, Decimal] = {}
        self._recentre(self.logp)
        self._dirty = True  # the book has changed since the last snapshot sent

    # -- random numbers in bulk -------------------------------------------------------------------
    def _n(self) -> float:
        """exp(sd * N(0, 1)): a level's size relative to the mean at its depth."""
        if not self._norm:
            self._norm = np.exp(self.m.level_sd * self.rng.standard_normal(4096)).tolist()
        return self._norm.pop()

    def _u(self) -> float:
        if not self._unif:
            self._unif = self.rng.random(4096).tolist()
        return self._unif.pop()

    def _ladder(self) -> tuple[list[int], list[int]]:
        """A fresh side of the book: tick offsets from the best (0 first) and lots by depth."""
        if not self._ladders:
            m, rng, size = self.m, self.rng, (256, BOOK_LEVELS)
            extra = rng.geometric(1 / m.gap_extra_mean, size) if m.gap_extra_mean > 1 else np.ones(size, np.int64)
            gaps = 1 + np.where(rng.random(size) < m.gap_p, extra, 0)
            gaps[:, 0] = 0
            lots = np.maximum(1, np.rint(np.asarray(m.level_scale) * np.exp(m.level_sd * rng.standard_normal(size))))
            self._ladders = list(zip(np.cumsum(gaps, axis=1).tolist(), lots.astype(np.int64).tolist(), strict=True))
        return self._ladders.pop()

    # -- the book ---------------------------------------------------------------------------------
    def _gap(self) -> int:
        if self._u() >= self.m.gap_p:
            return 1
        return 2 + (int(math.log(1.0 - self._u()) / self.m.gap_log_q) if self.m.gap_log_q else 0)

    def _lots(self, depth: int) -> int:
        return max(1, int(self.m.level_scale[depth] * self._n() + 0.5))

    def _prices(self, values: list[int], sign: int) -> list[Decimal]:
        cache = self._price_cache
        if len(cache) > 50_000:
            cache.clear()
        get, tick = cache.get, self.tick
        return [
            get(t) or cache.setdefault(t, Decimal(t) * tick) for t in (values if sign > 0 else [-v for v in values])
        ]

    def _side(self, vs: list[int], ls: list[int], os: list[BookLevel], best: int, sign: int) -> int:
        """Make ``best`` the best value of one side: drop levels better than it (traded away by the
        move), add a ladder of new levels from it down to the old best, refill to BOOK_LEVELS.
        Returns how many levels at the front are new."""
        i = bisect.bisect_left(vs, best)
        if i:
            del vs[:i], ls[:i], os[:i]
        lot = self.lot
        k = 0
        if not vs or vs[0] > best:
            offsets, lots = self._ladder()
            k = bisect.bisect_left(offsets, vs[0] - best) if vs else BOOK_LEVELS
            nv = [best + o for o in offsets[:k]]
            nl = lots[:k]
            vs[:0], ls[:0] = nv, nl
            os[:0] = map(BookLevel, self._prices(nv, sign), [Decimal(q) * lot for q in nl])
            if len(vs) > BOOK_LEVELS:
                del vs[BOOK_LEVELS:], ls[BOOK_LEVELS:], os[BOOK_LEVELS:]
        while len(vs) < BOOK_LEVELS:
            v, q = vs[-1] + self._gap(), self._lots(len(vs))
            vs.append(v)
            ls.append(q)
            os.append(BookLevel(self._prices([v], sign)[0], Decimal(q) * lot))
        return k

    def _refresh(self, vs: list[int], ls: list[int], os: list[BookLevel], first: int) -> None:
        """Each level from ``first`` on changes size with probability 1 - exp(change_log_q) (the
        gaps between changed levels are geometric: one random number per change)."""
        log_q = self.m.change_log_q
        i = first + int(math.log(1.0 - self._u()) / log_q)
        while i < len(vs):
            ls[i] = q = self._lots(i)
            os[i] = BookLevel(os[i].price, Decimal(q) * self.lot)
            i += 1 + int(math.log(1.0 - self._u()) / log_q)

    def _recentre(self, logp: float) -> tuple[int, int]:
        """Put the book one tick wide around price exp(logp); returns the new levels at the front
        of the asks and of the bids."""
        bid = max(1, math.floor(math.exp(logp) / self.tick_f))
        return self._side(self.av, self.al, self.ao, bid + 1, 1), self._side(self.bv, self.bl, self.bo, -bid, -1)

    def _snapshot(self, ts: int) -> BookSnapshot:
        self._dirty = False
        return BookSnapshot(VENUE, self.symbol, tuple(self.bo), tuple(self.ao), ts)

    # -- one minute -------------------------------------------------------------------------------
    def chunk(self) -> list[DemoEvent]:
        """The events of the simulation up to the next minute boundary, in time order."""
        m, rng = self.m, self.rng
        start = self.now
        minute = start - start % MINUTE_MS
        end = minute + MINUTE_MS
        frac = (end - start) / MINUTE_MS
        z = float(rng.standard_t(m.nu)) * m.t_scale
        eta = float(rng.standard_normal()) * m.v_sd
        h = self.h
        r = math.sqrt(h * frac) * z
        logv, self.h, u_next = m.step(h, self.u, z, eta)
        self.u = u_next
        volume = math.exp(logv) * frac
        rate = m.trades_per_minute * frac * (volume / frac / m.v_mean) ** TRADE_RATE_EXPONENT
        n = max(1, int(rng.poisson(rate)))
        trade_t = np.sort(rng.integers(start, end, n))
        first_grid = start + (-start) % BOOK_MS
        grid_t = np.arange(first_grid, end, BOOK_MS, dtype=np.int64)
        if start % BOOK_MS:  # the very first chunk: a book at the start itself
            grid_t = np.concatenate([[start], grid_t])
        t = np.concatenate([grid_t, trade_t])
        is_trade = np.concatenate([np.zeros(len(grid_t), bool), np.ones(n, bool)])
        order = np.lexsort((is_trade, t))
        t, is_trade = t[order], is_trade[order]
        # Brownian bridge from 0 at the start to r at the end, observed at every event time.
        span = end - start
        steps = np.diff(np.concatenate([[start], t, [end]])) / span
        w = np.cumsum(rng.standard_normal(len(steps)) * np.sqrt(steps * h * frac))
        path = self.logp + w[:-1] - (t - start) / span * (w[-1] - r)
        up = np.diff(np.concatenate([[self.logp], path])) > 0
        sizes = rng.gamma(TRADE_SIZE_SHAPE, 1.0, n)
        lots = np.maximum(1, np.rint(sizes * (volume / sizes.sum() / float(self.lot)))).astype(np.int64)
        self.logp += r
        self.now = end
        return self._events(t.tolist(), is_trade.tolist(), path.tolist(), up.tolist(), lots.tolist(), minute)

    def _events(
        self, times: list[int], is_trade: list[bool], path: list[float], up: list[bool], lots: list[int], minute: int
    ) -> list[DemoEvent]:
        out: list[DemoEvent] = []
        append = out.append
        lot, symbol = self.lot, self.symbol
        o = hi = lo = c = 0
        vol = 0
        j = 0
        for ts, trade, logp, buy in zip(times, is_trade, path, up, strict=True):
            if not trade:
                new_asks, new_bids = self._recentre(logp)
                self._refresh(self.av, self.al, self.ao, new_asks)
                self._refresh(self.bv, self.bl, self.bo, new_bids)
                append(self._snapshot(ts))
                continue
            q = lots[j]
            j += 1
            vs, ls, os = (self.av, self.al, self.ao) if buy else (self.bv, self.bl, self.bo)
            side = Side.BUY if buy else Side.SELL
            for _ in range(MAX_SWEEP):
                if self._dirty:
                    append(self._snapshot(ts))
                level_lots = ls[0]
                take = min(q, level_lots)
                price_ticks = vs[0] if buy else -vs[0]
                self.seq += 1
                append(Trade(VENUE, symbol, str(self.seq), os[0].price, Decimal(take) * lot, side, ts))
                if not vol:
                    o = hi = lo = price_ticks
                elif price_ticks > hi:
                    hi = price_ticks
                elif price_ticks < lo:
                    lo = price_ticks
                c = price_ticks
                vol += take
                q -= take
                if take < level_lots:
                    ls[0] = level_lots - take
                    os[0] = BookLevel(os[0].price, Decimal(ls[0]) * lot)
                    break
                del vs[0], ls[0], os[0]  # the level is gone: the next print needs a fresh snapshot
                self._dirty = True
                self._side(vs, ls, os, vs[0], 1 if buy else -1)  # refills the far end
                if not q:
                    break
        self.minutes.append((minute, o, hi, lo, c, vol))
        return out


def _history(symbol: str, rng: np.random.Generator, start_ms: int) -> np.ndarray:
    """1m rows (open_ms, open, high, low, close in ticks, volume in lots) for HISTORY_DAYS whole days
    and the minutes of the start's day before it, ending at the live simulation's first price."""
    m, spec = _Model(symbol), SYMBOLS[symbol]
    end = start_ms - start_ms % MINUTE_MS
    first = end - HISTORY_DAYS * DAY_MS
    first -= first % DAY_MS
    n = (end - first) // MINUTE_MS
    if n <= 0:
        return np.zeros((0, 6), np.int64)
    z = (rng.standard_t(m.nu, n) * m.t_scale).tolist()
    eta = (rng.standard_normal(n) * m.v_sd).tolist()
    h_arr, logv = np.empty(n), np.empty(n)
    h, u = m.h_start, 0.0
    step = m.step
    for i in range(n):
        h_arr[i] = h
        logv[i], h, u = step(h, u, z[i], eta[i])
    r = np.sqrt(h_arr) * np.asarray(z)
    k = 8  # points of the path inside a minute, for its high and low
    w = np.cumsum(rng.standard_normal((n, k)), axis=1) * np.sqrt(h_arr / k)[:, None]
    path = w - np.arange(1, k + 1) / k * (w[:, -1:] - r[:, None])  # Brownian bridge to r
    close = np.cumsum(r)
    close += math.log(m.start_price) - close[-1]
    opens = close - r
    tick, lot = float(spec.tick), float(spec.lot)

    def ticks(x: np.ndarray) -> np.ndarray:
        return np.maximum(1, np.rint(np.exp(x) / tick))

    return np.column_stack(
        [
            first + MINUTE_MS * np.arange(n),
            ticks(opens),
            ticks(opens + np.maximum(path.max(axis=1), 0)),
            ticks(opens + np.minimum(path.min(axis=1), 0)),
            ticks(close),
            np.maximum(1, np.rint(np.exp(logv) / lot)),
        ]
    ).astype(np.int64)


def _aggregate(rows: np.ndarray, tf_ms: int) -> np.ndarray:
    """1m rows to ``tf_ms`` rows (a bucket keeps the minutes it has)."""
    if tf_ms == MINUTE_MS or not len(rows):
        return rows
    key = rows[:, 0] // tf_ms
    starts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1])
    ends = np.concatenate([starts[1:], [len(rows)]]) - 1
    return np.column_stack(
        [
            key[starts] * tf_ms,
            rows[starts, 1],
            np.maximum.reduceat(rows[:, 2], starts),
            np.minimum.reduceat(rows[:, 3], starts),
            rows[ends, 4],
            np.add.reduceat(rows[:, 5], starts),
        ]
    )


class _Feed:
    """The live simulation of one symbol and the events its streams have not all read yet."""

    def __init__(self, sim: _Sim) -> None:
        self.sim = sim
        self.events: list[DemoEvent] = []
        self.base = 0  # position of events[0] in the whole sequence
        self.chunks: list[int] = []  # positions where the buffered minutes start
        self.cursors: dict[int, int] = {}
        self.head = 0  # the furthest position any stream has read
        self.clock_ms = sim.now  # the time of the last event read

    def get(self, pos: int) -> DemoEvent:
        while pos >= self.base + len(self.events):
            self.chunks.append(self.base + len(self.events))
            self.events.extend(self.sim.chunk())
        return self.events[pos - self.base]

    def read(self, pos: int, ts: int) -> None:
        if pos > self.head:
            self.head, self.clock_ms = pos, ts

    def trim(self) -> None:
        low = min(self.cursors.values(), default=self.head)
        i = bisect.bisect_right(self.chunks, low) - 1  # keep the minute ``low`` is in
        if i > 0:
            keep = self.chunks[i]
            del self.events[: keep - self.base]
            del self.chunks[:i]
            self.base = keep

    def position_at(self, ts: int) -> int:
        """The first position at or after simulated time ``ts`` (generating up to it)."""
        while not self.events or self.events[-1].ts_ms < ts:
            self.get(self.base + len(self.events))
            if not self.cursors:
                self.trim_to_end()
        return self.base + bisect.bisect_left(self.events, ts, key=lambda e: e.ts_ms)

    def trim_to_end(self) -> None:
        if len(self.chunks) > 1:
            keep = self.chunks[-1]
            del self.events[: keep - self.base]
            del self.chunks[:-1]
            self.base = keep

    def minute_of(self, pos: int) -> tuple[int, int]:
        """(position where the minute of ``pos`` starts, that minute's open time)."""
        i = bisect.bisect_right(self.chunks, pos) - 1
        start = self.chunks[i]
        ts = self.events[start - self.base].ts_ms
        return start, ts - ts % MINUTE_MS


class _BarBuilder:
    """Bars of one timeframe from the event stream, starting with the bar in progress."""

    def __init__(self, symbol: str, tf: str, tick: Decimal, lot: Decimal) -> None:
        self.symbol, self.tf, self.ms = symbol, tf, TIMEFRAME_MS[tf]
        self.tick, self.lot = tick, lot
        self.cur: list[Any] | None = None  # open_ms, open, high, low, close, volume
        self.sent_ms = -(10**18)

    def seed(self, rows: np.ndarray, trades: list[Trade], now_ms: int) -> None:
        """What the bar in progress at ``now_ms`` already holds: whole minutes, then trades."""
        start = now_ms - now_ms % self.ms
        rows = rows[(rows[:, 0] >= start) & (rows[:, 0] < now_ms)] if len(rows) else rows
        if len(rows):
            o, h, lo, c, v = (
                int(rows[0, 1]),
                int(rows[:, 2].max()),
                int(rows[:, 3].min()),
                int(rows[-1, 4]),
                int(rows[:, 5].sum()),
            )
            t, q = self.tick, self.lot
            self.cur = [start, Decimal(o) * t, Decimal(h) * t, Decimal(lo) * t, Decimal(c) * t, Decimal(v) * q]
        for trade in trades:
            self._add(trade)

    def _add(self, t: Trade) -> None:
        cur, p = self.cur, t.price
        if cur is None:
            self.cur = [t.ts_ms - t.ts_ms % self.ms, p, p, p, p, t.quantity]
            return
        if p > cur[2]:
            cur[2] = p
        elif p < cur[3]:
            cur[3] = p
        cur[4] = p
        cur[5] += t.quantity

    def _bar(self, closed: bool) -> Bar:
        c = self.cur
        assert c is not None
        return Bar(VENUE, self.symbol, self.tf, c[0], c[1], c[2], c[3], c[4], c[5], closed)

    def on(self, ev: DemoEvent) -> list[Bar]:
        out: list[Bar] = []
        ts = ev.ts_ms
        if self.cur is not None and ts >= self.cur[0] + self.ms:
            out.append(self._bar(True))
            self.cur = None
            self.sent_ms = -(10**18)
        if type(ev) is Trade:
            self._add(ev)
        if self.cur is not None and ts - self.sent_ms >= FORMING_BAR_MS:
            self.sent_ms = ts
            out.append(self._bar(False))
        return out


def _bar_rows(bars: Sequence[Bar], symbol: str, origin_ms: int, before_ms: int) -> np.ndarray:
    """Stored 1m bars of ``symbol`` as history rows (ticks and lots), those in [origin, before)."""
    spec = SYMBOLS[symbol]
    rows = sorted(
        {
            b.open_ms: (
                b.open_ms,
                int(b.open / spec.tick),
                int(b.high / spec.tick),
                int(b.low / spec.tick),
                int(b.close / spec.tick),
                max(1, int(b.volume / spec.lot)),
            )
            for b in bars
            if b.symbol == symbol and b.timeframe == "1m" and origin_ms <= b.open_ms < before_ms
        }.values()
    )
    return np.array(rows, np.int64).reshape(-1, 6)


class DemoMarket:
    """A ``MarketData`` source with no network. ``speed`` is simulated seconds per real second
    (0: no waiting at all, for tests and benchmarks); ``start_ms`` is the simulated start (now by
    default). The live market begins at the fitted month's last close, after a history of
    ``HISTORY_DAYS`` of 1m bars from the same model.

    Resuming (the app was closed and opened again): ``origin_ms`` is when this demo market first
    started and ``resume`` the 1m bars shown since (from the candles table). The generated history
    then ends at the origin as it did the first time, the stored bars follow it unchanged, and the
    live market continues from the last stored close, after it (so earlier fills stay on their
    candles and the equity curve does not jump)."""

    name = VENUE

    def __init__(
        self,
        seed: int = 7,
        speed: float = 1.0,
        start_ms: int | None = None,
        symbols: tuple[str, ...] | list[str] = DEFAULT_SYMBOLS,
        *,
        origin_ms: int | None = None,
        resume: Mapping[str, Sequence[Bar]] | None = None,
    ) -> None:
        unknown = [s for s in symbols if s not in SYMBOLS]
        if unknown:
            raise ValueError(f"the demo market has no {', '.join(unknown)}")
        if speed < 0:
            raise ValueError("speed must be 0 (no waiting) or positive")
        self.seed = seed
        self.speed = speed
        start = int(time.time() * 1000) if start_ms is None else start_ms
        self.origin_ms = start if origin_ms is None else min(origin_ms, start)
        self._resumed: dict[str, np.ndarray] = {}
        last_bar = -(10**18)
        for sym, bars in (resume or {}).items():
            if sym in SYMBOLS and sym in symbols:
                # The first live minute started at the origin (part of it): it is the first stored one.
                rows = _bar_rows(bars, sym, self.origin_ms - self.origin_ms % MINUTE_MS, 2**62)
                if len(rows):
                    self._resumed[sym] = rows
                    last_bar = max(last_bar, int(rows[-1, 0]))
        # A market that ran faster than the clock (speed > 1) stored minutes ahead of now: resume after them.
        self.start_ms = max(start, last_bar + MINUTE_MS - last_bar % MINUTE_MS) if self._resumed else start
        self.symbols = tuple(symbols)
        self._feeds: dict[str, _Feed] = {}
        self._history: dict[str, np.ndarray] = {}
        self._ids = itertools.count()
        self._closed = False
        self._stop: asyncio.Event | None = None
        self._wall0: float | None = None

    # -- seeds ------------------------------------------------------------------------------------
    def _rng(self, symbol: str, stream: int) -> np.random.Generator:
        """Independent generators per symbol and use (0: live, 1: history, 2: live after a resume at
        ``start_ms``), whatever the symbol set."""
        index = list(SYMBOLS).index(symbol)
        words = [self.seed % 2**63, index, stream] + ([self.start_ms] if stream == 2 else [])
        return np.random.default_rng(np.random.SeedSequence(words))

    def resumed_close(self, symbol: str) -> Decimal | None:
        """The last stored close the live market of ``symbol`` continues from (None: a fresh start)."""
        rows = self._resumed.get(symbol)
        return None if rows is None else Decimal(int(rows[-1, 4])) * SYMBOLS[symbol].tick

    def _check(self, symbol: str) -> None:
        if symbol not in self.symbols:
            raise ValueError(f"the demo market has no {symbol}")

    def _new_sim(self, symbol: str) -> _Sim:
        self._check(symbol)
        close = self.resumed_close(symbol)
        if close is None:
            return _Sim(symbol, _Model(symbol), self._rng(symbol, 0), self.start_ms)
        return _Sim(symbol, _Model(symbol), self._rng(symbol, 2), self.start_ms, float(close))

    def history(self, symbol: str) -> np.ndarray:
        """The 1m rows before the start: open_ms, open, high, low, close (ticks), volume (lots):
        generated up to the origin, then the resumed minutes."""
        self._check(symbol)
        if symbol not in self._history:
            rows = _history(symbol, self._rng(symbol, 1), self.origin_ms)
            resumed = self._resumed.get(symbol)
            if resumed is not None:
                rows = np.concatenate([rows, resumed])
            self._history[symbol] = rows
        return self._history[symbol]

    # -- instruments ------------------------------------------------------------------------------
    async def load_markets(self) -> dict[str, Instrument]:
        # The month of history behind each symbol is generated now, off the event loop (a window
        # stays responsive meanwhile), rather than when its first stream or chart asks for it.
        await asyncio.to_thread(lambda: [self.history(s) for s in self.symbols])
        out = {}
        for s in self.symbols:
            spec = SYMBOLS[s]
            base, quote = s.split("/")
            out[s] = Instrument(
                VENUE,
                s,
                base,
                quote,
                spec.tick,
                spec.lot,
                min_qty=spec.lot,
                max_qty=spec.max_qty,
                min_notional=spec.min_notional,
                band_down=Decimal("0.2"),
                band_up=Decimal("5"),
                maker_fee=Decimal("0.001"),
                taker_fee=Decimal("0.001"),
            )
        return out

    # -- synchronous generation (tests, benchmarks) -----------------------------------------------
    def events(self, symbol: str, n: int | None = None) -> Iterator[DemoEvent]:
        """The first ``n`` events (all of them if None) of ``symbol``'s market from the start: the
        same sequence the streams deliver, without asyncio and without waiting."""
        sim = self._new_sim(symbol)
        left = n
        while left is None or left > 0:
            chunk = sim.chunk()
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            yield from chunk

    # -- streams ----------------------------------------------------------------------------------
    def _feed(self, symbol: str) -> _Feed:
        self._check(symbol)
        if symbol not in self._feeds:
            self._feeds[symbol] = _Feed(self._new_sim(symbol))
        return self._feeds[symbol]

    def _due(self, ts_ms: int) -> float:
        assert self._wall0 is not None
        return self._wall0 + (ts_ms - self.start_ms) / 1000 / self.speed

    async def _sleep(self, delay: float) -> None:
        assert self._stop is not None
        try:
            async with asyncio.timeout(delay):
                await self._stop.wait()
        except TimeoutError:
            pass

    async def _stream(self, symbol: str, kind: str, timeframe: str = "1m") -> AsyncIterator[Any]:
        feed = self._feed(symbol)
        loop = asyncio.get_running_loop()
        if self._stop is None:
            self._stop = asyncio.Event()
        if self._closed:
            return
        if self.speed > 0:
            if self._wall0 is None:
                self._wall0 = loop.time()
            pos = feed.position_at(self.start_ms + int((loop.time() - self._wall0) * 1000 * self.speed))
        else:
            pos = feed.head
        me = next(self._ids)
        feed.cursors[me] = pos  # taken before yielding: streams opened together start together
        await asyncio.sleep(0)
        bars = None
        if kind == "bars":
            spec = SYMBOLS[symbol]
            bars = _BarBuilder(symbol, timeframe, spec.tick, spec.lot)
            feed.get(pos)
            first, minute = feed.minute_of(pos)
            done = np.array(feed.sim.minutes[: bisect.bisect_left(feed.sim.minutes, (minute,))], np.int64)
            rows = np.concatenate([self.history(symbol), done.reshape(-1, 6)]) if len(done) else self.history(symbol)
            trades = [e for e in feed.events[first - feed.base : pos - feed.base] if type(e) is Trade]
            bars.seed(rows, trades, feed.get(pos).ts_ms)
        try:
            count = 0
            while not self._closed:
                ev = feed.get(pos)
                if self.speed > 0:
                    delay = self._due(ev.ts_ms) - loop.time()
                    if delay > 0:
                        await self._sleep(delay)
                        if self._closed:
                            break
                count += 1
                if count % YIELD_EVERY == 0:
                    feed.trim()
                    await asyncio.sleep(0)
                    if self._closed:
                        break
                pos += 1
                feed.cursors[me] = pos
                feed.read(pos, ev.ts_ms)
                if bars is not None:
                    for bar in bars.on(ev):
                        yield bar
                elif (kind == "trades") == (type(ev) is Trade):
                    yield ev
        finally:
            feed.cursors.pop(me, None)

    def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        self._check(symbol)
        return self._stream(symbol, "trades")

    def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        self._check(symbol)
        return self._stream(symbol, "book")

    def watch_bars(self, symbol: str, timeframe: str) -> AsyncIterator[Bar]:
        self._check(symbol)
        if timeframe not in TIMEFRAME_MS:
            raise ValueError(f"unknown timeframe {timeframe!r}")
        return self._stream(symbol, "bars", timeframe)

    # -- history ----------------------------------------------------------------------------------
    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]:
        """Bars from the generated history and the minutes the live market has completed so far;
        the oldest ``limit`` from ``since_ms``, or the latest ``limit`` without it."""
        if timeframe not in TIMEFRAME_MS:
            raise ValueError(f"unknown timeframe {timeframe!r}")
        rows = self.history(symbol)
        feed = self._feeds.get(symbol)
        if feed is not None:
            done = [r for r in feed.sim.minutes if r[0] + MINUTE_MS <= feed.clock_ms]
            if done:
                rows = np.concatenate([rows, np.array(done, np.int64)])
        rows = _aggregate(rows, TIMEFRAME_MS[timeframe])
        if since_ms is not None:
            rows = rows[rows[:, 0] >= since_ms][:limit]
        else:
            rows = rows[-limit:] if limit > 0 else rows[:0]
        spec = SYMBOLS[symbol]
        tick, lot = spec.tick, spec.lot
        return [
            Bar(
                VENUE,
                symbol,
                timeframe,
                t,
                Decimal(o) * tick,
                Decimal(h) * tick,
                Decimal(lo) * tick,
                Decimal(c) * tick,
                Decimal(v) * lot,
            )
            for t, o, h, lo, c, v in rows.tolist()
        ]

    async def close(self) -> None:
        """Ends every stream (their ``async for`` loops finish); idempotent."""
        self._closed = True
        if self._stop is not None:
            self._stop.set()
