"""Releasing watched orders: a triggered stop, take-profit or trailing stop goes to its venue
(after an OCO stop leg has dealt with its limit leg), and a release a crash interrupted is sent
again — each after the same pre-trade checks as any order. Refused, it is cancelled with the
reason, loudly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from app.domain.enums import Emulation, OrderEvent, OrderOrigin
from app.domain.order import Order, OrderRequest
from app.i18n import N_

from ..activity import order_words
from ..risk import Denial
from .core import Core
from .engine import ExecutionEngine
from .lists import ListManager

Check = Callable[[OrderRequest, str], Denial | None]  # request, the order's own id (its funds are its own)


class Releaser:
    def __init__(self, core: Core, execution: ExecutionEngine, lists: ListManager, check: Check) -> None:
        self.core = core
        self.execution = execution
        self.lists = lists
        self.check = check

    def fire(self, o: Order) -> None:
        """The emulator saw ``o`` trigger."""
        self.core.tasks.spawn(self.lists.fire(o, self.release))

    async def release(self, o: Order, origin: OrderOrigin = OrderOrigin.RELEASE) -> None:
        req = replace(self.execution.wire(replace(o, emulation=Emulation.RELEASED)).to_request(), origin=origin)
        d = self.check(req, o.client_order_id)
        if d is not None or not o.is_open:
            if o.is_open and d is not None:
                self.execution.event(o, OrderEvent.CANCELLED, d.message)
                self.core.activity.error(
                    N_("{order} triggered but was refused: {reason}"), order=order_words(o), reason=d.message
                )
            return
        c = self.core
        o.emulation = Emulation.RELEASED
        with c.store.transaction():
            c.store.save_order(o)
            c.audit.record("order.release", o.venue, order=o.client_order_id, origin=origin)
        self.execution.track(o, publish=False)
        await self.execution.send(o)

    async def resend(self, o: Order) -> None:
        """What reconciliation found triggered but never sent."""
        if o.emulation is Emulation.EMULATED:
            await self.lists.fire(o, lambda x: self.release(x, OrderOrigin.RESEND))
        else:
            await self.release(o, OrderOrigin.RESEND)
