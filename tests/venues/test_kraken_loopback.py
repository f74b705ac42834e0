"""The ccxt Kraken venue against the loopback Kraken: API-Sign and the nonce checked as Kraken
checks them, instruments from recorded AssetPairs (both precision styles: ``tick_size`` and
``pair_decimals``), Kraken's own order types (native stops and take-profits), its error answers as
clear domain errors, and its websocket v2 (market data, executions, balances) dropped, silenced and
subscribed again."""

from __future__ import annotations

import json
from decimal import Decimal

import ccxt.async_support
import pytest
from loopback.binance.info import shared_data
from loopback.kraken import SECRET
from loopback.testing import Pump, loopback_data, loopback_thread, loopback_venue, until

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.errors import AuthenticationFailed, TemporaryVenueError
from app.domain.order import Order
from app.venues.base import BalancesChanged
from app.venues.ccxt import errors as E
from app.venues.ccxt import profile_for
from app.venues.ccxt.market_data import LIVE

D = Decimal
BTC = "BTC/USDT"


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("kraken") as thread:
        yield thread


@pytest.fixture
def server(lb):
    lb.call(lb.server.reset)
    lb.call(lb.server.book_around, BTC, "60000", spread="1", levels=10, qty="1")
    lb.call(lb.server.trade, BTC, "60000", "0.1")
    return lb


def order(cid: str, t: OrderType = OrderType.LIMIT, side: Side = Side.BUY, qty: str = "0.01", **kw) -> Order:
    return Order(cid, "kraken", BTC, side, t, D(qty), **kw)


async def recorded_markets(name: str) -> dict:
    """ccxt's kraken parsing a recorded AssetPairs answer (the network call answered from the file)."""
    ex = ccxt.async_support.kraken({"options": {"fetchCurrencies": False}})
    if name == "cryptofeed":
        path = shared_data() / "fixtures/cryptofeed_sample_data/KRAKEN.0"
        if not path.exists():
            pytest.skip("the cryptofeed recording is not here (../shared/data)")
        answer = json.loads(path.open().readline().split(": ", 1)[1])
    else:
        path = shared_data() / "fixtures/nautilus_trader/crates/adapters/kraken/test_data/http_asset_pairs.json"
        if not path.exists():
            pytest.skip("the nautilus_trader payloads are not here (../shared/data)")
        answer = json.loads(path.read_text())

    async def asset_pairs(params=None):
        return answer

    ex.publicGetAssetPairs = asset_pairs
    try:
        return {m["id"]: m for m in await ex.fetch_markets()}, ex.precisionMode
    finally:
        await ex.close()


async def test_instruments_from_recorded_asset_pairs_in_both_precision_styles():
    p = profile_for("kraken")
    markets, mode = await recorded_markets("nautilus")  # 2025: tick_size, ordermin, costmin
    inst = p.instrument(markets["XBTUSDT"], mode)
    assert inst is not None
    assert (inst.tick_size, inst.lot_step, inst.min_qty, inst.min_notional) == (
        D("0.1"),
        D("1E-8"),
        D("0.00005"),
        D("0.5"),
    )
    assert (inst.maker_fee, inst.taker_fee) == (D("0.0025"), D("0.004"))
    markets, mode = await recorded_markets("cryptofeed")  # 2021: pair_decimals only
    btc, eth, ada = (p.instrument(markets[i], mode) for i in ("XXBTZUSD", "XETHZUSD", "ADAEUR"))
    assert btc is not None and eth is not None and ada is not None
    assert (btc.tick_size, btc.min_qty, btc.min_notional) == (D("0.1"), D("0.0002"), D(0))
    assert (eth.tick_size, eth.min_qty) == (D("0.01"), D("0.005"))
    assert (ada.tick_size, ada.lot_step, ada.min_qty) == (D("0.000001"), D("1E-8"), D(25))


async def test_requests_are_signed_and_a_wrong_secret_or_stale_nonce_is_refused(server):
    good = loopback_venue("kraken", server.server.base_url)
    bad = loopback_venue("kraken", server.server.base_url, secret="d3Jvbmc=")
    unknown = loopback_venue("kraken", server.server.base_url, api_key="someone-else")
    try:
        assert "USDT" in await good.fetch_balances()
        with pytest.raises(AuthenticationFailed) as err:
            await bad.fetch_balances()
        assert "EAPI:Invalid signature" in err.value.message
        with pytest.raises(AuthenticationFailed) as err:
            await unknown.fetch_balances()
        assert "EAPI:Invalid key" in err.value.message
        # A nonce not above the last one: Kraken's EAPI:Invalid nonce, a clock problem for the user.
        server.call(lambda: server.server.nonces.update({server.server.api_keys and "loopback-kraken-key": 10**18}))
        with pytest.raises(E.ClockSkew):
            await good.fetch_balances()
    finally:
        for v in (good, bad, unknown):
            await v.close()


