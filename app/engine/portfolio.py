"""Spot holdings, FIFO lots, realized/unrealized P&L and equity, in exact decimals.

On a spot account a position is what you hold: never below zero. Selling coins sells lots
oldest first; coins the account held before the app saw them bought (a deposit, a demo's
starting coins) get a cost basis of their own (``CostBasis``: the first price seen, marked
estimated until the user enters the real one), so their sale has a P&L and a tax report has a
cost. What is sold beyond every known lot is counted apart (``unbased_sold``), never as a short.

Lots carry their total cost (fees of the buy included), so selling a whole lot realizes exactly
what it cost; only partial lots divide. A sell's fee lowers its proceeds. A fee in the base asset
changes the quantity received; a fee in a third asset (BNB) counts at its quote value when the
fill arrived (``Fill.fee_quote``, stored with the fill, so a restart gives the same P&L).

Values in the valuation currency go through ``Conversion`` (real prices; unpriced assets are
reported, not guessed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from app.domain.execution import Balance
from app.domain.instrument import Instrument, InstrumentId
from app.domain.money import ZERO
from app.domain.order import Fill
from app.domain.portfolio import CostBasis, Lot, Position

from .bus import EventBus
from .cache import MarketCache
from .conversion import USD_PEG, Conversion, split_symbol


@dataclass(slots=True)
class _Book:
    """One instrument's lots and what its sells realized."""

    lots: deque[Lot] = field(default_factory=deque)
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    unbased_sold: Decimal = ZERO  # sold beyond every known lot: no cost to realize against

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((lot.cost for lot in self.lots), ZERO)


