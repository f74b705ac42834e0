"""Fills: each trade stored once; an order's trade ids come back with it."""

from __future__ import annotations

from store_factories import T0, fill, order

from app.domain.enums import OrderStatus
from app.storage import Store


def test_fill_with_same_trade_id_is_stored_once(store: Store) -> None:
    assert store.save_fill(fill()) is True
    assert store.save_fill(fill()) is False
    assert store.save_fill(fill(qty="0.2")) is False  # the first version stays
    assert [(f.trade_id, str(f.quantity)) for f in store.load_fills()] == [("t1", "0.1")]


def test_a_fill_round_trips_every_field(store: Store) -> None:
    f = fill()
    store.save_fill(f)
    assert store.load_fills() == [f]


def test_the_same_trade_id_on_another_symbol_or_venue_is_another_fill(store: Store) -> None:
    # Binance numbers trades per symbol: trade 7 of BTC/USDT and of ETH/USDT are two trades.
    assert store.save_fill(fill("7", "a"))
    assert store.save_fill(fill("7", "b", symbol="ETH/USDT"))
    assert store.save_fill(fill("7", "c", venue="other"))
    assert len(store.load_fills()) == 3


def test_trade_ids_are_restored_on_every_loaded_order(store: Store) -> None:
    store.save_order(order("a", venue_order_id="va"))
    store.save_order(order("b", status=OrderStatus.FILLED))
    store.save_order(order("c"))
    for tid, cid in [("t1", "a"), ("t2", "a"), ("t3", "b")]:
        store.save_fill(fill(tid, cid))
    assert store.get_order("a").trade_ids == {"t1", "t2"}  # type: ignore[union-attr]
    assert store.get_order("b").trade_ids == {"t3"}  # type: ignore[union-attr]
    assert {o.client_order_id: o.trade_ids for o in store.load_open_orders()} == {"a": {"t1", "t2"}, "c": set()}
    assert {o.client_order_id: o.trade_ids for o in store.load_orders()} == {"a": {"t1", "t2"}, "b": {"t3"}, "c": set()}
    assert store.find_order_by_venue_id("sim", "va").trade_ids == {"t1", "t2"}  # type: ignore[union-attr]


def test_a_restored_order_refuses_a_fill_it_already_applied(store: Store) -> None:
    o = order()
    f = fill(qty="0.1")
    assert o.apply_fill(f)
    store.save_fill(f)
    store.save_order(o)
    restored = store.get_order("c1")
    assert restored is not None and restored.apply_fill(f) is False
    assert restored.filled_qty == o.filled_qty


def test_fills_load_oldest_first_and_filter(store: Store) -> None:
    store.save_fill(fill("late", "a", ts=T0 + 50))
    store.save_fill(fill("early", "b", ts=T0 + 10))
    store.save_fill(fill("eth", "c", symbol="ETH/USDT", ts=T0 + 20))
    store.save_fill(fill("same-ms-second", "a", ts=T0 + 50))
    store.save_fill(fill("other", "d", venue="other", ts=T0 + 5))
    assert [f.trade_id for f in store.load_fills()] == ["other", "early", "eth", "late", "same-ms-second"]
    assert [f.trade_id for f in store.load_fills(venue="sim", symbol="BTC/USDT")] == ["early", "late", "same-ms-second"]
    assert [f.trade_id for f in store.load_fills(client_order_id="a")] == ["late", "same-ms-second"]
    assert [f.trade_id for f in store.load_fills(venue="sim", since_ms=T0 + 20)] == ["eth", "late", "same-ms-second"]


def test_last_fill_time_is_per_venue(store: Store) -> None:
    assert store.last_fill_ms("sim") is None
    store.save_fill(fill("a", ts=T0 + 7))
    store.save_fill(fill("b", ts=T0 + 3))
    store.save_fill(fill("c", venue="other", ts=T0 + 99))
    assert store.last_fill_ms("sim") == T0 + 7
