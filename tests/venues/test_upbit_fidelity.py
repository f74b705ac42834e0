"""Field fidelity of the loopback Upbit. No recorded Upbit session is in ../shared/data, so the
reference is Upbit's documented payloads as ccxt transcribes them in its upbit classes (REST and
ccxt.pro, MIT): every field of each is in what the loopback sends, and ccxt parses the loopback's
payload into the same unified fields, of the same types, as the documented one."""

from __future__ import annotations

import json
from typing import Any
from urllib.request import urlopen

import pytest
from field_fidelity import kind, loopback_with_history, missing, present, recording, rest_a_buy
from loopback.testing import loopback_venue

REFERENCE: dict[str, Any] = {
    "market": {"market": "KRW-BTC", "korean_name": "비트코인", "english_name": "Bitcoin"},
    "ticker": {
        "market": "KRW-BTC",
        "trade_date": "20181122",
        "trade_time": "104543",
        "trade_date_kst": "20181122",
        "trade_time_kst": "194543",
        "trade_timestamp": 1542883543096,
        "opening_price": 5000000,
        "high_price": 5100000,
        "low_price": 4900000,
        "trade_price": 5050000,
        "prev_closing_price": 5000000,
        "change": "RISE",
        "change_price": 50000,
        "change_rate": 0.01,
        "signed_change_price": 50000,
        "signed_change_rate": 0.01,
        "trade_volume": 1.00000005,
        "acc_trade_price": 100.95825586,
        "acc_trade_price_24h": 289.58650166,
        "acc_trade_volume": 3409.85311036,
        "acc_trade_volume_24h": 9754.40510513,
        "highest_52_week_price": 0.12345678,
        "highest_52_week_date": "2018-02-01",
        "lowest_52_week_price": 0.023936,
        "lowest_52_week_date": "2017-12-08",
        "timestamp": 1542883543813,
    },
    "trade": {
        "market": "KRW-BTC",
        "trade_date_utc": "2018-11-22",
        "trade_time_utc": "13:55:24",
        "timestamp": 1542894924397,
        "trade_price": 5050000,
        "trade_volume": 0.20074397,
        "prev_closing_price": 5000000,
        "change_price": 50000,
        "ask_bid": "ASK",
        "sequential_id": 15428949259430000,
    },
    "orderbook": {
        "market": "KRW-BTC",
        "timestamp": 1542899034662,
        "total_ask_size": 12.89790974,
        "total_bid_size": 4.88395783,
        "orderbook_units": [{"ask_price": 5164000, "bid_price": 5162000, "ask_size": 2.57606495, "bid_size": 0.214}],
    },
    "candle": {
        "market": "KRW-BTC",
        "candle_date_time_utc": "2018-11-22T13:47:00",
        "candle_date_time_kst": "2018-11-22T22:47:00",
        "opening_price": 5000000,
        "high_price": 5100000,
        "low_price": 4900000,
        "trade_price": 5050000,
        "timestamp": 1542894473674,
        "candle_acc_trade_price": 0.0981629437535248,
        "candle_acc_trade_volume": 3.36693173,
        "unit": 1,
    },
    "order": {
        "uuid": "a08f09b1-1718-42e2-9358-f0e5e083d3ee",
        "side": "bid",
        "ord_type": "limit",
        "price": "17417000.0",
        "state": "done",
        "market": "KRW-BTC",
        "created_at": "2018-04-05T14:09:14+09:00",
        "volume": "1.0",
        "remaining_volume": "0.0",
        "reserved_fee": "26125.5",
        "remaining_fee": "25974.0",
        "paid_fee": "151.5",
        "locked": "17341974.0",
        "executed_volume": "1.0",
        "trades_count": 1,
        "identifier": "my-order-1",
        "trades": [
            {
                "market": "KRW-BTC",
                "uuid": "78162304-1a4d-4524-b9e6-c9a9e14d76c3",
                "price": "17417000.0",
                "volume": "1.0",
                "funds": "17417000.0",
                "bid_fee": "8708.5",
                "created_at": "2018-04-05T14:09:15+09:00",
                "side": "bid",
            }
        ],
    },
    "ws_trade": {
        "type": "trade",
        "code": "KRW-BTC",
        "timestamp": 1584508285812,
        "trade_date": "2020-03-18",
        "trade_time": "05:11:25",
        "trade_timestamp": 1584508285000,
        "trade_price": 6747000,
        "trade_volume": 0.06499468,
        "ask_bid": "ASK",
        "prev_closing_price": 6774000,
        "change": "FALL",
        "change_price": 27000,
        "sequential_id": 1584508285000002,
        "stream_type": "REALTIME",
    },
    "ws_my_order": {
        "type": "myOrder",
        "code": "KRW-BTC",
        "uuid": "ac2dc2a3-fce9-40a2-a4f6-5987c25c438f",
        "ask_bid": "BID",
        "order_type": "limit",
        "state": "trade",
        "trade_uuid": "68315169-fba4-4175-ade3-aff14a616657",
        "price": 99999000,
        "avg_price": 99999000,
        "volume": 0.0004,
        "remaining_volume": 0.0006,
        "executed_volume": 0.0004,
        "trades_count": 1,
        "reserved_fee": 49.9995,
        "remaining_fee": 30,
        "paid_fee": 19.9998,
        "locked": 60029.4,
        "executed_funds": 39999.6,
        "time_in_force": None,
        "trade_fee": 19.9998,
        "is_maker": True,
        "identifier": "test-1",
        "smp_type": "cancel_maker",
        "prevented_volume": 0,
        "prevented_locked": 0,
        "trade_timestamp": 1710751590421,
        "order_timestamp": 1710751590000,
        "timestamp": 1710751597500,
        "stream_type": "REALTIME",
    },
    "ws_my_asset": {
        "type": "myAsset",
        "asset_uuid": "e635f223-1609-4969-8fb6-4376937baad6",
        "assets": [{"currency": "KRW", "balance": 1386929.37231066771348207123, "locked": 10329.670127489597585685}],
        "asset_timestamp": 1710146517259,
        "timestamp": 1710146517267,
        "stream_type": "REALTIME",
    },
}


