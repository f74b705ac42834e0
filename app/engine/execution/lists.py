"""Order lists at work: placing an OCO's legs or a bracket's exits, applying the contingency
rules' actions, cancelling a list, and releasing a triggered watched order (an OCO stop leg
cancels its limit leg before it goes out).

A list being cancelled wins over everything in flight: exits being placed check the list after
every wait and cancel what they created, and a watched order on its way re-checks that it is
still open right before it is sent.

At a venue that holds OCOs itself (``capabilities.native_oco`` and ``NativeOco.place_oco``) a
pair goes out as one exchange order list, the exchange ends one leg when the other fills or
triggers (the rules here cancel nothing of such a pair), and moving a leg replaces the pair.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal

from app.domain.enums import Emulation, OrderEvent, OrderListStatus, OrderOrigin, OrderStatus, OrderType
from app.domain.errors import VenueError
from app.domain.execution import ExecutionReport
from app.domain.money import fmt
from app.domain.order import Order, OrderRequest
from app.domain.order_list import BracketRequest, OrderList
from app.i18n import N_
from app.venues.base import NativeOco

from ..activity import order_words
from ..events import OrderListUpdated, OrderUpdated
from ..retry import GaveUp, retrying
from ..risk import Denial
from .contingency import Cancel, Close, Failures, PlaceExits, Resize, list_actions
from .core import Core
from .emulator import OrderEmulator
from .engine import LANDED, ExecutionEngine

Check = Callable[[OrderRequest], Denial | None]


class ListManager:
    def __init__(
        self,
        core: Core,
        execution: ExecutionEngine,
        emulator: OrderEmulator,
        new_id: Callable[[], str],
        check: Check,
        emulates: Callable[[Order, bool], bool],
    ) -> None:
        self.core = core
        self.execution = execution
        self.emulator = emulator
        self.new_id = new_id
        self.check = check  # the pre-trade check every order that goes out passes
        self.emulates = emulates  # (order, is an OCO stop leg) -> watched here?
        self.placing: set[str] = set()

    # -- the rules --------------------------------------------------------------------------------
    def orders_of(self, ol: OrderList) -> dict[str, Order]:
        return {cid: o for cid in ol.order_ids() if (o := self.core.order(cid)) is not None}

    def evaluate(self, ol: OrderList) -> None:
        """Apply whatever the list's rules want now (after any change of its orders, and after a
        restart)."""
        if ol.status is OrderListStatus.DONE:
            return
        inst = self.core.cache.instrument(ol.venue, ol.symbol)
        actions = list_actions(ol, self.orders_of(ol), inst, placing=ol.list_id in self.placing)
        if ol.status is OrderListStatus.ACTIVE and self.native(ol):
            # The exchange ends one leg of its OCO when the other fills or triggers: cancelling it
            # here too would race the exchange (and cancel a stop that just triggered).
            legs = {x for pair in ol.pairs() for x in pair}
            actions = [a for a in actions if not (isinstance(a, Cancel) and a.client_order_id in legs)]
        for a in actions:
            if isinstance(a, Cancel):
                o = self.core.order(a.client_order_id)
                if o is not None:
                    self.core.tasks.spawn(self.execution.cancel(o, a.reason))
            elif isinstance(a, Resize):
                o = self.core.order(a.client_order_id)
                if o is not None and o.is_open:
                    o.quantity = a.quantity
                    self.execution.persist(o)
            elif isinstance(a, Failures):
                ol.exit_failures = a.count
                self.save(ol)
            elif isinstance(a, PlaceExits):
                self.placing.add(ol.list_id)
                self.core.tasks.spawn(self.place_exits(ol, a.quantity))
            elif isinstance(a, Close):
                self.close(ol, a.note, a.warning)

    def save(self, ol: OrderList) -> None:
        self.core.store.save_order_list(ol)
        self.core.bus.publish(OrderListUpdated(ol))

    def close(self, ol: OrderList, note: str, warning: str = "") -> None:
        ol.status = OrderListStatus.DONE
        ol.note = note
        self.save(ol)
        self.core.cache.lists.pop(ol.list_id, None)
        if warning == "exit orders ended unfilled":
            self.core.activity.error(
                N_("Bracket {list}: its exit orders ended without a fill; the position is not protected any more"),
                list=ol.list_id,
            )
        elif warning:
            self.core.activity.warning(
                N_("Bracket {list}: what is left is below the exchange minimum and has no exits"), list=ol.list_id
            )

    # -- placing ----------------------------------------------------------------------------------
    def native(self, ol: OrderList) -> bool:
        """Are ``ol``'s pairs held by the venue as exchange OCOs?"""
        venue = self.core.venues.get(ol.venue)
        return venue is not None and venue.capabilities.native_oco and isinstance(venue, NativeOco)

    def register(self, ol: OrderList) -> None:
        self.core.cache.lists[ol.list_id] = ol

    async def open_pair(self, ol: OrderList, limit_req: OrderRequest, stop_req: OrderRequest) -> tuple[Order, Order]:
        """Create an OCO pair (an OCO's legs or a bracket's exits) atomically, then work it. Without a
        native OCO the limit leg rests at the venue and the stop leg is watched here, so the
        account's coins are committed once, as with an exchange OCO."""
        c = self.core
        now = c.clock.now_ms()
        limit = Order.from_request(limit_req, now, self.new_id(), ol.list_id)
        stop = Order.from_request(stop_req, now, self.new_id(), ol.list_id)
        ol.limit_id, ol.stop_id = limit.client_order_id, stop.client_order_id
        ol.leg_ids += [limit.client_order_id, stop.client_order_id]
        for o, is_stop in ((limit, False), (stop, True)):
            if self.emulates(o, is_stop):
                o.emulation = Emulation.EMULATED
        with c.store.transaction():
            c.store.save_order_list(ol)
            for o in (limit, stop):
                c.store.save_order(o)
                c.audit.record("order.submit", o.venue, **_audit_fields(o))
        self.register(ol)
        for o in (limit, stop):
            c.reservations.update(o, shares_funds=o is stop)
            c.cache.track(o)
        c.bus.publish(OrderListUpdated(ol))
        c.bus.publish(OrderUpdated(limit))
        c.bus.publish(OrderUpdated(stop))
        c.activity.info(
            N_("{kind} {list}: {limit} / {stop}"),
            kind=ol.kind.value.upper(),
            list=ol.list_id,
            limit=order_words(limit),
            stop=order_words(stop),
        )
        if self.native(ol) and limit.emulation is Emulation.NONE and stop.emulation is Emulation.NONE:
            if ol.status is OrderListStatus.ACTIVE:
                await self.send_pair(limit, stop)
            else:  # cancelled meanwhile: the pair never goes out
                for o in (limit, stop):
                    if o.is_open:
                        self.execution.event(o, OrderEvent.CANCELLED, ol.note or "list cancelled")
            return limit, stop
        for o in (stop, limit):  # the watched leg first: the limit leg may fill at once
            if ol.status is not OrderListStatus.ACTIVE:  # cancelled meanwhile: this leg never goes out
                if o.is_open and o.emulation is not Emulation.RELEASED:
                    self.execution.event(o, OrderEvent.CANCELLED, ol.note or "list cancelled")
            elif o.emulation is Emulation.EMULATED:
                self.accept_locally(o)
            elif o.is_open:
                await self.execution.send(o)
        return limit, stop

    async def send_pair(self, limit: Order, stop: Order) -> None:
        """Both legs as one exchange OCO. A send with no answer is retried only after asking the
        venue whether the first one landed (by the legs' client order ids), as for one order."""
        venue = self.core.venues[limit.venue]
        assert isinstance(venue, NativeOco)
        ex, activity = self.execution, self.core.activity

        async def landed(exc: BaseException) -> tuple[ExecutionReport, ExecutionReport] | None:
            detail = exc.message if isinstance(exc, VenueError) else "no answer in time"
            activity.warning(
                N_("Sending {order}: {detail}; checking before retrying"), order=limit.list_id or "", detail=detail
            )
            try:
                found = [await self.core.venues[o.venue].fetch_order(o) for o in (limit, stop)]
            except VenueError:
                return None
            if any(st is None for st in found):
                return None
            now = self.core.clock.now_ms()
            acks = []
            for o, st in zip((limit, stop), found, strict=True):
                assert st is not None
                ex.sync_state(o, st)
                acks.append(
                    ExecutionReport(
                        o.venue,
                        o.client_order_id,
                        OrderEvent.ACCEPTED,
                        now,
                        venue_order_id=st.venue_order_id,
                        reason=LANDED,
                    )
                )
            return acks[0], acks[1]

        try:
            reports = await retrying(lambda: venue.place_oco(limit, stop), ex.policy, before_retry=landed)
        except GaveUp:
            activity.error(
                N_(
                    "Order {order}: the exchange did not answer; its state will be checked again at the "
                    "next reconciliation"
                ),
                order=limit.list_id or limit.client_order_id,
            )
            return
        except VenueError as exc:
            now = self.core.clock.now_ms()
            reports = tuple(
                ExecutionReport(o.venue, o.client_order_id, OrderEvent.REJECTED, now, reason=exc.message)
                for o in (limit, stop)
            )  # type: ignore[assignment]
        for r in reports:
            ex.on_report(r)

    def accept_locally(self, o: Order) -> None:
        if o.status is OrderStatus.PENDING_NEW:
            o.apply(OrderEvent.ACCEPTED, self.core.clock.now_ms())
        if not self.emulator.halted:
            self.emulator.arm(o)
        self.execution.persist(o)

    async def place_exits(self, ol: OrderList, qty: Decimal) -> None:
        """A bracket's take-profit and stop-loss for ``qty`` of what its entry filled."""
        try:
            entry = self.core.order(ol.entry_id)
            if (
                ol.take_profit is None
                or ol.stop_loss is None
                or entry is None
                or ol.status is not OrderListStatus.ACTIVE
            ):
                return
            oco = BracketRequest(
                ol.venue,
                ol.symbol,
                entry.side,
                qty,
                OrderType.LIMIT,
                entry.price or ol.take_profit,
                ol.take_profit,
                ol.stop_loss,
                ol.stop_loss_limit,
                entry.tag,
            ).exit_oco(qty)
            limit_req, stop_req = (_as_exit(r) for r in oco.legs())
            denial = self.check(limit_req)
            if denial is not None:
                self.core.activity.error(
                    N_("Bracket {list}: exits refused ({reason}); the position is not protected"),
                    list=ol.list_id,
                    reason=denial.message,
                )
                self.close(ol, "exits refused")
                return
            self.core.activity.info(
                N_("Bracket {list}: entry filled {qty}, placing take-profit and stop-loss"),
                list=ol.list_id,
                qty=fmt(qty),
            )
            limit, stop = await self.open_pair(ol, limit_req, stop_req)
            if _cancelling(ol):  # cancelled while the exits were on their way
                for o in (limit, stop):
                    if o.is_open:
                        await self.execution.cancel(o, ol.note or "list cancelled")
        finally:
            self.placing.discard(ol.list_id)
        self.evaluate(ol)

    async def replace_leg(self, ol: OrderList, old: Order, req: OrderRequest) -> Order | None:
        """Move a leg that works at the venue: the new leg takes the old one's place in its pair
        before the old one is cancelled (the rules never see a leg that ended unfilled); if the
        old one filled meanwhile, it keeps its place and the new one never goes out."""
        if self.native(ol) and old.emulation is Emulation.NONE:
            return await self._replace_pair(ol, old, req)
        c = self.core
        new = Order.from_request(req, c.clock.now_ms(), self.new_id(), ol.list_id)
        slot = ol.leg_ids.index(old.client_order_id)
        self._swap(ol, slot, old.client_order_id, new.client_order_id)
        with c.store.transaction():
            c.store.save_order_list(ol)
            c.store.save_order(new)
            c.audit.record("order.submit", new.venue, **_audit_fields(new))
        self.execution.track(new)
        self.core.bus.publish(OrderListUpdated(ol))
        if not await self.execution.cancel(old, "moved to a new price") or old.filled_qty > 0:
            self._swap(ol, slot, new.client_order_id, old.client_order_id)
            self.save(ol)
            self.execution.event(new, OrderEvent.CANCELLED, "the order it replaced filled or still works")
            self.evaluate(ol)
            return None
        if ol.status is not OrderListStatus.ACTIVE:
            self.execution.event(new, OrderEvent.CANCELLED, ol.note or "list cancelled")
            return None
        await self.execution.send(new)
        return new

    async def _replace_pair(self, ol: OrderList, old: Order, req: OrderRequest) -> Order | None:
        """Move one leg of an exchange OCO: the exchange cancels a list whole, so the pair is
        cancelled and placed again with the moved leg (the other leg unchanged). The new pair takes
        the old one's place in the list first; if either old leg filled meanwhile, the old pair
        keeps its place and the new one never goes out."""
        c = self.core
        pair = next(p for p in ol.pairs() if old.client_order_id in p)
        partner = c.order(pair[1] if pair[0] == old.client_order_id else pair[0])
        if partner is None or not partner.is_open:
            return None
        now = c.clock.now_ms()
        new = Order.from_request(req, now, self.new_id(), ol.list_id)
        twin = Order.from_request(
            replace(partner.to_request(), client_order_id=None, quantity=new.quantity, origin=OrderOrigin.REPLACE),
            now,
            self.new_id(),
            ol.list_id,
        )
        olds, news = (old, partner), (new, twin)
        slots = [ol.leg_ids.index(o.client_order_id) for o in olds]
        for slot, o, n in zip(slots, olds, news, strict=True):
            self._swap(ol, slot, o.client_order_id, n.client_order_id)
        limit, stop = (new, twin) if pair[0] == old.client_order_id else (twin, new)
        with c.store.transaction():
            c.store.save_order_list(ol)
            for n in news:
                c.store.save_order(n)
                c.audit.record("order.submit", n.venue, **_audit_fields(n))
        for n in news:
            c.reservations.update(n, shares_funds=n is stop)
            c.cache.track(n)
            c.bus.publish(OrderUpdated(n))
        c.bus.publish(OrderListUpdated(ol))
        for o in olds:  # the exchange ends the whole list with the first cancel
            if o.is_open:
                await self.execution.cancel(o, "moved to a new price")
        if any(o.is_open or o.filled_qty > 0 for o in olds) or ol.status is not OrderListStatus.ACTIVE:
            for slot, o, n in zip(slots, olds, news, strict=True):
                self._swap(ol, slot, n.client_order_id, o.client_order_id)
            self.save(ol)
            why = (
                "the order it replaced filled or still works"
                if ol.status is OrderListStatus.ACTIVE
                else ol.note or "list cancelled"
            )
            for n in news:
                self.execution.event(n, OrderEvent.CANCELLED, why)
            self.evaluate(ol)
            return None
        await self.send_pair(limit, stop)
        return new

    @staticmethod
    def _swap(ol: OrderList, slot: int, old: str, new: str) -> None:
        ol.leg_ids[slot] = new
        if ol.limit_id == old:
            ol.limit_id = new
        if ol.stop_id == old:
            ol.stop_id = new

    async def cancel_list(self, ol: OrderList, reason: str) -> None:
        """Cancel every order of the list that works, and any the list was about to place."""
        if ol.status is OrderListStatus.DONE:
            return
        self.core.audit.record("list.cancel", ol.venue, list=ol.list_id, reason=reason)
        ol.status, ol.note = OrderListStatus.CANCELLING, reason
        self.save(ol)
        orders = self.orders_of(ol)
        await _gather([self.execution.cancel(o, reason) for o in orders.values() if o.is_open])
        self.evaluate(ol)

    # -- releasing watched orders ------------------------------------------------------------------
    async def fire(self, o: Order, send: Callable[[Order], Awaitable[None]]) -> None:
        """A watched order triggered. An OCO stop leg first cancels its limit leg: it then sells
        what that leg no longer covers (nothing if it filled, the rest if it filled in part); a
        limit leg that could not be cancelled keeps covering the coins and the stop stands down.
        ``send`` releases the order to the venue."""
        try:
            if not o.is_open:
                return
            self.execution.event(o, OrderEvent.TRIGGERED)
            self.core.activity.info(N_("Triggered: {order}"), order=order_words(o))
            ol = self.core.order_list(o.list_id)
            limit = self.core.order(_partner(ol, o)) if ol is not None else None
            if limit is not None:
                if limit.is_open:
                    await self.execution.cancel(limit, "the stop leg triggered")
                if limit.is_open:
                    if o.is_open:
                        self.execution.event(o, OrderEvent.CANCELLED, "the other leg could not be cancelled")
                    self.core.activity.error(
                        N_("{order}: the other leg could not be cancelled and still works"), order=order_words(o)
                    )
                    return
                left = limit.quantity - limit.filled_qty
                if o.is_open and left < o.remaining:
                    if left <= 0:
                        self.execution.event(o, OrderEvent.CANCELLED, "the other leg filled first")
                        return
                    o.quantity = o.filled_qty + left
                    self.execution.persist(o)
            if o.is_open:  # a cancel (the kill switch) may have come while the limit leg was cancelled
                await send(o)
        finally:
            self.emulator.done_firing(o)


def _cancelling(ol: OrderList) -> bool:
    return ol.status is OrderListStatus.CANCELLING


def _partner(ol: OrderList, o: Order) -> str | None:
    for limit, stop in ol.pairs():
        if stop == o.client_order_id:
            return limit
    return None


def _as_exit(r: OrderRequest) -> OrderRequest:
    return replace(r, origin=OrderOrigin.EXIT)


def _audit_fields(o: Order) -> dict[str, object]:
    return {
        "order": o.client_order_id,
        "symbol": o.symbol,
        "side": o.side,
        "type": o.type,
        "quantity": o.quantity,
        "price": o.price,
        "stop_price": o.stop_price,
        "origin": o.origin,
        "list": o.list_id,
    }


async def _gather(coros: list[Awaitable[object]]) -> None:
    if coros:
        await asyncio.gather(*coros, return_exceptions=True)
