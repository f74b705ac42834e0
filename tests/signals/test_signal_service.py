"""The signal service on the bus: real candles and the real ONNX model, inline and off the loop;
minute bars combined into hours; the demo market; the Signal value itself."""

from __future__ import annotations

import asyncio
import gzip
from decimal import Decimal

import numpy as np
import pytest
from signal_data import DATA

from app.domain.market import Bar
from app.domain.signal import Signal, SignalDirection
from app.engine.bus import EventBus
from app.engine.signal_service import SignalService
from app.signals.candles import Candles, make_candles
from app.signals.features import WINDOW, batch_features
from app.signals.pipeline import BarAggregator

D = Decimal
HOUR = 3_600_000


def bars_of(c: Candles, lo: int, hi: int, venue: str = "binance") -> list[Bar]:
    cols = [a[lo:hi].tolist() for a in (c.open, c.high, c.low, c.close, c.volume)]
    return [
        Bar(venue, c.symbol, c.timeframe, int(c.open_ms[lo + i]), *(D(repr(col[i])) for col in cols))
        for i in range(hi - lo)
    ]


def expected(model, c: Candles) -> dict[int, Decimal]:
    """What the service must publish: the batch path's features through the same model."""
    X, valid = batch_features(c)
    p = model.predict_proba(X[valid])
    return {int(t): D(repr(float(v))).quantize(D("0.0001")) for t, v in zip(c.open_ms[valid], p, strict=True)}


def collect(bus: EventBus) -> list[Signal]:
    got: list[Signal] = []
    bus.subscribe(Signal, got.append)
    return got


def test_each_closed_bar_gives_the_signal_of_the_batch_path(shipped_model, btc_1h):
    c = btc_1h.slice(len(btc_1h) - 400, len(btc_1h))
    bus = EventBus()
    got = collect(bus)
    service = SignalService(bus, [shipped_model])
    service.start()
    for bar in bars_of(c, 0, len(c)):
        bus.publish(bar)
    want = expected(shipped_model, c)
    assert len(got) == len(c) - WINDOW + 1 == len(want)
    assert {s.bar_open_ms: s.probability for s in got} == want
    s = got[-1]
    assert (s.model, s.venue, s.symbol, s.timeframe, s.horizon_bars) == ("gbm_1h_h24", "binance", "BTC/USDT", "1h", 24)
    assert s.direction is (SignalDirection.UP if s.probability > D("0.5") else SignalDirection.DOWN)
    assert service.latest[("gbm_1h_h24", "binance", "BTC/USDT")] == s
    assert bus.errors == 0
    # Every forecast whose 24 hours have passed is scored, against the label's own rule.
    hits = service.hit_rate("gbm_1h_h24")
    assert hits.scored == len(got) - 24
    lc = np.log(c.close)
    index = {int(t): i for i, t in enumerate(c.open_ms)}
    manual = sum(
        ((lc[index[x.bar_open_ms] + 24] - lc[index[x.bar_open_ms]]) > 0.0020010006671670687)
        == (x.direction is SignalDirection.UP)
        for x in got[:-24]
    )
    assert hits.hits == manual


def test_a_signal_at_bar_t_is_unchanged_when_every_later_bar_is_altered(shipped_model, btc_1h):
    c = btc_1h.slice(len(btc_1h) - 500, len(btc_1h))
    base = expected(shipped_model, c)
    t = 350
    noise = np.exp(np.random.default_rng(9).normal(0, 0.1, len(c) - t - 1))
    cols = [a.copy() for a in (c.open, c.high, c.low, c.close, c.volume)]
    for a in cols[:4]:
        a[t + 1 :] *= noise
    altered = expected(shipped_model, Candles(c.symbol, c.timeframe, c.open_ms, *cols, c.segment_start))
    upto = int(c.open_ms[t])
    assert {k: v for k, v in altered.items() if k <= upto} == {k: v for k, v in base.items() if k <= upto}
    assert {k: v for k, v in altered.items() if k > upto} != {k: v for k, v in base.items() if k > upto}


async def test_off_the_loop_inference_publishes_the_same_signals_in_order(shipped_model, btc_1h):
    c = btc_1h.slice(len(btc_1h) - 260, len(btc_1h))
    bus = EventBus()
    got = collect(bus)
    service = SignalService(bus, [shipped_model], inline_budget_s=0.0)  # as if the model were slow
    service.start()
    bars = bars_of(c, 0, len(c))
    service.prime(bars[:200])  # history: no signal published for it
    assert got == []
    for bar in bars[200:]:
        bus.publish(bar)
    assert len(got) < 60  # not published inline
    for _ in range(200):
        if len(got) == 60:
            break
        await asyncio.sleep(0.01)
    want = expected(shipped_model, c)
    assert [s.bar_open_ms for s in got] == [b.open_ms for b in bars[200:]]
    assert all(s.probability == want[s.bar_open_ms] for s in got)
    await service.stop()
    bus.publish(bars[-1])
    assert len(got) == 60


