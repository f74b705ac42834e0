"""Telling the user what the engine did: the English text goes to the log file, the template and
its values to the activity panel (which shows it in the user's language). Orders and fills in
words, for those messages."""

from __future__ import annotations

import logging

from app.domain.enums import Side, TrailingMode
from app.domain.money import fmt
from app.domain.order import Fill, Order

from .bus import EventBus
from .clock import Clock
from .events import ActivityLogged

log = logging.getLogger("app.engine")


class Activity:
    def __init__(self, bus: EventBus, clock: Clock) -> None:
        self.bus = bus
        self.clock = clock

    def say(self, level: str, template: str, **params: str) -> None:
        message = template.format(**params) if params else template
        getattr(log, level)(message)
        self.bus.publish(ActivityLogged(level, message, self.clock.now_ms(), template, params))

    def info(self, template: str, **params: str) -> None:
        self.say("info", template, **params)

    def warning(self, template: str, **params: str) -> None:
        self.say("warning", template, **params)

    def error(self, template: str, **params: str) -> None:
        self.say("error", template, **params)


def order_words(o: Order) -> str:
    words = f"{o.side.value} {fmt(o.quantity)} {o.symbol} {o.type.value.replace('_', ' ')}"
    if o.price is not None:
        words += f" @ {fmt(o.price)}"
    if o.stop_price is not None:
        words += f" trigger {fmt(o.stop_price)}"
    if o.trail_value is not None:
        words += f" trail {fmt(o.trail_value)}{'%' if o.trail_mode is TrailingMode.PERCENT else ''}"
    if o.activation_price is not None:
        words += f" from {fmt(o.activation_price)}"
    return words


def fill_words(f: Fill) -> str:
    verb = "bought" if f.side is Side.BUY else "sold"
    return f"{verb} {fmt(f.quantity)} {f.symbol} at {fmt(f.price)} (fee {fmt(f.fee)} {f.fee_asset})"
