"""Each risk rule refuses with words, and lets the rest through."""

from __future__ import annotations

from decimal import Decimal

from helpers import btc

from app.domain.enums import OrderType, Side, TradingState
from app.domain.order import OrderRequest
from app.engine.risk import OrderContext, RiskEngine, RiskLimits

D = Decimal


def ctx(**kw) -> OrderContext:
    base = dict(
        instrument=btc(),
        last=D("60000"),
        reference_price=D("60000"),
        free_base=D("1"),
        free_quote=D("100000"),
        position_qty=D("0"),
        open_orders=0,
        quote_value=D("1"),
    )
    base.update(kw)
    return OrderContext(**base)


def req(side=Side.BUY, qty="0.1", type=OrderType.LIMIT, price="60000", stop=None) -> OrderRequest:
    return OrderRequest(
        "sim", "BTC/USDT", side, type, D(qty), price=D(price) if price else None, stop_price=D(stop) if stop else None
    )


def open_limits(**kw) -> RiskLimits:
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


def test_a_normal_order_passes():
    assert RiskEngine().check(req(), ctx(), 0.0) is None


def test_max_order_notional_refuses_with_the_value_and_the_limit():
    d = RiskEngine(open_limits(max_order_notional=D("5000"))).check(req(), ctx(), 0.0)
    assert d.key == "risk.max_order_notional"
    assert d.message == "Order value 6000 USDT is above the limit of 5000 USDT per order"


def test_max_quantity_per_asset():
    d = RiskEngine(open_limits(max_order_qty={"BTC": D("0.05")})).check(req(), ctx(), 0.0)
    assert d.key == "risk.max_order_qty" and "0.05 BTC" in d.message


def test_fat_finger_price_band():
    d = RiskEngine(open_limits(price_band_pct=D("5"))).check(req(price="70000"), ctx(), 0.0)
    assert d.key == "risk.price_band" and "16.7%" in d.message
    assert RiskEngine(open_limits(price_band_pct=D("5"))).check(req(price="62000"), ctx(), 0.0) is None


def test_balance_check_counts_the_fee():
    eng = RiskEngine(open_limits())
    # 0.1 BTC at 60000 = 6000 USDT + 0.1% fee = 6006
    assert eng.check(req(), ctx(free_quote=D("6005.99")), 0.0).key == "risk.insufficient_balance"
    assert eng.check(req(), ctx(free_quote=D("6006")), 0.0) is None
    assert eng.check(req(Side.SELL, qty="2"), ctx(), 0.0).key == "risk.insufficient_balance"


def test_max_position_per_asset():
    d = RiskEngine(open_limits(max_position_notional=D("10000"))).check(req(), ctx(position_qty=D("0.1")), 0.0)
    assert d.key == "risk.max_position"


def test_max_open_orders():
    d = RiskEngine(open_limits(max_open_orders=3)).check(req(), ctx(open_orders=3), 0.0)
    assert d.key == "risk.max_open_orders"


def test_submit_throttle_per_second_and_per_day():
    eng = RiskEngine(open_limits(submits_per_second=2, submits_per_day=3))
    assert eng.check(req(), ctx(), 0.0) is None
    assert eng.check(req(), ctx(), 0.1) is None
    assert eng.check(req(), ctx(), 0.2).key == "risk.submit_rate"
    assert eng.check(req(), ctx(), 1.5) is None
    assert eng.check(req(), ctx(), 3.0).key == "risk.submit_daily"


def test_cancel_throttle():
    eng = RiskEngine(open_limits(cancels_per_second=1))
    assert eng.check_cancel(0.0) is None
    assert eng.check_cancel(0.5).key == "risk.cancel_rate"
    assert eng.check_cancel(1.1) is None


def test_the_same_order_repeated_is_refused_as_a_probable_mistake():
    eng = RiskEngine(open_limits(duplicate_count=3, duplicate_window_s=10))
    for t in (0.0, 1.0, 2.0):
        assert eng.check(req(), ctx(), t) is None
    assert eng.check(req(), ctx(), 3.0).key == "risk.duplicate"
    assert eng.check(req(price="60001"), ctx(), 3.0) is None  # a different order is fine
    assert eng.check(req(), ctx(), 13.5) is None  # the window has passed


def test_daily_loss_limit_switches_to_reducing_only():
    eng = RiskEngine(open_limits(daily_loss_limit=D("1000")))
    eng.new_day(1, D("100000"))
    assert not eng.update_daily_pnl(D("99500"))
    assert eng.update_daily_pnl(D("98999"))
    assert eng.state is TradingState.REDUCING
    assert eng.check(req(), ctx(), 0.0).key == "risk.reducing_only"
    # Selling part of a long position reduces risk and passes.
    assert eng.check(req(Side.SELL, qty="0.5"), ctx(position_qty=D("1")), 0.0) is None
    eng.new_day(2, D("98999"))
    assert eng.state is TradingState.ACTIVE


def test_halted_refuses_everything_even_reducing_orders():
    eng = RiskEngine()
    eng.set_state(TradingState.HALTED, "kill_switch")
    assert eng.check(req(Side.SELL), ctx(position_qty=D("1")), 0.0).key == "risk.halted"


def test_limits_round_trip_through_json():
    lim = RiskLimits(max_order_qty={"BTC": D("2")}, daily_loss_limit=None)
    assert RiskLimits.from_json(lim.to_json()) == lim
