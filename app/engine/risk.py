"""Pre-trade risk: every order passes here before it reaches a venue. Each rule is configurable
and each refusal is explained (a ``Denial`` with a message key), never an exception in the UI."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from app.domain.enums import OrderType, Side, TradingState
from app.domain.instrument import Instrument
from app.domain.money import ZERO, fmt
from app.domain.order import OrderRequest


@dataclass(frozen=True, slots=True)
class Denial:
    key: str
    template: str
    params: dict[str, str]
    field: str = ""

    @property
    def message(self) -> str:
        return self.template.format(**self.params)


@dataclass(slots=True)
class RiskLimits:
    """Every rule's setting; ``None`` switches that rule off. Money in the valuation currency."""

    max_order_notional: Decimal | None = Decimal("50000")
    max_order_qty: dict[str, Decimal] | None = None  # per base asset
    max_position_notional: Decimal | None = Decimal("100000")  # per asset held
    max_open_orders: int | None = 200
    submits_per_second: int | None = 50
    submits_per_day: int | None = 20_000
    cancels_per_second: int | None = 50
    cancels_per_day: int | None = 20_000
    duplicate_count: int | None = 5  # the same order this many times ...
    duplicate_window_s: float = 10.0  # ... within this window is refused
    price_band_pct: Decimal | None = Decimal("10")  # fat-finger: limit/stop this far from last
    daily_loss_limit: Decimal | None = Decimal("5000")
    check_balance: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if isinstance(v, Decimal):
                out[k] = str(v)
            elif isinstance(v, dict):
                out[k] = {a: str(x) for a, x in v.items()}
            else:
                out[k] = v
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskLimits:
        limits = cls()
        names = {f.name for f in fields(cls)}
        for k, v in data.items():
            if k not in names:
                continue
            cur = getattr(limits, k)
            if v is None:
                setattr(limits, k, None)
            elif k == "max_order_qty":
                setattr(limits, k, {a: Decimal(x) for a, x in v.items()})
            elif isinstance(cur, Decimal) or k in ("max_order_notional", "max_position_notional",
                                                    "price_band_pct", "daily_loss_limit"):
                setattr(limits, k, Decimal(v))
            else:
                setattr(limits, k, v)
        return limits


@dataclass(frozen=True, slots=True)
class OrderContext:
    """What the risk engine needs to know about the account when an order arrives."""

    instrument: Instrument
    last: Decimal | None
    reference_price: Decimal | None  # price used for notional (limit, trigger, or book)
    free_base: Decimal
    free_quote: Decimal
    position_qty: Decimal  # signed base quantity held
    open_orders: int
    quote_value: Decimal  # value of one quote unit in the valuation currency


