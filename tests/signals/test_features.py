"""Features: the incremental path equals the batch path bit for bit on real candles; no bar after t
changes the features of t; no window spans a gap."""

from __future__ import annotations

import numpy as np
import pytest
from signal_data import candles_or_skip

from app.signals.candles import Candles, make_candles
from app.signals.features import FEATURES, LOOKBACK, WINDOW, IncrementalFeatures, batch_features


def incremental(c: Candles) -> tuple[np.ndarray, np.ndarray]:
    inc = IncrementalFeatures(c.tf_ms)
    X = np.full((len(c), len(FEATURES)), np.nan)
    got = np.zeros(len(c), dtype=bool)
    for i in range(len(c)):
        row = inc.update(int(c.open_ms[i]), float(c.high[i]), float(c.low[i]), float(c.close[i]), float(c.volume[i]))
        if row is not None:
            X[i] = row
            got[i] = True
    return X, got


def assert_same(c: Candles) -> None:
    X, valid = batch_features(c)
    Y, got = incremental(c)
    np.testing.assert_array_equal(got, valid)
    assert valid.any()
    # Bit for bit, not approximately: the app's features are the ones the model was trained on.
    assert np.array_equal(X[valid].view(np.int64), Y[valid].view(np.int64))
    assert np.isnan(X[~valid]).all()
    assert np.isfinite(X[valid]).all()


def test_incremental_equals_batch_bit_for_bit_on_btc_1h_across_its_early_gaps(btc_1h):
    c = btc_1h.slice(0, 16_000)  # 2017-08 to 2019-06: the 2017-09, 2018-01, 2018-02 and 2018-06 gaps
    assert c.segment_start.sum() >= 5
    assert_same(c)


def test_incremental_equals_batch_bit_for_bit_on_recent_bars_of_every_pair():
    for symbol in ("ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT", "BNB/USDT"):
        c = candles_or_skip(symbol)
        assert_same(c.slice(len(c) - 1500, len(c)))


def test_incremental_equals_batch_on_5m_candles_with_gaps():
    c = candles_or_skip("XRP/USDT", "5m")
    first_gaps = np.flatnonzero(c.segment_start)[1:4]
    assert len(first_gaps) == 3
    assert_same(c.slice(0, int(first_gaps[-1]) + 600))


def test_a_feature_row_is_unchanged_when_every_later_bar_is_altered(btc_1h):
    c = btc_1h.slice(len(btc_1h) - 3000, len(btc_1h))
    X, valid = batch_features(c)
    rng = np.random.default_rng(5)
    for t in (400, 1111, 2500, 2998):
        noise = np.exp(rng.normal(0, 0.05, len(c) - t - 1))
        later = slice(t + 1, len(c))
        o, h, lo, cl, v = (a.copy() for a in (c.open, c.high, c.low, c.close, c.volume))
        for a in (o, h, lo, cl):
            a[later] *= noise
        h[later] *= 1.01
        lo[later] /= 1.01
        v[later] = v[later][::-1] * 3
        altered = Candles(c.symbol, c.timeframe, c.open_ms, o, h, lo, cl, v, c.segment_start)
        Xa, valid_a = batch_features(altered)
        assert np.array_equal(valid_a[: t + 1], valid[: t + 1])
        assert np.array_equal(Xa[: t + 1], X[: t + 1], equal_nan=True)
        assert not np.array_equal(Xa[t + 1 :], X[t + 1 :], equal_nan=True)  # the alteration did reach the later rows


def test_no_window_spans_a_gap_and_bars_before_a_gap_do_not_matter(btc_1h):
    c = btc_1h.slice(0, 16_000)
    starts = np.flatnonzero(c.segment_start)
    X, valid = batch_features(c)
    since = c.since_segment_start()
    assert not valid[since < LOOKBACK].any()
    assert valid[since >= LOOKBACK].all()
    # A segment computed alone gives the same rows: nothing before its gap reaches into it.
    s, e = int(starts[3]), int(starts[4])
    assert e - s > WINDOW
    Xs, vs = batch_features(c.slice(s, e))
    assert np.array_equal(vs, valid[s:e])
    assert np.array_equal(Xs[vs], X[s:e][vs])


def test_gaps_come_from_the_timestamps_and_from_a_coverage_list():
    hour = 3_600_000
    t = np.arange(400, dtype=np.int64) * hour
    t[200:] += 5 * hour  # five candles missing
    rows = np.column_stack(
        [
            t,
            np.full(400, 100.0),
            np.full(400, 101.0),
            np.full(400, 99.0),
            100.0 + np.sin(np.arange(400)),
            np.full(400, 5.0),
        ]
    )
    c = make_candles("BTC/USDT", "1h", rows)
    assert np.flatnonzero(c.segment_start).tolist() == [0, 200]
    # A coverage list may name a gap the timestamps do not show (a stretch of bad candles).
    listed = make_candles("BTC/USDT", "1h", rows, extra_gaps=[(int(t[300]), int(t[300]))])
    assert np.flatnonzero(listed.segment_start).tolist() == [0, 200, 300, 301]
    # Shuffled rows and exact repeats are put in order; a candle that disagrees with itself is refused.
    shuffled = make_candles("BTC/USDT", "1h", np.concatenate([rows[::-1], rows[:3]]))
    assert np.array_equal(shuffled.open_ms, c.open_ms) and np.array_equal(shuffled.close, c.close)
    bad = rows[:3].copy()
    bad[:, 4] += 1
    with pytest.raises(ValueError, match="two different candles"):
        make_candles("BTC/USDT", "1h", np.concatenate([rows, bad]))


def test_every_gap_of_the_shared_coverage_file_starts_a_segment(btc_1h):
    from signal_data import CANDLES

    from app.signals.candles import coverage_gaps

    gaps = coverage_gaps(CANDLES, "BTC/USDT", "1h")
    assert len(gaps) > 20  # e.g. the 2018-02-08 Binance outage
    for _first, last in gaps:
        after = int(np.searchsorted(btc_1h.open_ms, last, side="right"))
        assert btc_1h.segment_start[after]
    assert btc_1h.segment_start.sum() == len(gaps) + 1


def test_incremental_restarts_after_a_gap_and_ignores_repeats():
    inc = IncrementalFeatures(3_600_000)
    rng = np.random.default_rng(1)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    rows = []
    for i in range(WINDOW):
        rows.append(inc.update(i * 3_600_000, closes[i] * 1.01, closes[i] * 0.99, closes[i], 10.0))
    assert rows[-1] is not None and all(r is None for r in rows[:-1])
    assert inc.update((WINDOW - 1) * 3_600_000, 1.0, 1.0, 1.0, 1.0) is None  # a repeat changes nothing
    assert inc.ready
    assert inc.update((WINDOW + 3) * 3_600_000, 101.0, 99.0, 100.0, 1.0) is None  # after a gap: warming up again
    assert inc.bars_needed == WINDOW - 1