@pytest.fixture(scope="module")
def lb():
    candles = [(1706630400000 + i * 60_000, 100000000, 100100000, 99900000, 100000000, 1) for i in range(3)]
    with loopback_with_history("upbit", "BTC/KRW", "1m", candles, mid="100000000", spread="2000", step="1000") as lb:
        yield lb


def get(lb, path: str) -> Any:
    with urlopen(f"{lb.server.base_url}{path}", timeout=10) as r:
        return json.loads(r.read())


def test_quotation_answers_carry_every_documented_field(lb):
    assert not missing(REFERENCE["market"], get(lb, "/v1/market/all")[0])
    assert not missing(REFERENCE["ticker"], get(lb, "/v1/ticker?markets=KRW-BTC")[0])
    assert not missing(REFERENCE["trade"], get(lb, "/v1/trades/ticks?market=KRW-BTC&count=1")[0])
    book = get(lb, "/v1/orderbook?markets=KRW-BTC")[0]
    assert not missing(REFERENCE["orderbook"], book)
    assert not missing(REFERENCE["orderbook"]["orderbook_units"][0], book["orderbook_units"][0])
    assert not missing(REFERENCE["candle"], get(lb, "/v1/candles/minutes/1?market=KRW-BTC&count=2")[0])


async def test_ccxt_parses_the_loopbacks_answers_into_the_documented_unified_fields(lb):
    v = loopback_venue("upbit", lb.server.base_url)
    ex = v.exchange
    try:
        await ex.load_markets()
        m = ex.market("BTC/KRW")
        pairs = [
            (ex.parse_ticker(REFERENCE["ticker"], m), await ex.fetch_ticker("BTC/KRW")),
            (ex.parse_trade(REFERENCE["trade"], m), (await ex.fetch_trades("BTC/KRW", None, 1))[-1]),
        ]
        for ref, ours in pairs:
            assert present(ref) == present(ours)
        rows = await ex.fetch_ohlcv("BTC/KRW", "1m", None, 2)
        assert [kind(x) for x in rows[0]] == [kind(x) for x in ex.parse_ohlcv(REFERENCE["candle"], m)]
        # An order with its trades, as GET /v1/order answers it.
        placed = await ex.create_order("BTC/KRW", "limit", "buy", "0.001", "100001000", {"clientOrderId": "fid-1"})
        raw = await ex.privateGetOrder({"uuid": placed["id"]})
        assert not missing(REFERENCE["order"], raw)
        assert not missing(REFERENCE["order"]["trades"][0], raw["trades"][0])
        ref_order, our_order = ex.parse_order(REFERENCE["order"], m), ex.parse_order(raw, m)
        assert present(ref_order) == present(our_order)
        assert present(ref_order["trades"][0]) == present(our_order["trades"][0])
        assert our_order["clientOrderId"] == "fid-1" and our_order["status"] == "closed"
    finally:
        await v.close()


async def test_websocket_messages_carry_every_documented_field_and_parse_alike(lb):
    v = loopback_venue("upbit", lb.server.base_url)
    ex = v.exchange
    sent: list[dict[str, Any]] = []
    server = lb.server
    try:
        with recording(lb, "_publish", lambda _key, payload: sent.append(payload)):
            await ex.load_markets()
            lb.call(server.trade, "BTC/KRW", "100000000", "0.1")
            rest_a_buy(lb, "BTC/KRW", "0.001", "99999000", extra={"identifier": "fid-ws"})
            lb.call(server.trade, "BTC/KRW", "99990000", "0.01", "sell")
        by_type: dict[str, dict[str, Any]] = {}
        for p in sent:
            key = "myOrder-trade" if p.get("type") == "myOrder" and p.get("state") == "trade" else p.get("type", "")
            by_type.setdefault(key, p)
        m = ex.market("BTC/KRW")
        assert not missing(REFERENCE["ws_trade"], by_type["trade"])
        assert not missing(REFERENCE["ws_my_order"], by_type["myOrder-trade"])
        assert not missing(REFERENCE["ws_my_asset"], by_type["myAsset"])
        assert present(ex.parse_trade(REFERENCE["ws_trade"], m)) == present(ex.parse_trade(by_type["trade"], m))
        ref, ours = REFERENCE["ws_my_order"], by_type["myOrder-trade"]
        assert present(ex.parse_ws_trade(ref, m)) == present(ex.parse_ws_trade(ours, m))
        assert present(ex.parse_ws_order(ref, m)) == present(ex.parse_ws_order(ours, m))
    finally:
        await v.close()
