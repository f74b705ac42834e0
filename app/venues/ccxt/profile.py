"""An exchange's quirks as data: capabilities, ccxt options, parameter names, id rules, limits,
how its URLs are pointed elsewhere (a loopback exchange), how its markets and orders map.

``ExchangeProfile`` holds what ccxt unifies well; a subclass per exchange (``binance.py``,
``upbit.py``, ``kraken.py``, ``coinbase.py``) holds what it does not, registered in ``PROFILES``
with ``@register``. What a new one sets or overrides:

- ``ccxt_id``, ``capabilities`` (native stops, OCO, post-only, its client-id rule), ``options``;
- ``point_at``: which entries of ccxt's ``urls`` a loopback base URL replaces (REST and websockets);
- ``instrument`` when ccxt's precision is not a fixed step (significant digits; Upbit's KRW ticks);
- ``order_args`` for order types ccxt does not unify, ``client_id_param``, ``duplicate_markers``;
- ``stream_trades`` / ``fill_numbers`` / ``balance_numbers`` when its account stream carries fills
  or balances in its own fields; ``trades_need_symbol`` when its trade history needs a symbol;
- ``oco_call`` / ``oco_reports`` only with ``capabilities.native_oco``;
- ``client_id_query`` / ``lookup`` / ``cancel_call`` when an order is found by client id differently;
- ``needs_prices`` + ``at_price`` when the tick depends on the price (Upbit's KRW bands);
- ``market_buy_cap`` + ``capped_market_buy`` when a market buy cannot be sent by quantity (Upbit);
- ``fills_from_my_trades`` when the account stream's fills are read from ``watch_my_trades``;
  ``fills_by_rest`` when its order stream carries no fills; ``balances_by_rest`` likewise;
- ``ccxt_config`` (error answers ccxt leaves generic), ``prepare`` (checks ccxt leaves out:
  ``book_checks``), ``one_request_at_a_time``, ``ws_timeframes``, ``cancel_answers_before``.

Then a loopback server under ``tests/loopback/`` and a harness in ``tests/venues/harnesses.py``:
the conformance suite runs on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from app.domain.enums import OrderType, TimeInForce
from app.domain.errors import OrderRejected
from app.domain.instrument import Instrument
from app.domain.money import fmt
from app.domain.order import DEFAULT_ID_RULES, Order

from ..base import Capabilities
from .instruments import instrument_from_market


@dataclass(frozen=True, slots=True)
class OrderArgs:
    """One ``create_order`` call of ccxt: unified type and side, amount and price as exact
    strings (ccxt formats them to the market's precision without going through a float), params."""

    type: str
    side: str
    amount: str
    price: str | None
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Timing:
    """Streams: how often ccxt pings (its keep-alive), when a socket with no frame at all is
    declared stalled, how often a REST fallback polls."""

    keepalive_ms: int = 20_000
    stall_after_s: float = 60.0
    poll_s: float = 2.0
    watchdog_every_s: float = 1.0
    clock_every_s: float = 900.0  # the clock is measured again this often (and after every -1021)


GENERIC_CAPABILITIES = Capabilities(native_oco=False, native_trailing=False)
DEFAULT_TIMING = Timing()


@dataclass(frozen=True)
class ExchangeProfile:
    ccxt_id: ClassVar[str] = ""
    name: str = ""  # the venue's name in the app (defaults to ccxt_id)
    capabilities: Capabilities = GENERIC_CAPABILITIES
    options: dict[str, Any] = field(default_factory=dict)  # merged into ccxt's options
    timing: Timing = DEFAULT_TIMING
    book_depth: int = 20  # levels of each side published as a BookSnapshot
    book_limit: int | None = None  # depth of the REST snapshot a book stream starts from (None: ccxt's)
    # Answers to a place that mean "an order with this client id exists already".
    duplicate_markers: tuple[str, ...] = ()
    # Exchanges whose trade history needs a symbol per call (Binance): the venue asks per symbol it knows.
    trades_need_symbol: bool = False
    # Trade history answered newest first (Coinbase): a full page is followed by the one before it.
    trades_newest_first: bool = False
    client_id_param: str = "clientOrderId"
    # The parameter that finds an order by client id in fetch/cancel (None: derived from client_id_param).
    client_id_query: str | None = None
    # The tick depends on the price (Upbit's KRW bands): tickers are read with the markets (``at_price``).
    needs_prices: bool = False
    # A market buy is sent as a limit IOC at most this fraction above the best ask (``capped_market_buy``).
    market_buy_cap: Decimal | None = None
    # The account stream's fills come from ``watch_my_trades`` (one message per fill), not from orders.
    fills_from_my_trades: bool = False
    # The order stream carries states only (Coinbase): an order's new fills are read over REST.
    fills_by_rest: bool = False
    # The balance stream carries totals only (Kraken): each of its messages has balances read over REST.
    balances_by_rest: bool = False
    # REST requests go out one at a time (Kraken: a nonce that arrives lower than the last one is
    # refused, and concurrent requests can overtake each other on the way).
    one_request_at_a_time: bool = False
    # The cancel answer shows the order as it was when asked (Upbit: still "wait"), not its end.
    cancel_answers_before: bool = False
    timeframes: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")
    # Timeframes its websocket streams candles in (None: all); others are polled over REST.
    ws_timeframes: tuple[str, ...] | None = None

    @property
    def venue_name(self) -> str:
        return self.name or self.ccxt_id

    # -- connecting ------------------------------------------------------------------------------
    def ccxt_options(self) -> dict[str, Any]:
        return dict(self.options)

    def ccxt_config(self) -> dict[str, Any]:
        """More of ccxt's exchange config (e.g. ``exceptions`` for error answers ccxt leaves generic)."""
        return {}

    def prepare(self, exchange: Any) -> None:
        """Install what ccxt leaves out for this exchange on a new exchange object (``book_checks``)."""

    def point_at(self, exchange: Any, base_url: str) -> None:
        """Send every REST and websocket request of ``exchange`` to ``base_url`` (a loopback
        exchange): http://host:port → REST there, ws://host:port for the streams."""
        raise NotImplementedError(f"{self.ccxt_id}: no URL override defined")

    # -- markets ---------------------------------------------------------------------------------
    def instrument(self, market: dict[str, Any], precision_mode: int) -> Instrument | None:
        return instrument_from_market(self.venue_name, market, precision_mode)

    def at_price(self, inst: Instrument, price: Decimal) -> Instrument:
        """The instrument as it trades at ``price`` (only with ``needs_prices``)."""
        return inst

    def tick_lookup(self, exchange: Any, symbols: list[str]) -> Awaitable[dict[str, Decimal]] | None:
        """The exchange's own current tick per symbol, where it says (``needs_prices``; else None)."""
        return None

    # -- orders ----------------------------------------------------------------------------------
    def capped_market_buy(self, order: Order, best_ask: Decimal) -> OrderArgs:
        raise NotImplementedError(f"{self.ccxt_id} sends market buys as they are")

    def lookup(self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str) -> Awaitable[Any]:
        """ccxt's ``fetch_order`` for an order known by venue id and/or client id."""
        return exchange.fetch_order(venue_order_id or "", symbol, {self.id_query: client_order_id})

    def cancel_call(
        self, exchange: Any, venue_order_id: str | None, symbol: str, client_order_id: str
    ) -> Awaitable[Any]:
        return exchange.cancel_order(venue_order_id or "", symbol, {self.id_query: client_order_id})

    @property
    def id_query(self) -> str:
        if self.client_id_query:
            return self.client_id_query
        return "origClientOrderId" if self.client_id_param == "newClientOrderId" else "clientOrderId"

    def order_args(self, order: Order) -> OrderArgs:
        """ccxt's unified parameters; exchanges with their own order types override."""
        params: dict[str, Any] = {self.client_id_param: order.client_order_id}
        t = order.type
        price = fmt(order.price) if order.price is not None else None
        if t is OrderType.TRAILING_STOP:
            raise OrderRejected(detail="trailing stops are watched by the app on this exchange")
        if t.has_trigger:
            assert order.stop_price is not None
            key = (
                "takeProfitPrice"
                if t in (OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT)
                else "triggerPrice"
            )
            params[key] = fmt(order.stop_price)
        if t.has_limit_price or t is OrderType.LIMIT:
            if order.tif is not TimeInForce.GTC:
                params["timeInForce"] = order.tif.value.upper()
            if order.post_only:
                params["postOnly"] = True
        kind = "limit" if t.has_limit_price else "market"
        return OrderArgs(kind, order.side.value, fmt(order.quantity), price, params)

    def oco_call(
        self,
        limit: Order,
        stop: Order,
        market: dict[str, Any],
        fmt_price: Callable[[Decimal], str],
        fmt_amount: Callable[[Decimal], str],
    ) -> tuple[str, dict[str, Any]]:
        """The exchange's native OCO request: (ccxt implicit method, params). Only for profiles
        whose capabilities say ``native_oco``."""
        raise NotImplementedError(f"{self.ccxt_id} has no native OCO")

    def oco_reports(self, response: Any) -> dict[str, tuple[str, str]]:
        """Client id → (venue order id, exchange status) of each leg in a native OCO answer."""
        raise NotImplementedError

    # -- the account stream ------------------------------------------------------------------------
    def order_client_id(self, order: dict[str, Any]) -> str:
        """The client order id of a ccxt order from the stream ("" when it carries none)."""
        return str(order.get("clientOrderId") or "")

    def stream_trades(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """The trades an order update from ``watch_orders`` carries (ccxt's unified trades)."""
        return [t for t in (order.get("trades") or []) if isinstance(t, dict)]

    def fill_numbers(self, trade: dict[str, Any]) -> tuple[str, str, str, str, str, bool | None, int | None] | None:
        """(trade id, quantity, price, fee, fee asset, is maker, time) read exactly from the
        exchange's own payload, or None to use ccxt's unified numbers."""
        return None

    def balance_numbers(self, info: Any) -> dict[str, tuple[str, str]] | None:
        """Asset → (free, locked) as the exchange wrote them in a balance message, if it can be read."""
        return None


PROFILES: dict[str, Callable[..., ExchangeProfile]] = {}


def register(cls: type[ExchangeProfile]) -> type[ExchangeProfile]:
    PROFILES[cls.ccxt_id] = cls
    return cls


def profile_for(exchange: str, **kw: Any) -> ExchangeProfile:
    """The profile of a ccxt exchange id ("binance"); ``kw`` overrides its fields (name, timing…)."""
    from . import binance, coinbase, kraken, upbit  # noqa: F401  (each registers itself)

    try:
        return PROFILES[exchange](**kw)
    except KeyError:
        raise ValueError(f"no profile for exchange {exchange!r}; known: {', '.join(sorted(PROFILES))}") from None


__all__ = ["DEFAULT_ID_RULES", "PROFILES", "ExchangeProfile", "OrderArgs", "Timing", "profile_for", "register"]
