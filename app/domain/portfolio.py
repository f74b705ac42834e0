"""Position accounting values: FIFO lots of coins held and positions in the quote currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO, require_decimal


@dataclass(frozen=True, slots=True)
class Lot:
    """An open piece of a spot position: ``quantity`` coins held (never negative) that cost
    ``cost`` in the quote currency, fees of the buying trade included. Costs are carried as
    totals, so closing a whole lot realizes exactly what it cost; ``estimated`` marks the basis
    of coins held before the app saw them bought (the first price seen, editable)."""

    venue: str
    symbol: str
    quantity: Decimal
    cost: Decimal
    ts_ms: int
    trade_id: str
    estimated: bool = False

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity)
        require_decimal("cost", self.cost)

    @property
    def price(self) -> Decimal:
        """Cost per unit, for display (the totals stay exact)."""
        return self.cost / self.quantity if self.quantity else ZERO


@dataclass(frozen=True, slots=True)
class CostBasis:
    """Coins found held without a recorded purchase (a deposit, a demo's starting coins): how
    many, on which market, and what they are taken to have cost (``estimated`` until the user
    says)."""

    venue: str
    asset: str
    symbol: str  # the market whose quote currency ``cost`` is in
    quantity: Decimal
    cost: Decimal
    ts_ms: int
    estimated: bool = True

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity, positive=True)
        require_decimal("cost", self.cost)


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
    estimated: bool = False  # part of the cost basis is an estimate (coins held before the first fill)

    @property
    def is_flat(self) -> bool:
        return self.quantity == ZERO
