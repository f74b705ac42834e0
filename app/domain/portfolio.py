"""Position accounting values: FIFO lots and positions in the quote currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO, require_decimal


@dataclass(frozen=True, slots=True)
class Lot:
    """An open piece of a position: ``quantity`` is signed (+ long, - short), ``price`` is its
    cost per unit in the quote currency, fees of the opening trade included."""

    venue: str
    symbol: str
    quantity: Decimal
    price: Decimal
    ts_ms: int
    trade_id: str

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity)
        require_decimal("price", self.price)


@dataclass(frozen=True, slots=True)
class Position:
    venue: str
    symbol: str
    quantity: Decimal
    avg_cost: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    mark: Decimal | None
    fees: Decimal

    @property
    def is_flat(self) -> bool:
        return self.quantity == ZERO
