"""Opening: the default file, SQLite settings, migrations on open, reopening, closing."""

from __future__ import annotations

import gc
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from store_factories import bar, fill, full_order

import app.storage.location as location
import app.storage.migrate as migrate
from app.domain.enums import OrderListKind
from app.domain.execution import Balance
from app.domain.order_list import OrderList
from app.domain.portfolio import Lot
from app.storage import SchemaTooNew, StorageError, Store, default_database_url
from app.storage.models import Base

D = Decimal


def pragma(store: Store, name: str) -> object:
    return store.connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_reopening_the_file_after_close_keeps_everything(db_url: str) -> None:
    s = Store.open(db_url)
    o = full_order()
    s.save_order(o)
    s.save_fill(fill(cid="c1"))
    ol = OrderList("L1", OrderListKind.OCO, "sim", "BTC/USDT", limit_id="a", stop_id="b", leg_ids=["a", "b"])
    s.save_order_list(ol)
    s.save_balances("sim", {"BTC": Balance("BTC", D("1.5"), D("0.25"))})
    lots = [Lot("sim", "BTC/USDT", D("0.1"), D("65000.5"), 1, "t1")]
    s.save_lots("sim", "BTC/USDT", lots)
    s.append_equity("sim", 1, D("100000.01"))
    s.upsert_bars([bar(0), bar(1, closed=False)])
    s.set_setting("ui.layout", {"docks": ["chart", "book"]})
    s.close()

    s = Store.open(db_url)
    try:
        got = s.get_order("c1")
        assert got is not None and got.trade_ids == {"t1"}
        assert all(getattr(got, f) == getattr(o, f) for f in o.__dataclass_fields__ if f != "trade_ids")
        assert [x.client_order_id for x in s.load_open_orders()] == ["c1"]
        assert s.load_fills() == [fill(cid="c1")]
        assert s.get_order_list("L1").leg_ids == ["a", "b"]  # type: ignore[union-attr]
        assert s.load_balances("sim") == {"BTC": Balance("BTC", D("1.5"), D("0.25"))}
        assert s.load_lots() == lots
        assert s.load_equity("sim") == [(1, D("100000.01"))]
        assert s.load_bars("sim", "BTC/USDT", "1m") == [bar(0), bar(1, closed=False)]
        assert s.get_setting("ui.layout") == {"docks": ["chart", "book"]}
    finally:
        s.close()


def test_wal_is_on_with_the_requested_sync_foreign_keys_and_busy_timeout(db_url: str, tmp_path: Path) -> None:
    s = Store.open(db_url)
    try:
        assert pragma(s, "journal_mode") == "wal"
        assert pragma(s, "synchronous") == 1  # NORMAL
        assert pragma(s, "foreign_keys") == 1
        assert pragma(s, "busy_timeout") == 5000
    finally:
        s.close()
    conn = sqlite3.connect(tmp_path / "store.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file
    finally:
        conn.close()
    s = Store.open(db_url, synchronous="full")
    try:
        assert pragma(s, "synchronous") == 2  # FULL
    finally:
        s.close()


def test_an_unknown_synchronous_mode_is_refused(db_url: str) -> None:
    with pytest.raises(ValueError):
        Store.open(db_url, synchronous="OFF")


def test_closing_checkpoints_the_wal_and_stops_the_checkpointer(db_url: str, tmp_path: Path) -> None:
    before = set(threading.enumerate())
    s = Store.open(db_url)
    s.save_order(full_order())
    mine = [t for t in threading.enumerate() if t not in before and t.name == "sqlite-wal-checkpoint"]
    assert len(mine) == 1
    s.close()
    s.close()  # twice is harmless
    assert not mine[0].is_alive()
    assert not (tmp_path / "store.sqlite3-wal").exists()  # one self-contained file again


def test_a_store_dropped_without_close_stops_its_checkpointer(db_url: str) -> None:
    before = set(threading.enumerate())
    s = Store.open(db_url)
    mine = [t for t in threading.enumerate() if t not in before and t.name == "sqlite-wal-checkpoint"]
    del s
    gc.collect()
    mine[0].join(timeout=5)
    assert not mine[0].is_alive()


def test_the_default_database_is_a_file_in_the_data_folder_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "nested" / "data"
    monkeypatch.setenv("AUTOGROWTH_DATA_DIR", str(folder))
    url = default_database_url()
    assert url == f"sqlite:///{(folder / 'autogrowth.sqlite3').resolve().as_posix()}"
    assert folder.is_dir()
    s = Store.open()
    s.save_order(full_order())
    s.close()
    assert (folder / "autogrowth.sqlite3").is_file()


def test_without_the_environment_the_users_data_folder_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[object, ...]] = []

    def user_data_dir(*args: object, **kw: object) -> str:
        asked.append(args)
        return str(tmp_path / "platform")

    monkeypatch.delenv("AUTOGROWTH_DATA_DIR", raising=False)
    monkeypatch.setattr(location.platformdirs, "user_data_dir", user_data_dir)
    assert location.default_data_dir() == tmp_path / "platform"
    assert (tmp_path / "platform").is_dir() and asked == [("AutoGrowthTrader",)]