async def test_each_order_type_goes_out_as_krakens_own(server):
    v = loopback_venue("kraken", server.server.base_url)
    try:
        await v.load_markets()
        placed = [
            await v.place(order("k-lim", price=D("59000"))),
            await v.place(order("k-po", price=D("59001.5"), post_only=True)),
            await v.place(order("k-stop", OrderType.STOP_MARKET, Side.SELL, stop_price=D("59500"))),
            await v.place(order("k-stopl", OrderType.STOP_LIMIT, Side.SELL, stop_price=D("59500"), price=D("59400"))),
            await v.place(order("k-tp", OrderType.TAKE_PROFIT_MARKET, Side.SELL, stop_price=D("61000"))),
            await v.place(
                order("k-tpl", OrderType.TAKE_PROFIT_LIMIT, Side.BUY, stop_price=D("59200"), price=D("59300"))
            ),
            await v.place(order("k-ioc", price=D("59000"), tif=TimeInForce.IOC)),
        ]
        assert all(r.event is OrderEvent.ACCEPTED for r in placed)
        core = server.server.core
        kinds = server.call(lambda: {o.client_id: (o.kind, o.po.stop_price, o.po.price) for o in core.orders.values()})
        assert kinds == {
            "k-lim": ("limit", None, D("59000")),
            "k-po": ("limit", None, D("59001.5")),
            "k-stop": ("stop-loss", D("59500"), None),
            "k-stopl": ("stop-loss-limit", D("59500"), D("59400")),
            "k-tp": ("take-profit", D("61000"), None),
            "k-tpl": ("take-profit-limit", D("59200"), D("59300")),
            "k-ioc": ("limit", None, D("59000")),
        }
        assert server.call(lambda: core.by_client["k-po"].po.post_only)
        st = await v.fetch_order(order("k-ioc"))  # found by cl_ord_id among closed orders
        assert st is not None and st.status is OrderStatus.EXPIRED
        fok = await v.place(order("k-fok", price=D("59000"), tif=TimeInForce.FOK))
        assert fok.event is OrderEvent.REJECTED and "fill-or-kill" in fok.reason
        cancelled = await v.cancel(order("k-stop", OrderType.STOP_MARKET, Side.SELL, stop_price=D("59500")))
        assert cancelled.event is OrderEvent.CANCELLED
    finally:
        await v.close()


async def test_krakens_refusals_become_clear_rejections_and_errors(server):
    v = loopback_venue("kraken", server.server.base_url)
    try:
        await v.load_markets()
        small = await v.place(order("k-small", qty="0.00001", price=D("59000")))
        assert small.event is OrderEvent.REJECTED and "Order minimum not met" in small.reason
        poor = await v.place(order("k-poor", qty="5", price=D("59000")))
        assert poor.event is OrderEvent.REJECTED and "Insufficient funds" in poor.reason
        wrong_side = await v.place(order("k-trig", OrderType.STOP_MARKET, Side.SELL, stop_price=D("61000")))
        assert wrong_side.event is OrderEvent.REJECTED and "Invalid price" in wrong_side.reason
        first = await v.place(order("k-twice", price=D("59000")))
        again = await v.place(order("k-twice", price=D("59000")))
        assert again.event is OrderEvent.ACCEPTED and again.venue_order_id == first.venue_order_id
        assert await v.fetch_order(order("never-sent")) is None
        server.call(server.server.faults.add, "429", "/0/private/BalanceEx")
        with pytest.raises(E.RateLimited):
            await v.fetch_balances()
        v.client.paused_until = 0
        server.call(server.server.faults.add, "5xx", "/0/private/BalanceEx")
        with pytest.raises(TemporaryVenueError):
            await v.fetch_balances()
        server.call(server.server.faults.add, "malformed", "/0/private/BalanceEx")
        with pytest.raises(E.BadAnswer):
            await v.fetch_balances()
    finally:
        await v.close()


async def test_market_data_by_websocket_v2_and_a_dropped_socket_subscribes_again(server):
    data = loopback_data("kraken", server.server.base_url)
    try:
        await data.load_markets()
        trades, books, tickers = Pump(data.watch_trades(BTC)), Pump(data.watch_book(BTC)), Pump(data.watch_ticker(BTC))
        await until(lambda: server.call(server.server.subscribed, "trade:BTC/USDT"), what="the trade subscription")
        await until(lambda: books.items and tickers.items, what="the book snapshot and the ticker")
        assert books.items[-1].bids[0].price == D("59999.5") and data.stream_state(BTC, "book") == LIVE
        await server.acall(server.server.book_around, BTC, "60010", spread="1", levels=10, qty="2")
        await until(lambda: books.items[-1].bids[0].price == D("60009.5"), what="a book update (deltas)")
        assert books.items[-1].bids[0].quantity == D(2) and len(books.items[-1].asks) == 10
        await server.acall(server.server.trade, BTC, "60010.5", "0.2")
        await until(lambda: any(t.price == D("60010.5") for t in trades.items), what="a trade")
        assert server.call(server.server.drop_sockets, "public") == 1
        await until(lambda: trades.done, what="the trade stream to fail")
        assert isinstance(trades.error, TemporaryVenueError)
        for p in (books, tickers):
            await p.stop()
        again = Pump(data.watch_trades(BTC))
        await until(lambda: server.call(server.server.subscribed, "trade:BTC/USDT"), what="the new subscription")
        await server.acall(server.server.trade, BTC, "60011", "0.1")
        await until(lambda: any(t.price == D("60011") for t in again.items), what="a trade after the drop")
        await again.stop()
    finally:
        await data.close()


