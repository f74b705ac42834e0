"""An order as the paper exchange holds it: mutable, identity-compared, filed by the matching core."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from app.domain.money import ZERO


@dataclass(slots=True, eq=False)  # identity, not field-by-field: orders are looked up in lists
class PaperOrder:
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    tif: TimeInForce
    post_only: bool
    created_ms: int
    filled: Decimal = ZERO
    status: OrderStatus = OrderStatus.NEW
    triggered: bool = False
    queue_ahead: Decimal = ZERO
    reserve_asset: str = ""
    reserved: Decimal = ZERO
    indexed: str = ""  # where the matching core files it: "", "trigger" or "resting" (not persisted)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def acts_as_limit(self) -> bool:
        return self.type is OrderType.LIMIT or (self.triggered and self.type.has_limit_price)
