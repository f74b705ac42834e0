"""The ccxt Coinbase Advanced Trade venue against the loopback Coinbase: every private request
signed with an ES256 JWT and verified with the key's public key (its uri the request's), products
from a recorded answer, Coinbase's order configurations, its error answers as clear domain errors,
its websocket (level2 with sequence numbers, market trades, ticker, user) dropped, silenced and
subscribed again, and fills read over REST as the user channel shows orders filling."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import aiohttp
import ccxt.async_support
import loopback_checks as checks
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from loopback.binance.info import shared_data
from loopback.testing import loopback_thread, loopback_venue, until

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.errors import AuthenticationFailed, TemporaryVenueError
from app.venues.ccxt import errors as E
from app.venues.ccxt import profile_for

D = Decimal
BTC = "BTC/USD"
COINBASE = checks.Case(
    name="coinbase",
    symbol=BTC,
    trade_sub="market_trades:BTC-USD",
    public=(),  # one socket carries every channel
    private=(),
    order_path="/api/v3/brokerage/orders",
)
OTHER_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    .decode()
)


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("coinbase") as thread:
        yield thread


@pytest.fixture
def server(lb):
    return checks.fresh_market(lb, COINBASE)


order = COINBASE.order


async def test_instruments_from_recorded_products():
    path = shared_data() / "fixtures/nautilus_trader/crates/adapters/coinbase/test_data/http_products.json"
    if not path.exists():
        pytest.skip("the nautilus_trader payloads are not here (../shared/data)")
    answer = json.loads(path.read_text())
    ex = ccxt.async_support.coinbase({"options": {"fetchMarkets": "fetchMarketsV3"}})

    async def products(params=None):
        return answer if (params or {}).get("product_type") != "FUTURE" else {"products": []}

    ex.v3PublicGetBrokerageMarketProducts = products
    try:
        markets = {m["id"]: m for m in await ex.fetch_markets()}
    finally:
        await ex.close()
    inst = profile_for("coinbase").instrument(markets["BTC-USD"], ex.precisionMode)
    assert inst is not None
    assert (inst.tick_size, inst.lot_step, inst.min_qty, inst.min_notional) == (D("0.01"), D("1E-8"), D("1E-8"), D(1))
    assert inst.max_qty == D(3400) and inst.max_notional == D(150000000)


async def test_requests_carry_an_es256_jwt_and_a_wrong_key_is_refused(server):
    good = loopback_venue("coinbase", server.server.base_url)
    bad = loopback_venue("coinbase", server.server.base_url, secret=OTHER_KEY)
    unknown = loopback_venue("coinbase", server.server.base_url, api_key="organizations/x/apiKeys/someone-else")
    try:
        assert "USD" in await good.fetch_balances()
        with pytest.raises(AuthenticationFailed) as err:
            await bad.fetch_balances()
        assert "invalid signature" in err.value.message
        with pytest.raises(AuthenticationFailed) as err:
            await unknown.fetch_balances()
        assert "unknown API key" in err.value.message
        # Each token names the method and path it was made for: replayed elsewhere, it is refused.
        base, ex = server.server.base_url, good.exchange
        token = ex.create_auth_token(ex.seconds(), "GET", f"{base}/api/v3/brokerage/accounts")
        async with aiohttp.ClientSession() as http:
            other = await http.get(
                f"{base}/api/v3/brokerage/orders/historical/batch", headers={"Authorization": f"Bearer {token}"}
            )
            assert other.status == 401 and "uri" in (await other.json())["error_details"]
            same = await http.get(f"{base}/api/v3/brokerage/accounts", headers={"Authorization": f"Bearer {token}"})
            assert same.status == 200
        assert await good.fetch_open_orders(BTC) == []
    finally:
        for v in (good, bad, unknown):
            await v.close()


async def test_each_order_type_goes_out_as_a_coinbase_order_configuration(server):
    v = loopback_venue("coinbase", server.server.base_url)
    try:
        await v.load_markets()
        acks = [
            await v.place(order("c-lim", price=D("59000"))),
            await v.place(order("c-po", price=D("59001.5"), post_only=True)),
            await v.place(order("c-ioc", price=D("59000"), tif=TimeInForce.IOC)),
            await v.place(order("c-fok", price=D("59000"), tif=TimeInForce.FOK)),
            await v.place(order("c-ms", OrderType.MARKET, Side.SELL)),
            await v.place(order("c-mb", OrderType.MARKET, Side.BUY)),
        ]
        assert all(a.event is OrderEvent.ACCEPTED for a in acks)
        core = server.server.core
        sent = server.call(lambda: {o.client_id: next(iter(o.extra["configuration"])) for o in core.orders.values()})
        assert sent == {
            "c-lim": "limit_limit_gtc",
            "c-po": "limit_limit_gtc",
            "c-ioc": "sor_limit_ioc",
            "c-fok": "limit_limit_fok",
            "c-ms": "market_market_ioc",
            "c-mb": "sor_limit_ioc",  # a market buy of a quantity: a limit IOC capped 5 % above the ask
        }
        assert server.call(lambda: core.by_client["c-po"].extra["configuration"]["limit_limit_gtc"]["post_only"])
        buy = server.call(lambda: core.by_client["c-mb"])
        assert buy.po.price == D("63000.53")  # ccxt rounds 63,000.525 to the increment and buy.po.filled == D("0.01")
        for cid, status in (("c-ioc", OrderStatus.CANCELLED), ("c-mb", OrderStatus.FILLED), ("c-lim", OrderStatus.NEW)):
            st = await v.fetch_order(order(cid))  # found by client_order_id
            assert st is not None and st.status is status, cid
        stop = await v.place(order("c-stop", OrderType.STOP_MARKET, Side.SELL, stop_price=D("59000")))
        assert stop.event is OrderEvent.REJECTED and "watches" in stop.reason
        assert (await v.cancel(order("c-lim"))).event is OrderEvent.CANCELLED  # by client id: looked up first
        filled = await v.cancel(order("c-mb", OrderType.MARKET))
        assert filled.event is OrderEvent.CANCEL_REJECTED and "filled" in filled.reason
    finally:
        await v.close()


async def test_coinbases_refusals_become_clear_rejections_and_errors(server):
    v = loopback_venue("coinbase", server.server.base_url)
    try:
        await v.load_markets()
        poor = await v.place(order("c-poor", qty="5", price=D("59000")))
        assert poor.event is OrderEvent.REJECTED and "PREVIEW_INSUFFICIENT_FUND" in poor.reason
        crossing = await v.place(order("c-cross", price=D("60001"), post_only=True))
        assert crossing.event is OrderEvent.REJECTED and "POST_ONLY" in crossing.reason
        small = await v.place(order("c-small", qty="0.00001", price=D("59000")))  # under quote_min_size 1 USD
        assert small.event is OrderEvent.REJECTED and "BASE_SIZE_TOO_SMALL" in small.reason
        first = await v.place(order("c-twice", price=D("59000")))
        again = await v.place(order("c-twice", price=D("59000")))
        assert again.venue_order_id == first.venue_order_id  # Coinbase answers a known client_order_id with its order
        assert server.call(lambda: server.server.core.placed) == 1
        assert await v.fetch_order(order("never-sent")) is None
        server.call(server.server.faults.add, "429", "/api/v3/brokerage/accounts", retry_after=0.2)
        with pytest.raises(E.RateLimited):
            await v.fetch_balances()
        assert "USD" in await v.fetch_balances()  # after the pause
        server.call(server.server.faults.add, "5xx", "/api/v3/brokerage/accounts")
        with pytest.raises(TemporaryVenueError):
            await v.fetch_balances()
        server.call(server.server.faults.add, "malformed", "/api/v3/brokerage/accounts")
        with pytest.raises(E.BadAnswer):
            await v.fetch_balances()
    finally:
        await v.close()


async def test_market_data_by_websocket_and_a_dropped_socket_subscribes_again(server):
    await checks.market_data_streams_and_a_dropped_socket_subscribes_again(server, COINBASE)  # level2, market trades


async def test_a_silent_socket_is_closed_by_the_watchdog(server):
    await checks.a_silent_socket_is_closed_by_the_watchdog(server, COINBASE)


async def test_the_user_channel_reports_fills_once_and_resubscribes_after_a_drop(server):
    account = checks.Account(server, COINBASE)
    try:
        await account.watch("the user channel")
        fills = await account.a_resting_buy_fills_in_two("c-rest", first="0.004")
        assert all(f.fee_asset == "USD" for f in fills)
        assert fills[0].fee == D("1.439988")  # 0.004 × 59,999.5 × 0.6 % (maker)
        # Cancelled on the website after a partial fill: the fill first, then the cancel.
        await account.venue.place(order("c-part", qty="0.02", price=D("59999.5")))
        await server.acall(server.server.trade, BTC, "59990", "0.005", "sell")
        await account.cancelled_on_the_website("c-part")
        part = [r for r in account.reports if r.client_order_id == "c-part"]
        assert [r.event for r in part][-2:] == [OrderEvent.PARTIAL_FILL, OrderEvent.CANCELLED]
        await account.resubscribes_after_a_drop("c-after")
    finally:
        await account.close()


async def test_fills_the_exchange_lists_late_are_still_reported_before_the_cancel(server):
    account = checks.Account(server, COINBASE)
    try:
        await account.watch("the user channel")
        server.call(setattr, server.server, "fills_lag", 1)  # the first ask for the fills finds none yet
        await account.venue.place(order("c-lag", qty="0.02", price=D("59999.5")))
        await server.acall(server.server.trade, BTC, "59990", "0.005", "sell")
        await account.cancelled_on_the_website("c-lag")
        events = [r.event for r in account.reports if r.client_order_id == "c-lag"]
        assert events[-2:] == [OrderEvent.PARTIAL_FILL, OrderEvent.CANCELLED], events
        assert [f.quantity for f in account.fills("c-lag")] == [D("0.005")]
    finally:
        await account.close()


async def test_a_filled_order_whose_fills_are_listed_seconds_later_is_still_reported(server):
    account = checks.Account(server, COINBASE)
    try:
        await account.watch("the user channel")
        server.call(setattr, server.server, "fills_lag", 4)  # longer than the quick asks after the update
        await account.venue.place(order("c-slow", qty="0.005", price=D("59999.5")))
        await server.acall(server.server.trade, BTC, "59990", "0.01", "sell")  # fills whole: no later update
        await until(lambda: account.fills("c-slow"), timeout=30, what="the fill, looked for again")
        assert [f.quantity for f in account.fills("c-slow")] == [D("0.005")]
    finally:
        await account.close()


async def test_more_fills_than_a_page_listed_newest_first_are_all_read(server, monkeypatch):
    from app.venues.ccxt import venue as venue_module

    v = loopback_venue("coinbase", server.server.base_url)
    try:
        await v.load_markets()
        for i in range(7):  # seven fills, a few milliseconds apart
            await v.place(order(f"c-page{i}", OrderType.MARKET, qty="0.001"))
            await asyncio.sleep(0.01)
        monkeypatch.setattr(venue_module, "TRADES_PAGE", 3)  # pages of three: Coinbase lists newest first
        fills = [f for f in await v.fetch_my_trades(BTC, 0) if f.client_order_id.startswith("c-page")]
        assert sorted(f.client_order_id for f in fills) == [f"c-page{i}" for i in range(7)]
    finally:
        await v.close()


def test_the_coinbase_profile_is_registered_and_data():
    p = profile_for("coinbase")
    assert not p.capabilities.native_stop and not p.capabilities.native_oco and p.capabilities.post_only
    assert p.client_id_param == "client_order_id" and p.fills_by_rest


async def test_a_send_that_timed_out_after_it_landed_is_found_by_its_client_order_id(server):
    await checks.a_send_that_timed_out_after_it_landed_is_found_by_its_client_id(server, COINBASE, "c-late")


async def test_a_book_whose_messages_skip_a_sequence_number_is_loaded_again(server):
    await checks.a_book_with_a_gap_is_loaded_again(server, COINBASE)


async def test_a_clock_off_by_minutes_is_measured_and_the_jwt_made_on_the_servers_time(server):
    server.call(setattr, server.server.faults, "clock_drift_ms", 300_000)  # the server is five minutes ahead
    v = loopback_venue("coinbase", server.server.base_url)
    try:
        with pytest.raises(AuthenticationFailed):  # not measured yet: the JWT is not valid at the server
            await v.fetch_balances()
        await v.load_markets()  # measures the clock (brokerage/time)
        assert abs(v.clock_offset_ms - 300_000) < 5_000
        assert "USD" in await v.fetch_balances()
    finally:
        server.call(setattr, server.server.faults, "clock_drift_ms", 0)
        await v.close()
