"""Pumps venues' market-data streams onto the bus, reconnecting after errors with the one retry
policy; a stream that comes back tells the session, which reconciles that venue's orders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from app.domain.errors import TemporaryVenueError
from app.venues.base import MarketData

from .bus import EventBus
from .retry import STREAMS

log = logging.getLogger(__name__)


class MarketFeed:
    def __init__(self, bus: EventBus, on_reconnect: Callable[[str], None] | None = None) -> None:
        self.bus = bus
        self.on_reconnect = on_reconnect
        self._tasks: dict[tuple[str, str, str], asyncio.Task[None]] = {}

    def watch(
        self,
        venue: MarketData,
        symbol: str,
        timeframe: str = "1m",
        *,
        trades: bool = True,
        book: bool = True,
        bars: bool = True,
    ) -> None:
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
        publish = self.bus.publish
        delays = STREAMS.delays()
        broken = False
        while True:
            try:
                async for event in make():
                    if broken:
                        broken = False
                        delays = STREAMS.delays()
                        if self.on_reconnect is not None and key[2] == "trades":
                            self.on_reconnect(key[0])
                    publish(event)
                return
            except asyncio.CancelledError:
                raise
            except TemporaryVenueError as exc:
                log.warning("%s %s %s: %s; reconnecting", *key, exc.message)
            except Exception:
                log.exception("%s %s %s stream failed; reconnecting", *key)
            broken = True
            await asyncio.sleep(next(delays, STREAMS.max_s))

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
