"""Candle history from an exchange into the candles table: ``fetch_ohlcv`` page after page, resumed
from what is stored already, holes in the exchange's answer reported as gaps, progress as it goes.
The CLI's ``history`` command and the window's download dialog run the same function."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from app.domain.market import TIMEFRAME_MS, Bar
from app.storage import Store

PAGE = 1000  # Binance serves up to 1000 klines a request


class BarSource(Protocol):
    name: str

    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]: ...


@dataclass(frozen=True, slots=True)
class Gap:
    """Candles the exchange did not send between two it did: ``start_ms`` … ``end_ms`` (open times, inclusive)."""

    start_ms: int
    end_ms: int
    missing: int


@dataclass(frozen=True, slots=True)
class Progress:
    done_ms: int  # history covered so far, from ``start_ms``
    total_ms: int
    bars: int  # new bars stored so far

    @property
    def fraction(self) -> float:
        return 1.0 if self.total_ms <= 0 else min(1.0, self.done_ms / self.total_ms)


@dataclass
class DownloadResult:
    venue: str
    symbol: str
    timeframe: str
    start_ms: int  # where this run started (after what was stored: the resume point)
    resumed: bool  # True when bars were stored already and the run went on after them
    stored: int = 0  # bars written
    first_ms: int | None = None
    last_ms: int | None = None
    gaps: list[Gap] = field(default_factory=list)
    pages: int = 0


def _gap(prev_ms: int, next_ms: int, span: int) -> Gap | None:
    if next_ms - prev_ms <= span:
        return None
    return Gap(prev_ms + span, next_ms - span, (next_ms - prev_ms) // span - 1)


async def download_history(
    source: BarSource,
    store: Store,
    symbol: str,
    timeframe: str,
    since_ms: int,
    until_ms: int | None = None,
    *,
    page: int = PAGE,
    on_progress: Callable[[Progress], None] | None = None,
    now_ms: Callable[[], int] | None = None,
) -> DownloadResult:
    """Closed candles of ``symbol`` from ``since_ms`` (to ``until_ms`` or now) stored under the
    source's venue name. A second run starts after the last stored candle; each page is stored as
    it arrives, so a cancelled run keeps what it fetched and the next one resumes there."""
    if timeframe not in TIMEFRAME_MS:
        raise ValueError(f"unknown timeframe {timeframe!r}; one of {', '.join(TIMEFRAME_MS)}")
    span = TIMEFRAME_MS[timeframe]
    clock = now_ms or (lambda: int(time.time() * 1000))
    end = min(until_ms, clock()) if until_ms is not None else clock()
    since_ms -= since_ms % span
    venue = source.name
    stored = store.load_bars(venue, symbol, timeframe, start_ms=since_ms, limit=1)
    last_stored = stored[-1].open_ms if stored else None
    cursor = last_stored + span if last_stored is not None else since_ms
    result = DownloadResult(venue, symbol, timeframe, cursor, last_stored is not None)
    result.last_ms = last_stored
    prev = last_stored
    total = max(0, end - since_ms)
    if on_progress is not None:
        on_progress(Progress(max(0, cursor - since_ms), total, 0))
    while cursor < end:
        bars = await source.fetch_bars(symbol, timeframe, cursor, page)
        result.pages += 1
        bars = [b for b in sorted(bars, key=lambda b: b.open_ms) if b.open_ms >= cursor and b.open_ms < end]
        closed = [b for b in bars if b.closed]
        if not closed:
            break
        for b in closed:
            if prev is not None and (g := _gap(prev, b.open_ms, span)) is not None:
                result.gaps.append(g)
            prev = b.open_ms
        result.stored += store.upsert_bars(closed)
        result.first_ms = closed[0].open_ms if result.first_ms is None else result.first_ms
        result.last_ms = closed[-1].open_ms
        cursor = closed[-1].open_ms + span
        if on_progress is not None:
            on_progress(Progress(min(total, cursor - since_ms), total, result.stored))
        if len(closed) < len(bars):  # the forming candle: nothing closed comes after it
            break
    return result
