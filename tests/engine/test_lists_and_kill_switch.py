"""Brackets, OCOs and the kill switch when things happen at the same time, or a crash comes in
between (issue: trust the core with real money, 3–7, 13, 24)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from faults import FaultyVenue
from helpers import Rig

from app.domain.enums import Emulation, OrderListStatus, OrderStatus, OrderType, Side, TradingState, TrailingMode
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest
from app.engine.events import ActivityLogged

D = Decimal


async def started(rig: Rig, mid: str = "60000") -> Rig:
    await rig.start()
    rig.book(mid)
    rig.trade(mid)
    return rig


def faulty(tmp_path, **kw) -> Rig:
    rig = Rig(tmp_path, **kw)
    rig.venue = FaultyVenue(rig.venue)
    return rig


def working(rig: Rig) -> list:
    return [o for o in rig.om.open_orders() if o.is_open]


def bracket(qty: str = "0.5", entry: OrderType = OrderType.MARKET, price: str | None = None) -> BracketRequest:
    return BracketRequest(
        "sim",
        "BTC/USDT",
        Side.BUY,
        D(qty),
        entry,
        D(price) if price else None,
        take_profit=D("60500"),
        stop_loss=D("59500"),
    )


def is_exit(o) -> bool:
    return o.list_id is not None and o.side is Side.SELL


# -- 3. cancelling a bracket while its exits are on their way -------------------------------------------
async def test_cancelling_a_bracket_while_its_exits_are_placed_leaves_nothing_working(tmp_path):
    rig = faulty(tmp_path)
    await started(rig)
    rig.venue.hold("place", is_exit)  # the exchange is slow to answer the take-profit
    task = asyncio.ensure_future(rig.om.submit_bracket(bracket()))
    await rig.venue.wait_held()
    ol = rig.om.order_lists()[0]
    await rig.om.cancel_list(ol.list_id)
    rig.venue.heal()
    await task
    await rig.settle()
    assert working(rig) == [] and await rig.venue.fetch_open_orders() == []
    assert rig.store.get_order_list(ol.list_id).status is OrderListStatus.DONE
    rig.book("60600")
    rig.trade("60600")
    rig.book("59400")
    rig.trade("59400", taker=Side.SELL)
    await rig.settle()
    assert rig.om.portfolio.balance("sim", "BTC") == D("2.5")  # bought 0.5, sold nothing: no 1.0 for 0.5
    rig.close()


async def test_the_kill_switch_cancels_exits_being_placed_for_an_entry_that_just_filled(tmp_path):
    rig = faulty(tmp_path)
    await started(rig)
    rig.venue.hold("place", is_exit)
    task = asyncio.ensure_future(rig.om.submit_bracket(bracket()))
    await rig.venue.wait_held()
    kill = asyncio.ensure_future(rig.om.kill_switch())
    await asyncio.sleep(0.05)
    rig.venue.heal()
    await asyncio.gather(task, kill)
    await rig.settle()
    assert rig.om.risk.state is TradingState.HALTED
    assert working(rig) == [] and await rig.venue.fetch_open_orders() == []
    rig.close()


# -- 4. a partial take-profit fill keeps the rest under a stop --------------------------------------------
async def test_coins_held_from_a_bracket_stay_covered_by_stops_after_a_partial_take_profit(tmp_path):
    rig = Rig(tmp_path)
    await started(rig)
    ol = await rig.om.submit_bracket(bracket("1.0", OrderType.LIMIT, "59990"))
    rig.trade("59980", "0.6", Side.SELL)  # entry fills 0.6
    await rig.settle()
    rig.trade("60510", "0.1", Side.BUY)  # the take-profit sells 0.1
    await rig.settle()
    rig.trade("59980", "0.4", Side.SELL)  # entry fills the last 0.4
    await rig.settle()
    ol = rig.om.order_list(ol.list_id)
    stops = [rig.om.get(s) for _l, s in ol.pairs()]
    assert sum((s.remaining for s in stops if s.is_open), D(0)) == D("0.9")  # 0.9 held, 0.9 under stops
    rig.book("59400")
    rig.trade("59400", "5", Side.SELL)  # the price falls through the stop
    await rig.settle()
    assert rig.om.portfolio.balance("sim", "BTC") == D("2")  # everything the bracket bought is sold again
    assert working(rig) == []
    rig.close()


# -- 5. a crash while the exits are placed ---------------------------------------------------------------------
async def test_after_a_crash_during_exit_placement_the_exits_are_placed_again(tmp_path):
    rig = faulty(tmp_path)
    await started(rig)
    rig.venue.hold("place", is_exit)
    task = asyncio.ensure_future(rig.om.submit_bracket(bracket()))
    await rig.venue.wait_held()
    task.cancel()  # the process dies here: the exits are stored, the take-profit never reached the exchange
    rig.store.close()
    again = Rig(tmp_path)
    again.book("60000")
    done = await again.start()
    await again.settle()
    ol = again.om.order_lists()[0]
    assert ol.status is OrderListStatus.ACTIVE and len(ol.pairs()) == 2  # the lost pair, then a new one
    tp, sl = again.om.get(ol.limit_id), again.om.get(ol.stop_id)
    assert tp.is_open and tp.venue_order_id is not None and tp.quantity == D("0.5")
    assert sl.is_open and sl.emulation is Emulation.EMULATED and sl.quantity == D("0.5")
    assert any("never reached" in c for c in done.changes)
    again.close()


# -- 6. the kill switch after a crash ---------------------------------------------------------------------------
async def test_a_kill_switch_interrupted_by_a_crash_is_finished_at_the_next_start_and_arms_nothing(tmp_path):
    rig = faulty(tmp_path)
    await started(rig)
    trailing = await rig.om.submit(
        OrderRequest(
            "sim",
            "BTC/USDT",
            Side.SELL,
            OrderType.TRAILING_STOP,
            D("1"),
            trail_mode=TrailingMode.AMOUNT,
            trail_value=D("100"),
        )
    )
    limits = [
        await rig.om.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D(p)))
        for p in ("59000", "58900", "58800")
    ]
    rig.venue.hold("cancel")  # the cancels get no answer before the process dies
    kill = asyncio.ensure_future(rig.om.kill_switch())
    await rig.venue.wait_held(3)
    kill.cancel()
    rig.store.close()
    again = Rig(tmp_path)
    again.book("60000")
    await again.start()
    await again.settle()
    assert again.om.risk.state is TradingState.HALTED
    assert again.om.emulator.armed() == []
    for px in ("60500", "59000"):  # a rise and a fall that would have fired the trailing stop
        again.book(px)
        again.trade(px, taker=Side.SELL)
    await again.settle()
    assert working(again) == [] and await again.venue.fetch_open_orders() == []
    assert again.om.get(trailing.client_order_id).status is OrderStatus.CANCELLED
    assert all(again.om.get(o.client_order_id).status is OrderStatus.CANCELLED for o in limits)
    assert again.om.portfolio.balance("sim", "BTC") == D("2")  # nothing sold while halted
    again.close()


# -- 7. a stop that triggered while the kill switch runs --------------------------------------------------------
async def test_a_stop_leg_on_its_way_when_the_kill_switch_trips_never_reaches_the_market(tmp_path):
    rig = faulty(tmp_path)
    await started(rig)
    ol = await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("1"), D("60500"), D("59500")))
    rig.venue.hold("cancel")  # cancelling the limit leg takes a while
    rig.book("59400")
    rig.trade("59400", taker=Side.SELL)  # the stop leg triggers and first cancels the limit leg
    await rig.venue.wait_held()
    kill = asyncio.ensure_future(rig.om.kill_switch())
    await asyncio.sleep(0.05)
    rig.venue.heal()
    await kill
    await rig.settle()
    assert rig.om.get(ol.stop_id).status is OrderStatus.CANCELLED
    assert rig.om.portfolio.balance("sim", "BTC") == D("2")  # sold nothing after HALTED
    assert working(rig) == []
    rig.close()


# -- 13. cancels with no answer are retried and reported ----------------------------------------------------------
async def test_the_kill_switch_reports_what_still_works_and_keeps_cancelling_until_confirmed(tmp_path):
    rig = faulty(tmp_path)
    await started(rig)
    orders = [
        await rig.om.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D(p)))
        for p in ("59000", "58900", "58800", "58700")
    ]
    stuck = {orders[0].client_order_id, orders[1].client_order_id}
    rig.venue.fail("cancel", lambda o: o.client_order_id in stuck)
    logged = rig.capture(ActivityLogged)
    result = await rig.om.kill_switch()
    assert result.cancelled == 2 and set(result.working) == stuck
    assert any("2 orders still working" in e.message for e in logged)
    rig.venue.heal()
    for _ in range(200):
        if not working(rig):
            break
        await asyncio.sleep(0.05)
    assert working(rig) == [] and await rig.venue.fetch_open_orders() == []
    assert rig.store.get_setting("risk.kill") is None  # the intent is done
    await rig.om.close()
    rig.close()


# -- 24. the app's own reasons ---------------------------------------------------------------------------------------
async def test_a_cancel_the_app_made_keeps_the_apps_reason(tmp_path):
    rig = Rig(tmp_path)
    await started(rig)
    ol = await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60100"), D("59900")))
    o = await rig.om.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D("59000")))
    moved = await rig.om.modify(o.client_order_id, price=D("59100"))
    rig.trade("60150", "1", Side.BUY)
    await rig.settle()
    assert rig.om.get(ol.stop_id).reason == "the other leg filled"
    assert rig.om.get(o.client_order_id).reason == "moved to a new price"
    assert moved is not None and moved.price == D("59100")
    rig.close()


@pytest.mark.parametrize(
    "venue,expected", [("nowhere", "Unknown venue nowhere"), ("sim", "Unknown symbol DOGE/USDT at sim")]
)
async def test_an_unknown_venue_is_not_called_an_unknown_symbol(tmp_path, venue, expected):
    from app.engine.events import OrderDenied

    rig = Rig(tmp_path)
    await started(rig)
    denied = rig.capture(OrderDenied)
    symbol = "BTC/USDT" if venue == "nowhere" else "DOGE/USDT"
    assert await rig.om.submit(OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, D("1"), price=D("1"))) is None
    assert denied[-1].message == expected
    rig.close()


# -- moving the legs of a group ---------------------------------------------------------------------------------------
async def test_oco_legs_move_within_their_group_and_keep_the_rules(tmp_path):
    from app.engine.events import OrderDenied

    rig = Rig(tmp_path)
    await started(rig)
    ol = await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60500"), D("59500")))
    first_limit = ol.limit_id
    stop = await rig.om.modify(ol.stop_id, stop_price=D("59600"))  # watched here: the trigger just moves
    assert stop is not None and stop.client_order_id == ol.stop_id and stop.stop_price == D("59600")
    limit = await rig.om.modify(first_limit, price=D("60400"))  # at the venue: replaced inside the group
    group = rig.om.order_list(ol.list_id)
    assert limit is not None and group.pairs() == [(limit.client_order_id, ol.stop_id)]
    assert rig.om.get(first_limit).status is OrderStatus.CANCELLED and limit.is_open
    assert rig.om.get(first_limit).reason == "moved to a new price"
    denied = rig.capture(OrderDenied)
    assert await rig.om.modify(limit.client_order_id, price=D("59900")) is None  # below the market
    assert denied[-1].key == "oco.leg_limit_above" and limit.is_open
    rig.trade("60450", "1", Side.BUY)  # the moved limit leg fills: the stop goes with it
    await rig.settle()
    assert limit.status is OrderStatus.FILLED and rig.om.get(ol.stop_id).status is OrderStatus.CANCELLED
    assert rig.store.get_order_list(ol.list_id).status is OrderListStatus.DONE
    rig.close()


async def test_a_fee_taken_in_the_coin_bought_is_left_out_of_what_the_exits_sell(tmp_path):
    from app.domain.enums import LiquiditySide, OrderEvent
    from app.domain.execution import ExecutionReport
    from app.domain.order import Fill

    rig = Rig(tmp_path, balances={"USDT": "100000", "BTC": "0"})
    await started(rig)
    ol = await rig.om.submit_bracket(bracket("0.5", OrderType.LIMIT, "59990"))
    entry = rig.om.get(ol.entry_id)
    # The exchange fills the entry and takes its 0.1% fee in BTC (Binance without BNB).
    fill = Fill(
        "b-1",
        entry.client_order_id,
        "v1",
        "sim",
        "BTC/USDT",
        Side.BUY,
        D("0.5"),
        D("59990"),
        D("0.0005"),
        "BTC",
        LiquiditySide.MAKER,
        1_722_000_100_000,
    )
    rig.om.on_report(ExecutionReport("sim", entry.client_order_id, OrderEvent.FILL, fill.ts_ms, fill=fill))
    await rig.settle()
    ol = rig.om.order_list(ol.list_id)
    tp, sl = rig.om.get(ol.limit_id), rig.om.get(ol.stop_id)
    assert tp.quantity == sl.quantity == D("0.4995")  # what the account holds, not the 0.5 filled
    rig.close()
