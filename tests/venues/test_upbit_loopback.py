"""The ccxt Upbit venue against the loopback Upbit: JWT signing checked as Upbit checks it, the KRW
price unit of each price band and the 5,000 KRW minimum, Upbit's order types, its error answers as
clear domain errors, and its websockets (market data, myOrder/myAsset) dropped, silenced and
subscribed again."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest
from loopback.testing import Pump, loopback_data, loopback_thread, loopback_venue, until
from loopback.upbit import SECRET

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.errors import AuthenticationFailed, TemporaryVenueError
from app.domain.order import Order
from app.venues.base import BalancesChanged
from app.venues.ccxt import errors as E
from app.venues.ccxt import profile_for
from app.venues.ccxt.market_data import LIVE
from app.venues.ccxt.upbit import krw_tick, tick_for

D = Decimal
BTC = "BTC/KRW"


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("upbit") as thread:
        yield thread


@pytest.fixture
def server(lb):
    lb.call(lb.server.reset)
    lb.call(lb.server.book_around, BTC, "100000000", spread="2000", levels=10, qty="1", step="1000")
    lb.call(lb.server.trade, BTC, "100000000", "0.1")
    lb.call(lb.server.book_around, "XRP/KRW", "3000", spread="2", levels=5, qty="1000", step="1")
    lb.call(lb.server.trade, "XRP/KRW", "3000", "10")
    return lb


def order(cid: str, t: OrderType = OrderType.LIMIT, side: Side = Side.BUY, qty: str = "0.001", **kw) -> Order:
    return Order(cid, "upbit", BTC, side, t, D(qty), **kw)


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
    data = loopback_data("upbit", server.server.base_url)
    try:
        await data.load_markets()
        trades, books, tickers = Pump(data.watch_trades(BTC)), Pump(data.watch_book(BTC)), Pump(data.watch_ticker(BTC))
        await until(lambda: server.call(server.server.subscribed, "trade:KRW-BTC"), what="the trade subscription")
        await until(lambda: books.items and tickers.items, what="the book and ticker snapshots")
        assert books.items[-1].bids[0].price == D("99999000") and data.stream_state(BTC, "book") == LIVE
        await server.acall(server.server.trade, BTC, "100001000", "0.2")
        await until(lambda: any(t.price == D("100001000") for t in trades.items), what="a trade")
        t = next(t for t in trades.items if t.price == D("100001000"))
        assert (t.quantity, t.taker_side) == (D("0.2"), Side.BUY)
        # The socket is cut: the streams fail (the feed reconnects them), a new watch subscribes again.
        assert server.call(server.server.drop_sockets, "public") == 1
        await until(lambda: trades.done, what="the trade stream to fail")
        assert isinstance(trades.error, TemporaryVenueError)
        for p in (books, tickers):
            await p.stop()
        again = Pump(data.watch_trades(BTC))
        await until(lambda: server.call(server.server.subscribed, "trade:KRW-BTC"), what="the new subscription")
        await server.acall(server.server.trade, BTC, "100002000", "0.1")
        await until(lambda: any(t.price == D("100002000") for t in again.items), what="a trade after the drop")
        await again.stop()
    finally:
        await data.close()


async def test_a_silent_socket_is_closed_by_the_watchdog(server):
    data = loopback_data("upbit", server.server.base_url)
    try:
        await data.load_markets()
        trades = Pump(data.watch_trades(BTC))
        await until(lambda: server.call(server.server.subscribed, "trade:KRW-BTC"), what="the subscription")
        server.call(server.server.silence_sockets, "public")
        await until(lambda: trades.done, timeout=30, what="the watchdog")
        assert isinstance(trades.error, E.StreamStalled) or data.client.stalls >= 1
    finally:
        await data.close()


async def test_the_account_stream_reports_fills_once_and_resubscribes_after_a_drop(server):
    v = loopback_venue("upbit", server.server.base_url, symbols=(BTC,))
    reports = []
    v.set_report_handler(reports.append)
    try:
        await v.load_markets()
        account = Pump(v.watch_account())
        await until(lambda: server.call(server.server.user_subscribed), what="myOrder")
        o = order("u-rest", price=D("99999000"))
        await v.place(o)
        await server.acall(server.server.trade, BTC, "99998000", "0.0004", "sell")
        await server.acall(server.server.trade, BTC, "99998000", "0.01", "sell")
        fills = lambda: [r.fill for r in reports if r.fill is not None and r.client_order_id == "u-rest"]  # noqa: E731
        await until(lambda: sum(f.quantity for f in fills()) == D("0.001"), what="both fills")
        assert [f.quantity for f in fills()] == [D("0.0004"), D("0.0006")]
        assert all(f.fee_asset == "KRW" and f.price == D("99999000") and f.liquidity.value == "maker" for f in fills())
        assert fills()[0].fee == D("19.9998")  # 0.0004 × 99,999,000 × 0.05 %
        changed = lambda: [e for e in account.items if isinstance(e, BalancesChanged)]  # noqa: E731
        await until(lambda: changed() and changed()[-1].balances["BTC"].free == D("1.001"), what="myAsset")
        # Dropped: the stream fails; a new one subscribes (with a fresh token) and reports on.
        server.call(server.server.drop_sockets, "private")
        await until(lambda: account.done, what="the account stream to fail")
        await account.stop()
        account = Pump(v.watch_account())
        await until(lambda: server.call(server.server.user_subscribed), what="myOrder again")
        await v.place(order("u-after", OrderType.MARKET, Side.SELL))
        await until(lambda: any(r.fill for r in reports if r.client_order_id == "u-after"), what="a fill after")
        trades = await v.fetch_my_trades(BTC, None)  # from the orders' own trades (no trade history at Upbit)
        assert sorted(f.trade_id for f in trades) == sorted(r.fill.trade_id for r in reports if r.fill)
        await account.stop()
    finally:
        await v.close()


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
    v = loopback_venue("upbit", server.server.base_url, timeout_ms=600)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "timeout", "/v1/orders", method="POST", delay=1.5)
        with pytest.raises(E.RequestTimedOut):
            await v.place(order("u-late", price=D("99000000")))
        st = await v.fetch_order(order("u-late", price=D("99000000")))  # what the engine asks next
        assert st is not None and st.status is OrderStatus.NEW and st.client_order_id == "u-late"
        again = await v.place(order("u-late", price=D("99000000")))  # a blind resend: "already there"
        assert again.event is OrderEvent.ACCEPTED and again.venue_order_id == st.venue_order_id
        assert server.call(lambda: server.server.placed) == 1
    finally:
        await v.close()
