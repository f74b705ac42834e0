"""What every panel needs: the session, the bridge, the alert service and the user's selection."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QObject, Signal

from app.domain.instrument import Instrument
from app.engine.alerts import AlertService
from app.engine.orders import OrderManager
from app.engine.session import TradingSession

from .bridge import EngineBridge
from .format import asset_places

STALE_S = 10.0  # no trade or book for this long: the data is stale (a banner; orders ask twice)


class Selection(QObject):
    """The symbol and timeframe the user is looking at, and prices they click on."""

    symbolChanged = Signal(str)
    timeframeChanged = Signal(str)
    priceClicked = Signal(object)  # Decimal, already on the tick grid
    sideRequested = Signal(str)  # "buy" | "sell" from a keyboard shortcut

    def __init__(self, symbol: str, timeframe: str = "1m") -> None:
        super().__init__()
        self.symbol = symbol
        self.timeframe = timeframe

    def set_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            self.symbol = symbol
            self.symbolChanged.emit(symbol)

    def set_timeframe(self, tf: str) -> None:
        if tf != self.timeframe:
            self.timeframe = tf
            self.timeframeChanged.emit(tf)


@dataclass
class UiContext:
    session: TradingSession
    bridge: EngineBridge
    alerts: AlertService
    selection: Selection
    mode: str = "demo"  # "demo" | "paper" | "live"
    confirm_orders: bool = False  # live mode asks before each order unless turned off for the session
    stale_after_s: float = STALE_S

    @property
    def venue(self) -> str:
        return self.session.venue.name

    @property
    def orders(self) -> OrderManager:
        return self.session.orders

    def instrument(self, symbol: str | None = None) -> Instrument | None:
        return self.session.orders.instruments.get((self.venue, symbol or self.selection.symbol))

    def last_price(self, symbol: str | None = None) -> Decimal | None:
        return self.session.orders.last_price(self.venue, symbol or self.selection.symbol)

    def instruments(self) -> list[Instrument]:
        return [i for (v, _s), i in self.session.orders.instruments.items() if v == self.venue]

    def places(self, asset: str) -> int:
        """Decimals ``asset`` is shown with (see ``format.asset_places``)."""
        return asset_places(asset, self.instruments())

    def available(self, asset: str) -> Decimal:
        """What the user can still spend of ``asset``: the engine's figure (total minus what open
        orders hold)."""
        return self.session.orders.available(self.venue, asset)

    def best_prices(self, symbol: str | None = None) -> tuple[Decimal | None, Decimal | None]:
        book = self.bridge.last_book.get(symbol or self.selection.symbol)
        return (book.best_bid, book.best_ask) if book is not None else (None, None)

    def stale_for(self, symbol: str | None = None) -> float | None:
        """Seconds without market data for ``symbol`` when that is more than ``stale_after_s`` (None
        while fresh); ``inf`` when none came yet."""
        age = self.bridge.data_age_s(symbol or self.selection.symbol)
        if age is None:
            return float("inf")
        return age if age > self.stale_after_s else None
