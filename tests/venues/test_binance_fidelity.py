"""Field fidelity of the loopback Binance: every field of Binance's real answers and stream
messages (ccxt's recorded static responses, cryptofeed's recorded session, Binance's documented
examples, nautilus_trader's payloads) is in what the loopback sends, and ccxt parses the loopback's
answers into the same unified fields, of the same types, as the recorded ones."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import ccxt.pro
import pytest
from loopback.binance import BinanceLoopback
from loopback.binance.info import shared_data
from loopback.testing import binance_thread, binance_venue

from app.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from app.venues.ccxt import profile_for

D = Decimal
FIXTURES = shared_data() / "fixtures"


def fixture(path: str) -> Any:
    p = FIXTURES / path
    if not p.exists():
        pytest.skip(f"{path} is not here (../shared/data)")
    return json.loads(p.read_text())


def first(x: Any) -> Any:
    return x[0] if isinstance(x, list) else x


def kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    return type(v).__name__


def present(d: dict[str, Any]) -> dict[str, str]:
    return {k: kind(v) for k, v in d.items() if v is not None and k != "info"}


@pytest.fixture(scope="module")
def lb():
    with binance_thread() as thread:
        yield thread


@pytest.fixture(scope="module")
def recorded():
    return fixture("ccxt_static/response/binance.spot_subset.json")["methods"]


# -- REST: ccxt against the loopback, compared with ccxt's recorded Binance answers -----------------------------
@pytest.fixture(scope="module")
def ours(lb):
    """Each method of the recording, called through ccxt on the loopback in the same state."""
    import asyncio

    server: BinanceLoopback = lb.server
    lb.call(server.reset)
    lb.call(server.book_around, "BTC/USDT", "60000", spread="1", levels=10, qty="1")
    lb.call(server.trade, "BTC/USDT", "60000", "0.1")
    lb.call(
        server.seed_klines,
        "BTC/USDT",
        "1h",
        [(1706630400000 + i * 3_600_000, 43500, 43900, 43100, 43480, 20) for i in range(5)],
    )

    async def run() -> dict[str, tuple[Any, Any]]:
        v = binance_venue(server.base_url)
        ex = v.exchange
        ex.enableLastJsonResponse = True
        out: dict[str, tuple[Any, Any]] = {}
        try:
            await v.load_markets()

            async def call(name: str, coro: Any) -> None:
                parsed = await coro
                out[name] = (ex.last_json_response, parsed)

            await call(
                "createOrder",
                ex.create_order("BTC/USDT", "limit", "buy", "0.01", "59000", {"newOrderRespType": "FULL"}),
            )
            sold = await ex.create_order("BTC/USDT", "market", "sell", "0.01")
            await call("fetchOrder", ex.fetch_order(sold["id"], "BTC/USDT"))
            await ex.create_order("BTC/USDT", "LIMIT_MAKER", "buy", "0.01", "58000")
            await call("fetchOpenOrders", ex.fetch_open_orders("BTC/USDT"))
            await ex.cancel_all_orders("BTC/USDT")
            await call("fetchOrders", ex.fetch_orders("BTC/USDT"))
            await call("fetchMyTrades", ex.fetch_my_trades("BTC/USDT"))
            await call("fetchBalance", ex.fetch_balance())
            await call("fetchOHLCV", ex.fetch_ohlcv("BTC/USDT", "1h", 1706628191000, 3))
            await call("fetchOrderBook", ex.fetch_order_book("BTC/USDT", 5))
            await call("fetchTrades", ex.fetch_trades("BTC/USDT", None, 1))
            await call("fetchTicker", ex.fetch_ticker("BTC/USDT"))
        finally:
            await v.close()
        return out

    return asyncio.run(run())


RAW_NOT_EXPECTED = {  # fields of the recording that its own request asked for
    "createOrder": {"icebergQty"},
}
PARSED_STATE = {  # unified fields that depend on the order's state or the request, not on the format
    "createOrder": {"stopPrice", "triggerPrice"},
    "fetchOrders": set(),
}


@pytest.mark.parametrize(
    "method",
    [
        "createOrder",
        "fetchOrder",
        "fetchOpenOrders",
        "fetchOrders",
        "fetchMyTrades",
        "fetchBalance",
        "fetchOHLCV",
        "fetchOrderBook",
        "fetchTrades",
        "fetchTicker",
    ],
)
def test_ccxt_reads_the_loopbacks_answers_into_the_recorded_unified_fields(recorded, ours, method):
    case = recorded[method][0]
    raw, parsed = ours[method]
    want_raw, want = first(case["httpResponse"]), first(case["parsedResponse"])
    got_raw, got = first(raw), first(parsed)
    if isinstance(want_raw, dict):
        missing = set(want_raw) - set(got_raw) - RAW_NOT_EXPECTED.get(method, set())
        assert missing == set(), f"{method}: Binance sends {sorted(missing)}, the loopback does not"
    else:  # klines: rows of the same length
        assert len(got_raw) == len(want_raw)
    if isinstance(want, dict):
        if method == "fetchBalance":
            assert {"info", "free", "used", "total"} <= set(got) and got["BTC"]["free"] is not None
            return
        w, g = present(want), present(got)
        missing = set(w) - set(g) - PARSED_STATE.get(method, set())
        assert missing == set(), f"{method}: ccxt fills {sorted(missing)} from Binance, not from the loopback"
        assert {k: v for k, v in w.items() if k in g} == {k: g[k] for k in w if k in g}
    else:
        assert [kind(x) for x in want] == [kind(x) for x in got]


def test_the_loopback_serves_binances_recorded_exchange_info(lb):
    if not lb.server.recorded:
        pytest.skip("the recorded session is not here: the loopback runs on its built-in markets")
    ex = ccxt.pro.binance({"options": profile_for("binance").ccxt_options()})
    ex.options["crossMarginPairsData"], ex.options["isolatedMarginPairsData"] = [], []
    btc = next(s for s in lb.server.info["symbols"] if s["symbol"] == "BTCUSDT")
    m = ex.parse_market(btc)
    assert m["precision"]["price"] == 0.01 and m["precision"]["amount"] == 1e-05
    assert m["limits"]["cost"]["min"] == 10.0 and m["active"] is True


# -- streams: every recorded field is in the loopback's messages ------------------------------------------------
def _recorded_ws() -> dict[str, dict[str, Any]]:
    path = FIXTURES / "cryptofeed_sample_data" / "BINANCE.ws.1.0"
    if not path.exists():
        pytest.skip("the recorded Binance session is not here (../shared/data)")
    seen: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines()[1:]:
        try:
            msg = json.loads(line.split(": ", 1)[1])
        except (IndexError, ValueError):
            continue
        data = msg.get("data", msg)
        seen.setdefault(data.get("e", "bookTicker"), data)
    return seen


def _docs(name: str, heading: str) -> dict[str, Any]:
    for x in fixture(f"binance_docs_examples/{name}.examples.json"):
        if x["heading"] == heading:
            return dict(x["example"])
    raise AssertionError(heading)


def _nautilus(name: str) -> dict[str, Any]:
    return dict(fixture(f"nautilus_trader/crates/adapters/binance/test_data/spot/user_data_json/{name}.json"))


def _keys(d: dict[str, Any]) -> set[str]:
    """Field names, a kline's inner ones included."""
    inner = d.get("k")
    return set(d) | ({f"k.{k}" for k in inner} if isinstance(inner, dict) else set())


