"""Historical bars for a backtest: a candle file (CSV, optionally gzipped, with the columns
``open_time,open,high,low,close,volume``) or the app's candles table, as ``Candles`` (float arrays;
gaps found from the timestamps)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.domain.market import TIMEFRAME_MS, Bar
from app.signals.candles import CandleFileError, Candles, coverage_gaps, make_candles, read_rows, symbol_from_filename


def _guess_timeframe(open_ms: np.ndarray) -> str:
    if len(open_ms) < 2:
        raise CandleFileError("cannot tell the timeframe of fewer than two candles: pass --timeframe")
    step = int(np.median(np.diff(np.sort(open_ms))))
    for name, ms in TIMEFRAME_MS.items():
        if ms == step:
            return name
    raise CandleFileError(f"candles {step} ms apart are not a known timeframe: pass --timeframe")


def load_candle_file(path: Path, symbol: str | None = None, timeframe: str | None = None) -> Candles:
    """A CSV candle file. Symbol and timeframe come from a name like ``BTC_USDT-1h.csv.gz`` unless
    given; gaps listed in a ``coverage.json`` beside the file's folder count as gaps too."""
    if path.suffix.lower() == ".parquet" or path.name.lower().endswith(".parquet"):
        raise CandleFileError("Parquet files are not supported: convert to CSV (open_time,open,high,low,close,volume)")
    named_symbol = named_tf = None
    try:
        named_symbol, named_tf = symbol_from_filename(path.name)
    except CandleFileError:
        pass
    rows = read_rows(path)
    sym = symbol or named_symbol or "ASSET/QUOTE"
    tf = timeframe or named_tf or _guess_timeframe(rows[:, 0].astype(np.int64))
    if tf not in TIMEFRAME_MS:
        raise CandleFileError(f"unknown timeframe {tf!r} (known: {', '.join(TIMEFRAME_MS)})")
    gaps = coverage_gaps(path.parent.parent, sym, tf) if named_symbol else []
    return make_candles(sym, tf, rows, gaps)


def candles_from_bars(bars: Sequence[Bar]) -> Candles:
    """Closed bars of one symbol and timeframe (the candles table) as ``Candles``."""
    closed = [b for b in bars if b.closed]
    if not closed:
        raise CandleFileError("no closed bars")
    symbol, tf = closed[0].symbol, closed[0].timeframe
    rows = np.array(
        [(b.open_ms, float(b.open), float(b.high), float(b.low), float(b.close), float(b.volume)) for b in closed],
        dtype=np.float64,
    ).reshape(-1, 6)
    return make_candles(symbol, tf, rows)


def between(c: Candles, start_ms: int | None, end_ms: int | None) -> Candles:
    """The bars whose open time lies in [start, end)."""
    lo = int(np.searchsorted(c.open_ms, start_ms, side="left")) if start_ms is not None else 0
    hi = int(np.searchsorted(c.open_ms, end_ms, side="left")) if end_ms is not None else len(c)
    return c.slice(lo, max(lo, hi))
