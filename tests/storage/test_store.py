"""The store: exact decimals, upserts, dedupe, atomic transactions, migrations, reopening."""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Float, Numeric

from app.domain.enums import LiquiditySide, OrderListKind, OrderStatus, OrderType, Side, TrailingMode
from app.domain.execution import Balance
from app.domain.market import Bar
from app.domain.order import Fill, Order
from app.domain.order_list import OrderList
from app.domain.portfolio import Lot
from app.storage import Store
from app.storage.models import Base

D = Decimal


PG_URL = os.environ.get("AUTOGROWTH_TEST_PG_URL", "")


def _fresh_postgres() -> Store:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc.__class__.__name__}")
    return Store.open(PG_URL)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The same behaviour on both databases (PostgreSQL when AUTOGROWTH_TEST_PG_URL is set)."""
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set AUTOGROWTH_TEST_PG_URL to run the storage tests on PostgreSQL")
        s = _fresh_postgres()
    else:
        s = Store.open(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    yield s
    s.close()


def order(cid="c1", **kw) -> Order:
    base = dict(client_order_id=cid, venue="sim", symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT,
                quantity=D("0.12345678"), price=D("65000.01"))
    base.update(kw)
    return Order(**base)


def fill(tid="t1", cid="c1", qty="0.1") -> Fill:
    return Fill(tid, cid, "v1", "sim", "BTC/USDT", Side.BUY, D(qty), D("65000.01"), D("0.0000001"), "BNB",
                LiquiditySide.MAKER, 1_700_000_000_000)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    s = Store.open(f"sqlite:///{tmp_path_factory.mktemp('d') / 'x.sqlite3'}")
    yield s
    s.close()


@settings(max_examples=200, deadline=None)
@given(value=st.decimals(allow_nan=False, allow_infinity=False))
def test_any_decimal_round_trips_exactly(shared_store, value):
    shared_store.save_order(order(price=value))
    got = shared_store.get_order("c1").price
    assert got == value and str(got) == str(value)


def test_every_order_field_survives_a_round_trip(store):
    o = order(stop_price=D("64000"), trail_mode=TrailingMode.PERCENT, trail_value=D("0.5"), list_id="L1", tag="x",
              status=OrderStatus.PARTIALLY_FILLED, venue_order_id="99", filled_qty=D("0.1"),
              filled_notional=D("6500.001"), fee=D("0.0001"), fee_asset="BNB", created_ms=5, updated_ms=6,
              triggered=True, trail_ref=D("66000.5"), reason="why", post_only=True, reduce_only=True)
    store.save_order(o)
    got = store.get_order("c1")
    for name in Order.__dataclass_fields__:
        assert getattr(got, name) == getattr(o, name), name


def test_open_orders_exclude_final_ones(store):
    store.save_order(order("a"))
    store.save_order(order("b", status=OrderStatus.FILLED))
    store.save_order(order("c", status=OrderStatus.PENDING_CANCEL))
    assert {o.client_order_id for o in store.load_open_orders()} == {"a", "c"}


def test_fill_with_same_trade_id_is_stored_once_and_restores_trade_ids(store):
    store.save_order(order())
    assert store.save_fill(fill()) is True
    assert store.save_fill(fill()) is False
    assert len(store.load_fills()) == 1
    assert store.get_order("c1").trade_ids == {"t1"}
    assert store.load_open_orders()[0].trade_ids == {"t1"}
    assert store.last_fill_ms("sim") == 1_700_000_000_000


def test_a_failed_transaction_leaves_no_half_written_rows(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.save_order(order())
        with store.transaction():
            store.save_fill(fill())
        raise RuntimeError("crash in the middle")
    assert store.get_order("c1") is None and store.load_fills() == []
    with store.transaction():
        store.save_order(order())
        store.save_fill(fill())
    assert store.get_order("c1") is not None and len(store.load_fills()) == 1


def test_order_lists_balances_lots_equity_and_settings_round_trip(store):
    ol = OrderList("L1", OrderListKind.BRACKET, "sim", "BTC/USDT", entry_id="e", take_profit=D("70000"),
                   stop_loss=D("60000"), leg_ids=["e"])
    store.save_order_list(ol)
    assert store.get_order_list("L1").take_profit == D("70000")
    assert [x.list_id for x in store.load_active_order_lists()] == ["L1"]
    store.save_balances("sim", {"BTC": Balance("BTC", D("1.00000001"), D("0.5"))})
    assert store.load_balances("sim")["BTC"].total == D("1.50000001")
    lots = [Lot("sim", "BTC/USDT", D("0.1"), D("65000.123"), 1, "t1"), Lot("sim", "BTC/USDT", D("0.2"), D("1"), 2, "t2")]
    store.save_lots("sim", "BTC/USDT", lots)
    assert store.load_lots("sim") == lots
    store.append_equity("sim", 10, D("100000.5"))
    assert store.load_equity("sim") == [(10, D("100000.5"))]
    store.set_setting("k", {"a": [1, "2"]})
    assert store.get_setting("k") == {"a": [1, "2"]}
    assert store.get_setting("missing", 3) == 3


def test_candles_are_unique_and_an_upsert_replaces_the_bar(store):
    bars = [Bar("sim", "BTC/USDT", "1m", i * 60_000, D("1"), D("2"), D("0.5"), D("1.5"), D("10")) for i in range(100)]
    store.upsert_bars(bars)
    store.upsert_bars([Bar("sim", "BTC/USDT", "1m", 0, D("1"), D("3"), D("0.5"), D("2.5"), D("11"))])
    loaded = store.load_bars("sim", "BTC/USDT", "1m")
    assert len(loaded) == 100 and loaded[0].high == D("3")
    last = store.load_bars("sim", "BTC/USDT", "1m", limit=10)
    assert [b.open_ms for b in last] == [i * 60_000 for i in range(90, 100)]


def test_reopening_the_file_keeps_everything_and_uses_wal(tmp_path):
    path = tmp_path / "x.sqlite3"
    s = Store.open(f"sqlite:///{path}")
    s.save_order(order())
    s.close()
    s2 = Store.open(f"sqlite:///{path}")
    assert s2.get_order("c1").price == D("65000.01")
    s2.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_money_is_stored_as_exact_text_never_as_float(tmp_path):
    path = tmp_path / "x.sqlite3"
    s = Store.open(f"sqlite:///{path}")
    s.save_order(order(price=D("0.1")))
    s.close()
    raw = sqlite3.connect(path).execute("SELECT price, typeof(price) FROM orders").fetchone()
    assert raw == ("0.1", "text")
    for table in Base.metadata.tables.values():
        for col in table.columns:
            assert not isinstance(col.type, Float | Numeric), f"{table.name}.{col.name}"


def test_the_migrated_schema_matches_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    s = Store.open(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with s.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    s.close()
    assert diff == []
