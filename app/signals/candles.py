"""Candle files as float64 arrays, and where their gaps are.

A candle folder is laid out like ``candles/binance/``: ``<tf>/<BASE>_<QUOTE>-<tf>.csv.gz`` (or
``.csv``) with the columns ``open_time`` (UTC ms of the candle's open), ``open``, ``high``, ``low``,
``close``, ``volume``. Gaps are found from the timestamps (a step other than one timeframe) and,
when a ``coverage.json`` lies in the folder or beside it, from the gaps it lists as well; a segment
is a run of candles without a gap, and no feature window or label spans two segments.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.domain.market import TIMEFRAME_MS

COLUMNS = ("open_time", "open", "high", "low", "close", "volume")


class CandleFileError(ValueError):
    """A candle file that cannot be read as candles (missing columns, unordered duplicates)."""


@dataclass(frozen=True, eq=False)
class Candles:
    """One symbol's candles of one timeframe, oldest first, strictly increasing in time."""

    symbol: str  # "BTC/USDT"
    timeframe: str  # "1h"
    open_ms: np.ndarray  # int64
    open: np.ndarray  # float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    segment_start: np.ndarray  # bool: the first candle of a run without a gap

    def __len__(self) -> int:
        return len(self.open_ms)

    @property
    def tf_ms(self) -> int:
        return TIMEFRAME_MS[self.timeframe]

    def segment_id(self) -> np.ndarray:
        """0 for the first run of candles, 1 after the first gap, and so on."""
        return np.cumsum(self.segment_start) - 1

    def since_segment_start(self) -> np.ndarray:
        """For each candle, how many candles of its segment come before it."""
        idx = np.arange(len(self))
        starts = np.where(self.segment_start, idx, 0)
        return idx - np.maximum.accumulate(starts)

    def slice(self, lo: int, hi: int) -> Candles:
        seg = self.segment_start[lo:hi].copy()
        if len(seg):
            seg[0] = True
        return Candles(
            self.symbol,
            self.timeframe,
            self.open_ms[lo:hi],
            self.open[lo:hi],
            self.high[lo:hi],
            self.low[lo:hi],
            self.close[lo:hi],
            self.volume[lo:hi],
            seg,
        )


def symbol_from_filename(name: str) -> tuple[str, str]:
    """``BTC_USDT-1h.csv.gz`` → (``BTC/USDT``, ``1h``)."""
    stem = name.split(".", 1)[0]
    pair, _, tf = stem.rpartition("-")
    if not pair or tf not in TIMEFRAME_MS:
        raise CandleFileError(f"not a candle file name: {name}")
    return pair.replace("_", "/"), tf


def parse_ms(text: str) -> int:
    """A coverage or command-line time (``2024-07-01``, ``2018-02-08T01:00Z``) as UTC ms."""
    t = text.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def read_rows(path: Path) -> np.ndarray:
    """The six columns as a float64 array (n, 6), in file order."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    header, _, body = text.partition("\n")
    names = [h.strip() for h in header.split(",")]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise CandleFileError(f"{path.name}: missing column(s) {', '.join(missing)}")
    if not body.strip():
        return np.empty((0, len(COLUMNS)))
    data = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2)
    return data[:, [names.index(c) for c in COLUMNS]]


def coverage_gaps(folder: Path, symbol: str, timeframe: str) -> list[tuple[int, int]]:
    """Gaps (first missing open, last missing open) that a ``coverage.json`` in or beside the
    folder lists for this file; empty without a coverage file."""
    for path in (folder / "coverage.json", folder.parent / "coverage.json"):
        if path.exists():
            entry = json.loads(path.read_text()).get(f"{symbol.replace('/', '_')} {timeframe}")
            if not entry:
                return []
            return [(parse_ms(g[0]), parse_ms(g[1])) for g in entry.get("gaps", [])]
    return []


def make_candles(
    symbol: str, timeframe: str, rows: np.ndarray, extra_gaps: list[tuple[int, int]] | None = None
) -> Candles:
    """Candles from rows of (open_time, open, high, low, close, volume): sorted by time; exact
    duplicates dropped, conflicting duplicates refused; segments split at every gap."""
    tf = TIMEFRAME_MS[timeframe]
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    t = rows[:, 0].astype(np.int64)
    if len(t) > 1:
        dup = np.flatnonzero(np.diff(t) == 0)
        if len(dup):
            if not np.array_equal(rows[dup], rows[dup + 1]):
                raise CandleFileError(f"{symbol} {timeframe}: two different candles at {int(t[dup[0]])}")
            keep = np.ones(len(t), dtype=bool)
            keep[dup + 1] = False
            rows, t = rows[keep], t[keep]
    start = np.ones(len(t), dtype=bool)
    if len(t) > 1:
        start[1:] = np.diff(t) != tf
    for first, last in extra_gaps or []:
        # A listed gap splits the candles around it even if the timestamps seem to run on.
        after = int(np.searchsorted(t, last, side="right"))
        before = int(np.searchsorted(t, first, side="left"))
        if 0 < after < len(t):
            start[after] = True
        if before < len(t) and t[before] <= last:
            start[before] = True
    o, h, lo, c, v = (np.ascontiguousarray(rows[:, i]) for i in range(1, 6))
    return Candles(symbol, timeframe, t, o, h, lo, c, v, start)


def load_file(path: Path, gaps_from: Path | None = None) -> Candles:
    symbol, tf = symbol_from_filename(path.name)
    extra = coverage_gaps(gaps_from, symbol, tf) if gaps_from is not None else []
    return make_candles(symbol, tf, read_rows(path), extra)


def list_files(folder: Path, timeframe: str) -> list[Path]:
    """The candle files of one timeframe in a folder laid out like ``candles/binance/``."""
    where = folder / timeframe
    return sorted(p for p in where.glob(f"*-{timeframe}.csv*") if p.name.endswith((".csv", ".csv.gz")))


def load_folder(folder: Path, timeframe: str, symbols: list[str] | None = None) -> dict[str, Candles]:
    """Every symbol's candles of ``timeframe`` in ``folder`` (or only ``symbols``), by symbol."""
    out: dict[str, Candles] = {}
    for path in list_files(folder, timeframe):
        symbol, _ = symbol_from_filename(path.name)
        if symbols is None or symbol in symbols:
            out[symbol] = load_file(path, gaps_from=folder)
    return out