@pytest.fixture(scope="module")
def our_events():
    """One of each message the loopback sends, made by the loopback itself."""
    from loopback.binance.orders import Fill, LoopOrder, OrderList

    from app.venues.paper import PaperOrder

    lb = BinanceLoopback()
    m = lb.markets["BTCUSDT"]
    m.klines["1m"] = []
    depth = m.apply([(D("59999"), D("1"))], [(D("60001"), D("1"))], ts=1)
    trade, _ = m.trade(D("60000"), D("0.5"), Side.BUY, 1)
    po = PaperOrder(
        "c1", "1", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("1"), D("60000"), None, TimeInForce.GTC, False, 1
    )
    lo = LoopOrder(po, 1, "BTCUSDT", "LIMIT", "GTC", 1)
    po.filled = D("1")
    po.status = OrderStatus.FILLED
    fill = Fill(7, D("1"), D("60000"), D("0.001"), "BTC", True, 2)
    return {
        "depthUpdate": depth,
        "bookTicker": m.book_ticker(),
        "trade": trade,
        "aggTrade": {**trade, "e": "aggTrade", "a": 1, "f": 1, "l": 1},
        "kline": m.kline_event("1m", 2),
        "24hrTicker": m.ticker_event(2),
        "24hrMiniTicker": m.mini_ticker_event(2),
        "executionReport": lo.execution_report("TRADE", 2, fill=fill),
        "listStatus": OrderList(1, "L1", "BTCUSDT", [lo], 1).event(2),
        "outboundAccountPosition": {
            "e": "outboundAccountPosition",
            "E": 1,
            "u": 1,
            "B": [{"a": "BTC", "f": "1.00000000", "l": "0.00000000"}],
        },
    }


