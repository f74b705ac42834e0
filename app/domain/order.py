"""Orders: the request a user makes, the order's explicit state machine, and fills applied once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from .enums import (
    Emulation,
    LiquiditySide,
    OrderEvent,
    OrderOrigin,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TrailingMode,
)
from .errors import IllegalTransition
from .instrument import Instrument, Problem
from .money import ZERO, fmt, in_range, require_decimal

S, E = OrderStatus, OrderEvent

# (status, event) -> next status. Fills are resolved to PARTIAL_FILL/FILL by the filled quantity.
TRANSITIONS: dict[tuple[OrderStatus, OrderEvent], OrderStatus] = {
    (S.PENDING_NEW, E.ACCEPTED): S.NEW,
    (S.PENDING_NEW, E.REJECTED): S.REJECTED,
    (S.PENDING_NEW, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PENDING_NEW, E.FILL): S.FILLED,
    (S.PENDING_NEW, E.CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PENDING_NEW, E.CANCELLED): S.CANCELLED,
    (S.PENDING_NEW, E.EXPIRED): S.EXPIRED,
    (S.NEW, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.NEW, E.FILL): S.FILLED,
    (S.NEW, E.CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.NEW, E.CANCELLED): S.CANCELLED,
    (S.NEW, E.EXPIRED): S.EXPIRED,
    (S.NEW, E.TRIGGERED): S.NEW,
    (S.NEW, E.AMENDED): S.NEW,
    (S.NEW, E.ACCEPTED): S.NEW,  # duplicate acknowledgement (reconciliation) is harmless
    (S.NEW, E.REJECTED): S.REJECTED,  # a watched order released to a venue that refuses it
    (S.PARTIALLY_FILLED, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, E.FILL): S.FILLED,
    (S.PARTIALLY_FILLED, E.CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, E.CANCELLED): S.CANCELLED,
    (S.PARTIALLY_FILLED, E.EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, E.TRIGGERED): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, E.AMENDED): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, E.ACCEPTED): S.PARTIALLY_FILLED,
    (S.PENDING_CANCEL, E.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.FILL): S.FILLED,
    (S.PENDING_CANCEL, E.CANCELLED): S.CANCELLED,
    (S.PENDING_CANCEL, E.EXPIRED): S.EXPIRED,
    (S.PENDING_CANCEL, E.ACCEPTED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.TRIGGERED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.REJECTED): S.REJECTED,  # cancelled while on its way, and refused on arrival
    # CANCEL_REJECTED resolves to NEW or PARTIALLY_FILLED by the filled quantity (see apply()).
    (S.PENDING_CANCEL, E.CANCEL_REJECTED): S.NEW,
}


def require_type(name: str, value: object, kind: type | tuple[type, ...], *, allow_none: bool = False) -> None:
    """Refuse a value of the wrong type at construction (a plain "buy" for a ``Side`` would
    otherwise travel far before failing)."""
    if value is None and allow_none:
        return
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise TypeError(f"{name} must be {names}, not {type(value).__name__}")


def require_fields(obj: Any, types: dict[str, type | tuple[type, ...]], optional: tuple[str, ...] = ()) -> None:
    for name, kind in types.items():
        value = getattr(obj, name)
        if value.__class__ is kind or (value is None and name in optional):
            continue  # the usual case, checked cheaply
        require_type(name, value, kind, allow_none=name in optional)
    for name in ("venue", "symbol"):
        if name in types and not getattr(obj, name):
            raise ValueError(f"{name} must not be empty")


@dataclass(frozen=True, slots=True)
class IdRules:
    """What a venue accepts as a client order id (Binance: 36 characters of ``[.A-Z:/a-z0-9_-]``)
    and as an order tag kept with it."""

    max_len: int = 36
    pattern: str = r"[.A-Za-z0-9:/_-]+"
    tag_max_len: int = 32


DEFAULT_ID_RULES = IdRules()
_TAG_BAD = re.compile(r"[\x00-\x1f\x7f]")


def id_problems(client_order_id: str | None, tag: str, rules: IdRules = DEFAULT_ID_RULES) -> list[Problem]:
    problems: list[Problem] = []
    if client_order_id is not None and (
        not client_order_id or len(client_order_id) > rules.max_len or not re.fullmatch(rules.pattern, client_order_id)
    ):
        problems.append(
            Problem(
                "client_order_id",
                "order.client_id_invalid",
                "The client order id must be 1 to {max} characters of letters, digits and {chars}",
                {"max": str(rules.max_len), "chars": ". : / _ -"},
            )
        )
    if len(tag) > rules.tag_max_len or _TAG_BAD.search(tag):
        problems.append(
            Problem(
                "tag",
                "order.tag_invalid",
                "A tag is at most {max} characters on one line",
                {"max": str(rules.tag_max_len)},
            )
        )
    return problems


def number_problems(values: dict[str, Decimal | None]) -> list[Problem]:
    """Numbers no exchange takes (10^23 BTC, 27 decimals) are refused before any arithmetic."""
    return [
        Problem(name, "order.number_range", "{field} {value} is out of range", {"field": name, "value": fmt(v)})
        for name, v in values.items()
        if v is not None and not in_range(v)
    ]


_REQUEST_TYPES: dict[str, type | tuple[type, ...]] = {
    "venue": str,
    "symbol": str,
    "side": Side,
    "type": OrderType,
    "tif": TimeInForce,
    "post_only": bool,
    "reduce_only": bool,
    "trail_mode": TrailingMode,
    "client_order_id": str,
    "list_id": str,
    "tag": str,
    "origin": OrderOrigin,
}


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the user (or a strategy) asks for. Validated, then turned into an ``Order``.
    ``activation_price`` (trailing stops): the trailing starts once the market reaches it."""

    venue: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    trail_mode: TrailingMode | None = None
    trail_value: Decimal | None = None
    client_order_id: str | None = None
    list_id: str | None = None
    tag: str = ""
    activation_price: Decimal | None = None
    origin: OrderOrigin = OrderOrigin.USER

    def __post_init__(self) -> None:
        if not (
            self.side.__class__ is Side
            and self.type.__class__ is OrderType
            and self.tif.__class__ is TimeInForce
            and self.origin.__class__ is OrderOrigin
            and self.venue.__class__ is str
            and self.venue
            and self.symbol.__class__ is str
            and self.symbol
            and self.tag.__class__ is str
            and self.post_only.__class__ is bool
            and self.reduce_only.__class__ is bool
            and (self.trail_mode is None or self.trail_mode.__class__ is TrailingMode)
            and (self.client_order_id is None or self.client_order_id.__class__ is str)
            and (self.list_id is None or self.list_id.__class__ is str)
        ):
            require_fields(self, _REQUEST_TYPES, ("trail_mode", "client_order_id", "list_id"))  # says what is wrong
        require_decimal("quantity", self.quantity)
        require_decimal("price", self.price, allow_none=True)
        require_decimal("stop_price", self.stop_price, allow_none=True)
        require_decimal("trail_value", self.trail_value, allow_none=True)
        require_decimal("activation_price", self.activation_price, allow_none=True)

    def numbers(self) -> dict[str, Decimal | None]:
        return {
            "quantity": self.quantity,
            "price": self.price,
            "stop_price": self.stop_price,
            "trail_value": self.trail_value,
            "activation_price": self.activation_price,
        }

    def numbers_in_range(self) -> bool:
        return (
            in_range(self.quantity)
            and (self.price is None or in_range(self.price))
            and (self.stop_price is None or in_range(self.stop_price))
            and (self.trail_value is None or in_range(self.trail_value))
            and (self.activation_price is None or in_range(self.activation_price))
        )

    def with_id(self, client_order_id: str, list_id: str | None = None) -> OrderRequest:
        """The same (already validated) request with its ids."""
        require_type("client_order_id", client_order_id, str)
        require_type("list_id", list_id, str, allow_none=True)
        new = object.__new__(OrderRequest)
        put = object.__setattr__
        for name in _REQUEST_SLOTS:
            put(new, name, getattr(self, name))
        put(new, "client_order_id", client_order_id)
        put(new, "list_id", list_id or self.list_id)
        return new

    def reference_price(self, last: Decimal | None) -> Decimal | None:
        """The price used for notional and balance checks."""
        if self.type.has_limit_price and self.price is not None:
            return self.price
        if self.stop_price is not None:
            return self.stop_price
        return last


