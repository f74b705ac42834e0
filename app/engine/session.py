"""A trading session: the order manager over one or several venues, their market feeds, their
account streams, and the periodic work (daily loss, equity curve, balances from the venues). The
window, the CLI and the tests build the same session.

A venue with an account stream (``AccountStream``: an exchange's user-data stream) is kept
subscribed here with the one retry policy; every time it (re)subscribes, that venue's orders are
reconciled, since what happened while it was away is known only to the exchange."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from app.domain.errors import TemporaryVenueError
from app.domain.execution import Balance
from app.i18n import N_
from app.storage import Store
from app.venues.base import AccountStream, BalancesChanged, StreamConnected, Venue

from .bus import EventBus
from .clock import Clock
from .events import EquityPoint, PortfolioChanged, ReconciliationDone
from .feed import MarketFeed
from .orders import OrderManager
from .portfolio import Portfolio
from .retry import STREAMS, RetryPolicy
from .risk import RiskEngine
from .signal_alerts import SignalAlerts
from .signal_service import SignalService
from .strategy_runner import StrategyRunner

log = logging.getLogger(__name__)

EQUITY_EVERY_S = 60.0


class TradingSession:
    def __init__(
        self,
        store: Store,
        venue: Venue | Sequence[Venue],
        symbols: Sequence[str],
        *,
        timeframe: str = "1m",
        clock: Clock | None = None,
        bus: EventBus | None = None,
        mode: str = "demo",
        valuation_currency: str = "USDT",
        stream_policy: RetryPolicy = STREAMS,
    ) -> None:
        self.store = store
        self.venues: list[Venue] = list(venue) if isinstance(venue, Sequence) else [venue]
        self.venue = self.venues[0]  # the one the window shows first
        self.symbols = list(symbols)
        self.timeframe = timeframe
        self.mode = mode
        self.bus = bus or EventBus()
        self.clock = clock or Clock()
        self.orders = OrderManager(self.bus, store, clock=self.clock, mode=mode, valuation_currency=valuation_currency)
        self.feed = MarketFeed(self.bus, on_reconnect=self._reconnected)
        self._ticker: asyncio.Task[None] | None = None
        self._accounts: dict[str, asyncio.Task[None]] = {}
        self._reconciling: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self.stream_policy = stream_policy
        self.reconciliation: ReconciliationDone | None = None
        self.signals: SignalService | None = None  # the ONNX models on this session's bars (enable_signals)
        self.signal_alerts: SignalAlerts | None = None
        self.auto: StrategyRunner | None = None  # auto-trading on the first venue (enable_signals)
        self._extras: asyncio.Task[None] | None = None

    def enable_signals(self, user_dir: Path | None = None) -> SignalService:
        """Run the signal models (shipped, and the user's in ``user_dir``) on the first venue's bars
        once the session has started."""
        self.signals = SignalService(self.bus, [], symbols=self.symbols)
        self.signals.user_dir = user_dir
        self.signal_alerts = SignalAlerts(self.bus, self.store)
        self.auto = StrategyRunner(
            self.bus,
            self.orders,
            self.store,
            self.venue.name,
            market=self.venue,
            mode=self.mode,
            signals=self.signals,
            stream_timeframe=self.timeframe,
        )
        return self.signals

    async def _start_extras(self) -> None:
        if self.signals is not None:
            try:
                await self.signals.open(
                    self.venue, self.symbols, stream_timeframe=self.timeframe, user_dir=self.signals.user_dir
                )
            except Exception:
                log.exception("the signal models could not start")
        if self.auto is not None:
            await self.auto.restore()

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
            # Subscribed before the reconciliation: nothing falls between the two.
            if isinstance(v, AccountStream) and v.name not in self._accounts:
                self._accounts[v.name] = asyncio.ensure_future(self._pump_account(v))
            done = await self.orders.add_venue(v)
            first = first or done
            listed = {s for (venue, s) in self.orders.instruments if venue == v.name}
            for sym in self.symbols:
                if sym in listed:
                    self.feed.watch(v, sym, self.timeframe)
        self._ticker = asyncio.ensure_future(self._tick())
        self._extras = asyncio.ensure_future(self._start_extras())
        assert first is not None
        self.reconciliation = first
        return first

    def _reconnected(self, venue_name: str) -> None:
        """After a stream came back, orders may have changed while it was away: check them again.
        The reconciliation runs as the session's own task: it waits for the order manager's tasks
        to finish, so it must not be one of them (it would wait for itself). One at a time per
        venue; a reconnect during one runs it once more after."""
        v = self.orders.venues.get(venue_name)
        if v is None or venue_name not in self.orders.ready:
            return
        running = self._reconciling.get(venue_name)
        if running is not None and not running.done():
            self._again.add(venue_name)
            return
        self._reconciling[venue_name] = asyncio.ensure_future(self._reconcile(v))

    async def _reconcile(self, venue: Venue) -> None:
        while True:
            try:
                await self.orders.reconcile(venue)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("reconciling %s after a reconnect", venue.name)
                self.orders.activity.error(
                    N_("Could not check order {order}: {why}"), order=venue.name, why=str(exc) or type(exc).__name__
                )
            if venue.name not in self._again:
                return
            self._again.discard(venue.name)

    async def _pump_account(self, venue: AccountStream) -> None:
        """Keep ``venue``'s account stream subscribed: back off and subscribe again when it fails;
        reconcile each time it is subscribed."""
        delays = self.stream_policy.delays()
        while True:
            try:
                async for ev in venue.watch_account():
                    if isinstance(ev, StreamConnected):
                        delays = self.stream_policy.delays()
                        self._reconnected(venue.name)
                    elif isinstance(ev, BalancesChanged):
                        self._balances(venue.name, ev.balances)
                return
            except asyncio.CancelledError:
                raise
            except TemporaryVenueError as exc:
                log.warning("%s account stream: %s; subscribing again", venue.name, exc.message)
            except Exception as exc:
                log.exception("%s account stream failed; subscribing again", venue.name)
                if venue.name in self.orders.ready:
                    self.orders.activity.warning(
                        N_("{venue}: the account stream failed ({error}); reconnecting"),
                        venue=venue.name,
                        error=str(exc) or type(exc).__name__,
                    )
            await asyncio.sleep(next(delays, self.stream_policy.max_s))

    def _balances(self, venue: str, balances: dict[str, Balance]) -> None:
        if venue not in self.orders.ready:
            return  # adding the venue fetches them
        self.portfolio.set_balances(venue, balances)
        self.store.save_balances(venue, balances)
        self.bus.publish(PortfolioChanged(venue))

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
        if self._extras is not None:
            self._extras.cancel()
        if self.auto is not None:
            await self.auto.close()
        if self.signals is not None:
            await self.signals.stop()
        background = [*self._accounts.values(), *self._reconciling.values()]
        self._accounts.clear()
        self._reconciling.clear()
        for t in background:
            t.cancel()
        if background:
            await asyncio.wait(background, timeout=5.0)
        await self.feed.close()
        await self.orders.close()
        for v in self.venues:
            await v.close()
