"""The ccxt family's parts without a network: the one error translator, markets → instruments
(Binance's recorded exchangeInfo, other precision modes), and Binance's order parameters."""

from __future__ import annotations

import json
from decimal import Decimal

import ccxt
import ccxt.pro
import pytest
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE
from loopback.binance.info import exchange_info, recorded_info

from app.domain.enums import OrderType, Side, TimeInForce, TrailingMode
from app.domain.errors import (
    AuthenticationFailed,
    InsufficientBalance,
    OrderNotFound,
    OrderRejected,
    TemporaryVenueError,
    VenueError,
)
from app.domain.order import Order, id_problems
from app.venues.ccxt import errors as E
from app.venues.ccxt import profile_for
from app.venues.ccxt.instruments import instrument_from_market

D = Decimal
BINANCE = profile_for("binance")


# -- errors --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "kind", "key"),
    [
        (
            ccxt.NetworkError("binance GET https://api.binance.com/api/v3/time"),
            TemporaryVenueError,
            "error.venue_temporary",
        ),
        (ccxt.RequestTimeout("binance POST /api/v3/order"), E.RequestTimedOut, "error.venue_timeout"),
        (
            ccxt.RateLimitExceeded('binance {"code":-1003,"msg":"Too many requests"}'),
            E.RateLimited,
            "error.rate_limited",
        ),
        (ccxt.DDoSProtection("binance 429 Too Many Requests"), E.RateLimited, "error.rate_limited"),
        (
            ccxt.ExchangeNotAvailable("binance GET 503 Service Unavailable"),
            E.ExchangeUnavailable,
            "error.exchange_unavailable",
        ),
        (ccxt.OnMaintenance("binance System is under maintenance."), E.ExchangeUnavailable, "error.maintenance"),
        (
            ccxt.InvalidOrder('binance {"code":-1013,"msg":"Filter failure: LOT_SIZE"}'),
            OrderRejected,
            "error.order_rejected",
        ),
        (
            ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}'),
            E.DuplicateClientOrderId,
            "error.duplicate_client_id",
        ),
        (
            ccxt.InsufficientFunds(
                'binance {"code":-2010,"msg":"Account has insufficient balance for requested action."}'
            ),
            InsufficientBalance,
            "error.insufficient_balance",
        ),
        (
            ccxt.AuthenticationError('binance {"code":-1022,"msg":"Signature for this request is not valid."}'),
            AuthenticationFailed,
            "error.auth_failed",
        ),
        (ccxt.PermissionDenied("binance You are not authorized"), AuthenticationFailed, "error.auth_failed"),
        (
            ccxt.OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}'),
            OrderNotFound,
            "error.order_not_found",
        ),
        (
            ccxt.InvalidNonce(
                'binance {"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'
            ),
            E.ClockSkew,
            "error.clock_skew",
        ),
        (ccxt.ChecksumError("binance BTC/USDT"), E.BookOutOfSync, "error.book_out_of_sync"),
        (ccxt.BadResponse("binance could not parse"), E.BadAnswer, "error.venue_bad_answer"),
        (ccxt.BadSymbol('binance {"code":-1121,"msg":"Invalid symbol."}'), E.UnknownSymbol, "error.unknown_symbol"),
        (ccxt.NotSupported("binance fetchX() is not supported"), E.NotSupportedHere, "error.not_supported"),
        (ccxt.ExchangeError("binance something else"), VenueError, "error.venue"),
        (TimeoutError(), E.RequestTimedOut, "error.venue_timeout"),
    ],
)
def test_each_ccxt_error_becomes_one_domain_error_with_a_message_key(exc, kind, key):
    err = E.translate(exc, duplicate_markers=BINANCE.duplicate_markers, retry_after_s=2.0)
    assert type(err) is kind
    assert err.key == key
    assert err.message and "{" not in err.message


