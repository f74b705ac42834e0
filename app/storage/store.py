"""The store: one writer on one connection, Core statements on the hot paths.

Calls outside ``transaction()`` commit at once; nested ``transaction()`` blocks join the
outermost, which commits at its end or rolls everything back on an exception (a fill and its
order update are written together or not at all).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.enums import (
    LiquiditySide,
    OrderListKind,
    OrderListStatus,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TrailingMode,
)
from app.domain.execution import Balance
from app.domain.market import Bar
from app.domain.order import Fill, Order
from app.domain.order_list import OrderList
from app.domain.portfolio import Lot

from .models import BalanceRow, Base, CandleRow, EquityRow, FillRow, LotRow, OrderListRow, OrderRow, SettingRow

APP_NAME = "AutoGrowthTrader"
AUTOCHECKPOINT_PAGES = 20_000
CHECKPOINT_EVERY_S = 1.0
orders_t = OrderRow.__table__
fills_t = FillRow.__table__
lists_t = OrderListRow.__table__
balances_t = BalanceRow.__table__
lots_t = LotRow.__table__
equity_t = EquityRow.__table__
candles_t = CandleRow.__table__
settings_t = SettingRow.__table__


def default_data_dir() -> Path:
    """The user's data folder (``AUTOGROWTH_DATA_DIR`` overrides it), created if missing."""
    env = os.environ.get("AUTOGROWTH_DATA_DIR")
    path = Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'autogrowth.sqlite3'}"


def _order_values(o: Order) -> dict[str, Any]:
    return {
        "client_order_id": o.client_order_id,
        "venue": o.venue,
        "symbol": o.symbol,
        "side": o.side.value,
        "type": o.type.value,
        "quantity": o.quantity,
        "price": o.price,
        "stop_price": o.stop_price,
        "tif": o.tif.value,
        "post_only": o.post_only,
        "reduce_only": o.reduce_only,
        "trail_mode": o.trail_mode.value if o.trail_mode else None,
        "trail_value": o.trail_value,
        "list_id": o.list_id,
        "tag": o.tag,
        "status": o.status.value,
        "is_open": not o.status.is_final,
        "venue_order_id": o.venue_order_id,
        "filled_qty": o.filled_qty,
        "filled_notional": o.filled_notional,
        "fee": o.fee,
        "fee_asset": o.fee_asset,
        "created_ms": o.created_ms,
        "updated_ms": o.updated_ms,
        "triggered": o.triggered,
        "trail_ref": o.trail_ref,
        "reason": o.reason,
    }


def _order_from_row(r: Any) -> Order:
    return Order(
        client_order_id=r.client_order_id,
        venue=r.venue,
        symbol=r.symbol,
        side=Side(r.side),
        type=OrderType(r.type),
        quantity=r.quantity,
        price=r.price,
        stop_price=r.stop_price,
        tif=TimeInForce(r.tif),
        post_only=r.post_only,
        reduce_only=r.reduce_only,
        trail_mode=TrailingMode(r.trail_mode) if r.trail_mode else None,
        trail_value=r.trail_value,
        list_id=r.list_id,
        tag=r.tag,
        status=OrderStatus(r.status),
        venue_order_id=r.venue_order_id,
        filled_qty=r.filled_qty,
        filled_notional=r.filled_notional,
        fee=r.fee,
        fee_asset=r.fee_asset,
        created_ms=r.created_ms,
        updated_ms=r.updated_ms,
        triggered=r.triggered,
        trail_ref=r.trail_ref,
        reason=r.reason,
    )


def _fill_from_row(r: Any) -> Fill:
    return Fill(
        trade_id=r.trade_id,
        client_order_id=r.client_order_id,
        venue_order_id=r.venue_order_id,
        venue=r.venue,
        symbol=r.symbol,
        side=Side(r.side),
        quantity=r.quantity,
        price=r.price,
        fee=r.fee,
        fee_asset=r.fee_asset,
        liquidity=LiquiditySide(r.liquidity),
        ts_ms=r.ts_ms,
    )


def _list_values(ol: OrderList) -> dict[str, Any]:
    return {
        "list_id": ol.list_id,
        "kind": ol.kind.value,
        "venue": ol.venue,
        "symbol": ol.symbol,
        "status": ol.status.value,
        "entry_id": ol.entry_id,
        "limit_id": ol.limit_id,
        "stop_id": ol.stop_id,
        "take_profit": ol.take_profit,
        "stop_loss": ol.stop_loss,
        "stop_loss_limit": ol.stop_loss_limit,
        "created_ms": ol.created_ms,
        "note": ol.note,
        "leg_ids": list(ol.leg_ids),
    }


