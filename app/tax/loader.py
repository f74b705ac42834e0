"""Everything a report reads, gathered: the fills of every venue and the costs of coins held
before the first fill (from the store), trades from imported files, the FX table, opening prices
(the file, else Upbit's 1m candles at 2027-01-01 00:00 in the candles table) and market prices
for coin-for-coin trades (1m candles in the candles table)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from app.domain.enums import Side
from app.domain.order import Fill
from app.domain.portfolio import CostBasis
from app.storage import Store

from .compute import Progress, ReportSettings, TaxReport, compute_report
from .imports import read_file, read_fx, read_opening_prices, read_trades
from .model import EventKind, OpeningCost, TaxEvent
from .rules import FIAT, KR_2027, STABLECOINS
from .valuation import FxRate, FxTable, MarketPrice, PriceTable

CANDLE_VENUES = ("upbit", "bithumb", "binance")  # where a coin's 1m candles are looked for, in order
MINUTE_MS = 60_000


@dataclass(slots=True)
class Inputs:
    events: list[TaxEvent] = field(default_factory=list)
    openings: list[OpeningCost] = field(default_factory=list)
    fx: list[FxRate] = field(default_factory=list)
    opening_prices: dict[str, MarketPrice] = field(default_factory=dict)
    prices: PriceTable = field(default_factory=PriceTable)
    sources: list[str] = field(default_factory=list)


def event_of_fill(f: Fill) -> TaxEvent:
    kind = EventKind.BUY if f.side is Side.BUY else EventKind.SELL
    return TaxEvent(
        f.ts_ms,
        f.venue,
        f.symbol,
        kind,
        f.quantity,
        f.price,
        f.fee,
        f.fee_asset,
        f"fills: {f.venue} {f.symbol} trade {f.trade_id}",
        f.fee_quote,
    )


def opening_of_basis(b: CostBasis) -> OpeningCost:
    currency = b.symbol.split("/", 1)[1].split(":", 1)[0] if "/" in b.symbol else b.symbol
    source = f"cost_basis: {b.venue} {b.asset} ({'estimated' if b.estimated else 'entered'})"
    return OpeningCost(b.ts_ms, b.venue, b.asset, b.quantity, b.cost, currency, b.estimated, source)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _candle_price(store: Store, asset: str, ts_ms: int, home: str) -> MarketPrice | None:
    """The open of the 1m candle holding ``ts_ms``, on the first venue and market that has one."""
    minute = ts_ms - ts_ms % MINUTE_MS
    quotes = list(dict.fromkeys(("KRW", home, "USDT")))
    for venue in CANDLE_VENUES:
        for quote in quotes:
            bars = store.load_bars(venue, f"{asset}/{quote}", "1m", start_ms=minute, end_ms=minute)
            if bars:
                b = bars[0]
                return MarketPrice(
                    b.open_ms, asset, quote, b.open, f"{venue} {asset}/{quote} 1m open {_iso(b.open_ms)}"
                )
    return None


def from_store(store: Store, home: str, inputs: Inputs) -> None:
    fills = store.load_fills()
    inputs.events.extend(event_of_fill(f) for f in fills)
    bases = store.load_cost_basis()
    inputs.openings.extend(opening_of_basis(b) for b in bases)
    inputs.sources.append(
        f"store: {store.url} ({len(fills)} fills, {len(bases)} costs of coins held before the first fill)"
    )


def candle_prices(store: Store, inputs: Inputs, home: str) -> None:
    """Prices the report will need from the candles table: coins used as the quote of a trade,
    paying a fee or received as lending income without a price, at those moments; every coin at
    2027-01-01 00:00 KST (the deemed cost)."""
    wanted: set[tuple[str, int]] = set()
    for e in inputs.events:
        if e.kind.is_income:  # lending income: the coin (no price given) or the quote coin
            asset = e.quote if e.price > 0 else e.base
            if asset not in FIAT and asset not in STABLECOINS:
                wanted.add((asset, e.ts_ms))
            continue
        if not e.kind.is_trade:
            continue
        for asset in (e.quote, e.fee_asset if e.fee else ""):
            if asset and asset not in FIAT and asset not in STABLECOINS and asset != e.base:
                wanted.add((asset, e.ts_ms))
    at = KR_2027.deemed_cost_ms
    coins = {e.base for e in inputs.events if e.kind.is_trade or e.kind.is_income} | {o.asset for o in inputs.openings}
    wanted |= {(a, at) for a in coins if a not in FIAT and a not in STABLECOINS and a not in inputs.opening_prices}
    found = 0
    for asset, ts in sorted(wanted):
        p = _candle_price(store, asset, ts, home)
        if p is not None:
            inputs.prices.add(p)
            found += 1
    if wanted:
        inputs.sources.append(f"candles table: {found} of {len(wanted)} prices needed (1m candle opens)")


def from_files(
    imports: Sequence[Path] = (),
    fx: Path | None = None,
    opening_prices: Path | None = None,
    inputs: Inputs | None = None,
    columns: dict[str, str] | None = None,
    file_columns: Mapping[Path, dict[str, str]] | None = None,
) -> Inputs:
    """Read the files (each whole or not at all; ``ImportFailed`` lists every bad row).
    ``columns`` maps the generic names to the files' own (``{"time": "Date(UTC)"}``);
    ``file_columns`` does so per file (what the user confirmed in the Tax tab)."""
    inputs = inputs if inputs is not None else Inputs()
    for path in imports:
        events = read_file(path, partial(read_trades, columns=(file_columns or {}).get(path, columns)))
        inputs.events.extend(events)
        inputs.sources.append(f"import: {path.name} ({len(events)} rows)")
    if fx is not None:
        rates = read_file(fx, read_fx)
        inputs.fx.extend(rates)
        inputs.sources.append(f"FX table: {fx.name} ({len(rates)} rates)")
    if opening_prices is not None:
        prices, held = read_file(opening_prices, read_opening_prices)
        inputs.opening_prices.update(prices)
        inputs.openings.extend(held)
        inputs.sources.append(
            f"opening prices at 2027-01-01 00:00 KST: {opening_prices.name} ({len(prices)} coins, {len(held)} holdings)"
        )
    return inputs


def make_report(
    settings: ReportSettings,
    *,
    store: Store | None = None,
    imports: Iterable[Path] = (),
    fx: Path | None = None,
    opening_prices: Path | None = None,
    progress: Progress | None = None,
    columns: dict[str, str] | None = None,
    file_columns: Mapping[Path, dict[str, str]] | None = None,
) -> TaxReport:
    """Read the files first (a bad file changes nothing), then the store, then compute."""
    inputs = from_files(list(imports), fx, opening_prices, columns=columns, file_columns=file_columns)
    if store is not None:
        imported = len(inputs.events)
        from_store(store, settings.currency, inputs)
        _drop_imported_duplicates(inputs, imported)
        candle_prices(store, inputs, settings.currency)
    return compute_report(
        settings,
        inputs.events,
        inputs.openings,
        fx=FxTable(inputs.fx),
        prices=inputs.prices,
        opening_prices=inputs.opening_prices,
        inputs=inputs.sources,
        progress=progress,
        now_ms=int(time.time() * 1000),
    )


def _key(e: TaxEvent) -> tuple[object, ...]:
    return (e.venue, e.symbol, e.kind, e.ts_ms // 1000, e.quantity, e.price)


def _drop_imported_duplicates(inputs: Inputs, imported: int) -> None:
    """An imported row equal to a stored fill (same venue, symbol, side, second, quantity and
    price) is that fill: counted once."""
    stored = {_key(e) for e in inputs.events[imported:]}
    keep = [e for e in inputs.events[:imported] if _key(e) not in stored]
    dropped = imported - len(keep)
    if dropped:
        inputs.events[:imported] = keep
        inputs.sources.append(f"{dropped} imported rows equal to stored fills were counted once")
