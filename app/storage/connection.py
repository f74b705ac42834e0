"""Opening the database: SQLite tuned for one writer (WAL, synchronous, busy timeout) or
PostgreSQL by URL. Connections run in driver autocommit: the store itself says BEGIN/COMMIT."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url

from .errors import StorageError

log = logging.getLogger(__name__)

SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_MS = 5_000
# The background checkpointer keeps the WAL short; the writer itself only checkpoints if it falls
# far behind (20,000 pages of 4 KiB), and a reset WAL file is cut back to 64 MiB.
AUTOCHECKPOINT_PAGES = 20_000
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
CHECKPOINT_EVERY_S = 1.0


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    db = url.database or ""
    if url.get_backend_name() != "sqlite" or db in ("", ":memory:") or db.startswith("file:"):
        return None
    return Path(db)


def create_store_engine(url: str, synchronous: str = "NORMAL") -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, synchronous)
    if backend == "postgresql":
        try:
            return create_engine(parsed, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise StorageError(
                detail=f"the PostgreSQL driver is missing ({exc.name}); install the 'postgres' extra"
            ) from exc
    raise StorageError(detail=f"unsupported database {backend!r} (use sqlite or postgresql+psycopg)")


def _sqlite_engine(url: URL, synchronous: str) -> Engine:
    sync = synchronous.upper()
    if sync not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, not {synchronous!r}")
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    @event.listens_for(engine, "connect")
    def _tune(dbapi_conn: Any, _record: Any) -> None:
        mode = dbapi_conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if path is not None and mode != "wal":
            log.warning("SQLite refused WAL for %s (journal mode %s): slower, readers block the writer", path, mode)
        dbapi_conn.execute(f"PRAGMA synchronous={sync}")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        dbapi_conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")

    return engine


class WalCheckpointer(threading.Thread):
    """Copies the WAL back into the database file from its own connection, once a second, so
    the writer's commits never stop for a checkpoint (one costs milliseconds: it syncs)."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="sqlite-wal-checkpoint", daemon=True)
        self.path = path
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            log.exception("WAL checkpointer could not open %s", self.path)
            return
        try:
            while not self._halt.wait(CHECKPOINT_EVERY_S):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or a transient I/O error: try again later
                    log.debug("WAL checkpoint skipped: %s", exc)
        finally:
            conn.close()

    def signal_stop(self) -> None:
        self._halt.set()

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=5)
