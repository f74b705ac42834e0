"""From closed bars of one instrument to the model's feature rows and signals (no I/O, no asyncio).

Bars of the model's timeframe are used as they are; bars of a smaller timeframe that divides it
(the app's 1m stream for a 1h model) are first combined, and a model bar is made only when every
one of its smaller bars arrived: a missing minute makes the hour missing, and the features restart
after it as after any gap, rather than being filled in.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from app.domain.market import TIMEFRAME_MS, Bar
from app.domain.signal import Signal, SignalDirection

from .features import IncrementalFeatures
from .labels import round_trip_cost
from .model import ModelContract

BarRow = tuple[int, float, float, float, float, float]


def bar_row(bar: Bar) -> BarRow:
    """A closed bar as the numeric row the features and strategies read (open_ms, o, h, l, c, v)."""
    return (bar.open_ms, float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume))


def forecast(signal: Signal) -> float:
    """A published signal's probability as the number a strategy's arrays hold."""
    return float(signal.probability)


class BarAggregator:
    """Closed bars of ``src_ms`` into complete bars of ``dst_ms`` (a multiple of it)."""

    def __init__(self, src_ms: int, dst_ms: int) -> None:
        if dst_ms % src_ms:
            raise ValueError(f"{dst_ms} ms bars cannot be made of {src_ms} ms bars")
        self.src_ms, self.dst_ms = src_ms, dst_ms
        self._start: int | None = None
        self._next = 0  # open time of the sub-bar expected next in the bucket
        self._o = self._h = self._l = self._c = self._v = 0.0

    def add(
        self,
        open_ms: int,
        o: float,
        h: float,
        lo: float,
        c: float,
        v: float,
    ) -> tuple[int, float, float, float, float, float] | None:
        """The finished bar (open_ms, o, h, l, c, v) when this sub-bar completes one, else None."""
        start = open_ms - open_ms % self.dst_ms
        if start == self._start and open_ms < self._next:
            return None  # a repeat of a sub-bar already counted
        if start != self._start or open_ms != self._next:
            if open_ms != start:  # joined mid-bucket, or a sub-bar is missing: this bucket is lost
                self._start = None
                return None
            self._start = start
            self._o, self._h, self._l, self._v = o, h, lo, 0.0
        self._h = max(self._h, h)
        self._l = min(self._l, lo)
        self._c = c
        self._v += v
        self._next = open_ms + self.src_ms
        if self._next == start + self.dst_ms:
            self._start = None
            return (start, self._o, self._h, self._l, self._c, self._v)
        return None


@dataclass
class HitCounter:
    """Forecasts scored once their horizon has passed: a hit is UP before a gain after fees, or
    DOWN before none."""

    scored: int = 0
    hits: int = 0

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.scored if self.scored else None


class SignalPipeline:
    """One model on one instrument: bars in, feature rows out; signals made and later scored."""

    def __init__(self, contract: ModelContract, venue: str, symbol: str) -> None:
        self.contract = contract
        self.venue, self.symbol = venue, symbol
        self.tf_ms = TIMEFRAME_MS[contract.timeframe]
        self.features = IncrementalFeatures(self.tf_ms)
        self._aggregators: dict[int, BarAggregator] = {}
        self._last_close = math.nan
        self._pending: deque[tuple[Signal, float]] = deque()  # with the close of its bar
        self._cost = round_trip_cost(contract.fee)
        self._threshold = Decimal(repr(contract.threshold))
        self.hits = HitCounter()

    def model_bar(self, bar: Bar) -> tuple[int, float, float, float, float, float] | None:
        """The model-timeframe bar this closed bar is or completes, as floats; None otherwise."""
        if not bar.closed:
            return None
        src = TIMEFRAME_MS.get(bar.timeframe)
        if src is None or src > self.tf_ms or self.tf_ms % src:
            return None
        o, h, lo, c, v = float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume)
        if src == self.tf_ms:
            return (bar.open_ms, o, h, lo, c, v)
        agg = self._aggregators.get(src)
        if agg is None:
            agg = self._aggregators[src] = BarAggregator(src, self.tf_ms)
        return agg.add(bar.open_ms, o, h, lo, c, v)

    def on_bar(self, bar: Bar) -> tuple[int, np.ndarray] | None:
        """(model bar open time, feature row) when ``bar`` closes a model bar with a full window."""
        mb = self.model_bar(bar)
        if mb is None:
            return None
        open_ms, _o, h, lo, c, v = mb
        if self.features.last_open_ms is not None and open_ms <= self.features.last_open_ms:
            return None
        self._score(open_ms, c)
        row = self.features.update(open_ms, h, lo, c, v)
        return None if row is None else (open_ms, row)

    def prime(self, bars: Iterable[Bar]) -> None:
        """Feed history (oldest first) so the first live bar already has a full window."""
        for bar in bars:
            self.on_bar(bar)

    def make_signal(self, bar_open_ms: int, probability: float | np.floating) -> Signal:
        """The signal of the model bar opened at ``bar_open_ms`` (the last one this pipeline took)."""
        c = self.contract
        p = Decimal(round(min(max(float(probability), 0.0), 1.0) * 10_000)).scaleb(-4)  # four decimals, exactly
        direction = SignalDirection.UP if p > self._threshold else SignalDirection.DOWN
        signal = Signal(
            c.name,
            c.version,
            self.venue,
            self.symbol,
            c.timeframe,
            bar_open_ms,
            p,
            self._threshold,
            direction,
            c.horizon,
        )
        self._pending.append((signal, self._last_close))
        return signal

    def _score(self, open_ms: int, close: float) -> None:
        """Score the forecasts whose horizon ends with this bar (a forecast whose end bar is
        missing is dropped unscored)."""
        self._last_close = close
        horizon_ms = self.contract.horizon * self.tf_ms
        pending = self._pending
        while pending and pending[0][0].bar_open_ms + horizon_ms <= open_ms:
            s, start = pending.popleft()
            if s.bar_open_ms + horizon_ms != open_ms:
                continue
            gained = math.log(close / start) > self._cost
            self.hits.scored += 1
            self.hits.hits += gained == (s.direction is SignalDirection.UP)
