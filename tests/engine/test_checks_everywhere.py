"""Every order that reaches a venue passes the same checks; moving an order checks the new one
first; the daily loss limit never switches itself off; trailing stops keep their trigger and honour
their activation price; today's counters survive a restart; bad input is refused in words
(issue: trust the core with real money, 9–11, 15–22)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers import Rig, btc

from app.domain.enums import OrderStatus, OrderType, Side, TradingState, TrailingMode
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest
from app.engine.events import ActivityLogged, OrderDenied
from app.engine.risk import RiskLimits

D = Decimal


def req(side=Side.BUY, type=OrderType.LIMIT, qty="0.1", symbol="BTC/USDT", **kw) -> OrderRequest:
    for k in ("price", "stop_price", "trail_value", "activation_price"):
        if isinstance(kw.get(k), str):
            kw[k] = D(kw[k])
    return OrderRequest("sim", symbol, side, type, D(qty), **kw)


async def started(rig: Rig, mid: str = "60000") -> Rig:
    await rig.start()
    rig.book(mid)
    rig.trade(mid)
    return rig


def limits(**kw) -> RiskLimits:
    base = dict(
        max_order_notional=None,
        max_position_notional=None,
        max_open_orders=None,
        submits_per_second=None,
        submits_per_day=None,
        cancels_per_second=None,
        cancels_per_day=None,
        duplicate_count=None,
        price_band_pct=None,
        daily_loss_limit=None,
    )
    base.update(kw)
    return RiskLimits(**base)


# -- 9. moving an order ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "why,kw", [("risk.price_band", dict(price_band_pct=D("5"))), ("risk.submit_rate", dict(submits_per_second=1))]
)
async def test_a_move_the_rules_refuse_leaves_the_original_working(tmp_path, why, kw):
    rig = Rig(tmp_path, limits=limits(**kw))
    await started(rig)
    stop = await rig.om.submit(req(Side.SELL, OrderType.STOP_MARKET, stop_price="59500"))
    denied = rig.capture(OrderDenied)
    rig.clock.advance(0)  # same second: a second order would break the per-second throttle
    assert await rig.om.modify(stop.client_order_id, stop_price=D("50000") if "band" in why else D("59400")) is None
    assert denied[-1].key == why
    assert stop.status is OrderStatus.NEW and stop.stop_price == D("59500")
    assert [o.client_order_id for o in rig.om.open_orders()] == [stop.client_order_id]
    rig.close()


# -- 10. paths around pre-trade risk --------------------------------------------------------------------------------
async def test_every_leg_of_an_oco_meets_the_fat_finger_band(tmp_path):
    rig = Rig(tmp_path, limits=limits(price_band_pct=D("10")))
    await started(rig)
    denied = rig.capture(OrderDenied)
    oco = OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.5"), D("60100"), D("59900"), stop_limit_price=D("600"))
    assert await rig.om.submit_oco(oco) is None
    assert denied[-1].key == "risk.price_band" and "600" in denied[-1].message
    rig.close()


async def test_bracket_exits_far_from_the_market_are_refused(tmp_path):
    rig = Rig(tmp_path, limits=limits(price_band_pct=D("10")))
    await started(rig)
    denied = rig.capture(OrderDenied)
    far = BracketRequest(
        "sim", "BTC/USDT", Side.BUY, D("0.1"), OrderType.MARKET, None, take_profit=D("600000"), stop_loss=D("6000")
    )
    assert await rig.om.submit_bracket(far) is None
    assert denied[-1].key == "risk.price_band" and denied[-1].field == "take_profit"
    rig.close()


async def test_max_position_counts_open_buy_orders(tmp_path):
    rig = Rig(tmp_path, balances={"USDT": "1000000"}, limits=limits(max_position_notional=D("100000")))
    await started(rig)
    placed = [await rig.om.submit(req(price="59000", qty="1.6")) for _ in range(5)]
    assert [o is not None for o in placed] == [True, False, False, False, False]  # 1.6 BTC ≈ 94,400; 3.2 is over
    rig.close()


async def test_a_quote_currency_without_a_price_is_not_valued_at_one(tmp_path):
    ethbtc = btc(symbol="ETH/BTC", base="ETH", quote="BTC", tick_size=D("0.00001"), min_notional=D("0.0001"))
    rig = Rig(
        tmp_path,
        instruments=[ethbtc, btc()],
        balances={"BTC": "100", "USDT": "0"},
        limits=limits(max_order_notional=D("50000")),
    )
    await rig.start()
    rig.trade("0.05", symbol="ETH/BTC")
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit(req(price="0.05", qty="75", symbol="ETH/BTC")) is None
    assert denied[-1].key == "risk.no_valuation"  # no BTC/USDT price yet: 75 ETH passed as 3.75 "USDT"
    rig.trade("60000")  # BTC/USDT
    assert await rig.om.submit(req(price="0.05", qty="75", symbol="ETH/BTC")) is None
    assert denied[-1].key == "risk.max_order_notional" and "225,000" in denied[-1].message.replace("225000", "225,000")
    rig.close()


async def test_a_triggered_stop_passes_the_checks_before_it_goes_out(tmp_path):
    rig = Rig(tmp_path)
    await started(rig)
    trailing = await rig.om.submit(
        req(Side.SELL, OrderType.TRAILING_STOP, qty="1", trail_mode=TrailingMode.AMOUNT, trail_value="100")
    )
    rig.om.risk.set_state(TradingState.HALTED, "kill_switch")  # halted by hand, orders left working
    rig.om.emulator.halted = False
    rig.book("59800")
    rig.trade("59800", taker=Side.SELL)
    await rig.settle()
    assert trailing.status is OrderStatus.CANCELLED and "halted" in trailing.reason
    assert rig.om.portfolio.balance("sim", "BTC") == D("2")
    rig.close()


# -- 11. the daily loss limit and unpriced dust ------------------------------------------------------------------------
async def test_dust_without_a_price_is_named_and_the_daily_loss_limit_still_works(tmp_path):
    rig = Rig(tmp_path, balances={"USDT": "10000", "BTC": "1", "XRP": "0.3"}, limits=limits(daily_loss_limit=D("1000")))
    await started(rig)
    logged = rig.capture(ActivityLogged)
    rig.om.check_daily_loss()
    assert rig.om.risk.unvalued == ("XRP",)
    assert any("XRP" in e.message and "not counted" in e.message for e in logged)
    rig.trade("58500", taker=Side.SELL)  # 1 BTC loses 1,500
    rig.om.check_daily_loss()
    assert rig.om.risk.state is TradingState.REDUCING and rig.om.risk.daily_pnl == D("-1500")
    rig.close()


async def test_the_daily_loss_restriction_ends_with_its_day_even_over_a_restart(tmp_path):
    rig = Rig(tmp_path, balances={"USDT": "10000", "BTC": "1"}, limits=limits(daily_loss_limit=D("1000")))
    await started(rig)
    rig.om.check_daily_loss()
    rig.trade("58500", taker=Side.SELL)  # 1 BTC loses 1,500: reducing-only for the rest of the day
    rig.om.check_daily_loss()
    assert rig.om.risk.state is TradingState.REDUCING
    rig.close()
    again = Rig(tmp_path, balances={"USDT": "10000", "BTC": "1"}, limits=limits(daily_loss_limit=D("1000")))
    assert again.om.risk.state is TradingState.REDUCING  # the same day: it still holds
    again.store.close()
    later = Rig(tmp_path, balances={"USDT": "10000", "BTC": "1"}, limits=limits(daily_loss_limit=D("1000")))
    later.clock.advance(2 * 86_400_000)  # the app starts two days later
    later.om.state.restore()
    assert later.om.risk.state is TradingState.ACTIVE
    await started(later, "58500")
    assert later.om.precheck(req(Side.BUY, OrderType.LIMIT, price="58000", qty="0.01")) == []  # buying again
    later.close()


async def test_a_holding_priced_only_later_in_the_day_is_no_profit(tmp_path):
    eth = btc(symbol="ETH/USDT", base="ETH")
    rig = Rig(
        tmp_path,
        instruments=[btc(), eth],
        balances={"USDT": "10000", "BTC": "1", "ETH": "10"},
        limits=limits(daily_loss_limit=D("1000")),
    )
    await started(rig)
    rig.om.check_daily_loss()  # ETH has no price yet
    rig.trade("3000", symbol="ETH/USDT")
    rig.om.check_daily_loss()
    assert rig.om.risk.daily_pnl == 0  # not +30,000
    rig.close()


# -- 15, 16. trailing stops ---------------------------------------------------------------------------------------------
async def test_a_trailing_stop_keeps_its_trigger_over_a_restart(tmp_path):
    rig = Rig(tmp_path)
    await started(rig)
    o = await rig.om.submit(req(Side.SELL, OrderType.TRAILING_STOP, trail_mode=TrailingMode.AMOUNT, trail_value="100"))
    for px in ("60100", "60300", "60500"):
        rig.trade(px)
    assert o.trailing_trigger() == D("60400")
    rig.store.close()  # killed: no shutdown save
    again = Rig(tmp_path)
    await again.start()
    assert again.om.get(o.client_order_id).trailing_trigger() == D("60400")  # was 59910
    again.close()


async def test_a_trailing_stop_starts_trailing_at_its_activation_price(tmp_path):
    rig = Rig(tmp_path)
    await started(rig)
    o = await rig.om.submit(
        req(
            Side.SELL,
            OrderType.TRAILING_STOP,
            trail_mode=TrailingMode.AMOUNT,
            trail_value="100",
            activation_price="61000",
        )
    )
    rig.book("59500")
    rig.trade("59500", taker=Side.SELL)  # would have fired at once without the activation price
    await rig.settle()
    assert o.status is OrderStatus.NEW and o.trailing_trigger() is None
    rig.trade("61000")
    rig.trade("61200")
    assert o.trailing_trigger() == D("61100")
    rig.book("61090")
    rig.trade("61090", taker=Side.SELL)
    await rig.settle()
    assert o.status is OrderStatus.FILLED
    rig.close()


# -- 17. today's counters ------------------------------------------------------------------------------------------------
async def test_todays_submit_count_survives_a_restart(tmp_path):
    rig = Rig(tmp_path, limits=limits(submits_per_day=3))
    await started(rig)
    for p in ("59000", "58900"):
        await rig.om.submit(req(price=p))
    rig.close()
    again = Rig(tmp_path, limits=limits(submits_per_day=3))
    await started(again)
    assert again.om.risk.submits_today == 2
    assert await again.om.submit(req(price="58800")) is not None
    assert await again.om.submit(req(price="58700")) is None  # the day's fourth
    again.close()


# -- 18. valuation through real prices ---------------------------------------------------------------------------------------
async def test_a_euro_order_is_valued_at_the_euro_price_not_one_to_one(tmp_path):
    btceur = btc(symbol="BTC/EUR", quote="EUR")
    eurusdt = btc(symbol="EUR/USDT", base="EUR", tick_size=D("0.0001"), lot_step=D("0.01"), min_notional=D("1"))
    rig = Rig(
        tmp_path,
        instruments=[btceur, eurusdt],
        balances={"EUR": "100000"},
        limits=limits(max_order_notional=D("50000")),
    )
    await rig.start()
    rig.trade("50000", symbol="BTC/EUR")
    rig.trade("1.2", symbol="EUR/USDT")
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit(req(price="50000", qty="0.9", symbol="BTC/EUR")) is None  # 45,000 EUR = 54,000 USDT
    assert denied[-1].key == "risk.max_order_notional"
    rig.close()


# -- 19–22. bad input ------------------------------------------------------------------------------------------------------
async def test_a_request_with_a_wrong_type_is_refused_at_construction_and_nothing_is_stored(tmp_path):
    rig = Rig(tmp_path)
    await started(rig)
    with pytest.raises(TypeError, match="side must be Side"):
        OrderRequest("sim", "BTC/USDT", "buy", OrderType.LIMIT, D("0.1"), price=D("59000"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="price must be a Decimal"):
        OcoRequest("sim", "BTC/USDT", Side.SELL, D("1"), 60100.0, D("59900"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BracketRequest("sim", "BTC/USDT", Side.BUY, D("1"), "market", None, D("1"), D("1"))  # type: ignore[arg-type]
    assert rig.om.open_orders() == [] and rig.store.load_orders() == []
    rig.close()


@pytest.mark.parametrize(
    "kw,field",
    [({"qty": "1e23"}, "quantity"), ({"price": "1e27"}, "price"), ({"price": "0.0000000000000000001"}, "price")],
)
async def test_absurd_numbers_are_refused_with_a_reason(tmp_path, kw, field):
    rig = Rig(tmp_path)
    await started(rig)
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit(req(**{"price": "59000", **kw})) is None
    assert denied[-1].key == "order.number_range" and denied[-1].field == field
    rig.close()


@pytest.mark.parametrize(
    "kw,key",
    [
        ({"client_order_id": "x" * 10_000}, "order.client_id_invalid"),
        ({"client_order_id": "a b"}, "order.client_id_invalid"),
        ({"tag": "line\nbreak"}, "order.tag_invalid"),
    ],
)
async def test_client_ids_and_tags_follow_the_venues_rules(tmp_path, kw, key):
    rig = Rig(tmp_path)
    await started(rig)
    denied = rig.capture(OrderDenied)
    assert await rig.om.submit(req(price="59000", **kw)) is None
    assert denied[-1].key == key
    rig.close()


async def test_a_market_order_with_no_price_yet_is_refused_not_waved_through_the_size_limits(tmp_path):
    # Found in review: with no trade or book yet the reference price is None, and a market buy of
    # 10 BTC (600k) passed the 50k per-order and 100k position limits and the balance check.
    limits = RiskLimits(max_order_notional=D("50000"), max_position_notional=D("100000"))
    rig = Rig(tmp_path, balances={"USDT": "1000000", "BTC": "0"}, limits=limits)
    await rig.start()  # no market data yet
    denied = rig.capture(OrderDenied)
    req = OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.MARKET, D("10"))
    assert [p.key for p in rig.om.precheck(req)] == ["risk.no_price"]
    assert await rig.om.submit(req) is None
    assert denied[-1].key == "risk.no_price" and "No price for BTC/USDT yet" in denied[-1].message
    rig.book("60000")
    rig.trade("60000")  # the market arrives: the same order now meets the limits it must meet
    assert [p.key for p in rig.om.precheck(req)] == ["risk.max_order_notional"]
    limit_req = OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D("59000"))
    assert rig.om.precheck(limit_req) == []
    rig.close()


async def test_a_buy_ocos_funds_are_checked_and_held_at_its_dearer_leg(tmp_path):
    # Found in review: only the limit leg (the cheaper price) was checked and held; when the stop
    # triggered above, the buy was refused for funds, with the limit leg already cancelled.
    rig = Rig(tmp_path, balances={"USDT": "10000", "BTC": "0"}, limits=limits())
    await started(rig)
    denied = rig.capture(OrderDenied)
    too_big = OcoRequest("sim", "BTC/USDT", Side.BUY, D("0.165"), D("59000"), D("61000"))
    assert await rig.om.submit_oco(too_big) is None  # 0.165 × 61,000 is more than 10,000 USDT
    assert denied[-1].key == "risk.insufficient_balance"
    ol = await rig.om.submit_oco(OcoRequest("sim", "BTC/USDT", Side.BUY, D("0.16"), D("59000"), D("61000")))
    assert ol is not None
    inst = rig.om.instruments[("sim", "BTC/USDT")]
    held = D("0.16") * D("61000") * (1 + inst.taker_fee)
    assert rig.om.available("sim", "USDT") == D("10000") - held  # what the stop would spend is held
    rig.book("61000")
    rig.trade("61000")  # the stop triggers: its buy goes through
    await rig.settle()
    assert rig.om.get(ol.stop_id).status is OrderStatus.FILLED
    assert rig.om.portfolio.balance("sim", "BTC") == D("0.16")
    rig.close()


async def test_an_oco_counts_both_its_legs_against_the_open_orders_limit(tmp_path):
    rig = Rig(tmp_path, balances={"USDT": "100000", "BTC": "1"}, limits=limits(max_open_orders=3))
    await started(rig)
    await rig.om.submit(req(Side.BUY, OrderType.LIMIT, price="59000", qty="0.01"))
    await rig.om.submit(req(Side.BUY, OrderType.LIMIT, price="58900", qty="0.01"))
    denied = rig.capture(OrderDenied)
    oco = OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.1"), D("61000"), D("59500"))
    assert await rig.om.submit_oco(oco) is None  # 2 open + 2 legs would be 4 of 3
    assert denied[-1].key == "risk.max_open_orders" and len(rig.om.open_orders()) == 2
    rig.close()
