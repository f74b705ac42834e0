"""Telling the user what the engine did: the English text goes to the log file, the template and
its values to the activity panel (which shows it in the user's language). Orders and fills in
words, for those messages."""

from __future__ import annotations

import logging

from app.domain.enums import OrderType, Side, TrailingMode
from app.domain.money import fmt
from app.domain.order import Fill, Order
from app.i18n import N_

from .bus import EventBus
from .clock import Clock
from .events import ActivityLogged, Msg

log = logging.getLogger("app.engine")


class Activity:
    def __init__(self, bus: EventBus, clock: Clock) -> None:
        self.bus = bus
        self.clock = clock

    def say(self, level: str, template: str, **params: str | Msg) -> None:
        message = str(Msg(template, params))
        getattr(log, level)(message)
        self.bus.publish(ActivityLogged(level, message, self.clock.now_ms(), template, params))

    def info(self, template: str, **params: str | Msg) -> None:
        self.say("info", template, **params)

    def warning(self, template: str, **params: str | Msg) -> None:
        self.say("warning", template, **params)

    def error(self, template: str, **params: str | Msg) -> None:
        self.say("error", template, **params)


SIDES = {Side.BUY: N_("buy"), Side.SELL: N_("sell")}
TYPES = {
    OrderType.MARKET: N_("market"),
    OrderType.LIMIT: N_("limit"),
    OrderType.STOP_MARKET: N_("stop market"),
    OrderType.STOP_LIMIT: N_("stop limit"),
    OrderType.TAKE_PROFIT_MARKET: N_("take-profit market"),
    OrderType.TAKE_PROFIT_LIMIT: N_("take-profit limit"),
    OrderType.TRAILING_STOP: N_("trailing stop"),
}


def order_words(o: Order) -> Msg:
    """An order in words, every part translatable: "buy 0.1 BTC/USDT limit @ 60000"."""
    words = Msg(
        N_("{side} {qty} {symbol} {type}"),
        {"side": Msg(SIDES[o.side]), "qty": fmt(o.quantity), "symbol": o.symbol, "type": Msg(TYPES[o.type])},
    )
    if o.price is not None:
        words = Msg(N_("{order} @ {price}"), {"order": words, "price": fmt(o.price)})
    if o.stop_price is not None:
        words = Msg(N_("{order}, trigger {trigger}"), {"order": words, "trigger": fmt(o.stop_price)})
    if o.trail_value is not None:
        unit = "%" if o.trail_mode is TrailingMode.PERCENT else ""
        words = Msg(N_("{order}, trailing {distance}"), {"order": words, "distance": fmt(o.trail_value) + unit})
    if o.activation_price is not None:
        words = Msg(N_("{order}, from {activation}"), {"order": words, "activation": fmt(o.activation_price)})
    return words


def fill_words(f: Fill) -> Msg:
    template = (
        N_("bought {qty} {symbol} at {price} (fee {fee} {asset})")
        if f.side is Side.BUY
        else N_("sold {qty} {symbol} at {price} (fee {fee} {asset})")
    )
    return Msg(
        template,
        {"qty": fmt(f.quantity), "symbol": f.symbol, "price": fmt(f.price), "fee": fmt(f.fee), "asset": f.fee_asset},
    )
