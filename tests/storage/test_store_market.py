"""Candles and the equity curve."""

from __future__ import annotations

from decimal import Decimal

from store_factories import T0, bar

from app.storage import Store

D = Decimal


def test_candles_are_unique_and_an_upsert_replaces_the_bar(store: Store) -> None:
    assert store.upsert_bars([bar(i) for i in range(100)]) == 100
    assert store.upsert_bars([bar(0, high="3", close="2.5"), bar(0, high="4", close="3.5")]) == 2
    loaded = store.load_bars("sim", "BTC/USDT", "1m")
    assert len(loaded) == 100
    assert loaded[0] == bar(0, high="4", close="3.5")  # the last version wins, every field
    assert loaded[1:] == [bar(i) for i in range(1, 100)]


def test_bars_load_in_ascending_time_and_the_limit_keeps_the_last_ones(store: Store) -> None:
    store.upsert_bars(reversed([bar(i) for i in range(100)]))  # any iterable, any order
    assert [b.open_ms for b in store.load_bars("sim", "BTC/USDT", "1m")] == [T0 + i * 60_000 for i in range(100)]
    last = store.load_bars("sim", "BTC/USDT", "1m", limit=10)
    assert [b.open_ms for b in last] == [T0 + i * 60_000 for i in range(90, 100)]
    ranged = store.load_bars("sim", "BTC/USDT", "1m", start_ms=T0 + 10 * 60_000, end_ms=T0 + 19 * 60_000)
    assert [b.open_ms for b in ranged] == [T0 + i * 60_000 for i in range(10, 20)]
    tail_of_range = store.load_bars("sim", "BTC/USDT", "1m", end_ms=T0 + 19 * 60_000, limit=3)
    assert [b.open_ms for b in tail_of_range] == [T0 + i * 60_000 for i in range(17, 20)]
    assert store.load_bars("sim", "BTC/USDT", "1m", start_ms=T0 + 1000 * 60_000) == []


def test_bars_of_other_symbols_and_timeframes_are_kept_apart(store: Store) -> None:
    store.upsert_bars([bar(0), bar(0, symbol="ETH/USDT"), bar(0, timeframe="5m", close="1.25")])
    assert len(store.load_bars("sim", "BTC/USDT", "1m")) == 1
    assert store.load_bars("sim", "BTC/USDT", "5m")[0].close == D("1.25")
    assert store.load_bars("sim", "ETH/USDT", "1m") == [bar(0, symbol="ETH/USDT")]
    assert store.load_bars("other", "BTC/USDT", "1m") == []


def test_a_bar_still_forming_comes_back_not_closed(store: Store) -> None:
    store.upsert_bars([bar(0, closed=False)])
    assert store.load_bars("sim", "BTC/USDT", "1m")[0].closed is False
    store.upsert_bars([bar(0)])
    assert store.load_bars("sim", "BTC/USDT", "1m")[0].closed is True


def test_upserting_100k_bars_stores_them_all(sqlite_store: Store) -> None:
    # How fast: ``python tests/perf/run.py store_upsert_100k_bars_s`` (about 0.5 s here).
    bars = (bar(i, close="65001.75", high="65010.25") for i in range(100_000))
    assert sqlite_store.upsert_bars(bars) == 100_000
    assert len(sqlite_store.load_bars("sim", "BTC/USDT", "1m", limit=1000)) == 1000


def test_the_equity_curve_appends_and_loads_since_a_time(store: Store) -> None:
    for i, v in enumerate(["100000", "100000.5", "99999.999999"]):
        store.append_equity("sim", T0 + i, D(v))
    store.append_equity("other", T0, D("1"))
    store.append_equity("sim", T0 + 1, D("100000.25"))  # the same instant again replaces it
    assert store.load_equity("sim") == [(T0, D("100000")), (T0 + 1, D("100000.25")), (T0 + 2, D("99999.999999"))]
    assert store.load_equity("sim", since_ms=T0 + 1) == [(T0 + 1, D("100000.25")), (T0 + 2, D("99999.999999"))]
    assert store.load_equity("none") == []
