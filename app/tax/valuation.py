"""Values in the home currency: the user's FX table for fiat and dollar stablecoins, and market
prices (candles, or prices the user gives) for coins. Every value says where it came from."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from app.domain.money import ONE

from .rules import FIAT, STABLECOINS, USD_PEG_OF

FX_LOOKBACK_DAYS = 7  # weekends and holidays: the latest published rate before the day
PRICE_MAX_AGE_MS = 60 * 60 * 1000  # a market price older than this does not value a trade


@dataclass(frozen=True, slots=True)
class FxRate:
    day: date
    base: str
    quote: str
    rate: Decimal  # one unit of base in quote
    source: str


class FxTable:
    """Official rates by day (the user supplies them: e.g. the Bank of Korea's base rates)."""

    def __init__(self, rates: Iterable[FxRate] = ()) -> None:
        self._by_pair: dict[tuple[str, str], dict[date, FxRate]] = {}
        for r in rates:
            self._by_pair.setdefault((r.base, r.quote), {})[r.day] = r

    def __bool__(self) -> bool:
        return bool(self._by_pair)

    def _find(self, base: str, quote: str, day: date) -> FxRate | None:
        table = self._by_pair.get((base, quote))
        if not table:
            return None
        for back in range(FX_LOOKBACK_DAYS + 1):
            hit = table.get(day - timedelta(days=back))
            if hit is not None:
                return hit
        return None

    def rate(self, base: str, quote: str, day: date) -> tuple[Decimal, str] | None:
        """One ``base`` in ``quote`` on ``day`` (or the latest rate up to a week before), with
        its source; an inverse rate serves too."""
        if base == quote:
            return ONE, ""
        hit = self._find(base, quote, day)
        if hit is not None:
            return hit.rate, f"FX {base}/{quote} {hit.day.isoformat()} = {hit.rate} ({hit.source})"
        inv = self._find(quote, base, day)
        if inv is not None:
            return ONE / inv.rate, f"FX 1 / ({quote}/{base} {inv.day.isoformat()} = {inv.rate}) ({inv.source})"
        return None


@dataclass(frozen=True, slots=True)
class MarketPrice:
    ts_ms: int
    asset: str
    currency: str
    price: Decimal
    source: str


class PriceTable:
    """Market prices of coins over time (1m candles, or prices the user gives): the latest price
    at or before a moment, if it is recent enough."""

    def __init__(self, prices: Iterable[MarketPrice] = ()) -> None:
        self._series: dict[str, list[MarketPrice]] = {}
        self._keys: dict[str, list[int]] = {}
        for p in prices:
            self.add(p)
        self._sorted = False

    def add(self, p: MarketPrice) -> None:
        self._series.setdefault(p.asset, []).append(p)
        self._sorted = False

    def price(self, asset: str, ts_ms: int) -> MarketPrice | None:
        series = self._series.get(asset)
        if not series:
            return None
        if not self._sorted:
            for a, s in self._series.items():
                s.sort(key=lambda p: p.ts_ms)
                self._keys[a] = [p.ts_ms for p in s]
            self._sorted = True
        i = bisect.bisect_right(self._keys[asset], ts_ms) - 1
        if i < 0 or ts_ms - series[i].ts_ms > PRICE_MAX_AGE_MS:
            return None
        return series[i]


class Valuer:
    """One unit of an asset in the home currency at a moment, and where that value came from."""

    def __init__(self, home: str, fx: FxTable, prices: PriceTable, tz: timezone) -> None:
        self.home = home
        self.fx = fx
        self.prices = prices
        self.tz = tz

    def day(self, ts_ms: int) -> date:
        return datetime.fromtimestamp(ts_ms / 1000, tz=self.tz).date()

    def is_coin(self, asset: str) -> bool:
        return asset not in FIAT

    def unit_value(self, asset: str, ts_ms: int, _depth: int = 0) -> tuple[Decimal, str] | None:
        if asset == self.home:
            return ONE, ""
        day = self.day(ts_ms)
        if asset in FIAT:
            return self.fx.rate(asset, self.home, day)
        if asset in STABLECOINS:
            direct = self.fx.rate(asset, self.home, day)
            if direct is not None:
                return direct
            usd = self.fx.rate(USD_PEG_OF, self.home, day)
            if usd is None:
                return None
            peg = f"1 {asset} = 1 {USD_PEG_OF}"
            return usd[0], f"{peg}; {usd[1]}" if usd[1] else peg
        p = self.prices.price(asset, ts_ms)
        if p is None or _depth > 1:
            return None
        conv = self.unit_value(p.currency, ts_ms, _depth + 1)
        if conv is None:
            return None
        src = f"{asset} {p.price} {p.currency} ({p.source})"
        return p.price * conv[0], f"{src}; {conv[1]}" if conv[1] else src
