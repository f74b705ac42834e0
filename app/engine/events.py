"""Events the engine publishes on the bus (market data is published as the domain values)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.enums import TradingState
from app.domain.order import Fill, Order, OrderRequest
from app.domain.order_list import OrderList


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An order changed and the change is persisted. Treat ``order`` as read-only."""

    order: Order


@dataclass(frozen=True, slots=True)
class FillReceived:
    fill: Fill
    order: Order


@dataclass(frozen=True, slots=True)
class OrderDenied:
    """An order refused before it reached the venue, with the reason in words and as a key."""

    request: object  # OrderRequest, OcoRequest or BracketRequest
    key: str
    message: str
    params: dict[str, str] = field(default_factory=dict)
    field: str = ""
    template: str = ""  # the English text with {placeholders}: the UI translates it

    def __post_init__(self) -> None:
        if not self.template:
            object.__setattr__(self, "template", self.message)


@dataclass(frozen=True, slots=True)
class OrderListUpdated:
    order_list: OrderList


@dataclass(frozen=True, slots=True)
class RiskStateChanged:
    state: TradingState
    reason: str


@dataclass(frozen=True, slots=True)
class PortfolioChanged:
    venue: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class Msg:
    """A sentence for the user: an English template with ``{placeholders}`` and its values. A value
    may be a ``Msg`` itself (an order in words: "buy 0.1 BTC/USDT limit @ 60000"), translated the
    same way. ``str()`` gives the English text; the UI translates each template first."""

    template: str
    params: dict[str, str | Msg] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**{k: str(v) for k, v in self.params.items()}) if self.params else self.template


@dataclass(frozen=True, slots=True)
class ReconciliationDone:
    venue: str
    changes: tuple[str, ...]  # in English, for logs and the console
    messages: tuple[Msg, ...] = ()


@dataclass(frozen=True, slots=True)
class ActivityLogged:
    """What the app did, in words, for the activity panel and the headless console."""

    level: str  # "info" | "warning" | "error"
    message: str  # in English
    ts_ms: int
    template: str = ""  # for translation: _(template).format(**params)
    params: dict[str, str | Msg] = field(default_factory=dict)

    def text(self, translate: Callable[[str], str]) -> str:
        return translated(self.message, self.template, self.params, translate)


def translated(message: str, template: str, params: Mapping[str, str | Msg], translate: Callable[[str], str]) -> str:
    """The user's-language text of an engine message (the English ``message`` if it has no template)."""
    if not template:
        return message
    values = {
        k: translated(str(v), v.template, v.params, translate) if isinstance(v, Msg) else v for k, v in params.items()
    }
    return translate(template).format(**values) if values else translate(template)


@dataclass(frozen=True, slots=True)
class EquityPoint:
    venue: str
    ts_ms: int
    equity: Decimal


__all__ = [
    "ActivityLogged",
    "EquityPoint",
    "FillReceived",
    "Msg",
    "OrderDenied",
    "OrderListUpdated",
    "OrderRequest",
    "OrderUpdated",
    "PortfolioChanged",
    "ReconciliationDone",
    "RiskStateChanged",
]
