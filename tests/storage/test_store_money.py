"""Money is exact: any Decimal comes back identical, is stored as text on SQLite, never a float."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Float, Numeric
from sqlalchemy.exc import StatementError
from store_factories import order

from app.domain.execution import Balance
from app.storage import Store
from app.storage.models import MONEY_TABLES, Base
from app.storage.types import ExactDecimal

D = Decimal


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path_factory.mktemp('money').as_posix()}/money.sqlite3")
    yield s
    s.close()


def _decimal(sign: int, digits: str, exponent: int) -> Decimal:
    return Decimal((sign, tuple(int(c) for c in digits), exponent))


# Huge, tiny, many-digit and negative values, zeros with any exponent, and whatever hypothesis finds.
many_digit = st.builds(
    _decimal,
    st.integers(0, 1),
    st.text("0123456789", min_size=1, max_size=80),
    st.integers(-400, 400),
)
any_decimal = st.one_of(st.decimals(allow_nan=False, allow_infinity=False), many_digit)


@settings(max_examples=300, deadline=None)
@given(value=any_decimal)
@example(value=D("-0"))
@example(value=D("0E-28"))
@example(value=D("0.10"))
@example(value=D("1E+999999"))
@example(value=D("-1E-999999"))
@example(value=D("123456789012345678901234567890.123456789012345678901234567890"))
def test_any_decimal_round_trips_exactly(shared_store: Store, value: Decimal) -> None:
    o = order("money", price=value, filled_notional=value, trail_ref=value)
    shared_store.save_order(o)
    got = shared_store.get_order("money")
    assert got is not None
    for name in ("price", "filled_notional", "trail_ref"):
        stored = getattr(got, name)
        assert type(stored) is Decimal
        # Same value and same digits: the sign of zero and the exponent survive too.
        assert stored.as_tuple() == value.as_tuple(), name


def test_money_is_stored_as_exact_text_on_sqlite(db_url: str, tmp_path: Path) -> None:
    s = Store.open(db_url)
    s.save_order(order(price=D("0.10"), quantity=D("12345678901234567890.000000000000000001")))
    s.save_balances("sim", {"BTC": Balance("BTC", D("1E-30"), D("0"))})
    s.close()
    conn = sqlite3.connect(tmp_path / "store.sqlite3")
    try:
        row = conn.execute("SELECT price, typeof(price), quantity FROM orders").fetchone()
        assert row == ("0.10", "text", "12345678901234567890.000000000000000001")
        assert conn.execute("SELECT free, typeof(free) FROM balances").fetchone() == ("1E-30", "text")
    finally:
        conn.close()


def test_a_float_is_refused_where_money_is_stored(store: Store) -> None:
    with pytest.raises((TypeError, StatementError)):
        store.append_equity("sim", 1, 0.1)  # type: ignore[arg-type]
    with pytest.raises((TypeError, StatementError)):
        store.save_balances("sim", {"USDT": Balance("USDT", 1.5, D(0))})  # type: ignore[arg-type]
    assert store.load_equity("sim") == [] and store.load_balances("sim") == {}


def test_no_float_or_numeric_column_in_the_money_tables() -> None:
    for name in MONEY_TABLES:
        table = Base.metadata.tables[name]
        for col in table.columns:
            assert not isinstance(col.type, Float | Numeric), f"{name}.{col.name} is {col.type!r}"
            if col.type.python_type is Decimal:
                assert isinstance(col.type, ExactDecimal), f"{name}.{col.name}"


def test_money_columns_of_the_migrated_sqlite_schema_have_text_affinity(sqlite_store: Store) -> None:
    money_cols = 0
    for name in MONEY_TABLES:
        for col in Base.metadata.tables[name].columns:
            declared = sqlite_store.connection.exec_driver_sql(
                f"SELECT type FROM pragma_table_info('{name}') WHERE name = '{col.name}'"
            ).scalar()
            assert declared is not None, f"{name}.{col.name} missing"
            if isinstance(col.type, ExactDecimal):
                money_cols += 1
                assert declared.upper() == "TEXT", f"{name}.{col.name} is {declared}"
            assert not re.search("REAL|FLOA|DOUB", declared.upper()), f"{name}.{col.name} is {declared}"
    assert money_cols >= 20  # the loop saw the money columns


def test_no_column_could_hold_a_secret() -> None:
    secretive = re.compile(r"secret|passw|api_?key|token|passphrase|private|credential", re.IGNORECASE)
    for table in Base.metadata.tables.values():
        for col in table.columns:
            assert not secretive.search(col.name), f"{table.name}.{col.name}"
