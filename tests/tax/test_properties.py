"""Properties on long random histories: FIFO gains tie out exactly to the portfolio's realized
P&L (the real ``Portfolio`` fed the same fills), and every method keeps the coins: what came in
is what went out plus what is held."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taxkit import fx, ts

from app.domain.enums import LiquiditySide, Side
from app.domain.order import Fill
from app.engine.portfolio import Portfolio
from app.tax.books import Method
from app.tax.compute import ReportSettings, compute_report
from app.tax.loader import event_of_fill
from app.tax.model import EventKind, TaxEvent
from app.tax.valuation import FxTable, MarketPrice, PriceTable

D = Decimal
START = ts("2026-11-01T00:00")
YEARS = (2026, 2027, 2028)
SYMBOLS = ("BTC/KRW", "ETH/KRW", "XRP/KRW")
TINY = D("1e-9")

step = st.tuples(
    st.sampled_from(SYMBOLS),
    st.booleans(),  # buy?
    st.integers(1, 400_000),  # quantity in 1e-5
    st.integers(1_000, 90_000_000),  # price in won
    st.sampled_from(["none", "quote", "quote_stored", "base"]),
    st.integers(60_000, 20 * 86_400_000),  # time to the next fill
)


def _fills(steps: list) -> list[Fill]:
    held: dict[str, Decimal] = defaultdict(Decimal)
    out: list[Fill] = []
    t = START
    for n, (symbol, buy, q5, price, fee_kind, gap) in enumerate(steps):
        t += gap
        qty, px = D(q5) / D(100_000), D(price)
        base = symbol.split("/")[0]
        fee, fee_asset, fee_quote = D(0), "KRW", None
        if fee_kind in ("quote", "quote_stored"):
            fee = (qty * px * D("0.0005")).quantize(D("0.01"))
            fee_quote = fee if fee_kind == "quote_stored" else None
        elif fee_kind == "base":
            fee, fee_asset = (qty * D("0.001")).quantize(D("0.00000001")), base
        if not buy:  # a spot account sells only what it holds
            room = held[symbol] - (fee if fee_asset == base else 0)
            qty = min(qty, room)
            if qty <= 0:
                continue
        side = Side.BUY if buy else Side.SELL
        held[symbol] += qty - (fee if fee_asset == base else 0) if buy else -(qty + (fee if fee_asset == base else 0))
        out.append(
            Fill(
                f"t{n}",
                f"o{n}",
                f"v{n}",
                "upbit",
                symbol,
                side,
                qty,
                px,
                fee,
                fee_asset,
                LiquiditySide.TAKER,
                t,
                fee_quote,
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=5, max_size=250))
def test_fifo_gains_tie_out_exactly_to_the_portfolio_realized_pnl(steps):
    fills = _fills(steps)
    pf = Portfolio("KRW")
    for f in fills:
        pf.on_fill(f)
    events = [event_of_fill(f) for f in fills]
    lines = []
    for year in YEARS:
        lines += compute_report(ReportSettings(year, Method.FIFO, "KRW"), events).disposals
    lines.sort(key=lambda d: d.ts_ms)  # the portfolio adds its realized P&L in time order too
    for symbol in SYMBOLS:
        asset = symbol.split("/")[0]
        total = D(0)
        for d in lines:
            if d.asset == asset:
                assert d.gain is not None
                total += d.gain
        assert total == pf.position("upbit", symbol).realized_pnl, symbol


coin_step = st.tuples(
    st.sampled_from(["BTC/KRW", "ETH/KRW", "ETH/BTC", "USDT/KRW", "BTC/USDT", "BTC", "ETH"]),
    st.sampled_from(["buy", "sell", "buy", "sell", "transfer_in", "airdrop", "lending"]),
    st.integers(1, 300_000),
    st.integers(1, 1_000_000),
    st.sampled_from(["none", "quote", "base"]),
    st.integers(60_000, 10 * 86_400_000),
)


def _events(steps: list) -> list[TaxEvent]:
    out = []
    t = START
    for n, (symbol, side, q5, p, fee_kind, gap) in enumerate(steps):
        t += gap
        kind = EventKind(side)
        if not kind.is_income and kind.is_trade != ("/" in symbol):
            continue  # lending: the coin alone (market price) or BASE/QUOTE with a price
        qty = D(q5) / D(100_000)
        price = D(p) / D(1000) if symbol == "ETH/BTC" else D(p)
        base, _, quote = symbol.partition("/")
        fee, fa = D(0), quote or base
        if kind.is_trade and fee_kind == "quote":
            fee = (qty * price * D("0.001")).quantize(D("0.00000001"))
        elif kind.is_trade and fee_kind == "base":
            fee, fa = (qty * D("0.001")).quantize(D("0.00000001")), base
        priced = kind.is_trade or (kind.is_income and bool(quote))
        out.append(TaxEvent(t, "x", symbol, kind, qty, price if priced else D(0), fee, fa, f"row {n}"))
    return out


def _prices(events: list[TaxEvent]) -> PriceTable:
    return PriceTable(MarketPrice(e.ts_ms, "BTC", "KRW", D("90000000"), "fixed") for e in events)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(coin_step, min_size=5, max_size=200), st.sampled_from(list(Method)), st.booleans())
def test_every_method_keeps_the_coins_and_their_costs_in_equal_out_plus_held(steps, method, fallback):
    events = _events(steps)
    days = {f"{y}-{m:02d}-{d:02d}" for y in YEARS for m in range(1, 13) for d in (1, 8, 15, 22)}
    table = FxTable(fx(day, "USD", "KRW", "1400") for day in days)
    held_before: dict[str, Decimal] = {}
    for year in YEARS:
        r = compute_report(ReportSettings(year, method, "KRW", fallback), events, fx=table, prices=_prices(events))
        disposed: dict[str, Decimal] = defaultdict(Decimal)
        for d in r.disposals:
            disposed[d.asset] += d.quantity
        received: dict[str, Decimal] = defaultdict(Decimal)
        for i in r.income:
            received[i.asset] += i.quantity
        for asset, p in r.pools.items():
            assert p.opening_qty == held_before.get(asset, 0), (year, asset)
            # quantities in = quantities out + holdings (lending income comes in too)
            assert p.opening_qty + p.bought_qty + p.income_qty == p.sold_qty + p.closing_qty, (year, asset)
            assert p.income_qty == received[asset], (year, asset)
            assert p.sold_qty + p.unknown_qty == disposed[asset], (year, asset)
            assert p.closing_qty >= 0
            # costs too: what came in is what went out with the disposals plus what is held (to the
            # last of 28 digits: partial lots divide)
            came_in = p.opening_cost + p.bought_cost + p.income_cost
            assert abs(came_in - p.sold_cost - p.closing_cost) <= TINY, (year, asset)
            if method is Method.KR and p.average is not None:  # every disposal of the year at its average
                assert abs(p.sold_cost - p.average * p.sold_qty) <= TINY, (year, asset)
        held_before = {a: p.closing_qty for a, p in r.pools.items() if p.closing_qty}
        assert set(disposed) <= set(r.pools)
        valued = sum((i.value for i in r.income if i.value is not None), D(0))
        assert r.income_total == valued
        assert r.net == r.disposal_gain + (valued if method is Method.KR else 0)
