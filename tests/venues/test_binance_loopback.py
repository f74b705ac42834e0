"""The ccxt Binance venue against the loopback Binance: signatures, the clock, rate limits and
bans, broken answers, a send that timed out after it was placed, dropped and silent sockets, a
book that skipped an update — each failure becomes a clear domain error or a recovery."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from loopback.binance import SECRET
from loopback.testing import FAST, Pump, binance_data, binance_thread, binance_venue, until

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.errors import AuthenticationFailed, TemporaryVenueError
from app.domain.order import Order
from app.venues.ccxt import errors as E
from app.venues.ccxt.market_data import LIVE, RESYNCING

D = Decimal


@pytest.fixture(scope="module")
def lb():
    with binance_thread() as thread:
        yield thread


@pytest.fixture
def server(lb):
    lb.call(lb.server.reset)
    lb.call(lb.server.book_around, "BTC/USDT", "60000", spread="1", levels=10, qty="1")
    lb.call(lb.server.trade, "BTC/USDT", "60000", "0.1")
    return lb


def order(cid: str, t: OrderType = OrderType.LIMIT, side: Side = Side.BUY, qty: str = "0.01", **kw) -> Order:
    return Order(cid, "binance", "BTC/USDT", side, t, D(qty), **kw)


async def test_requests_are_signed_and_a_wrong_secret_is_refused_with_binances_code(server):
    good = binance_venue(server.server.base_url)
    bad = binance_venue(server.server.base_url, secret=SECRET + "x")
    try:
        await good.load_markets()
        assert "USDT" in await good.fetch_balances()
        with pytest.raises(AuthenticationFailed) as err:
            await bad.fetch_balances()
        assert err.value.key == "error.auth_failed" and "-1022" in err.value.message
        unknown = binance_venue(server.server.base_url, api_key="someone-else")
        with pytest.raises(AuthenticationFailed) as err:
            await unknown.fetch_balances()
        assert "-2015" in err.value.message
        await unknown.close()
    finally:
        await good.close()
        await bad.close()


async def test_clock_drift_is_measured_corrected_and_shown(server):
    server.call(setattr, server.server.faults, "clock_drift_ms", 30_000)
    v = binance_venue(server.server.base_url)
    try:
        v.exchange.options["timeDifference"] = 0  # as if measured before the exchange's clock moved
        # -1021 (timestamp outside recvWindow), the clock is measured, the request sent again.
        assert "USDT" in await v.fetch_balances()
        assert abs(v.clock_offset_ms - 30_000) < 2_000
        await v.load_markets()
        server.call(setattr, server.server.faults, "clock_drift_ms", -20_000)
        assert "USDT" in await v.fetch_balances()  # ahead of the server by 20 s: -1021 again, corrected
        assert abs(v.clock_offset_ms + 20_000) < 2_000
    finally:
        await v.close()


async def test_the_clock_is_measured_again_from_time_to_time(server):
    v = binance_venue(server.server.base_url, timing=replace(FAST, clock_every_s=0.2))
    try:
        await v.load_markets()
        assert abs(v.clock_offset_ms) < 2_000
        server.call(setattr, server.server.faults, "clock_drift_ms", 3_000)  # within recvWindow: no -1021
        await asyncio.sleep(0.3)
        await v.fetch_balances()
        assert abs(v.clock_offset_ms - 3_000) < 1_500
        assert v.client.clock_rtt_ms is not None
    finally:
        await v.close()


async def test_a_429_pauses_every_request_for_its_retry_after(server):
    v = binance_venue(server.server.base_url)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "429", "/api/v3/account", retry_after=1.0)
        with pytest.raises(E.RateLimited) as err:
            await v.fetch_balances()
        assert err.value.retry_after_s == 1.0 and isinstance(err.value, TemporaryVenueError)
        await v.fetch_balances()  # waits the pause out, then goes
        times = [t for t, _m, p in server.call(lambda: list(server.server.faults.requests)) if p == "/api/v3/account"]
        assert times[-1] - times[-2] >= 0.9
        assert v.client.rate_limited == 1
    finally:
        await v.close()


async def test_ccxts_rate_limiter_spaces_requests(server):
    v = binance_venue(server.server.base_url, rateLimit=100)
    try:
        await v.load_markets()
        for _ in range(5):
            await v.fetch_book("BTC/USDT", 5)
        times = [t for t, _m, p in server.call(lambda: list(server.server.faults.requests)) if p == "/api/v3/depth"]
        gaps = [b - a for a, b in zip(times[-5:], times[-4:], strict=False)]
        assert min(gaps) >= 0.08
    finally:
        await v.close()


async def test_a_418_ban_stops_every_request_and_says_so(server):
    v = binance_venue(server.server.base_url)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "418", "/api/v3/account", retry_after=60)
        with pytest.raises(E.IpBanned) as err:
            await v.fetch_balances()
        assert err.value.key == "error.ip_banned" and not isinstance(err.value, TemporaryVenueError)
        assert v.banned_until_ms is not None and v.banned_until_ms > time.time() * 1000 + 50_000
        sent = len(server.call(lambda: list(server.server.faults.requests)))
        with pytest.raises(E.IpBanned):
            await v.place(order("ban1", price=D("59000")))
        assert len(server.call(lambda: list(server.server.faults.requests))) == sent  # nothing more was sent
    finally:
        await v.close()


async def test_5xx_and_malformed_answers_are_temporary_errors(server):
    v = binance_venue(server.server.base_url)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "5xx", "/api/v3/account")
        with pytest.raises(E.ExchangeUnavailable) as err:
            await v.fetch_balances()
        assert "signature" not in err.value.message  # the request's query is not shown
        server.call(server.server.faults.add, "malformed", "/api/v3/account")
        with pytest.raises(E.BadAnswer):
            await v.fetch_balances()
        server.call(server.server.faults.add, "malformed", "/api/v3/order", method="POST")
        with pytest.raises(E.BadAnswer):  # placed, answer unreadable: unknown outcome, never "rejected"
            await v.place(order("mal1", price=D("59000")))
        st = await v.fetch_order(order("mal1", price=D("59000")))
        assert st is not None and st.status is OrderStatus.NEW
    finally:
        await v.close()


async def test_a_send_that_timed_out_after_it_landed_is_found_by_its_client_id(server):
    v = binance_venue(server.server.base_url, timeout_ms=1000)
    try:
        await v.load_markets()
        server.call(server.server.faults.add, "timeout", "/api/v3/order", method="POST", delay=3.0)
        o = order("late1", price=D("59000"))
        with pytest.raises(E.RequestTimedOut):
            await v.place(o)
        st = await v.fetch_order(order("late1", price=D("59000")))  # no venue id known: by client id
        assert st is not None and st.client_order_id == "late1" and st.status is OrderStatus.NEW
        again = await v.place(o)  # Binance: "Duplicate order sent." -> it had landed
        assert again.event is OrderEvent.ACCEPTED and again.venue_order_id == st.venue_order_id
        assert "landed" in again.reason
        assert server.call(lambda: server.server.placed) == 1
    finally:
        await v.close()


async def test_refusals_are_rejections_with_the_exchanges_reason(server):
    v = binance_venue(server.server.base_url)
    try:
        await v.load_markets()
        r = await v.place(order("big", qty="50", price=D("59000")))
        assert r.event is OrderEvent.REJECTED and "insufficient balance" in r.reason
        r = await v.place(order("maker", price=D("60000.5"), post_only=True))  # would take the ask
        assert r.event is OrderEvent.REJECTED and "immediately match" in r.reason
        r = await v.place(order("stop", OrderType.STOP_MARKET, Side.SELL, stop_price=D("60100")))
        assert r.event is OrderEvent.REJECTED and "trigger immediately" in r.reason
        r = await v.place(order("fok", OrderType.MARKET, tif=TimeInForce.FOK))
        assert r.event is OrderEvent.REJECTED and "fill-or-kill" in r.reason
    finally:
        await v.close()


async def test_a_dropped_market_socket_raises_and_a_new_watch_resubscribes(server):
    v = binance_data(server.server.base_url)
    try:
        await v.load_markets()
        pump = Pump(v.watch_trades("BTC/USDT"))
        await until(lambda: server.call(server.server.subscribed, "btcusdt@trade"), what="subscription")
        server.call(server.server.trade, "BTC/USDT", "60001", "0.2")
        await until(lambda: pump.items, what="a trade")
        assert v.stream_state("BTC/USDT", "trades") == LIVE
        server.call(server.server.drop_sockets, "market")
        await until(lambda: pump.done, what="the stream to fail")
        assert isinstance(pump.error, TemporaryVenueError)
        again = Pump(v.watch_trades("BTC/USDT"))
        await until(lambda: server.call(server.server.subscribed, "btcusdt@trade"), what="resubscription")
        server.call(server.server.trade, "BTC/USDT", "60002", "0.3")
        await until(lambda: again.items, what="a trade after the reconnect")
        assert again.items[-1].price == D("60002") and again.items[-1].quantity == D("0.3")
        await again.stop()
    finally:
        await v.close()


async def test_a_socket_that_stays_open_but_goes_silent_is_closed_by_the_watchdog(server):
    v = binance_data(server.server.base_url)
    try:
        await v.load_markets()
        pump = Pump(v.watch_book("BTC/USDT"))
        await until(lambda: pump.items, what="a book")
        server.call(server.server.silence_sockets, "market")  # no data, no pong, no close
        await until(lambda: pump.done, what="the watchdog")
        assert isinstance(pump.error, E.StreamStalled) and pump.error.key == "error.stream_stalled"
        assert v.client.stalls >= 1
        again = Pump(v.watch_book("BTC/USDT"))
        await until(lambda: again.items, what="a book after the reconnect")
        await again.stop()
    finally:
        await v.close()


async def test_a_book_update_that_skips_a_sequence_number_resyncs_from_a_snapshot(server):
    v = binance_data(server.server.base_url)
    try:
        await v.load_markets()
        pump = Pump(v.watch_book("BTC/USDT"))
        await until(lambda: pump.items, what="a book")
        server.call(server.server.book_around, "BTC/USDT", "60010", spread="1", levels=10, qty="1")
        await until(lambda: pump.items[-1].best_bid == D("60009.5"), what="the moved book")
        published = len(pump.items)
        server.call(setattr, server.server.faults, "book_gap", 5)
        server.call(server.server.book_around, "BTC/USDT", "60020", spread="1", levels=10, qty="2")
        await until(lambda: v.book_gaps == 1, what="the gap")
        # The book after the gap is never published from the stale state: the next one comes from
        # a fresh snapshot and shows what the exchange shows.
        assert v.stream_state("BTC/USDT", "book") in (RESYNCING, LIVE)
        server.call(server.server.book_around, "BTC/USDT", "60030", spread="1", levels=10, qty="3")
        await until(lambda: len(pump.items) > published and pump.items[-1].best_bid == D("60029.5"), what="resync")
        after = pump.items[published:]
        assert all(b.best_bid in (D("60019.5"), D("60029.5")) for b in after)
        assert pump.items[-1].bids[0].quantity == D("3") and len(pump.items[-1].bids) == 10
        assert v.stream_state("BTC/USDT", "book") == LIVE
        await pump.stop()
    finally:
        await v.close()


async def test_the_account_stream_reports_and_resubscribes_after_a_drop(server):
    v = binance_venue(server.server.base_url)
    reports = []
    v.set_report_handler(reports.append)
    try:
        await v.load_markets()
        pump = Pump(v.watch_account())
        await until(lambda: pump.items, what="subscribed")
        assert pump.items[0].reconnect is False
        await v.place(order("acc1", OrderType.MARKET))
        await until(lambda: any(r.fill for r in reports), what="the fill")
        await until(lambda: any(type(x).__name__ == "BalancesChanged" for x in pump.items), what="balances")
        server.call(server.server.drop_sockets, "ws-api")
        await until(lambda: pump.done, what="the drop")
        assert isinstance(pump.error, TemporaryVenueError)
        again = Pump(v.watch_account())
        await until(lambda: again.items, what="subscribed again")
        assert again.items[0].reconnect is True
        await v.place(order("acc2", OrderType.MARKET))
        await until(lambda: sum(1 for r in reports if r.fill) == 2, what="the second fill")
        await asyncio.sleep(0.1)
        assert sum(1 for r in reports if r.fill) == 2
        await again.stop()
    finally:
        await v.close()


async def test_tickers_best_prices_and_candles_arrive_by_websocket(server):
    v = binance_data(server.server.base_url)
    try:
        await v.load_markets()
        tickers, best = Pump(v.watch_ticker("BTC/USDT")), Pump(v.watch_best("BTC/USDT"))
        bars = Pump(v.watch_bars("BTC/USDT", "1m"))
        await until(
            lambda: (
                server.call(server.server.subscribed, "btcusdt@kline_1m")
                and server.call(server.server.subscribed, "btcusdt@miniTicker")
                and server.call(server.server.subscribed, "btcusdt@bookTicker")
            ),
            what="subscriptions",
        )
        server.call(server.server.trade, "BTC/USDT", "60005", "0.2")
        server.call(server.server.book_around, "BTC/USDT", "60006", spread="1", levels=5, qty="1")
        await until(lambda: tickers.items and best.items and bars.items, what="ticker, book ticker, candle")
        assert tickers.items[-1].last == D("60005")
        assert (best.items[-1].bid, best.items[-1].ask) == (D("60005.5"), D("60006.5"))
        assert bars.items[-1].close == D("60005") and bars.items[-1].closed is False
        # The next minute's first trade closes the candle before it.
        server.call(setattr, server.server.faults, "clock_drift_ms", 60_000)
        server.call(server.server.trade, "BTC/USDT", "60100", "0.1")
        await until(lambda: bars.items[-1].close == D("60100"), what="the next candle")
        closed = [b for b in bars.items if b.closed]
        assert closed and closed[-1].close == D("60005") and closed[-1].open_ms + 60_000 == bars.items[-1].open_ms
        for p in (tickers, best, bars):
            await p.stop()
    finally:
        await v.close()


async def test_without_a_websocket_for_a_stream_the_venue_polls_rest(server):
    v = binance_data(server.server.base_url)
    try:
        await v.load_markets()
        v.exchange.has["watchTrades"] = False
        v.exchange.has["watchOrderBook"] = False
        trades, books = Pump(v.watch_trades("BTC/USDT")), Pump(v.watch_book("BTC/USDT"))
        await until(lambda: trades.items and books.items, what="polled trades and book")
        seen = len(trades.items)
        server.call(server.server.trade, "BTC/USDT", "60003", "0.3")
        await until(lambda: len(trades.items) > seen, what="a new polled trade")
        assert trades.items[-1].price == D("60003")
        assert len({t.trade_id for t in trades.items}) == len(trades.items)  # each trade once
        assert books.items[-1].best_bid == D("59999.5")
        for p in (trades, books):
            await p.stop()
    finally:
        await v.close()


async def test_the_listen_key_stream_carries_the_same_execution_reports(server):
    import json

    import aiohttp

    v = binance_venue(server.server.base_url)
    try:
        await v.load_markets()
        key = (await v.exchange.publicPostUserDataStream())["listenKey"]
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{server.server.base_url}/ws/{key}") as ws:
            await until(lambda: server.call(server.server.user_subscribed), what="the listen-key stream")
            await v.place(order("lk1", OrderType.MARKET))
            events = []
            while not any(e.get("e") == "outboundAccountPosition" for e in events):
                msg = await asyncio.wait_for(ws.receive(), 10)
                events.append(json.loads(msg.data))
        kinds = [(e["e"], e.get("x")) for e in events]
        assert kinds[:2] == [("executionReport", "NEW"), ("executionReport", "TRADE")]
        assert events[1]["c"] == "lk1" and events[1]["N"] == "BTC"
    finally:
        await v.close()
