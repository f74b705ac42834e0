"""Reconciliation: after a restart (and after a reconnect), bring every order and order list we
believe open in line with the venue before new orders pass, and say what changed.

Fills we missed are recorded first (by trade id: never twice). Then each open order is checked on
its own — one that cannot be checked is reported and the rest go on. Watched orders are armed
again, unless trading is halted: then nothing is armed or re-sent, and the kill switch finishes
its cancel-all. List rules a crash interrupted are applied (a bracket's missing exits placed
again), and only then are triggered orders that never reached the venue sent, unless those rules
cancelled them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from app.domain.enums import Emulation, OrderEvent, OrderStatus
from app.domain.errors import VenueError
from app.domain.order import Order
from app.i18n import N_
from app.venues.base import Venue

from ..activity import fill_words, order_words
from ..events import Msg, ReconciliationDone
from .core import Core
from .emulator import OrderEmulator
from .engine import ExecutionEngine
from .lists import ListManager

log = logging.getLogger(__name__)
RESEND_GRACE_MS = 60_000  # fills are fetched from a minute before the last one stored


class Reconciler:
    def __init__(
        self,
        core: Core,
        execution: ExecutionEngine,
        lists: ListManager,
        emulator: OrderEmulator,
        resend: Callable[[Order], Awaitable[None]],
    ) -> None:
        self.core = core
        self.execution = execution
        self.lists = lists
        self.emulator = emulator
        self.resend = resend

    async def reconcile(self, venue: Venue, *, halted: bool) -> ReconciliationDone:
        c, name = self.core, venue.name
        changes: list[Msg] = []
        for o in c.store.load_open_orders(name):
            if c.cache.order(o.client_order_id) is None:
                c.cache.track(o)
        for ol in c.store.load_active_order_lists(name):
            c.cache.lists.setdefault(ol.list_id, ol)
        self.rebuild_reservations(name)
        changes += await self._missed_fills(venue)
        resend: list[Order] = []
        for o in c.cache.open_orders(name):
            try:
                changes += await self._check(venue, o, halted, resend)
            except Exception as exc:  # one order never stops the others
                log.exception("reconciling %s", o.client_order_id)
                changes.append(
                    Msg(
                        N_("Could not check order {order}: {why}"),
                        {"order": o.client_order_id, "why": str(exc) or type(exc).__name__},
                    )
                )
        before = len(c.tasks)
        for ol in c.cache.live_lists(name):
            try:
                self.lists.evaluate(ol)
            except Exception as exc:
                log.exception("list rules of %s", ol.list_id)
                changes.append(Msg(N_("Could not check order {order}: {why}"), {"order": ol.list_id, "why": str(exc)}))
            if len(c.tasks) > before:
                changes.append(
                    Msg(
                        N_("Completed the {kind} {list} after restart"),
                        {"kind": ol.kind.value.upper(), "list": ol.list_id},
                    )
                )
                before = len(c.tasks)
        await c.tasks.drain()
        for o in resend:
            if not o.is_open:
                continue
            if halted:
                self.execution.event(o, OrderEvent.CANCELLED, "trading is halted")
                continue
            changes.append(Msg(N_("Re-sent triggered {order}"), {"order": order_words(o)}))
            await self.resend(o)
        await c.tasks.drain()
        self.rebuild_reservations(name)
        done = ReconciliationDone(name, tuple(str(m) for m in changes), tuple(changes))
        for m in changes:
            c.activity.warning(m.template, **m.params)
        if not changes:
            c.activity.info(N_("{venue}: orders match the exchange"), venue=name)
        c.bus.publish(done)
        return done

    def rebuild_reservations(self, venue: str) -> None:
        c = self.core
        c.reservations.rebuild((o, c.is_stop_leg(o)) for o in c.cache.iter_open())

    async def _missed_fills(self, venue: Venue) -> list[Msg]:
        c, changes = self.core, []
        since = c.store.last_fill_ms(venue.name)
        try:
            fills = await venue.fetch_my_trades(None, since - RESEND_GRACE_MS if since else None)
        except VenueError as exc:
            return [Msg(N_("Could not fetch recent fills: {why}"), {"why": exc.message})]
        for fill in fills:
            o = c.order(fill.client_order_id)
            if o is None or fill.trade_id in o.trade_ids:
                continue
            try:
                if self.execution.apply_fill(o, fill, follow_up=False):
                    changes.append(
                        Msg(
                            N_("Missed fill recorded: {fill} (order {order})"),
                            {"fill": fill_words(fill), "order": o.client_order_id},
                        )
                    )
            except Exception as exc:
                log.exception("missed fill %s", fill.trade_id)
                changes.append(
                    Msg(N_("Could not check order {order}: {why}"), {"order": o.client_order_id, "why": str(exc)})
                )
        return changes

    async def _order_fills(self, venue: Venue, o: Order) -> list[Msg]:
        """The exchange shows more filled than recorded here (a fill missed while the app was away,
        on a symbol the recent-fills pass did not ask about, or older than its window): the
        order's symbol's trades since the order was made, applied by trade id."""
        try:
            fills = await venue.fetch_my_trades(o.symbol, o.created_ms - RESEND_GRACE_MS)
        except VenueError:
            return []  # said by the state check that follows ("fills are missing")
        changes = []
        for fill in fills:
            mine = fill.client_order_id == o.client_order_id or (
                bool(fill.venue_order_id) and fill.venue_order_id == o.venue_order_id
            )
            if not mine or fill.trade_id in o.trade_ids:
                continue
            if self.execution.apply_fill(o, replace(fill, client_order_id=o.client_order_id), follow_up=False):
                changes.append(
                    Msg(
                        N_("Missed fill recorded: {fill} (order {order})"),
                        {"fill": fill_words(fill), "order": o.client_order_id},
                    )
                )
        return changes

    async def _check(self, venue: Venue, o: Order, halted: bool, resend: list[Order]) -> list[Msg]:
        if o.status.is_final:
            return []
        if o.emulation is Emulation.EMULATED:
            if o.triggered:  # triggered, never sent: after the list rules, which may cancel it
                resend.append(o)
            elif not halted:
                self.emulator.arm(o)
                return [Msg(N_("Re-armed {order}"), {"order": order_words(o)})]
            return []
        if o.client_order_id in self.execution.sending:
            return []  # its send is under way and settles it (checking now could mark it rejected)
        st = await venue.fetch_order(o)
        found: list[Msg] = []
        if st is not None and st.filled_qty > o.filled_qty:
            if o.venue_order_id is None:
                o.venue_order_id = st.venue_order_id
            found = await self._order_fills(venue, o)  # fills the trade history did not give
        if st is None:
            if o.emulation is Emulation.RELEASED:
                resend.append(o)
                return []
            if o.status is OrderStatus.PENDING_NEW:
                self.execution.event(o, OrderEvent.REJECTED, "never reached the exchange before the app stopped")
                return [
                    Msg(N_("Order {order} never reached the exchange: marked rejected"), {"order": o.client_order_id})
                ]
            self.execution.event(o, OrderEvent.CANCELLED, "the exchange no longer knows this order")
            return [Msg(N_("Order {order} is unknown to the exchange: marked cancelled"), {"order": o.client_order_id})]
        changes = found + self.execution.sync_state(o, st)
        if not st.status.is_final and o.status is OrderStatus.PENDING_CANCEL:
            self.core.tasks.spawn(self.execution.cancel_at_venue(o))
            changes.append(Msg(N_("Cancel of {order} re-sent"), {"order": o.client_order_id}))
        return changes
