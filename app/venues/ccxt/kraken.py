"""Kraken spot: steps from AssetPairs (``tick_size`` / ``pair_decimals``, ``lot_decimals``,
``ordermin``, ``costmin``), its order types (``stop-loss``, ``stop-loss-limit``, ``take-profit``,
``take-profit-limit`` through ccxt's ``stopLossPrice`` / ``takeProfitPrice``; post-only as
``oflags=post``; IOC; no FOK), the client id as ``cl_ord_id`` (UUID or up to 18 characters), and its
websocket v2 account stream (``executions``: fills as ``exec_type: trade``, order states apart;
``balances`` carries totals only, so balances are read again over REST). No native OCO (the core
emulates it); trailing stops are watched by the app."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

import ccxt

from app.domain.enums import OrderType, TimeInForce
from app.domain.errors import OrderRejected
from app.domain.instrument import Instrument
from app.domain.money import fmt
from app.domain.order import IdRules, Order

from ..base import Capabilities
from . import book_checks
from .instruments import clean, instrument_from_market
from .profile import ExchangeProfile, OrderArgs, register

KRAKEN_IDS = IdRules(max_len=18, pattern=r"[A-Za-z0-9_-]+", tag_max_len=18)  # free text: 18 characters
KRAKEN_CAPABILITIES = Capabilities(
    native_stop=True,
    native_take_profit=True,
    native_oco=False,
    native_trailing=False,
    post_only=True,
    native_amend=False,
    id_rules=KRAKEN_IDS,
)
_LIMIT_KIND = {
    OrderType.LIMIT: "limit",
    OrderType.STOP_LIMIT: "limit",
    OrderType.TAKE_PROFIT_LIMIT: "limit",
}


def _options() -> dict[str, Any]:
    return {"adjustForTimeDifference": False}


def _positive(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    d = Decimal(str(value))
    return clean(d) if d > 0 else None


@register
@dataclass(frozen=True)
class KrakenProfile(ExchangeProfile):
    ccxt_id: ClassVar[str] = "kraken"
    capabilities: Capabilities = KRAKEN_CAPABILITIES
    options: dict[str, Any] = field(default_factory=_options)
    client_id_param: str = "clientOrderId"  # ccxt sends it as cl_ord_id
    duplicate_markers: tuple[str, ...] = ("EOrder:Duplicate",)
    fills_from_my_trades: bool = True  # executions: a fill is its own message (exec_type "trade")
    balances_by_rest: bool = True  # the balances channel carries totals only (no amount on hold)
    one_request_at_a_time: bool = True  # nonces must arrive in order

    def ccxt_config(self) -> dict[str, Any]:
        """Kraken answers ccxt leaves as a plain ExchangeError."""
        broad = {
            "EAPI:Invalid signature": ccxt.AuthenticationError,
            "EOrder:Duplicate": ccxt.InvalidOrder,
            "EOrder:Invalid price": ccxt.InvalidOrder,
            "EOrder:Order minimum not met": ccxt.InvalidOrder,
        }
        return {"exceptions": {"broad": broad}}

    def prepare(self, exchange: Any) -> None:
        book_checks.guard_checksum(exchange)
        split_executions(exchange)

    def point_at(self, exchange: Any, base_url: str) -> None:
        parts = urlsplit(base_url)
        http = f"{parts.scheme or 'http'}://{parts.netloc}"
        ws = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}"
        api = exchange.urls["api"]
        api["public"] = http
        api["private"] = http
        api["ws"]["public"] = f"{ws}/ws/v1"
        api["ws"]["private"] = f"{ws}/ws-auth/v1"
        api["ws"]["publicV2"] = f"{ws}/v2"
        api["ws"]["privateV2"] = f"{ws}/v2-auth"

    def instrument(self, market: dict[str, Any], precision_mode: int) -> Instrument | None:
        """AssetPairs as Kraken writes it: ``tick_size`` where it says one (newer pairs), else
        ``pair_decimals``; ``ordermin`` and ``costmin`` exactly."""
        info = market.get("info") or {}
        if "status" not in info:  # older AssetPairs answers say nothing of status: every pair listed traded
            market = {**market, "active": True}
        lot = info.get("lot_decimals")
        return instrument_from_market(
            self.venue_name,
            market,
            precision_mode,
            tick_size=_positive(info.get("tick_size")),
            lot_step=clean(Decimal(1).scaleb(-int(lot))) if lot is not None else None,
            min_qty=_positive(info.get("ordermin")),
            min_notional=_positive(info.get("costmin")),
        )

    def order_args(self, order: Order) -> OrderArgs:
        t = order.type
        if t is OrderType.TRAILING_STOP:
            raise OrderRejected(detail="trailing stops are watched by the app on Kraken")
        if order.tif is TimeInForce.FOK:
            raise OrderRejected(detail="Kraken has no fill-or-kill orders")
        params: dict[str, Any] = {"clientOrderId": order.client_order_id}
        if t in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            assert order.stop_price is not None
            params["stopLossPrice"] = fmt(order.stop_price)
        elif t in (OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT):
            assert order.stop_price is not None
            params["takeProfitPrice"] = fmt(order.stop_price)
        if order.post_only:
            params["postOnly"] = True
        if order.tif is TimeInForce.IOC:
            params["timeInForce"] = "IOC"
        kind = _LIMIT_KIND.get(t, "market")
        price = fmt(order.price) if kind == "limit" and order.price is not None else None
        return OrderArgs(kind, order.side.value, fmt(order.quantity), price, params)

    def lookup(self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str) -> Awaitable[Any]:
        """By txid (QueryOrders), or by ``cl_ord_id`` among open, then closed orders."""
        if venue_order_id:
            return exchange.fetch_order(venue_order_id, symbol)

        async def by_client_id() -> Any:
            for fetch in (exchange.fetch_open_orders, exchange.fetch_closed_orders):
                for o in await fetch(None, None, None, {"clientOrderId": client_order_id}):
                    if o.get("clientOrderId") == client_order_id:
                        return o
            raise _not_found(client_order_id)

        return by_client_id()

    def cancel_call(
        self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str
    ) -> Awaitable[Any]:
        if venue_order_id:
            return exchange.cancel_order(venue_order_id, symbol)
        return exchange.cancel_order("", symbol, {"clientOrderId": client_order_id})

    def order_client_id(self, order: dict[str, Any]) -> str:
        info = order.get("info") or {}
        return str(info.get("cl_ord_id") or "")  # ccxt's clientOrderId is Kraken's numeric userref

    def stream_trades(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """ccxt routes an executions message by its first entry: trades in a message led by an
        order status reach the order stream, each as an "order" whose payload is the trade. Read
        as fills here (the same exec_id from the trade stream is one fill: kept once by id)."""
        trades = super().stream_trades(order)
        info = order.get("info") or {}
        if info.get("exec_type") == "trade" and "last_qty" in info:
            trades = [*trades, {"info": info, "timestamp": _iso_ms(info.get("timestamp"))}]
        return trades

    def fill_numbers(self, trade: dict[str, Any]) -> tuple[str, str, str, str, str, bool | None, int | None] | None:
        info = trade.get("info") or {}
        if info.get("exec_type") == "trade" and "last_qty" in info:  # websocket v2 executions
            fees = info.get("fees") or [{}]
            return (
                str(info["exec_id"]),
                str(info["last_qty"]),
                str(info["last_price"]),
                str(fees[0].get("qty") or 0),
                str(fees[0].get("asset") or ""),
                info.get("liquidity_ind") == "m",
                int(trade.get("timestamp") or 0),
            )
        return None

    def balance_numbers(self, info: Any) -> dict[str, tuple[str, str]] | None:
        return None  # ccxt's unified balance (currency codes resolved) is exact enough: strings


def split_executions(exchange: Any) -> None:
    """ccxt routes a Kraken executions update by its first entry's type: trades in a message led by
    an order state would reach the order stream, where a later state of the same order can replace
    them before they are read (a fill lost). Such messages are handed to ccxt one entry at a time."""
    original = exchange.handle_message

    def handle(client: Any, message: Any) -> Any:
        data = message.get("data") if isinstance(message, dict) else None
        if (
            isinstance(data, list)
            and message.get("channel") == "executions"
            and message.get("type") == "update"
            and len({isinstance(d, dict) and d.get("exec_type") == "trade" for d in data}) > 1
        ):
            result = None
            for entry in data:
                result = original(client, {**message, "data": [entry]})
            return result
        return original(client, message)

    exchange.handle_message = handle


def _iso_ms(value: Any) -> int | None:
    """Kraken's RFC 3339 time ("2024-01-02T03:04:05.678901Z") in epoch milliseconds."""
    if not value:
        return None
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _not_found(client_order_id: str) -> Exception:
    return ccxt.OrderNotFound(f"kraken no order with cl_ord_id {client_order_id}")


__all__ = ["KRAKEN_CAPABILITIES", "KrakenProfile"]
