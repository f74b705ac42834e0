"""Pumps a venue's market-data streams onto the bus, reconnecting after temporary errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from app.domain.errors import TemporaryVenueError
from app.venues.base import MarketData

from .bus import EventBus

log = logging.getLogger(__name__)


class MarketFeed:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._tasks: dict[tuple[str, str, str], asyncio.Task[None]] = {}

    def watch(self, venue: MarketData, symbol: str, timeframe: str = "1m", *, trades: bool = True,
              book: bool = True, bars: bool = True) -> None:
        streams: list[tuple[str, Callable[[], AsyncIterator[Any]]]] = []
        if trades:
            streams.append(("trades", lambda: venue.watch_trades(symbol)))
        if book:
            streams.append(("book", lambda: venue.watch_book(symbol)))
        if bars:
            streams.append((f"bars:{timeframe}", lambda: venue.watch_bars(symbol, timeframe)))
        for kind, make in streams:
            key = (venue.name, symbol, kind)
            if key not in self._tasks:
                self._tasks[key] = asyncio.ensure_future(self._pump(key, make))

    def unwatch(self, venue: str, symbol: str, kind: str | None = None) -> None:
        for key in [k for k in self._tasks if k[0] == venue and k[1] == symbol and (kind is None or k[2] == kind)]:
            self._tasks.pop(key).cancel()

    async def _pump(self, key: tuple[str, str, str], make: Callable[[], AsyncIterator[Any]]) -> None:
        delay = 0.5
        publish = self.bus.publish
        while True:
            try:
                async for event in make():
                    publish(event)
                    delay = 0.5
                return
            except asyncio.CancelledError:
                raise
            except TemporaryVenueError as exc:
                log.warning("%s %s %s: %s; reconnecting in %.1fs", *key, exc.message, delay)
            except Exception:
                log.exception("%s %s %s stream failed; reconnecting in %.1fs", *key, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