def test_only_network_trouble_is_temporary_and_retried():
    temporary = [
        ccxt.NetworkError(),
        ccxt.RequestTimeout(),
        ccxt.DDoSProtection(),
        ccxt.ExchangeNotAvailable(),
        ccxt.InvalidNonce(),
        ccxt.BadResponse(),
    ]
    answers = [ccxt.InvalidOrder(), ccxt.InsufficientFunds(), ccxt.AuthenticationError(), ccxt.OrderNotFound()]
    assert all(isinstance(E.translate(e), TemporaryVenueError) for e in temporary)
    assert not any(isinstance(E.translate(e), TemporaryVenueError) for e in answers)


def test_a_418_is_a_ban_with_its_end_and_is_not_retried():
    err = E.translate(ccxt.DDoSProtection("binance 418 I'm a teapot"), ban_until_ms=130_000, now_ms=10_000)
    assert isinstance(err, E.IpBanned) and not isinstance(err, TemporaryVenueError)
    assert err.until_ms == 130_000 and err.params["seconds"] == "120"


def test_the_exchange_code_is_read_from_ccxt_text():
    assert E.exchange_code(ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}')) == (
        -2010,
        "Duplicate order sent.",
    )
    assert E.exchange_code(ccxt.ExchangeError("no json here")) == (None, "")


# -- instruments -----------------------------------------------------------------------------------------
def offline_binance():
    """ccxt's binance class as ``load_markets`` leaves it, without the requests."""
    ex = ccxt.pro.binance({"options": BINANCE.ccxt_options()})
    ex.options["crossMarginPairsData"] = []
    ex.options["isolatedMarginPairsData"] = []
    return ex


@pytest.fixture(scope="module")
def recorded_markets():
    info = recorded_info()
    if info is None:
        pytest.skip("the recorded Binance session (../shared/data) is not here")
    ex = offline_binance()
    markets = {}
    for sym in info["symbols"]:
        m = ex.parse_market(sym)
        if m is not None:
            markets[m["id"]] = m
    return markets, {s["symbol"]: s for s in info["symbols"]}


def _filters(sym):
    return {f["filterType"]: f for f in sym["filters"]}


def test_binance_instruments_take_every_filter_exactly_from_the_recorded_exchange_info(recorded_markets):
    markets, raw = recorded_markets
    btc = BINANCE.instrument(markets["BTCUSDT"], TICK_SIZE)
    assert btc is not None
    assert (btc.symbol, btc.base, btc.quote) == ("BTC/USDT", "BTC", "USDT")
    assert btc.tick_size == D("0.01") and btc.lot_step == D("0.00001") and btc.min_qty == D("0.00001")
    assert btc.max_qty == D("9000") and btc.min_notional == D("10")
    assert btc.band_down == D("0.2") and btc.band_up == D("5")
    checked = 0
    for sid, m in markets.items():
        if raw[sid]["status"] != "TRADING":
            continue
        inst = BINANCE.instrument(m, TICK_SIZE)
        f = _filters(raw[sid])
        assert inst is not None, sid
        assert inst.tick_size == D(f["PRICE_FILTER"]["tickSize"]), sid
        assert inst.lot_step == D(f["LOT_SIZE"]["stepSize"]), sid
        assert inst.min_qty == D(f["LOT_SIZE"]["minQty"]), sid
        assert inst.min_notional == D(f["MIN_NOTIONAL"]["minNotional"]), sid
        checked += 1
    assert checked > 1000


def test_binance_markets_that_do_not_trade_are_left_out(recorded_markets):
    markets, raw = recorded_markets
    halted = [sid for sid, s in raw.items() if s["status"] != "TRADING" and sid in markets]
    assert halted
    assert all(BINANCE.instrument(markets[sid], TICK_SIZE) is None for sid in halted)


def _market(precision, mode_limits=None):
    return {
        "symbol": "XBT/EUR",
        "base": "XBT",
        "quote": "EUR",
        "spot": True,
        "active": True,
        "precision": precision,
        "limits": mode_limits or {"amount": {"min": 0.0001}, "cost": {"min": 0.5}},
        "maker": 0.0016,
        "taker": 0.0026,
    }


