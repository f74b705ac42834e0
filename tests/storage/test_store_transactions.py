"""Transactions: autocommit per call outside; nested blocks join the outermost, which commits at
its end or rolls everything back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from store_factories import fill, order

from app.domain.enums import OrderStatus
from app.storage import Store, TransactionAborted


@pytest.fixture
def peer(store: Store) -> Iterator[Connection]:
    """A second connection to the same database, as another process would see it."""
    conn = store.engine.connect()
    yield conn
    conn.close()


def count(conn: Connection, table: str) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_call_outside_a_transaction_commits_at_once(store: Store, peer: Connection) -> None:
    store.save_order(order())
    store.save_fill(fill())
    assert (count(peer, "orders"), count(peer, "fills")) == (1, 1)


def test_a_transaction_commits_when_its_block_ends(store: Store, peer: Connection) -> None:
    with store.transaction():
        store.save_order(order())
        store.save_fill(fill())
        assert store.get_order("c1") is not None  # the writer sees its own writes
        assert (count(peer, "orders"), count(peer, "fills")) == (0, 0)
    assert (count(peer, "orders"), count(peer, "fills")) == (1, 1)


def test_transaction_rollback_leaves_no_half_written_rows(store: Store, peer: Connection) -> None:
    o = order()
    store.save_order(o)
    with pytest.raises(RuntimeError), store.transaction():
        assert store.save_fill(fill())
        o.status = OrderStatus.FILLED
        store.save_order(o)
        store.save_lots("sim", "BTC/USDT", [])
        raise RuntimeError("crash between the fill and the rest")
    got = store.get_order("c1")
    assert got is not None and got.status is OrderStatus.PENDING_NEW and got.trade_ids == set()
    assert store.load_fills() == [] and count(peer, "fills") == 0
    # Nothing is left pending: the next call commits on its own.
    assert store.save_fill(fill()) is True
    assert count(peer, "fills") == 1


def test_nested_transactions_join_the_outermost(store: Store, peer: Connection) -> None:
    with store.transaction():
        with store.transaction():
            store.save_order(order("a"))
        assert count(peer, "orders") == 0  # the inner block did not commit
        with store.transaction(), store.transaction():
            store.save_order(order("b"))
        assert store.in_transaction
    assert not store.in_transaction
    assert count(peer, "orders") == 2


def test_an_exception_in_a_nested_block_rolls_back_the_outermost(store: Store) -> None:
    with pytest.raises(KeyError), store.transaction():
        store.save_order(order("a"))
        with store.transaction():
            store.save_order(order("b"))
            raise KeyError("inner")
    assert store.load_orders() == []


def test_an_inner_failure_swallowed_by_the_caller_still_aborts_everything(store: Store) -> None:
    with pytest.raises(TransactionAborted), store.transaction():
        store.save_order(order("a"))
        try:
            with store.transaction():
                store.save_order(order("b"))
                raise ValueError("half-way")
        except ValueError:
            pass
        store.save_order(order("c"))
    assert store.load_orders() == []
    with store.transaction():  # and the next transaction starts clean
        store.save_order(order("d"))
    assert [o.client_order_id for o in store.load_orders()] == ["d"]


def test_returning_from_inside_a_transaction_commits_it(store: Store) -> None:
    def apply() -> bool:
        with store.transaction():
            if not store.save_fill(fill()):
                return False
            store.save_order(order())
            return True

    assert apply() is True and apply() is False
    assert store.get_order("c1") is not None and len(store.load_fills()) == 1


def test_a_database_error_inside_a_transaction_rolls_it_back(store: Store) -> None:
    with pytest.raises(IntegrityError), store.transaction():
        store.save_order(order("a"))
        store.connection.exec_driver_sql("INSERT INTO settings (key, value) VALUES ('k', '1')")
        store.connection.exec_driver_sql("INSERT INTO settings (key, value) VALUES ('k', '2')")
    assert store.load_orders() == [] and store.get_setting("k") is None