@pytest.mark.parametrize("event", ["depthUpdate", "bookTicker", "aggTrade", "kline"])
def test_market_stream_messages_have_every_field_of_the_recorded_session(our_events, event):
    want = _recorded_ws()[event]
    assert _keys(want) - _keys(our_events[event]) == set()


@pytest.mark.parametrize(
    ("event", "source"),
    [
        ("trade", ("web-socket-streams", "Trade Streams")),
        ("kline", ("web-socket-streams", "Kline/Candlestick Streams for UTC")),
        ("24hrTicker", ("web-socket-streams", "Individual Symbol Ticker Streams")),
        ("24hrMiniTicker", ("web-socket-streams", "Individual Symbol Mini Ticker Stream")),
        ("bookTicker", ("web-socket-streams", "Individual Symbol Book Ticker Streams")),
        ("depthUpdate", ("web-socket-streams", "Diff. Depth Stream")),
        ("executionReport", ("user-data-stream", "Order Update")),
        ("listStatus", ("user-data-stream", "Order Reject Reason")),  # the docs file the list status example there
        ("outboundAccountPosition", ("user-data-stream", "Account Update")),
    ],
)
def test_stream_messages_have_every_field_of_binances_documented_examples(our_events, event, source):
    want = _docs(*source)
    want = want.get("event", want)
    assert _keys(want) - _keys(our_events[event]) == set()


@pytest.mark.parametrize("name", ["execution_report_trade", "execution_report_new", "execution_report_canceled"])
def test_ccxt_reads_the_loopbacks_execution_report_like_a_real_one(our_events, name):
    ex = ccxt.pro.binance({"options": profile_for("binance").ccxt_options()})
    ex.options["crossMarginPairsData"], ex.options["isolatedMarginPairsData"] = [], []
    lb = BinanceLoopback(symbols=("BTCUSDT", "ETHUSDT"))
    ex.set_markets([ex.parse_market(s) for s in lb.info["symbols"]])
    real = _nautilus(name)
    real = real.get("event", real)
    assert set(real) - set(our_events["executionReport"]) - {"eR"} == set()
    want, got = ex.parse_ws_order(real), ex.parse_ws_order(our_events["executionReport"])
    state = {"lastTradeTimestamp", "fee", "average", "cost", "remaining", "timestamp", "datetime"}
    assert set(present(want)) - set(present(got)) - state == set()


def test_the_recorded_depth_snapshot_and_ours_read_alike():
    line = (
        next(
            x
            for x in (FIXTURES / "cryptofeed_sample_data" / "BINANCE.http.0.0").read_text().splitlines()
            if "/depth?" in x[:120]
        )
        if (FIXTURES / "cryptofeed_sample_data").exists()
        else None
    )
    if line is None:
        pytest.skip("the recorded session is not here")
    real = json.loads(line.split(": ", 1)[1])
    lb = BinanceLoopback()
    lb.markets["BTCUSDT"].apply([(D("59999"), D("1"))], [(D("60001"), D("2"))])
    ours = lb.markets["BTCUSDT"].snapshot(100)
    assert set(real) == set(ours)
    assert all(isinstance(x, str) for x in real["bids"][0] + ours["bids"][0])
    ex = ccxt.pro.binance()
    assert set(ex.parse_order_book(real, "X/Y")) == set(ex.parse_order_book(ours, "BTC/USDT"))
