"""The engine's typed cache: instruments, open orders, live order lists and the latest market
data, each keyed by ``InstrumentId``. The UI and tests read it instead of private attributes.

Market data arrives on the bus under the venue that published it. A venue that trades on another
venue's data (a paper account on Binance's prices) is registered with ``alias_data``, so its
instruments read that venue's prices, and a Kraken trade never moves a Binance order.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal

from app.domain.enums import Side
from app.domain.instrument import Instrument, InstrumentId
from app.domain.market import BookSnapshot, Ticker, Trade
from app.domain.order import Order
from app.domain.order_list import OrderList

from .bus import EventBus

RECENT_CLOSED = 2_000  # closed orders kept in memory for late reports


class MarketCache:
    """Last trade price and book per instrument, fed by the bus."""

    def __init__(self, bus: EventBus) -> None:
        self.last: dict[InstrumentId, Decimal] = {}
        self.books: dict[InstrumentId, BookSnapshot] = {}
        self.last_ms: dict[InstrumentId, int] = {}
        self._data_venue: dict[str, str] = {}
        bus.subscribe(Trade, self.on_trade)
        bus.subscribe(BookSnapshot, self.on_book)
        bus.subscribe(Ticker, self.on_ticker)

    def alias_data(self, venue: str, data_venue: str) -> None:
        """``venue`` trades on the market data that ``data_venue`` publishes."""
        if venue != data_venue:
            self._data_venue[venue] = data_venue

    def data_id(self, iid: InstrumentId) -> InstrumentId:
        """The id under which ``iid``'s market data arrives."""
        source = self._data_venue.get(iid.venue)
        return iid if source is None else InstrumentId(source, iid.symbol)

    def on_trade(self, t: Trade) -> None:
        iid = InstrumentId(t.venue, t.symbol)
        self.last[iid] = t.price
        self.last_ms[iid] = t.ts_ms

    def on_book(self, b: BookSnapshot) -> None:
        self.books[InstrumentId(b.venue, b.symbol)] = b

    def on_ticker(self, t: Ticker) -> None:
        iid = InstrumentId(t.venue, t.symbol)
        self.last[iid] = t.last
        self.last_ms[iid] = t.ts_ms

    def last_price(self, iid: InstrumentId) -> Decimal | None:
        return self.last.get(self.data_id(iid))

    def book(self, iid: InstrumentId) -> BookSnapshot | None:
        return self.books.get(self.data_id(iid))

    def touch(self, iid: InstrumentId, side: Side) -> Decimal | None:
        """The price a market order of ``side`` would meet first (best ask to buy, best bid to sell)."""
        b = self.book(iid)
        if b is None:
            return None
        return b.best_ask if side is Side.BUY else b.best_bid


class Cache:
    """Instruments, orders and order lists as the engine knows them now."""

    def __init__(self, bus: EventBus) -> None:
        self.market = MarketCache(bus)
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.open: dict[str, Order] = {}
        self.lists: dict[str, OrderList] = {}
        self._closed: OrderedDict[str, Order] = OrderedDict()

    # -- instruments --------------------------------------------------------------------------------
    def add_instruments(self, instruments: dict[str, Instrument]) -> None:
        for inst in instruments.values():
            self.instruments[inst.id] = inst

    def instrument(self, venue: str, symbol: str) -> Instrument | None:
        return self.instruments.get(InstrumentId(venue, symbol))

    def venue_instruments(self, venue: str) -> list[Instrument]:
        return [i for k, i in self.instruments.items() if k.venue == venue]

    # -- orders -------------------------------------------------------------------------------------
    def track(self, o: Order) -> None:
        """Keep an order where lookups find it: open ones in ``open``, a few closed ones aside."""
        if o.status.is_final:
            self.open.pop(o.client_order_id, None)
            self._closed[o.client_order_id] = o
            self._closed.move_to_end(o.client_order_id)
            while len(self._closed) > RECENT_CLOSED:
                self._closed.popitem(last=False)
        else:
            self.open[o.client_order_id] = o

    def order(self, client_order_id: str) -> Order | None:
        """An order in memory (open or recently closed); the store has the rest."""
        return self.open.get(client_order_id) or self._closed.get(client_order_id)

    def open_orders(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self.open.values()
            if (venue is None or o.venue == venue) and (symbol is None or o.symbol == symbol)
        ]

    def iter_open(self) -> Iterator[Order]:
        return iter(list(self.open.values()))

    # -- order lists --------------------------------------------------------------------------------
    def live_lists(self, venue: str | None = None) -> list[OrderList]:
        return [ol for ol in self.lists.values() if ol.status.is_live and (venue is None or ol.venue == venue)]