async def test_a_silent_socket_is_closed_by_the_watchdog(server):
    data = loopback_data("kraken", server.server.base_url)
    try:
        await data.load_markets()
        trades = Pump(data.watch_trades(BTC))
        await until(lambda: server.call(server.server.subscribed, "trade:BTC/USDT"), what="the subscription")
        server.call(server.server.silence_sockets, "public")
        await until(lambda: trades.done, timeout=30, what="the watchdog")
        assert isinstance(trades.error, TemporaryVenueError)
    finally:
        await data.close()


async def test_the_account_stream_reports_fills_once_and_resubscribes_after_a_drop(server):
    v = loopback_venue("kraken", server.server.base_url, symbols=(BTC,))
    reports = []
    v.set_report_handler(reports.append)
    try:
        await v.load_markets()
        account = Pump(v.watch_account())
        await until(lambda: server.call(server.server.user_subscribed), what="executions and balances")
        await v.place(order("k-rest", price=D("59999.5")))
        await server.acall(server.server.trade, BTC, "59990", "0.004", "sell")
        await server.acall(server.server.trade, BTC, "59990", "0.02", "sell")
        fills = lambda: [r.fill for r in reports if r.fill is not None and r.client_order_id == "k-rest"]  # noqa: E731
        await until(lambda: sum(f.quantity for f in fills()) == D("0.01"), what="both fills")
        assert [f.quantity for f in fills()] == [D("0.004"), D("0.006")]
        assert all(f.fee_asset == "USDT" and f.price == D("59999.5") for f in fills())
        assert fills()[0].fee == D("0.599995")  # 0.004 × 59,999.5 × 0.25 % (maker)
        changed = lambda: [e for e in account.items if isinstance(e, BalancesChanged)]  # noqa: E731
        await until(lambda: changed() and changed()[-1].balances["BTC"].free == D("2.01"), what="balances")
        # A cancel's update names the order only: it is still matched to its client id.
        await v.place(order("k-cxl", price=D("59000")))
        core = server.server.core
        server.call(lambda: core.cancel(core.by_client["k-cxl"]))  # cancelled on the website
        await until(
            lambda: any(r.client_order_id == "k-cxl" and r.event is OrderEvent.CANCELLED for r in reports),
            what="the cancel",
        )
        server.call(server.server.drop_sockets, "private")
        await until(lambda: account.done, what="the account stream to fail")
        await account.stop()
        account = Pump(v.watch_account())
        await until(lambda: server.call(server.server.user_subscribed), what="subscribed again")
        await v.place(order("k-after", OrderType.MARKET, Side.SELL))
        await until(lambda: any(r.fill for r in reports if r.client_order_id == "k-after"), what="a fill after")
        history = await v.fetch_my_trades(BTC, None)
        assert sorted(f.trade_id for f in history) == sorted(r.fill.trade_id for r in reports if r.fill)
        await account.stop()
    finally:
        await v.close()


def test_the_kraken_profile_is_registered_and_data():
    p = profile_for("kraken")
    assert p.capabilities.native_stop and p.capabilities.native_take_profit and not p.capabilities.native_oco
    assert p.capabilities.id_rules.max_len == 18 and SECRET


async def test_a_send_that_timed_out_after_it_landed_is_found_by_its_cl_ord_id(server):
    v = loopback_venue("kraken", server.server.base_url, timeout_ms=600)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "timeout", "/0/private/AddOrder", method="POST", delay=1.5)
        with pytest.raises(E.RequestTimedOut):
            await v.place(order("k-late", price=D("59000")))
        st = await v.fetch_order(order("k-late", price=D("59000")))
        assert st is not None and st.status is OrderStatus.NEW and st.client_order_id == "k-late"
        again = await v.place(order("k-late", price=D("59000")))
        assert again.event is OrderEvent.ACCEPTED and again.venue_order_id == st.venue_order_id
        assert server.call(lambda: server.server.placed) == 1
    finally:
        await v.close()


async def test_a_book_whose_checksum_does_not_match_is_loaded_again(server):
    data = loopback_data("kraken", server.server.base_url)
    try:
        await data.load_markets()
        books = Pump(data.watch_book(BTC))
        await until(lambda: books.items, what="the book")
        server.call(setattr, server.server.faults, "book_gap", 2)
        await server.acall(server.server.book_around, BTC, "60020", spread="1", levels=10, qty="3")
        await until(lambda: data.book_gaps >= 1, what="the gap noticed")
        # Dropped and subscribed again: the next book is whole, from a new snapshot.
        await until(
            lambda: books.items[-1].bids[0].price == D("60019.5") and data.stream_state(BTC, "book") == LIVE,
            what="the book live again",
        )
        assert books.items[-1].bids[0].quantity == D(3) and len(books.items[-1].bids) == 10
        assert not books.done
        await books.stop()
    finally:
        await data.close()
