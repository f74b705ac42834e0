"""Order lists, balances, FIFO lots and settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.enums import OrderListKind, OrderListStatus
from app.domain.execution import Balance
from app.domain.order_list import OrderList
from app.domain.portfolio import Lot
from app.storage import Store

D = Decimal


def test_an_order_list_round_trips_and_updates(store: Store) -> None:
    ol = OrderList(
        "L1",
        OrderListKind.BRACKET,
        "sim",
        "BTC/USDT",
        entry_id="e",
        take_profit=D("70000.5"),
        stop_loss=D("60000"),
        stop_loss_limit=D("59990.00"),
        created_ms=5,
        note="n",
        leg_ids=["e"],
    )
    store.save_order_list(ol)
    assert vars_of(store.get_order_list("L1")) == vars_of(ol)
    ol.limit_id, ol.stop_id, ol.status = "tp", "sl", OrderListStatus.DONE
    ol.leg_ids += ["tp", "sl"]
    store.save_order_list(ol)
    assert vars_of(store.get_order_list("L1")) == vars_of(ol)
    assert store.get_order_list("nope") is None


def vars_of(ol: OrderList | None) -> dict[str, object]:
    assert ol is not None
    return {name: getattr(ol, name) for name in OrderList.__dataclass_fields__}


def test_only_active_order_lists_are_loaded(store: Store) -> None:
    store.save_order_list(OrderList("a", OrderListKind.OCO, "sim", "BTC/USDT", created_ms=2))
    store.save_order_list(OrderList("b", OrderListKind.OCO, "sim", "BTC/USDT", status=OrderListStatus.DONE))
    store.save_order_list(OrderList("c", OrderListKind.OCO, "other", "BTC/USDT", created_ms=1))
    assert [x.list_id for x in store.load_active_order_lists()] == ["c", "a"]
    assert [x.list_id for x in store.load_active_order_lists("sim")] == ["a"]


def test_saving_balances_replaces_the_venues_snapshot(store: Store) -> None:
    store.save_balances("sim", {"BTC": Balance("BTC", D("1.00000001"), D("0.5")), "ETH": Balance("ETH", D("2"))})
    store.save_balances("other", {"USDT": Balance("USDT", D("5"))})
    store.save_balances("sim", {"BTC": Balance("BTC", D("0.9"), D("0"))})
    assert store.load_balances("sim") == {"BTC": Balance("BTC", D("0.9"), D("0"))}
    assert store.load_balances("other") == {"USDT": Balance("USDT", D("5"))}
    store.save_balances("sim", {})
    assert store.load_balances("sim") == {}


def test_saving_lots_replaces_that_positions_lots_in_order(store: Store) -> None:
    btc = [
        Lot("sim", "BTC/USDT", D("0.1"), D("65000.123"), 1, "t1"),
        Lot("sim", "BTC/USDT", D("-0.2"), D("1"), 2, "t2"),
    ]
    eth = [Lot("sim", "ETH/USDT", D("3"), D("2000"), 3, "t3")]
    store.save_lots("sim", "BTC/USDT", btc)
    store.save_lots("sim", "ETH/USDT", eth)
    store.save_lots("other", "BTC/USDT", [Lot("other", "BTC/USDT", D("1"), D("1"), 4, "t4")])
    assert store.load_lots("sim") == btc + eth
    store.save_lots("sim", "BTC/USDT", btc[1:])
    assert store.load_lots("sim") == btc[1:] + eth
    store.save_lots("sim", "BTC/USDT", [])
    assert store.load_lots("sim") == eth
    assert len(store.load_lots()) == 2


def test_a_lot_of_another_position_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        store.save_lots("sim", "BTC/USDT", [Lot("sim", "ETH/USDT", D("1"), D("1"), 1, "t")])


@pytest.mark.parametrize(
    "value",
    [{"a": [1, "2", None, True]}, "65000.12345678", 12345678901234567890, -0.5, "", [], "한국어 ✓", None, False],
)
def test_a_setting_round_trips_exactly(store: Store, value: object) -> None:
    store.set_setting("k", value)
    got = store.get_setting("k", "default")
    assert got == value and type(got) is type(value)


def test_a_missing_setting_gives_the_default_and_a_setting_can_be_replaced_or_deleted(store: Store) -> None:
    assert store.get_setting("missing") is None and store.get_setting("missing", 3) == 3
    store.set_setting("risk.state", {"state": "active"})
    store.set_setting("risk.state", {"state": "halted", "reason": "daily_loss"})
    assert store.get_setting("risk.state") == {"state": "halted", "reason": "daily_loss"}
    store.delete_setting("risk.state")
    assert store.get_setting("risk.state", "gone") == "gone"


@pytest.mark.parametrize("value", [Decimal("1.5"), float("nan"), {"x": object()}])
def test_a_setting_that_is_not_plain_json_is_refused(store: Store, value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        store.set_setting("k", value)
    assert store.get_setting("k") is None
