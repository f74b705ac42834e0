"""Execution: orders to venues and what venues say back.

Every change is persisted, then published. Sending retries only temporary errors, and only after
asking the venue whether the first try landed (a retry never makes a second order). Reports are
applied whatever the order's state — fills are the truth, even after a cancel — and a report that
cannot be applied is reported, never raised into the venue's stream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from app.domain.enums import Emulation, OrderEvent, OrderStatus, OrderType
from app.domain.errors import OrderNotFound, VenueError
from app.domain.execution import ExecutionReport, VenueOrderState
from app.domain.money import fmt
from app.domain.order import Fill, Order
from app.i18n import N_

from ..activity import fill_words, order_words
from ..events import FillReceived, Msg, OrderUpdated, PortfolioChanged
from ..retry import ORDERS, GaveUp, RetryPolicy, retrying
from .core import Core

log = logging.getLogger(__name__)
LANDED = "landed"  # reason of the acknowledgement made up when a retried send had landed after all


class Unconfirmed(Exception):
    """A send got no clear answer and the check whether it landed failed too."""


class ExecutionEngine:
    def __init__(self, core: Core, after_change: Callable[[Order], None], policy: RetryPolicy = ORDERS) -> None:
        self.core = core
        self.after_change = after_change
        self.policy = policy
        self.sending: set[str] = set()  # orders whose send is under way (reconciliation leaves them be)

    # -- persistence ------------------------------------------------------------------------------
    def persist(self, o: Order, *, publish: bool = True, state_only: bool = False) -> None:
        """Save the order (``state_only``: just what a status change changes), then bring memory
        in line and tell subscribers."""
        if state_only:
            self.core.store.save_order_state(o)
        else:
            self.core.store.save_order(o)
        self.track(o, publish=publish)

    def track(self, o: Order, *, publish: bool = True) -> None:
        """Memory in line with a saved order: reservation, cache; then subscribers."""
        c = self.core
        c.reservations.update(o, shares_funds=c.is_stop_leg(o))
        c.cache.track(o)
        if publish:
            c.bus.publish(OrderUpdated(o))

    def event(self, o: Order, event: OrderEvent, reason: str = "") -> None:
        o.apply(event, self.core.clock.now_ms(), reason)
        self.persist(o, state_only=event is not OrderEvent.AMENDED)
        say = self.core.activity
        if event is OrderEvent.REJECTED:
            say.warning(N_("Rejected: {order} — {reason}"), order=order_words(o), reason=o.reason)
        elif event in (OrderEvent.CANCELLED, OrderEvent.EXPIRED) and o.status is not OrderStatus.FILLED:
            cancelled = event is OrderEvent.CANCELLED
            if o.reason:
                say.info(
                    N_("Cancelled: {order} ({reason})") if cancelled else N_("Expired: {order} ({reason})"),
                    order=order_words(o),
                    reason=o.reason,
                )
            else:
                say.info(N_("Cancelled: {order}") if cancelled else N_("Expired: {order}"), order=order_words(o))
        if o.status.is_final or event is OrderEvent.TRIGGERED:
            self.after_change(o)

    # -- sending ----------------------------------------------------------------------------------
    @staticmethod
    def wire(o: Order) -> Order:
        """The order as the venue must see it: a released local order goes as market or limit."""
        if o.emulation is not Emulation.RELEASED:
            return o
        as_limit = o.type in (OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT) and o.price is not None
        return replace(
            o,
            type=OrderType.LIMIT if as_limit else OrderType.MARKET,
            stop_price=None,
            trail_mode=None,
            trail_value=None,
            activation_price=None,
            quantity=o.remaining,
            trade_ids=set(),
        )

    async def send(self, o: Order) -> None:
        venue = self.core.venues[o.venue]
        wire = self.wire(o)

        async def landed(exc: BaseException) -> ExecutionReport | None:
            detail = exc.message if isinstance(exc, VenueError) else "no answer in time"
            self.core.activity.warning(
                N_("Sending {order}: {detail}; checking before retrying"), order=o.client_order_id, detail=detail
            )
            try:  # the answer decides whether to send again, so it is asked for until it comes
                st = await retrying(lambda: venue.fetch_order(o), self.policy)
            except (GaveUp, VenueError) as err:
                # Unknown whether the first try landed: sending again could place it twice (a client
                # id is unique only while the first order is open), so nothing more is sent.
                raise Unconfirmed(err) from err
            if st is None:
                return None  # the exchange does not have it: sending again is safe
            self.sync_state(o, st)  # the first try landed: adopt it, send nothing more
            return ExecutionReport(
                o.venue,
                o.client_order_id,
                OrderEvent.ACCEPTED,
                self.core.clock.now_ms(),
                venue_order_id=st.venue_order_id,
                reason=LANDED,
            )

        self.sending.add(o.client_order_id)
        try:
            report = await retrying(lambda: venue.place(wire), self.policy, before_retry=landed)
        except (GaveUp, Unconfirmed):
            self.core.activity.error(
                N_(
                    "Order {order}: the exchange did not answer; its state will be checked "
                    "again at the next reconciliation"
                ),
                order=o.client_order_id,
            )
            return
        except VenueError as exc:
            report = ExecutionReport(
                o.venue, o.client_order_id, OrderEvent.REJECTED, self.core.clock.now_ms(), reason=exc.message
            )
        finally:
            self.sending.discard(o.client_order_id)
        self.on_report(report)

    # -- cancelling -------------------------------------------------------------------------------
    async def cancel(self, o: Order, reason: str) -> bool:
        """Cancel ``o``; True once nothing of it works any more. A locally watched order that was
        not sent yet is cancelled here at once (a triggered one on its way re-checks before
        sending, so the cancel wins)."""
        if o.status.is_final:
            return True
        c = self.core
        c.audit.record("order.cancel", o.venue, order=o.client_order_id, reason=reason)
        if o.emulation is Emulation.EMULATED:
            self.event(o, OrderEvent.CANCELLED, reason)
            return True
        c.risk.record_cancel(c.clock.monotonic())
        if o.status is not OrderStatus.PENDING_CANCEL:
            self.event(o, OrderEvent.CANCEL_REQUESTED, reason)
        return await self.cancel_at_venue(o)

    async def cancel_at_venue(self, o: Order) -> bool:
        venue = self.core.venues[o.venue]
        try:
            report = await retrying(lambda: venue.cancel(o), self.policy)
        except GaveUp:
            self.core.activity.error(N_("Cancel of {order} got no answer; it will be retried"), order=o.client_order_id)
            return False
        except OrderNotFound as exc:
            report = ExecutionReport(
                o.venue, o.client_order_id, OrderEvent.CANCEL_REJECTED, self.core.clock.now_ms(), reason=exc.message
            )
        except VenueError as exc:
            report = ExecutionReport(
                o.venue, o.client_order_id, OrderEvent.CANCEL_REJECTED, self.core.clock.now_ms(), reason=exc.message
            )
        self.on_report(report)
        return not o.is_open

    # -- venue reports ------------------------------------------------------------------------------
    def on_report(self, report: ExecutionReport) -> None:
        """Every acknowledgement, fill and cancel from a venue comes through here."""
        o = self.core.order(report.client_order_id)
        if o is None:
            log.info("report for an order not placed by this app: %s", report.client_order_id)
            return
        try:
            self._apply_report(o, report)
        except Exception:
            log.exception("could not apply %s to %s", report.event, o.client_order_id)
            self.core.activity.error(
                N_("Order {order}: could not apply '{event}' (see the log)"),
                order=o.client_order_id,
                event=report.event.value,
            )

    def _apply_report(self, o: Order, report: ExecutionReport) -> None:
        if report.fill is not None:
            self.apply_fill(o, report.fill)
            return
        learned_id = bool(report.venue_order_id) and o.venue_order_id is None
        if learned_id:
            o.venue_order_id = report.venue_order_id
        if o.status.is_final:
            if learned_id:
                self.persist(o, publish=False, state_only=True)
            return  # a late acknowledgement of an order that is done already
        ev = report.event
        if ev is OrderEvent.ACCEPTED:
            if o.status is OrderStatus.PENDING_NEW:
                self.event(o, ev)
            elif learned_id:
                self.persist(o, publish=False, state_only=True)
        elif ev is OrderEvent.CANCEL_REJECTED:
            if o.status is OrderStatus.PENDING_CANCEL:
                self.event(o, ev, report.reason)
        elif ev is OrderEvent.TRIGGERED and o.status is OrderStatus.PENDING_NEW:
            self.event(o, OrderEvent.ACCEPTED)
            self.event(o, ev)
        else:
            self.event(o, ev, report.reason)

    def apply_fill(self, o: Order, fill: Fill, *, follow_up: bool = True) -> bool:
        """Store the fill with the order and the position in one transaction, then publish. A fill
        seen before (same venue, symbol and trade id) changes nothing."""
        c = self.core
        if fill.fee_quote is None and fill.fee:
            fq = c.portfolio.fee_in_quote(fill)
            if fq is not None:
                fill = replace(fill, fee_quote=fq)
        late = o.status.is_final
        over = fill.quantity > o.remaining
        was = o.status
        with c.store.transaction():
            if not c.store.save_fill(fill):
                return False
            if not o.apply_fill(fill):
                return False
            c.store.save_order(o)
            c.portfolio.on_fill(fill)
            c.store.save_lots(fill.venue, fill.symbol, c.portfolio.lots(fill.venue, fill.symbol))
        c.reservations.update(o, shares_funds=c.is_stop_leg(o))
        c.cache.track(o)
        c.bus.publish(FillReceived(fill, o))
        c.bus.publish(OrderUpdated(o))
        c.bus.publish(PortfolioChanged(fill.venue, fill.symbol))
        c.activity.info(N_("Filled: {fill}"), fill=fill_words(fill))
        if late:
            c.activity.warning(
                N_("A fill arrived after order {order} was {status}: recorded"),
                order=o.client_order_id,
                status=was.value,
            )
        if over:
            c.activity.error(
                N_("Order {order} filled {filled}, more than its {qty}: the exchange's fills are recorded as they are"),
                order=o.client_order_id,
                filled=fmt(o.filled_qty),
                qty=fmt(o.quantity),
            )
        if follow_up:
            self.after_change(o)
        return True

    # -- the venue's view -----------------------------------------------------------------------------
    def sync_state(self, o: Order, st: VenueOrderState) -> list[Msg]:
        """Bring ``o`` to the state the venue reports (fills come separately, by trade id)."""
        changes: list[Msg] = []
        if o.venue_order_id is None:
            o.venue_order_id = st.venue_order_id
        if st.status.is_final:
            if st.status is OrderStatus.FILLED and o.filled_qty < o.quantity:
                changes.append(
                    Msg(
                        N_(
                            "Order {order} is filled at the exchange but fills are missing here "
                            "({filled} of {qty} recorded)"
                        ),
                        {"order": o.client_order_id, "filled": fmt(o.filled_qty), "qty": fmt(o.quantity)},
                    )
                )
                return changes
            if st.status is not OrderStatus.FILLED and not o.status.is_final:
                event = {
                    OrderStatus.CANCELLED: OrderEvent.CANCELLED,
                    OrderStatus.EXPIRED: OrderEvent.EXPIRED,
                    OrderStatus.REJECTED: OrderEvent.REJECTED,
                }[st.status]
                if o.status is OrderStatus.PENDING_NEW and event is not OrderEvent.REJECTED:
                    self.event(o, OrderEvent.ACCEPTED)
                self.event(o, event, "found closed at the exchange")
                changes.append(
                    Msg(
                        N_("Order {order} was {status} at the exchange meanwhile"),
                        {"order": o.client_order_id, "status": st.status.value},
                    )
                )
        elif o.status is OrderStatus.PENDING_NEW:
            self.event(o, OrderEvent.ACCEPTED)
            changes.append(Msg(N_("Order {order} was accepted by the exchange"), {"order": o.client_order_id}))
        return changes
