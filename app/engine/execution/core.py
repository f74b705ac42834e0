"""The services every role of the order path shares (one instance per order manager)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.enums import Side
from app.domain.order import Order
from app.domain.order_list import OrderList
from app.security.audit import AuditLog
from app.storage import Store
from app.venues.base import Venue

from ..activity import Activity
from ..bus import EventBus
from ..cache import Cache
from ..clock import Clock
from ..portfolio import Portfolio
from ..risk import RiskEngine
from ..tasks import Tasks
from .reservations import Reservations


@dataclass(eq=False)
class Core:
    bus: EventBus
    store: Store
    clock: Clock
    cache: Cache
    portfolio: Portfolio
    risk: RiskEngine
    audit: AuditLog
    activity: Activity
    tasks: Tasks
    reservations: Reservations
    venues: dict[str, Venue] = field(default_factory=dict)

    def order(self, client_order_id: str | None) -> Order | None:
        """An order from memory, else from the store."""
        if client_order_id is None:
            return None
        return self.cache.order(client_order_id) or self.store.get_order(client_order_id)

    def order_list(self, list_id: str | None) -> OrderList | None:
        if list_id is None:
            return None
        return self.cache.lists.get(list_id) or self.store.get_order_list(list_id)

    def buy_pair_price(self, o: Order) -> Decimal | None:
        """A buy pair's limit leg holds the funds of both legs: at its partner's price when that is
        higher (the stop buys above the limit). None for anything else."""
        if o.side is not Side.BUY or not o.list_id:
            return None
        ol = self.order_list(o.list_id)
        if ol is None:
            return None
        for limit, stop in ol.pairs():
            if limit == o.client_order_id:
                partner = self.order(stop)
                if partner is None or not partner.is_open:
                    return None
                return partner.price if partner.price is not None else partner.stop_price
        return None

    def is_stop_leg(self, o: Order) -> bool:
        """The second leg of an OCO pair: its funds are the limit leg's (one of them fills)."""
        ol = self.order_list(o.list_id)
        return ol is not None and any(stop == o.client_order_id for _limit, stop in ol.pairs())
