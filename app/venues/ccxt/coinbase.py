"""Coinbase Advanced Trade: products' increments (``price_increment``, ``base_increment``,
``base_min_size``, ``quote_min_size``), its order configurations (``limit_limit_gtc`` with
``post_only``, ``sor_limit_ioc``, ``limit_limit_fok``, ``market_market_ioc`` by base size for sells;
a market buy is sent by quote size at Coinbase, so a buy of a quantity goes out as a limit IOC
capped above the best ask), the client id as ``client_order_id`` (ccxt would make up its own),
CDP keys signing each request with an ES256 JWT (ccxt does it), and the ``user`` channel: order
states only, so each order's fills are read over REST as it fills. Stops, take-profits, trailing
stops and OCO are emulated by the app (Coinbase holds stop-limits and brackets only)."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

import ccxt

from app.domain.enums import OrderType, Side, TimeInForce
from app.domain.errors import OrderRejected
from app.domain.money import fmt
from app.domain.order import IdRules, Order

from ..base import Capabilities
from . import book_checks
from .profile import ExchangeProfile, OrderArgs, register

COINBASE_IDS = IdRules(max_len=36, pattern=r"[.A-Za-z0-9:_-]+", tag_max_len=32)
COINBASE_CAPABILITIES = Capabilities(
    native_stop=False,
    native_take_profit=False,
    native_oco=False,
    native_trailing=False,
    post_only=True,
    native_amend=False,
    id_rules=COINBASE_IDS,
)


def _options() -> dict[str, Any]:
    return {
        "fetchBalance": "v3PrivateGetBrokerageAccounts",  # Advanced Trade accounts (available and hold)
        "fetchTime": "v3PublicGetBrokerageTime",
        "adjustForTimeDifference": False,
    }


@register
@dataclass(frozen=True)
class CoinbaseProfile(ExchangeProfile):
    ccxt_id: ClassVar[str] = "coinbase"
    capabilities: Capabilities = COINBASE_CAPABILITIES
    options: dict[str, Any] = field(default_factory=_options)
    client_id_param: str = "client_order_id"  # passed through as is: ccxt's clientOrderId is dropped
    market_buy_cap: Decimal | None = Decimal("0.05")
    fills_by_rest: bool = True  # the user channel carries order states, not fills
    trades_newest_first: bool = True  # historical/fills: the newest first, from the end of the window

    def ccxt_config(self) -> dict[str, Any]:
        broad = {
            "PREVIEW_INVALID": ccxt.InvalidOrder,
            "INVALID_LIMIT_PRICE": ccxt.InvalidOrder,
            "INVALID_SIZE": ccxt.InvalidOrder,
            "INVALID_PRICE": ccxt.InvalidOrder,
            "INVALID_ORDER_CONFIGURATION": ccxt.InvalidOrder,
            "POST_ONLY": ccxt.InvalidOrder,
        }
        # The v2 currency lists are not needed to trade: markets come from Advanced Trade products.
        return {"exceptions": {"broad": broad}, "has": {"fetchCurrencies": False}}

    def prepare(self, exchange: Any) -> None:
        book_checks.guard_sequence(exchange)
        # A JWT is valid for two minutes of the server's clock: sign with the measured server time
        # (ccxt's ``seconds`` is the machine's; the client keeps the offset in timeDifference).
        exchange.seconds = lambda: int((time.time() * 1000 - (exchange.options.get("timeDifference") or 0)) / 1000)

    def point_at(self, exchange: Any, base_url: str) -> None:
        parts = urlsplit(base_url)
        exchange.urls["api"]["rest"] = f"{parts.scheme or 'http'}://{parts.netloc}"
        exchange.urls["api"]["ws"] = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}/ws"

    def order_args(self, order: Order) -> OrderArgs:
        t = order.type
        if t not in (OrderType.MARKET, OrderType.LIMIT):
            raise OrderRejected(detail="Coinbase holds no stop-market orders here: the app watches them")
        params: dict[str, Any] = {"client_order_id": order.client_order_id}
        qty = fmt(order.quantity)
        if t is OrderType.MARKET:
            if order.side is Side.BUY:
                raise OrderRejected(detail="a Coinbase market buy needs the best ask (capped_market_buy)")
            if order.tif is TimeInForce.FOK:
                raise OrderRejected(detail="Coinbase has no fill-or-kill market sell")
            return OrderArgs("market", "sell", qty, None, params)
        assert order.price is not None
        if order.post_only:
            params["postOnly"] = True
        elif order.tif is not TimeInForce.GTC:
            params["timeInForce"] = order.tif.value.upper()
        return OrderArgs("limit", order.side.value, qty, fmt(order.price), params)

    def capped_market_buy(self, order: Order, best_ask: Decimal) -> OrderArgs:
        """A limit IOC (``sor_limit_ioc``; FOK when asked) at the best ask plus the cap: ccxt
        rounds the price to the product's increment."""
        cap = self.market_buy_cap or Decimal(0)
        tif = "FOK" if order.tif is TimeInForce.FOK else "IOC"
        params = {"client_order_id": order.client_order_id, "timeInForce": tif}
        return OrderArgs("limit", "buy", fmt(order.quantity), fmt(best_ask * (1 + cap)), params)

    def lookup(self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str) -> Awaitable[Any]:
        """By order id, or among the account's orders of ``symbol`` by ``client_order_id``."""
        if venue_order_id:
            return exchange.fetch_order(venue_order_id, symbol)

        async def by_client_id() -> Any:
            for o in await exchange.fetch_orders(symbol, None, 1000):
                if o.get("clientOrderId") == client_order_id:
                    return o
            raise ccxt.OrderNotFound(f"coinbase no order with client_order_id {client_order_id}")

        return by_client_id()

    def cancel_call(
        self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str
    ) -> Awaitable[Any]:
        """``batch_cancel`` by order id (found by client id first when not known); an order it
        cannot cancel (filled, already cancelled) is "not found" for the venue to look up."""

        async def cancel() -> Any:
            vid = venue_order_id or (await self.lookup(exchange, None, symbol, client_order_id))["id"]
            answer = await exchange.v3PrivatePostBrokerageOrdersBatchCancel({"order_ids": [vid]})
            result = (answer.get("results") or [{}])[0]
            if result.get("success") is not True:
                raise ccxt.OrderNotFound(f"coinbase {result.get('failure_reason') or 'cancel failed'}")
            return {"id": vid, "status": None, "info": result}

        return cancel()

    def fill_numbers(self, trade: dict[str, Any]) -> tuple[str, str, str, str, str, bool | None, int | None] | None:
        info = trade.get("info") or {}
        if "commission" in info and "trade_id" in info and not info.get("size_in_quote"):
            liquidity = str(info.get("liquidity_indicator") or "").upper()
            return (
                str(info["trade_id"]),
                str(info["size"]),
                str(info["price"]),
                str(info.get("commission") or 0),
                str(info.get("product_id", "")).partition("-")[2],
                None if liquidity not in ("MAKER", "TAKER") else liquidity == "MAKER",
                int(trade.get("timestamp") or 0),
            )
        return None

    def balance_numbers(self, info: Any) -> dict[str, tuple[str, str]] | None:
        accounts = info.get("accounts") if isinstance(info, dict) else None
        if not isinstance(accounts, list):
            return None
        out: dict[str, tuple[str, str]] = {}
        for a in accounts:
            avail, hold = a.get("available_balance") or {}, a.get("hold") or {}
            if avail.get("currency"):
                out[str(avail["currency"])] = (str(avail.get("value") or 0), str(hold.get("value") or 0))
        return out