_REQUEST_SLOTS = tuple(f.name for f in fields(OrderRequest))


def trigger_problems(req: OrderRequest, last: Decimal | None) -> list[Problem]:
    """Stops trigger against the side (buy above, sell below the last price); take-profits the
    other way. An order that would trigger at once is refused: the user meant something else."""
    if last is None or req.stop_price is None or req.type is OrderType.TRAILING_STOP:
        return []
    above = (req.side is Side.BUY) == req.type.is_stop
    if above and req.stop_price <= last:
        return [
            Problem(
                "stop_price",
                "order.trigger_above_last",
                "Trigger price {stop} must be above the last price {last} for this order",
                {"stop": fmt(req.stop_price), "last": fmt(last)},
            )
        ]
    if not above and req.stop_price >= last:
        return [
            Problem(
                "stop_price",
                "order.trigger_below_last",
                "Trigger price {stop} must be below the last price {last} for this order",
                {"stop": fmt(req.stop_price), "last": fmt(last)},
            )
        ]
    return []


def validate_request(req: OrderRequest, inst: Instrument, last: Decimal | None) -> list[Problem]:
    """Every rule the exchange would apply, explained; an empty list means the order may go."""
    if not req.numbers_in_range():
        return number_problems(req.numbers())
    problems: list[Problem] = []
    t = req.type
    if t.has_limit_price:
        if req.price is None:
            problems.append(Problem("price", "order.price_required", "A limit price is required", {}))
        else:
            problems += inst.check_price(req.price, "price", last)
    elif req.price is not None:
        problems.append(Problem("price", "order.price_not_allowed", "This order type takes no limit price", {}))
    if t.has_trigger and t is not OrderType.TRAILING_STOP:
        if req.stop_price is None:
            problems.append(Problem("stop_price", "order.stop_required", "A trigger price is required", {}))
        else:
            problems += inst.check_price(req.stop_price, "stop_price")
            problems += trigger_problems(req, last)
    elif req.stop_price is not None and t is not OrderType.TRAILING_STOP:
        problems.append(Problem("stop_price", "order.stop_not_allowed", "This order type takes no trigger price", {}))
    if t is OrderType.TRAILING_STOP:
        if req.trail_mode is None or req.trail_value is None or req.trail_value <= 0:
            problems.append(
                Problem("trail_value", "order.trail_required", "A trailing distance above zero is required", {})
            )
        elif req.trail_mode is TrailingMode.PERCENT and not (Decimal("0.01") <= req.trail_value <= 50):
            problems.append(
                Problem(
                    "trail_value",
                    "order.trail_percent_range",
                    "Trailing distance {value}% must be between 0.01% and 50%",
                    {"value": fmt(req.trail_value)},
                )
            )
        elif req.trail_mode is TrailingMode.AMOUNT and req.trail_value % inst.tick_size != 0:
            problems.append(
                Problem(
                    "trail_value",
                    "order.trail_tick",
                    "Trailing distance {value} is not a multiple of the tick size {tick}",
                    {"value": fmt(req.trail_value), "tick": fmt(inst.tick_size)},
                )
            )
    if req.activation_price is not None:
        if t is not OrderType.TRAILING_STOP:
            problems.append(
                Problem(
                    "activation_price",
                    "order.activation_trailing",
                    "An activation price is for trailing stops only",
                    {},
                )
            )
        else:
            problems += inst.check_price(req.activation_price, "activation_price")
    if req.post_only and t is not OrderType.LIMIT:
        problems.append(Problem("post_only", "order.post_only_limit", "Post-only is for limit orders only", {}))
    if req.post_only and req.tif is not TimeInForce.GTC:
        problems.append(
            Problem("post_only", "order.post_only_gtc", "A post-only order must be good-till-cancelled", {})
        )
    if req.tif is not TimeInForce.GTC and t not in (OrderType.LIMIT, OrderType.MARKET):
        problems.append(Problem("tif", "order.tif_limit", "IOC and FOK apply to limit and market orders only", {}))
    problems += inst.check_qty(req.quantity)
    ref = req.reference_price(last)
    if ref is not None and req.quantity > 0 and ref > 0:
        problems += inst.check_notional(req.quantity, ref)
    return problems


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order. ``trade_id`` is unique per venue and symbol."""

    trade_id: str
    client_order_id: str
    venue_order_id: str
    venue: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: LiquiditySide
    ts_ms: int
    fee_quote: Decimal | None = None  # the fee's value in the quote currency at fill time (set by the engine)

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity, positive=True)
        require_decimal("price", self.price, positive=True)
        require_decimal("fee", self.fee)
        require_decimal("fee_quote", self.fee_quote, allow_none=True)

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


@dataclass(slots=True, eq=False)
class Order:
    """A live order as we know it. Changes only through ``apply`` and ``apply_fill``."""

    client_order_id: str
    venue: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    trail_mode: TrailingMode | None = None
    trail_value: Decimal | None = None
    list_id: str | None = None
    tag: str = ""
    status: OrderStatus = OrderStatus.PENDING_NEW
    venue_order_id: str | None = None
    filled_qty: Decimal = ZERO
    filled_notional: Decimal = ZERO
    fee: Decimal = ZERO
    fee_asset: str = ""
    created_ms: int = 0
    updated_ms: int = 0
    triggered: bool = False
    trail_ref: Decimal | None = None  # best price seen since a trailing stop was armed
    reason: str = ""  # rejection or cancel reason, in words
    activation_price: Decimal | None = None
    emulation: Emulation = Emulation.NONE
    origin: OrderOrigin = OrderOrigin.USER
    trade_ids: set[str] = field(default_factory=set)

    @classmethod
    def from_request(
        cls, req: OrderRequest, ts_ms: int, client_order_id: str | None = None, list_id: str | None = None
    ) -> Order:
        """The order of a validated request; ``client_order_id`` / ``list_id`` given here take the
        place of the request's."""
        cid = client_order_id or req.client_order_id
        if cid is None:
            raise ValueError("an order needs a client order id")
        require_type("client_order_id", cid, str)
        require_type("list_id", list_id, str, allow_none=True)
        return cls(
            client_order_id=cid,
            venue=req.venue,
            symbol=req.symbol,
            side=req.side,
            type=req.type,
            quantity=req.quantity,
            price=req.price,
            stop_price=req.stop_price,
            tif=req.tif,
            post_only=req.post_only,
            reduce_only=req.reduce_only,
            trail_mode=req.trail_mode,
            trail_value=req.trail_value,
            list_id=list_id or req.list_id,
            tag=req.tag,
            created_ms=ts_ms,
            updated_ms=ts_ms,
            activation_price=req.activation_price,
            origin=req.origin,
        )

    def to_request(self) -> OrderRequest:
        return OrderRequest(
            venue=self.venue,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            quantity=self.quantity,
            price=self.price,
            stop_price=self.stop_price,
            tif=self.tif,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
            trail_mode=self.trail_mode,
            trail_value=self.trail_value,
            client_order_id=self.client_order_id,
            list_id=self.list_id,
            tag=self.tag,
            activation_price=self.activation_price,
            origin=self.origin,
        )

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_qty

    @property
    def avg_price(self) -> Decimal | None:
        return self.filled_notional / self.filled_qty if self.filled_qty else None

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def apply(self, event: OrderEvent, ts_ms: int | None = None, reason: str = "") -> OrderStatus:
        nxt = TRANSITIONS.get((self.status, event))
        if nxt is None:
            raise IllegalTransition(order_id=self.client_order_id, event=event.value, status=self.status.value)
        if event is OrderEvent.CANCEL_REJECTED and self.filled_qty > 0:
            nxt = OrderStatus.PARTIALLY_FILLED
        if event is OrderEvent.TRIGGERED:
            self.triggered = True
        # The app's own reason for a cancel it asked for stays ("the other leg filled"), not the
        # venue's generic "cancelled by user".
        keep = event is OrderEvent.CANCELLED and self.status is OrderStatus.PENDING_CANCEL and self.reason
        self.status = nxt
        if reason and not keep:
            self.reason = reason
        if ts_ms is not None:
            self.updated_ms = ts_ms
        return nxt

    def apply_fill(self, fill: Fill) -> bool:
        """Apply a fill exactly once; returns False for a fill already applied (same trade id).

        Fills are the truth, whatever the order's state: a fill reported after the cancel answer
        (fills and cancels travel on different channels) is applied to the cancelled order, which
        becomes FILLED if nothing is left; a fill larger than what remained is applied too (the
        caller reports it)."""
        if fill.trade_id in self.trade_ids:
            return False
        if fill.client_order_id != self.client_order_id:
            raise ValueError(f"fill {fill.trade_id} belongs to {fill.client_order_id}")
        complete = fill.quantity >= self.remaining
        if self.status.is_final:
            if complete:
                self.status = OrderStatus.FILLED
            self.updated_ms = fill.ts_ms
        else:
            self.apply(OrderEvent.FILL if complete else OrderEvent.PARTIAL_FILL, fill.ts_ms)
        self.trade_ids.add(fill.trade_id)
        self.filled_qty += fill.quantity
        self.filled_notional += fill.notional
        if fill.fee:
            if self.fee_asset and self.fee_asset != fill.fee_asset:
                # Mixed fee assets on one order are rare (BNB running out); keep the first asset's
                # sum here, the portfolio books each fill's own fee exactly.
                pass
            else:
                self.fee += fill.fee
                self.fee_asset = fill.fee_asset
        if self.venue_order_id is None:
            self.venue_order_id = fill.venue_order_id
        return True

    # -- trailing stops -------------------------------------------------------------------------
    def trailing_trigger(self) -> Decimal | None:
        """The current trigger price of an armed trailing stop (None until a price was seen)."""
        if self.trail_ref is None or self.trail_value is None or self.trail_mode is None:
            return None
        dist = (
            self.trail_value
            if self.trail_mode is TrailingMode.AMOUNT
            else self.trail_ref * self.trail_value / Decimal(100)
        )
        return self.trail_ref - dist if self.side is Side.SELL else self.trail_ref + dist

    def update_trail(self, last: Decimal) -> bool:
        """Move the reference with the market (up for a sell, down for a buy); True when changed.
        With an activation price, trailing starts only once the market reaches it (a sell at or
        above it, a buy at or below it)."""
        ref = self.trail_ref
        if (
            ref is None
            and self.activation_price is not None
            and (
                (self.side is Side.SELL and last < self.activation_price)
                or (self.side is Side.BUY and last > self.activation_price)
            )
        ):
            return False
        if ref is None or (self.side is Side.SELL and last > ref) or (self.side is Side.BUY and last < ref):
            self.trail_ref = last
            return True
        return False

    def trailing_hit(self, last: Decimal) -> bool:
        trig = self.trailing_trigger()
        if trig is None:
            return False
        return last <= trig if self.side is Side.SELL else last >= trig
