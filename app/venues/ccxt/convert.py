"""ccxt's unified structures → domain values. Numbers are parsed here, once, with
``Decimal(str(x))``: a float's ``str`` is its shortest round-trip text, so a price or amount an
exchange wrote with up to 15 significant digits comes back exactly; exact strings from the
exchange's own payload are preferred where a profile can read them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.enums import LiquiditySide, OrderStatus, Side
from app.domain.execution import Balance, VenueOrderState
from app.domain.market import Bar, BookLevel, BookSnapshot, Ticker, Trade
from app.domain.money import ZERO
from app.domain.order import Fill

from .errors import BadAnswer

_DEC_CACHE: dict[Any, Decimal] = {}


def dec(value: Any) -> Decimal:
    """A number from ccxt (float, int or string) as an exact Decimal."""
    if isinstance(value, Decimal):
        return value
    if value is None or isinstance(value, bool):
        raise BadAnswer(detail=f"expected a number, got {value!r}")
    try:
        d = Decimal(value) if isinstance(value, str | int) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise BadAnswer(detail=f"not a number: {value!r}") from exc
    if not d.is_finite():
        raise BadAnswer(detail=f"not a finite number: {value!r}")
    return d


def dec_or_none(value: Any) -> Decimal | None:
    return None if value is None or value == "" else dec(value)


def level(value: Any) -> Decimal:
    """Book levels repeat the same prices from one update to the next: parse each text once."""
    d = _DEC_CACHE.get(value)
    if d is None:
        if len(_DEC_CACHE) > 200_000:
            _DEC_CACHE.clear()
        d = _DEC_CACHE[value] = dec(value)
    return d


def trade(venue: str, symbol: str, t: dict[str, Any]) -> Trade:
    side = Side.SELL if t.get("side") == "sell" else Side.BUY
    return Trade(venue, symbol, str(t.get("id")), dec(t["price"]), dec(t["amount"]), side, int(t.get("timestamp") or 0))


def bar(venue: str, symbol: str, timeframe: str, row: Sequence[Any], closed: bool = True) -> Bar:
    ts, o, h, low, c, v = row[:6]
    return Bar(venue, symbol, timeframe, int(ts), dec(o), dec(h), dec(low), dec(c), dec(v or 0), closed)


def book(venue: str, symbol: str, ob: dict[str, Any], depth: int) -> BookSnapshot:
    """The top ``depth`` levels of a ccxt order book (levels with no quantity are left out)."""
    lv = level
    bids = tuple(BookLevel(lv(p), lv(q)) for p, q, *_ in ob["bids"][:depth] if q)
    asks = tuple(BookLevel(lv(p), lv(q)) for p, q, *_ in ob["asks"][:depth] if q)
    return BookSnapshot(venue, symbol, bids, asks, int(ob.get("timestamp") or 0))


def ticker(venue: str, symbol: str, t: dict[str, Any]) -> Ticker:
    last = t.get("last") if t.get("last") is not None else t.get("close")
    if last is None:
        bid, ask = t.get("bid"), t.get("ask")
        if bid is None or ask is None:
            raise BadAnswer(detail=f"ticker of {symbol} without a price")
        last = (dec(bid) + dec(ask)) / 2
    return Ticker(
        venue, symbol, dec(last), dec_or_none(t.get("bid")), dec_or_none(t.get("ask")), int(t.get("timestamp") or 0)
    )


STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def order_status(o: dict[str, Any]) -> OrderStatus:
    status = o.get("status")
    if status in STATUS:
        return STATUS[status]
    if status in ("open", "canceling", None):
        return OrderStatus.PARTIALLY_FILLED if dec(o.get("filled") or 0) > 0 else OrderStatus.NEW
    raise BadAnswer(detail=f"unknown order status {status!r}")


def order_state(o: dict[str, Any], symbol: str | None = None) -> VenueOrderState:
    if not o.get("id"):
        raise BadAnswer(detail="order without an id")
    return VenueOrderState(
        client_order_id=str(o.get("clientOrderId") or ""),
        venue_order_id=str(o["id"]),
        symbol=symbol or str(o.get("symbol")),
        status=order_status(o),
        filled_qty=dec(o.get("filled") or 0),
    )


def fill(
    venue: str,
    symbol: str,
    side: Side,
    client_order_id: str,
    venue_order_id: str,
    trade_id: str,
    quantity: Decimal,
    price: Decimal,
    fee: Decimal,
    fee_asset: str,
    maker: bool | None,
    ts_ms: int,
) -> Fill:
    return Fill(
        trade_id=trade_id,
        client_order_id=client_order_id,
        venue_order_id=venue_order_id,
        venue=venue,
        symbol=symbol,
        side=side,
        quantity=quantity,
        price=price,
        fee=fee,
        fee_asset=fee_asset,
        liquidity=LiquiditySide.MAKER if maker else LiquiditySide.TAKER,
        ts_ms=ts_ms,
    )


def unified_fill_numbers(t: dict[str, Any]) -> tuple[str, Decimal, Decimal, Decimal, str, bool | None, int]:
    """(trade id, quantity, price, fee, fee asset, is maker, time) of a ccxt unified trade."""
    fee = t.get("fee") or {}
    cost = fee.get("cost")
    maker = t.get("takerOrMaker")
    return (
        str(t.get("id")),
        dec(t["amount"]),
        dec(t["price"]),
        dec(cost) if cost is not None else ZERO,
        str(fee.get("currency") or ""),
        None if maker is None else maker == "maker",
        int(t.get("timestamp") or 0),
    )


def balances(b: dict[str, Any]) -> dict[str, Balance]:
    """ccxt's balance structure (``free``/``used`` per currency) → free and locked per asset."""
    out: dict[str, Balance] = {}
    free, used = b.get("free") or {}, b.get("used") or {}
    for asset in set(free) | set(used):
        f, u = free.get(asset), used.get(asset)
        if f is None and u is None:
            continue
        out[asset] = Balance(asset, dec(f or 0), dec(u or 0))
    return out
