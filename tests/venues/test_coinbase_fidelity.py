"""Field fidelity of the loopback Coinbase Advanced Trade: ccxt's recorded static responses (real
Coinbase answers, MIT) and nautilus_trader's Advanced Trade payloads (LGPL-3.0, schema-exact)
against what the loopback sends — every field of each is there, and ccxt parses the loopback's
answers into the same unified fields, of the same types, as the recorded ones."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from field_fidelity import covers, fixture, loopback_with_history, recorded_methods, recording, rest_a_buy
from loopback.testing import loopback_venue

NAUTILUS = "nautilus_trader/crates/adapters/coinbase/test_data"


@pytest.fixture(scope="module")
def lb():
    candles = [(1712188800000 + i * 3_600_000, 66000, 66300, 65900, 66200, 3) for i in range(3)]
    with loopback_with_history("coinbase", "BTC/USD", "1h", candles, mid="60000", spread="1") as lb:
        yield lb


@pytest.fixture(scope="module")
def recorded():
    return recorded_methods("coinbase")


async def test_rest_answers_carry_every_field_and_parse_into_the_recorded_unified_fields(lb, recorded):
    v = loopback_venue("coinbase", lb.server.base_url)
    ex = v.exchange
    try:
        await ex.load_markets()
        raw = await ex.v3PublicGetBrokerageMarketProductsProductIdTicker({"product_id": "BTC-USD", "limit": 1})
        ref = recorded["fetchTicker"][0]
        assert set(ref["httpResponse"]) == set(raw)
        assert set(ref["httpResponse"]["trades"][0]) <= set(raw["trades"][0])
        covers(await ex.fetch_ticker("BTC/USD"), ref["parsedResponse"], ("symbol",))
        product = await ex.v3PublicGetBrokerageMarketProductsProductId({"product_id": "BTC-USD"})
        assert set(fixture(f"{NAUTILUS}/http_product.json")) <= set(product) | {"price"}
        book = await ex.v3PublicGetBrokerageMarketProductBook({"product_id": "BTC-USD"})
        assert set(fixture(f"{NAUTILUS}/http_product_book.json")) == set(book)
        candles = await ex.v3PublicGetBrokerageMarketProductsProductIdCandles(
            {"product_id": "BTC-USD", "granularity": "ONE_HOUR", "start": "1712188800", "end": "1712199600"}
        )
        assert set(fixture(f"{NAUTILUS}/http_candles.json")["candles"][0]) == set(candles["candles"][0])
        accounts = await ex.v3PrivateGetBrokerageAccounts()
        ref_account = fixture(f"{NAUTILUS}/http_accounts.json")["accounts"][0]
        assert set(ref_account) == set(accounts["accounts"][0])
        # An order that filled: as historical/{id}, in the closed list and as fills.
        placed = await ex.create_order("BTC/USD", "market", "sell", "0.01", None, {"client_order_id": "fid-1"})
        order = await ex.v3PrivateGetBrokerageOrdersHistoricalOrderId({"order_id": placed["id"]})
        ref_order = recorded["fetchClosedOrders"][0]["httpResponse"]["orders"][0]
        assert set(ref_order) - {"cursor"} <= set(order["order"])
        closed = await ex.fetch_closed_orders("BTC/USD")
        covers(closed[0], recorded["fetchClosedOrders"][0]["parsedResponse"][0], ("symbol",))
        assert closed[0]["clientOrderId"] == "fid-1" and closed[0]["status"] == "closed"
        trades = await ex.fetch_my_trades("BTC/USD")
        ref_fill = recorded["fetchMyTrades"][0]
        assert set(ref_fill["httpResponse"]["fills"][0]) - {"cursor"} <= set(trades[0]["info"])
        covers(trades[0], ref_fill["parsedResponse"][0], ("symbol",))
    finally:
        await v.close()


async def test_websocket_messages_carry_every_field_of_coinbases(lb):
    server = lb.server
    sent: list[dict[str, Any]] = []

    def record(_conn: Any, channel: str, events: list[dict[str, Any]]) -> None:
        sent.append({"channel": channel, "events": events})

    v = loopback_venue("coinbase", lb.server.base_url)
    try:
        with recording(lb, "_send", record):
            await v.exchange.load_markets()
            ex = v.exchange
            session = aiohttp.ClientSession()
            ws = await session.ws_connect(ex.urls["api"]["ws"])
            for channel in ("level2", "market_trades", "ticker"):
                await ws.send_json({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": channel})
            auth = ex.create_ws_auth("user", [])
            await ws.send_json({"type": "subscribe", "product_ids": [], "channel": "user", **auth})
            await asyncio.sleep(0.3)
            lb.call(server.book_around, "BTC/USD", "60001", spread="1", levels=10, qty="1")
            lb.call(server.trade, "BTC/USD", "60001", "0.1")
            config = {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "59000", "post_only": False}}
            rest_a_buy(lb, "BTC/USD", "0.01", "59000", kind="limit_limit_gtc", extra={"configuration": config})
            await asyncio.sleep(0.3)
        by: dict[str, list[dict[str, Any]]] = {}
        for m in sent:
            by.setdefault(m["channel"], []).append(m["events"][0])
        ref = fixture(f"{NAUTILUS}/ws_l2_data_update.json")["events"][0]
        update = next(e for e in by["l2_data"] if e["type"] == "update")
        assert set(ref) == set(update) and set(ref["updates"][0]) == set(update["updates"][0])
        ref = fixture(f"{NAUTILUS}/ws_market_trades.json")["events"][0]["trades"][0]
        assert set(ref) == set(by["market_trades"][0]["trades"][0])
        ref = fixture(f"{NAUTILUS}/ws_ticker.json")["events"][0]["tickers"][0]
        assert set(ref) <= set(by["ticker"][0]["tickers"][0])
        ref = fixture(f"{NAUTILUS}/ws_user.json")["events"][0]["orders"][0]
        user = [e for e in by["user"] if e.get("orders")]
        assert user and set(ref) <= set(user[-1]["orders"][0])
        assert set(fixture(f"{NAUTILUS}/ws_subscriptions.json")["events"][0]) == set(by["subscriptions"][0])
        await ws.close()
        await session.close()
    finally:
        await v.close()
