"""Admission: the checks an order request meets before it becomes an order — the venue is ready,
the instrument known, the request within the exchange's filters and id rules, and the risk
engine's verdict on the account as it stands (holdings, funds other orders hold, open buys,
the quote currency's value). A refusal is published as ``OrderDenied``, in words."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from app.domain.enums import OrderType
from app.domain.instrument import Instrument, InstrumentId, Problem
from app.domain.money import ZERO
from app.domain.order import DEFAULT_ID_RULES, IdRules, OrderRequest, id_problems, validate_request
from app.i18n import N_

from .events import OrderDenied
from .execution.core import Core
from .risk import Denial, OrderContext


class Admission:
    def __init__(self, core: Core, ready: set[str], id_rules: Callable[[str], IdRules]) -> None:
        self.core = core
        self.ready = ready
        self.id_rules = id_rules

    def last_price(self, venue: str, symbol: str) -> Decimal | None:
        return self.core.cache.market.last_price(InstrumentId(venue, symbol))

    def available(self, venue: str, asset: str, *, excluding: str | None = None) -> Decimal:
        """Balance not committed to our open orders (``excluding`` one of them)."""
        return self.core.portfolio.balance(venue, asset) - self.core.reservations.held(
            venue, asset, excluding=excluding
        )

    def context(
        self,
        req: OrderRequest,
        inst: Instrument,
        *,
        excluding: str | None = None,
        shares_funds: bool = False,
        adding: int = 0,
    ) -> OrderContext:
        c = self.core
        last = self.last_price(req.venue, req.symbol)
        ref = req.reference_price(last)
        if req.type is OrderType.MARKET:
            ref = c.cache.market.touch(InstrumentId(req.venue, req.symbol), req.side) or last
        open_orders = len(c.cache.open) - (1 if excluding is not None and excluding in c.cache.open else 0)
        open_orders += adding  # the orders of the same list checked before this one
        return OrderContext(
            instrument=inst,
            last=last,
            reference_price=ref,
            free_base=self.available(req.venue, inst.base, excluding=excluding),
            free_quote=self.available(req.venue, inst.quote, excluding=excluding),
            position_qty=max(c.portfolio.balance(req.venue, inst.base), ZERO),
            open_orders=open_orders,
            quote_value=c.portfolio.price_of(inst.quote, req.venue),
            open_buy_qty=c.reservations.open_buys(req.venue, inst.base, excluding=excluding),
            shares_funds=shares_funds,
            valuation_currency=c.portfolio.ccy,
        )

    def problems(self, req: OrderRequest) -> tuple[Instrument | None, list[Problem]]:
        """The instrument and every filter/id problem of ``req`` (not the risk verdict)."""
        if req.venue not in self.core.venues:
            return None, [Problem("venue", "order.unknown_venue", "Unknown venue {venue}", {"venue": req.venue})]
        if req.venue not in self.ready:
            return None, [
                Problem(
                    "venue",
                    "order.venue_not_ready",
                    "{venue} is not connected or still reconciling",
                    {"venue": req.venue},
                )
            ]
        inst = self.core.cache.instrument(req.venue, req.symbol)
        if inst is None:
            return None, [
                Problem(
                    "symbol",
                    "order.unknown_symbol",
                    "Unknown symbol {symbol} at {venue}",
                    {"symbol": req.symbol, "venue": req.venue},
                )
            ]
        problems = validate_request(req, inst, self.last_price(req.venue, req.symbol))
        problems += id_problems(req.client_order_id, req.tag, self.id_rules(req.venue))
        return inst, problems

    def check(
        self,
        req: OrderRequest,
        inst: Instrument,
        *,
        count: bool = True,
        excluding: str | None = None,
        shares_funds: bool = False,
        adding: int = 0,
    ) -> Denial | None:
        c = self.core
        ctx = self.context(req, inst, excluding=excluding, shares_funds=shares_funds, adding=adding)
        return c.risk.check(req, ctx, c.clock.monotonic(), count=count)

    def precheck(self, req: OrderRequest) -> list[Problem | Denial]:
        """What the ticket shows before the user can submit: filter problems and the risk verdict
        (without counting the order for the throttles)."""
        inst, found = self.problems(req)
        problems: list[Problem | Denial] = list(found)
        if inst is not None and not problems:
            d = self.check(req, inst, count=False)
            if d is not None:
                problems.append(d)
        return problems

    def deny(self, request: object, p: Problem | Denial) -> None:
        self.core.bus.publish(OrderDenied(request, p.key, p.message, dict(p.params), p.field, p.template))
        self.core.activity.warning(N_("Order refused: {reason}"), reason=p.message)


def no_id_rules(_venue: str) -> IdRules:
    return DEFAULT_ID_RULES
