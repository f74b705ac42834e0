"""Upgrades: a database written by the first released schema opens with the newest app, its rows
intact, and the newer rules (fills keyed by venue, symbol and trade id) apply to it."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from store_factories import fill, full_order

from app.storage import Store
from app.storage.migrate import alembic_config, current_revision, head_revision

PG_URL = os.environ.get("AUTOGROWTH_TEST_PG_URL", "")


def first_schema_database(url: str) -> None:
    """A database as the first release left it: schema 0001 and a few rows written by its SQL."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO fills (venue, trade_id, client_order_id, venue_order_id, symbol, side, quantity, price, fee,"
                " fee_asset, liquidity, ts_ms) VALUES ('binance', '12345', 'c1', 'v1', 'BTC/USDT', 'buy', '0.5',"
                " '65000.01', '0.00050', 'BNB', 'maker', 1700000000000)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO order_lists (list_id, kind, venue, symbol, status, created_ms, note, leg_ids)"
                " VALUES ('L1', 'oco', 'binance', 'BTC/USDT', 'active', 1, '', '[\"a\", \"b\"]')"
            )
        )
        conn.execute(text("INSERT INTO settings (key, value) VALUES ('ui.theme', '\"light\"')"))
        conn.execute(
            text(
                "INSERT INTO lots (venue, symbol, seq, quantity, price, ts_ms, trade_id)"
                " VALUES ('binance', 'BTC/USDT', 0, '0.5', '65000.01', 1, '12345')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO candles (venue, symbol, timeframe, open_ms, open, high, low, close, volume)"
                " VALUES ('binance', 'BTC/USDT', '1m', 60000, '1', '2', '0.5', '1.5', '10')"
            )
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set AUTOGROWTH_TEST_PG_URL to run the storage tests on PostgreSQL")
        return PG_URL
    return f"sqlite:///{tmp_path.as_posix()}/old.sqlite3"


def test_a_first_schema_database_upgrades_with_its_rows_and_takes_fills_of_other_symbols(old_url: str) -> None:
    try:
        first_schema_database(old_url)
    except Exception as exc:  # pragma: no cover - a server that is not there
        if old_url.startswith("postgresql"):
            pytest.skip(f"PostgreSQL not reachable: {exc.__class__.__name__}")
        raise
    store = Store.open(old_url)
    try:
        assert current_revision(store.connection) == head_revision()
        [old] = store.load_fills(venue="binance")
        assert (old.trade_id, old.symbol, old.quantity, old.fee) == (
            "12345",
            "BTC/USDT",
            Decimal("0.5"),
            Decimal("0.00050"),
        )
        # The same trade number on another symbol is another trade (Binance numbers per symbol).
        assert store.save_fill(fill("12345", "c2", symbol="ETH/USDT", venue="binance"))
        assert not store.save_fill(fill("12345", "c3", symbol="ETH/USDT", venue="binance"))
        assert len(store.load_fills(venue="binance")) == 2
        ol = store.get_order_list("L1")
        assert ol is not None and ol.leg_ids == ["a", "b"]
        assert store.get_setting("ui.theme") == "light"
        assert store.load_lots("binance") == []  # derived from the fills: written again at the next start
        [bar] = store.load_bars("binance", "BTC/USDT", "1m")
        assert bar.closed and bar.close == Decimal("1.5")
        store.save_order(full_order("c9"))  # and the upgraded tables take new rows
        assert store.get_order("c9") is not None
    finally:
        store.close()
