"""Auto-trading: one strategy of ``app.signals.strategies`` (the same code the backtester runs) on
one symbol, its orders through the order manager — so every one passes the risk engine.

- Bars: the stream's closed bars are combined into the strategy's timeframe (the model's for a
  model strategy); its window is warmed from the venue's history at start. At each closed bar
  (and, for a model strategy, once the model's forecast of that bar arrived) ``compute`` runs on
  the window and ``on_bar`` runs when the newest bar is an event — and once at start, so the
  runner takes the side the plan holds now.
- Orders: ``target(+1)`` buys with a protective bracket (take-profit and stop-loss as fractions
  of the last price; both are required), sized by a fixed fraction of equity or a volatility
  target; ``target(0)`` cancels the bracket and sells what the strategy bought (never the coins
  the user held before: the runner counts its own fills, tagged ``auto``). Spot: short is flat.
- Safety: paper and demo run at once; a live session needs ``arm_live()`` first. ``stop()`` (one
  click) stops new orders and cancels an entry still working (the exits protecting a position
  stay); the kill switch stops it too. Its configuration, running/armed state and position are
  stored and restored at the next start (``restore``).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np

from app.domain.enums import OrderOrigin, OrderType, Side, TradingState
from app.domain.errors import AppError
from app.domain.market import TIMEFRAME_MS, Bar
from app.domain.money import ZERO
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest
from app.domain.signal import Signal
from app.i18n import N_
from app.signals.candles import make_candles
from app.signals.pipeline import BarAggregator, BarRow, bar_row, forecast
from app.signals.strategies import make_strategy
from app.signals.strategy import YEAR_MS, FixedFraction, Sizing, Strategy, VolatilityTarget, realised_vol
from app.storage import Store
from app.venues.base import MarketData

from .bus import EventBus
from .events import FillReceived, RiskStateChanged
from .orders import OrderManager
from .tasks import Tasks

log = logging.getLogger(__name__)
SETTING = "strategy.runner"
TAG = "auto"


class StrategyError(AppError):
    """The runner refuses a start or a configuration; ``key`` says why."""

    key = "strategy.refused"
    template = "{detail}"


@dataclass(frozen=True)
class RunnerConfig:
    strategy: str = "onnx_signal"
    symbol: str = "BTC/USDT"
    params: dict[str, float | int] = field(default_factory=lambda: {"stop_loss": 0.03, "take_profit": 0.06})
    sizing: str = "fraction"  # "fraction" of equity, or "vol": a volatility target
    fraction: Decimal = Decimal("0.1")
    vol_target: Decimal = Decimal("0.3")  # annualised
    vol_lookback: int = 168  # bars of realised volatility
    max_fraction: Decimal = Decimal("0.25")
    timeframe: str = "1h"  # bars a strategy without a model reads

    def make(self) -> Strategy:
        """The strategy, checked: a refusal is a ``StrategyError`` in words."""
        try:
            s = make_strategy(self.strategy, dict(self.params))
        except ValueError as exc:
            raise StrategyError(key="strategy.bad_params", detail=str(exc)) from exc
        if not (s.params.get("stop_loss", 0) > 0 and s.params.get("take_profit", 0) > 0):
            raise StrategyError(
                key="strategy.no_bracket", detail="auto-trading needs a stop-loss and a take-profit above 0"
            )
        if self.sizing == "fraction" and not ZERO < self.fraction <= 1:
            raise StrategyError(key="strategy.bad_size", detail="the fraction of equity is above 0 and at most 1")
        if self.sizing == "vol" and not (ZERO < self.vol_target <= 5 and ZERO < self.max_fraction <= 1):
            raise StrategyError(key="strategy.bad_size", detail="the volatility target is above 0 and at most 500%")
        if self.sizing not in ("fraction", "vol"):
            raise StrategyError(key="strategy.bad_size", detail=f"unknown sizing {self.sizing!r}")
        return s

    def sizer(self) -> Sizing:
        if self.sizing == "vol":
            return VolatilityTarget.of(self.vol_target, self.vol_lookback, self.max_fraction)
        return FixedFraction(self.fraction)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("fraction", "vol_target", "max_fraction"):
            d[k] = str(d[k])
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunnerConfig:
        base = cls()
        return cls(
            strategy=str(d.get("strategy", base.strategy)),
            symbol=str(d.get("symbol", base.symbol)),
            params=dict(d.get("params", base.params)),
            sizing=str(d.get("sizing", base.sizing)),
            fraction=Decimal(str(d.get("fraction", base.fraction))),
            vol_target=Decimal(str(d.get("vol_target", base.vol_target))),
            vol_lookback=int(d.get("vol_lookback", base.vol_lookback)),
            max_fraction=Decimal(str(d.get("max_fraction", base.max_fraction))),
            timeframe=str(d.get("timeframe", base.timeframe)),
        )


@dataclass(frozen=True, slots=True)
class StrategyStateChanged:
    """The runner started, stopped, was armed or decided: the panel shows it again."""

    running: bool
    armed: bool
    reason: str = ""


class _LiveContext:
    """The ``Context`` a strategy gets live: it reads the runner, and its requests are kept to be
    sent after ``on_bar`` returns."""

    def __init__(self, runner: StrategyRunner, bar: Bar, values: dict[str, float]) -> None:
        self._r, self._bar, self._values = runner, bar, values
        self.intents: list[tuple[int, Decimal | None, Decimal | None]] = []

    @property
    def bar(self) -> Bar:
        return self._bar

    def value(self, name: str) -> float:
        return self._values[name]

    @property
    def position(self) -> Decimal:
        return self._r.position

    @property
    def equity(self) -> Decimal:
        return self._r.orders.portfolio.equity(self._r.venue)

    @property
    def can_short(self) -> bool:
        return False

    def target(
        self, direction: int, *, stop_loss: Decimal | None = None, take_profit: Decimal | None = None, tag: str = ""
    ) -> None:
        self.intents.append((direction, stop_loss, take_profit))

    def order(self, side: Side, quantity: Decimal | None = None, **_kw: Any) -> None:
        self.intents.append((1 if side is Side.BUY else 0, None, None))

    def cancel_all(self) -> None:
        self.intents.append((-2, None, None))


class StrategyRunner:
    def __init__(
        self,
        bus: EventBus,
        orders: OrderManager,
        store: Store,
        venue: str,
        *,
        market: MarketData | None = None,
        mode: str = "paper",
        signals: Any = None,  # a SignalService: the forecasts of a model strategy's window
        stream_timeframe: str = "1m",
    ) -> None:
        self.bus, self.orders, self.store, self.venue = bus, orders, store, venue
        self.market, self.mode, self.signals = market, mode, signals
        self.stream_tf = stream_timeframe
        saved = store.get_setting(SETTING) or {}
        try:
            self.config = RunnerConfig.from_json(saved.get("config", {}))
        except (ValueError, ArithmeticError, TypeError):
            self.config = RunnerConfig()
        self.running = False
        self.armed = bool(saved.get("armed", False)) and mode == "live"
        self.position = Decimal(str(saved.get("position", "0")))
        self._resume = bool(saved.get("running", False))
        self.reason = str(saved.get("reason", ""))
        self.decisions: list[tuple[int, int]] = []  # (bar open time, direction) of each decision
        self._strategy: Strategy | None = None
        self._bars: deque[BarRow] = deque()
        self._agg: dict[int, BarAggregator] = {}
        self._forecasts: dict[int, float] = {}
        self._evaluated: int | None = None
        self._sync = False
        self._tasks = Tasks(lambda e: orders.activity.error(N_("Auto-trading failed: {error}"), error=str(e)))
        self._unsubs = [
            bus.subscribe(Bar, self.on_bar),
            bus.subscribe(Signal, self.on_signal),
            bus.subscribe(FillReceived, self._on_fill),
            bus.subscribe(RiskStateChanged, self._on_risk),
        ]

    # -- state --------------------------------------------------------------------------------
    @property
    def needs_arming(self) -> bool:
        return self.mode == "live" and not self.armed

    def _save(self) -> None:
        self.store.set_setting(
            SETTING,
            {
                "config": self.config.to_json(),
                "running": self.running,
                "armed": self.armed,
                "position": str(self.position),
                "reason": self.reason,
            },
        )
        self.bus.publish(StrategyStateChanged(self.running, self.armed, self.reason))

    def configure(self, config: RunnerConfig) -> None:
        """New parameters (checked; stored). Only while stopped."""
        if self.running:
            raise StrategyError(key="strategy.running", detail="stop auto-trading before changing it")
        config.make()
        self.config = config
        self._save()

    def arm_live(self) -> None:
        """The explicit step a live session needs before auto-trading may start."""
        self.armed = True
        self.orders.core.audit.record("strategy.arm", self.venue, strategy=self.config.strategy)
        self._save()

    def disarm(self) -> None:
        self.armed = False
        self._save()

    @property
    def model(self) -> str | None:
        s = self._strategy
        return s.model if s is not None else None

    @property
    def timeframe(self) -> str:
        s = self._strategy
        if s is not None and s.model is not None and self.signals is not None:
            m = self.signals.model(s.model)
            if m is not None:
                return str(m.contract.timeframe)
        return self.config.timeframe

    # -- start / stop --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start trading (refused in words: live without arming, trading halted, bad parameters,
        a model strategy without its model)."""
        if self.running:
            return
        if self.needs_arming:
            raise StrategyError(key="strategy.not_armed", detail="arm live auto-trading first")
        if self.orders.risk.state is TradingState.HALTED:
            raise StrategyError(key="strategy.halted", detail="trading is halted: re-arm it first")
        strategy = self.config.make()
        if strategy.model is not None and (self.signals is None or self.signals.model(strategy.model) is None):
            raise StrategyError(key="strategy.no_model", detail=f"the signal model {strategy.model} is not running")
        if (self.venue, self.config.symbol) not in self.orders.instruments:
            raise StrategyError(key="strategy.no_symbol", detail=f"{self.config.symbol} is not traded here")
        self._strategy = strategy
        self._bars.clear()
        self._agg.clear()
        self._forecasts.clear()
        self._evaluated = None
        await self._warm_up()
        self.running, self.reason, self._sync = True, "", True
        self.orders.core.audit.record("strategy.start", self.venue, strategy=repr(strategy), symbol=self.config.symbol)
        self.orders.activity.info(
            N_("Auto-trading started: {strategy} on {symbol}"), strategy=strategy.name, symbol=self.config.symbol
        )
        self._save()
        if self._bars:
            self._try(self._bars[-1][0])

    async def _warm_up(self) -> None:
        s = self._strategy
        assert s is not None
        need = max(s.lookback, self.config.vol_lookback if self.config.sizing == "vol" else 0) + 2
        if self.market is None:
            return
        tf = self.timeframe
        try:
            bars = await self.market.fetch_bars(self.config.symbol, tf, None, need + 1)
        except Exception:
            log.exception("auto-trading: no history for %s", self.config.symbol)
            return
        bars = [b for b in bars if b.closed]
        parts: list[Bar] = []
        tf_ms, step = TIMEFRAME_MS[tf], TIMEFRAME_MS[self.stream_tf]
        if bars and step < tf_ms and tf_ms % step == 0:
            # The newest bar may still be in progress: then it is made from its stream bars so far
            # and the live ones (as the signal service does), not taken as closed.
            parts = await self.market.fetch_bars(self.config.symbol, self.stream_tf, bars[-1].open_ms, tf_ms // step)
            if len(parts) < tf_ms // step:
                bars = bars[:-1]
            else:
                parts = []
        for b in bars:
            self._append(bar_row(b))
        self.running = True  # so that the parts are aggregated (start() sets the rest)
        for b in parts:
            self.on_bar(b)
        self.running = False

    async def stop(self, reason: str = "stopped by user") -> None:
        """No new orders; an entry still working is cancelled (exits protecting a position stay)."""
        was = self.running
        self.running, self.reason = False, reason
        self._save()
        if not was:
            return
        self.orders.core.audit.record("strategy.stop", self.venue, reason=reason)
        self.orders.activity.info(N_("Auto-trading stopped: {reason}"), reason=reason)
        for o in self.orders.open_orders(self.venue, self.config.symbol):
            if (o.tag == TAG and o.list_id is None) or self._is_entry(o.client_order_id):
                await self.orders.cancel(o.client_order_id, "auto-trading stopped")

    def _is_entry(self, client_order_id: str) -> bool:
        o = self.orders.get(client_order_id)
        ol = self.orders.order_list(o.list_id) if o is not None and o.list_id else None
        return ol is not None and ol.entry_id == client_order_id and o is not None and o.tag == TAG

    async def restore(self) -> None:
        """At the start of a session: running again if it was running when the app closed."""
        if not self._resume:
            return
        self._resume = False
        try:
            await self.start()
        except StrategyError as exc:
            self.running, self.reason = False, exc.message
            self._save()
            self.orders.activity.warning(N_("Auto-trading was not resumed: {why}"), why=exc.message)

    async def drain(self) -> None:
        """Wait until the orders of the decisions made so far were sent."""
        await self._tasks.drain()
        await self.orders.drain()

    async def close(self) -> None:
        for u in self._unsubs:
            u()
        self._unsubs.clear()
        await self._tasks.close(5.0)

    def _on_risk(self, e: RiskStateChanged) -> None:
        if e.state is TradingState.HALTED and self.running:
            self._tasks.spawn(self.stop("kill switch"))

    def _on_fill(self, e: FillReceived) -> None:
        o = e.order
        if o.tag != TAG or o.venue != self.venue or o.symbol != self.config.symbol:
            return
        q = e.fill.quantity
        self.position = max(ZERO, self.position + (q if e.fill.side is Side.BUY else -q))
        self._save()

    # -- bars and forecasts --------------------------------------------------------------------
    def _append(self, row: BarRow) -> None:
        if self._bars and row[0] <= self._bars[-1][0]:
            return
        self._bars.append(row)
        s = self._strategy
        keep = (max(s.lookback, self.config.vol_lookback) if s is not None else 0) + 5
        while len(self._bars) > keep:
            self._bars.popleft()

    def on_bar(self, bar: Bar) -> None:
        if not self.running or not bar.closed or bar.venue != self.venue or bar.symbol != self.config.symbol:
            return
        tf = TIMEFRAME_MS[self.timeframe]
        src = TIMEFRAME_MS.get(bar.timeframe)
        if src is None or src > tf or tf % src:
            return
        f = bar_row(bar)
        if src != tf:
            agg = self._agg.get(src)
            if agg is None:
                agg = self._agg[src] = BarAggregator(src, tf)
            made = agg.add(*f)
            if made is None:
                return
            f = made
        self._append(f)
        self._try(f[0])

    def on_signal(self, s: Signal) -> None:
        if self.running and s.model == self.model and s.venue == self.venue and s.symbol == self.config.symbol:
            self._forecasts[s.bar_open_ms] = forecast(s)
            self._try(s.bar_open_ms)

    def _forecast_array(self, open_ms: np.ndarray) -> np.ndarray:
        known = dict(self._forecasts)
        if self.signals is not None and self.model is not None:
            for s in self.signals.signals(self.model, self.venue, self.config.symbol):
                known.setdefault(s.bar_open_ms, forecast(s))
        return np.array([known.get(int(t), np.nan) for t in open_ms])

    def _try(self, open_ms: int) -> None:
        """Decide at bar ``open_ms`` once it is the newest bar and (model strategies) its forecast
        is known; once per bar."""
        s = self._strategy
        if not self.running or s is None or not self._bars or self._bars[-1][0] != open_ms:
            return
        if self._evaluated is not None and open_ms <= self._evaluated:
            return
        rows = np.array(self._bars, dtype=np.float64)
        candles = make_candles(self.config.symbol, self.timeframe, rows)
        forecasts = None
        if s.model is not None:
            forecasts = self._forecast_array(candles.open_ms)
            if np.isnan(forecasts[-1]):
                return  # the model's forecast of this bar is still to come
        self._evaluated = open_ms
        plan = s.compute(candles, forecasts)
        if not (plan.events[-1] or self._sync):
            return
        self._sync = False
        last = len(candles) - 1
        o, h, lo, c, v = (
            Decimal(repr(a[last].item()))
            for a in (candles.open, candles.high, candles.low, candles.close, candles.volume)
        )
        bar = Bar(self.venue, self.config.symbol, self.timeframe, open_ms, o, h, lo, c, v)
        ctx = _LiveContext(self, bar, {k: v[last].item() for k, v in plan.values.items()})
        s.on_bar(ctx)
        vol = np.nan
        if self.config.sizing == "vol":
            vol = realised_vol(candles.close, self.config.vol_lookback, YEAR_MS / candles.tf_ms)[-1].item()
        for direction, sl, tp in ctx.intents:
            self.decisions.append((open_ms, direction))
            self.bus.publish(StrategyStateChanged(self.running, self.armed, self.reason))
            self._tasks.spawn(self._target(direction, sl, tp, vol))

    # -- orders --------------------------------------------------------------------------------
    async def _target(self, direction: int, sl: Decimal | None, tp: Decimal | None, vol: float) -> None:
        if not self.running:
            return
        om, v, sym = self.orders, self.venue, self.config.symbol
        inst = om.instruments.get((v, sym))
        if inst is None:
            return
        if direction == 1 and self.position > 0:
            return  # already long: the position and its bracket stay
        await self._cancel_own()
        if self.position > 0:
            held = om.available(v, inst.base)
            qty = inst.round_qty(min(self.position, held))
            if qty > 0:
                await om.submit(
                    OrderRequest(v, sym, Side.SELL, OrderType.MARKET, qty, tag=TAG, origin=OrderOrigin.STRATEGY)
                )
            elif held <= 0:
                self.position = ZERO  # sold by its exits or by the user meanwhile
                self._save()
        if direction != 1:
            return
        last = om.last_price(v, sym)
        if last is None:
            om.activity.warning(N_("Auto-trading: no price for {symbol} yet; no order"), symbol=sym)
            return
        equity = om.portfolio.equity(v)
        qty = self.config.sizer().quantity(equity, last, inst, vol)
        if qty <= 0:
            om.activity.warning(N_("Auto-trading: the size for {symbol} rounds to nothing; no order"), symbol=sym)
            return
        p = self._strategy.params if self._strategy is not None else {}
        sl = sl or Decimal(repr(p.get("stop_loss", 0.03)))
        tp = tp or Decimal(repr(p.get("take_profit", 0.06)))
        await om.submit_bracket(
            BracketRequest(
                v,
                sym,
                Side.BUY,
                qty,
                OrderType.MARKET,
                None,
                take_profit=inst.round_price(last * (1 + tp)),
                stop_loss=inst.round_price(last * (1 - sl)),
                tag=TAG,
            )
        )

    async def _cancel_own(self) -> None:
        om = self.orders
        lists = {o.list_id for o in om.open_orders(self.venue, self.config.symbol) if o.tag == TAG and o.list_id}
        for list_id in lists:
            if list_id is not None:
                await om.cancel_list(list_id, "auto-trading changed side")
        for o in om.open_orders(self.venue, self.config.symbol):
            if o.tag == TAG and o.list_id is None:
                await om.cancel(o.client_order_id, "auto-trading changed side")
        await om.drain()


def default_config(**changes: Any) -> RunnerConfig:
    return replace(RunnerConfig(), **changes)
