"""Field fidelity of the loopback Kraken: ccxt's recorded static responses (real Kraken answers,
MIT) and nautilus_trader's websocket v2 payloads (LGPL-3.0, schema-exact) against what the
loopback sends — every field of each is there, and ccxt parses the loopback's answers into the same
unified fields, of the same types, as the recorded ones."""

from __future__ import annotations

from typing import Any

import pytest
from field_fidelity import (
    covers,
    fixture,
    kind,
    loopback_with_history,
    present,
    recorded_methods,
    recording,
    rest_a_buy,
)
from loopback.testing import loopback_venue

NAUTILUS = "nautilus_trader/crates/adapters/kraken/test_data"


@pytest.fixture(scope="module")
def lb():
    candles = [(1706626800000 + i * 3_600_000, 43400, 43500, 43300, 43450, 2) for i in range(5)]
    with loopback_with_history("kraken", "BTC/USDT", "1h", candles, mid="60000", spread="1") as lb:
        yield lb


@pytest.fixture(scope="module")
def recorded():
    return recorded_methods("kraken")


async def test_rest_answers_parse_into_the_recorded_unified_fields(lb, recorded):
    v = loopback_venue("kraken", lb.server.base_url)
    ex = v.exchange
    try:
        await ex.load_markets()
        # Public: ticker, trades, candles.
        ours_ticker = await ex.fetch_ticker("BTC/USDT")
        ref_ticker = recorded["fetchTicker"][0]["parsedResponse"]
        covers(ours_ticker, ref_ticker)
        raw = await ex.publicGetTicker({"pair": "XBTUSDT"})
        assert set(raw["result"]["XBTUSDT"]) == set(recorded["fetchTicker"][0]["httpResponse"]["result"]["XBTUSDT"])
        ours_trade = (await ex.fetch_trades("BTC/USDT", None, 1))[-1]
        covers(ours_trade, recorded["fetchTrades"][0]["parsedResponse"][0])
        ohlcv = await ex.fetch_ohlcv("BTC/USDT", "1h", None, 3)
        assert [kind(x) for x in ohlcv[0]] == [kind(x) for x in recorded["fetchOHLCV"][0]["parsedResponse"][0]]
        # Orders: the create answer, an order as QueryOrders and OpenOrders show it.
        created = await ex.create_order("BTC/USDT", "limit", "buy", "0.01", "59000", {"clientOrderId": "fid1"})
        ref = recorded["createOrder"][0]
        assert set(ref["httpResponse"]["result"]) <= set(created["info"])
        covers(created, ref["parsedResponse"], ("type", "timeInForce"))
        fetched = await ex.fetch_order(created["id"], "BTC/USDT")
        ref_order = recorded["fetchOrder"][0]
        ref_raw = ref_order["httpResponse"]["result"][ref_order["input"][0]]
        assert set(ref_raw) - {"reason"} <= set(fetched["info"])
        assert set(ref_raw["descr"]) == set(fetched["info"]["descr"])
        covers(fetched, ref_order["parsedResponse"], ("timeInForce",))  # this ccxt no longer guesses it
        open_orders = await ex.fetch_open_orders("BTC/USDT")
        ref_open = recorded["fetchOpenOrders"][1]["parsedResponse"][0]  # a stop-loss-limit order
        assert open_orders and set(present(ref_open)) - set(present(open_orders[0])) <= {
            "stopLossPrice",
            "triggerPrice",
        }
        stop = await ex.create_order("BTC/USDT", "limit", "sell", "0.01", "59400", {"stopLossPrice": "59500"})
        stop_order = await ex.fetch_order(stop["id"], "BTC/USDT")
        assert present(stop_order) == {**present(ref_open), "clientOrderId": "str"} or set(present(ref_open)) <= set(
            present(stop_order)
        )
        assert (stop_order["stopLossPrice"], stop_order["price"], stop_order["type"]) == (59500.0, 59400.0, "limit")
    finally:
        await v.close()


async def test_websocket_v2_messages_carry_every_field_of_krakens(lb):
    server = lb.server
    sent: list[dict[str, Any]] = []

    def private(channel: str, kind_: str, data: list[dict[str, Any]]) -> None:
        sent.append({"channel": channel, "type": kind_, "data": data})

    with recording(lb, "_publish", lambda _key, payload: sent.append(payload)), recording(lb, "_private_send", private):
        lb.call(server.core.seed_klines, "BTC/USDT", "1m", [(1706626800000, 60000, 60000, 60000, 60000, 1)])
        lb.call(server.trade, "BTC/USDT", "60000", "0.1")
        rest_a_buy(lb, "BTC/USDT", "0.01", "59999.5", kind="limit", extra={"cl_ord_id": "fid-ws"})
        lb.call(server.trade, "BTC/USDT", "59990", "0.05", "sell")
    by: dict[str, dict[str, Any]] = {}
    for m in sent:
        data = (m.get("data") or [{}])[0]
        key = m["channel"] + (":" + data.get("exec_type", "") if m["channel"] == "executions" else "")
        by.setdefault(key, m)
    for name, channel in (("trade_update", "trade"), ("ticker_snapshot", "ticker"), ("ohlc_update", "ohlc")):
        ref = fixture(f"{NAUTILUS}/ws_{name}.json")
        assert set(ref) <= set(by[channel]) | {"timestamp"}
        assert set(ref["data"][0]) <= set(by[channel]["data"][0])
    book = server._book_message("BTC/USDT", "snapshot", 10)
    ref = fixture(f"{NAUTILUS}/ws_book_snapshot.json")
    assert set(ref["data"][0]) == set(book["data"][0]) and set(ref["data"][0]["bids"][0]) == set(
        book["data"][0]["bids"][0]
    )
    # executions as ccxt.pro documents them (its kraken class, from Kraken's docs)
    new = {
        "order_id",
        "order_userref",
        "symbol",
        "order_qty",
        "cum_cost",
        "time_in_force",
        "exec_type",
        "side",
        "order_type",
        "limit_price_type",
        "limit_price",
        "stop_price",
        "order_status",
        "fee_usd_equiv",
        "fee_ccy_pref",
        "timestamp",
    }
    trade = {
        "order_id",
        "exec_id",
        "exec_type",
        "trade_id",
        "symbol",
        "side",
        "last_qty",
        "last_price",
        "liquidity_ind",
        "cost",
        "order_userref",
        "order_status",
        "order_type",
        "fee_usd_equiv",
        "fees",
    }
    assert new <= set(by["executions:new"]["data"][0])
    assert trade <= set(by["executions:trade"]["data"][0])