def test_bar_aggregator_makes_an_hour_only_from_all_of_its_minutes():
    agg = BarAggregator(60_000, HOUR)
    out = [agg.add(m * 60_000, 10 + m, 20 + m, 5 + m, 11 + m, 1.0) for m in range(60)]
    assert out[:-1] == [None] * 59
    assert out[-1] == (0, 10, 79, 5, 70, 60.0)
    assert agg.add(59 * 60_000, 1, 1, 1, 1, 1) is None  # a repeat is ignored
    # A missing minute loses its hour; the next full hour is made again.
    out = [agg.add(HOUR + m * 60_000, 1, 2, 0.5, 1, 1) for m in range(60) if m != 30]
    assert out == [None] * 59
    assert [agg.add(2 * HOUR + m * 60_000, 1, 2, 0.5, 1, 1) for m in range(60)][-1] == (2 * HOUR, 1, 2, 0.5, 1, 60)
    # Joining in the middle of an hour: that hour is not made.
    late = BarAggregator(60_000, HOUR)
    assert [late.add(m * 60_000, 1, 1, 1, 1, 1) for m in range(20, 60)] == [None] * 40


def _read_1m(path) -> np.ndarray:
    with gzip.open(path, "rt") as f:
        header = f.readline().strip().split(",")
        rows = np.loadtxt(f, delimiter=",", ndmin=2)
    cols = ["open_time", "open", "high", "low", "close", "volume"]
    return rows[:, [header.index(c) for c in cols]]


def test_minute_bars_are_combined_into_the_models_hours(shipped_model):
    path = DATA / "demo_replay" / "BTC_USDT-1m_20240726_20240825.csv.gz"
    if not path.exists():
        pytest.skip("the shared demo_replay candles are not here")
    rows = _read_1m(path)
    first = int(np.flatnonzero(rows[:, 0] % HOUR == 0)[0])
    rows = rows[first : first + 60 * 200]  # 200 hours of real minutes
    assert (np.diff(rows[:, 0]) == 60_000).all()
    bus = EventBus()
    got = collect(bus)
    SignalService(bus, [shipped_model]).start()
    for r in rows.tolist():
        bus.publish(
            Bar(
                "binance",
                "BTC/USDT",
                "1m",
                int(r[0]),
                D(repr(r[1])),
                D(repr(r[2])),
                D(repr(r[3])),
                D(repr(r[4])),
                D(repr(r[5])),
            )
        )
    # The same hours made here, summing volume in the same order, through the batch path.
    hours = []
    for h in range(200):
        m = rows[h * 60 : (h + 1) * 60]
        v = 0.0
        for x in m[:, 5]:
            v += x
        hours.append([m[0, 0], m[0, 1], m[:, 2].max(), m[:, 3].min(), m[-1, 4], v])
    want = expected(shipped_model, make_candles("BTC/USDT", "1h", np.array(hours)))
    assert len(got) == 200 - WINDOW + 1
    assert {s.bar_open_ms: s.probability for s in got} == want


async def test_the_demo_market_primed_from_its_history_emits_a_signal_at_the_next_hour(shipped_model):
    from app.venues.demo import DemoMarket

    market = DemoMarket(seed=4, speed=0)
    await market.load_markets()
    bus = EventBus()
    got = collect(bus)
    service = SignalService(bus, [shipped_model], symbols={"BTC/USDT"})
    service.start()
    await service.prime_from(market, ["BTC/USDT"])
    pipe = service.pipeline(shipped_model, market.name, "BTC/USDT")
    assert pipe.features.ready
    minutes = 0
    async for bar in market.watch_bars("BTC/USDT", "1m"):
        bus.publish(bar)
        minutes += bar.closed
        if got or minutes > 60:
            break
    await market.close()
    await service.stop()
    assert got, "no signal within the first hour"
    s = got[0]
    assert s.venue == "demo" and s.symbol == "BTC/USDT" and D(0) <= s.probability <= D(1)


def test_signal_values_refuse_floats_and_contradictions():
    s = Signal("m", "1", "demo", "BTC/USDT", "1h", 0, D("0.6123"), D("0.5"), SignalDirection.UP, 24)
    assert s.confidence == D("0.2246")
    assert s.ts_ms == HOUR and s.horizon_end_ms == 25 * HOUR
    assert [d.value for d in SignalDirection] == ["up", "down"]
    with pytest.raises(TypeError):
        Signal("m", "1", "demo", "BTC/USDT", "1h", 0, 0.6, D("0.5"), SignalDirection.UP, 24)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="contradicts"):
        Signal("m", "1", "demo", "BTC/USDT", "1h", 0, D("0.4"), D("0.5"), SignalDirection.UP, 24)
    with pytest.raises(ValueError):
        Signal("m", "1", "demo", "BTC/USDT", "1h", 0, D("1.2"), D("0.5"), SignalDirection.UP, 24)
