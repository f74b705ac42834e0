"""Binance spot: its order types (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT,
LIMIT_MAKER for post-only, trailingDelta), its native OCO (``POST /api/v3/orderList/oco``), its
filters read exactly from exchangeInfo, and its answers that mean more than ccxt says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

from app.domain.enums import OrderType, Side, TimeInForce, TrailingMode
from app.domain.errors import OrderRejected
from app.domain.instrument import Instrument
from app.domain.money import fmt
from app.domain.order import IdRules, Order

from ..base import Capabilities
from .instruments import clean, instrument_from_market
from .profile import ExchangeProfile, OrderArgs, register

# newClientOrderId: ^[.A-Z:/a-z0-9_-]{1,36}$ (Binance's rest-api.md)
BINANCE_IDS = IdRules(max_len=36, pattern=r"[.A-Za-z0-9:/_-]+", tag_max_len=32)

BINANCE_CAPABILITIES = Capabilities(
    native_stop=True,
    native_take_profit=True,
    native_oco=True,
    # Binance trails only by a whole number of basis points (trailingDelta); the app's trailing
    # stops (by amount, or by any percent) are watched here. ``order_args`` maps the percent ones
    # that fit, for when the engine can tell the two apart.
    native_trailing=False,
    post_only=True,
    native_amend=False,
    id_rules=BINANCE_IDS,
)

_TYPES = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT_LIMIT",
}


def _options() -> dict[str, Any]:
    return {
        "defaultType": "spot",
        "fetchMarkets": {"types": ["spot"]},  # no futures endpoints: a spot terminal
        "fetchCurrencies": False,  # sapi capital/config: a wallet call a trading key may not have
        "fetchMargins": False,  # sapi margin pairs: not a spot terminal's business
        "adjustForTimeDifference": False,  # the venue measures and corrects the clock itself
        "recvWindow": 5000,
        "newOrderRespType": {"market": "RESULT", "limit": "RESULT"},  # fills come on the account stream
        "fetchOpenOrders": {"warnWithoutSymbol": False},
    }


def _filter(info: dict[str, Any], kind: str) -> dict[str, Any]:
    for f in info.get("filters") or []:
        if f.get("filterType") == kind:
            return f
    return {}


def _positive(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    d = Decimal(str(value))
    return clean(d) if d > 0 else None


@register
@dataclass(frozen=True)
class BinanceProfile(ExchangeProfile):
    ccxt_id: ClassVar[str] = "binance"
    capabilities: Capabilities = BINANCE_CAPABILITIES
    options: dict[str, Any] = field(default_factory=_options)
    duplicate_markers: tuple[str, ...] = ("Duplicate order sent",)
    trades_need_symbol: bool = True
    client_id_param: str = "newClientOrderId"

    def point_at(self, exchange: Any, base_url: str) -> None:
        parts = urlsplit(base_url)
        http = f"{parts.scheme or 'http'}://{parts.netloc}"
        ws = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}"
        api = exchange.urls["api"]
        for key in ("public", "private"):
            api[key] = f"{http}/api/v3"
        api["v1"] = f"{http}/api/v1"
        api["sapi"] = f"{http}/sapi/v1"
        api["ws"]["spot"] = f"{ws}/ws"
        api["ws"]["margin"] = f"{ws}/ws"
        api["ws"]["ws-api"]["spot"] = f"{ws}/ws-api/v3"

    def instrument(self, market: dict[str, Any], precision_mode: int) -> Instrument | None:
        """Binance's own filters, as exchangeInfo writes them (no float on the way)."""
        info = market.get("info") or {}
        price, lot = _filter(info, "PRICE_FILTER"), _filter(info, "LOT_SIZE")
        notional = _filter(info, "NOTIONAL") or _filter(info, "MIN_NOTIONAL")
        band = _filter(info, "PERCENT_PRICE_BY_SIDE") or _filter(info, "PERCENT_PRICE")
        down = band.get("multiplierDown") or band.get("bidMultiplierDown")
        up = band.get("multiplierUp") or band.get("askMultiplierUp")
        return instrument_from_market(
            self.venue_name,
            market,
            precision_mode,
            tick_size=_positive(price.get("tickSize")),
            lot_step=_positive(lot.get("stepSize")),
            min_qty=_positive(lot.get("minQty")),
            max_qty=_positive(lot.get("maxQty")),
            min_notional=_positive(notional.get("minNotional")),
            max_notional=_positive(notional.get("maxNotional")) if notional.get("maxNotional") else None,
            band_down=_positive(down),
            band_up=_positive(up),
        )

    def order_args(self, order: Order) -> OrderArgs:
        t = order.type
        params: dict[str, Any] = {"newClientOrderId": order.client_order_id}
        side = order.side.value
        qty = fmt(order.quantity)
        price = fmt(order.price) if order.price is not None and t.has_limit_price else None
        if t is OrderType.TRAILING_STOP:
            return self._trailing(order, params)
        if t is OrderType.LIMIT and order.post_only:
            return OrderArgs("LIMIT_MAKER", side, qty, price, params)
        if t in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
            params["timeInForce"] = order.tif.value.upper()
        elif t is OrderType.MARKET and order.tif is TimeInForce.FOK:
            raise OrderRejected(detail="Binance has no fill-or-kill market order")
        if t.has_trigger:
            assert order.stop_price is not None
            params["stopPrice"] = fmt(order.stop_price)
        return OrderArgs(_TYPES[t], side, qty, price, params)

    @staticmethod
    def _trailing(order: Order, params: dict[str, Any]) -> OrderArgs:
        """A trailing stop as Binance has it: STOP_LOSS with trailingDelta in whole basis points,
        the activation price as its stopPrice."""
        pct = order.trail_value
        if order.trail_mode is not TrailingMode.PERCENT or pct is None or (pct * 100) % 1 != 0:
            raise OrderRejected(detail="Binance trails by whole basis points of the price only")
        params["trailingPercent"] = fmt(pct)  # ccxt sends trailingDelta = percent × 100
        if order.activation_price is not None:
            params["trailingTriggerPrice"] = fmt(order.activation_price)
        return OrderArgs("STOP_LOSS", order.side.value, fmt(order.quantity), None, params)

    def oco_call(
        self,
        limit: Order,
        stop: Order,
        market: dict[str, Any],
        fmt_price: Callable[[Decimal], str],
        fmt_amount: Callable[[Decimal], str],
    ) -> tuple[str, dict[str, Any]]:
        """``POST /api/v3/orderList/oco``: the limit leg is a LIMIT_MAKER on its side of the market
        (above for a sell, below for a buy); the stop leg is STOP_LOSS or STOP_LOSS_LIMIT."""
        if limit.price is None or stop.stop_price is None:
            raise OrderRejected(detail="an OCO needs a limit price and a stop price")
        sell = limit.side is Side.SELL
        limit_pos, stop_pos = ("above", "below") if sell else ("below", "above")
        params: dict[str, Any] = {
            "symbol": market["id"],
            "side": limit.side.value.upper(),
            "quantity": fmt_amount(limit.quantity),
            "listClientOrderId": limit.list_id or limit.client_order_id,
            f"{limit_pos}Type": "LIMIT_MAKER",
            f"{limit_pos}ClientOrderId": limit.client_order_id,
            f"{limit_pos}Price": fmt_price(limit.price),
            f"{stop_pos}ClientOrderId": stop.client_order_id,
            f"{stop_pos}StopPrice": fmt_price(stop.stop_price),
            "newOrderRespType": "RESULT",
        }
        if stop.type is OrderType.STOP_LIMIT and stop.price is not None:
            params[f"{stop_pos}Type"] = "STOP_LOSS_LIMIT"
            params[f"{stop_pos}Price"] = fmt_price(stop.price)
            params[f"{stop_pos}TimeInForce"] = "GTC"
        else:
            params[f"{stop_pos}Type"] = "STOP_LOSS"
        return "privatePostOrderListOco", params

    def oco_reports(self, response: Any) -> dict[str, tuple[str, str]]:
        reports = response.get("orderReports") if isinstance(response, dict) else None
        if not isinstance(reports, list):
            orders = response.get("orders") if isinstance(response, dict) else None
            if not isinstance(orders, list):
                return {}
            return {str(o["clientOrderId"]): (str(o["orderId"]), "NEW") for o in orders}
        return {str(r["clientOrderId"]): (str(r["orderId"]), str(r.get("status", "NEW"))) for r in reports}

    def stream_trades(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """ccxt keeps each order's trades from the moment it saw the order; the trade inside the
        order's own last executionReport is added (an order placed before the stream came up)."""
        trades = super().stream_trades(order)
        info = order.get("info") or {}
        if info.get("x") == "TRADE":
            trades = [*trades, {"info": info}]
        return trades

    def fill_numbers(self, trade: dict[str, Any]) -> tuple[str, str, str, str, str, bool | None, int | None] | None:
        info = trade.get("info") or {}
        if info.get("e") == "executionReport" and info.get("x") == "TRADE":
            return (
                str(info["t"]),
                str(info["l"]),
                str(info["L"]),
                str(info.get("n") or "0"),
                str(info.get("N") or ""),
                bool(info.get("m")),
                int(info.get("T") or 0),
            )
        if "commissionAsset" in info and "qty" in info:  # GET /api/v3/myTrades
            return (
                str(info["id"]),
                str(info["qty"]),
                str(info["price"]),
                str(info.get("commission") or "0"),
                str(info["commissionAsset"]),
                bool(info.get("isMaker")),
                int(info.get("time") or 0),
            )
        return None

    def balance_numbers(self, info: Any) -> dict[str, tuple[str, str]] | None:
        if isinstance(info, dict) and info.get("e") == "outboundAccountPosition":
            return {str(b["a"]): (str(b["f"]), str(b["l"])) for b in info.get("B") or []}
        if isinstance(info, dict) and isinstance(info.get("balances"), list):  # GET /api/v3/account
            return {str(b["asset"]): (str(b["free"]), str(b["locked"])) for b in info["balances"]}
        return None
