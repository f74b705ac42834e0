"""What the order management system keeps across a restart, and the audit log.

- orders: ``activation_price`` (trailing stops), ``emulation`` (watched here / released to the
  venue, stored rather than re-derived), ``origin`` (who asked: user, bracket exit, flatten…);
- fills: ``fee_quote``, the fee's value in the quote currency when the fill arrived (a fee in
  BNB is not re-priced at a restart);
- order_lists: ``exit_failures`` (exit pairs of a bracket that ended unfilled);
- lots: exact cost totals (``cost``) instead of a per-unit price, ``estimated`` for coins held
  before the first fill; the lots are derived from the fills and written again at the next start;
- cost_basis: coins found held without a recorded purchase and the cost taken for them;
- audit: every order action, each entry carrying the hash of the one before.

The changed tables are rebuilt (rename, create, copy, drop) so that they are exactly the tables
the models create, on SQLite as on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
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


ORDER_COLUMNS = (
    "client_order_id", "venue", "symbol", "side", "type", "quantity", "price", "stop_price", "tif", "post_only",
    "reduce_only", "trail_mode", "trail_value", "list_id", "tag", "status", "is_open", "venue_order_id",
    "filled_qty", "filled_notional", "fee", "fee_asset", "created_ms", "updated_ms", "triggered", "trail_ref",
    "reason",
)
FILL_COLUMNS = (
    "id", "venue", "symbol", "trade_id", "client_order_id", "venue_order_id", "side", "quantity", "price", "fee",
    "fee_asset", "liquidity", "ts_ms",
)
LIST_COLUMNS = (
    "list_id", "kind", "venue", "symbol", "status", "entry_id", "limit_id", "stop_id", "take_profit", "stop_loss",
    "stop_loss_limit", "created_ms", "note", "leg_ids",
)
# Values for the new columns of existing rows.
NEW_VALUES = {
    "orders": {"activation_price": "NULL", "emulation": "''", "origin": "'user'"},
    "fills": {"fee_quote": "NULL"},
    "order_lists": {"exit_failures": "0"},
}
INDEXES = {
    "orders": ("ix_orders_is_open_venue", "ix_orders_venue_venue_order_id", "ix_orders_created_ms"),
    "fills": ("ix_fills_client_order_id", "ix_fills_venue_ts_ms"),
    "order_lists": ("ix_order_lists_status_venue",),
}
UNIQUES = {"fills": ("uq_fills_venue_symbol_trade_id",)}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("orders", "fills", "order_lists", "lots"):
        for name in INDEXES.get(table, ()):
            op.drop_index(name, table_name=table)
        op.rename_table(table, f"old_{table}")
        if postgres:
            op.execute(f"ALTER TABLE old_{table} RENAME CONSTRAINT pk_{table} TO pk_old_{table}")
            for name in UNIQUES.get(table, ()):
                op.execute(f"ALTER TABLE old_{table} RENAME CONSTRAINT {name} TO old_{name}")
    create_orders()
    create_fills()
    create_order_lists()
    create_lots()
    for table, cols in (("orders", ORDER_COLUMNS), ("fills", FILL_COLUMNS), ("order_lists", LIST_COLUMNS)):
        extra = NEW_VALUES[table]
        names = ", ".join((*cols, *extra))
        values = ", ".join((*cols, *extra.values()))
        op.execute(f"INSERT INTO {table} ({names}) SELECT {values} FROM old_{table}")
    for table in ("orders", "fills", "order_lists", "lots"):
        op.drop_table(f"old_{table}")
    if postgres:
        op.execute("SELECT setval(pg_get_serial_sequence('fills', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM fills")
    op.create_table(
        "cost_basis",
        text("venue"),
        text("asset"),
        sa.Column("ts_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        text("symbol"),
        money("quantity"),
        money("cost"),
        flag("estimated"),
        sa.PrimaryKeyConstraint("venue", "asset", "ts_ms", name="pk_cost_basis"),
    )
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        ms("ts_ms"),
        text("venue"),
        text("mode"),
        text("action"),
        sa.Column("details", JSON_TEXT, nullable=False),
        text("prev_hash"),
        text("hash"),
        sa.PrimaryKeyConstraint("seq", name="pk_audit"),
    )


def create_orders() -> None:
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
        money("activation_price", nullable=True),
        text("emulation"),
        text("origin"),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_is_open_venue", "orders", ["is_open", "venue"])
    op.create_index("ix_orders_venue_venue_order_id", "orders", ["venue", "venue_order_id"])
    op.create_index("ix_orders_created_ms", "orders", ["created_ms"])


def create_fills() -> None:
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
        money("fee_quote", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("venue", "symbol", "trade_id", name="uq_fills_venue_symbol_trade_id"),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_index("ix_fills_venue_ts_ms", "fills", ["venue", "ts_ms"])


def create_order_lists() -> None:
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
        sa.Column("exit_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", name="pk_order_lists"),
    )
    op.create_index("ix_order_lists_status_venue", "order_lists", ["status", "venue"])


def create_lots() -> None:
    op.create_table(
        "lots",
        text("venue"),
        text("symbol"),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        money("quantity"),
        money("cost"),
        ms("ts_ms"),
        text("trade_id"),
        flag("estimated"),
        sa.PrimaryKeyConstraint("venue", "symbol", "seq", name="pk_lots"),
    )


def downgrade() -> None:
    raise NotImplementedError("the audit log and exact lot costs cannot be taken back")
