"""The protocol every venue implements. The engine knows venues only through this module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from app.domain.execution import Balance, ExecutionReport, VenueOrderState
from app.domain.instrument import Instrument
from app.domain.market import Bar, BookSnapshot, Trade
from app.domain.order import DEFAULT_ID_RULES, Fill, IdRules, Order

ReportHandler = Callable[[ExecutionReport], None]


@dataclass(frozen=True, slots=True)
class StreamConnected:
    """A venue's account stream is subscribed (again): what changed while it was away is found by
    reconciling. ``reconnect``: it had been connected before."""

    venue: str
    reconnect: bool


@dataclass(frozen=True, slots=True)
class BalancesChanged:
    """The account's balances after a change the exchange pushed (every asset, not only the changed)."""

    venue: str
    balances: dict[str, Balance]


AccountEvent = StreamConnected | BalancesChanged


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the venue does natively; the order manager emulates the rest locally."""

    native_stop: bool = True
    native_take_profit: bool = True
    native_oco: bool = False
    native_trailing: bool = False
    post_only: bool = True
    native_amend: bool = False  # moves a working order in place (else: cancel, then place the rest)
    trading: bool = True  # False for a data-only source
    id_rules: IdRules = DEFAULT_ID_RULES  # what the venue accepts as a client order id and tag


@runtime_checkable
class MarketData(Protocol):
    """A source of market data (a live exchange, the demo market, a replay)."""

    name: str

    async def load_markets(self) -> dict[str, Instrument]: ...

    def watch_trades(self, symbol: str) -> AsyncIterator[Trade]: ...

    def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]: ...

    def watch_bars(self, symbol: str, timeframe: str) -> AsyncIterator[Bar]: ...

    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]: ...

    async def close(self) -> None: ...


@runtime_checkable
class Venue(MarketData, Protocol):
    """A venue we can trade on. ``place`` and ``cancel`` return the venue's first answer;
    later changes (fills, cancels, expiries) arrive through the report handler."""

    capabilities: Capabilities

    @property
    def data_venue(self) -> str:
        """The venue name its market data arrives under (a paper account: its source's)."""
        ...

    def set_report_handler(self, handler: ReportHandler) -> None: ...

    async def place(self, order: Order) -> ExecutionReport: ...

    async def cancel(self, order: Order) -> ExecutionReport: ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrderState]: ...

    async def fetch_order(self, order: Order) -> VenueOrderState | None: ...

    async def fetch_my_trades(self, symbol: str | None, since_ms: int | None) -> list[Fill]: ...

    async def fetch_balances(self) -> dict[str, Balance]: ...


@runtime_checkable
class AccountStream(Protocol):
    """A venue whose own orders, fills and balances arrive on a stream (an exchange's user-data
    stream). Iterating ``watch_account`` keeps it subscribed: acknowledgements, fills and cancels
    go to the report handler as they come; the iterator yields when it (re)subscribes and when
    balances change, and raises ``TemporaryVenueError`` when the stream drops or stalls (the caller
    backs off, iterates again, and reconciles)."""

    name: str

    def watch_account(self) -> AsyncIterator[AccountEvent]: ...


@runtime_checkable
class NativeOco(Protocol):
    """A venue that holds an OCO itself (``capabilities.native_oco``): both legs in one request,
    one leg's fill or trigger ending the other at the exchange."""

    async def place_oco(self, limit: Order, stop: Order) -> tuple[ExecutionReport, ExecutionReport]: ...
