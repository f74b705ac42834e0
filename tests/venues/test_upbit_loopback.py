"""The ccxt Upbit venue against the loopback Upbit: JWT signing checked as Upbit checks it, the KRW
price unit of each price band and the 5,000 KRW minimum, Upbit's order types, its error answers as
clear domain errors, and its websockets (market data, myOrder/myAsset) dropped, silenced and
subscribed again."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import loopback_checks as checks
import pytest
from loopback.testing import loopback_thread, loopback_venue
from loopback.upbit import SECRET

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.errors import AuthenticationFailed, TemporaryVenueError
from app.domain.order import Order
from app.venues.ccxt import errors as E
from app.venues.ccxt import profile_for
from app.venues.ccxt.upbit import krw_tick, tick_for

D = Decimal
BTC = "BTC/KRW"
UPBIT = checks.Case(
    name="upbit",
    symbol=BTC,
    trade_sub="trade:KRW-BTC",
    public=("public",),
    private=("private",),  # myOrder and myAsset
    order_path="/v1/orders",
    qty="0.001",
    mid="100000000",
    scale="1000",  # each unit of the checks' prices is the 1,000 KRW price unit of this band
    spread="2000",
    step="1000",
)


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("upbit") as thread:
        yield thread


@pytest.fixture
def server(lb):
    checks.fresh_market(lb, UPBIT)
    lb.call(lb.server.book_around, "XRP/KRW", "3000", spread="2", levels=5, qty="1000", step="1")
    lb.call(lb.server.trade, "XRP/KRW", "3000", "10")
    return lb


order = UPBIT.order


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        ("150000000", "1000"),
        ("2000000", "1000"),
        ("1999000", "1000"),
        ("999500", "500"),
        ("100000", "100"),
        ("99950", "50"),
        ("10000", "10"),
        ("9995", "5"),
        ("4999", "1"),
        ("100", "1"),
        ("99.9", "0.1"),
        ("5.55", "0.01"),
        ("0.555", "0.001"),
        ("0.00009", "0.0000001"),
        ("0.000009", "0.00000001"),
    ],
)
def test_the_krw_price_unit_follows_upbits_price_bands(price, tick):
    assert krw_tick(D(price)) == D(tick)


def test_usdt_and_usdc_have_their_own_unit_from_1000_to_10000_krw():
    assert tick_for("KRW", D("1405.5"), "USDT") == D("0.5") and tick_for("KRW", D("1405"), "XRP") == D(1)
    assert tick_for("KRW", D("999"), "USDT") == D(1) and tick_for("KRW", D("10000"), "USDT") == D(10)


async def test_price_units_come_from_upbits_instruments_endpoint_or_else_its_table(server):
    server.call(server.server.book_around, "USDT/KRW", "1405", spread="1", levels=5, qty="100", step="0.5")
    server.call(server.server.trade, "USDT/KRW", "1405.5", "10")
    v = loopback_venue("upbit", server.server.base_url)
    try:
        inst = await v.load_markets()
        asked = [path for _t, _m, path in server.call(lambda: list(server.server.faults.requests))]
        assert "/v1/orderbook/instruments" in asked
        assert (inst["USDT/KRW"].tick_size, inst[BTC].tick_size, inst["XRP/KRW"].tick_size) == (D("0.5"), D(1000), D(1))
        # The endpoint fails: the same units from the last prices and the table.
        server.call(server.server.faults.add, "5xx", "/v1/orderbook/instruments")
        inst = await v.load_markets()
        assert (inst["USDT/KRW"].tick_size, inst[BTC].tick_size, inst["XRP/KRW"].tick_size) == (D("0.5"), D(1000), D(1))
        ack = await v.place(Order("u-usdt", "upbit", "USDT/KRW", Side.BUY, OrderType.LIMIT, D("10"), price=D("1404.5")))
        assert ack.event is OrderEvent.ACCEPTED
    finally:
        await v.close()


async def test_markets_become_instruments_with_the_price_unit_of_their_band_and_the_minimum(server):
    v = loopback_venue("upbit", server.server.base_url)
    try:
        inst = await v.load_markets()
        assert (inst[BTC].tick_size, inst[BTC].lot_step, inst[BTC].min_notional) == (D(1000), D("1E-8"), D(5000))
        assert (inst["XRP/KRW"].tick_size, inst["XRP/KRW"].min_notional) == (D(1), D(5000))
        assert inst["ETH/BTC"].min_notional == D("0.00005")
        assert inst[BTC].maker_fee == D("0.0005") and inst["ETH/BTC"].taker_fee == D("0.0025")
        # The instrument's own checks now say what Upbit would refuse.
        assert inst[BTC].check_price(D("100000500"))[0].key == "filter.price_tick"
        assert inst[BTC].check_notional(D("0.00004"), D("100000000"))[0].key == "filter.notional_min"
    finally:
        await v.close()


async def test_requests_carry_a_jwt_and_a_wrong_secret_or_key_is_refused(server):
    good = loopback_venue("upbit", server.server.base_url)
    bad = loopback_venue("upbit", server.server.base_url, secret=SECRET + "x")
    unknown = loopback_venue("upbit", server.server.base_url, api_key="someone-else")
    try:
        assert "KRW" in await good.fetch_balances()
        with pytest.raises(AuthenticationFailed) as err:
            await bad.fetch_balances()
        assert "jwt_verification" in err.value.message
        with pytest.raises(AuthenticationFailed) as err:
            await unknown.fetch_balances()
        assert "invalid_access_key" in err.value.message
        # The query hash covers the parameters: a token made for other parameters is refused.
        await good.load_markets()
        assert await good.fetch_open_orders(BTC) == []
        ex, base = good.exchange, server.server.base_url
        signed = ex.sign("order", ["private"], "GET", {"uuid": "one"})
        token = signed["headers"]["Authorization"]
        async with aiohttp.ClientSession() as http:
            other = await http.get(f"{base}/v1/order?uuid=another", headers={"Authorization": token})
            assert other.status == 401 and (await other.json())["error"]["name"] == "invalid_query_payload"
    finally:
        for v in (good, bad, unknown):
            await v.close()


async def test_each_order_type_goes_out_as_upbits_own(server):
    v = loopback_venue("upbit", server.server.base_url)
    try:
        await v.load_markets()
        core = server.server.core
        sent = lambda: server.call(lambda: [(o.kind, o.extra.get("time_in_force")) for o in core.orders.values()])  # noqa: E731
        assert (await v.place(order("u-lim", price=D("99000000")))).event is OrderEvent.ACCEPTED
        assert (await v.place(order("u-po", price=D("99001000"), post_only=True))).event is OrderEvent.ACCEPTED
        ioc = await v.place(order("u-ioc", price=D("98000000"), tif=TimeInForce.IOC))
        assert ioc.event is OrderEvent.CANCELLED  # Upbit ends an unfilled IOC as "cancel"
        mkt_sell = await v.place(order("u-ms", OrderType.MARKET, Side.SELL))
        mkt_buy = await v.place(order("u-mb", OrderType.MARKET, Side.BUY))
        assert mkt_sell.event is OrderEvent.ACCEPTED and mkt_buy.event is OrderEvent.ACCEPTED
        assert sent() == [("limit", None), ("limit", "post_only"), ("limit", "ioc"), ("market", None), ("limit", "ioc")]
        # The market buy is a limit IOC at most 5 % above the best ask, rounded to the price unit there.
        buy = server.call(lambda: server.server.core.by_client["u-mb"])
        assert buy.po.price == D("105002000") and buy.po.filled == D("0.001")
        st = await v.fetch_order(order("u-mb", OrderType.MARKET))
        assert st is not None and st.status is OrderStatus.FILLED
        # What Upbit has no order for is refused here, before anything is sent.
        n = server.call(lambda: len(server.server.core.orders))
        stop = await v.place(order("u-stop", OrderType.STOP_MARKET, Side.SELL, stop_price=D("90000000")))
        off_band = await v.place(order("u-tick", price=D("99000500")))
        assert stop.event is OrderEvent.REJECTED and "stop" in stop.reason
        assert off_band.event is OrderEvent.REJECTED and "price unit" in off_band.reason
        assert server.call(lambda: len(server.server.core.orders)) == n
    finally:
        await v.close()


async def test_upbits_refusals_become_clear_rejections_and_errors(server):
    v = loopback_venue("upbit", server.server.base_url)
    try:
        await v.load_markets()
        small = await v.place(order("u-small", qty="0.00004", price=D("99000000")))
        assert small.event is OrderEvent.REJECTED and "under_min_total_bid" in small.reason
        poor = await v.place(order("u-poor", qty="5", price=D("99000000")))
        assert poor.event is OrderEvent.REJECTED and "insufficient_funds_bid" in poor.reason
        assert await v.fetch_order(order("never-sent")) is None  # order_not_found → nothing there
        # Once placed, the same identifier again is "already there", not a second order.
        first = await v.place(order("u-twice", price=D("99000000")))
        again = await v.place(order("u-twice", price=D("99000000")))
        assert again.event is OrderEvent.ACCEPTED and again.venue_order_id == first.venue_order_id
    finally:
        await v.close()


async def test_rate_limits_bans_5xx_and_broken_answers_are_domain_errors(server):
    v = loopback_venue("upbit", server.server.base_url)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "429", "/v1/accounts", retry_after=0.3)
        with pytest.raises(E.RateLimited) as err:
            await v.fetch_balances()
        assert err.value.key == "error.rate_limited" and err.value.retry_after_s == 0.3
        assert "KRW" in await v.fetch_balances()  # waits out the Retry-After, then goes through
        server.call(server.server.faults.add, "5xx", "/v1/accounts")
        with pytest.raises(TemporaryVenueError):
            await v.fetch_balances()
        server.call(server.server.faults.add, "malformed", "/v1/accounts")
        with pytest.raises(E.BadAnswer):
            await v.fetch_balances()
        server.call(server.server.faults.add, "418", "/v1/accounts", retry_after=60)
        with pytest.raises(E.IpBanned):
            await v.fetch_balances()
        n = len(server.call(lambda: list(server.server.faults.requests)))
        with pytest.raises(E.IpBanned):  # nothing more is sent until the ban ends
            await v.fetch_balances()
        assert len(server.call(lambda: list(server.server.faults.requests))) == n
    finally:
        await v.close()


async def test_market_data_streams_and_a_dropped_socket_subscribes_again(server):
    await checks.market_data_streams_and_a_dropped_socket_subscribes_again(server, UPBIT)


async def test_a_silent_socket_is_closed_by_the_watchdog(server):
    await checks.a_silent_socket_is_closed_by_the_watchdog(server, UPBIT)


async def test_the_account_stream_reports_fills_once_and_resubscribes_after_a_drop(server):
    account = checks.Account(server, UPBIT)
    try:
        await account.watch("myOrder")
        fills = await account.a_resting_buy_fills_in_two("u-rest", first="0.0004")
        assert all(f.fee_asset == "KRW" and f.liquidity.value == "maker" for f in fills)
        assert fills[0].fee == D("19.9998")  # 0.0004 × 99,999,000 × 0.05 %
        await account.holds("BTC", "1.001", what="myAsset")
        # A new stream subscribes with a fresh token; the history comes from the orders' own trades
        # (no trade history at Upbit).
        await account.resubscribes_after_a_drop("u-after")
    finally:
        await account.close()


async def test_fills_read_from_an_order_without_trade_fees_share_its_paid_fee(server):
    server.call(setattr, server.server, "trade_fees_in_orders", False)  # as Upbit documents GET /v1/order
    account = checks.Account(server, UPBIT)
    try:
        await account.watch("myOrder")
        await account.a_resting_buy_fills_in_two("u-fee", first="0.0004")
        history = [f for f in await account.venue.fetch_my_trades(BTC, None) if f.client_order_id == "u-fee"]
        paid = server.call(lambda: server.server.core.by_client["u-fee"].fees)
        assert paid > 0 and sum(f.fee for f in history) == paid  # the whole fee, to the last won fraction
        by_qty = {f.quantity: f for f in history}
        assert sorted(by_qty) == [D("0.0004"), D("0.0006")]
        assert all(f.fee > 0 and f.fee_asset == "KRW" for f in history)
        assert abs(by_qty[D("0.0004")].fee - paid * D("0.4")) <= D("1e-12")  # shared by quantity
    finally:
        server.call(setattr, server.server, "trade_fees_in_orders", True)
        await account.close()


async def test_cancel_all_cancels_each_open_order(server):
    v = loopback_venue("upbit", server.server.base_url)
    try:
        await v.load_markets()
        for i in range(3):
            await v.place(order(f"u-all{i}", price=D(99_000_000 - i * 1000)))
        done = await v.cancel_all(BTC)
        assert sorted(r.client_order_id for r in done) == ["u-all0", "u-all1", "u-all2"]
        assert await v.fetch_open_orders(BTC) == []
        await asyncio.sleep(0)
    finally:
        await v.close()


def test_the_upbit_profile_is_registered_and_data():
    p = profile_for("upbit")
    assert p.venue_name == "upbit" and not p.capabilities.native_stop and not p.capabilities.native_oco
    assert p.capabilities.post_only and p.id_query == "identifier"


async def test_a_send_that_timed_out_after_it_landed_is_found_by_its_identifier(server):
    await checks.a_send_that_timed_out_after_it_landed_is_found_by_its_client_id(server, UPBIT, "u-late")
