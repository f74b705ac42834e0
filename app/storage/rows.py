"""Domain values to table rows and back. Enums are stored by their stable code (``.value``)."""

from __future__ import annotations

from typing import Any

from app.domain.audit import AuditEntry
from app.domain.enums import (
    Emulation,
    LiquiditySide,
    OrderListKind,
    OrderListStatus,
    OrderOrigin,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TrailingMode,
)
from app.domain.execution import Balance
from app.domain.market import Bar
from app.domain.order import Fill, Order
from app.domain.order_list import OrderList
from app.domain.portfolio import CostBasis, Lot


def order_params(o: Order) -> dict[str, Any]:
    status = o.status
    return {
        "client_order_id": o.client_order_id,
        "venue": o.venue,
        "symbol": o.symbol,
        "side": o.side.value,
        "type": o.type.value,
        "quantity": o.quantity,
        "price": o.price,
        "stop_price": o.stop_price,
        "tif": o.tif.value,
        "post_only": o.post_only,
        "reduce_only": o.reduce_only,
        "trail_mode": None if o.trail_mode is None else o.trail_mode.value,
        "trail_value": o.trail_value,
        "list_id": o.list_id,
        "tag": o.tag,
        "status": status.value,
        "is_open": not status.is_final,
        "venue_order_id": o.venue_order_id,
        "filled_qty": o.filled_qty,
        "filled_notional": o.filled_notional,
        "fee": o.fee,
        "fee_asset": o.fee_asset,
        "created_ms": o.created_ms,
        "updated_ms": o.updated_ms,
        "triggered": o.triggered,
        "trail_ref": o.trail_ref,
        "reason": o.reason,
        "activation_price": o.activation_price,
        "emulation": o.emulation.value,
        "origin": o.origin.value,
    }


def order_from_row(r: Any) -> Order:
    return Order(
        client_order_id=r.client_order_id,
        venue=r.venue,
        symbol=r.symbol,
        side=Side(r.side),
        type=OrderType(r.type),
        quantity=r.quantity,
        price=r.price,
        stop_price=r.stop_price,
        tif=TimeInForce(r.tif),
        post_only=bool(r.post_only),
        reduce_only=bool(r.reduce_only),
        trail_mode=None if r.trail_mode is None else TrailingMode(r.trail_mode),
        trail_value=r.trail_value,
        list_id=r.list_id,
        tag=r.tag,
        status=OrderStatus(r.status),
        venue_order_id=r.venue_order_id,
        filled_qty=r.filled_qty,
        filled_notional=r.filled_notional,
        fee=r.fee,
        fee_asset=r.fee_asset,
        created_ms=r.created_ms,
        updated_ms=r.updated_ms,
        triggered=bool(r.triggered),
        trail_ref=r.trail_ref,
        reason=r.reason,
        activation_price=r.activation_price,
        emulation=Emulation(r.emulation),
        origin=OrderOrigin(r.origin),
    )


def fill_params(f: Fill) -> dict[str, Any]:
    return {
        "venue": f.venue,
        "symbol": f.symbol,
        "trade_id": f.trade_id,
        "client_order_id": f.client_order_id,
        "venue_order_id": f.venue_order_id,
        "side": f.side.value,
        "quantity": f.quantity,
        "price": f.price,
        "fee": f.fee,
        "fee_asset": f.fee_asset,
        "liquidity": f.liquidity.value,
        "ts_ms": f.ts_ms,
        "fee_quote": f.fee_quote,
    }


def fill_from_row(r: Any) -> Fill:
    return Fill(
        trade_id=r.trade_id,
        client_order_id=r.client_order_id,
        venue_order_id=r.venue_order_id,
        venue=r.venue,
        symbol=r.symbol,
        side=Side(r.side),
        quantity=r.quantity,
        price=r.price,
        fee=r.fee,
        fee_asset=r.fee_asset,
        liquidity=LiquiditySide(r.liquidity),
        ts_ms=r.ts_ms,
        fee_quote=r.fee_quote,
    )