class RiskEngine:
    def __init__(self, limits: RiskLimits | None = None) -> None:
        self.limits = limits or RiskLimits()
        self.state = TradingState.ACTIVE
        self.state_reason = ""
        self._submits: deque[float] = deque()
        self._cancels: deque[float] = deque()
        self._day_submits = 0
        self._day_cancels = 0
        self._day = 0
        self._recent: deque[tuple[float, tuple]] = deque()
        self.day_start_equity: Decimal | None = None
        self.daily_pnl: Decimal = ZERO

    @property
    def submits_today(self) -> int:
        return self._day_submits

    @property
    def cancels_today(self) -> int:
        return self._day_cancels

    # -- state ------------------------------------------------------------------------------------
    def set_state(self, state: TradingState, reason: str = "") -> bool:
        changed = state is not self.state
        self.state, self.state_reason = state, reason
        return changed

    def new_day(self, day: int, equity: Decimal | None) -> None:
        if day != self._day:
            self._day = day
            self._day_submits = self._day_cancels = 0
            self.day_start_equity = equity
            if self.state is TradingState.REDUCING and self.state_reason == "daily_loss":
                self.state, self.state_reason = TradingState.ACTIVE, ""

    def update_daily_pnl(self, equity: Decimal) -> bool:
        """Track P&L since the day started; True when the daily loss limit was just hit."""
        if self.day_start_equity is None:
            self.day_start_equity = equity
        self.daily_pnl = equity - self.day_start_equity
        limit = self.limits.daily_loss_limit
        if limit is not None and -self.daily_pnl >= limit and self.state is TradingState.ACTIVE:
            self.set_state(TradingState.REDUCING, "daily_loss")
            return True
        return False

    # -- checks -----------------------------------------------------------------------------------
    @staticmethod
    def reduces(req: OrderRequest, position_qty: Decimal) -> bool:
        """An order that only makes the position smaller (sell of a long, buy back of a short)."""
        if req.side is Side.SELL:
            return position_qty > 0 and req.quantity <= position_qty
        return position_qty < 0 and req.quantity <= -position_qty

    def check(self, req: OrderRequest, ctx: OrderContext, now: float, *, count: bool = True) -> Denial | None:
        """The first rule the order breaks, or ``None``; ``count`` records it for throttles."""
        lim = self.limits
        inst = ctx.instrument
        reducing = self.reduces(req, ctx.position_qty)
        if self.state is TradingState.HALTED:
            return Denial(
                "risk.halted",
                "Trading is halted (kill switch). Re-arm trading in the risk panel to place orders",
                {},
            )
        if self.state is TradingState.REDUCING and not reducing:
            why = "the daily loss limit was reached" if self.state_reason == "daily_loss" else "trading is reducing-only"
            return Denial(
                "risk.reducing_only",
                "Only orders that reduce a position are allowed: {why}",
                {"why": why},
            )
        d = self._throttle(now, self._submits, lim.submits_per_second, self._day_submits, lim.submits_per_day, "submit")
        if d:
            return d
        if lim.duplicate_count is not None:
            key = (req.venue, req.symbol, req.side, req.type, req.quantity, req.price, req.stop_price)
            while self._recent and now - self._recent[0][0] > lim.duplicate_window_s:
                self._recent.popleft()
            same = sum(1 for _, k in self._recent if k == key)
            if same >= lim.duplicate_count:
                return Denial(
                    "risk.duplicate",
                    "The same order was sent {n} times in {s} seconds; refused as a probable mistake",
                    {"n": str(same), "s": fmt(Decimal(str(lim.duplicate_window_s)))},
                )
        ref = ctx.reference_price
        notional_q = req.quantity * ref if ref is not None else None
        notional = notional_q * ctx.quote_value if notional_q is not None else None
        if lim.max_order_notional is not None and notional is not None and notional > lim.max_order_notional:
            return Denial(
                "risk.max_order_notional",
                "Order value {value} is above the limit of {limit} per order",
                {"value": fmt(notional.quantize(Decimal("0.01"))), "limit": fmt(lim.max_order_notional)},
                "quantity",
            )
        if lim.max_order_qty and inst.base in lim.max_order_qty and req.quantity > lim.max_order_qty[inst.base]:
            return Denial(
                "risk.max_order_qty",
                "Amount {qty} {base} is above the limit of {limit} {base} per order",
                {"qty": fmt(req.quantity), "base": inst.base, "limit": fmt(lim.max_order_qty[inst.base])},
                "quantity",
            )
        if lim.price_band_pct is not None and ctx.last:
            for name, px in (("price", req.price), ("stop_price", req.stop_price)):
                if px is None:
                    continue
                dev = abs(px - ctx.last) / ctx.last * 100
                if dev > lim.price_band_pct:
                    return Denial(
                        "risk.price_band",
                        "Price {price} is {dev}% away from the last price {last}; the limit is {limit}% "
                        "(a fat-finger check)",
                        {
                            "price": fmt(px),
                            "dev": fmt(dev.quantize(Decimal("0.1"))),
                            "last": fmt(ctx.last),
                            "limit": fmt(lim.price_band_pct),
                        },
                        name,
                    )
        if lim.check_balance:
            if req.side is Side.BUY and ref is not None:
                need = req.quantity * ref * (1 + max(inst.taker_fee, inst.maker_fee))
                if req.type is OrderType.MARKET:
                    need *= Decimal("1.001")  # the book can move before the order arrives
                if need > ctx.free_quote:
                    return Denial(
                        "risk.insufficient_balance",
                        "Not enough {asset}: this order needs {need} {asset} with fees, {free} {asset} is free",
                        {
                            "asset": inst.quote,
                            "need": fmt(need.quantize(inst.tick_size)),
                            "free": fmt(ctx.free_quote.quantize(inst.tick_size)),
                        },
                        "quantity",
                    )
            if req.side is Side.SELL and req.quantity > ctx.free_base:
                return Denial(
                    "risk.insufficient_balance",
                    "Not enough {asset}: this order sells {need} {asset}, {free} {asset} is free",
                    {"asset": inst.base, "need": fmt(req.quantity), "free": fmt(ctx.free_base)},
                    "quantity",
                )
        if lim.max_position_notional is not None and ref is not None and not reducing and req.side is Side.BUY:
            after = (ctx.position_qty + req.quantity) * ref * ctx.quote_value
            if after > lim.max_position_notional:
                return Denial(
                    "risk.max_position",
                    "The position in {base} would be worth {value}, above the limit of {limit}",
                    {
                        "base": inst.base,
                        "value": fmt(after.quantize(Decimal("0.01"))),
                        "limit": fmt(lim.max_position_notional),
                    },
                    "quantity",
                )
        if lim.max_open_orders is not None and ctx.open_orders >= lim.max_open_orders:
            return Denial(
                "risk.max_open_orders",
                "{n} orders are open already; the limit is {limit}",
                {"n": str(ctx.open_orders), "limit": str(lim.max_open_orders)},
            )
        if count:
            self.record_submit(req, now)
        return None

    def record_submit(self, req: OrderRequest, now: float) -> None:
        self._submits.append(now)
        self._day_submits += 1
        if self.limits.duplicate_count is not None:
            key = (req.venue, req.symbol, req.side, req.type, req.quantity, req.price, req.stop_price)
            self._recent.append((now, key))

    def check_cancel(self, now: float) -> Denial | None:
        lim = self.limits
        d = self._throttle(now, self._cancels, lim.cancels_per_second, self._day_cancels, lim.cancels_per_day, "cancel")
        if d is None:
            self._cancels.append(now)
            self._day_cancels += 1
        return d

    @staticmethod
    def _throttle(now: float, window: deque[float], per_s: int | None, today: int, per_day: int | None,
                  what: str) -> Denial | None:
        while window and now - window[0] >= 1.0:
            window.popleft()
        if per_s is not None and len(window) >= per_s:
            return Denial(
                f"risk.{what}_rate",
                "Too many {what}s: at most {limit} per second",
                {"what": what, "limit": str(per_s)},
            )
        if per_day is not None and today >= per_day:
            return Denial(
                f"risk.{what}_daily",
                "Daily limit of {limit} {what}s reached",
                {"what": what, "limit": str(per_day)},
            )
        return None