def test_other_precision_modes_become_exact_steps():
    places = instrument_from_market("kraken", _market({"price": 1, "amount": 8}), DECIMAL_PLACES)
    assert places is not None
    assert places.tick_size == D("0.1") and places.lot_step == D("0.00000001")
    assert places.min_qty == D("0.0001") and places.min_notional == D("0.5")
    assert places.maker_fee == D("0.0016") and places.taker_fee == D("0.0026")
    ticks = instrument_from_market("coinbase", _market({"price": 0.01, "amount": 1e-08}), TICK_SIZE)
    assert ticks is not None and ticks.tick_size == D("0.01") and ticks.lot_step == D("1E-8")
    # Significant digits depend on the price: only the exchange's own profile can say.
    assert instrument_from_market("x", _market({"price": 5, "amount": 8}), SIGNIFICANT_DIGITS) is None


# -- Binance order parameters ------------------------------------------------------------------------------
def _order(t, **kw):
    base = dict(
        client_order_id="ag1", venue="binance", symbol="BTC/USDT", side=Side.SELL, type=t, quantity=D("0.01000")
    )
    base.update(kw)
    return Order(**base)


@pytest.mark.parametrize(
    ("t", "kw", "kind", "price", "params"),
    [
        (OrderType.MARKET, {}, "market", None, {}),
        (OrderType.LIMIT, {"price": D("65000.50")}, "limit", "65000.5", {"timeInForce": "GTC"}),
        (OrderType.LIMIT, {"price": D("65000"), "tif": TimeInForce.IOC}, "limit", "65000", {"timeInForce": "IOC"}),
        (OrderType.LIMIT, {"price": D("65000"), "tif": TimeInForce.FOK}, "limit", "65000", {"timeInForce": "FOK"}),
        (OrderType.LIMIT, {"price": D("65000"), "post_only": True}, "LIMIT_MAKER", "65000", {}),
        (OrderType.STOP_MARKET, {"stop_price": D("60000")}, "STOP_LOSS", None, {"stopPrice": "60000"}),
        (
            OrderType.STOP_LIMIT,
            {"stop_price": D("60000"), "price": D("59900")},
            "STOP_LOSS_LIMIT",
            "59900",
            {"stopPrice": "60000", "timeInForce": "GTC"},
        ),
        (OrderType.TAKE_PROFIT_MARKET, {"stop_price": D("70000")}, "TAKE_PROFIT", None, {"stopPrice": "70000"}),
        (
            OrderType.TAKE_PROFIT_LIMIT,
            {"stop_price": D("70000"), "price": D("69900")},
            "TAKE_PROFIT_LIMIT",
            "69900",
            {"stopPrice": "70000", "timeInForce": "GTC"},
        ),
        (
            OrderType.TRAILING_STOP,
            {"trail_mode": TrailingMode.PERCENT, "trail_value": D("1.5"), "activation_price": D("66000")},
            "STOP_LOSS",
            None,
            {"trailingPercent": "1.5", "trailingTriggerPrice": "66000"},
        ),
    ],
)
def test_every_order_type_maps_to_binances_own_parameters(t, kw, kind, price, params):
    args = BINANCE.order_args(_order(t, **kw))
    assert (args.type, args.side, args.amount, args.price) == (kind, "sell", "0.01", price)
    assert args.params == {"newClientOrderId": "ag1", **params}