def order_list_params(ol: OrderList) -> dict[str, Any]:
    return {
        "list_id": ol.list_id,
        "kind": ol.kind.value,
        "venue": ol.venue,
        "symbol": ol.symbol,
        "status": ol.status.value,
        "entry_id": ol.entry_id,
        "limit_id": ol.limit_id,
        "stop_id": ol.stop_id,
        "take_profit": ol.take_profit,
        "stop_loss": ol.stop_loss,
        "stop_loss_limit": ol.stop_loss_limit,
        "created_ms": ol.created_ms,
        "note": ol.note,
        "leg_ids": list(ol.leg_ids),
        "exit_failures": ol.exit_failures,
    }


def order_list_from_row(r: Any) -> OrderList:
    return OrderList(
        list_id=r.list_id,
        kind=OrderListKind(r.kind),
        venue=r.venue,
        symbol=r.symbol,
        status=OrderListStatus(r.status),
        entry_id=r.entry_id,
        limit_id=r.limit_id,
        stop_id=r.stop_id,
        take_profit=r.take_profit,
        stop_loss=r.stop_loss,
        stop_loss_limit=r.stop_loss_limit,
        created_ms=r.created_ms,
        note=r.note,
        leg_ids=list(r.leg_ids),
        exit_failures=r.exit_failures,
    )


def balance_params(venue: str, b: Balance) -> dict[str, Any]:
    return {"venue": venue, "asset": b.asset, "free": b.free, "locked": b.locked}


def balance_from_row(r: Any) -> Balance:
    return Balance(asset=r.asset, free=r.free, locked=r.locked)


def lot_params(venue: str, symbol: str, seq: int, lot: Lot) -> dict[str, Any]:
    return {
        "venue": venue,
        "symbol": symbol,
        "seq": seq,
        "quantity": lot.quantity,
        "cost": lot.cost,
        "ts_ms": lot.ts_ms,
        "trade_id": lot.trade_id,
        "estimated": lot.estimated,
    }


def lot_from_row(r: Any) -> Lot:
    return Lot(
        venue=r.venue,
        symbol=r.symbol,
        quantity=r.quantity,
        cost=r.cost,
        ts_ms=r.ts_ms,
        trade_id=r.trade_id,
        estimated=bool(r.estimated),
    )


def cost_basis_params(b: CostBasis) -> dict[str, Any]:
    return {
        "venue": b.venue,
        "asset": b.asset,
        "ts_ms": b.ts_ms,
        "symbol": b.symbol,
        "quantity": b.quantity,
        "cost": b.cost,
        "estimated": b.estimated,
    }


def cost_basis_from_row(r: Any) -> CostBasis:
    return CostBasis(
        venue=r.venue,
        asset=r.asset,
        symbol=r.symbol,
        quantity=r.quantity,
        cost=r.cost,
        ts_ms=r.ts_ms,
        estimated=bool(r.estimated),
    )


def bar_params(b: Bar) -> dict[str, Any]:
    return {
        "venue": b.venue,
        "symbol": b.symbol,
        "timeframe": b.timeframe,
        "open_ms": b.open_ms,
        "open": b.open,
        "high": b.high,
        "low": b.low,
        "close": b.close,
        "volume": b.volume,
        "closed": b.closed,
    }


def bar_from_row(r: Any) -> Bar:
    return Bar(r.venue, r.symbol, r.timeframe, r.open_ms, r.open, r.high, r.low, r.close, r.volume, bool(r.closed))


def audit_params(e: AuditEntry) -> dict[str, Any]:
    return {
        "ts_ms": e.ts_ms,
        "venue": e.venue,
        "mode": e.mode,
        "action": e.action,
        "details": e.details_json,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def audit_from_row(r: Any) -> AuditEntry:
    return AuditEntry(
        ts_ms=r.ts_ms,
        venue=r.venue,
        mode=r.mode,
        action=r.action,
        details_json=r.details,
        prev_hash=r.prev_hash,
        hash=r.hash,
        seq=r.seq,
    )
