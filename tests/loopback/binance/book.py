"""One symbol's public market at the loopback: the order book other traders make (levels with
Binance's update ids), trades and candles."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.enums import Side
from app.domain.market import BookLevel, BookSnapshot, Trade

INTERVAL_MS = {
    "1s": 1000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}


def s8(d: Decimal) -> str:
    """Binance's number text: fixed point, 8 decimals."""
    return f"{d:.8f}"


@dataclass
class Kline:
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0
    first_id: int = -1
    last_id: int = -1

    def row(self, interval_ms: int) -> list[Any]:
        return [
            self.open_ms,
            s8(self.open),
            s8(self.high),
            s8(self.low),
            s8(self.close),
            s8(self.volume),
            self.open_ms + interval_ms - 1,
            s8(self.quote_volume),
            self.trades,
            "0.00000000",
            "0.00000000",
            "0",
        ]


@dataclass
class SymbolMarket:
    symbol: str  # Binance's id, BTCUSDT
    unified: str  # BTC/USDT
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    update_id: int = 1_000
    trade_id: int = 0
    last: Decimal | None = None
    trades: list[dict[str, Any]] = field(default_factory=list)
    klines: dict[str, list[Kline]] = field(default_factory=dict)
    open_24h: Decimal | None = None
    volume_24h: Decimal = Decimal(0)

    def best(self) -> tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None]:
        bid = max(self.bids) if self.bids else None
        ask = min(self.asks) if self.asks else None
        return ((bid, self.bids[bid]) if bid is not None else None, (ask, self.asks[ask]) if ask is not None else None)

    def apply(
        self, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]], gap: int = 0, ts: int = 0
    ) -> dict[str, Any]:
        """Change levels (quantity 0 removes one); the depthUpdate event that says so."""
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for p, q in changes:
                if q > 0:
                    side[p] = q
                else:
                    side.pop(p, None)
        first = self.update_id + 1 + gap
        self.update_id = first + max(len(bids) + len(asks), 1) - 1
        return {
            "e": "depthUpdate",
            "E": ts,
            "s": self.symbol,
            "U": first,
            "u": self.update_id,
            "b": [[s8(p), s8(q)] for p, q in bids],
            "a": [[s8(p), s8(q)] for p, q in asks],
        }

    def snapshot(self, limit: int) -> dict[str, Any]:
        bids = sorted(self.bids.items(), reverse=True)[:limit]
        asks = sorted(self.asks.items())[:limit]
        return {
            "lastUpdateId": self.update_id,
            "bids": [[s8(p), s8(q)] for p, q in bids],
            "asks": [[s8(p), s8(q)] for p, q in asks],
        }

    def domain_book(self, venue: str, ts: int, depth: int = 50) -> BookSnapshot:
        bids = tuple(BookLevel(p, q) for p, q in sorted(self.bids.items(), reverse=True)[:depth])
        asks = tuple(BookLevel(p, q) for p, q in sorted(self.asks.items())[:depth])
        return BookSnapshot(venue, self.unified, bids, asks, ts)

    def book_ticker(self) -> dict[str, Any] | None:
        bid, ask = self.best()
        if bid is None or ask is None:
            return None
        return {
            "u": self.update_id,
            "s": self.symbol,
            "b": s8(bid[0]),
            "B": s8(bid[1]),
            "a": s8(ask[0]),
            "A": s8(ask[1]),
        }

    def trade(self, price: Decimal, qty: Decimal, taker: Side, ts: int) -> tuple[dict[str, Any], Trade]:
        """A trade between other traders; the trade event and the domain trade the matching core sees."""
        self.trade_id += 1
        self.last = price
        if self.open_24h is None:
            self.open_24h = price
        self.volume_24h += qty
        buyer_maker = taker is Side.SELL
        rec = {
            "id": self.trade_id,
            "price": s8(price),
            "qty": s8(qty),
            "quoteQty": s8(price * qty),
            "time": ts,
            "isBuyerMaker": buyer_maker,
            "isBestMatch": True,
        }
        self.trades.append(rec)
        del self.trades[:-1000]
        for interval, rows in self.klines.items():
            self._kline(interval, rows, price, qty, ts)
        event = {
            "e": "trade",
            "E": ts,
            "s": self.symbol,
            "t": self.trade_id,
            "p": s8(price),
            "q": s8(qty),
            "T": ts,
            "m": buyer_maker,
            "M": True,
        }
        return event, Trade("loopback", self.unified, str(self.trade_id), price, qty, taker, ts)

    def _kline(self, interval: str, rows: list[Kline], price: Decimal, qty: Decimal, ts: int) -> None:
        span = INTERVAL_MS[interval]
        start = ts - ts % span
        if not rows or rows[-1].open_ms < start:
            rows.append(Kline(start, price, price, price, price, first_id=self.trade_id))
            del rows[:-1000]
        k = rows[-1]
        k.high, k.low, k.close = max(k.high, price), min(k.low, price), price
        k.volume += qty
        k.quote_volume += qty * price
        k.trades += 1
        k.last_id = self.trade_id

    def kline_event(self, interval: str, ts: int) -> dict[str, Any] | None:
        rows = self.klines.setdefault(interval, [])
        if not rows:
            return None
        k, span = rows[-1], INTERVAL_MS[interval]
        return {
            "e": "kline",
            "E": ts,
            "s": self.symbol,
            "k": {
                "t": k.open_ms,
                "T": k.open_ms + span - 1,
                "s": self.symbol,
                "i": interval,
                "f": k.first_id,
                "L": k.last_id,
                "o": s8(k.open),
                "c": s8(k.close),
                "h": s8(k.high),
                "l": s8(k.low),
                "v": s8(k.volume),
                "n": k.trades,
                "x": ts >= k.open_ms + span - 1,
                "q": s8(k.quote_volume),
                "V": "0.00000000",
                "Q": "0.00000000",
                "B": "0",
            },
        }

    def ticker_24h(self, ts: int) -> dict[str, Any]:
        last = self.last or Decimal(0)
        opened = self.open_24h or last
        bid, ask = self.best()
        change = last - opened
        pct = (change / opened * 100) if opened else Decimal(0)
        return {
            "symbol": self.symbol,
            "priceChange": s8(change),
            "priceChangePercent": f"{pct:.3f}",
            "weightedAvgPrice": s8(last),
            "prevClosePrice": s8(opened),
            "lastPrice": s8(last),
            "lastQty": self.trades[-1]["qty"] if self.trades else "0.00000000",
            "bidPrice": s8(bid[0]) if bid else "0.00000000",
            "bidQty": s8(bid[1]) if bid else "0.00000000",
            "askPrice": s8(ask[0]) if ask else "0.00000000",
            "askQty": s8(ask[1]) if ask else "0.00000000",
            "openPrice": s8(opened),
            "highPrice": s8(last),
            "lowPrice": s8(last),
            "volume": s8(self.volume_24h),
            "quoteVolume": s8(self.volume_24h * last),
            "openTime": ts - 86_400_000,
            "closeTime": ts,
            "firstId": 1 if self.trade_id else -1,
            "lastId": self.trade_id or -1,
            "count": self.trade_id,
        }

    def ticker_event(self, ts: int) -> dict[str, Any]:
        t = self.ticker_24h(ts)
        return {
            "e": "24hrTicker",
            "E": ts,
            "s": self.symbol,
            "p": t["priceChange"],
            "P": t["priceChangePercent"],
            "w": t["weightedAvgPrice"],
            "x": t["prevClosePrice"],
            "c": t["lastPrice"],
            "Q": t["lastQty"],
            "b": t["bidPrice"],
            "B": t["bidQty"],
            "a": t["askPrice"],
            "A": t["askQty"],
            "o": t["openPrice"],
            "h": t["highPrice"],
            "l": t["lowPrice"],
            "v": t["volume"],
            "q": t["quoteVolume"],
            "O": t["openTime"],
            "C": t["closeTime"],
            "F": t["firstId"],
            "L": t["lastId"],
            "n": t["count"],
        }

    def mini_ticker_event(self, ts: int) -> dict[str, Any]:
        t = self.ticker_24h(ts)
        return {
            "e": "24hrMiniTicker",
            "E": ts,
            "s": self.symbol,
            "c": t["lastPrice"],
            "o": t["openPrice"],
            "h": t["highPrice"],
            "l": t["lowPrice"],
            "v": t["volume"],
            "q": t["quoteVolume"],
        }