def _list_from_row(r: Any) -> OrderList:
    return OrderList(
        list_id=r.list_id,
        kind=OrderListKind(r.kind),
        venue=r.venue,
        symbol=r.symbol,
        status=OrderListStatus(r.status),
        entry_id=r.entry_id,
        limit_id=r.limit_id,
        stop_id=r.stop_id,
        take_profit=r.take_profit,
        stop_loss=r.stop_loss,
        stop_loss_limit=r.stop_loss_limit,
        created_ms=r.created_ms,
        note=r.note,
        leg_ids=list(r.leg_ids or []),
    )


class _Checkpointer(threading.Thread):
    """Copies the WAL back into the database file from its own connection, off the writer's
    path, so a commit never waits for a checkpoint (they cost milliseconds)."""

    def __init__(self, path: str) -> None:
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self.path = path
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False)
        except sqlite3.Error:
            return
        try:
            while not self.stop.wait(CHECKPOINT_EVERY_S):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass
        finally:
            conn.close()


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = str(engine.url)
        self._conn: Connection = engine.connect()
        self._depth = 0
        self._tx: Any = None
        dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
        self._insert = dialect.insert

        def upsert(table: Any, keys: Sequence[str]) -> Any:
            stmt = self._insert(table)
            cols = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
            return stmt.on_conflict_do_update(index_elements=list(keys), set_=cols)

        self._upsert_order = upsert(orders_t, ["client_order_id"])
        self._upsert_list = upsert(lists_t, ["list_id"])
        self._upsert_candle = upsert(candles_t, ["venue", "symbol", "timeframe", "open_ms"])
        self._upsert_setting = upsert(settings_t, ["key"])
        self._upsert_equity = upsert(equity_t, ["venue", "ts_ms"])
        # RETURNING tells reliably whether the row was new (rowcount is not, on every driver).
        self._insert_fill = (self._insert(fills_t).on_conflict_do_nothing(index_elements=["venue", "trade_id"])
                             .returning(fills_t.c.id))
        # SQLite hot path: the same upsert as plain SQL on the driver connection (SQLAlchemy's
        # per-statement overhead is most of an order's cost). Values are converted exactly as
        # ExactDecimal does: str(Decimal), never float.
        self._raw: Any = None
        self._checkpointer: _Checkpointer | None = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._checkpointer = _Checkpointer(str(engine.url.database))
            self._checkpointer.start()
        if engine.dialect.name == "sqlite":
            self._raw = self._conn.connection.dbapi_connection
            cols = [c.name for c in orders_t.columns]
            self._order_cols = cols
            self._order_sql = (
                f"INSERT INTO orders ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                f"ON CONFLICT (client_order_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "client_order_id")
            )

    # -- opening ----------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None, *, synchronous: str = "NORMAL") -> Store:
        """Open (creating if needed) the database at ``url`` and bring its schema up to date.
        ``synchronous="FULL"`` makes each commit survive a power cut, not only a crash."""
        url = url or default_database_url()
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            sync = synchronous.upper()
            if sync not in ("OFF", "NORMAL", "FULL", "EXTRA"):
                raise ValueError(f"unknown synchronous mode {synchronous}")

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA synchronous={sync}")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=5000")
                # Checkpoints are done by a background thread (see _Checkpointer); this is the
                # safety net should it fall behind.
                cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
                cur.close()

        from .migrate import upgrade

        upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop.set()
            self._checkpointer.join(timeout=5)
        if self._tx is not None:
            self._tx.rollback()
            self._tx = None
        self._conn.close()
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth == 0:
            self._tx = self._conn.begin()
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._tx.rollback()
                self._tx = None
            raise
        self._depth -= 1
        if self._depth == 0:
            self._tx.commit()
            self._tx = None

    def _exec(self, stmt: Any, params: Any = None) -> Any:
        with self.transaction():
            return self._conn.execute(stmt, params) if params is not None else self._conn.execute(stmt)

    def _query(self, stmt: Any) -> list[Any]:
        with self.transaction():
            return list(self._conn.execute(stmt))

    # -- orders -----------------------------------------------------------------------------------
    def save_order(self, order: Order) -> None:
        values = _order_values(order)
        if self._raw is None:
            self._exec(self._upsert_order, values)
            return
        row = tuple(str(v) if isinstance(v, Decimal) else v for v in (values[c] for c in self._order_cols))
        if self._depth:
            self._raw.execute(self._order_sql, row)
        else:
            try:
                self._raw.execute(self._order_sql, row)
                self._raw.commit()
            except BaseException:
                self._raw.rollback()
                raise

    def _with_trade_ids(self, orders: list[Order]) -> list[Order]:
        if not orders:
            return orders
        by_id = {o.client_order_id: o for o in orders}
        ids = list(by_id)
        for i in range(0, len(ids), 500):
            rows = self._query(
                select(fills_t.c.client_order_id, fills_t.c.trade_id).where(
                    fills_t.c.client_order_id.in_(ids[i : i + 500])
                )
            )
            for cid, tid in rows:
                by_id[cid].trade_ids.add(tid)
        return orders

    def get_order(self, client_order_id: str) -> Order | None:
        rows = self._query(select(orders_t).where(orders_t.c.client_order_id == client_order_id))
        return self._with_trade_ids([_order_from_row(rows[0])])[0] if rows else None

    def find_order_by_venue_id(self, venue: str, venue_order_id: str) -> Order | None:
        rows = self._query(
            select(orders_t).where(orders_t.c.venue == venue, orders_t.c.venue_order_id == venue_order_id)
        )
        return self._with_trade_ids([_order_from_row(rows[0])])[0] if rows else None

    def load_open_orders(self, venue: str | None = None) -> list[Order]:
        stmt = select(orders_t).where(orders_t.c.is_open.is_(True))
        if venue is not None:
            stmt = stmt.where(orders_t.c.venue == venue)
        return self._with_trade_ids([_order_from_row(r) for r in self._query(stmt.order_by(orders_t.c.created_ms))])

    def load_orders(self, venue: str | None = None, symbol: str | None = None, limit: int = 500) -> list[Order]:
        stmt = select(orders_t)
        if venue is not None:
            stmt = stmt.where(orders_t.c.venue == venue)
        if symbol is not None:
            stmt = stmt.where(orders_t.c.symbol == symbol)
        stmt = stmt.order_by(orders_t.c.created_ms.desc(), orders_t.c.client_order_id.desc()).limit(limit)
        return self._with_trade_ids([_order_from_row(r) for r in self._query(stmt)])

    # -- fills ------------------------------------------------------------------------------------
    def save_fill(self, fill: Fill) -> bool:
        """Store a fill; False (and nothing written) when its trade id is stored already."""
        row = {
            "venue": fill.venue,
            "trade_id": fill.trade_id,
            "client_order_id": fill.client_order_id,
            "venue_order_id": fill.venue_order_id,
            "symbol": fill.symbol,
            "side": fill.side.value,
            "quantity": fill.quantity,
            "price": fill.price,
            "fee": fill.fee,
            "fee_asset": fill.fee_asset,
            "liquidity": fill.liquidity.value,
            "ts_ms": fill.ts_ms,
        }
        with self.transaction():
            return self._conn.execute(self._insert_fill, row).first() is not None

    def load_fills(self, venue: str | None = None, symbol: str | None = None, client_order_id: str | None = None,
                   since_ms: int | None = None) -> list[Fill]:
        stmt = select(fills_t)
        if venue is not None:
            stmt = stmt.where(fills_t.c.venue == venue)
        if symbol is not None:
            stmt = stmt.where(fills_t.c.symbol == symbol)
        if client_order_id is not None:
            stmt = stmt.where(fills_t.c.client_order_id == client_order_id)
        if since_ms is not None:
            stmt = stmt.where(fills_t.c.ts_ms >= since_ms)
        return [_fill_from_row(r) for r in self._query(stmt.order_by(fills_t.c.ts_ms, fills_t.c.id))]

    def last_fill_ms(self, venue: str) -> int | None:
        rows = self._query(select(func.max(fills_t.c.ts_ms)).where(fills_t.c.venue == venue))
        return rows[0][0] if rows else None

    # -- order lists ------------------------------------------------------------------------------
    def save_order_list(self, ol: OrderList) -> None:
        self._exec(self._upsert_list, _list_values(ol))

    def get_order_list(self, list_id: str) -> OrderList | None:
        rows = self._query(select(lists_t).where(lists_t.c.list_id == list_id))
        return _list_from_row(rows[0]) if rows else None

    def load_active_order_lists(self, venue: str | None = None) -> list[OrderList]:
        stmt = select(lists_t).where(lists_t.c.status == OrderListStatus.ACTIVE.value)
        if venue is not None:
            stmt = stmt.where(lists_t.c.venue == venue)
        return [_list_from_row(r) for r in self._query(stmt.order_by(lists_t.c.created_ms))]

    # -- balances, lots, equity ---------------------------------------------------------------------
    def save_balances(self, venue: str, balances: dict[str, Balance]) -> None:
        with self.transaction():
            self._conn.execute(delete(balances_t).where(balances_t.c.venue == venue))
            if balances:
                self._conn.execute(
                    insert(balances_t),
                    [{"venue": venue, "asset": b.asset, "free": b.free, "locked": b.locked} for b in balances.values()],
                )

    def load_balances(self, venue: str) -> dict[str, Balance]:
        rows = self._query(select(balances_t).where(balances_t.c.venue == venue))
        return {r.asset: Balance(r.asset, r.free, r.locked) for r in rows}

    def save_lots(self, venue: str, symbol: str, lots: list[Lot]) -> None:
        with self.transaction():
            self._conn.execute(delete(lots_t).where(lots_t.c.venue == venue, lots_t.c.symbol == symbol))
            if lots:
                self._conn.execute(
                    insert(lots_t),
                    [
                        {"venue": venue, "symbol": symbol, "seq": i, "quantity": lot.quantity, "price": lot.price,
                         "ts_ms": lot.ts_ms, "trade_id": lot.trade_id}
                        for i, lot in enumerate(lots)
                    ],
                )

    def load_lots(self, venue: str | None = None) -> list[Lot]:
        stmt = select(lots_t)
        if venue is not None:
            stmt = stmt.where(lots_t.c.venue == venue)
        rows = self._query(stmt.order_by(lots_t.c.venue, lots_t.c.symbol, lots_t.c.seq))
        return [Lot(r.venue, r.symbol, r.quantity, r.price, r.ts_ms, r.trade_id) for r in rows]

    def append_equity(self, venue: str, ts_ms: int, equity: Decimal) -> None:
        self._exec(self._upsert_equity, {"venue": venue, "ts_ms": ts_ms, "equity": equity})

    def load_equity(self, venue: str, since_ms: int | None = None) -> list[tuple[int, Decimal]]:
        stmt = select(equity_t.c.ts_ms, equity_t.c.equity).where(equity_t.c.venue == venue)
        if since_ms is not None:
            stmt = stmt.where(equity_t.c.ts_ms >= since_ms)
        return [(r[0], r[1]) for r in self._query(stmt.order_by(equity_t.c.ts_ms))]

    # -- candles ----------------------------------------------------------------------------------
    def upsert_bars(self, bars: Iterable[Bar]) -> int:
        rows = [
            {"venue": b.venue, "symbol": b.symbol, "timeframe": b.timeframe, "open_ms": b.open_ms, "open": b.open,
             "high": b.high, "low": b.low, "close": b.close, "volume": b.volume}
            for b in bars
        ]
        with self.transaction():
            for i in range(0, len(rows), 5000):
                self._conn.execute(self._upsert_candle, rows[i : i + 5000])
        return len(rows)

    def load_bars(self, venue: str, symbol: str, timeframe: str, start_ms: int | None = None,
                  end_ms: int | None = None, limit: int | None = None) -> list[Bar]:
        c = candles_t.c
        stmt = select(candles_t).where(c.venue == venue, c.symbol == symbol, c.timeframe == timeframe)
        if start_ms is not None:
            stmt = stmt.where(c.open_ms >= start_ms)
        if end_ms is not None:
            stmt = stmt.where(c.open_ms <= end_ms)
        if limit is not None:
            stmt = stmt.order_by(c.open_ms.desc()).limit(limit)
            rows = list(reversed(self._query(stmt)))
        else:
            rows = self._query(stmt.order_by(c.open_ms))
        return [Bar(r.venue, r.symbol, r.timeframe, r.open_ms, r.open, r.high, r.low, r.close, r.volume) for r in rows]

    # -- settings ---------------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self._query(select(settings_t.c.value).where(settings_t.c.key == key))
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        self._exec(self._upsert_setting, {"key": key, "value": value})

    def delete_setting(self, key: str) -> None:
        self._exec(delete(settings_t).where(settings_t.c.key == key))


__all__ = ["Base", "Store", "default_data_dir", "default_database_url"]
