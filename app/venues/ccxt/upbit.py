"""Upbit (KRW market): its price unit by price band (호가 단위), its minimum order value (5,000 KRW),
its order types (``limit``; ``market`` sells by volume; buys only by KRW amount, so a market buy of
a quantity is sent as a limit IOC capped above the best ask), post-only and IOC/FOK through
``time_in_force``, the client id as ``identifier``, and its account stream (``myOrder`` carries one
message per fill, ``myAsset`` the balances). No native stops, take-profits or OCO: the core emulates
them. No trade history endpoint: fills are read from the orders' own trades."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

import ccxt

from app.domain.enums import OrderType, Side, TimeInForce
from app.domain.errors import OrderRejected
from app.domain.instrument import Instrument
from app.domain.money import fmt, is_multiple
from app.domain.order import IdRules, Order

from ..base import Capabilities
from .instruments import clean, instrument_from_market
from .profile import ExchangeProfile, OrderArgs, register

# Upbit KRW market price units since 2025-07-31 (docs.upbit.com/kr/docs/krw-market-info):
# (lowest price of the band, price unit), highest band first.
KRW_TICKS: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(low), Decimal(tick))
    for low, tick in (
        ("1000000", "1000"),
        ("500000", "500"),
        ("100000", "100"),
        ("50000", "50"),
        ("10000", "10"),
        ("5000", "5"),
        ("100", "1"),
        ("10", "0.1"),
        ("1", "0.01"),
        ("0.1", "0.001"),
        ("0.01", "0.0001"),
        ("0.001", "0.00001"),
        ("0.0001", "0.000001"),
        ("0.00001", "0.0000001"),
        ("0", "0.00000001"),
    )
)
# The smallest order value per quote currency (KRW 5,000; BTC and USDT markets after 2024-08).
MIN_TOTAL = {"KRW": Decimal(5000), "BTC": Decimal("0.00005"), "USDT": Decimal("0.5")}
OTHER_TICK = Decimal("0.00000001")  # BTC and USDT markets: ccxt's step (one unit of 1e-8)

UPBIT_IDS = IdRules(max_len=36, pattern=r"[.A-Za-z0-9:_-]+", tag_max_len=32)
UPBIT_CAPABILITIES = Capabilities(
    native_stop=False,
    native_take_profit=False,
    native_oco=False,
    native_trailing=False,
    post_only=True,
    native_amend=False,
    id_rules=UPBIT_IDS,
)


def krw_tick(price: Decimal) -> Decimal:
    """The price unit of a KRW-market price."""
    for low, tick in KRW_TICKS:
        if price >= low:
            return tick
    return KRW_TICKS[-1][1]


# Markets whose unit differs in a band (USDT/KRW and USDC/KRW: 0.5 from 1,000 to 10,000 KRW since
# 2025-03-21): base -> ((lowest, highest, unit), ...)
KRW_SPECIAL: dict[str, tuple[tuple[Decimal, Decimal, Decimal], ...]] = {
    b: ((Decimal(1000), Decimal(10000), Decimal("0.5")),) for b in ("USDT", "USDC")
}


def tick_for(quote: str, price: Decimal, base: str = "") -> Decimal:
    """The price unit of ``price`` on the ``base``/``quote`` market."""
    if quote != "KRW":
        return OTHER_TICK
    for low, high, tick in KRW_SPECIAL.get(base, ()):
        if low <= price < high:
            return tick
    return krw_tick(price)


def _options() -> dict[str, Any]:
    return {"createMarketBuyOrderRequiresPrice": True}


def _ms(text: Any) -> int:
    if not text:
        return 0
    return int(datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp() * 1000)


@register
@dataclass(frozen=True)
class UpbitProfile(ExchangeProfile):
    ccxt_id: ClassVar[str] = "upbit"
    capabilities: Capabilities = UPBIT_CAPABILITIES
    options: dict[str, Any] = field(default_factory=_options)
    client_id_param: str = "clientOrderId"  # ccxt sends it as ``identifier``
    client_id_query: str | None = "identifier"
    duplicate_markers: tuple[str, ...] = ("duplicate_identifier",)
    needs_prices: bool = True  # the price unit depends on the price: read the tickers once
    market_buy_cap: Decimal | None = Decimal("0.05")  # a market buy may pay up to 5 % above the best ask
    fills_from_my_trades: bool = True  # myOrder: one message per fill; ccxt keeps them as myTrades
    cancel_answers_before: bool = True  # DELETE /v1/order answers the order as it was ("wait")
    timeframes: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")
    ws_timeframes: tuple[str, ...] | None = ("1s",)  # Upbit streams 1-second candles only

    def ccxt_config(self) -> dict[str, Any]:
        """Upbit's order refusals ccxt leaves as a plain ExchangeError: invalid orders here."""
        broad = {
            "under_min_total": ccxt.InvalidOrder,
            "invalid_price": ccxt.InvalidOrder,
            "invalid_volume": ccxt.InvalidOrder,
            "invalid_ord_type": ccxt.InvalidOrder,
            "duplicate_identifier": ccxt.InvalidOrder,
            "validation_error": ccxt.BadRequest,
            "invalid_query_payload": ccxt.AuthenticationError,
            "no_authorization_token": ccxt.AuthenticationError,
            "too_many_requests": ccxt.RateLimitExceeded,
        }
        return {"exceptions": {"broad": broad}}

    def point_at(self, exchange: Any, base_url: str) -> None:
        parts = urlsplit(base_url)
        http = f"{parts.scheme or 'http'}://{parts.netloc}"
        ws = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}"
        api = exchange.urls["api"]
        api["public"] = http
        api["private"] = http
        api["ws"] = f"{ws}/websocket/v1"

    # -- markets -------------------------------------------------------------------------------------
    def instrument(self, market: dict[str, Any], precision_mode: int) -> Instrument | None:
        quote = str(market.get("quote"))
        return instrument_from_market(
            self.venue_name,
            market,
            precision_mode,
            tick_size=krw_tick(Decimal(0)) if quote == "KRW" else OTHER_TICK,
            min_notional=MIN_TOTAL.get(quote),
        )

    def tick_lookup(self, exchange: Any, symbols: list[str]) -> Awaitable[dict[str, Decimal]] | None:
        """Upbit's own price units now (``GET /v1/orderbook/instruments``, since 2025-07-31)."""

        async def lookup() -> dict[str, Decimal]:
            out: dict[str, Decimal] = {}
            ids = [exchange.market(s)["id"] for s in symbols]
            for i in range(0, len(ids), 100):
                rows = await exchange.publicGetOrderbookInstruments({"markets": ",".join(ids[i : i + 100])})
                for row in rows or []:
                    symbol = exchange.safe_symbol(row.get("market"), None, "-")
                    if symbol in symbols and row.get("tick_size") not in (None, ""):
                        out[symbol] = clean(Decimal(str(row["tick_size"])))
            return out

        return lookup()

    def at_price(self, inst: Instrument, price: Decimal) -> Instrument:
        """The instrument with the price unit of the band ``price`` is in."""
        if price <= 0:
            return inst
        return replace(inst, tick_size=tick_for(inst.quote, price, inst.base))

    # -- orders --------------------------------------------------------------------------------------
    def _check_price(self, order: Order, price: Decimal) -> None:
        base, _, quote = order.symbol.partition("/")
        tick = tick_for(quote, price, base)
        if not is_multiple(price, tick):
            raise OrderRejected(detail=f"Upbit's price unit at {fmt(price)} {quote} is {fmt(tick)}")

    def order_args(self, order: Order) -> OrderArgs:
        t = order.type
        if t.has_trigger or t is OrderType.TRAILING_STOP:
            raise OrderRejected(detail="Upbit has no stop orders: the app watches them")
        params: dict[str, Any] = {"clientOrderId": order.client_order_id}
        side, qty = order.side.value, fmt(order.quantity)
        if t is OrderType.MARKET:
            if order.side is Side.BUY:
                raise OrderRejected(detail="an Upbit market buy needs the best ask (capped_market_buy)")
            if order.tif is TimeInForce.FOK:
                raise OrderRejected(detail="Upbit has no fill-or-kill market sell")
            return OrderArgs("market", side, qty, None, params)
        assert order.price is not None
        self._check_price(order, order.price)
        if order.post_only:
            params["postOnly"] = True
        elif order.tif is not TimeInForce.GTC:
            params["timeInForce"] = order.tif.value.upper()
        return OrderArgs("limit", side, qty, fmt(order.price), params)

    def capped_market_buy(self, order: Order, best_ask: Decimal) -> OrderArgs:
        """A market buy of a quantity: a limit IOC (FOK when asked) at the best ask plus the cap,
        rounded up to the price unit there. It fills at the book's prices, never above the cap."""
        cap = self.market_buy_cap or Decimal(0)
        base, _, quote = order.symbol.partition("/")
        raw = best_ask * (1 + cap)
        tick = tick_for(quote, raw, base)
        price = (raw / tick).to_integral_value(ROUND_CEILING) * tick
        tick = tick_for(quote, price, base)  # rounding up may have crossed into the next band
        price = (price / tick).to_integral_value(ROUND_CEILING) * tick
        tif = "FOK" if order.tif is TimeInForce.FOK else "IOC"
        params = {"clientOrderId": order.client_order_id, "timeInForce": tif}
        return OrderArgs("limit", "buy", fmt(order.quantity), fmt(price), params)

    def lookup(self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str) -> Awaitable[Any]:
        """``GET /v1/order`` by uuid, or by identifier when the uuid is not known."""
        if venue_order_id:
            return exchange.fetch_order(venue_order_id, symbol)

        async def by_identifier() -> Any:
            return exchange.parse_order(await exchange.privateGetOrder({"identifier": client_order_id}))

        return by_identifier()

    def cancel_call(
        self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str
    ) -> Awaitable[Any]:
        if venue_order_id:
            return exchange.cancel_order(venue_order_id, symbol)

        async def by_identifier() -> Any:
            return exchange.parse_order(await exchange.privateDeleteOrder({"identifier": client_order_id}))

        return by_identifier()

    # -- the account stream --------------------------------------------------------------------------
    def stream_trades(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return []  # fills come one by one from watch_my_trades

    def fill_numbers(self, trade: dict[str, Any]) -> tuple[str, str, str, str, str, bool | None, int | None] | None:
        info = trade.get("info") or {}
        if info.get("type") == "myOrder" and info.get("trade_uuid"):
            quote = str(info.get("code", "")).partition("-")[0]
            maker = info.get("is_maker")
            return (
                str(info["trade_uuid"]),
                str(info["volume"]),
                str(info["price"]),
                str(info.get("trade_fee") or 0),
                quote,
                None if maker is None else bool(maker),
                int(info.get("trade_timestamp") or 0),
            )
        if "funds" in info and "uuid" in info and "side" in info:  # a trade inside GET /v1/order
            quote = str(info.get("market", "")).partition("-")[0]
            side = str(info["side"]).lower()
            return (
                str(info["uuid"]),
                str(info["volume"]),
                str(info["price"]),
                str(info.get(f"{side}_fee") or 0),
                quote,
                None,
                _ms(info.get("created_at")),
            )
        return None

    def balance_numbers(self, info: Any) -> dict[str, tuple[str, str]] | None:
        if isinstance(info, list):  # GET /v1/accounts
            return {str(b["currency"]): (str(b["balance"]), str(b["locked"])) for b in info if isinstance(b, dict)}
        if isinstance(info, dict) and info.get("type") == "myAsset":
            return {str(b["currency"]): (str(b["balance"]), str(b["locked"])) for b in info.get("assets") or []}
        return None
