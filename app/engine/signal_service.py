"""Runs the signal models on every closed bar of the bus and publishes their ``Signal``s.

Per model and instrument a ``SignalPipeline`` keeps the feature window (updated in O(window) on
each closed bar; smaller bars are combined into the model's timeframe). Inference runs on the loop
when the model is fast (its measured median is under ``inline_budget_s``, a few tens of µs for
the shipped one) and otherwise on one worker thread, so a big model never blocks the loop; the
signal is published on the loop either way, in bar order. Without a running loop (a synchronous
backtest) it always runs inline. Each forecast is scored once its horizon has passed: the live hit
rate since start (forecasts made on the history it was primed with are scored apart).

``open`` is what the app calls: it loads the shipped models and the user's (a folder of ``.onnx``
+ card; one whose contract does not match is listed in ``failed`` with the reason, never loaded),
primes them with each symbol's history and keeps the forecasts of that history (``history``: the
chart's markers) without publishing them. ``add_model`` takes a user's model at run time.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.domain.market import TIMEFRAME_MS, Bar
from app.domain.signal import Signal
from app.signals.features import WINDOW
from app.signals.model import ModelContractError, OnnxSignalModel
from app.signals.pipeline import HitCounter, SignalPipeline
from app.signals.registry import ModelEntry, find_models, read_card
from app.venues.base import MarketData

from .bus import EventBus
from .tasks import Tasks

log = logging.getLogger(__name__)
INLINE_BUDGET_S = 0.002
HISTORY_BARS = 240  # model bars of history whose forecasts are kept (the chart's markers, a hit rate)
KEEP = 2000  # signals kept per model and instrument


@dataclass(frozen=True, slots=True)
class SignalModelsChanged:
    """A model was added or removed, or the models finished loading and priming."""

    models: tuple[str, ...]


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
        self.history: dict[tuple[str, str, str], deque[Signal]] = {}  # primed and live, oldest first
        self.primed_hits: dict[tuple[str, str, str], HitCounter] = {}  # scored while priming
        self.failed: dict[str, ModelContractError] = {}  # models found but refused, with the reason
        self.user_dir: Path | None = None
        self.errors = 0
        self._started = False
        self._market: MarketData | None = None
        self._stream_tf = "1m"
        self._symbols_primed: list[str] = []
        self._files: dict[str, str] = {}  # a user's model → its file's name in ``user_dir``
        self.published: dict[str, int] = {}  # live forecasts made since start, per model

    def start(self) -> None:
        """Measure each model once (inline or on the worker), then listen to closed bars."""
        for m in self.models:
            self._inline[m.name] = m.latency_s(runs=20) <= self.inline_budget_s
        if not self._started:
            self._started = True
            self._unsubscribe.append(self.bus.subscribe(Bar, self.on_bar))

    async def open(
        self,
        market: MarketData,
        symbols: Sequence[str],
        *,
        stream_timeframe: str = "1m",
        user_dir: Path | None = None,
        names: Collection[str] | None = None,
    ) -> None:
        """Load the shipped models and the user's (off the loop), start, and prime them with each
        symbol's history; ``names`` limits which shipped models run (None: all)."""
        self.user_dir = user_dir
        self._market, self._stream_tf = market, stream_timeframe
        entries = find_models([user_dir] if user_dir is not None else [], self.failed)
        wanted = [e for k, e in entries.items() if e.shipped is False or names is None or k in names]
        loaded = await asyncio.to_thread(self._load_all, wanted)
        known = {m.name for m in self.models}
        self.models += [m for m in loaded if m.name not in known]
        self.start()
        self._symbols_primed = list(symbols)
        await self.prime_from(market, symbols, stream_timeframe)
        self._changed()

    def _load_all(self, entries: Sequence[ModelEntry]) -> list[OnnxSignalModel]:
        out = []
        for e in entries:
            try:
                m = e.load()
                if not e.shipped:
                    self._files[m.name] = e.name
                m.latency_s(runs=5)  # warm up here, off the loop
                out.append(m)
            except ModelContractError as exc:
                log.warning("signal model %s refused: %s", e.name, exc.message)
                self.failed[e.name] = exc
        return out

    async def add_model(self, path: Path) -> OnnxSignalModel:
        """A user's model file (with its card ``NAME.json`` beside it, if any): checked, copied
        into the user's model folder (so it is there at the next start), primed and run. Raises
        ``ModelContractError`` (nothing changes) when the app cannot use it."""
        card = read_card(path.parent, path.stem)
        model = await asyncio.to_thread(OnnxSignalModel.load, path, card=card, name=path.stem)
        if any(m.name == model.name for m in self.models):
            raise ModelContractError(
                key="signals.model.duplicate", model=model.name, detail="a model of that name is already running"
            )
        if self.user_dir is not None:
            self.user_dir.mkdir(parents=True, exist_ok=True)
            dest = self.user_dir / path.name
            if path.resolve() != dest.resolve():
                shutil.copyfile(path, dest)
                card_path = path.with_suffix(".json")
                if card_path.is_file():
                    shutil.copyfile(card_path, dest.with_suffix(".json"))
        self._files[model.name] = path.stem
        self._inline[model.name] = await asyncio.to_thread(model.latency_s, 20) <= self.inline_budget_s
        self.models.append(model)
        self.failed.pop(model.name, None)
        if self._market is not None:
            await self._prime_model(model, self._market, self._symbols_primed, self._stream_tf)
        self._changed()
        return model

    def remove_model(self, name: str) -> None:
        """Stop running a model (a user's model file is deleted from the user's folder)."""
        self.models = [m for m in self.models if m.name != name]
        for key in [k for k in self._pipelines if k[0] == name]:
            del self._pipelines[key]
            self.latest.pop(key, None)
            self.history.pop(key, None)
            self.primed_hits.pop(key, None)
        stem = self._files.pop(name, None)
        if self.user_dir is not None and stem is not None:
            for suffix in (".onnx", ".json"):
                (self.user_dir / f"{stem}{suffix}").unlink(missing_ok=True)
        self._changed()

    def _changed(self) -> None:
        self.bus.publish(SignalModelsChanged(tuple(m.name for m in self.models)))

    def model(self, name: str) -> OnnxSignalModel | None:
        return next((m for m in self.models if m.name == name), None)

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

    async def prime_from(
        self, market: MarketData, symbols: Iterable[str], stream_timeframe: str = "1m", keep: int = HISTORY_BARS
    ) -> None:
        """Fetch the closed bars that fill each model's window (and ``keep`` bars more, whose
        forecasts are kept in ``history``, unpublished) and prime with them. The newest model bar
        may still be in progress: then its ``stream_timeframe`` bars so far are fed instead, and
        the live stream completes it (so the first live close already has a signal)."""
        syms = list(symbols)
        for m in list(self.models):
            await self._prime_model(m, market, syms, stream_timeframe, keep)

    async def _prime_model(
        self, m: OnnxSignalModel, market: MarketData, symbols: Sequence[str], stream_tf: str, keep: int = HISTORY_BARS
    ) -> None:
        step = TIMEFRAME_MS[stream_tf]
        tf = m.contract.tf_ms
        for symbol in symbols:
            pipe = self.pipeline(m, market.name, symbol)
            bars = [b for b in await market.fetch_bars(symbol, m.contract.timeframe, None, WINDOW + keep) if b.closed]
            if not bars:
                continue
            if step < tf and tf % step == 0:
                parts = await market.fetch_bars(symbol, stream_tf, bars[-1].open_ms, tf // step)
                if len(parts) < tf // step:
                    self._prime_pipe(m, pipe, bars[:-1])
                    self._prime_pipe(m, pipe, [b for b in parts if b.closed])
                    continue
            self._prime_pipe(m, pipe, bars)

    def _prime_pipe(self, m: OnnxSignalModel, pipe: SignalPipeline, bars: Iterable[Bar]) -> None:
        """Feed history: each full window's forecast is made and kept (not published); the
        forecasts whose horizon ends within the history are scored apart from the live ones."""
        key = (m.name, pipe.venue, pipe.symbol)
        for bar in bars:
            ready = pipe.on_bar(bar)
            if ready is not None:
                signal = pipe.make_signal(ready[0], m.predict_one(ready[1]))
                self._keep(signal)
        self.primed_hits[key] = HitCounter(pipe.hits.scored, pipe.hits.hits)

    def _keep(self, signal: Signal) -> None:
        key = (signal.model, signal.venue, signal.symbol)
        self.latest[key] = signal
        h = self.history.get(key)
        if h is None:
            h = self.history[key] = deque(maxlen=KEEP)
        h.append(signal)

    def signals(self, model: str, venue: str, symbol: str) -> list[Signal]:
        """The forecasts kept for one model and instrument, oldest first (history, then live)."""
        return list(self.history.get((model, venue, symbol), ()))

    def hit_rate(self, model: str) -> HitCounter:
        """The model's forecasts scored since start, over every instrument (those scored while
        priming with history not counted)."""
        total = HitCounter()
        for key, p in self._pipelines.items():
            if key[0] == model:
                primed = self.primed_hits.get(key, HitCounter())
                total.scored += p.hits.scored - primed.scored
                total.hits += p.hits.hits - primed.hits
        return total

    def waiting(self, model: str) -> int:
        """Live forecasts of ``model`` not scored yet (their horizon has not passed)."""
        return max(0, self.published.get(model, 0) - self.hit_rate(model).scored)

    def history_hit_rate(self, model: str) -> HitCounter:
        """The model's forecasts on the history it was primed with, scored there."""
        total = HitCounter()
        for key, h in self.primed_hits.items():
            if key[0] == model:
                total.scored += h.scored
                total.hits += h.hits
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
        self._keep(signal)
        self.published[signal.model] = self.published.get(signal.model, 0) + 1
        self.bus.publish(signal)
