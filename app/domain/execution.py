"""What a venue tells us about our orders: acknowledgements, fills, cancels, and order state
for reconciliation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .enums import OrderEvent, OrderStatus
from .money import ZERO
from .order import Fill


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """One change of one order at the venue. ``fill`` is set for PARTIAL_FILL/FILL events."""

    venue: str
    client_order_id: str
    event: OrderEvent
    ts_ms: int
    venue_order_id: str | None = None
    fill: Fill | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class VenueOrderState:
    """An order as the venue sees it now (for reconciliation after a restart)."""

    client_order_id: str
    venue_order_id: str
    symbol: str
    status: OrderStatus
    filled_qty: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked
