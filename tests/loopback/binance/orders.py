"""Orders as the loopback Binance keeps and shows them: the paper order the matching core works
on, plus what Binance says about it (ids, its own type name, list, fills) in Binance's formats."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.enums import OrderStatus, OrderType
from app.venues.paper import PaperOrder

from .book import s8

TYPES: dict[str, tuple[OrderType, bool]] = {  # Binance type -> (core type, post-only)
    "MARKET": (OrderType.MARKET, False),
    "LIMIT": (OrderType.LIMIT, False),
    "LIMIT_MAKER": (OrderType.LIMIT, True),
    "STOP_LOSS": (OrderType.STOP_MARKET, False),
    "STOP_LOSS_LIMIT": (OrderType.STOP_LIMIT, False),
    "TAKE_PROFIT": (OrderType.TAKE_PROFIT_MARKET, False),
    "TAKE_PROFIT_LIMIT": (OrderType.TAKE_PROFIT_LIMIT, False),
}
STATUS = {
    OrderStatus.CANCELLED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "REJECTED",
    OrderStatus.FILLED: "FILLED",
}


@dataclass(eq=False)
class Fill:
    trade_id: int
    qty: Decimal
    price: Decimal
    commission: Decimal
    commission_asset: str
    maker: bool
    ts: int


@dataclass(eq=False)
class LoopOrder:
    po: PaperOrder
    order_id: int
    symbol: str  # Binance id
    kind: str  # Binance type
    tif: str
    created: int
    list_id: int = -1
    updated: int = 0
    quote_filled: Decimal = Decimal(0)
    fills: list[Fill] = field(default_factory=list)
    canceled_by_client: bool = False

    @property
    def client_id(self) -> str:
        return self.po.client_order_id

    @property
    def status(self) -> str:
        po = self.po
        if po.status in STATUS:
            return STATUS[po.status]
        return "PARTIALLY_FILLED" if po.filled > 0 else "NEW"

    @property
    def is_open(self) -> bool:
        return self.po.status.is_open

    @property
    def working(self) -> bool:
        return self.is_open and (not self.po.type.has_trigger or self.po.triggered)

    def json(self, *, full: bool = True) -> dict[str, Any]:
        po = self.po
        out: dict[str, Any] = {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": self.list_id,
            "clientOrderId": po.client_order_id,
            "price": s8(po.price or Decimal(0)),
            "origQty": s8(po.quantity),
            "executedQty": s8(po.filled),
            "cummulativeQuoteQty": s8(self.quote_filled),
            "status": self.status,
            "timeInForce": self.tif,
            "type": self.kind,
            "side": po.side.value.upper(),
        }
        if po.stop_price is not None or full:  # queries always show it, new-order answers for stops only
            out["stopPrice"] = s8(po.stop_price or Decimal(0))
        if full:
            out.update(
                {
                    "icebergQty": "0.00000000",
                    "time": self.created,
                    "updateTime": self.updated or self.created,
                    "isWorking": self.working,
                    "workingTime": self.created if self.working else -1,
                    "origQuoteOrderQty": "0.00000000",
                    "selfTradePreventionMode": "NONE",
                }
            )
        return out

    def ack(self, transact: int) -> dict[str, Any]:
        """The RESULT answer to a new order (FULL adds its fills)."""
        out = self.json(full=False)
        out.update(
            {
                "transactTime": transact,
                "origQuoteOrderQty": "0.00000000",
                "workingTime": self.created if self.working else -1,
                "selfTradePreventionMode": "NONE",
            }
        )
        return out

    def full(self, transact: int) -> dict[str, Any]:
        out = self.ack(transact)
        out["fills"] = [
            {
                "price": s8(f.price),
                "qty": s8(f.qty),
                "commission": s8(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in self.fills
        ]
        return out

    def execution_report(
        self, exec_type: str, ts: int, fill: Fill | None = None, reason: str = "NONE", orig_client_id: str = ""
    ) -> dict[str, Any]:
        po = self.po
        return {
            "e": "executionReport",
            "E": ts,
            "s": self.symbol,
            "c": po.client_order_id,
            "S": po.side.value.upper(),
            "o": self.kind,
            "f": self.tif,
            "q": s8(po.quantity),
            "p": s8(po.price or Decimal(0)),
            "P": s8(po.stop_price or Decimal(0)),
            "F": "0.00000000",
            "g": self.list_id,
            "C": orig_client_id,
            "x": exec_type,
            "X": self.status,
            "r": reason,
            "i": self.order_id,
            "l": s8(fill.qty if fill else Decimal(0)),
            "z": s8(po.filled),
            "L": s8(fill.price if fill else Decimal(0)),
            "n": s8(fill.commission) if fill else "0",
            "N": fill.commission_asset if fill else None,
            "T": ts,
            "t": fill.trade_id if fill else -1,
            "v": 3,
            "I": self.order_id * 2 + 1,
            "w": self.working,
            "m": bool(fill and fill.maker),
            "M": False,
            "O": self.created,
            "Z": s8(self.quote_filled),
            "Y": s8(fill.qty * fill.price) if fill else "0.00000000",
            "Q": "0.00000000",
            "W": self.created,
            "V": "NONE",
        }

    def my_trades(self) -> list[dict[str, Any]]:
        buyer = self.po.side.value == "buy"
        return [
            {
                "symbol": self.symbol,
                "id": f.trade_id,
                "orderId": self.order_id,
                "orderListId": self.list_id,
                "price": s8(f.price),
                "qty": s8(f.qty),
                "quoteQty": s8(f.qty * f.price),
                "commission": s8(f.commission),
                "commissionAsset": f.commission_asset,
                "time": f.ts,
                "isBuyer": buyer,
                "isMaker": f.maker,
                "isBestMatch": True,
            }
            for f in self.fills
        ]


@dataclass(eq=False)
class OrderList:
    list_id: int
    client_id: str
    symbol: str
    legs: list[LoopOrder]
    created: int
    done: bool = False

    def json(self, ts: int, reports: bool = True) -> dict[str, Any]:
        status = "ALL_DONE" if self.done else "EXEC_STARTED"
        out: dict[str, Any] = {
            "orderListId": self.list_id,
            "contingencyType": "OCO",
            "listStatusType": status,
            "listOrderStatus": "ALL_DONE" if self.done else "EXECUTING",
            "listClientOrderId": self.client_id,
            "transactionTime": ts,
            "symbol": self.symbol,
            "orders": [{"symbol": self.symbol, "orderId": o.order_id, "clientOrderId": o.client_id} for o in self.legs],
        }
        if reports:
            out["orderReports"] = [o.ack(ts) for o in self.legs]
        return out

    def event(self, ts: int) -> dict[str, Any]:
        return {
            "e": "listStatus",
            "E": ts,
            "s": self.symbol,
            "g": self.list_id,
            "c": "OCO",
            "l": "ALL_DONE" if self.done else "EXEC_STARTED",
            "L": "ALL_DONE" if self.done else "EXECUTING",
            "r": "NONE",
            "C": self.client_id,
            "T": ts,
            "O": [{"s": self.symbol, "i": o.order_id, "c": o.client_id} for o in self.legs],
        }
