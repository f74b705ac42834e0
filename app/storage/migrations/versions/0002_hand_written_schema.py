"""The schema written by hand, and fills keyed by (venue, symbol, trade id).

Exchanges such as Binance number trades per symbol, so the first schema's unique (venue, trade
id) dropped an ETH/USDT fill #12345 as a duplicate of BTC/USDT #12345. This revision rebuilds
every table in the shape ``app/storage/models.py`` had then, copying the rows: column types
spelled out here rather than imported, so it keeps producing the same tables whatever the
models become — money TEXT on SQLite and NUMERIC on PostgreSQL (see ``ExactDecimal``), JSON as
TEXT (see ``JsonText``: SQLite's JSON has NUMERIC affinity and turns big integers into floats),
named constraints, lots keyed by position and sequence.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Text().with_variant(sa.Numeric(), "postgresql")
JSON_TEXT = sa.Text()


def text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, MONEY, nullable=nullable)


def ms(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False)


# The first schema's indexes: their names would clash with the new ones (names are per database).
OLD_INDEXES = {
    "fills": ("ix_fills_client_order_id", "ix_fills_venue_ts"),
    "lots": ("ix_lots_position",),
    "order_lists": ("ix_order_lists_status",),
    "orders": ("ix_orders_created_ms", "ix_orders_list_id", "ix_orders_open", "ix_orders_venue", "ix_orders_venue_oid"),
}
# Every table and the columns copied from its first version (lots lose their surrogate id).
COLUMNS = {
    "orders": (
        "client_order_id", "venue", "symbol", "side", "type", "quantity", "price", "stop_price", "tif", "post_only",
        "reduce_only", "trail_mode", "trail_value", "list_id", "tag", "status", "is_open", "venue_order_id",
        "filled_qty", "filled_notional", "fee", "fee_asset", "created_ms", "updated_ms", "triggered", "trail_ref",
        "reason",
    ),
    "fills": (
        "id", "venue", "symbol", "trade_id", "client_order_id", "venue_order_id", "side", "quantity", "price", "fee",
        "fee_asset", "liquidity", "ts_ms",
    ),
    "order_lists": (
        "list_id", "kind", "venue", "symbol", "status", "entry_id", "limit_id", "stop_id", "take_profit", "stop_loss",
        "stop_loss_limit", "created_ms", "note", "leg_ids",
    ),
    "balances": ("venue", "asset", "free", "locked"),
    "lots": ("venue", "symbol", "seq", "quantity", "price", "ts_ms", "trade_id"),
    "equity": ("venue", "ts_ms", "equity"),
    "candles": ("venue", "symbol", "timeframe", "open_ms", "open", "high", "low", "close", "volume", "closed"),
    "settings": ("key", "value"),
}
JSON_COLUMNS = {("order_lists", "leg_ids"), ("settings", "value")}
NEW_COLUMNS = {("candles", "closed"): "TRUE"}  # the first schema stored closed bars only


def upgrade() -> None:
    for table, names in OLD_INDEXES.items():
        for name in names:
            op.drop_index(name, table_name=table)
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in COLUMNS:
        op.rename_table(table, f"old_{table}")
        if postgres:  # constraint names are per schema there, like index names
            op.execute(f"ALTER TABLE old_{table} RENAME CONSTRAINT pk_{table} TO pk_old_{table}")
    create_tables()
    for table, cols in COLUMNS.items():
        # The first schema's JSON columns hold JSON text already; PostgreSQL needs the cast.
        source = ", ".join(
            NEW_COLUMNS.get((table, c)) or (f"CAST({c} AS TEXT)" if postgres and (table, c) in JSON_COLUMNS else c)
            for c in cols
        )
        op.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {source} FROM old_{table}")
        op.drop_table(f"old_{table}")
    if postgres:  # the copied ids came with the rows: the new sequence continues after them
        op.execute("SELECT setval(pg_get_serial_sequence('fills', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM fills")


def create_tables() -> None:
    op.create_table(
        "orders",
        text("client_order_id"),
        text("venue"),
        text("symbol"),
        text("side"),
        text("type"),
        money("quantity"),
        money("price", nullable=True),
        money("stop_price", nullable=True),
        text("tif"),
        flag("post_only"),
        flag("reduce_only"),
        text("trail_mode", nullable=True),
        money("trail_value", nullable=True),
        text("list_id", nullable=True),
        text("tag"),
        text("status"),
        flag("is_open"),
        text("venue_order_id", nullable=True),
        money("filled_qty"),
        money("filled_notional"),
        money("fee"),
        text("fee_asset"),
        ms("created_ms"),
        ms("updated_ms"),
        flag("triggered"),
        money("trail_ref", nullable=True),
        text("reason"),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_is_open_venue", "orders", ["is_open", "venue"])
    op.create_index("ix_orders_venue_venue_order_id", "orders", ["venue", "venue_order_id"])
    op.create_index("ix_orders_created_ms", "orders", ["created_ms"])

    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        text("venue"),
        text("symbol"),
        text("trade_id"),
        text("client_order_id"),
        text("venue_order_id"),
        text("side"),
        money("quantity"),
        money("price"),
        money("fee"),
        text("fee_asset"),
        text("liquidity"),
        ms("ts_ms"),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("venue", "symbol", "trade_id", name="uq_fills_venue_symbol_trade_id"),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_index("ix_fills_venue_ts_ms", "fills", ["venue", "ts_ms"])

    op.create_table(
        "order_lists",
        text("list_id"),
        text("kind"),
        text("venue"),
        text("symbol"),
        text("status"),
        text("entry_id", nullable=True),
        text("limit_id", nullable=True),
        text("stop_id", nullable=True),
        money("take_profit", nullable=True),
        money("stop_loss", nullable=True),
        money("stop_loss_limit", nullable=True),
        ms("created_ms"),
        text("note"),
        sa.Column("leg_ids", JSON_TEXT, nullable=False),
        sa.PrimaryKeyConstraint("list_id", name="pk_order_lists"),
    )
    op.create_index("ix_order_lists_status_venue", "order_lists", ["status", "venue"])

    op.create_table(
        "balances",
        text("venue"),
        text("asset"),
        money("free"),
        money("locked"),
        sa.PrimaryKeyConstraint("venue", "asset", name="pk_balances"),
    )

    op.create_table(
        "lots",
        text("venue"),
        text("symbol"),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        money("quantity"),
        money("price"),
        ms("ts_ms"),
        text("trade_id"),
        sa.PrimaryKeyConstraint("venue", "symbol", "seq", name="pk_lots"),
    )

    op.create_table(
        "equity",
        text("venue"),
        sa.Column("ts_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        money("equity"),
        sa.PrimaryKeyConstraint("venue", "ts_ms", name="pk_equity"),
    )

    op.create_table(
        "candles",
        text("venue"),
        text("symbol"),
        text("timeframe"),
        sa.Column("open_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        money("open"),
        money("high"),
        money("low"),
        money("close"),
        money("volume"),
        flag("closed"),
        sa.PrimaryKeyConstraint("venue", "symbol", "timeframe", "open_ms", name="pk_candles"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "settings",
        text("key"),
        sa.Column("value", JSON_TEXT, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )


def downgrade() -> None:
    raise NotImplementedError("going back to the first schema would merge fills of different symbols")