def test_a_file_in_a_missing_folder_is_created(tmp_path: Path) -> None:
    s = Store.open(f"sqlite:///{tmp_path.as_posix()}/a/b/c.sqlite3")
    s.close()
    assert (tmp_path / "a" / "b" / "c.sqlite3").is_file()


def test_an_in_memory_database_is_migrated_on_the_live_connection() -> None:
    s = Store.open("sqlite://")
    try:
        s.save_order(full_order())
        assert s.get_order("c1") is not None
        assert migrate.current_revision(s.connection) == migrate.head_revision()
    finally:
        s.close()


def test_the_migrated_schema_matches_the_models(migrated_store: Store) -> None:
    assert compare_metadata(MigrationContext.configure(migrated_store.connection), Base.metadata) == []
    assert migrate.current_revision(migrated_store.connection) == migrate.head_revision()


def test_the_migrated_sqlite_schema_is_the_ddl_of_the_models(db_url: str, tmp_path: Path) -> None:
    """Stricter than compare_metadata: names, NOT NULL, WITHOUT ROWID, index columns."""
    engine = create_engine(f"sqlite:///{tmp_path.as_posix()}/models.sqlite3")
    Base.metadata.create_all(engine)
    query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
    with engine.connect() as conn:
        from_models = set(conn.execute(text(query)).all())
    engine.dispose()
    migrated_store = Store.open(db_url, fresh_from_models=False)
    try:
        migrated = set(migrated_store.connection.execute(text(query)).all())
    finally:
        migrated_store.close()
    assert migrated == from_models
    fresh = Store.open(f"sqlite:///{tmp_path.as_posix()}/fresh.sqlite3")  # the fast path for new databases
    try:
        assert set(fresh.connection.execute(text(query)).all()) == from_models
        assert migrate.current_revision(fresh.connection) == migrate.head_revision()
    finally:
        fresh.close()


def test_a_failed_migration_leaves_the_database_untouched(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = migrate.command.upgrade

    def upgrade_then_fail(*args: object, **kw: object) -> None:
        real(*args, **kw)  # type: ignore[arg-type]
        raise OSError("power cut")

    monkeypatch.setattr(migrate.command, "upgrade", upgrade_then_fail)
    with pytest.raises(OSError):
        Store.open(db_url, fresh_from_models=False)
    conn = sqlite3.connect(tmp_path / "store.sqlite3")
    try:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    finally:
        conn.close()
    monkeypatch.setattr(migrate.command, "upgrade", real)
    Store.open(db_url).close()  # the next start migrates cleanly


def test_a_database_from_a_newer_app_is_refused(db_url: str) -> None:
    s = Store.open(db_url)
    s.connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    s.close()
    with pytest.raises(SchemaTooNew) as err:
        Store.open(db_url)
    assert err.value.key == "error.storage_schema_too_new" and "9999" in err.value.message


def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(StorageError):
        Store.open("mysql://u@localhost/db")
