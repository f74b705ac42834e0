"""The offline demo market: deterministic, on the exchange's grid, fat-tailed and clustered, one
consistent simulation behind every stream."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from app.domain.enums import Side
from app.domain.market import Bar, BookSnapshot, Trade
from app.venues.base import MarketData
from app.venues.demo import BOOK_LEVELS, PARAMS_FILE, DemoMarket

START = 1_722_000_000_000  # a whole minute, 20 minutes into an hour
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # the shared folder beside the repository


def events(seed: int = 1, n: int = 20_000, symbol: str = "BTC/USDT", **kw) -> list[Trade | BookSnapshot]:
    return list(DemoMarket(seed=seed, speed=0, start_ms=START, **kw).events(symbol, n))


def minute_closes(evs: list[Trade | BookSnapshot]) -> np.ndarray:
    closes: dict[int, float] = {}
    for ev in evs:
        if type(ev) is Trade:
            closes[(ev.ts_ms - START) // 60_000] = float(ev.price)
    return np.array([closes[k] for k in sorted(closes)][:-1])  # the last minute may be cut short


def excess_kurtosis(r: np.ndarray) -> float:
    z = (r - r.mean()) / r.std()
    return float((z**4).mean() - 3)


def abs_return_autocorr(r: np.ndarray, lags: tuple[int, ...] = (1, 2, 3, 4, 5)) -> list[float]:
    a = np.abs(r) - np.abs(r).mean()
    return [float((a[:-k] * a[k:]).mean() / (a * a).mean()) for k in lags]


def test_the_same_seed_gives_the_same_events_and_another_seed_differs():
    a, b, c = events(5, 3000), events(5, 3000), events(6, 3000)
    assert a == b
    assert a != c
    assert events(5, 3000, symbols=("BTC/USDT",)) == a  # whatever other symbols the market has


@pytest.mark.parametrize(
    "symbol,tick,lot", [("BTC/USDT", "0.01", "0.00001"), ("ETH/USDT", "0.01", "0.0001"), ("SOL/USDT", "0.01", "0.001")]
)
def test_prices_and_quantities_are_on_the_exchange_grid(symbol, tick, lot):
    tick, lot = Decimal(tick), Decimal(lot)
    instrument = asyncio.run(DemoMarket(speed=0).load_markets())[symbol]
    assert (instrument.tick_size, instrument.lot_step, instrument.min_qty) == (tick, lot, lot)
    assert instrument.min_notional == 5 and instrument.maker_fee == instrument.taker_fee == Decimal("0.001")
    for ev in events(2, 5000, symbol):
        if isinstance(ev, Trade):
            assert ev.price % tick == 0 and ev.quantity % lot == 0 and ev.quantity > 0
            assert not instrument.check_price(ev.price) and not instrument.check_qty(ev.quantity)
        else:
            for lvl in ev.bids + ev.asks:
                assert lvl.price % tick == 0 and lvl.quantity % lot == 0 and lvl.quantity > 0


@pytest.mark.parametrize("symbol", ["BTC/USDT", "ETH/USDT"])
def test_book_never_crosses_and_every_trade_prints_within_the_current_book(symbol):
    book = None
    for ev in events(3, 30_000, symbol):
        if isinstance(ev, BookSnapshot):
            assert ev.best_bid < ev.best_ask
            assert len(ev.bids) == len(ev.asks) == BOOK_LEVELS
            assert all(a.price > b.price for a, b in zip(ev.bids, ev.bids[1:], strict=False))
            assert all(a.price < b.price for a, b in zip(ev.asks, ev.asks[1:], strict=False))
            book = ev
        else:
            assert book is not None and book.ts_ms <= ev.ts_ms
            assert book.best_bid <= ev.price <= book.best_ask
            assert ev.price == (book.best_ask if ev.taker_side is Side.BUY else book.best_bid)


def test_events_come_in_time_order_with_a_few_trades_and_books_a_second():
    evs = events(4, 20_000)
    assert all(a.ts_ms <= b.ts_ms for a, b in itertools.pairwise(evs))
    seconds = (evs[-1].ts_ms - START) / 1000
    trades = sum(type(e) is Trade for e in evs)
    assert 1 < trades / seconds < 8
    assert 3 < (len(evs) - trades) / seconds < 8
    assert len({e.trade_id for e in evs if type(e) is Trade}) == trades


async def test_history_minutes_are_fat_tailed_and_their_volatility_clusters():
    bars = await DemoMarket(seed=11, speed=0, start_ms=START).fetch_bars("BTC/USDT", "1m", None, 50_000)
    assert len(bars) > 40_000  # 30 days and the start's day
    r = np.diff(np.log([float(b.close) for b in bars]))
    assert excess_kurtosis(r) > 3  # fatter tails than a normal distribution (0)
    assert min(abs_return_autocorr(r)) > 0.1  # big moves follow big moves


def test_live_minutes_are_fat_tailed_and_their_volatility_clusters():
    r = np.diff(np.log(minute_closes(events(12, 150_000, "SOL/USDT"))))
    assert len(r) > 350
    assert excess_kurtosis(r) > 0.5
    assert np.mean(abs_return_autocorr(r)) > 0.03


async def test_streams_replay_the_one_simulation_and_bars_agree_with_their_trades():
    m = DemoMarket(seed=9, speed=0, start_ms=START)
    assert isinstance(m, MarketData)
    trades: list[Trade] = []
    books: list[BookSnapshot] = []
    bars: list[Bar] = []

    async def collect(stream, into):
        async for x in stream:
            into.append(x)

    tasks = [
        asyncio.ensure_future(collect(m.watch_trades("BTC/USDT"), trades)),
        asyncio.ensure_future(collect(m.watch_book("BTC/USDT"), books)),
        asyncio.ensure_future(collect(m.watch_bars("BTC/USDT", "1m"), bars)),
    ]
    while sum(b.closed for b in bars) < 3:
        await asyncio.sleep(0.001)
    await m.close()
    done, pending = await asyncio.wait(tasks, timeout=2)
    assert not pending and all(t.exception() is None for t in done)  # the loops simply ended

    reference = list(DemoMarket(seed=9, speed=0, start_ms=START).events("BTC/USDT", 10_000))
    assert trades == [e for e in reference if type(e) is Trade][: len(trades)]
    assert books == [e for e in reference if type(e) is BookSnapshot][: len(books)]
    closed = [b for b in bars if b.closed]
    assert [b.open_ms for b in closed[:3]] == [START, START + 60_000, START + 120_000]
    for bar in closed[:3]:
        inside = [t for t in trades if bar.open_ms <= t.ts_ms < bar.open_ms + 60_000]
        assert all(bar.low <= t.price <= bar.high for t in inside)
        assert bar.high == max(t.price for t in inside) and bar.low == min(t.price for t in inside)
        assert bar.open == inside[0].price and bar.close == inside[-1].price
        assert bar.volume == sum((t.quantity for t in inside), Decimal(0))
        forming = [b for b in bars if not b.closed and b.open_ms == bar.open_ms]
        assert forming and all(b.volume <= bar.volume for b in forming)


async def test_an_hourly_bar_stream_starts_with_the_history_of_its_hour():
    m = DemoMarket(seed=2, speed=0, start_ms=START)
    history = await m.fetch_bars("BTC/USDT", "1h", None, 3)
    first = await anext(aiter(m.watch_bars("BTC/USDT", "1h")))
    assert first.open_ms == history[-1].open_ms == START - 20 * 60_000 and not first.closed
    assert first.open == history[-1].open and first.high >= history[-1].high and first.volume >= history[-1].volume
    await m.close()


async def test_history_ends_where_the_live_market_starts_and_grows_with_it():
    m = DemoMarket(seed=1, speed=0, start_ms=START)
    hist = await m.fetch_bars("BTC/USDT", "1m", None, 500)
    assert len(hist) == 500 and hist[-1].open_ms == START - 60_000
    first = next(e for e in m.events("BTC/USDT", 50) if isinstance(e, Trade))
    assert abs(first.price / hist[-1].close - 1) < Decimal("0.002")
    hourly = await m.fetch_bars("BTC/USDT", "1h", None, 24)
    assert len(hourly) == 24 and all(b.open_ms % 3_600_000 == 0 for b in hourly)
    since = await m.fetch_bars("BTC/USDT", "5m", START - 3_600_000, 6)
    assert [b.open_ms for b in since] == [START - 3_600_000 + i * 300_000 for i in range(6)]

    async for t in m.watch_trades("BTC/USDT"):
        if t.ts_ms >= START + 150_000:
            break
    later = await m.fetch_bars("BTC/USDT", "1m", None, 3)
    assert [b.open_ms for b in later] == [START - 60_000, START, START + 60_000]  # minutes completed so far
    await m.close()


async def test_speed_paces_the_streams_by_simulated_time():
    m = DemoMarket(seed=3, speed=100, start_ms=START)  # 100 simulated seconds per second
    t0 = time.perf_counter()
    async for book in m.watch_book("ETH/USDT"):
        if book.ts_ms >= START + 5_000:
            break
    elapsed = time.perf_counter() - t0
    await m.close()
    assert 0.04 < elapsed < 2.5  # 5 simulated seconds take about 0.05 s; unpaced (speed 1) they take 5 s


async def test_a_stream_started_after_close_ends_at_once():
    m = DemoMarket(seed=3, speed=1, start_ms=START)
    await m.close()
    assert [t async for t in m.watch_trades("BTC/USDT")] == []


def test_an_unknown_symbol_or_timeframe_is_refused():
    m = DemoMarket(speed=0, symbols=("BTC/USDT",))
    with pytest.raises(ValueError):
        m.watch_trades("ETH/USDT")
    with pytest.raises(ValueError):
        m.watch_bars("BTC/USDT", "7m")
    with pytest.raises(ValueError):
        DemoMarket(symbols=("DOGE/USDT",))


def test_committed_parameters_load_and_say_how_they_were_fitted():
    params = json.loads(PARAMS_FILE.read_text())
    note = params["note"]
    assert "GARCH" in note["method"] and "Student-t" in note["method"] and note["fitted_on"]
    assert any("BTC_USDT-1m" in s for s in note["sources"]) and any("BINANCE" in s for s in note["sources"])
    for sym in ("BTC/USDT", "ETH/USDT", "SOL/USDT"):
        p = params["symbols"][sym]
        g = p["garch"]
        assert 0 < g["alpha"] + g["beta"] < 1 and g["nu"] > 2 and g["omega"] > 0
        assert p["volume"]["log_slope_abs_z"] > 0 and p["last_close"] > 0
    assert 0 < params["book"]["level_gap_extra_prob"] < 1 and params["book"]["depth_log_sd"] > 0
    assert not any(s.startswith(("/", "~")) or ":\\" in s for s in note["sources"])  # names, not machine paths


def test_calibration_without_the_shared_data_says_so_and_exits_2(tmp_path, capsys):
    from app.venues.demo_calibration import main

    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "p.json")]) == 2
    assert "not found" in capsys.readouterr().err and not (tmp_path / "p.json").exists()


def test_calibration_on_the_real_data_reproduces_the_committed_parameters(tmp_path):
    if not (DATA / "demo_replay").is_dir():
        pytest.skip("the shared data folder is not beside the repository")
    pytest.importorskip("scipy")
    from app.venues.demo_calibration import main

    out = tmp_path / "p.json"
    assert main(["--data", str(DATA), "--out", str(out)]) == 0
    fitted, committed = json.loads(out.read_text()), json.loads(PARAMS_FILE.read_text())
    for sym, c in committed["symbols"].items():
        f = fitted["symbols"][sym]
        assert f["last_close"] == c["last_close"]
        for key in ("alpha", "beta", "nu", "omega"):
            assert f["garch"][key] == pytest.approx(c["garch"][key], rel=0.02), (sym, key)
        for key in ("log_intercept", "log_slope_log_vol", "log_slope_abs_z", "ar1", "mean_1m"):
            assert f["volume"][key] == pytest.approx(c["volume"][key], rel=0.02), (sym, key)
        assert f["return_sd_1m"] == pytest.approx(c["return_sd_1m"], rel=1e-6)
    for key in (
        "depth_log_slope_per_level",
        "depth_log_sd",
        "level_gap_extra_prob",
        "mean_level_over_volume_1m",
        "level_changes_per_trade",
    ):
        assert fitted["book"][key] == pytest.approx(committed["book"][key], rel=0.02), key


# -- resuming after a restart (issue 7, item 4) -------------------------------------------------------
async def _closed_bars(m: DemoMarket, symbol: str, n: int) -> list[Bar]:
    out: list[Bar] = []
    async for bar in m.watch_bars(symbol, "1m"):
        if bar.closed:
            out.append(bar)
            if len(out) == n:
                break
    await m.close()
    return out


async def test_a_resumed_market_keeps_the_shown_candles_and_continues_from_the_last_close():
    first = DemoMarket(seed=4, speed=0, start_ms=START)
    before = await first.fetch_bars("BTC/USDT", "1m", None, 100)
    shown = await _closed_bars(first, "BTC/USDT", 5)  # what the chart showed (and the app stored)
    restart = START + 3 * 3_600_000  # the app reopened three hours later
    again = DemoMarket(seed=4, speed=0, start_ms=restart, origin_ms=START, resume={"BTC/USDT": shown})
    bars = await again.fetch_bars("BTC/USDT", "1m", None, 105)
    assert bars[:100] == before  # the older history is the same as before the restart
    assert [(b.open_ms, b.open, b.high, b.low, b.close, b.volume) for b in bars[100:]] == [
        (b.open_ms, b.open, b.high, b.low, b.close, b.volume) for b in shown
    ]
    assert again.start_ms == restart and again.resumed_close("BTC/USDT") == shown[-1].close
    trade = next(e for e in again.events("BTC/USDT", 200) if isinstance(e, Trade))
    assert trade.ts_ms >= restart
    assert abs(trade.price / shown[-1].close - 1) < Decimal("0.002")  # no jump back to the start price
    hour = await again.fetch_bars("BTC/USDT", "1h", START - 3_600_000, 2)
    assert hour[-1].open_ms == START - START % 3_600_000 and hour[-1].high >= max(b.high for b in shown)


async def test_a_market_that_ran_ahead_of_the_clock_resumes_after_its_last_minute():
    first = DemoMarket(seed=4, speed=0, start_ms=START)
    shown = await _closed_bars(first, "ETH/USDT", 3)
    again = DemoMarket(seed=4, speed=0, start_ms=START + 60_000, origin_ms=START, resume={"ETH/USDT": shown})
    assert again.start_ms == shown[-1].open_ms + 60_000
    first_bar = await anext(aiter(again.watch_bars("ETH/USDT", "1m")))
    assert first_bar.open_ms == shown[-1].open_ms + 60_000
    await again.close()


async def test_the_demo_session_stores_its_candles_and_resumes_from_them(tmp_path):
    from app.cli import build_demo_session

    session = build_demo_session(tmp_path, seed=3, speed=0, symbols=("BTC/USDT",))
    origin = session.store.get_setting("demo.origin_ms")
    await session.start()
    async with asyncio.timeout(120):  # a bound for a broken build, not a speed target
        while len(session.store.load_bars("demo", "BTC/USDT", "1m")) < 4:
            await asyncio.sleep(0.01)
    await session.stop()
    stored = session.store.load_bars("demo", "BTC/USDT", "1m")
    session.store.close()

    again = build_demo_session(tmp_path, seed=3, speed=0, symbols=("BTC/USDT",))
    trades: list[Trade] = []
    again.bus.subscribe(Trade, trades.append)
    try:
        assert again.store.get_setting("demo.origin_ms") == origin
        bars = await again.venue.fetch_bars("BTC/USDT", "1m", None, len(stored) + 10)
        assert [(b.open_ms, b.close) for b in bars[-len(stored) :]] == [(b.open_ms, b.close) for b in stored]
        await again.start()
        async with asyncio.timeout(120):
            while not trades:
                await asyncio.sleep(0.01)
        assert trades[0].ts_ms > stored[-1].open_ms
        assert abs(trades[0].price / stored[-1].close - 1) < Decimal("0.002")  # the price carries on
    finally:
        await again.stop()
        again.store.close()
