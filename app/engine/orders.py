"""The order manager: every order's life from request to final state.

Request → instrument filters → risk → persisted as PENDING_NEW with a unique client order id →
sent to the venue (retried only on temporary errors, after asking the venue whether the first
try landed, so a retry never makes a second order) → every acknowledgement, fill and cancel is
persisted, then published. OCO, bracket and trailing logic is emulated here for venues that lack
it; on start, open orders and order lists are reconciled with the venue before new orders pass.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.domain.enums import (
    OrderEvent,
    OrderListKind,
    OrderListStatus,
    OrderStatus,
    OrderType,
    Side,
    TradingState,
)
from app.domain.errors import OrderNotFound, TemporaryVenueError, VenueError
from app.domain.execution import ExecutionReport, VenueOrderState
from app.domain.instrument import Instrument, Problem
from app.domain.market import Trade
from app.domain.money import ZERO, fmt
from app.domain.order import Fill, Order, OrderRequest, validate_request
from app.domain.order_list import (
    BracketRequest,
    OcoRequest,
    OrderList,
    validate_bracket,
    validate_oco,
)
from app.i18n import N_
from app.storage import Store
from app.venues.base import Venue

from .bus import EventBus
from .clock import Clock, day_start_ms
from .events import (
    ActivityLogged,
    FillReceived,
    Msg,
    OrderDenied,
    OrderListUpdated,
    OrderUpdated,
    PortfolioChanged,
    ReconciliationDone,
    RiskStateChanged,
)
from .portfolio import Portfolio
from .risk import Denial, OrderContext, RiskEngine, RiskLimits

log = logging.getLogger(__name__)

PLACE_TIMEOUT_S = 10.0
RETRIES = 3
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _BASE36[r] + out
        if n == 0:
            return out


class OrderManager:
    def __init__(
        self,
        bus: EventBus,
        store: Store,
        *,
        risk: RiskEngine | None = None,
        portfolio: Portfolio | None = None,
        clock: Clock | None = None,
        id_prefix: str = "ag",
    ) -> None:
        self.bus = bus
        self.store = store
        self.clock = clock or Clock()
        self.risk = risk or RiskEngine(self._load_limits())
        self.portfolio = portfolio or Portfolio()
        self.venues: dict[str, Venue] = {}
        self.instruments: dict[tuple[str, str], Instrument] = {}
        self.ready: set[str] = set()
        self._open: dict[str, Order] = {}
        self._lists: dict[str, OrderList] = {}
        self._armed: dict[str, dict[str, Order]] = {}  # symbol -> locally watched orders
        self._firing: set[str] = set()
        self._placing: set[str] = set()  # brackets whose exit pair is being placed
        self._committed: dict[tuple[str, str], Decimal] = {}
        self._commit_of: dict[str, tuple[str, str, Decimal]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._trail_saved: dict[str, float] = {}
        self._prefix = id_prefix
        self._ids = itertools.count(1)
        self._id_epoch = _b36(self.clock.now_ms())
        self._restore_risk_state()
        bus.subscribe(Trade, self.on_trade)

    # -- set-up and reconciliation ----------------------------------------------------------------
    async def add_venue(self, venue: Venue) -> ReconciliationDone:
        """Load markets, balances and open orders, reconcile with the venue, then accept orders."""
        self.venues[venue.name] = venue
        venue.set_report_handler(self.on_report)
        markets = await venue.load_markets()
        for inst in markets.values():
            self.instruments[inst.key] = inst
        self.portfolio.add_instruments(markets)
        self.portfolio.restore(self.store.load_fills(venue=venue.name))
        done = await self.reconcile(venue)
        await self.sync_balances(venue)
        self.ready.add(venue.name)
        return done

    async def sync_balances(self, venue: Venue) -> None:
        balances = await venue.fetch_balances()
        self.portfolio.set_balances(venue.name, balances)
        self.store.save_balances(venue.name, balances)
        self.bus.publish(PortfolioChanged(venue.name))

    async def reconcile(self, venue: Venue) -> ReconciliationDone:
        changes: list[str] = []
        name = venue.name
        for o in self.store.load_open_orders(name):
            self._track(o)
        for ol in self.store.load_active_order_lists(name):
            self._lists[ol.list_id] = ol
        # 1. Fills we missed while we were away (deduplicated by trade id).
        since = self.store.last_fill_ms(name)
        for fill in await venue.fetch_my_trades(None, since - 60_000 if since else None):
            order = self._open.get(fill.client_order_id) or self.store.get_order(fill.client_order_id)
            if order is None or fill.trade_id in order.trade_ids:
                continue
            if self._apply_fill(order, fill, follow_up=False):
                changes.append(Msg(N_("Missed fill recorded: {fill} (order {order})"),
                                   {"fill": self._fill_words(fill), "order": order.client_order_id}))
        # 2. Every order we believe open, against the venue's view.
        resend: list[Order] = []
        for o in [o for o in self._open.values() if o.venue == name]:
            if o.status.is_final:
                continue
            if self._is_local(o) and not o.triggered:
                self._arm(o)
                changes.append(Msg(N_("Re-armed {order}"), {"order": self._order_words(o)}))
                continue
            try:
                st = await venue.fetch_order(o)
            except VenueError as exc:
                changes.append(Msg(N_("Could not check order {order}: {why}"),
                                   {"order": o.client_order_id, "why": exc.message}))
                continue
            if st is None:
                if self._is_local(o):  # triggered locally but never reached the venue: send it
                    resend.append(o)  # after the list rules, which may cancel it instead
                elif o.status is OrderStatus.PENDING_NEW:
                    self._event(o, OrderEvent.REJECTED, "never reached the exchange before the app stopped")
                    changes.append(Msg(N_("Order {order} never reached the exchange: marked rejected"),
                                       {"order": o.client_order_id}))
                else:
                    self._event(o, OrderEvent.CANCELLED, "the exchange no longer knows this order")
                    changes.append(Msg(N_("Order {order} is unknown to the exchange: marked cancelled"),
                                       {"order": o.client_order_id}))
                continue
            changes += self._sync_state(o, st)
        # 3. Order lists: enforce OCO and bracket rules that a crash may have interrupted.
        for ol in list(self._lists.values()):
            if ol.venue != name or ol.status is OrderListStatus.DONE:
                continue
            before = len(self._tasks)
            self._list_rules(ol)
            if len(self._tasks) > before:
                changes.append(Msg(N_("Completed the {kind} {list} after restart"),
                                   {"kind": ol.kind.value.upper(), "list": ol.list_id}))
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        # 4. Triggered local orders that never went out, unless a list rule cancelled them.
        for o in resend:
            if o.is_open:
                self._spawn(self._send(o))
                changes.append(Msg(N_("Re-sent triggered {order}"), {"order": self._order_words(o)}))
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        done = ReconciliationDone(name, tuple(str(c) for c in changes), tuple(changes))
        for c in changes:
            self._log("warning", c.template, **c.params)
        if not changes:
            self._log("info", N_("{venue}: orders match the exchange"), venue=name)
        self.bus.publish(done)
        return done

    def _sync_state(self, o: Order, st: VenueOrderState) -> list[Msg]:
        changes: list[Msg] = []
        if o.venue_order_id is None:
            o.venue_order_id = st.venue_order_id
        if st.status.is_final:
            if st.status is OrderStatus.FILLED and o.filled_qty < o.quantity:
                changes.append(Msg(N_("Order {order} is filled at the exchange but fills are missing here "
                                      "({filled} of {qty} recorded)"),
                                   {"order": o.client_order_id, "filled": fmt(o.filled_qty), "qty": fmt(o.quantity)}))
                return changes
            if st.status is not OrderStatus.FILLED:
                event = {
                    OrderStatus.CANCELLED: OrderEvent.CANCELLED,
                    OrderStatus.EXPIRED: OrderEvent.EXPIRED,
                    OrderStatus.REJECTED: OrderEvent.REJECTED,
                }[st.status]
                self._event(o, event, "found closed at the exchange after restart")
                changes.append(Msg(N_("Order {order} was {status} at the exchange meanwhile"),
                                   {"order": o.client_order_id, "status": st.status.value}))
        else:
            if o.status is OrderStatus.PENDING_NEW:
                self._event(o, OrderEvent.ACCEPTED)
                changes.append(Msg(N_("Order {order} was accepted by the exchange"), {"order": o.client_order_id}))
            elif o.status is OrderStatus.PENDING_CANCEL:
                self._spawn(self._cancel_at_venue(o))
                changes.append(Msg(N_("Cancel of {order} re-sent"), {"order": o.client_order_id}))
        return changes

    # -- ids, lookups ---------------------------------------------------------------------------
    def new_client_id(self) -> str:
        return f"{self._prefix}{self._id_epoch}{_b36(next(self._ids)).rjust(4, '0')}"

    def get(self, client_order_id: str) -> Order | None:
        return self._open.get(client_order_id) or self.store.get_order(client_order_id)

    def open_orders(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self._open.values()
            if (venue is None or o.venue == venue) and (symbol is None or o.symbol == symbol)
        ]

    def order_lists(self) -> list[OrderList]:
        return [ol for ol in self._lists.values() if ol.status is OrderListStatus.ACTIVE]

    def order_list(self, list_id: str) -> OrderList | None:
        """An order list, active or finished."""
        return self._lists.get(list_id) or self.store.get_order_list(list_id)

    def last_price(self, venue: str, symbol: str) -> Decimal | None:
        px = self.portfolio.marks.get(symbol)
        if px is None:
            v = self.venues.get(venue)
            getter = getattr(v, "last_price", None)
            px = getter(symbol) if getter else None
        return px

    def _book_price(self, venue: str, symbol: str, side: Side) -> Decimal | None:
        v = self.venues.get(venue)
        book = getattr(v, "book", None)
        snap = book(symbol) if book else None
        if snap is not None:
            return snap.best_ask if side is Side.BUY else snap.best_bid
        return None

    # -- checks -----------------------------------------------------------------------------------
    def context(self, req: OrderRequest, inst: Instrument) -> OrderContext:
        last = self.last_price(req.venue, req.symbol)
        ref = req.reference_price(last)
        if req.type is OrderType.MARKET:
            ref = self._book_price(req.venue, req.symbol, req.side) or last
        pos = self.portfolio.position(req.venue, req.symbol).quantity
        quote_value = self.portfolio.price_of(inst.quote) or Decimal(1)
        return OrderContext(
            instrument=inst,
            last=last,
            reference_price=ref,
            free_base=self.available(req.venue, inst.base),
            free_quote=self.available(req.venue, inst.quote),
            position_qty=pos,
            open_orders=len(self._open),
            quote_value=quote_value,
        )

    def available(self, venue: str, asset: str) -> Decimal:
        """Balance not yet committed to our open orders."""
        return self.portfolio.balance(venue, asset) - self._committed.get((venue, asset), ZERO)

    def precheck(self, req: OrderRequest) -> list[Problem | Denial]:
        """What the ticket shows before the user can submit: filter problems and the risk verdict
        (without counting the order for throttles)."""
        inst = self.instruments.get((req.venue, req.symbol))
        if inst is None:
            return [Problem("symbol", "order.unknown_symbol", "Unknown symbol {symbol}", {"symbol": req.symbol})]
        problems: list[Problem | Denial] = list(validate_request(req, inst, self.last_price(req.venue, req.symbol)))
        if not problems:
            d = self.risk.check(req, self.context(req, inst), self.clock.monotonic(), count=False)
            if d is not None:
                problems.append(d)
        return problems

    def _deny(self, request: object, p: Problem | Denial) -> None:
        self.bus.publish(OrderDenied(request, p.key, p.message, dict(p.params), p.field, p.template))
        self._log("warning", N_("Order refused: {reason}"), reason=p.message)

    def _gate(self, req: OrderRequest) -> Instrument | None:
        """Venue ready and instrument known; the common part of every submit."""
        if req.venue not in self.ready:
            self._deny(
                req,
                Problem("venue", "order.venue_not_ready", "{venue} is not connected or still reconciling",
                        {"venue": req.venue}),
            )
            return None
        inst = self.instruments.get((req.venue, req.symbol))
        if inst is None:
            self._deny(req, Problem("symbol", "order.unknown_symbol", "Unknown symbol {symbol}", {"symbol": req.symbol}))
        return inst

    # -- submit -----------------------------------------------------------------------------------
    async def submit(self, req: OrderRequest, *, bypass_risk: bool = False) -> Order | None:
        """Place one order. Returns the order (in whatever state the venue left it) or ``None``
        when refused; refusals are published as ``OrderDenied``. A request carrying a client order
        id that exists already returns that order and sends nothing (idempotent retry)."""
        if req.client_order_id is not None:
            existing = self.get(req.client_order_id)
            if existing is not None:
                return existing
        inst = self._gate(req)
        if inst is None:
            return None
        problems = validate_request(req, inst, self.last_price(req.venue, req.symbol))
        if problems:
            self._deny(req, problems[0])
            return None
        if not bypass_risk:
            denial = self.risk.check(req, self.context(req, inst), self.clock.monotonic())
            if denial is not None:
                self._deny(req, denial)
                return None
        order = Order.from_request(req.with_id(req.client_order_id or self.new_client_id()), self.clock.now_ms())
        self._track(order)
        self._persist(order)
        self.bus.publish(OrderUpdated(order))
        if self._is_local(order):
            self._accept_locally(order)
        else:
            await self._send(order)
        return order

    def _admit_list(self, req: OcoRequest | BracketRequest, first: OrderRequest,
                    validate: Callable[[Any, Instrument, Decimal | None], list[Problem]]) -> bool:
        """Gate, the list's own rules, then risk on the order that goes out first."""
        inst = self._gate(first)
        if inst is None:
            return False
        problems = validate(req, inst, self.last_price(req.venue, req.symbol))
        if problems:
            self._deny(req, problems[0])
            return False
        denial = self.risk.check(first, self.context(first, inst), self.clock.monotonic())
        if denial is not None:
            self._deny(req, denial)
            return False
        return True

    async def submit_oco(self, req: OcoRequest) -> OrderList | None:
        limit_req, stop_req = req.legs()
        if not self._admit_list(req, limit_req, validate_oco):
            return None
        ol = OrderList(self.new_client_id(), OrderListKind.OCO, req.venue, req.symbol, created_ms=self.clock.now_ms())
        await self._open_exit_pair(ol, limit_req, stop_req)
        return ol

    async def submit_bracket(self, req: BracketRequest) -> OrderList | None:
        entry_req = req.entry()
        if not self._admit_list(req, entry_req, validate_bracket):
            return None
        ol = OrderList(
            self.new_client_id(),
            OrderListKind.BRACKET,
            req.venue,
            req.symbol,
            take_profit=req.take_profit,
            stop_loss=req.stop_loss,
            stop_loss_limit=req.stop_loss_limit,
            created_ms=self.clock.now_ms(),
        )
        entry = Order.from_request(entry_req.with_id(self.new_client_id(), ol.list_id), self.clock.now_ms())
        ol.entry_id = entry.client_order_id
        ol.leg_ids.append(entry.client_order_id)
        self._lists[ol.list_id] = ol
        self._track(entry)
        with self.store.transaction():
            self.store.save_order_list(ol)
            self._persist(entry)
        self.bus.publish(OrderListUpdated(ol))
        self.bus.publish(OrderUpdated(entry))
        self._log("info", N_("Bracket {list}: entry {order}"), list=ol.list_id, order=self._order_words(entry))
        await self._send(entry)
        return ol

    async def _open_exit_pair(self, ol: OrderList, limit_req: OrderRequest, stop_req: OrderRequest) -> tuple[Order, Order]:
        """Create the two legs of an OCO (or a bracket's exits) atomically, then work them.
        Without native OCO the limit leg rests at the venue and the stop leg is watched here, so
        the account's coins are committed once, as they are with an exchange OCO."""
        now = self.clock.now_ms()
        limit = Order.from_request(limit_req.with_id(self.new_client_id(), ol.list_id), now)
        stop = Order.from_request(stop_req.with_id(self.new_client_id(), ol.list_id), now)
        ol.limit_id, ol.stop_id = limit.client_order_id, stop.client_order_id
        ol.leg_ids += [limit.client_order_id, stop.client_order_id]
        self._lists[ol.list_id] = ol
        self._track(limit)
        self._track(stop)
        with self.store.transaction():
            self.store.save_order_list(ol)
            self._persist(limit)
            self._persist(stop)
        self.bus.publish(OrderListUpdated(ol))
        self.bus.publish(OrderUpdated(limit))
        self.bus.publish(OrderUpdated(stop))
        self._log("info", N_("{kind} {list}: {limit} / {stop}"), kind=ol.kind.value.upper(), list=ol.list_id,
                  limit=self._order_words(limit), stop=self._order_words(stop))
        self._accept_locally(stop)
        await self._send(limit)
        return limit, stop

    # -- sending --------------------------------------------------------------------------------
    def _is_local(self, o: Order) -> bool:
        """Orders the venue cannot hold natively: watched here and sent when they trigger."""
        venue = self.venues.get(o.venue)
        caps = venue.capabilities if venue else None
        if o.list_id is not None:
            ol = self._lists.get(o.list_id) or self.store.get_order_list(o.list_id)
            if ol is not None and ol.stop_id == o.client_order_id and not (caps and caps.native_oco):
                return True
        if o.type is OrderType.TRAILING_STOP:
            return not (caps and caps.native_trailing)
        if o.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            return not (caps and caps.native_stop)
        if o.type in (OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT):
            return not (caps and caps.native_take_profit)
        return False

    def _accept_locally(self, o: Order) -> None:
        if o.status is OrderStatus.PENDING_NEW:
            o.apply(OrderEvent.ACCEPTED, self.clock.now_ms())
        self._arm(o)
        self._persist(o)
        self.bus.publish(OrderUpdated(o))

    def _arm(self, o: Order) -> None:
        if o.type is OrderType.TRAILING_STOP and o.trail_ref is None:
            last = self.last_price(o.venue, o.symbol)
            if last is not None:
                o.update_trail(last)
        self._armed.setdefault(o.symbol, {})[o.client_order_id] = o

    def _wire(self, o: Order) -> Order:
        """The order as the venue must see it: a triggered local order goes as market or limit."""
        if not (self._is_local(o) and o.triggered):
            return o
        as_limit = o.type in (OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT) and o.price is not None
        return replace(
            o,
            type=OrderType.LIMIT if as_limit else OrderType.MARKET,
            stop_price=None,
            trail_mode=None,
            trail_value=None,
            quantity=o.remaining,
            trade_ids=set(),
        )

    async def _send(self, o: Order) -> None:
        venue = self.venues[o.venue]
        wire = self._wire(o)
        report: ExecutionReport | None = None
        for attempt in range(RETRIES):
            try:
                report = await asyncio.wait_for(venue.place(wire), PLACE_TIMEOUT_S)
                break
            except (TemporaryVenueError, TimeoutError) as exc:
                detail = exc.message if isinstance(exc, VenueError) else "no answer in time"
                self._log("warning", N_("Sending {order}: {detail}; checking before retrying"),
                          order=o.client_order_id, detail=detail)
                try:
                    st = await venue.fetch_order(o)
                except VenueError:
                    st = None
                if st is not None:  # the first try landed: adopt it, send nothing more
                    self._sync_state(o, st)
                    return
                await asyncio.sleep(0.2 * 2**attempt)
            except VenueError as exc:
                report = ExecutionReport(o.venue, o.client_order_id, OrderEvent.REJECTED, self.clock.now_ms(),
                                         reason=exc.message)
                break
        if report is None:
            self._log("error", N_("Order {order}: the exchange did not answer; its state will be checked again at "
                                  "the next reconciliation"), order=o.client_order_id)
            return
        self.on_report(report)

    # -- venue reports ------------------------------------------------------------------------------
    def on_report(self, report: ExecutionReport) -> None:
        """Every acknowledgement, fill and cancel from a venue comes through here."""
        o = self._open.get(report.client_order_id)
        if o is None:
            o = self.store.get_order(report.client_order_id)
            if o is None:
                log.info("report for an order not placed by this app: %s", report.client_order_id)
                return
        try:
            if report.fill is not None:
                self._apply_fill(o, report.fill)
                return
            learned_id = bool(report.venue_order_id) and o.venue_order_id is None
            if learned_id:
                o.venue_order_id = report.venue_order_id
            if o.status.is_final:
                if learned_id:
                    self._persist(o)
                return  # a late acknowledgement of an order that is done already
            ev = report.event
            if ev is OrderEvent.ACCEPTED:
                if o.status is OrderStatus.PENDING_NEW:
                    self._event(o, ev)
                elif learned_id:
                    self._persist(o)  # a repeated acknowledgement changes nothing else
            elif ev is OrderEvent.CANCEL_REJECTED:
                if o.status is OrderStatus.PENDING_CANCEL:
                    self._event(o, ev, report.reason)
            else:
                self._event(o, ev, report.reason)
        except Exception:
            log.exception("could not apply %s to %s", report.event, o.client_order_id)
            self._log("error", N_("Order {order}: could not apply '{event}' (see the log)"),
                      order=o.client_order_id, event=report.event.value)

    def _event(self, o: Order, event: OrderEvent, reason: str = "") -> None:
        o.apply(event, self.clock.now_ms(), reason)
        self._persist(o)
        self.bus.publish(OrderUpdated(o))
        if event is OrderEvent.REJECTED:
            self._log("warning", N_("Rejected: {order} — {reason}"), order=self._order_words(o), reason=reason)
        elif event in (OrderEvent.CANCELLED, OrderEvent.EXPIRED):
            template = N_("Cancelled: {order}") if event is OrderEvent.CANCELLED else N_("Expired: {order}")
            if reason:
                template = N_("Cancelled: {order} ({reason})") if event is OrderEvent.CANCELLED else N_(
                    "Expired: {order} ({reason})")
            self._log("info", template, order=self._order_words(o), reason=reason)
        if o.status.is_final or event is OrderEvent.TRIGGERED:
            self._after_change(o)

    def _apply_fill(self, o: Order, fill: Fill, *, follow_up: bool = True) -> bool:
        with self.store.transaction():
            if not self.store.save_fill(fill):
                return False
            if not o.apply_fill(fill):
                return False
            self._persist(o)
            self.portfolio.on_fill(fill)
            self.store.save_lots(fill.venue, fill.symbol, self.portfolio.lots(fill.venue, fill.symbol))
        self.bus.publish(FillReceived(fill, o))
        self.bus.publish(OrderUpdated(o))
        self.bus.publish(PortfolioChanged(fill.venue, fill.symbol))
        self._log("info", N_("Filled: {fill}"), fill=self._fill_words(fill))
        if follow_up:
            self._after_change(o)
        return True

    def _persist(self, o: Order) -> None:
        self.store.save_order(o)
        self._update_commitment(o)
        if o.status.is_final:
            self._open.pop(o.client_order_id, None)
            armed = self._armed.get(o.symbol)
            if armed:
                armed.pop(o.client_order_id, None)

    def _track(self, o: Order) -> None:
        if not o.status.is_final:
            self._open[o.client_order_id] = o

    def _update_commitment(self, o: Order) -> None:
        """Keep the funds our open orders hold, per venue and asset, without rescanning them."""
        old = self._commit_of.pop(o.client_order_id, None)
        if old is not None:
            key = (old[0], old[1])
            self._committed[key] = self._committed.get(key, ZERO) - old[2]
        if o.status.is_final or o.remaining <= 0:
            return
        if o.list_id is not None:
            ol = self._lists.get(o.list_id)
            if ol is not None and ol.stop_id == o.client_order_id:
                return  # an OCO's stop leg shares the limit leg's funds
        inst = self.instruments.get((o.venue, o.symbol))
        if inst is None:
            return
        if o.side is Side.SELL:
            asset, amount = inst.base, o.remaining
        else:
            px = o.price or o.stop_price or self.last_price(o.venue, o.symbol) or ZERO
            asset, amount = inst.quote, o.remaining * px * (1 + inst.taker_fee)
        self._commit_of[o.client_order_id] = (o.venue, asset, amount)
        self._committed[(o.venue, asset)] = self._committed.get((o.venue, asset), ZERO) + amount

    # -- order lists ------------------------------------------------------------------------------
    def _after_change(self, o: Order) -> None:
        if o.list_id is None:
            return
        ol = self._lists.get(o.list_id)
        if ol is None or ol.status is OrderListStatus.DONE:
            return
        self._list_rules(ol)

    def _leg(self, cid: str | None) -> Order | None:
        if cid is None:
            return None
        return self._open.get(cid) or self.store.get_order(cid)

    def _list_rules(self, ol: OrderList) -> None:
        """Bring an order list to the state its rules require (also after a restart)."""
        if ol.kind is OrderListKind.BRACKET and self._bracket_rules(ol):
            return
        limit, stop = self._leg(ol.limit_id), self._leg(ol.stop_id)
        if limit is None or stop is None:
            return
        for leg, other in ((limit, stop), (stop, limit)):
            # A leg that ended unfilled takes its partner with it, unless the partner is the one
            # that filled (it was cancelled *because* the partner filled).
            done_badly = leg.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED)
            done_badly = done_badly and leg.filled_qty == 0 and other.filled_qty == 0
            triggered_local = other.triggered and self._is_local(other) and other.venue_order_id is None
            if triggered_local and (other.client_order_id in self._firing or leg.filled_qty == 0):
                continue  # a triggered stop leg cancelled its partner itself and is on its way
            if (leg.filled_qty > 0 or done_badly) and other.is_open and other.status is not OrderStatus.PENDING_CANCEL:
                why = "the other leg filled" if leg.filled_qty > 0 else f"the other leg was {leg.status.value}"
                self._spawn(self._cancel_order(other, why))
        if limit.status.is_final and stop.status.is_final:
            if ol.kind is OrderListKind.OCO:
                self._close_list(ol, "done")
            else:
                self._bracket_rules(ol)

    def _bracket_rules(self, ol: OrderList) -> bool:
        """Keep a bracket's filled entry covered by one take-profit/stop-loss pair: exits follow
        partial fills of a working entry (the pair is replaced by a larger one), and a new pair
        covers what the entry filled after an earlier pair closed. True when nothing is left
        for the pair's OCO rules to do."""
        entry = self._leg(ol.entry_id)
        inst = self.instruments.get((ol.venue, ol.symbol))
        if entry is None or inst is None:
            return True
        pair = [x for x in (self._leg(ol.limit_id), self._leg(ol.stop_id)) if x is not None]
        closed = sum((leg.filled_qty for cid in ol.leg_ids if cid != ol.entry_id
                      if (leg := self._leg(cid)) is not None), ZERO)
        working = next((x.remaining for x in pair if x.is_open), ZERO)
        big_enough = lambda q: q >= inst.min_qty and q > 0 and q * (ol.take_profit or ZERO) >= inst.min_notional  # noqa: E731
        if any(x.is_open for x in pair):
            uncovered = inst.round_qty(entry.filled_qty - closed - working)
            if (big_enough(uncovered) and ol.note != "resizing" and not any(x.filled_qty > 0 for x in pair)
                    and ol.list_id not in self._placing):
                ol.note = "resizing"  # persisted: a restart finishes the replacement
                self.store.save_order_list(ol)
                self._log("info", N_("Bracket {list}: entry filled more, enlarging the exits"), list=ol.list_id)
                for x in pair:
                    if x.is_open:
                        self._spawn(self._cancel_order(x, "replaced by a larger exit"))
            return False
        if pair and ol.note != "resizing" and all(x.filled_qty == 0 for x in pair):
            self._close_list(ol, "exit orders ended unfilled")
            self._log("error", N_("Bracket {list}: its exit orders ended without a fill; the position is not "
                                  "protected any more"), list=ol.list_id)
            return True
        need = inst.round_qty(entry.filled_qty - closed)
        if big_enough(need):
            if ol.list_id not in self._placing:
                self._placing.add(ol.list_id)
                self._spawn(self._place_bracket_exits(ol, entry, need))
            return True
        if entry.status.is_final:
            if need > 0:
                self._log("warning", N_("Bracket {list}: {qty} left is below the exchange minimum and has no exits"),
                          list=ol.list_id, qty=fmt(need))
            self._close_list(ol, "done" if entry.filled_qty > 0 else "entry did not fill")
        return True

    def _close_list(self, ol: OrderList, note: str) -> None:
        ol.status = OrderListStatus.DONE
        ol.note = note
        self.store.save_order_list(ol)
        self._lists.pop(ol.list_id, None)
        self.bus.publish(OrderListUpdated(ol))

    async def _place_bracket_exits(self, ol: OrderList, entry: Order, qty: Decimal) -> None:
        try:
            if ol.take_profit is None or ol.stop_loss is None or ol.status is OrderListStatus.DONE:
                return
            oco = BracketRequest(
                ol.venue, ol.symbol, entry.side, qty, entry.type, entry.price, ol.take_profit, ol.stop_loss,
                ol.stop_loss_limit, entry.tag,
            ).exit_oco(qty)
            limit_req, stop_req = oco.legs()
            ol.note = ""
            self._log("info", N_("Bracket {list}: entry filled {qty}, placing take-profit and stop-loss"),
                      list=ol.list_id, qty=fmt(qty))
            await self._open_exit_pair(ol, limit_req, stop_req)
        finally:
            self._placing.discard(ol.list_id)

    # -- cancel -----------------------------------------------------------------------------------
    async def cancel(self, client_order_id: str, reason: str = "cancelled by user") -> bool:
        o = self._open.get(client_order_id)
        if o is None:
            return False
        d = self.risk.check_cancel(self.clock.monotonic())
        if d is not None:
            self._deny(o.to_request(), d)
            return False
        if o.list_id is not None and o.list_id in self._lists:
            await self.cancel_list(o.list_id, reason)
            return True
        return await self._cancel_order(o, reason)

    async def modify(self, client_order_id: str, *, price: Decimal | None = None,
                     stop_price: Decimal | None = None) -> Order | None:
        """Move a working order to a new price: cancel it, then place the rest at the new price
        (cancel/replace, as exchanges without amend do). Orders in an OCO or bracket are moved
        by cancelling the group, so this refuses them."""
        o = self._open.get(client_order_id)
        if o is None or o.list_id is not None:
            return None
        req = replace(o.to_request(), client_order_id=None, quantity=o.remaining,
                      price=price if price is not None else o.price,
                      stop_price=stop_price if stop_price is not None else o.stop_price)
        inst = self.instruments.get((o.venue, o.symbol))
        problems = validate_request(req, inst, self.last_price(o.venue, o.symbol)) if inst else []
        if problems:
            self._deny(req, problems[0])
            return None
        if not await self._cancel_order(o, "moved to a new price"):
            return None
        return await self.submit(req)

    async def cancel_list(self, list_id: str, reason: str = "cancelled by user") -> None:
        ol = self._lists.get(list_id)
        if ol is None:
            return
        legs = [self._open.get(c) for c in ([ol.entry_id] if ol.entry_id else []) + ol.exit_ids if c]
        await asyncio.gather(*(self._cancel_order(o, reason) for o in legs if o is not None and o.is_open))
        if ol.status is OrderListStatus.ACTIVE:
            self._close_list(ol, reason)

    async def _cancel_order(self, o: Order, reason: str) -> bool:
        if o.status.is_final:
            return False
        if self._is_local(o) and o.venue_order_id is None and o.client_order_id not in self._firing:
            self._event(o, OrderEvent.CANCELLED, reason)
            return True
        if o.status is not OrderStatus.PENDING_CANCEL:
            self._event(o, OrderEvent.CANCEL_REQUESTED, reason)
        return await self._cancel_at_venue(o)

    async def _cancel_at_venue(self, o: Order) -> bool:
        venue = self.venues[o.venue]
        for attempt in range(RETRIES):
            try:
                report = await asyncio.wait_for(venue.cancel(o), PLACE_TIMEOUT_S)
            except (TemporaryVenueError, TimeoutError):
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            except OrderNotFound as exc:
                report = ExecutionReport(o.venue, o.client_order_id, OrderEvent.CANCEL_REJECTED,
                                         self.clock.now_ms(), reason=exc.message)
            self.on_report(report)
            return o.status is OrderStatus.CANCELLED
        self._log("error", N_("Cancel of {order} got no answer; it will be retried at reconciliation"),
                  order=o.client_order_id)
        return False

    async def cancel_all(self, venue: str | None = None, symbol: str | None = None) -> int:
        targets = self.open_orders(venue, symbol)
        lists = {o.list_id for o in targets if o.list_id and o.list_id in self._lists}
        singles = [o for o in targets if not (o.list_id and o.list_id in self._lists)]
        results = await asyncio.gather(
            *(self.cancel_list(lid, "cancel all") for lid in lists),
            *(self._cancel_order(o, "cancel all") for o in singles),
            return_exceptions=True,
        )
        for r in results:
            if isinstance(r, BaseException):
                self._log("error", N_("Cancel all: {error}"), error=str(r))
        return len(targets)

    # -- kill switch and trading state --------------------------------------------------------------
    async def kill_switch(self, flatten: bool = False) -> dict[str, int]:
        """Halt trading, cancel every open order and, optionally, close every position at market."""
        self._set_state(TradingState.HALTED, "kill_switch")
        self._log("warning", N_("KILL SWITCH: trading halted, cancelling every open order"))
        cancelled = await self.cancel_all()
        flattened = 0
        if flatten:
            for pos in self.portfolio.positions():
                inst = self.instruments.get((pos.venue, pos.symbol))
                if inst is None or pos.venue not in self.ready:
                    continue
                qty = inst.round_qty(min(abs(pos.quantity), self.portfolio.balance(pos.venue, inst.base))
                                     if pos.quantity > 0 else abs(pos.quantity))
                if qty <= 0 or qty < inst.min_qty:
                    continue
                side = Side.SELL if pos.quantity > 0 else Side.BUY
                req = OrderRequest(pos.venue, pos.symbol, side, OrderType.MARKET, qty, reduce_only=True, tag="flatten")
                if await self.submit(req, bypass_risk=True) is not None:
                    flattened += 1
        self._log("warning", N_("Kill switch done: {c} orders cancelled, {f} positions closed"),
                  c=str(cancelled), f=str(flattened))
        return {"cancelled": cancelled, "flattened": flattened}

    def rearm(self) -> None:
        self._set_state(TradingState.ACTIVE, "re-armed by user")
        self._log("info", N_("Trading re-armed"))

    def set_limits(self, limits: RiskLimits) -> None:
        self.risk.limits = limits
        self.store.set_setting("risk.limits", limits.to_json())

    def _set_state(self, state: TradingState, reason: str) -> None:
        if self.risk.set_state(state, reason):
            self.store.set_setting("risk.state", {"state": state.value, "reason": reason})
            self.bus.publish(RiskStateChanged(state, reason))

    def _restore_risk_state(self) -> None:
        saved = self.store.get_setting("risk.state")
        if saved:
            self.risk.set_state(TradingState(saved["state"]), saved.get("reason", ""))

    def _load_limits(self) -> RiskLimits:
        data = self.store.get_setting("risk.limits")
        return RiskLimits.from_json(data) if data else RiskLimits()

    def check_daily_loss(self) -> None:
        """Called on a timer: track P&L since the day started; at the limit, only reduce."""
        now = self.clock.now_ms()
        if not all(self.portfolio.equity_known(v) for v in self.ready):
            return  # some holding has no price yet: the day's starting equity would be wrong
        equity = sum((self.portfolio.equity(v) for v in self.ready), ZERO)
        day = day_start_ms(now)
        if self.risk._day != day:
            saved = self.store.get_setting(f"risk.day_start.{day}")
            start = Decimal(saved) if saved is not None else equity
            if saved is None:
                self.store.set_setting(f"risk.day_start.{day}", str(equity))
            self.risk.new_day(day, start)
        if self.risk.update_daily_pnl(equity):
            self.store.set_setting("risk.state", {"state": self.risk.state.value, "reason": "daily_loss"})
            self.bus.publish(RiskStateChanged(self.risk.state, "daily_loss"))
            self._log("warning", N_("Daily loss limit reached ({pnl}): only reducing orders pass"),
                      pnl=fmt(self.risk.daily_pnl))

    # -- market data: marks and locally watched orders ------------------------------------------------
    def on_trade(self, trade: Trade) -> None:
        self.portfolio.mark(trade.symbol, trade.price)
        # Keyed by symbol: a paper venue republishes its source's trades under the source's name.
        armed = self._armed.get(trade.symbol)
        if not armed:
            return
        for o in list(armed.values()):
            if o.client_order_id in self._firing or o.triggered:
                continue
            if self._hit(o, trade.price):
                self._firing.add(o.client_order_id)
                self._spawn(self._fire(o))

    def _hit(self, o: Order, last: Decimal) -> bool:
        if o.type is OrderType.TRAILING_STOP:
            if o.update_trail(last):
                now = self.clock.monotonic()
                if now - self._trail_saved.get(o.client_order_id, 0.0) >= 1.0:
                    self._trail_saved[o.client_order_id] = now
                    self.store.save_order(o)
            return o.trailing_hit(last)
        if o.stop_price is None:
            return False
        above = (o.side is Side.BUY) == o.type.is_stop
        return last >= o.stop_price if above else last <= o.stop_price

    async def _fire(self, o: Order) -> None:
        """A locally watched order triggered: for an OCO stop leg, cancel the limit leg first."""
        try:
            if o.status.is_final:
                return
            self._event(o, OrderEvent.TRIGGERED)
            self._log("info", N_("Triggered: {order}"), order=self._order_words(o))
            ol = self._lists.get(o.list_id) if o.list_id else None
            if ol is not None and ol.stop_id == o.client_order_id:
                limit = self._leg(ol.limit_id)
                if limit is not None and limit.is_open:
                    await self._cancel_order(limit, "the stop leg triggered")
                if limit is not None and limit.filled_qty > 0:
                    # The limit leg filled first: by the OCO rule this leg is cancelled, not sent.
                    if o.is_open:
                        self._event(o, OrderEvent.CANCELLED, "the other leg filled first")
                    return
            if o.is_open:
                await self._send(o)
        finally:
            self._firing.discard(o.client_order_id)
            armed = self._armed.get(o.symbol)
            if armed is not None and (o.status.is_final or o.triggered):
                armed.pop(o.client_order_id, None)

    # -- tasks and words ----------------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("order task failed", exc_info=task.exception())
            self._log("error", N_("An order task failed: {error}"), error=str(task.exception()))

    async def drain(self) -> None:
        """Wait for follow-up work (OCO cancels, bracket exits, triggered sends) to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, timeout: float = 5.0) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=timeout)
            for t in pending:
                t.cancel()

    def _log(self, level: str, template: str, **params: str) -> None:
        """Tell the user what happened: the English text goes to the log file, the template and
        its values to the activity panel, which shows it in the user's language."""
        message = template.format(**params) if params else template
        getattr(log, level)(message)
        self.bus.publish(ActivityLogged(level, message, self.clock.now_ms(), template, params))

    @staticmethod
    def _order_words(o: Order) -> str:
        words = f"{o.side.value} {fmt(o.quantity)} {o.symbol} {o.type.value.replace('_', ' ')}"
        if o.price is not None:
            words += f" @ {fmt(o.price)}"
        if o.stop_price is not None:
            words += f" trigger {fmt(o.stop_price)}"
        if o.trail_value is not None:
            words += f" trail {fmt(o.trail_value)}{'%' if o.trail_mode and o.trail_mode.value == 'percent' else ''}"
        return words

    @staticmethod
    def _fill_words(f: Fill) -> str:
        verb = "bought" if f.side is Side.BUY else "sold"
        return f"{verb} {fmt(f.quantity)} {f.symbol} at {fmt(f.price)} (fee {fmt(f.fee)} {f.fee_asset})"

