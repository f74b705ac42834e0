"""The schema (SQLAlchemy 2 typed models). Money columns are ``ExactDecimal``; no secrets anywhere."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import ExactDecimal


class Base(DeclarativeBase):
    pass


class OrderRow(Base):
    __tablename__ = "orders"
    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue: Mapped[str] = mapped_column(String(32), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(24))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    stop_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    tif: Mapped[str] = mapped_column(String(8))
    post_only: Mapped[bool] = mapped_column(Boolean)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    trail_mode: Mapped[str | None] = mapped_column(String(8), nullable=True)
    trail_value: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    list_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    tag: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    is_open: Mapped[bool] = mapped_column(Boolean)
    venue_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    filled_qty: Mapped[Decimal] = mapped_column(ExactDecimal())
    filled_notional: Mapped[Decimal] = mapped_column(ExactDecimal())
    fee: Mapped[Decimal] = mapped_column(ExactDecimal())
    fee_asset: Mapped[str] = mapped_column(String(16))
    created_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    triggered: Mapped[bool] = mapped_column(Boolean)
    trail_ref: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_orders_open", "is_open", "venue"),
        Index("ix_orders_venue_oid", "venue", "venue_order_id"),
    )


class FillRow(Base):
    __tablename__ = "fills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(32))
    trade_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)
    venue_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    fee: Mapped[Decimal] = mapped_column(ExactDecimal())
    fee_asset: Mapped[str] = mapped_column(String(16))
    liquidity: Mapped[str] = mapped_column(String(8))
    ts_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("venue", "trade_id", name="uq_fills_venue_trade"),
        Index("ix_fills_venue_ts", "venue", "ts_ms"),
    )


class OrderListRow(Base):
    __tablename__ = "order_lists"
    list_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    venue: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    limit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stop_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    take_profit: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    stop_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    stop_loss_limit: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    leg_ids: Mapped[list[str]] = mapped_column(JSON)


class BalanceRow(Base):
    __tablename__ = "balances"
    venue: Mapped[str] = mapped_column(String(32), primary_key=True)
    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    free: Mapped[Decimal] = mapped_column(ExactDecimal())
    locked: Mapped[Decimal] = mapped_column(ExactDecimal())


class LotRow(Base):
    __tablename__ = "lots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    trade_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_lots_position", "venue", "symbol", "seq"),)


class EquityRow(Base):
    __tablename__ = "equity"
    venue: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    equity: Mapped[Decimal] = mapped_column(ExactDecimal())


class CandleRow(Base):
    __tablename__ = "candles"
    venue: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    open_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[Decimal] = mapped_column(ExactDecimal())
    high: Mapped[Decimal] = mapped_column(ExactDecimal())
    low: Mapped[Decimal] = mapped_column(ExactDecimal())
    close: Mapped[Decimal] = mapped_column(ExactDecimal())
    volume: Mapped[Decimal] = mapped_column(ExactDecimal())


class SettingRow(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
