"""Pure domain rules: exact numbers, exchange filters in words, the order state machine, OCO rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers import btc
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.enums import LiquiditySide, OrderEvent, OrderStatus, OrderType, Side, TimeInForce, TrailingMode
from app.domain.errors import IllegalTransition
from app.domain.market import Bar
from app.domain.money import quantize_step, to_decimal
from app.domain.order import TRANSITIONS, Fill, Order, OrderRequest, validate_request
from app.domain.order_list import BracketRequest, OcoRequest, validate_bracket, validate_oco

D = Decimal
ETH = btc(symbol="ETH/USDT", base="ETH", lot_step=D("0.0001"), min_qty=D("0.0001"))


def req(side=Side.BUY, type=OrderType.LIMIT, qty="0.01", price="60000", stop=None, **kw) -> OrderRequest:
    return OrderRequest(
        "sim",
        "BTC/USDT",
        side,
        type,
        D(qty),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        **kw,
    )


# -- exact numbers ------------------------------------------------------------------------------------
def test_to_decimal_never_goes_through_binary_float():
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal("65000.10") == D("65000.10")
    assert to_decimal(3) == D(3)
    for bad in ("nan", "inf", float("nan")):
        with pytest.raises(ValueError):
            to_decimal(bad)
    with pytest.raises(TypeError):
        to_decimal(True)


def test_value_objects_refuse_floats():
    with pytest.raises(TypeError):
        OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.1, price=D("1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Bar("sim", "BTC/USDT", "1m", 0, 1.0, D(1), D(1), D(1), D(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        btc(tick_size=0.01)


steps = st.sampled_from([D("0.01"), D("0.00001"), D("0.5"), D("1"), D("25")])
values = st.decimals(min_value=D("0.00001"), max_value=D("1000000"), places=6)


@settings(max_examples=300)
@given(values, steps, st.sampled_from(["nearest", "down", "up"]))
def test_rounding_lands_on_the_grid_within_one_step(value, step, mode):
    r = quantize_step(value, step, mode)
    assert r % step == 0
    assert abs(r - value) <= step
    if mode == "down":
        assert r <= value
    if mode == "up":
        assert r >= value
    assert quantize_step(r, step, mode) == r


# -- filters in words ------------------------------------------------------------------------------
def test_amount_below_minimum_is_explained_with_the_asset():
    p = ETH.check_qty(D("0.00001"))
    assert p[0].key == "filter.qty_min"
    assert p[0].message == "Amount 0.00001 is below the minimum 0.0001 ETH"


def test_tick_and_lot_violations_name_the_nearest_valid_value():
    probs = validate_request(req(price="60000.015", qty="0.012345"), btc(), None)
    msgs = {p.key: p.message for p in probs}
    assert "nearest: 60000.02" in msgs["filter.price_tick"]
    assert "nearest: 0.01234" in msgs["filter.qty_step"]


def test_min_notional_uses_the_limit_price():
    probs = validate_request(req(price="100", qty="0.01"), btc(), None)
    assert [p.key for p in probs] == ["filter.notional_min"]


def test_exchange_price_band_is_checked_against_the_last_price():
    inst = btc(band_down=D("0.8"), band_up=D("1.2"))
    probs = validate_request(req(price="80000"), inst, D("60000"))
    assert probs[0].key == "filter.price_band" and "48000 – 72000" in probs[0].message


@pytest.mark.parametrize(
    "side,type,stop,ok",
    [
        (Side.SELL, OrderType.STOP_MARKET, "59000", True),
        (Side.SELL, OrderType.STOP_MARKET, "61000", False),
        (Side.BUY, OrderType.STOP_MARKET, "61000", True),
        (Side.BUY, OrderType.STOP_MARKET, "60000", False),
        (Side.SELL, OrderType.TAKE_PROFIT_MARKET, "61000", True),
        (Side.SELL, OrderType.TAKE_PROFIT_MARKET, "59000", False),
        (Side.BUY, OrderType.TAKE_PROFIT_MARKET, "59000", True),
    ],
)
def test_trigger_direction_follows_the_order_kind(side, type, stop, ok):
    probs = validate_request(req(side, type, price=None, stop=stop), btc(), D("60000"))
    assert (probs == []) is ok, probs


def test_trailing_stop_needs_a_sane_distance():
    r = req(Side.SELL, OrderType.TRAILING_STOP, price=None, trail_mode=TrailingMode.PERCENT, trail_value=D("80"))
    assert validate_request(r, btc(), D("60000"))[0].key == "order.trail_percent_range"
    r = req(Side.SELL, OrderType.TRAILING_STOP, price=None)
    assert validate_request(r, btc(), D("60000"))[0].key == "order.trail_required"


def test_post_only_and_time_in_force_combinations():
    assert (
        validate_request(req(type=OrderType.MARKET, price=None, post_only=True), btc(), D("60000"))[0].key
        == "order.post_only_limit"
    )
    assert validate_request(req(post_only=True, tif=TimeInForce.IOC), btc(), None)[0].key == "order.post_only_gtc"
    r = req(Side.SELL, OrderType.STOP_LIMIT, price="58900", stop="59000", tif=TimeInForce.FOK)
    assert validate_request(r, btc(), D("60000"))[0].key == "order.tif_limit"


# -- OCO and brackets ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "side,limit,stop,ok",
    [
        (Side.SELL, "61000", "59000", True),
        (Side.SELL, "61000", "60500", False),  # stop above last
        (Side.SELL, "60000", "59000", False),  # limit equal to last
        (Side.SELL, "61000", "60000", False),  # stop equal to last
        (Side.BUY, "59000", "61000", True),
        (Side.BUY, "59000", "59500", False),  # stop below last
        (Side.BUY, "60000", "61000", False),
    ],
)
def test_oco_price_rule(side, limit, stop, ok):
    probs = validate_oco(OcoRequest("sim", "BTC/USDT", side, D("0.01"), D(limit), D(stop)), btc(), D("60000"))
    assert (probs == []) is ok, probs
    if not ok:
        assert probs[0].key == ("oco.sell_prices" if side is Side.SELL else "oco.buy_prices")


def test_sell_oco_with_stop_above_last_is_rejected_with_the_rule_in_words():
    p = validate_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.01"), D("61000"), D("60500")), btc(), D("60000"))
    assert "limit 61000 > last 60000 > stop 60500" in p[0].message


def test_bracket_exits_must_straddle_the_entry():
    ok = BracketRequest("sim", "BTC/USDT", Side.BUY, D("0.01"), OrderType.LIMIT, D("59500"), D("61000"), D("59000"))
    assert validate_bracket(ok, btc(), D("60000")) == []
    bad = BracketRequest("sim", "BTC/USDT", Side.BUY, D("0.01"), OrderType.LIMIT, D("59500"), D("59400"), D("59000"))
    assert validate_bracket(bad, btc(), D("60000"))[0].key == "oco.sell_prices"


# -- the state machine -----------------------------------------------------------------------------------
def new_order(qty="1") -> Order:
    return Order("c1", "sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D(qty), price=D("100"))


def fill(tid: str, qty: str) -> Fill:
    return Fill(tid, "c1", "v", "sim", "BTC/USDT", Side.BUY, D(qty), D("100"), D("0"), "USDT", LiquiditySide.MAKER, 1)


def test_illegal_transition_raises():
    o = new_order()
    o.apply(OrderEvent.ACCEPTED)
    o.apply(OrderEvent.CANCELLED)
    with pytest.raises(IllegalTransition):
        o.apply(OrderEvent.ACCEPTED)


def test_a_fill_is_applied_once_and_one_larger_than_the_rest_is_still_the_truth():
    o = new_order()
    o.apply(OrderEvent.ACCEPTED)
    assert o.apply_fill(fill("a", "0.4"))
    assert not o.apply_fill(fill("a", "0.4"))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled_qty == D("0.4")
    assert o.apply_fill(fill("b", "0.7"))  # the exchange says it traded: the caller reports the excess
    assert o.status is OrderStatus.FILLED and o.filled_qty == D("1.1")


def test_a_fill_reported_after_the_cancel_answer_is_applied_to_the_cancelled_order():
    o = new_order()
    o.apply(OrderEvent.ACCEPTED)
    o.apply(OrderEvent.CANCEL_REQUESTED)
    o.apply(OrderEvent.CANCELLED)
    assert o.apply_fill(fill("a", "0.4"))
    assert o.status is OrderStatus.CANCELLED and o.filled_qty == D("0.4")
    assert o.apply_fill(fill("b", "0.6"))
    assert o.status is OrderStatus.FILLED and o.remaining == 0


def test_cancel_rejected_returns_to_the_state_the_fills_say():
    o = new_order()
    o.apply(OrderEvent.ACCEPTED)
    o.apply_fill(fill("a", "0.5"))
    o.apply(OrderEvent.CANCEL_REQUESTED)
    o.apply(OrderEvent.CANCEL_REJECTED)
    assert o.status is OrderStatus.PARTIALLY_FILLED


events = st.sampled_from([e for e in OrderEvent if e not in (OrderEvent.FILL, OrderEvent.PARTIAL_FILL)] + ["fill"])


@settings(max_examples=300)
@given(st.lists(st.tuples(events, st.integers(1, 4)), max_size=25))
def test_random_event_sequences_keep_the_invariants(seq):
    o = new_order("1")
    n = 0
    for ev, q in seq:
        before = o.status
        try:
            if ev == "fill":
                n += 1
                o.apply_fill(fill(f"t{n}", str(D(q) / 10)))
            else:
                o.apply(ev)
        except IllegalTransition:
            assert o.status is before  # a refused event changes nothing
            continue
        if ev != "fill":
            assert not before.is_final, f"{before} changed by {ev}"
        else:  # fills are the truth in every state; a final order only ever becomes FILLED
            assert not before.is_final or o.status in (before, OrderStatus.FILLED)
        assert (o.status is OrderStatus.FILLED) == (o.filled_qty >= o.quantity) or o.status.is_final
    assert all(s.is_final is False for (s, _e) in TRANSITIONS)
