"""Values a tax report is made of: the trades and other events it reads (each naming its source
row), and the lines it writes. Money is ``Decimal`` in the report's home currency."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from app.domain.money import ZERO, require_decimal


class EventKind(StrEnum):
    BUY = "buy"
    SELL = "sell"
    TRANSFER_IN = "transfer_in"  # between the person's own wallets and exchanges: not a disposal
    TRANSFER_OUT = "transfer_out"
    AIRDROP = "airdrop"  # treatment unsettled: listed, never computed
    STAKING = "staking"
    MINING = "mining"
    LENDING = "lending"  # interest or rewards received for coins lent: income at its value then

    @property
    def is_trade(self) -> bool:
        return self in (EventKind.BUY, EventKind.SELL)

    @property
    def is_income(self) -> bool:
        return self is EventKind.LENDING

    @property
    def is_unsettled(self) -> bool:
        return self in (EventKind.AIRDROP, EventKind.STAKING, EventKind.MINING)


@dataclass(frozen=True, slots=True)
class TaxEvent:
    """One trade (``symbol`` BASE/QUOTE, ``price`` in the quote) or one other movement of coins
    (``symbol`` is the asset; no price). Lending income: ``symbol`` the coin received, or
    BASE/QUOTE with ``price`` its value per unit in the quote (0: valued from market prices). ``fee_quote`` is the fee's value in the quote currency
    when the app stored it at fill time. ``source`` names the row it came from."""

    ts_ms: int
    venue: str
    symbol: str
    kind: EventKind
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    source: str
    fee_quote: Decimal | None = None

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity, positive=True)
        require_decimal("price", self.price)
        require_decimal("fee", self.fee)
        require_decimal("fee_quote", self.fee_quote, allow_none=True)

    @property
    def base(self) -> str:
        return self.symbol.split("/", 1)[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/", 1)[1].split(":", 1)[0] if "/" in self.symbol else ""


@dataclass(frozen=True, slots=True)
class OpeningCost:
    """Coins held without a recorded purchase, with the cost the user (or the app, estimated)
    gave them, in ``currency``; they join the pool at ``ts_ms``."""

    ts_ms: int
    venue: str
    asset: str
    quantity: Decimal
    cost: Decimal
    currency: str
    estimated: bool
    source: str


class LineStatus(StrEnum):
    OK = "ok"
    FALLBACK = "fallback_50"  # cost taken as a share of the proceeds (the user chose it)
    COST_UNKNOWN = "cost_unknown"  # left out of the net: no cost known and no fallback chosen
    NO_PRICE = "no_price"  # left out: no value in the home currency for this moment


@dataclass(frozen=True, slots=True)
class Disposal:
    """One disposal: a sale, the coin given in a coin-for-coin trade, or coins paying a fee."""

    ts_ms: int
    asset: str
    quantity: Decimal
    proceeds: Decimal  # gross, in the home currency
    cost: Decimal  # cost basis of the quantity disposed (for the total average: fixed at year end)
    fees: Decimal  # incidental costs deducted (0 under the unknown-cost fallback)
    status: LineStatus
    venue: str
    symbol: str
    source: str
    price_source: str
    fee_amount: Decimal = ZERO  # the fee in its own currency
    fee_asset: str = ""
    estimated: bool = False  # part of the cost is an estimate (coins held before the first fill)
    deemed: bool = False  # part of the cost is the 2027-01-01 market price

    @property
    def gain(self) -> Decimal | None:
        if self.status in (LineStatus.COST_UNKNOWN, LineStatus.NO_PRICE):
            return None
        return (self.proceeds - self.fees) - self.cost


@dataclass(frozen=True, slots=True)
class Acquisition:
    """Coins received in a trade, with their cost in the home currency (fees included where they
    are the acquisition's incidental cost)."""

    ts_ms: int
    asset: str
    quantity: Decimal
    cost: Decimal
    fee_amount: Decimal
    fee_asset: str
    fee_value: Decimal
    venue: str
    symbol: str
    source: str
    price_source: str


@dataclass(slots=True)
class Pool:
    """One coin's year: what was held at the start, bought, disposed and held at the end."""

    asset: str
    opening_qty: Decimal = ZERO
    opening_cost: Decimal = ZERO
    opening_source: Note | None = None  # where the opening cost came from (2027: deemed or actual)
    bought_qty: Decimal = ZERO
    bought_cost: Decimal = ZERO
    income_qty: Decimal = ZERO  # received as lending income, at its value then (the cost)
    income_cost: Decimal = ZERO
    sold_qty: Decimal = ZERO
    sold_cost: Decimal = ZERO
    unknown_qty: Decimal = ZERO  # disposed beyond everything known to be held
    closing_qty: Decimal = ZERO
    closing_cost: Decimal = ZERO
    gain: Decimal = ZERO
    average: Decimal | None = None  # the year's total average (Korea's method)


@dataclass(frozen=True, slots=True)
class Income:
    """Coins received as lending income, with their value in the home currency when received
    (None: no price then, left out of the income and their cost taken as 0)."""

    ts_ms: int
    asset: str
    quantity: Decimal
    value: Decimal | None
    venue: str
    symbol: str
    source: str
    price_source: str
    kind: EventKind = EventKind.LENDING

    @property
    def status(self) -> LineStatus:
        return LineStatus.OK if self.value is not None else LineStatus.NO_PRICE


@dataclass(frozen=True, slots=True)
class Listed:
    """An event shown in the report but not computed: own transfers, and airdrops, staking and
    mining (treatment unsettled)."""

    ts_ms: int
    venue: str
    asset: str
    quantity: Decimal
    kind: EventKind
    source: str


@dataclass(frozen=True, slots=True)
class Note:
    """A message for the reader: an English template with ``{name}`` placeholders (translated
    where shown)."""

    template: str
    params: dict[str, str] = field(default_factory=dict)
