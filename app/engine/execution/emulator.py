"""The order emulator: stop, take-profit and trailing orders a venue cannot hold (and an OCO's
stop leg where the venue has no OCO) are watched here, on the trades of their own instrument at
their own venue's data, and released to the venue when they trigger.

A trailing stop's reference is stored every time it moves the trigger (a restart resumes from
the same trigger); with an activation price it starts trailing only once the market reaches it.
While trading is halted nothing is released.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from app.domain.enums import Emulation, OrderType, Side
from app.domain.instrument import InstrumentId
from app.domain.market import Trade
from app.domain.order import Order

from .core import Core


class OrderEmulator:
    def __init__(self, core: Core, release: Callable[[Order], None]) -> None:
        self.core = core
        self.release = release
        self.halted = False
        self._armed: dict[InstrumentId, dict[str, Order]] = {}
        self._firing: set[str] = set()

    def _key(self, o: Order) -> InstrumentId:
        return self.core.cache.market.data_id(InstrumentId(o.venue, o.symbol))

    def arm(self, o: Order) -> None:
        """Watch ``o`` (it is ``EMULATED``); a trailing stop starts from the last price."""
        if o.type is OrderType.TRAILING_STOP and o.trail_ref is None:
            last = self.core.cache.market.last_price(InstrumentId(o.venue, o.symbol))
            if last is not None and o.update_trail(last):
                self.core.store.save_order(o)
        self._armed.setdefault(self._key(o), {})[o.client_order_id] = o

    def disarm(self, o: Order) -> None:
        armed = self._armed.get(self._key(o))
        if armed is not None:
            armed.pop(o.client_order_id, None)

    def done_firing(self, o: Order) -> None:
        self._firing.discard(o.client_order_id)
        if o.status.is_final or o.emulation is not Emulation.EMULATED:
            self.disarm(o)

    def is_firing(self, o: Order) -> bool:
        return o.client_order_id in self._firing

    def armed(self) -> list[Order]:
        return [o for orders in self._armed.values() for o in orders.values()]

    def on_trade(self, trade: Trade) -> None:
        armed = self._armed.get(InstrumentId(trade.venue, trade.symbol))
        if not armed:
            return
        price = trade.price
        for o in list(armed.values()):
            if o.client_order_id in self._firing or o.triggered or not o.is_open:
                continue
            if self._hit(o, price) and not self.halted:
                self._firing.add(o.client_order_id)
                self.release(o)

    def _hit(self, o: Order, last: Decimal) -> bool:
        if o.type is OrderType.TRAILING_STOP:
            if o.update_trail(last):
                self.core.store.save_order(o)  # every move of the trigger survives a restart
            return o.trailing_hit(last)
        if o.stop_price is None:
            return False
        above = (o.side is Side.BUY) == o.type.is_stop
        return last >= o.stop_price if above else last <= o.stop_price