class Portfolio:
    def __init__(self, valuation_currency: str = "USDT", market: MarketCache | None = None) -> None:
        self.ccy = valuation_currency
        self.market = market if market is not None else MarketCache(EventBus())
        self.conversion = Conversion(self.market)
        self.balances: dict[str, dict[str, Decimal]] = {}  # venue -> asset -> total
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.unpriced_fees: dict[str, Decimal] = {}
        self._books: dict[InstrumentId, _Book] = {}

    # -- set-up -----------------------------------------------------------------------------------
    def add_instruments(self, instruments: dict[str, Instrument]) -> None:
        for inst in instruments.values():
            self.instruments[inst.id] = inst

    def set_balances(self, venue: str, balances: dict[str, Balance]) -> None:
        self.balances[venue] = {a: b.total for a, b in balances.items()}

    def restore(self, fills: Iterable[Fill], bases: Iterable[CostBasis] = ()) -> None:
        """Rebuild every position from the history (the fills are the truth), each cost basis
        taking its place in time among them."""
        self._books.clear()
        events: list[tuple[int, int, CostBasis | Fill]] = [(b.ts_ms, 0, b) for b in bases]
        events += [(f.ts_ms, 1, f) for f in fills]
        events.sort(key=lambda e: (e[0], e[1]))
        for _ts, _kind, ev in events:
            if isinstance(ev, CostBasis):
                self.add_cost_basis(ev)
            else:
                self._apply_position(ev)

    def _base_quote(self, venue: str, symbol: str) -> tuple[str, str]:
        inst = self.instruments.get(InstrumentId(venue, symbol))
        return (inst.base, inst.quote) if inst else split_symbol(symbol)

    # -- market prices ----------------------------------------------------------------------------
    def mark(self, symbol: str, price: Decimal, venue: str = "") -> None:
        """Set a last price by hand (tests, tools); the app's prices come from the bus."""
        self.market.last[InstrumentId(venue, symbol)] = price

    def mark_of(self, venue: str, symbol: str) -> Decimal | None:
        px = self.market.last_price(InstrumentId(venue, symbol))
        if px is None:
            px = self.market.last.get(InstrumentId("", symbol))
        return px

    def price_of(self, asset: str, venue: str | None = None) -> Decimal | None:
        """One unit of ``asset`` in the valuation currency (None: no price connects them)."""
        return self.conversion.rate(asset, self.ccy, venue)

    # -- updates ----------------------------------------------------------------------------------
    def fee_in_quote(self, fill: Fill) -> Decimal | None:
        """The fee's value in the fill's quote currency now (None: no price for the fee asset)."""
        base, quote = self._base_quote(fill.venue, fill.symbol)
        if not fill.fee or fill.fee_asset == quote:
            return fill.fee
        if fill.fee_asset == base:
            return fill.fee * fill.price
        return self.conversion.value(fill.fee, fill.fee_asset, quote, fill.venue)

    def on_fill(self, fill: Fill) -> Fill:
        """Book a fill in balances and lots; returns it with its fee's quote value set."""
        if fill.fee_quote is None and fill.fee:
            fq = self.fee_in_quote(fill)
            if fq is not None:
                fill = replace(fill, fee_quote=fq)
        base, quote = self._base_quote(fill.venue, fill.symbol)
        bal = self.balances.setdefault(fill.venue, {})
        sign = fill.side.sign
        bal[base] = bal.get(base, ZERO) + sign * fill.quantity
        bal[quote] = bal.get(quote, ZERO) - sign * fill.notional
        if fill.fee:
            bal[fill.fee_asset] = bal.get(fill.fee_asset, ZERO) - fill.fee
        self._apply_position(fill)
        return fill

    def add_cost_basis(self, basis: CostBasis) -> None:
        book = self._books.setdefault(InstrumentId(basis.venue, basis.symbol), _Book())
        book.lots.append(
            Lot(
                basis.venue,
                basis.symbol,
                basis.quantity,
                basis.cost,
                basis.ts_ms,
                f"basis:{basis.asset}:{basis.ts_ms}",
                basis.estimated,
            )
        )

    def _apply_position(self, fill: Fill) -> None:
        base, _quote = self._base_quote(fill.venue, fill.symbol)
        book = self._books.setdefault(InstrumentId(fill.venue, fill.symbol), _Book())
        fee_q = fill.fee_quote if fill.fee_quote is not None else self.fee_in_quote(fill)
        if fee_q is None:
            self.unpriced_fees[fill.fee_asset] = self.unpriced_fees.get(fill.fee_asset, ZERO) + fill.fee
            fee_q = ZERO
        book.fees += fee_q
        qty = fill.quantity
        if fill.fee and fill.fee_asset == base:  # the fee came out of the coins traded
            qty = qty - fill.fee if fill.side.sign > 0 else qty + fill.fee
            fee_q = ZERO
        if fill.side.sign > 0:
            if qty > 0:
                book.lots.append(Lot(fill.venue, fill.symbol, qty, fill.notional + fee_q, fill.ts_ms, fill.trade_id))
            return
        proceeds = fill.notional - fee_q
        left, cost = qty, ZERO
        while left > 0 and book.lots:
            lot = book.lots[0]
            if lot.quantity <= left:
                cost += lot.cost
                left -= lot.quantity
                book.lots.popleft()
            else:
                part = lot.cost * left / lot.quantity
                cost += part
                book.lots[0] = replace(lot, quantity=lot.quantity - left, cost=lot.cost - part)
                left = ZERO
        if left > 0:
            book.unbased_sold += left
            proceeds = proceeds * (qty - left) / qty if qty else ZERO  # only what had a cost realizes
        book.realized += proceeds - cost

    # -- queries ----------------------------------------------------------------------------------
    def lots(self, venue: str, symbol: str) -> list[Lot]:
        book = self._books.get(InstrumentId(venue, symbol))
        return list(book.lots) if book else []

    def position(self, venue: str, symbol: str) -> Position:
        book = self._books.get(InstrumentId(venue, symbol)) or _Book()
        qty = book.quantity
        mark = self.mark_of(venue, symbol)
        cost = book.cost
        return Position(
            venue=venue,
            symbol=symbol,
            quantity=qty,
            avg_cost=(cost / qty) if qty else ZERO,
            realized_pnl=book.realized,
            unrealized_pnl=(qty * mark - cost) if (mark is not None and qty) else ZERO,
            mark=mark,
            fees=book.fees,
            estimated=any(lot.estimated for lot in book.lots),
        )

    def positions(self, venue: str | None = None) -> list[Position]:
        return [self.position(k.venue, k.symbol) for k in self._books if venue is None or k.venue == venue]

    def unbased_sold(self, venue: str, symbol: str) -> Decimal:
        book = self._books.get(InstrumentId(venue, symbol))
        return book.unbased_sold if book else ZERO

    def balance(self, venue: str, asset: str) -> Decimal:
        return self.balances.get(venue, {}).get(asset, ZERO)

    def holdings(self, venue: str) -> dict[str, Decimal]:
        """Every asset held above zero on ``venue``."""
        return {a: q for a, q in self.balances.get(venue, {}).items() if q > 0}

    def equity(self, venue: str) -> Decimal:
        """The value of everything priced on ``venue`` (see ``unpriced_assets`` for the rest)."""
        total = ZERO
        for asset, amount in self.balances.get(venue, {}).items():
            px = self.price_of(asset, venue)
            if px is not None:
                total += amount * px
        return total

    def unpriced_assets(self, venue: str) -> list[str]:
        return sorted(a for a, amt in self.balances.get(venue, {}).items() if amt and self.price_of(a, venue) is None)

    def equity_known(self, venue: str) -> bool:
        """True once the venue's balances are known and every asset held has a price: before
        that, equity is understated (an equity curve must not start at zero)."""
        return bool(self.balances.get(venue)) and not self.unpriced_assets(venue)

    def realized_pnl(self, venue: str | None = None) -> Decimal:
        return sum((b.realized for k, b in self._books.items() if venue is None or k.venue == venue), ZERO)

    def unrealized_pnl(self, venue: str | None = None) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions(venue)), ZERO)

    def exposure(self, venue: str, asset: str) -> Decimal:
        """Value of the holdings of ``asset`` in the valuation currency (0 when unpriced)."""
        px = self.price_of(asset, venue)
        return abs(self.balance(venue, asset)) * px if px is not None else ZERO

    # -- coins held without a purchase ---------------------------------------------------------------
    def home_instrument(self, venue: str, asset: str) -> Instrument | None:
        """The market where ``asset``'s lots are kept: quoted in the valuation currency if there is
        one, else in a dollar stablecoin, else the first listed."""
        candidates = [i for k, i in self.instruments.items() if k.venue == venue and i.base == asset]
        for pick in (lambda i: i.quote == self.ccy, lambda i: i.quote in USD_PEG, lambda i: True):
            for inst in candidates:
                if pick(inst):
                    return inst
        return None

    def beyond_lots(self, venue: str) -> dict[str, Decimal]:
        """Coins held beyond every lot, per asset (priced or not)."""
        out: dict[str, Decimal] = {}
        for asset, held in self.holdings(venue).items():
            inst = self.home_instrument(venue, asset)
            if inst is None:
                continue
            in_lots = sum(
                (
                    self._books[k].quantity
                    for k, i in self.instruments.items()
                    if k.venue == venue and i.base == asset and k in self._books
                ),
                ZERO,
            )
            extra = inst.round_qty(held - in_lots)
            if extra > 0:
                out[asset] = extra
        return out

    def unbased_holdings(self, venue: str, now_ms: int) -> list[CostBasis]:
        """Coins held beyond every lot, each with the cost taken from the current price (estimated):
        what a start finds after a deposit or on an account's first run."""
        out: list[CostBasis] = []
        for asset, extra in self.beyond_lots(venue).items():
            inst = self.home_instrument(venue, asset)
            px = self.mark_of(venue, inst.symbol) if inst is not None else None
            if inst is not None and px is not None:
                out.append(CostBasis(venue, asset, inst.symbol, extra, extra * px, now_ms, estimated=True))
        return out
