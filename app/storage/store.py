"""The store: one long-lived connection, pre-built SQLAlchemy Core statements on the hot paths.

Transactions: a call outside ``transaction()`` commits at once (the driver runs in autocommit).
``with store.transaction():`` starts one transaction; nested blocks join it, and the outermost
commits at its end or rolls everything back on an exception, so a fill and its order update are
written together or not at all. Not thread-safe: one writer, the engine's thread.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from app.domain.audit import AuditEntry
from app.domain.enums import OrderListStatus
from app.domain.execution import Balance
from app.domain.market import Bar
from app.domain.order import Fill, Order
from app.domain.order_list import OrderList
from app.domain.portfolio import CostBasis, Lot

from . import migrate
from .connection import WalCheckpointer, create_store_engine, sqlite_file
from .errors import TransactionAborted
from .location import default_database_url
from .models import (
    AuditRow,
    BalanceRow,
    Base,
    CandleRow,
    CostBasisRow,
    EquityRow,
    FillRow,
    LotRow,
    OrderListRow,
    OrderRow,
    SettingRow,
)
from .rows import (
    audit_from_row,
    audit_params,
    balance_from_row,
    balance_params,
    bar_from_row,
    bar_params,
    cost_basis_from_row,
    cost_basis_params,
    fill_from_row,
    fill_params,
    lot_from_row,
    lot_params,
    order_from_row,
    order_list_from_row,
    order_list_params,
    order_params,
)
from .types import dumps_json
from .writer import Statement, Writer

log = logging.getLogger(__name__)


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


orders = _table(OrderRow)
fills = _table(FillRow)
order_lists = _table(OrderListRow)
balances = _table(BalanceRow)
lots = _table(LotRow)
equity = _table(EquityRow)
candles = _table(CandleRow)
settings = _table(SettingRow)
cost_basis = _table(CostBasisRow)
audit = _table(AuditRow)

# An order never changes these; leaving them out of the upsert's UPDATE spares rewriting the
# indexes on venue and created_ms at every status change.
ORDER_IDENTITY = ("venue", "symbol", "side", "type", "created_ms")
# What an acknowledgement, a cancel or a trigger changes: written alone, a third of a full save.
ORDER_STATE = ("status", "is_open", "venue_order_id", "updated_ms", "reason", "triggered", "emulation")
BULK_CHUNK = 5_000
IN_CHUNK = 900  # ids per IN (...) list, well under every database's parameter limit


class Store:
    """Orders, fills, order lists, balances, lots, equity, candles and settings in one database."""

    url: str  # the database URL, any password masked

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._conn = connection
        self._depth = 0
        self._inner_failure: BaseException | None = None
        self._checkpointer: WalCheckpointer | None = None
        self._closed = False
        is_sqlite = engine.dialect.name == "sqlite"
        # BEGIN IMMEDIATE takes SQLite's write lock at once: no lock upgrade can fail half-way.
        self._begin_sql = "BEGIN IMMEDIATE" if is_sqlite else "BEGIN"
        insert = sqlite.insert if is_sqlite else postgresql.insert
        w = self._writer = Writer(connection)

        def upsert(table: Table, keys: Sequence[str], keep: Sequence[str] = ()) -> Statement:
            stmt = insert(table)
            changed = {
                c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys and c.name not in keep
            }
            return w.prepare(stmt.on_conflict_do_update(index_elements=list(keys), set_=changed), table.columns.keys())

        self._upsert_order = upsert(orders, ["client_order_id"], ORDER_IDENTITY)
        self._update_order_state = w.prepare(
            update(orders).where(orders.c.client_order_id == bindparam("order_key")), [*ORDER_STATE, "order_key"]
        )
        self._upsert_order_list = upsert(order_lists, ["list_id"])
        self._upsert_candle = upsert(candles, ["venue", "symbol", "timeframe", "open_ms"])
        self._upsert_equity = upsert(equity, ["venue", "ts_ms"])
        self._upsert_setting = upsert(settings, ["key"])
        # RETURNING says for certain whether the row is new, on both databases.
        fill_keys = [c.name for c in fills.columns if c.name != "id"]
        self._insert_fill = w.prepare(
            insert(fills).on_conflict_do_nothing(index_elements=["venue", "symbol", "trade_id"]).returning(fills.c.id),
            fill_keys,
        )
        self._insert_balance = w.prepare(insert(balances), balances.columns.keys())
        self._delete_balances = w.prepare(delete(balances).where(balances.c.venue == bindparam("venue")), ["venue"])
        self._insert_lot = w.prepare(insert(lots), lots.columns.keys())
        self._delete_lots = w.prepare(
            delete(lots).where(lots.c.venue == bindparam("venue"), lots.c.symbol == bindparam("symbol")),
            ["venue", "symbol"],
        )
        self._delete_setting = w.prepare(delete(settings).where(settings.c.key == bindparam("key")), ["key"])
        self._upsert_cost_basis = upsert(cost_basis, ["venue", "asset", "ts_ms"])
        audit_keys = [c.name for c in audit.columns if c.name != "seq"]
        self._insert_audit = w.prepare(insert(audit), audit_keys)

    # -- opening and closing ------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None, *, synchronous: str = "NORMAL", fresh_from_models: bool = True) -> Store:
        """Open (creating it if needed) the database at ``url`` — by default a SQLite file in the
        user's data folder — and migrate its schema to the newest revision.

        ``fresh_from_models=False`` builds a new database through every migration (tests).
        ``synchronous`` (SQLite): ``NORMAL`` survives an app crash without losing a commit;
        ``FULL`` also survives a power cut, at the cost of a disk sync per commit."""
        engine = create_store_engine(url or default_database_url(), synchronous)
        try:
            store = cls(engine, engine.connect())
        except BaseException:
            engine.dispose()
            raise
        try:
            with store.transaction():
                migrate.upgrade(store._conn, store.url, fresh_from_models=fresh_from_models)
        except BaseException:
            store.close()
            raise
        path = sqlite_file(engine.url)
        if path is not None:
            store._checkpointer = WalCheckpointer(path)
            store._checkpointer.start()
            # A store dropped without close() still stops its thread.
            weakref.finalize(store, store._checkpointer.signal_stop)
        return store

    @property
    def connection(self) -> Connection:
        """The store's connection (maintenance and tests; the store owns its transactions)."""
        return self._conn

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._depth:
            log.warning("store closed inside a transaction: rolling it back")
            self._depth = 0
            self._rollback()
        self._conn.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            except BaseException as exc:
                # Joined: the outermost block decides, and it must not commit half of this one.
                if self._inner_failure is None:
                    self._inner_failure = exc
                raise
            finally:
                self._depth -= 1
            return
        self._writer.execute_sql(self._begin_sql)
        self._depth = 1
        self._inner_failure = None
        try:
            yield
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        failure, self._inner_failure = self._inner_failure, None
        if failure is not None:
            self._rollback()
            raise TransactionAborted(detail=f"{type(failure).__name__}: {failure}") from failure
        try:
            self._writer.execute_sql("COMMIT")
        except BaseException:
            self._rollback()
            raise

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _rollback(self) -> None:
        try:
            self._writer.execute_sql("ROLLBACK")
        except DBAPIError as exc:  # the database ended it already (SQLite does on some I/O errors)
            log.debug("rollback: %s", exc)

    # -- orders -----------------------------------------------------------------------------------
    def save_order(self, order: Order) -> None:
        """Insert or update the order by its client order id (every field but its identity:
        venue, symbol, side, type and created_ms are written once)."""
        self._writer.execute(self._upsert_order, order_params(order))

    def save_order_state(self, order: Order) -> None:
        """Write what a status change changes (the order must be stored; if not, it is saved whole)."""
        params = {
            "status": order.status.value,
            "is_open": not order.status.is_final,
            "venue_order_id": order.venue_order_id,
            "updated_ms": order.updated_ms,
            "reason": order.reason,
            "triggered": order.triggered,
            "emulation": order.emulation.value,
            "order_key": order.client_order_id,
        }
        if not self._writer.execute(self._update_order_state, params):
            self.save_order(order)

    def get_order(self, client_order_id: str) -> Order | None:
        row = self._conn.execute(select(orders).where(orders.c.client_order_id == client_order_id)).first()
        if row is None:
            return None
        order = order_from_row(row)
        order.trade_ids.update(
            self._conn.execute(select(fills.c.trade_id).where(fills.c.client_order_id == client_order_id)).scalars()
        )
        return order

    def find_order_by_venue_id(self, venue: str, venue_order_id: str) -> Order | None:
        cid = self._conn.execute(
            select(orders.c.client_order_id).where(orders.c.venue == venue, orders.c.venue_order_id == venue_order_id)
        ).scalar()
        return None if cid is None else self.get_order(cid)

    def load_open_orders(self, venue: str | None = None) -> list[Order]:
        """Orders not in a final status, oldest first, with their trade ids."""
        cond: list[ColumnElement[bool]] = [orders.c.is_open.is_(True)]
        if venue is not None:
            cond.append(orders.c.venue == venue)
        rows = self._conn.execute(
            select(orders).where(*cond).order_by(orders.c.created_ms, orders.c.client_order_id)
        ).all()
        result = [order_from_row(r) for r in rows]
        if result:
            by_id = {o.client_order_id: o for o in result}
            open_ids = select(orders.c.client_order_id).where(*cond)
            trades = select(fills.c.client_order_id, fills.c.trade_id).where(fills.c.client_order_id.in_(open_ids))
            for cid, tid in self._conn.execute(trades):
                if cid in by_id:
                    by_id[cid].trade_ids.add(tid)
        return result

    def load_orders(self, venue: str | None = None, symbol: str | None = None, limit: int = 500) -> list[Order]:
        """The newest ``limit`` orders (by creation time), newest first, with their trade ids."""
        stmt = select(orders)
        if venue is not None:
            stmt = stmt.where(orders.c.venue == venue)
        if symbol is not None:
            stmt = stmt.where(orders.c.symbol == symbol)
        stmt = stmt.order_by(orders.c.created_ms.desc(), orders.c.client_order_id.desc()).limit(limit)
        result = [order_from_row(r) for r in self._conn.execute(stmt).all()]
        self._restore_trade_ids(result)
        return result

    def _restore_trade_ids(self, loaded: list[Order]) -> None:
        by_id = {o.client_order_id: o for o in loaded}
        ids = list(by_id)
        for i in range(0, len(ids), IN_CHUNK):
            stmt = select(fills.c.client_order_id, fills.c.trade_id).where(
                fills.c.client_order_id.in_(ids[i : i + IN_CHUNK])
            )
            for cid, tid in self._conn.execute(stmt):
                by_id[cid].trade_ids.add(tid)

    # -- fills ------------------------------------------------------------------------------------
    def save_fill(self, fill: Fill) -> bool:
        """Store a fill; False (and nothing written) when this trade of this venue and symbol is
        stored already."""
        return self._writer.execute_returning(self._insert_fill, fill_params(fill))

    def load_fills(
        self,
        venue: str | None = None,
        symbol: str | None = None,
        client_order_id: str | None = None,
        since_ms: int | None = None,
    ) -> list[Fill]:
        """Fills oldest first (by time, then arrival); ``since_ms`` is inclusive."""
        stmt = select(fills)
        if venue is not None:
            stmt = stmt.where(fills.c.venue == venue)
        if symbol is not None:
            stmt = stmt.where(fills.c.symbol == symbol)
        if client_order_id is not None:
            stmt = stmt.where(fills.c.client_order_id == client_order_id)
        if since_ms is not None:
            stmt = stmt.where(fills.c.ts_ms >= since_ms)
        return [fill_from_row(r) for r in self._conn.execute(stmt.order_by(fills.c.ts_ms, fills.c.id)).all()]

    def last_fill_ms(self, venue: str) -> int | None:
        return self._conn.execute(select(func.max(fills.c.ts_ms)).where(fills.c.venue == venue)).scalar()

    # -- order lists ------------------------------------------------------------------------------
    def save_order_list(self, ol: OrderList) -> None:
        self._writer.execute(self._upsert_order_list, order_list_params(ol))

    def get_order_list(self, list_id: str) -> OrderList | None:
        row = self._conn.execute(select(order_lists).where(order_lists.c.list_id == list_id)).first()
        return None if row is None else order_list_from_row(row)

    def load_active_order_lists(self, venue: str | None = None) -> list[OrderList]:
        """Lists not done yet: active, or being cancelled when the app stopped."""
        live = [s.value for s in OrderListStatus if s.is_live]
        stmt = select(order_lists).where(order_lists.c.status.in_(live))
        if venue is not None:
            stmt = stmt.where(order_lists.c.venue == venue)
        stmt = stmt.order_by(order_lists.c.created_ms, order_lists.c.list_id)
        return [order_list_from_row(r) for r in self._conn.execute(stmt).all()]

    # -- balances, lots, equity -------------------------------------------------------------------
    def save_balances(self, venue: str, balances_by_asset: dict[str, Balance]) -> None:
        """Replace the venue's balance snapshot."""
        rows = [balance_params(venue, b) for b in balances_by_asset.values()]
        with self.transaction():
            self._writer.execute(self._delete_balances, {"venue": venue})
            self._writer.executemany(self._insert_balance, rows)

    def load_balances(self, venue: str) -> dict[str, Balance]:
        rows = self._conn.execute(select(balances).where(balances.c.venue == venue).order_by(balances.c.asset))
        return {r.asset: balance_from_row(r) for r in rows}

    def save_lots(self, venue: str, symbol: str, position_lots: list[Lot]) -> None:
        """Replace the open lots of one position (oldest first); an empty list closes it."""
        for lot in position_lots:
            if lot.venue != venue or lot.symbol != symbol:
                raise ValueError(f"lot {lot.trade_id} of {lot.venue} {lot.symbol} saved as {venue} {symbol}")
        rows = [lot_params(venue, symbol, seq, lot) for seq, lot in enumerate(position_lots)]
        with self.transaction():
            self._writer.execute(self._delete_lots, {"venue": venue, "symbol": symbol})
            self._writer.executemany(self._insert_lot, rows)

    def load_lots(self, venue: str | None = None) -> list[Lot]:
        stmt = select(lots)
        if venue is not None:
            stmt = stmt.where(lots.c.venue == venue)
        stmt = stmt.order_by(lots.c.venue, lots.c.symbol, lots.c.seq)
        return [lot_from_row(r) for r in self._conn.execute(stmt).all()]

    def append_equity(self, venue: str, ts_ms: int, value: Decimal) -> None:
        """Add a point to the equity curve (a second point at the same time replaces the first)."""
        self._writer.execute(self._upsert_equity, {"venue": venue, "ts_ms": ts_ms, "equity": value})

    def load_equity(self, venue: str, since_ms: int | None = None) -> list[tuple[int, Decimal]]:
        stmt = select(equity.c.ts_ms, equity.c.equity).where(equity.c.venue == venue)
        if since_ms is not None:
            stmt = stmt.where(equity.c.ts_ms >= since_ms)
        return [(r[0], r[1]) for r in self._conn.execute(stmt.order_by(equity.c.ts_ms)).all()]

    # -- candles ----------------------------------------------------------------------------------
    def upsert_bars(self, bars: Iterable[Bar]) -> int:
        """Insert bars, replacing stored ones with the same venue, symbol, timeframe and open
        time; all or nothing. Returns how many bars were written."""
        count = 0
        it = iter(bars)
        with self.transaction():
            while chunk := [bar_params(b) for b in islice(it, BULK_CHUNK)]:
                self._writer.executemany(self._upsert_candle, chunk)
                count += len(chunk)
        return count

    def load_bars(
        self,
        venue: str,
        symbol: str,
        timeframe: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int | None = None,
    ) -> list[Bar]:
        """Bars in ascending time, ``start_ms`` and ``end_ms`` inclusive; with ``limit``, the
        last ``limit`` bars of that range."""
        c = candles.c
        stmt = select(candles).where(c.venue == venue, c.symbol == symbol, c.timeframe == timeframe)
        if start_ms is not None:
            stmt = stmt.where(c.open_ms >= start_ms)
        if end_ms is not None:
            stmt = stmt.where(c.open_ms <= end_ms)
        if limit is None:
            rows = list(self._conn.execute(stmt.order_by(c.open_ms)).all())
        else:
            rows = list(self._conn.execute(stmt.order_by(c.open_ms.desc()).limit(limit)).all())
            rows.reverse()
        return [bar_from_row(r) for r in rows]

    # -- cost basis -------------------------------------------------------------------------------
    def save_cost_basis(self, basis: CostBasis) -> None:
        """Insert or replace (by venue, asset and time) the cost taken for coins held."""
        self._writer.execute(self._upsert_cost_basis, cost_basis_params(basis))

    def load_cost_basis(self, venue: str | None = None) -> list[CostBasis]:
        stmt = select(cost_basis)
        if venue is not None:
            stmt = stmt.where(cost_basis.c.venue == venue)
        stmt = stmt.order_by(cost_basis.c.ts_ms, cost_basis.c.venue, cost_basis.c.asset)
        return [cost_basis_from_row(r) for r in self._conn.execute(stmt).all()]

    # -- audit log --------------------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> None:
        """Append one entry (its hash computed by the caller); the store numbers it."""
        self._writer.execute(self._insert_audit, audit_params(entry))

    def last_audit(self) -> AuditEntry | None:
        row = self._conn.execute(select(audit).order_by(audit.c.seq.desc()).limit(1)).first()
        return None if row is None else audit_from_row(row)

    def load_audit(self, since_ms: int | None = None, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Entries in the order they were written."""
        stmt = select(audit).where(audit.c.seq > after_seq)
        if since_ms is not None:
            stmt = stmt.where(audit.c.ts_ms >= since_ms)
        stmt = stmt.order_by(audit.c.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [audit_from_row(r) for r in self._conn.execute(stmt).all()]

    def count_audit(self, since_ms: int) -> dict[str, int]:
        """How many entries of each action were written since ``since_ms`` (read newest first, by
        sequence, until an older entry: only that day's rows are read)."""
        counts: dict[str, int] = {}
        rows = self._conn.execute(select(audit.c.action, audit.c.ts_ms).order_by(audit.c.seq.desc()))
        for action, ts in rows:
            if ts < since_ms:
                break
            counts[action] = counts.get(action, 0) + 1
        rows.close()
        return counts

    # -- settings ---------------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._conn.execute(select(settings.c.value).where(settings.c.key == key)).first()
        return default if row is None else row[0]

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value (a Decimal must be given as a string: it is refused)."""
        dumps_json(value)  # refuse a bad value here, with its own TypeError/ValueError
        self._writer.execute(self._upsert_setting, {"key": key, "value": value})

    def delete_setting(self, key: str) -> None:
        self._writer.execute(self._delete_setting, {"key": key})
