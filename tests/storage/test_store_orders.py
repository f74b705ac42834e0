"""Orders: upserted by client order id with every field kept; open ones found after a restart."""

from __future__ import annotations

from decimal import Decimal

from store_factories import T0, fill, full_order, order

from app.domain.enums import OrderStatus, OrderType
from app.domain.order import Order
from app.storage import Store

D = Decimal
FIELDS = [f for f in Order.__dataclass_fields__ if f != "trade_ids"]


def assert_same_order(got: Order | None, want: Order) -> None:
    assert got is not None
    for name in FIELDS:
        g, w = getattr(got, name), getattr(want, name)
        assert g == w and type(g) is type(w), f"{name}: {g!r} != {w!r}"


def test_every_order_field_survives_a_round_trip(store: Store) -> None:
    o = full_order()
    store.save_order(o)
    assert_same_order(store.get_order("c1"), o)


def test_an_order_with_only_defaults_survives_a_round_trip(store: Store) -> None:
    o = Order("c0", "sim", "ETH/USDT", order().side, OrderType.MARKET, D("2"))
    store.save_order(o)
    assert_same_order(store.get_order("c0"), o)


def test_saving_an_order_again_updates_every_field_that_changes(store: Store) -> None:
    store.save_order(order())
    o = full_order()
    # Identity fields (venue, symbol, side, type, created_ms) never change for an order.
    base = order()
    o.venue, o.symbol, o.side, o.type, o.created_ms = base.venue, base.symbol, base.side, base.type, base.created_ms
    store.save_order(o)
    assert_same_order(store.get_order("c1"), o)
    o.status, o.filled_qty, o.reason, o.trail_ref, o.venue_order_id = OrderStatus.FILLED, o.quantity, "", None, None
    store.save_order(o)
    assert_same_order(store.get_order("c1"), o)
    assert len(store.load_orders()) == 1


def test_an_orders_identity_is_written_once(store: Store) -> None:
    store.save_order(order())
    store.save_order(order(venue="other", symbol="ETH/USDT", created_ms=1, status=OrderStatus.NEW))
    got = store.get_order("c1")
    assert got is not None and (got.venue, got.symbol, got.created_ms) == ("sim", "BTC/USDT", T0)
    assert got.status is OrderStatus.NEW


def test_an_unknown_order_is_none(store: Store) -> None:
    assert store.get_order("nope") is None
    assert store.find_order_by_venue_id("sim", "nope") is None


def test_open_orders_exclude_final_ones(store: Store) -> None:
    for i, status in enumerate(OrderStatus):
        store.save_order(order(status.value, status=status, created_ms=T0 + i))
    got = [o.client_order_id for o in store.load_open_orders()]
    assert got == [s.value for s in OrderStatus if not s.is_final]  # oldest first
    assert set(got) == {"pending_new", "new", "partially_filled", "pending_cancel"}


def test_an_order_that_becomes_final_leaves_the_open_orders(store: Store) -> None:
    o = order()
    store.save_order(o)
    assert [x.client_order_id for x in store.load_open_orders()] == ["c1"]
    o.status = OrderStatus.CANCELLED
    store.save_order(o)
    assert store.load_open_orders() == []


def test_open_orders_can_be_loaded_for_one_venue(store: Store) -> None:
    store.save_order(order("a", venue="sim"))
    store.save_order(order("b", venue="binance"))
    assert [o.client_order_id for o in store.load_open_orders("binance")] == ["b"]
    assert {o.client_order_id for o in store.load_open_orders()} == {"a", "b"}


def test_load_orders_is_newest_first_filtered_and_limited(store: Store) -> None:
    for i in range(10):
        store.save_order(order(f"s{i}", created_ms=T0 + i, status=OrderStatus.FILLED))
        store.save_order(order(f"e{i}", created_ms=T0 + i, symbol="ETH/USDT"))
    store.save_order(order("x", venue="other", created_ms=T0 + 100))
    assert [o.client_order_id for o in store.load_orders(limit=3)] == ["x", "s9", "e9"]
    assert [o.client_order_id for o in store.load_orders("sim", "BTC/USDT", limit=4)] == ["s9", "s8", "s7", "s6"]
    assert len(store.load_orders(venue="sim")) == 20
    assert len(store.load_orders(symbol="ETH/USDT")) == 10


def test_an_order_is_found_by_its_venue_order_id(store: Store) -> None:
    store.save_order(order("a", venue_order_id="111"))
    store.save_order(order("b", venue="other", venue_order_id="111"))
    store.save_fill(fill("t9", "a"))
    got = store.find_order_by_venue_id("sim", "111")
    assert got is not None and got.client_order_id == "a" and got.trade_ids == {"t9"}
    assert store.find_order_by_venue_id("other", "111").client_order_id == "b"  # type: ignore[union-attr]
