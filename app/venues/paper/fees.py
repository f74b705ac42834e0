"""Fee model and fill-model knobs of the paper exchange: what it charges, and what it assumes
where the market data says nothing (the reserve of a stop buy, the path of price inside a bar)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.domain.enums import LiquiditySide, Side
from app.domain.instrument import Instrument
from app.domain.market import Bar, BookLevel, BookSnapshot, Trade

FEE_QUANT = Decimal("1e-8")
# A stop-market buy reserves this much above its trigger, since it will pay the ask after it.
STOP_BUY_RESERVE = Decimal("1.05")
# Price of the one-level book around each bar price when the instrument is not known.
DEFAULT_TICK = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class FeeModel:
    """The instrument's maker or taker rate on the notional, charged in its quote currency,
    rounded half-up to ``quantum``."""

    quantum: Decimal = FEE_QUANT

    def rate(self, inst: Instrument, liquidity: LiquiditySide) -> Decimal:
        return inst.maker_fee if liquidity is LiquiditySide.MAKER else inst.taker_fee

    def fee(self, inst: Instrument, notional: Decimal, liquidity: LiquiditySide) -> Decimal:
        rate = inst.maker_fee if liquidity is LiquiditySide.MAKER else inst.taker_fee
        return (notional * rate).quantize(self.quantum, ROUND_HALF_UP)

    def asset(self, inst: Instrument) -> str:
        return inst.quote

    def with_worst_fee(self, inst: Instrument, notional: Decimal) -> Decimal:
        """``notional`` plus the higher of the two rates: what a buy must set aside before it
        knows whether it will make or take."""
        rate = max(inst.taker_fee, inst.maker_fee)
        return (notional * (1 + rate)).quantize(self.quantum, ROUND_HALF_UP)


def bar_path(bar: Bar, tick: Decimal) -> Iterator[BookSnapshot | Trade]:
    """A bar as the market events it stands for: four prices along open → low → high → close for
    a rising bar (close ≥ open) and open → high → low → close for a falling one, each a one-tick
    book around the price and then a trade of a quarter of the bar's volume (1 for an empty bar)."""
    path = (
        (bar.open, bar.low, bar.high, bar.close) if bar.close >= bar.open else (bar.open, bar.high, bar.low, bar.close)
    )
    qty = bar.volume / 4 if bar.volume > 0 else Decimal(1)
    prev = path[0]
    for i, px in enumerate(path):
        ts = bar.open_ms + i
        yield BookSnapshot(bar.venue, bar.symbol, (BookLevel(px - tick, qty),), (BookLevel(px + tick, qty),), ts)
        side = Side.BUY if px >= prev else Side.SELL
        yield Trade(bar.venue, bar.symbol, f"bar{bar.open_ms}-{i}", px, qty, side, ts)
        prev = px
