"""Runs the signal models on every closed bar of the bus and publishes their ``Signal``s.

Per model and instrument a ``SignalPipeline`` keeps the feature window (updated in O(window) on
each closed bar; smaller bars are combined into the model's timeframe). Inference runs on the loop
when the model is fast (its measured median is under ``inline_budget_s``, a few tens of µs for
the shipped one) and otherwise on one worker thread, so a big model never blocks the loop; the
signal is published on the loop either way, in bar order. Without a running loop (a synchronous
backtest) it always runs inline. Each forecast is scored once its horizon has passed: the live hit
rate since start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np

from app.domain.market import TIMEFRAME_MS, Bar
from app.domain.signal import Signal
from app.signals.features import WINDOW
from app.signals.model import OnnxSignalModel
from app.signals.pipeline import HitCounter, SignalPipeline
from app.venues.base import MarketData

from .bus import EventBus
from .tasks import Tasks

log = logging.getLogger(__name__)
INLINE_BUDGET_S = 0.002


class SignalService:
    def __init__(
        self,
        bus: EventBus,
        models: Sequence[OnnxSignalModel],
        *,
        symbols: Collection[str] | None = None,
        inline_budget_s: float = INLINE_BUDGET_S,
        executor: Executor | None = None,
    ) -> None:
        self.bus = bus
        self.models = list(models)
        self.symbols = set(symbols) if symbols is not None else None
        self.inline_budget_s = inline_budget_s
        self._executor = executor
        self._own_executor = False
        self._inline: dict[str, bool] = {}
        self._pipelines: dict[tuple[str, str, str], SignalPipeline] = {}
        self._tasks = Tasks()
        self._unsubscribe: list[Callable[[], None]] = []
        self.latest: dict[tuple[str, str, str], Signal] = {}  # (model, venue, symbol) → last signal
        self.errors = 0

    def start(self) -> None:
        """Measure each model once (inline or on the worker), then listen to closed bars."""
        for m in self.models:
            self._inline[m.name] = m.latency_s(runs=20) <= self.inline_budget_s
        self._unsubscribe.append(self.bus.subscribe(Bar, self.on_bar))

    async def stop(self, timeout: float = 5.0) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self._tasks.close(timeout)
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def pipeline(self, model: OnnxSignalModel, venue: str, symbol: str) -> SignalPipeline:
        key = (model.name, venue, symbol)
        p = self._pipelines.get(key)
        if p is None:
            p = self._pipelines[key] = SignalPipeline(model.contract, venue, symbol)
        return p

    def prime(self, bars: Iterable[Bar]) -> None:
        """Warm the feature windows with history (oldest first); no signal is published."""
        for bar in bars:
            if self.symbols is None or bar.symbol in self.symbols:
                for m in self.models:
                    self.pipeline(m, bar.venue, bar.symbol).prime([bar])

    async def prime_from(self, market: MarketData, symbols: Iterable[str], stream_timeframe: str = "1m") -> None:
        """Fetch the closed bars that fill each model's window and prime with them. The newest
        model bar may still be in progress: then its ``stream_timeframe`` bars so far are fed
        instead, and the live stream completes it (so the first live close already has a signal)."""
        step = TIMEFRAME_MS[stream_timeframe]
        for m in self.models:
            tf = m.contract.tf_ms
            for symbol in symbols:
                pipe = self.pipeline(m, market.name, symbol)
                bars = [b for b in await market.fetch_bars(symbol, m.contract.timeframe, None, WINDOW + 1) if b.closed]
                if not bars:
                    continue
                if step < tf and tf % step == 0:
                    parts = await market.fetch_bars(symbol, stream_timeframe, bars[-1].open_ms, tf // step)
                    if len(parts) < tf // step:
                        pipe.prime(bars[:-1])
                        pipe.prime(b for b in parts if b.closed)
                        continue
                pipe.prime(bars)

    def hit_rate(self, model: str) -> HitCounter:
        """The model's forecasts scored since start, over every instrument."""
        total = HitCounter()
        for (name, _v, _s), p in self._pipelines.items():
            if name == model:
                total.scored += p.hits.scored
                total.hits += p.hits.hits
        return total

    def on_bar(self, bar: Bar) -> None:
        if not bar.closed or (self.symbols is not None and bar.symbol not in self.symbols):
            return
        for m in self.models:
            pipe = self.pipeline(m, bar.venue, bar.symbol)
            ready = pipe.on_bar(bar)
            if ready is None:
                continue
            open_ms, row = ready
            if self._inline.get(m.name, True) or not self._loop_running():
                self._publish(pipe, open_ms, m.predict_one(row))
            else:
                self._tasks.spawn(self._infer_off_loop(m, pipe, open_ms, row))

    @staticmethod
    def _loop_running() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    async def _infer_off_loop(self, m: OnnxSignalModel, pipe: SignalPipeline, open_ms: int, row: np.ndarray) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signals")
            self._own_executor = True
        try:
            # predict_proba, not predict_one: its own input array, so any number of workers is safe.
            probs = await asyncio.get_running_loop().run_in_executor(self._executor, m.predict_proba, row[None, :])
        except Exception:
            self.errors += 1
            log.exception("model %s failed on %s %s", m.name, pipe.symbol, open_ms)
            return
        self._publish(pipe, open_ms, probs[0])

    def _publish(self, pipe: SignalPipeline, open_ms: int, probability: float | np.floating) -> None:
        signal = pipe.make_signal(open_ms, probability)
        self.latest[(signal.model, signal.venue, signal.symbol)] = signal
        self.bus.publish(signal)
