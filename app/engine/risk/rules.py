"""Pre-trade rules, one small function each: ``(request, context, limits) -> Denial | None``.

Which rules apply depends on who asks (``OrderOrigin``): a user's or a strategy's new order
meets them all; the replacement of a moved order meets every rule but the throttles (counted
when the move was checked); a bracket's exits, a triggered stop going to the venue and a
reconciliation re-send meet the account rules (state, balance) but not size or fat-finger limits
they passed when they were first placed, and are never throttled — a stop-loss must go out.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from app.domain.enums import OrderOrigin, OrderType, Side, TradingState
from app.domain.money import fmt
from app.domain.order import OrderRequest

from .limits import Denial, OrderContext, RiskLimits

Rule = Callable[[OrderRequest, OrderContext, RiskLimits], Denial | None]
CENT = Decimal("0.01")
SIZED = frozenset({OrderOrigin.USER, OrderOrigin.STRATEGY, OrderOrigin.REPLACE})


def reduces(req: OrderRequest, held: Decimal) -> bool:
    """On a spot account only a sale of coins held makes the position smaller."""
    return req.side is Side.SELL and 0 < req.quantity <= held


def notional(req: OrderRequest, ctx: OrderContext) -> Decimal | None:
    """The order's value in the valuation currency (None: no price to value it with)."""
    if ctx.reference_price is None or ctx.quote_value is None:
        return None
    return req.quantity * ctx.reference_price * ctx.quote_value


def _money(value: Decimal, ctx: OrderContext) -> str:
    return f"{fmt(value.quantize(CENT))} {ctx.valuation_currency}"


def state_rule(state: TradingState, reason: str, req: OrderRequest, ctx: OrderContext) -> Denial | None:
    """HALTED lets only the kill switch's own sales through; REDUCING only sales of coins held."""
    if state is TradingState.ACTIVE:
        return None
    if state is TradingState.HALTED and req.origin is not OrderOrigin.FLATTEN:
        return Denial(
            "risk.halted", "Trading is halted (kill switch). Re-arm trading in the risk panel to place orders", {}
        )
    if state is TradingState.REDUCING and not reduces(req, ctx.position_qty):
        why = "the daily loss limit was reached" if reason == "daily_loss" else "trading is reducing-only"
        return Denial("risk.reducing_only", "Only orders that sell coins you hold are allowed: {why}", {"why": why})
    return None


def valuation(req: OrderRequest, ctx: OrderContext, lim: RiskLimits) -> Denial | None:
    needs = lim.max_order_notional is not None or lim.max_position_notional is not None
    if ctx.reference_price is None and (needs or (lim.check_balance and req.side is Side.BUY)):
        # A market (or trailing) order on a market with no price yet: its value, the position it
        # makes and the money it needs cannot be known, so it would pass every size limit unseen.
        return Denial(
            "risk.no_price",
            "No price for {symbol} yet: a market order's size cannot be checked. Wait for the market, "
            "or place a limit order",
            {"symbol": req.symbol},
            "quantity",
        )
    if needs and ctx.quote_value is None:
        return Denial(
            "risk.no_valuation",
            "{quote} cannot be valued in {ccy} yet (no price): the order's size cannot be checked",
            {"quote": ctx.instrument.quote, "ccy": ctx.valuation_currency},
            "quantity",
        )
    return None


def max_order_notional(req: OrderRequest, ctx: OrderContext, lim: RiskLimits) -> Denial | None:
    value = notional(req, ctx)
    if lim.max_order_notional is not None and value is not None and value > lim.max_order_notional:
        return Denial(
            "risk.max_order_notional",
            "Order value {value} is above the limit of {limit} per order",
            {"value": _money(value, ctx), "limit": _money(lim.max_order_notional, ctx)},
            "quantity",
        )
    return None


def max_order_qty(req: OrderRequest, ctx: OrderContext, lim: RiskLimits) -> Denial | None:
    base = ctx.instrument.base
    if lim.max_order_qty and base in lim.max_order_qty and req.quantity > lim.max_order_qty[base]:
        return Denial(
            "risk.max_order_qty",
            "Amount {qty} {base} is above the limit of {limit} {base} per order",
            {"qty": fmt(req.quantity), "base": base, "limit": fmt(lim.max_order_qty[base])},
            "quantity",
        )
    return None


def price_band(req: OrderRequest, ctx: OrderContext, lim: RiskLimits) -> Denial | None:
    if lim.price_band_pct is None:
        return None
    return band(
        {"price": req.price, "stop_price": req.stop_price, "activation_price": req.activation_price}, ctx.last, lim
    )


def band(prices: dict[str, Decimal | None], last: Decimal | None, lim: RiskLimits) -> Denial | None:
    """The fat-finger check: each price within ``price_band_pct`` of the last price."""
    if lim.price_band_pct is None or not last:
        return None
    for name, px in prices.items():
        if px is None:
            continue
        dev = abs(px - last) / last * 100
        if dev > lim.price_band_pct:
            return Denial(
                "risk.price_band",
                "Price {price} is {dev}% away from the last price {last}; the limit is {limit}% (a fat-finger check)",
                {
                    "price": fmt(px),
                    "dev": fmt(dev.quantize(Decimal("0.1"))),
                    "last": fmt(last),
                    "limit": fmt(lim.price_band_pct),
                },
                name,
            )
    return None


def balance(req: OrderRequest, ctx: OrderContext, lim: RiskLimits) -> Denial | None:
    if not lim.check_balance or ctx.shares_funds:
        return None
    inst = ctx.instrument
    if req.side is Side.BUY and ctx.reference_price is not None:
        need = req.quantity * ctx.reference_price * (1 + max(inst.taker_fee, inst.maker_fee))
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
    return None


def max_position(req: OrderRequest, ctx: OrderContext, lim: RiskLimits) -> Denial | None:
    """What the account would hold if this and every open buy filled, against the limit."""
    if lim.max_position_notional is None or req.side is not Side.BUY:
        return None
    if ctx.reference_price is None or ctx.quote_value is None:
        return None
    after = (ctx.position_qty + ctx.open_buy_qty + req.quantity) * ctx.reference_price * ctx.quote_value
    if after > lim.max_position_notional:
        return Denial(
            "risk.max_position",
            "Holding {base} would be worth {value} with this and the open buy orders, above the limit of {limit}",
            {"base": ctx.instrument.base, "value": _money(after, ctx), "limit": _money(lim.max_position_notional, ctx)},
            "quantity",
        )
    return None


def max_open_orders(req: OrderRequest, ctx: OrderContext, lim: RiskLimits) -> Denial | None:
    if lim.max_open_orders is not None and ctx.open_orders >= lim.max_open_orders:
        return Denial(
            "risk.max_open_orders",
            "{n} orders are open already; the limit is {limit}",
            {"n": str(ctx.open_orders), "limit": str(lim.max_open_orders)},
        )
    return None


def rules_for(origin: OrderOrigin) -> tuple[Rule, ...]:
    """The rules after state and throttles, in the order they are reported."""
    if origin in SIZED:
        return (valuation, max_order_notional, max_order_qty, price_band, balance, max_position, max_open_orders)
    return (balance,)
