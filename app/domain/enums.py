"""Enumerations with stable codes (never translated text: the UI translates)."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    TAKE_PROFIT_MARKET = "take_profit_market"
    TAKE_PROFIT_LIMIT = "take_profit_limit"
    TRAILING_STOP = "trailing_stop"

    @property
    def has_limit_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)

    @property
    def has_trigger(self) -> bool:
        return self in (
            OrderType.STOP_MARKET,
            OrderType.STOP_LIMIT,
            OrderType.TAKE_PROFIT_MARKET,
            OrderType.TAKE_PROFIT_LIMIT,
            OrderType.TRAILING_STOP,
        )

    @property
    def is_stop(self) -> bool:
        """Triggers when price moves against the order's side (buy above, sell below)."""
        return self in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_open(self) -> bool:
        return not self.is_final


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class OrderEvent(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_REJECTED = "cancel_rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    TRIGGERED = "triggered"
    AMENDED = "amended"


class OrderListKind(StrEnum):
    OCO = "oco"
    BRACKET = "bracket"


class OrderListStatus(StrEnum):
    ACTIVE = "active"  # bracket: waiting for entry fill, or OCO legs working
    CANCELLING = "cancelling"  # cancel requested: nothing new is placed, what works is cancelled
    DONE = "done"

    @property
    def is_live(self) -> bool:
        return self is not OrderListStatus.DONE


class OrderOrigin(StrEnum):
    """Who asked for an order: decides which pre-trade rules apply (a stop-loss that triggered
    is never throttled; only the kill switch's flatten passes a halt)."""

    USER = "user"
    STRATEGY = "strategy"
    EXIT = "exit"  # a bracket's take-profit/stop-loss, placed as its entry fills
    RELEASE = "release"  # a locally watched order that triggered and goes to the venue
    REPLACE = "replace"  # the new order of a modify (checked before the old one was cancelled)
    RESEND = "resend"  # reconciliation sending what a crash interrupted
    FLATTEN = "flatten"  # the kill switch closing holdings

    @property
    def is_discretionary(self) -> bool:
        """A new decision to trade (throttles, size and fat-finger limits apply)."""
        return self in (OrderOrigin.USER, OrderOrigin.STRATEGY)


class Emulation(StrEnum):
    """Where an order's trigger is watched: at the venue (NONE), here until it triggers
    (EMULATED), or here and then sent to the venue (RELEASED)."""

    NONE = ""
    EMULATED = "emulated"
    RELEASED = "released"


class TrailingMode(StrEnum):
    AMOUNT = "amount"
    PERCENT = "percent"


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class LiquiditySide(StrEnum):
    MAKER = "maker"
    TAKER = "taker"
