"""Initial schema: orders, fills, order lists, balances, lots, equity, candles, settings.

Written by hand to match ``app/storage/models.py`` (a test checks that they agree). Column types
are spelled out here rather than imported, so this revision keeps creating the same tables
whatever the models become: money is TEXT on SQLite and NUMERIC on PostgreSQL (see
``ExactDecimal``), JSON is TEXT (see ``JsonText``).

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
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


def upgrade() -> None:
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
    for table in ("settings", "candles", "equity", "lots", "balances", "order_lists", "fills", "orders"):
        op.drop_table(table)
