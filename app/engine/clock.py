"""Time as the engine sees it: wall clock in the app, a controllable clock in tests and backtests."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock(Clock):
    """A clock that moves only when told to (tests, backtests)."""

    def __init__(self, start_ms: int = 1_722_000_000_000) -> None:
        self.ms = start_ms

    def now_ms(self) -> int:
        return self.ms

    def monotonic(self) -> float:
        return self.ms / 1000

    def advance(self, ms: int) -> None:
        self.ms += ms


def day_start_ms(ts_ms: int) -> int:
    """Start of the UTC trading day containing ``ts_ms``."""
    d = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(d.timestamp() * 1000)
