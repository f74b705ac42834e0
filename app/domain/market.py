"""Market data values: bars, trades, order book snapshots, tickers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .enums import Side
from .money import require_decimal

TIMEFRAME_MS = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}


@dataclass(frozen=True, slots=True)
class Trade:
    venue: str
    symbol: str
    trade_id: str
    price: Decimal
    quantity: Decimal
    taker_side: Side
    ts_ms: int

    def __post_init__(self) -> None:
        require_decimal("price", self.price, positive=True)
        require_decimal("quantity", self.quantity, positive=True)


@dataclass(frozen=True, slots=True)
class Bar:
    venue: str
    symbol: str
    timeframe: str
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool = True

    def __post_init__(self) -> None:
        for name in ("open", "high", "low", "close", "volume"):
            require_decimal(name, getattr(self, name))
        if not (self.low <= min(self.open, self.close) and self.high >= max(self.open, self.close)):
            raise ValueError(f"inconsistent bar at {self.open_ms}: {self.open} {self.high} {self.low} {self.close}")


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    venue: str
    symbol: str
    bids: tuple[BookLevel, ...]  # best first
    asks: tuple[BookLevel, ...]  # best first
    ts_ms: int

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if self.bids and self.asks:
            return (self.bids[0].price + self.asks[0].price) / 2
        return None


@dataclass(frozen=True, slots=True)
class Ticker:
    venue: str
    symbol: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    ts_ms: int
