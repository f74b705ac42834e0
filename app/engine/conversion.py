"""Valuation: what one unit of an asset is worth in another currency, from real market prices.

A direct market (ETH/USDT), an inverse one (USDT/KRW for USDT in KRW) or one step through a
common currency (EUR → USDT → KRW) — prices of the venue asked about first, then any venue's.
Without any market, USD and the dollar stablecoins count as equal (a stated peg, used only when no
price says otherwise); every other currency, EUR and KRW included, needs a price: an asset that
cannot be valued is reported as such (``None``), never guessed at 1.
"""

from __future__ import annotations

from decimal import Decimal

from app.domain.instrument import InstrumentId
from app.domain.money import ONE

from .cache import MarketCache

USD_PEG = frozenset({"USD", "USDT", "USDC", "FDUSD", "BUSD", "DAI", "TUSD"})
BRIDGES = ("USDT", "USD", "USDC", "BTC", "ETH", "EUR", "KRW")


def split_symbol(symbol: str) -> tuple[str, str]:
    """Base and quote of a unified symbol ("BTC/USDT", "BTC/USDT:USDT" for a derivative)."""
    pair = symbol.split(":", 1)[0]
    base, _, quote = pair.partition("/")
    return base, quote


class Conversion:
    def __init__(self, market: MarketCache) -> None:
        self.market = market

    def _prices(self, base: str, quote: str, venue: str | None) -> Decimal | None:
        best: Decimal | None = None
        for iid, px in self.market.last.items():
            b, q = split_symbol(iid.symbol)
            if b != base or q != quote or px <= 0:
                continue
            if venue is not None and iid.venue == self.market.data_id(InstrumentId(venue, iid.symbol)).venue:
                return px
            if best is None:
                best = px
        return best

    def _direct(self, asset: str, ccy: str, venue: str | None) -> Decimal | None:
        if asset == ccy:
            return ONE
        px = self._prices(asset, ccy, venue)
        if px is not None:
            return px
        inv = self._prices(ccy, asset, venue)
        if inv is not None:
            return ONE / inv
        return None

    def rate(self, asset: str, ccy: str, venue: str | None = None) -> Decimal | None:
        """Units of ``ccy`` for one ``asset`` (None when no price connects them)."""
        direct = self._direct(asset, ccy, venue)
        if direct is not None:
            return direct
        for bridge in BRIDGES:
            if bridge in (asset, ccy):
                continue
            a = self._direct(asset, bridge, venue)
            if a is None:
                continue
            b = self._direct(bridge, ccy, venue)
            if b is not None:
                return a * b
        if asset in USD_PEG and ccy in USD_PEG:
            return ONE
        # A dollar stablecoin one step from a priced currency (USDC → USDT peg → KRW).
        for peg in USD_PEG:
            if asset in USD_PEG and peg != asset:
                b = self._direct(peg, ccy, venue)
                if b is not None:
                    return b
            if ccy in USD_PEG and peg != ccy:
                a = self._direct(asset, peg, venue)
                if a is not None:
                    return a
        return None

    def value(self, amount: Decimal, asset: str, ccy: str, venue: str | None = None) -> Decimal | None:
        r = self.rate(asset, ccy, venue)
        return None if r is None else amount * r
