"""The order manager: the one door to the order path, for the window, the CLI, strategies and
tests. It composes the roles (after NautilusTrader's split, without its weight):

- ``Admission`` — venue, instrument, filters, ids and the risk verdict on the account;
- ``execution.ExecutionEngine`` — to the venue and back: persist, send, cancel, reports, fills;
- ``execution.OrderEmulator`` — stops, take-profits and trailing stops watched here;
- ``execution.contingency`` / ``ListManager`` — OCO and bracket rules, and putting them to work;
- ``execution.Reconciler`` — after a restart or a reconnect;
- ``execution.Reservations`` — funds open orders hold;
- ``risk`` — rules, trading state, daily loss, kill switch; ``Cache`` — what the UI reads.

Request → admission → persisted (PENDING_NEW, with an audit entry) → sent or watched → every
acknowledgement, fill and cancel persisted, then published.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from itertools import count
from typing import Any

from app.domain.enums import (
    Emulation,
    OrderEvent,
    OrderListKind,
    OrderOrigin,
    OrderType,
    Side,
    TradingState,
)
from app.domain.instrument import Instrument, InstrumentId, Problem
from app.domain.market import Trade
from app.domain.money import ZERO
from app.domain.order import IdRules, Order, OrderRequest
from app.domain.order_list import (
    BracketRequest,
    OcoRequest,
    OrderList,
    leg_problems,
    validate_bracket,
    validate_oco,
)
from app.i18n import N_
from app.security.audit import AuditLog
from app.storage import Store
from app.venues.base import Venue

from .activity import Activity, order_words
from .admission import Admission
from .bus import EventBus
from .cache import Cache
from .clock import Clock
from .cost_basis import CostBasisKeeper
from .events import OrderListUpdated, PortfolioChanged, ReconciliationDone
from .execution.core import Core
from .execution.emulator import OrderEmulator
from .execution.engine import ExecutionEngine
from .execution.lists import ListManager
from .execution.reconciliation import Reconciler
from .execution.release import Releaser
from .execution.reservations import Reservations
from .portfolio import Portfolio
from .risk import Denial, RiskEngine, RiskLimits
from .risk.daily_loss import DailyLoss
from .risk.kill_switch import KillResult, KillSwitch, flatten
from .risk.rules import band
from .risk.state import RiskState, load_limits
from .tasks import Tasks

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
ID_EPOCH_SETTING = "oms.id_epoch_ms"


def _b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


class OrderManager:
    def __init__(
        self,
        bus: EventBus,
        store: Store,
        *,
        risk: RiskEngine | None = None,
        clock: Clock | None = None,
        id_prefix: str = "ag",
        mode: str = "demo",
        valuation_currency: str = "USDT",
    ) -> None:
        self.bus, self.store = bus, store
        self.clock = clock or Clock()
        self.cache = Cache(bus)
        self.portfolio = Portfolio(valuation_currency, self.cache.market)
        self.risk = risk or RiskEngine(load_limits(store))
        self.activity = Activity(bus, self.clock)
        self.ready: set[str] = set()
        self._prefix, self._ids, self._epoch = id_prefix, count(1), _b36(self._id_epoch())
        self.core = Core(
            bus,
            store,
            self.clock,
            self.cache,
            self.portfolio,
            self.risk,
            AuditLog(store, self.clock.now_ms, mode),
            self.activity,
            Tasks(lambda e: self.activity.error(N_("An order task failed: {error}"), error=str(e))),
            Reservations(self.cache.instrument, self.last_price, lambda o: self.core.buy_pair_price(o)),
        )
        self.admission = Admission(self.core, self.ready, self._id_rules)
        self.execution = ExecutionEngine(self.core, self._after_change)
        self.emulator = OrderEmulator(self.core, lambda o: self.releaser.fire(o))
        self.lists = ListManager(
            self.core, self.execution, self.emulator, self.new_client_id, self._check_exit, self._emulates
        )
        self.releaser = Releaser(self.core, self.execution, self.lists, self._check_release)
        self.reconciler = Reconciler(self.core, self.execution, self.lists, self.emulator, self.releaser.resend)
        self.state = RiskState(self.core)
        self.kill = KillSwitch(
            self.core,
            self.execution,
            self.lists,
            self.emulator,
            self.state.set,
            lambda: flatten(self.core, self.submit, self.available),
        )
        self.daily = DailyLoss(self.risk, self.portfolio, store, self.clock, bus, self.activity, lambda: self.ready)
        self.basis = CostBasisKeeper(self.core)
        bus.subscribe(Trade, self.emulator.on_trade)
        self.state.restore()

    # -- what the window reads ---------------------------------------------------------------------
    @property
    def venues(self) -> dict[str, Venue]:
        return self.core.venues

    @property
    def instruments(self) -> dict[tuple[str, str], Instrument]:
        return {(k.venue, k.symbol): i for k, i in self.cache.instruments.items()}

    def _id_epoch(self) -> int:
        """This session's id epoch: now, but always after the last session's (stored), so a clock set
        back or a restart within the same millisecond never hands out an id a venue already knows —
        it would take a new order for the old one (client ids are idempotent at the venues)."""
        last = self.store.get_setting(ID_EPOCH_SETTING)
        epoch = max(self.clock.now_ms(), last + 1 if isinstance(last, int) else 0)
        self.store.set_setting(ID_EPOCH_SETTING, epoch)
        return epoch

    def new_client_id(self) -> str:
        return f"{self._prefix}{self._epoch}{_b36(next(self._ids)).rjust(4, '0')}"

    def get(self, client_order_id: str) -> Order | None:
        return self.core.order(client_order_id)

    def open_orders(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        return self.cache.open_orders(venue, symbol)

    def order_lists(self) -> list[OrderList]:
        return self.cache.live_lists()

    def order_list(self, list_id: str) -> OrderList | None:
        return self.core.order_list(list_id)

    def last_price(self, venue: str, symbol: str) -> Decimal | None:
        return self.cache.market.last_price(InstrumentId(venue, symbol))

    def available(self, venue: str, asset: str) -> Decimal:
        return self.admission.available(venue, asset)

    def precheck(self, req: OrderRequest) -> list[Problem | Denial]:
        return self.admission.precheck(req)

    # -- venues ---------------------------------------------------------------------------------------
    async def add_venue(self, venue: Venue) -> ReconciliationDone:
        """Load markets, positions and open orders, reconcile with the venue, then accept orders."""
        name = venue.name
        self.core.venues[name] = venue
        venue.set_report_handler(self.execution.on_report)
        self.cache.market.alias_data(name, venue.data_venue)
        markets = await venue.load_markets()
        self.cache.add_instruments(markets)
        self.portfolio.add_instruments(markets)
        self.portfolio.restore(self.store.load_fills(venue=name), self.store.load_cost_basis(name))
        halted = self.risk.state is TradingState.HALTED
        self.emulator.halted = halted
        await self.sync_balances(venue)  # what re-sends are checked against
        done = await self.reconciler.reconcile(venue, halted=halted)
        await self.sync_balances(venue)  # the venue's balances are the truth, missed fills included
        for pos in self.portfolio.positions(name):
            self.store.save_lots(name, pos.symbol, self.portfolio.lots(name, pos.symbol))
        self.basis.start(name)
        self.ready.add(name)
        intent = self.kill.pending
        if halted and (intent is not None or self.cache.open_orders(name)):
            self.activity.warning(N_("Trading is halted: finishing the kill switch's cancel-all"))
            await self.kill.finish(bool(intent and intent.get("flatten")))
        return done

    async def sync_balances(self, venue: Venue) -> None:
        balances = await venue.fetch_balances()
        self.portfolio.set_balances(venue.name, balances)
        self.store.save_balances(venue.name, balances)
        self.bus.publish(PortfolioChanged(venue.name))

    async def reconcile(self, venue: Venue) -> ReconciliationDone:
        """Check every open order against the venue again (after a reconnect)."""
        return await self.reconciler.reconcile(venue, halted=self.risk.state is TradingState.HALTED)

    def _id_rules(self, venue: str) -> IdRules:
        v = self.core.venues.get(venue)
        return v.capabilities.id_rules if v is not None else IdRules()

    def _emulates(self, o: Order, oco_stop_leg: bool) -> bool:
        """Orders the venue cannot hold natively are watched here and released when they trigger."""
        caps = self.core.venues[o.venue].capabilities
        if oco_stop_leg and not caps.native_oco:
            return True
        if o.type is OrderType.TRAILING_STOP:
            return not caps.native_trailing
        if o.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            return not caps.native_stop
        if o.type in (OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT):
            return not caps.native_take_profit
        return False

    # -- submitting -------------------------------------------------------------------------------
    def _admit(
        self, request: object, reqs: list[OrderRequest], extra: Callable[[Instrument], Sequence[Problem | Denial]]
    ) -> Instrument | None:
        """Filters of every order, the list's own rules, then risk on every order (an OCO's legs
        share their funds): the first problem is published and nothing happens."""
        inst, found = self.admission.problems(reqs[0])
        problems: list[Problem | Denial] = list(found)
        for r in reqs[1:]:
            problems += self.admission.problems(r)[1]
        if inst is not None:
            problems = [*extra(inst), *problems]
        if problems or inst is None:
            self.admission.deny(request, problems[0])
            return None
        # One order's funds cover the list (one leg fills): a buy pair's at the higher of its prices,
        # since its stop buys above the limit (the stop leg's own check would otherwise be skipped).
        last = self.last_price(reqs[0].venue, reqs[0].symbol)
        funds = 0
        if all(r.side is Side.BUY for r in reqs):
            prices = [r.reference_price(last) or ZERO for r in reqs]
            funds = prices.index(max(prices))
        for i, r in enumerate(reqs):
            d = self.admission.check(r, inst, count=i == 0, shares_funds=i != funds, adding=i)
            if d is not None:
                self.admission.deny(request, d)
                return None
        return inst

    async def submit(self, req: OrderRequest) -> Order | None:
        """Place one order: the order in whatever state the venue left it, or ``None`` when refused
        (published as ``OrderDenied``). A client order id that exists already returns that order
        and sends nothing (an idempotent retry)."""
        if req.client_order_id is not None and (existing := self.get(req.client_order_id)) is not None:
            return existing
        if self._admit(req, [req], lambda _i: []) is None:
            return None
        order = Order.from_request(req, self.clock.now_ms(), req.client_order_id or self.new_client_id())
        if self._emulates(order, False):
            order.emulation = Emulation.EMULATED
        with self.store.transaction():
            self.store.save_order(order)
            self.core.audit.record("order.submit", order.venue, **_audit(order))
        self.execution.track(order)
        if order.emulation is Emulation.EMULATED:
            self.lists.accept_locally(order)
        else:
            await self.execution.send(order)
        return order

    async def submit_oco(self, req: OcoRequest) -> OrderList | None:
        limit_req, stop_req = req.legs()
        last = self.last_price(req.venue, req.symbol)
        if self._admit(req, [limit_req, stop_req], lambda inst: validate_oco(req, inst, last)) is None:
            return None
        ol = OrderList(self.new_client_id(), OrderListKind.OCO, req.venue, req.symbol, created_ms=self.clock.now_ms())
        self.lists.register(ol)
        await self.lists.open_pair(ol, limit_req, stop_req)
        return ol

    async def submit_bracket(self, req: BracketRequest) -> OrderList | None:
        entry_req = req.entry()
        last = self.last_price(req.venue, req.symbol)

        def rules(inst: Instrument) -> list[Problem | Denial]:
            # The exits' prices meet the fat-finger band now, as the entry's does (+900% / -90% never pass).
            far = band(
                {"take_profit": req.take_profit, "stop_loss": req.stop_loss, "stop_loss_limit": req.stop_loss_limit},
                last,
                self.risk.limits,
            )
            found: list[Problem | Denial] = [*validate_bracket(req, inst, last)]
            return found + ([far] if far else [])

        if self._admit(req, [entry_req], rules) is None:
            return None
        now = self.clock.now_ms()
        ol = OrderList(
            self.new_client_id(),
            OrderListKind.BRACKET,
            req.venue,
            req.symbol,
            take_profit=req.take_profit,
            stop_loss=req.stop_loss,
            stop_loss_limit=req.stop_loss_limit,
            created_ms=now,
        )
        entry = Order.from_request(entry_req, now, self.new_client_id(), ol.list_id)
        ol.entry_id = entry.client_order_id
        ol.leg_ids.append(entry.client_order_id)
        with self.store.transaction():
            self.store.save_order_list(ol)
            self.store.save_order(entry)
            self.core.audit.record(
                "order.submit",
                entry.venue,
                **_audit(entry),
                bracket={
                    "take_profit": req.take_profit,
                    "stop_loss": req.stop_loss,
                    "stop_loss_limit": req.stop_loss_limit,
                },
            )
        self.lists.register(ol)
        self.bus.publish(OrderListUpdated(ol))
        self.execution.track(entry)
        self.activity.info(N_("Bracket {list}: entry {order}"), list=ol.list_id, order=order_words(entry))
        await self.execution.send(entry)
        return ol

    def _check_exit(self, req: OrderRequest) -> Denial | None:
        inst = self.cache.instrument(req.venue, req.symbol)
        return None if inst is None else self.admission.check(req, inst)

    def _check_release(self, req: OrderRequest, own: str) -> Denial | None:
        inst = self.cache.instrument(req.venue, req.symbol)
        return None if inst is None else self.admission.check(req, inst, excluding=own)

    def _after_change(self, o: Order) -> None:
        if o.status.is_final:
            self.emulator.disarm(o)
        ol = self.core.order_list(o.list_id)
        if ol is not None and ol.status.is_live:
            self.lists.evaluate(ol)

    # -- cancelling and moving --------------------------------------------------------------------
    async def cancel(self, client_order_id: str, reason: str = "cancelled by user") -> bool:
        o = self.cache.open.get(client_order_id)
        if o is None:
            return False
        d = self.risk.check_cancel(self.clock.monotonic(), count=False)
        if d is not None:
            self.admission.deny(o.to_request(), d)
            return False
        ol = self.core.order_list(o.list_id)
        if ol is not None and ol.status.is_live:
            await self.lists.cancel_list(ol, reason)
            return True
        return await self.execution.cancel(o, reason)

    async def cancel_list(self, list_id: str, reason: str = "cancelled by user") -> None:
        ol = self.core.order_list(list_id)
        if ol is not None:
            await self.lists.cancel_list(ol, reason)

    async def cancel_all(self, venue: str | None = None, symbol: str | None = None) -> int:
        """Cancel every live list (exits on their way included) and every open order."""
        lists = [ol for ol in self.cache.live_lists(venue) if symbol is None or ol.symbol == symbol]
        singles = [o for o in self.open_orders(venue, symbol) if o.list_id not in {ol.list_id for ol in lists}]
        n = len(self.open_orders(venue, symbol))
        await _gather(
            [self.lists.cancel_list(ol, "cancel all") for ol in lists]
            + [self.execution.cancel(o, "cancel all") for o in singles]
        )
        return n

    async def modify(
        self, client_order_id: str, *, price: Decimal | None = None, stop_price: Decimal | None = None
    ) -> Order | None:
        """Move a working order to a new price. The new order is checked first (filters, risk,
        throttles): refused, the original stays untouched. A watched order moves here; one at the
        venue is cancelled and its remainder placed again (no native amend yet)."""
        o = self.cache.open.get(client_order_id)
        if o is None:
            return None
        ol = self.core.order_list(o.list_id)
        if ol is not None and o.client_order_id not in {x for pair in ol.pairs() for x in pair}:
            return None  # a bracket's entry moves with its list: cancel and place it again
        req = replace(
            o.to_request(),
            client_order_id=None,
            quantity=o.remaining,
            origin=OrderOrigin.REPLACE,
            price=price if price is not None else o.price,
            stop_price=stop_price if stop_price is not None else o.stop_price,
        )
        inst, problems = self.admission.problems(req)
        if ol is not None and req.price is not None and req.type is OrderType.LIMIT:
            problems += leg_problems(req.side, req.price, self.last_price(o.venue, o.symbol))
        if inst is None or problems:
            self.admission.deny(req, problems[0])
            return None
        d = self.admission.check(
            req, inst, count=False, excluding=o.client_order_id, shares_funds=self.core.is_stop_leg(o)
        )
        d = d or (
            None if o.emulation is Emulation.EMULATED else self.risk.check_cancel(self.clock.monotonic(), count=False)
        )
        if d is not None:
            self.admission.deny(req, d)
            return None
        self.core.audit.record(
            "order.modify", o.venue, order=o.client_order_id, price=req.price, stop_price=req.stop_price
        )
        if o.emulation is Emulation.EMULATED:  # nothing at the venue: the trigger just moves
            o.price, o.stop_price = req.price, req.stop_price
            o.apply(OrderEvent.AMENDED, self.clock.now_ms())
            self.execution.persist(o)
            return o
        return await self.lists.replace_leg(ol, o, req) if ol is not None else await self._replace(o, req)

    async def _replace(self, o: Order, req: OrderRequest) -> Order | None:
        if not await self.execution.cancel(o, "moved to a new price") or o.remaining <= 0:
            return None
        return await self.submit(replace(req, quantity=o.remaining))

    # -- trading state ----------------------------------------------------------------------------
    async def kill_switch(self, flatten: bool = False) -> KillResult:
        """Halt trading, cancel every open order and list and, optionally, sell what is held."""
        return await self.kill.trip(flatten)

    def rearm(self) -> None:
        self.core.audit.record("rearm", "")
        self.emulator.halted = False
        self.state.set(TradingState.ACTIVE, "re-armed by user")
        for o in self.cache.iter_open():
            if o.emulation is Emulation.EMULATED and not o.triggered:
                self.emulator.arm(o)
        self.activity.info(N_("Trading re-armed"))

    def set_limits(self, limits: RiskLimits) -> None:
        self.state.set_limits(limits)

    def record_setting(self, key: str, value: Any) -> None:
        """An audit entry for a setting the user changed (no secrets: callers pass plain values)."""
        self.core.audit.record("setting", "", key=key, value=value)

    def check_daily_loss(self) -> None:
        """Called every second: the daily loss limit, and costs for coins found held."""
        self.daily.check()
        self.basis.check()

    def set_cost_basis(self, venue: str, asset: str, unit_cost: Decimal) -> None:
        """The user's own cost for coins held before the first fill (replaces the estimate)."""
        self.basis.set(venue, asset, unit_cost)

    # -- housekeeping -------------------------------------------------------------------------------
    def on_report(self, report: Any) -> None:
        self.execution.on_report(report)

    async def drain(self) -> None:
        """Wait for follow-up work (OCO cancels, bracket exits, triggered sends) to finish."""
        await self.core.tasks.drain()

    async def close(self, timeout: float = 5.0) -> None:
        await self.kill.close()
        await self.core.tasks.close(timeout)


def _audit(o: Order) -> dict[str, Any]:
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
        "emulated": o.emulation is Emulation.EMULATED,
    }


async def _gather(coros: list[Any]) -> None:
    if coros:
        await asyncio.gather(*coros, return_exceptions=True)
