"""A trading session: one venue's order manager, market feed and the periodic risk/equity work.
The window, the CLI and the tests build the same session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from app.storage import Store
from app.venues.base import Venue

from .bus import EventBus
from .clock import Clock
from .events import EquityPoint, ReconciliationDone
from .feed import MarketFeed
from .orders import OrderManager

EQUITY_EVERY_S = 60.0


class TradingSession:
    def __init__(self, store: Store, venue: Venue, symbols: Sequence[str], *, timeframe: str = "1m",
                 clock: Clock | None = None, bus: EventBus | None = None) -> None:
        self.store = store
        self.venue = venue
        self.symbols = list(symbols)
        self.timeframe = timeframe
        self.bus = bus or EventBus()
        self.clock = clock or Clock()
        self.orders = OrderManager(self.bus, store, clock=self.clock)
        self.feed = MarketFeed(self.bus)
        self._ticker: asyncio.Task[None] | None = None
        self.reconciliation: ReconciliationDone | None = None

    @property
    def portfolio(self):
        return self.orders.portfolio

    @property
    def risk(self):
        return self.orders.risk

    async def start(self) -> ReconciliationDone:
        self.reconciliation = await self.orders.add_venue(self.venue)
        for sym in self.symbols:
            self.feed.watch(self.venue, sym, self.timeframe)
        self._ticker = asyncio.ensure_future(self._tick())
        return self.reconciliation

    async def _tick(self) -> None:
        last_equity = 0.0
        while True:
            await asyncio.sleep(1.0)
            self.orders.check_daily_loss()
            now = self.clock.monotonic()
            if now - last_equity >= EQUITY_EVERY_S and self.portfolio.equity_known(self.venue.name):
                last_equity = now
                eq = self.portfolio.equity(self.venue.name)
                ts = self.clock.now_ms()
                self.store.append_equity(self.venue.name, ts, eq)
                self.bus.publish(EquityPoint(self.venue.name, ts, eq))
                await self.orders.sync_balances(self.venue)  # the venue's balances are the truth

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.feed.close()
        await self.orders.close()
        await self.venue.close()