def test_ccxt_builds_binances_request_from_those_parameters():
    """The request ccxt signs and sends: Binance's names, exact decimal text, our client id."""
    ex = offline_binance()
    info, _recorded = exchange_info(("BTCUSDT",))  # today's format: STOP_LOSS and TAKE_PROFIT are listed
    ex.set_markets([ex.parse_market(s) for s in info["symbols"] if s["symbol"] == "BTCUSDT"])
    cases = {
        OrderType.STOP_LIMIT: (
            {"stop_price": D("60000"), "price": D("59900.10")},
            {"type": "STOP_LOSS_LIMIT", "stopPrice": "60000", "price": "59900.1", "timeInForce": "GTC"},
        ),
        OrderType.TAKE_PROFIT_MARKET: ({"stop_price": D("70000")}, {"type": "TAKE_PROFIT", "stopPrice": "70000"}),
        OrderType.LIMIT: ({"price": D("65000"), "post_only": True}, {"type": "LIMIT_MAKER", "price": "65000"}),
        OrderType.TRAILING_STOP: (
            {"trail_mode": TrailingMode.PERCENT, "trail_value": D("1.5")},
            {"type": "STOP_LOSS", "trailingDelta": "150"},
        ),
    }
    for t, (kw, expected) in cases.items():
        args = BINANCE.order_args(_order(t, **kw))
        req = ex.create_order_request("BTC/USDT", args.type, args.side, args.amount, args.price, dict(args.params))
        assert req["newClientOrderId"] == "ag1" and req["quantity"] == "0.01" and req["side"] == "SELL"
        for k, v in expected.items():
            assert str(req[k]) == v, (t, k, req)


def test_what_binance_cannot_hold_is_refused_before_sending():
    with pytest.raises(OrderRejected):
        BINANCE.order_args(_order(OrderType.TRAILING_STOP, trail_mode=TrailingMode.AMOUNT, trail_value=D("100")))
    with pytest.raises(OrderRejected):
        BINANCE.order_args(_order(OrderType.TRAILING_STOP, trail_mode=TrailingMode.PERCENT, trail_value=D("0.125")))
    with pytest.raises(OrderRejected):
        BINANCE.order_args(_order(OrderType.MARKET, tif=TimeInForce.FOK))


def test_binance_oco_goes_to_the_order_list_endpoint_with_each_legs_client_id():
    fmt = str
    sell_limit = _order(OrderType.LIMIT, client_order_id="lim", price=D("70000"), list_id="L1")
    sell_stop = _order(
        OrderType.STOP_LIMIT, client_order_id="stp", stop_price=D("60000"), price=D("59900"), list_id="L1"
    )
    method, p = BINANCE.oco_call(sell_limit, sell_stop, {"id": "BTCUSDT"}, fmt, fmt)
    assert method == "privatePostOrderListOco"
    assert p["side"] == "SELL" and p["listClientOrderId"] == "L1" and p["quantity"] == "0.01000"
    assert (p["aboveType"], p["aboveClientOrderId"], p["abovePrice"]) == ("LIMIT_MAKER", "lim", "70000")
    assert (p["belowType"], p["belowClientOrderId"], p["belowStopPrice"], p["belowPrice"], p["belowTimeInForce"]) == (
        "STOP_LOSS_LIMIT",
        "stp",
        "60000",
        "59900",
        "GTC",
    )
    buy_limit = _order(OrderType.LIMIT, side=Side.BUY, client_order_id="lim", price=D("60000"))
    buy_stop = _order(OrderType.STOP_MARKET, side=Side.BUY, client_order_id="stp", stop_price=D("70000"))
    _, p = BINANCE.oco_call(buy_limit, buy_stop, {"id": "BTCUSDT"}, fmt, fmt)
    assert (p["belowType"], p["belowPrice"], p["aboveType"], p["aboveStopPrice"]) == (
        "LIMIT_MAKER",
        "60000",
        "STOP_LOSS",
        "70000",
    )
    assert "aboveTimeInForce" not in p


def test_binance_client_ids_follow_its_rule():
    rules = BINANCE.capabilities.id_rules
    assert id_problems("ag-1.2:3/x_y", "", rules) == []
    assert id_problems("x" * 37, "", rules)
    assert id_problems("has space", "", rules)


def test_the_binance_profile_is_data():
    caps = BINANCE.capabilities
    assert caps.native_oco and caps.native_stop and caps.native_take_profit and caps.post_only
    assert not caps.native_trailing  # by whole basis points only: the app watches its trailing stops
    assert BINANCE.ccxt_options()["fetchMarkets"] == {"types": ["spot"]}
    json.dumps(BINANCE.ccxt_options())
