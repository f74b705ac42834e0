"""Factories for the storage tests: orders, fills, bars with every field set."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.domain.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce, TrailingMode
from app.domain.market import Bar
from app.domain.order import Fill, Order

D = Decimal
T0 = 1_700_000_000_000


def order(cid: str = "c1", **kw: Any) -> Order:
    base: dict[str, Any] = dict(
        client_order_id=cid,
        venue="sim",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity=D("0.12345678"),
        price=D("65000.01"),
        created_ms=T0,
        updated_ms=T0,
    )
    base.update(kw)
    return Order(**base)


def full_order(cid: str = "c1") -> Order:
    """An order with no field left at its default."""
    return order(
        cid,
        side=Side.SELL,
        type=OrderType.TRAILING_STOP,
        quantity=D("1.50000000"),
        price=D("64999.99"),
        stop_price=D("64000"),
        tif=TimeInForce.IOC,
        post_only=True,
        reduce_only=True,
        trail_mode=TrailingMode.PERCENT,
        trail_value=D("0.5"),
        list_id="L1",
        tag="grid-7",
        status=OrderStatus.PARTIALLY_FILLED,
        venue_order_id="99887766",
        filled_qty=D("0.1"),
        filled_notional=D("6500.0010"),
        fee=D("-0.00001"),
        fee_asset="BNB",
        created_ms=T0 + 5,
        updated_ms=T0 + 6,
        triggered=True,
        trail_ref=D("66000.5"),
        reason="Ölçü — 取消 ✓",
    )


def fill(
    tid: str = "t1", cid: str = "c1", qty: str = "0.1", *, symbol: str = "BTC/USDT", venue: str = "sim", ts: int = T0
) -> Fill:
    return Fill(
        tid, cid, "v1", venue, symbol, Side.BUY, D(qty), D("65000.01"), D("0.0000001"), "BNB", LiquiditySide.MAKER, ts
    )


def bar(
    i: int, *, close: str = "1.5", high: str = "2", symbol: str = "BTC/USDT", timeframe: str = "1m", closed: bool = True
) -> Bar:
    return Bar("sim", symbol, timeframe, T0 + i * 60_000, D("1"), D(high), D("0.5"), D(close), D("10.000001"), closed)
