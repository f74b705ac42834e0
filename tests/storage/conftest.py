"""The ``store`` fixture runs a test on SQLite (a real file) and, when AUTOGROWTH_TEST_PG_URL is
set (CI starts a server), on PostgreSQL too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage import Store

PG_URL = os.environ.get("AUTOGROWTH_TEST_PG_URL", "")


def fresh_postgres(*, fresh_from_models: bool = True) -> Store:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc.__class__.__name__}")
    return Store.open(PG_URL, fresh_from_models=fresh_from_models)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path.as_posix()}/store.sqlite3"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set AUTOGROWTH_TEST_PG_URL to run the storage tests on PostgreSQL")
        s = fresh_postgres()
    else:
        s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    """A new database built through every migration (a new database normally comes from the models)."""
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set AUTOGROWTH_TEST_PG_URL to run the storage tests on PostgreSQL")
        s = fresh_postgres(fresh_from_models=False)
    else:
        s = Store.open(db_url, fresh_from_models=False)
    yield s
    s.close()
