"""Enum codes to the user's language (enums carry stable codes; the UI translates)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from app.domain.enums import OrderStatus, OrderType, Side
from app.engine.events import Msg
from app.i18n import N_, _, fmt_decimal


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


# Engine messages whose numbers are money show their unit ("127,800 USDT"): when the engine's
# values come without one, the window's own template adds it.
WITH_UNITS = {
    "risk.max_order_notional": N_("Order value {value} {ccy} is above the limit of {limit} {ccy} per order"),
    "risk.max_position": N_("The position in {base} would be worth {value} {ccy}, above the limit of {limit} {ccy}"),
}
NOT_NUMBERS = {"symbol", "base", "quote", "asset", "ccy", "what", "why", "field", "venue", "order", "list"}


def _grouped(name: str, value: str) -> str:
    """A number ("5900.5", or with its unit: "127800 USDT") as the user's locale writes it,
    thousands grouped, digits kept exactly; anything else unchanged."""
    if name in NOT_NUMBERS:
        return value
    number, _sep, unit = value.partition(" ")
    try:
        d = Decimal(number)
    except (InvalidOperation, ValueError, TypeError):
        return value
    if not d.is_finite():
        return value
    return fmt_decimal(d) + (f" {unit}" if unit else "")


def message_text(
    key: str, template: str, params: Mapping[str, object], *, ccy: str = "", fields: Mapping[str, str] | None = None
) -> str:
    """An engine or domain message in the user's language: numbers grouped, money with its unit
    (``ccy``), field codes ("stop_price") replaced by the names the form shows (``fields``); a value
    that is a message itself (an order in words) is translated the same way."""
    values = {
        k: message_text("", v.template, v.params) if isinstance(v, Msg) else _grouped(k, str(v))
        for k, v in params.items()
    }
    if fields and "field" in values:
        values["field"] = fields.get(values["field"], values["field"])
    if key in WITH_UNITS and ccy and not any(" " in str(params.get(k, "")) for k in ("value", "limit")):
        values.setdefault("ccy", ccy)
        template = WITH_UNITS[key]
    try:
        return _(template).format(**values)
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder: say it in English
        return template.format(**values)
