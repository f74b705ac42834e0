"""Enum codes to the user's language (enums carry stable codes; the UI translates)."""

from __future__ import annotations

from app.domain.enums import OrderStatus, OrderType, Side
from app.i18n import N_, _


def side_text(side: Side) -> str:
    return _("Buy") if side is Side.BUY else _("Sell")


def order_type_text(t: OrderType) -> str:
    return {
        OrderType.MARKET: _("Market"),
        OrderType.LIMIT: _("Limit"),
        OrderType.STOP_MARKET: _("Stop market"),
        OrderType.STOP_LIMIT: _("Stop limit"),
        OrderType.TAKE_PROFIT_MARKET: _("Take profit market"),
        OrderType.TAKE_PROFIT_LIMIT: _("Take profit limit"),
        OrderType.TRAILING_STOP: _("Trailing stop"),
    }[t]


def status_text(s: OrderStatus) -> str:
    return {
        OrderStatus.PENDING_NEW: _("Sending"),
        OrderStatus.NEW: _("Open"),
        OrderStatus.PARTIALLY_FILLED: _("Partly filled"),
        OrderStatus.FILLED: _("Filled"),
        OrderStatus.PENDING_CANCEL: _("Cancelling"),
        OrderStatus.CANCELLED: _("Cancelled"),
        OrderStatus.REJECTED: _("Rejected"),
        OrderStatus.EXPIRED: _("Expired"),
    }[s]


# The chart's read-out letters.
READOUT = (N_("O"), N_("H"), N_("L"), N_("C"), N_("V"), N_("Cursor"))
