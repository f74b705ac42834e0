"""The ccxt Kraken venue against the loopback Kraken: API-Sign and the nonce checked as Kraken
checks them, instruments from recorded AssetPairs (both precision styles: ``tick_size`` and
``pair_decimals``), Kraken's own order types (native stops and take-profits), its error answers as
clear domain errors, and its websocket v2 (market data, executions, balances) dropped, silenced and
subscribed again."""

from __future__ import annotations

import json
from decimal import Decimal

import ccxt.async_support
import loopback_checks as checks
import pytest
from loopback.binance.info import shared_data
from loopback.kraken import SECRET
from loopback.testing import loopback_thread, loopback_venue

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.errors import AuthenticationFailed, TemporaryVenueError
from app.venues.ccxt import errors as E
from app.venues.ccxt import profile_for

D = Decimal
BTC = "BTC/USDT"
KRAKEN = checks.Case(
    name="kraken",
    symbol=BTC,
    trade_sub="trade:BTC/USDT",
    public=("public",),
    private=("private",),  # executions and balances
    order_path="/0/private/AddOrder",
)


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("kraken") as thread:
        yield thread


@pytest.fixture
def server(lb):
    return checks.fresh_market(lb, KRAKEN)


order = KRAKEN.order


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
    await checks.market_data_streams_and_a_dropped_socket_subscribes_again(server, KRAKEN)


async def test_a_silent_socket_is_closed_by_the_watchdog(server):
    await checks.a_silent_socket_is_closed_by_the_watchdog(server, KRAKEN)


async def test_the_account_stream_reports_fills_once_and_resubscribes_after_a_drop(server):
    account = checks.Account(server, KRAKEN)
    try:
        await account.watch("executions and balances")
        fills = await account.a_resting_buy_fills_in_two("k-rest", first="0.004")
        assert all(f.fee_asset == "USDT" for f in fills)
        assert fills[0].fee == D("0.599995")  # 0.004 × 59,999.5 × 0.25 % (maker)
        await account.holds("BTC", "2.01", what="balances")
        # A cancel's update names the order only: it is still matched to its client id.
        await account.venue.place(order("k-cxl", price=D("59000")))
        await account.cancelled_on_the_website("k-cxl")
        await account.resubscribes_after_a_drop("k-after")
    finally:
        await account.close()


async def test_a_trade_in_a_message_led_by_an_order_status_is_still_a_fill(server):
    # ccxt routes an executions message by its first entry: one led by a status went to the order
    # stream with the trade inside it, where no fill was read.
    server.call(setattr, server.server, "mixed_executions", True)
    account = checks.Account(server, KRAKEN)
    try:
        await account.watch("executions and balances")
        fills = await account.a_resting_buy_fills_in_two("k-mixed", first="0.004")
        assert [f.quantity for f in fills] == [D("0.004"), D("0.006")]
        assert fills[0].fee == D("0.599995") and all(f.fee_asset == "USDT" for f in fills)
    finally:
        server.call(setattr, server.server, "mixed_executions", False)
        await account.close()


def test_the_kraken_profile_is_registered_and_data():
    p = profile_for("kraken")
    assert p.capabilities.native_stop and p.capabilities.native_take_profit and not p.capabilities.native_oco
    assert p.capabilities.id_rules.max_len == 18 and SECRET


async def test_a_send_that_timed_out_after_it_landed_is_found_by_its_cl_ord_id(server):
    await checks.a_send_that_timed_out_after_it_landed_is_found_by_its_client_id(server, KRAKEN, "k-late")


async def test_a_book_whose_checksum_does_not_match_is_loaded_again(server):
    await checks.a_book_with_a_gap_is_loaded_again(server, KRAKEN)
