"""The offline demo market: deterministic, on the exchange's grid, fat-tailed and clustered."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from app.domain.market import Bar, BookSnapshot, Trade
from app.venues.demo import PARAMS_FILE, DemoMarket

START = 1_722_000_000_000
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def events(seed: int = 1, n: int = 20_000, symbol: str = "BTC/USDT") -> list:
    return list(DemoMarket(seed=seed, speed=0, start_ms=START).events(symbol, n))


def test_the_same_seed_gives_the_same_market_and_another_seed_differs():
    a, b, c = events(5, 3000), events(5, 3000), events(6, 3000)
    assert a == b
    assert a != c


@pytest.mark.parametrize("symbol,tick,lot", [("BTC/USDT", "0.01", "0.00001"), ("ETH/USDT", "0.01", "0.0001")])
def test_prices_and_quantities_are_on_the_exchange_grid(symbol, tick, lot):
    for ev in events(2, 5000, symbol):
        if isinstance(ev, Trade):
            assert ev.price % Decimal(tick) == 0 and ev.quantity % Decimal(lot) == 0 and ev.quantity > 0
        else:
            for lvl in ev.bids + ev.asks:
                assert lvl.price % Decimal(tick) == 0 and lvl.quantity % Decimal(lot) == 0 and lvl.quantity > 0


def test_book_is_never_crossed_and_trades_happen_at_its_edges():
    book = None
    for ev in events(3, 20_000):
        if isinstance(ev, BookSnapshot):
            assert ev.best_bid < ev.best_ask
            assert list(ev.bids) == sorted(ev.bids, key=lambda lvl: -lvl.price)
            book = ev
        else:
            assert book is not None
            assert ev.price in (book.best_bid, book.best_ask)
            assert (ev.price == book.best_ask) == (ev.taker_side.value == "buy")


def _minute_returns(seed: int = 4, n: int = 400_000) -> np.ndarray:
    closes: dict[int, float] = {}
    for ev in DemoMarket(seed=seed, speed=0, start_ms=START).events("BTC/USDT", n):
        if isinstance(ev, Trade):
            closes[(ev.ts_ms - START) // 60_000] = float(ev.price)
    px = np.array([closes[k] for k in sorted(closes)])
    return np.diff(np.log(px))


def test_minute_returns_are_fat_tailed_and_volatility_clusters():
    r = _minute_returns()
    z = (r - r.mean()) / r.std()
    assert (z**4).mean() - 3 > 1.0  # excess kurtosis: fatter tails than a normal distribution
    a = np.abs(r) - np.abs(r).mean()
    acf = [float((a[:-k] * a[k:]).mean() / (a * a).mean()) for k in (1, 2, 3, 5)]
    assert all(x > 0.05 for x in acf), acf


async def test_streams_deliver_consistent_trades_books_and_bars_and_stop_on_close():
    m = DemoMarket(seed=9, speed=0, start_ms=START)
    trades: list[Trade] = []
    bars: list[Bar] = []

    async def collect_trades():
        async for t in m.watch_trades("BTC/USDT"):
            trades.append(t)

    async def collect_bars():
        async for b in m.watch_bars("BTC/USDT", "1m"):
            bars.append(b)

    tasks = [asyncio.ensure_future(collect_trades()), asyncio.ensure_future(collect_bars())]
    while len([b for b in bars if b.closed]) < 3:
        await asyncio.sleep(0.01)
    await m.close()
    for t in tasks:
        t.cancel()
    closed = [b for b in bars if b.closed][:3]
    for bar in closed:
        inside = [t for t in trades if bar.open_ms <= t.ts_ms < bar.open_ms + 60_000]
        assert bar.high == max(t.price for t in inside) and bar.low == min(t.price for t in inside)
        assert bar.volume == sum((t.quantity for t in inside), Decimal(0))
        assert bar.open == inside[0].price and bar.close == inside[-1].price


async def test_history_ends_where_the_live_market_starts():
    m = DemoMarket(seed=1, speed=0, start_ms=START)
    hist = await m.fetch_bars("BTC/USDT", "1m", None, 500)
    assert len(hist) == 500 and hist[-1].open_ms == START - 60_000
    assert all(b.low <= b.open <= b.high and b.low <= b.close <= b.high for b in hist)
    first = next(e for e in m.events("BTC/USDT", 50) if isinstance(e, Trade))
    assert abs(first.price / hist[-1].close - 1) < Decimal("0.01")
    hourly = await m.fetch_bars("BTC/USDT", "1h", None, 24)
    assert len(hourly) == 24 and all(b.open_ms % 3_600_000 == 0 for b in hourly)


def test_committed_parameters_say_how_they_were_fitted():
    params = json.loads(PARAMS_FILE.read_text())
    assert "GARCH" in params["note"]["method"] and params["note"]["source"]
    for sym in ("BTC/USDT", "ETH/USDT"):
        p = params["symbols"][sym]
        assert 0 < p["garch_alpha"] + p["garch_beta"] < 1 and p["t_nu"] > 2


@pytest.mark.slow
def test_calibration_on_the_real_candles_reproduces_the_committed_numbers(tmp_path):
    if not (DATA / "demo_replay").is_dir():
        pytest.skip("shared market data is not present")
    pytest.importorskip("scipy")
    from app.venues.demo_calibration import main

    out = tmp_path / "p.json"
    out.write_text(PARAMS_FILE.read_text())
    assert main(["--data", str(DATA), "--out", str(out)]) == 0
    fitted, committed = json.loads(out.read_text())["symbols"], json.loads(PARAMS_FILE.read_text())["symbols"]
    for sym in committed:
        for key in ("garch_alpha", "garch_beta", "t_nu", "sample_vol_1m"):
            assert fitted[sym][key] == pytest.approx(committed[sym][key], rel=0.05), (sym, key)
