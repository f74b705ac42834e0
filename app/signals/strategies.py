"""The strategies the app ships: an SMA crossover and a long/flat strategy on the ONNX signal model."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from app.signals.candles import Candles
from app.signals.evaluate import hold_for

from .strategy import Context, Plan, Strategy


def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average of the last ``n`` values (NaN before), each window summed on its own
    (no running sum whose rounding drifts over a long history)."""
    out = np.full(len(x), np.nan)
    if 0 < n <= len(x):
        out[n - 1 :] = np.lib.stride_tricks.sliding_window_view(x, n).mean(axis=1)
    return out


def crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(up, down): ``a`` was below ``b`` at the previous bar and is above it now (or the reverse);
    strict on both sides, as ``backtesting.lib.crossover``; NaN never crosses."""
    up = np.zeros(len(a), dtype=bool)
    down = np.zeros(len(a), dtype=bool)
    if len(a) > 1:
        with np.errstate(invalid="ignore"):
            up[1:] = (a[:-1] < b[:-1]) & (a[1:] > b[1:])
            down[1:] = (a[:-1] > b[:-1]) & (a[1:] < b[1:])
    return up, down


def _fraction(value: float) -> Decimal | None:
    return Decimal(repr(value)) if value > 0 else None


class SmaCross(Strategy):
    """Long when the fast SMA of the close crosses above the slow one, short (flat on a spot
    account) when it crosses below: the position is closed and reversed on each cross. Optional
    protective bracket: ``stop_loss`` / ``take_profit`` as fractions of the entry price (0 = none)."""

    name = "sma_cross"
    description = "SMA crossover: long above, short (spot: flat) below, reversed on each cross"
    defaults = {"fast": 10, "slow": 30, "stop_loss": 0.0, "take_profit": 0.0}

    def check(self) -> None:
        fast, slow = self.params["fast"], self.params["slow"]
        if not 1 <= fast < slow:
            raise ValueError(f"sma_cross needs 1 <= fast < slow, got fast={fast} slow={slow}")
        if self.params["stop_loss"] < 0 or self.params["take_profit"] < 0:
            raise ValueError("stop_loss and take_profit are fractions of the entry price, not negative")

    @property
    def lookback(self) -> int:
        return int(self.params["slow"])

    def compute(self, bars: Candles, forecasts: np.ndarray | None = None) -> Plan:
        fast = sma(bars.close, int(self.params["fast"]))
        slow = sma(bars.close, int(self.params["slow"]))
        up, down = crossings(fast, slow)
        return Plan(up | down, {"fast": fast, "slow": slow})

    def on_bar(self, ctx: Context) -> None:
        direction = 1 if ctx.value("fast") > ctx.value("slow") else -1
        ctx.target(
            direction,
            stop_loss=_fraction(self.params["stop_loss"]),
            take_profit=_fraction(self.params["take_profit"]),
            tag=self.name,
        )


class OnnxSignal(Strategy):
    """Long/flat on the shipped signal model (the card's trading rule): a forecast above
    ``threshold`` at a bar's close opens (or extends) a long held for ``hold`` bars; flat after
    ``hold`` bars without one. Forecasts are compared as the app publishes them (four decimals).
    Optional protective bracket as for ``sma_cross``."""

    name = "onnx_signal"
    description = "long while the ONNX model's forecast was above the threshold within the last `hold` bars"
    defaults = {"threshold": 0.5, "hold": 24, "stop_loss": 0.0, "take_profit": 0.0}
    model = "gbm_1h_h24"

    def check(self) -> None:
        if not 0.0 < self.params["threshold"] < 1.0:
            raise ValueError("threshold is a probability in (0, 1)")
        if self.params["hold"] < 1:
            raise ValueError("hold is at least one bar")

    @property
    def lookback(self) -> int:
        from app.signals.features import WINDOW

        return WINDOW + int(self.params["hold"])

    def compute(self, bars: Candles, forecasts: np.ndarray | None = None) -> Plan:
        if forecasts is None:
            raise ValueError(f"{self.name} needs the forecasts of {self.model}")
        # As published: rounded to four decimals (``SignalPipeline.make_signal``), then compared.
        p = np.round(np.clip(forecasts, 0.0, 1.0) * 10_000) / 10_000
        with np.errstate(invalid="ignore"):
            above = p > self.params["threshold"]
        long = hold_for(above, int(self.params["hold"]))
        events = np.zeros(len(long), dtype=bool)
        if len(long):
            events[0] = long[0]
            events[1:] = long[1:] != long[:-1]
        return Plan(events, {"forecast": p, "long": long.astype(np.float64)})

    def on_bar(self, ctx: Context) -> None:
        ctx.target(
            1 if ctx.value("long") > 0.5 else 0,
            stop_loss=_fraction(self.params["stop_loss"]),
            take_profit=_fraction(self.params["take_profit"]),
            tag=self.name,
        )


STRATEGIES: dict[str, type[Strategy]] = {s.name: s for s in (SmaCross, OnnxSignal)}


def make_strategy(name: str, params: dict[str, float | int] | None = None) -> Strategy:
    cls = STRATEGIES.get(name)
    if cls is None:
        raise ValueError(f"unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
    return cls(**(params or {}))
