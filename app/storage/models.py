"""The schema as SQLAlchemy 2 typed models. Every money column is ``ExactDecimal``; there are no
secret columns (API keys live in the OS keyring, never here).

Migrations in ``migrations/versions`` must produce exactly this schema (a test compares them).
Timestamps are epoch milliseconds (``BigInteger``: they overflow a 32-bit integer).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import ExactDecimal, JsonText

# Named constraints, so later migrations can alter them (SQLite batch mode needs the names).
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def money(*, nullable: bool = False) -> Any:
    return mapped_column(ExactDecimal(), nullable=nullable)


def ms() -> Any:
    return mapped_column(BigInteger)


class OrderRow(Base):
    """One order (``app.domain.order.Order``), upserted by client order id on every change."""

    __tablename__ = "orders"
    client_order_id: Mapped[str] = mapped_column(String, primary_key=True)
    venue: Mapped[str] = mapped_column(String)
    symbol: Mapped[str] = mapped_column(String)
    side: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String)
    quantity: Mapped[Decimal] = money()
    price: Mapped[Decimal | None] = money(nullable=True)
    stop_price: Mapped[Decimal | None] = money(nullable=True)
    tif: Mapped[str] = mapped_column(String)
    post_only: Mapped[bool] = mapped_column(Boolean)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    trail_mode: Mapped[str | None] = mapped_column(String, nullable=True)
    trail_value: Mapped[Decimal | None] = money(nullable=True)
    list_id: Mapped[str | None] = mapped_column(String, nullable=True)
    tag: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    is_open: Mapped[bool] = mapped_column(Boolean)  # not status.is_final: what the restart loads
    venue_order_id: Mapped[str | None] = mapped_column(String, nullable=True)
    filled_qty: Mapped[Decimal] = money()
    filled_notional: Mapped[Decimal] = money()
    fee: Mapped[Decimal] = money()
    fee_asset: Mapped[str] = mapped_column(String)
    created_ms: Mapped[int] = ms()
    updated_ms: Mapped[int] = ms()
    triggered: Mapped[bool] = mapped_column(Boolean)
    trail_ref: Mapped[Decimal | None] = money(nullable=True)
    reason: Mapped[str] = mapped_column(String)
    activation_price: Mapped[Decimal | None] = money(nullable=True)
    emulation: Mapped[str] = mapped_column(String)  # "" at the venue, "emulated", "released"
    origin: Mapped[str] = mapped_column(String)  # user, strategy, exit, release, replace, resend, flatten

    # Few indexes on purpose: each one is another page written at every commit of an order.
    __table_args__ = (
        Index("ix_orders_is_open_venue", "is_open", "venue"),
        Index("ix_orders_venue_venue_order_id", "venue", "venue_order_id"),
        Index("ix_orders_created_ms", "created_ms"),
    )


class FillRow(Base):
    """One execution (``app.domain.order.Fill``). A trade id is unique per venue and symbol
    (Binance numbers trades per symbol), so that triple is the key of a fill."""

    __tablename__ = "fills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # arrival order
    venue: Mapped[str] = mapped_column(String)
    symbol: Mapped[str] = mapped_column(String)
    trade_id: Mapped[str] = mapped_column(String)
    client_order_id: Mapped[str] = mapped_column(String)
    venue_order_id: Mapped[str] = mapped_column(String)
    side: Mapped[str] = mapped_column(String)
    quantity: Mapped[Decimal] = money()
    price: Mapped[Decimal] = money()
    fee: Mapped[Decimal] = money()
    fee_asset: Mapped[str] = mapped_column(String)
    liquidity: Mapped[str] = mapped_column(String)
    ts_ms: Mapped[int] = ms()
    fee_quote: Mapped[Decimal | None] = money(nullable=True)  # the fee in the quote currency, at fill time

    __table_args__ = (
        UniqueConstraint("venue", "symbol", "trade_id"),
        Index("ix_fills_client_order_id", "client_order_id"),
        Index("ix_fills_venue_ts_ms", "venue", "ts_ms"),
    )


class OrderListRow(Base):
    """An OCO or bracket (``app.domain.order_list.OrderList``), upserted by list id."""

    __tablename__ = "order_lists"
    list_id: Mapped[str] = mapped_column(String, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    venue: Mapped[str] = mapped_column(String)
    symbol: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    entry_id: Mapped[str | None] = mapped_column(String, nullable=True)
    limit_id: Mapped[str | None] = mapped_column(String, nullable=True)
    stop_id: Mapped[str | None] = mapped_column(String, nullable=True)
    take_profit: Mapped[Decimal | None] = money(nullable=True)
    stop_loss: Mapped[Decimal | None] = money(nullable=True)
    stop_loss_limit: Mapped[Decimal | None] = money(nullable=True)
    created_ms: Mapped[int] = ms()
    note: Mapped[str] = mapped_column(String)
    leg_ids: Mapped[list[str]] = mapped_column(JsonText)
    exit_failures: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_order_lists_status_venue", "status", "venue"),)


class BalanceRow(Base):
    """The last balance snapshot of a venue, one row per asset."""

    __tablename__ = "balances"
    venue: Mapped[str] = mapped_column(String, primary_key=True)
    asset: Mapped[str] = mapped_column(String, primary_key=True)
    free: Mapped[Decimal] = money()
    locked: Mapped[Decimal] = money()


class LotRow(Base):
    """The open FIFO lots of a position, oldest first (``seq``), with exact cost totals. Derived
    from the fills and the cost basis; written for reports and other tools."""

    __tablename__ = "lots"
    venue: Mapped[str] = mapped_column(String, primary_key=True)
    symbol: Mapped[str] = mapped_column(String, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quantity: Mapped[Decimal] = money()
    cost: Mapped[Decimal] = money()
    ts_ms: Mapped[int] = ms()
    trade_id: Mapped[str] = mapped_column(String)
    estimated: Mapped[bool] = mapped_column(Boolean)


class CostBasisRow(Base):
    """Coins found held without a recorded purchase and the cost taken for them
    (``app.domain.portfolio.CostBasis``)."""

    __tablename__ = "cost_basis"
    venue: Mapped[str] = mapped_column(String, primary_key=True)
    asset: Mapped[str] = mapped_column(String, primary_key=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    symbol: Mapped[str] = mapped_column(String)
    quantity: Mapped[Decimal] = money()
    cost: Mapped[Decimal] = money()
    estimated: Mapped[bool] = mapped_column(Boolean)


class AuditRow(Base):
    """The audit log: every order action, append-only; ``hash`` covers the entry and the hash of
    the entry before it (``app.security.audit``)."""

    __tablename__ = "audit"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ms: Mapped[int] = ms()
    venue: Mapped[str] = mapped_column(String)
    mode: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    details: Mapped[str] = mapped_column(Text)  # the JSON text that was hashed, kept as it was
    prev_hash: Mapped[str] = mapped_column(String)
    hash: Mapped[str] = mapped_column(String)
    # No index on ts_ms: one more page written per order action; today's entries are read
    # newest first by seq, which follows time.


class EquityRow(Base):
    """The equity curve: one value per venue and time."""

    __tablename__ = "equity"
    venue: Mapped[str] = mapped_column(String, primary_key=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    equity: Mapped[Decimal] = money()


class CandleRow(Base):
    """OHLCV bars (``app.domain.market.Bar``). On SQLite the table is clustered by its key
    (WITHOUT ROWID): a chart's range of bars is read from consecutive pages."""

    __tablename__ = "candles"
    venue: Mapped[str] = mapped_column(String, primary_key=True)
    symbol: Mapped[str] = mapped_column(String, primary_key=True)
    timeframe: Mapped[str] = mapped_column(String, primary_key=True)
    open_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    open: Mapped[Decimal] = money()
    high: Mapped[Decimal] = money()
    low: Mapped[Decimal] = money()
    close: Mapped[Decimal] = money()
    volume: Mapped[Decimal] = money()
    closed: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = {"sqlite_with_rowid": False}


class SettingRow(Base):
    """Small state and settings: JSON values by key (no secrets: those are in the keyring)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[Any] = mapped_column(JsonText)


MONEY_TABLES = ("orders", "fills", "order_lists", "balances", "lots", "equity", "candles", "cost_basis")
