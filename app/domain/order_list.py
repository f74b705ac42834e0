"""Order lists: OCO (a limit leg and a stop leg, one cancels the other) and brackets
(an entry; once it fills, an OCO of take-profit and stop-loss)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .enums import OrderListKind, OrderListStatus, OrderType, Side
from .instrument import Instrument, Problem
from .money import fmt, require_decimal
from .order import OrderRequest, number_problems, require_fields, validate_request


@dataclass(frozen=True, slots=True)
class OcoRequest:
    venue: str
    symbol: str
    side: Side
    quantity: Decimal
    limit_price: Decimal  # the take-profit (limit maker) leg
    stop_price: Decimal  # trigger of the stop leg
    stop_limit_price: Decimal | None = None  # None: stop-market leg
    tag: str = ""

    def __post_init__(self) -> None:
        require_fields(self, {"venue": str, "symbol": str, "side": Side, "tag": str})
        for name in ("quantity", "limit_price", "stop_price"):
            require_decimal(name, getattr(self, name))
        require_decimal("stop_limit_price", self.stop_limit_price, allow_none=True)

    def legs(self) -> tuple[OrderRequest, OrderRequest]:
        limit = OrderRequest(
            self.venue, self.symbol, self.side, OrderType.LIMIT, self.quantity, price=self.limit_price, tag=self.tag
        )
        stop_type = OrderType.STOP_MARKET if self.stop_limit_price is None else OrderType.STOP_LIMIT
        stop = OrderRequest(
            self.venue,
            self.symbol,
            self.side,
            stop_type,
            self.quantity,
            price=self.stop_limit_price,
            stop_price=self.stop_price,
            tag=self.tag,
        )
        return limit, stop


def oco_price_problems(side: Side, limit_price: Decimal, stop_price: Decimal, last: Decimal) -> list[Problem]:
    """The exchange rule: SELL needs limit > last > stop; BUY needs limit < last < stop."""
    params = {"limit": fmt(limit_price), "last": fmt(last), "stop": fmt(stop_price)}
    if side is Side.SELL and not (limit_price > last > stop_price):
        return [
            Problem(
                "oco",
                "oco.sell_prices",
                "For a sell OCO the limit price must be above the last price and the stop price below it "
                "(limit {limit} > last {last} > stop {stop})",
                params,
            )
        ]
    if side is Side.BUY and not (limit_price < last < stop_price):
        return [
            Problem(
                "oco",
                "oco.buy_prices",
                "For a buy OCO the limit price must be below the last price and the stop price above it "
                "(limit {limit} < last {last} < stop {stop})",
                params,
            )
        ]
    return []


def leg_problems(side: Side, limit_price: Decimal, last: Decimal | None) -> list[Problem]:
    """An OCO's limit leg, moved: it stays on its side of the market (a sell above the last price,
    a buy below), as the exchange requires."""
    if last is None or (limit_price > last if side is Side.SELL else limit_price < last):
        return []
    if side is Side.SELL:
        return [
            Problem(
                "price",
                "oco.leg_limit_above",
                "The limit leg of a sell OCO must stay above the last price {last}",
                {"last": fmt(last)},
            )
        ]
    return [
        Problem(
            "price",
            "oco.leg_limit_below",
            "The limit leg of a buy OCO must stay below the last price {last}",
            {"last": fmt(last)},
        )
    ]


def validate_oco(req: OcoRequest, inst: Instrument, last: Decimal | None) -> list[Problem]:
    problems = number_problems(
        {
            "quantity": req.quantity,
            "limit_price": req.limit_price,
            "stop_price": req.stop_price,
            "stop_limit_price": req.stop_limit_price,
        }
    )
    if problems:
        return problems
    if last is None:
        return [Problem("oco", "oco.no_last", "No last price yet: an OCO needs one to check its prices", {})]
    problems += oco_price_problems(req.side, req.limit_price, req.stop_price, last)
    if req.stop_limit_price is not None:
        worse = req.stop_limit_price > req.stop_price if req.side is Side.BUY else req.stop_limit_price < req.stop_price
        if not worse and req.stop_limit_price != req.stop_price:
            problems.append(
                Problem(
                    "stop_limit_price",
                    "oco.stop_limit_side",
                    "The stop-limit price {price} should be at or beyond the stop price {stop}, "
                    "or the order may never fill",
                    {"price": fmt(req.stop_limit_price), "stop": fmt(req.stop_price)},
                )
            )
    for leg in req.legs():
        for p in validate_request(leg, inst, None):
            if p not in problems:
                problems.append(p)
    return problems


@dataclass(frozen=True, slots=True)
class BracketRequest:
    """Entry order, then on its fill a take-profit/stop-loss OCO on the opposite side."""

    venue: str
    symbol: str
    side: Side
    quantity: Decimal
    entry_type: OrderType  # MARKET or LIMIT
    entry_price: Decimal | None
    take_profit: Decimal
    stop_loss: Decimal
    stop_loss_limit: Decimal | None = None
    tag: str = ""

    def __post_init__(self) -> None:
        require_fields(self, {"venue": str, "symbol": str, "side": Side, "entry_type": OrderType, "tag": str})
        for name in ("quantity", "take_profit", "stop_loss"):
            require_decimal(name, getattr(self, name))
        require_decimal("entry_price", self.entry_price, allow_none=True)
        require_decimal("stop_loss_limit", self.stop_loss_limit, allow_none=True)

    def entry(self) -> OrderRequest:
        return OrderRequest(
            self.venue,
            self.symbol,
            self.side,
            self.entry_type,
            self.quantity,
            price=self.entry_price if self.entry_type is OrderType.LIMIT else None,
            tag=self.tag,
        )

    def exit_oco(self, quantity: Decimal) -> OcoRequest:
        return OcoRequest(
            self.venue,
            self.symbol,
            self.side.opposite,
            quantity,
            limit_price=self.take_profit,
            stop_price=self.stop_loss,
            stop_limit_price=self.stop_loss_limit,
            tag=self.tag,
        )


def validate_bracket(req: BracketRequest, inst: Instrument, last: Decimal | None) -> list[Problem]:
    problems = number_problems(
        {"take_profit": req.take_profit, "stop_loss": req.stop_loss, "stop_loss_limit": req.stop_loss_limit}
    )
    if problems:
        return problems
    problems = validate_request(req.entry(), inst, last)
    if req.entry_type not in (OrderType.MARKET, OrderType.LIMIT):
        problems.append(Problem("entry", "bracket.entry_type", "A bracket entry is a market or limit order", {}))
    ref = req.entry_price if req.entry_type is OrderType.LIMIT else last
    if ref is None:
        problems.append(Problem("entry", "bracket.no_price", "No last price yet to check the bracket", {}))
        return problems
    # Relative to the entry, the exits follow the OCO rule on the opposite side.
    problems += oco_price_problems(req.side.opposite, req.take_profit, req.stop_loss, ref)
    for leg in req.exit_oco(req.quantity).legs():
        problems += [p for p in validate_request(leg, inst, None) if p.field != "quantity"]
    return problems


@dataclass(slots=True, eq=False)
class OrderList:
    """A group of orders managed together. For a bracket, ``entry_id`` is set and the exit legs
    are created once the entry fills."""

    list_id: str
    kind: OrderListKind
    venue: str
    symbol: str
    status: OrderListStatus = OrderListStatus.ACTIVE
    entry_id: str | None = None
    limit_id: str | None = None  # OCO limit / bracket take-profit leg
    stop_id: str | None = None  # OCO stop / bracket stop-loss leg
    # The bracket's exits, kept until the entry fills.
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    stop_loss_limit: Decimal | None = None
    created_ms: int = 0
    note: str = ""
    leg_ids: list[str] = field(default_factory=list)  # [entry,] limit, stop, limit, stop, ... oldest first
    exit_failures: int = 0  # a bracket's exit pairs that ended unfilled (refused, expired, lost)

    @property
    def exit_ids(self) -> list[str]:
        return [i for i in (self.limit_id, self.stop_id) if i]

    def pairs(self) -> list[tuple[str, str]]:
        """Every (limit, stop) pair of the list, oldest first: an OCO has one; a bracket gets one
        more each time its entry's new fills need covering."""
        legs = self.leg_ids[1:] if self.entry_id is not None and self.leg_ids[:1] == [self.entry_id] else self.leg_ids
        return list(zip(legs[0::2], legs[1::2], strict=False))

    def order_ids(self) -> list[str]:
        return list(self.leg_ids)
