"""A model's forecast for one instrument, made when a bar closed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .market import TIMEFRAME_MS
from .money import ONE, ZERO, require_decimal


class SignalDirection(StrEnum):
    UP = "up"  # the model expects a long held for the horizon to gain after fees
    DOWN = "down"  # it does not


@dataclass(frozen=True, slots=True)
class Signal:
    """``probability`` is the model's P(a long opened at this bar's close and held ``horizon_bars``
    gains after fees), in [0, 1] with four decimals; ``direction`` is UP above the model's
    threshold. The bar is identified by its open time; the signal exists from the bar's close."""

    model: str
    model_version: str
    venue: str
    symbol: str
    timeframe: str
    bar_open_ms: int
    probability: Decimal
    threshold: Decimal
    direction: SignalDirection
    horizon_bars: int

    def __post_init__(self) -> None:
        require_decimal("probability", self.probability)
        require_decimal("threshold", self.threshold)
        if not ZERO <= self.probability <= ONE:
            raise ValueError(f"probability must be within [0, 1], got {self.probability}")
        if not ZERO < self.threshold < ONE:
            raise ValueError(f"threshold must be within (0, 1), got {self.threshold}")
        if self.timeframe not in TIMEFRAME_MS:
            raise ValueError(f"unknown timeframe {self.timeframe!r}")
        if self.horizon_bars <= 0:
            raise ValueError(f"horizon_bars must be positive, got {self.horizon_bars}")
        want = SignalDirection.UP if self.probability > self.threshold else SignalDirection.DOWN
        if self.direction is not want:
            raise ValueError(f"direction {self.direction} contradicts probability {self.probability}")

    @property
    def confidence(self) -> Decimal:
        """How far from a coin flip: |2p - 1|, 0 (no idea) to 1 (certain)."""
        return abs(2 * self.probability - 1)

    @property
    def ts_ms(self) -> int:
        """When the signal was known: the close of its bar."""
        return self.bar_open_ms + TIMEFRAME_MS[self.timeframe]

    @property
    def horizon_end_ms(self) -> int:
        """The close of the last bar of the horizon, when the forecast can be scored."""
        return self.ts_ms + self.horizon_bars * TIMEFRAME_MS[self.timeframe]
