"""Order manager behaviour on the paper venue, with real SQLite storage."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers import Rig

from app.domain.enums import OrderListStatus, OrderStatus, OrderType, Side, TimeInForce, TradingState, TrailingMode
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest
from app.engine.events import FillReceived, OrderDenied, OrderUpdated
from app.engine.risk import RiskLimits

D = Decimal


def req(side=Side.BUY, type=OrderType.LIMIT, qty="0.1", **kw) -> OrderRequest:
    for k in ("price", "stop_price", "trail_value"):
        if k in kw and isinstance(kw[k], str):
            kw[k] = D(kw[k])
    return OrderRequest("sim", "BTC/USDT", side, type, D(qty), **kw)


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


async def started(rig: Rig, mid: str = "60000") -> Rig:
    await rig.start()
    rig.book(mid)
    rig.trade(mid)
    return rig


async def test_market_buy_walks_the_book_and_is_persisted_before_published(rig):
    await started(rig)
    seen_in_db: list[bool] = []
    rig.bus.subscribe(
        FillReceived,
        lambda e: seen_in_db.append(rig.store.get_order(e.order.client_order_id).filled_qty == e.order.filled_qty),
    )
    o = await rig.om.submit(req(type=OrderType.MARKET, qty="1.5"))
    assert o.status is OrderStatus.FILLED
    # 1 BTC at the best ask 60000.5, 0.5 at the next level 60001.5
    assert o.filled_notional == D("60000.5") + D("0.5") * D("60001.5")
    assert seen_in_db == [True, True]
    assert rig.store.get_order(o.client_order_id).status is OrderStatus.FILLED
    assert len(rig.store.load_fills(client_order_id=o.client_order_id)) == 2


async def test_limit_order_rests_then_fills_when_the_market_trades_through(rig):
    await started(rig)
    o = await rig.om.submit(req(price="59990"))
    assert o.status is OrderStatus.NEW
    rig.trade("59995", "5", Side.SELL)
    assert o.status is OrderStatus.NEW
    rig.trade("59989", "0.04", Side.SELL)
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled_qty == D("0.04")
    rig.trade("59980", "1", Side.SELL)
    assert o.status is OrderStatus.FILLED
    fills = rig.store.load_fills(client_order_id=o.client_order_id)
    assert [f.price for f in fills] == [D("59990"), D("59990")]  # maker at its own price
    assert all(f.liquidity.value == "maker" for f in fills)
    assert fills[0].fee == D("0.04") * D("59990") * D("0.001")


async def test_resting_limit_waits_for_the_queue_ahead_at_its_price(rig):
    await started(rig)
    # The book shows 1 BTC bid at 59999.5 already: our bid joins behind it.
    o = await rig.om.submit(req(price="59999.5", qty="0.5"))
    rig.trade("59999.5", "0.8", Side.SELL)
    assert o.filled_qty == 0
    rig.trade("59999.5", "0.4", Side.SELL)
    assert o.filled_qty == D("0.2")


async def test_buy_the_account_cannot_pay_for_is_refused_before_the_venue(tmp_path):
    rig = Rig(tmp_path, balances={"USDT": "1000"})
    await started(rig)
    denied = rig.capture(OrderDenied)
    o = await rig.om.submit(req(type=OrderType.MARKET, qty="0.1"))
    assert o is None
    assert denied and denied[0].key == "risk.insufficient_balance"
    assert "USDT" in denied[0].message and "fees" in denied[0].message
    assert rig.store.load_orders() == []
    rig.close()


async def test_paper_venue_rejects_unaffordable_order_even_without_risk_balance_check(tmp_path):
    rig = Rig(tmp_path, balances={"USDT": "1000"}, limits=RiskLimits(check_balance=False))
    await started(rig)
    o = await rig.om.submit(req(price="59990", qty="0.1"))
    assert o.status is OrderStatus.REJECTED
    assert "insufficient balance" in o.reason
    rig.close()


async def test_order_below_min_notional_is_refused_with_words(rig):
    await started(rig)
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit(req(price="59990", qty="0.00001")) is None
    assert denied[0].key == "filter.notional_min"
    assert denied[0].message == "Order value 0.6 USDT is below the minimum 5 USDT"


async def test_retried_submit_with_the_same_client_id_creates_one_order(rig):
    await started(rig)
    r = req(price="59990", client_order_id="my-id-1")
    a = await rig.om.submit(r)
    b = await rig.om.submit(r)
    assert a.client_order_id == b.client_order_id == "my-id-1"
    assert len(await rig.venue.fetch_open_orders()) == 1
    assert len(rig.store.load_orders()) == 1


async def test_post_only_that_would_cross_is_rejected_by_the_exchange(rig):
    await started(rig)
    o = await rig.om.submit(req(price="60001", post_only=True))
    assert o.status is OrderStatus.REJECTED and "post-only" in o.reason


async def test_ioc_remainder_expires_and_fok_without_liquidity_expires_whole(rig):
    await started(rig)
    ioc = await rig.om.submit(req(price="60000.5", qty="1.5", tif=TimeInForce.IOC))
    assert ioc.status is OrderStatus.EXPIRED and ioc.filled_qty == D("1")
    # The IOC took the whole best level; until the next book, a FOK for 0.6 more cannot fill.
    fok = await rig.om.submit(req(price="60000.5", qty="0.6", tif=TimeInForce.FOK))
    assert fok.status is OrderStatus.EXPIRED and fok.filled_qty == 0


async def test_stop_market_sell_triggers_on_last_trade_and_fills_at_the_bid(rig):
    await started(rig)
    o = await rig.om.submit(req(Side.SELL, OrderType.STOP_MARKET, stop_price="59900"))
    assert o.status is OrderStatus.NEW
    rig.trade("59950")
    assert o.status is OrderStatus.NEW
    rig.book("59899")
    rig.trade("59899", taker=Side.SELL)
    assert o.triggered and o.status is OrderStatus.FILLED
    assert o.avg_price == D("59898.5")


async def test_stop_buy_with_trigger_below_last_is_refused(rig):
    await started(rig)
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit(req(Side.BUY, OrderType.STOP_MARKET, stop_price="59000")) is None
    assert denied[0].key == "order.trigger_above_last"


async def test_take_profit_limit_buy_becomes_a_limit_after_trigger(rig):
    await started(rig)
    o = await rig.om.submit(req(Side.BUY, OrderType.TAKE_PROFIT_LIMIT, price="59800", stop_price="59850"))
    rig.book("59840")
    rig.trade("59840", taker=Side.SELL)
    assert o.triggered and o.status is OrderStatus.NEW
    rig.trade("59790", "1", Side.SELL)
    assert o.status is OrderStatus.FILLED and o.avg_price == D("59800")


async def test_trailing_stop_follows_the_high_and_sells_on_the_pullback(rig):
    await started(rig)
    o = await rig.om.submit(req(Side.SELL, OrderType.TRAILING_STOP, trail_mode=TrailingMode.AMOUNT, trail_value="100"))
    for px in ("60050", "60200", "60150"):
        rig.trade(px)
    await rig.settle()
    assert o.status is OrderStatus.NEW and o.trailing_trigger() == D("60100")
    rig.book("60099")
    rig.trade("60099", taker=Side.SELL)
    await rig.settle()
    assert o.status is OrderStatus.FILLED and o.triggered
    assert o.avg_price == D("60098.5")


async def test_oco_limit_fill_shrinks_the_stop_leg_then_cancels_it(rig):
    await started(rig)
    ol = await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60100"), D("59900")))
    limit, stop = rig.om.get(ol.limit_id), rig.om.get(ol.stop_id)
    assert limit.status is OrderStatus.NEW and stop.status is OrderStatus.NEW
    rig.trade("60101", "0.1", Side.BUY)  # partial fill of the limit leg
    await rig.settle()
    assert limit.status is OrderStatus.PARTIALLY_FILLED
    # The coins the limit leg still offers stay under the stop: it covers exactly what is left.
    assert stop.status is OrderStatus.NEW and stop.remaining == limit.remaining == D("0.4")
    rig.trade("60150", "1", Side.BUY)
    await rig.settle()
    assert limit.status is OrderStatus.FILLED and stop.status is OrderStatus.CANCELLED
    assert rig.store.get_order_list(ol.list_id).status is OrderListStatus.DONE


async def test_oco_stop_trigger_cancels_the_limit_and_sells_at_market(rig):
    await started(rig)
    ol = await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60100"), D("59900")))
    rig.book("59890")
    rig.trade("59890", taker=Side.SELL)
    await rig.settle()
    limit, stop = rig.om.get(ol.limit_id), rig.om.get(ol.stop_id)
    assert limit.status is OrderStatus.CANCELLED
    assert stop.status is OrderStatus.FILLED and stop.avg_price == D("59889.5")
    assert (await rig.venue.fetch_open_orders()) == []


async def test_sell_oco_with_stop_above_last_is_refused_with_the_rule(rig):
    await started(rig)
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60100"), D("60050"))) is None
    assert denied[0].key == "oco.sell_prices"
    assert "limit 60100 > last 60000 > stop 60050" in denied[0].message


async def test_oco_commits_the_coins_once(tmp_path):
    rig = Rig(tmp_path, balances={"USDT": "0", "BTC": "0.5"})
    await started(rig)
    ol = await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60100"), D("59900")))
    assert rig.om.get(ol.limit_id).status is OrderStatus.NEW
    assert rig.om.available("sim", "BTC") == 0
    rig.close()


async def test_bracket_places_take_profit_and_stop_after_the_entry_fills(rig):
    await started(rig)
    ol = await rig.om.submit_bracket(
        BracketRequest(
            "sim",
            "BTC/USDT",
            Side.BUY,
            D("0.2"),
            OrderType.LIMIT,
            D("59950"),
            take_profit=D("60200"),
            stop_loss=D("59800"),
        )
    )
    assert ol.exit_ids == []
    rig.trade("59940", "1", Side.SELL)
    await rig.settle()
    ol = rig.store.get_order_list(ol.list_id)
    tp, sl = rig.om.get(ol.limit_id), rig.om.get(ol.stop_id)
    assert tp.side is Side.SELL and tp.price == D("60200") and tp.quantity == D("0.2")
    assert sl.type is OrderType.STOP_MARKET and sl.stop_price == D("59800")
    rig.trade("60210", "1", Side.BUY)
    await rig.settle()
    assert tp.status is OrderStatus.FILLED and sl.status is OrderStatus.CANCELLED
    pos = rig.om.portfolio.position("sim", "BTC/USDT")
    assert pos.realized_pnl == (D("60200") * D("0.2") * D("0.999")) - (D("59950") * D("0.2") * D("1.001"))


async def test_cancel_all_and_kill_switch_halt_trading(rig):
    await started(rig)
    await rig.om.submit(req(price="59000"))
    await rig.om.submit(req(Side.SELL, price="61000"))
    await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60100"), D("59900")))
    result = await rig.om.kill_switch()
    assert result["cancelled"] == 4
    assert rig.om.open_orders() == [] and await rig.venue.fetch_open_orders() == []
    assert rig.om.risk.state is TradingState.HALTED
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit(req(price="59000")) is None
    assert denied[0].key == "risk.halted"
    rig.om.rearm()
    assert (await rig.om.submit(req(price="59000"))).status is OrderStatus.NEW


async def test_kill_switch_with_flatten_sells_the_position(rig):
    await started(rig)
    await rig.om.submit(req(type=OrderType.MARKET, qty="0.5"))
    await rig.om.kill_switch(flatten=True)
    assert rig.om.portfolio.position("sim", "BTC/USDT").quantity == 0


async def test_halted_state_survives_a_restart(tmp_path):
    rig = Rig(tmp_path)
    await started(rig)
    await rig.om.kill_switch()
    await rig.venue.close()
    rig.close()
    rig2 = Rig(tmp_path)
    assert rig2.om.risk.state is TradingState.HALTED
    rig2.close()


async def test_every_update_is_published_after_it_is_stored(rig):
    await started(rig)
    mismatches = []

    def check(e: OrderUpdated) -> None:
        stored = rig.store.get_order(e.order.client_order_id)
        if stored is None or stored.status is not e.order.status:
            mismatches.append((e.order.client_order_id, e.order.status))

    rig.bus.subscribe(OrderUpdated, check)
    await rig.om.submit(req(type=OrderType.MARKET))
    o = await rig.om.submit(req(price="59000"))
    await rig.om.cancel(o.client_order_id)
    assert mismatches == []


async def test_bracket_exits_follow_partial_fills_of_a_working_entry(rig):
    await started(rig)
    ol = await rig.om.submit_bracket(
        BracketRequest(
            "sim",
            "BTC/USDT",
            Side.BUY,
            D("0.5"),
            OrderType.LIMIT,
            D("59950"),
            take_profit=D("60200"),
            stop_loss=D("59800"),
        )
    )
    rig.trade("59940", "0.2", Side.SELL)  # the entry fills 0.2 and keeps working
    await rig.settle()
    ol = rig.om.order_list(ol.list_id)
    assert rig.om.get(ol.entry_id).status is OrderStatus.PARTIALLY_FILLED
    assert rig.om.get(ol.limit_id).quantity == D("0.2")  # the filled part is protected at once
    first_pair = (ol.limit_id, ol.stop_id)
    rig.trade("59940", "0.3", Side.SELL)  # the rest fills: a second pair covers it, the first one keeps working
    await rig.settle()
    ol = rig.om.order_list(ol.list_id)
    assert ol.pairs() == [first_pair, (ol.limit_id, ol.stop_id)]
    assert rig.om.get(ol.limit_id).quantity == D("0.3") and rig.om.get(ol.stop_id).quantity == D("0.3")
    stops = [rig.om.get(s) for _l, s in ol.pairs()]
    assert sum(s.remaining for s in stops) == D("0.5") and all(s.is_open for s in stops)
    rig.trade("60210", "1", Side.BUY)  # take profit
    await rig.settle()
    assert rig.om.portfolio.position("sim", "BTC/USDT").quantity == 0
    assert rig.store.get_order_list(ol.list_id).status is OrderListStatus.DONE
    assert rig.om.open_orders() == []


async def test_bracket_whose_exits_are_rejected_stops_and_says_the_position_is_unprotected(tmp_path):
    from app.engine.events import ActivityLogged

    rig = Rig(tmp_path, balances={"USDT": "100000", "BTC": "0"})
    await started(rig)
    logged = rig.capture(ActivityLogged)
    ol = await rig.om.submit_bracket(
        BracketRequest(
            "sim", "BTC/USDT", Side.BUY, D("0.2"), OrderType.MARKET, None, take_profit=D("60200"), stop_loss=D("59800")
        )
    )
    await rig.settle()
    ol = rig.store.get_order_list(ol.list_id)
    limit = rig.om.get(ol.limit_id)
    # Someone sells the coins elsewhere; the exchange then rejects/cancels the exit: nothing is re-placed.
    rig.om.on_report(await rig.venue.cancel(limit))  # as the exchange's user stream would report it
    await rig.settle()
    assert rig.store.get_order_list(ol.list_id).status is OrderListStatus.DONE
    assert any("not protected" in e.message for e in logged)
    assert rig.om.open_orders() == []


async def test_a_restart_at_the_same_clock_time_never_reuses_a_client_id(tmp_path):
    # A clock set back (or two starts within one millisecond) must not hand out an id a venue
    # already knows: the venue would answer with the old order instead of placing the new one.
    rig = Rig(tmp_path)
    await started(rig)
    first = await rig.om.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000")))
    rig.store.close()
    rig2 = Rig(tmp_path)  # a new manual clock: the same time as the first session's
    assert rig2.clock.now_ms() <= rig.clock.now_ms()
    await started(rig2)
    second = await rig2.om.submit(
        OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("58900"))
    )
    assert second.client_order_id != first.client_order_id
    assert {o.client_order_id for o in rig2.om.open_orders()} == {first.client_order_id, second.client_order_id}
    rig2.close()
