"""A trading session: the order manager over one or several venues, their market feeds, and the
periodic work (daily loss, equity curve, balances from the venues). The window, the CLI and the
tests build the same session."""

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
from .portfolio import Portfolio
from .risk import RiskEngine

EQUITY_EVERY_S = 60.0


class TradingSession:
    def __init__(self, store: Store, venue: Venue | Sequence[Venue], symbols: Sequence[str], *,
                 timeframe: str = "1m", clock: Clock | None = None, bus: EventBus | None = None,
                 mode: str = "demo", valuation_currency: str = "USDT") -> None:
        self.store = store
        self.venues: list[Venue] = list(venue) if isinstance(venue, Sequence) else [venue]
        self.venue = self.venues[0]  # the one the window shows first
        self.symbols = list(symbols)
        self.timeframe = timeframe
        self.mode = mode
        self.bus = bus or EventBus()
        self.clock = clock or Clock()
        self.orders = OrderManager(self.bus, store, clock=self.clock, mode=mode,
                                   valuation_currency=valuation_currency)
        self.feed = MarketFeed(self.bus, on_reconnect=self._reconnected)
        self._ticker: asyncio.Task[None] | None = None
        self.reconciliation: ReconciliationDone | None = None

    @property
    def portfolio(self) -> Portfolio:
        return self.orders.portfolio

    @property
    def risk(self) -> RiskEngine:
        return self.orders.risk

    async def start(self) -> ReconciliationDone:
        """Reconcile every venue (the first one's report is returned), then stream market data."""
        first: ReconciliationDone | None = None
        for v in self.venues:
            done = await self.orders.add_venue(v)
            first = first or done
            listed = {s for (venue, s) in self.orders.instruments if venue == v.name}
            for sym in self.symbols:
                if sym in listed:
                    self.feed.watch(v, sym, self.timeframe)
        self._ticker = asyncio.ensure_future(self._tick())
        assert first is not None
        self.reconciliation = first
        return first

    def _reconnected(self, venue_name: str) -> None:
        """After a stream came back, orders may have changed while it was away: check them again."""
        v = self.orders.venues.get(venue_name)
        if v is not None and venue_name in self.orders.ready:
            self.orders.core.tasks.spawn(self.orders.reconcile(v))

    async def _tick(self) -> None:
        last_equity = 0.0
        while True:
            await asyncio.sleep(1.0)
            self.orders.check_daily_loss()
            now = self.clock.monotonic()
            if now - last_equity < EQUITY_EVERY_S:
                continue
            last_equity = now
            for v in self.venues:
                if not self.portfolio.equity_known(v.name):
                    continue
                eq = self.portfolio.equity(v.name)
                ts = self.clock.now_ms()
                self.store.append_equity(v.name, ts, eq)
                self.bus.publish(EquityPoint(v.name, ts, eq))
                await self.orders.sync_balances(v)  # the venue's balances are the truth

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.feed.close()
        await self.orders.close()
        for v in self.venues:
            await v.close()
