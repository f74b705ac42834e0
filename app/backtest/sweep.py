"""Parameter sweeps: one backtest per point of a grid, on a local process pool by default or on a
Ray cluster (``ray_address``; the optional ``cluster`` extra). Both give the same table: every
point runs the same deterministic backtest on the same bars, and rows come back in grid order.

The bars, the run's configuration and (for a model strategy) the forecasts are computed once and
shipped to each worker once (the pool's initializer, ``ray.put``), not with every point.
"""

from __future__ import annotations

import importlib
import itertools
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import numpy as np

from app.signals.candles import Candles

from .engine import BacktestConfig, Backtester, forecasts_for
from .strategies import make_strategy

Point = dict[str, float | int]


def parse_axis(spec: str) -> tuple[str, list[float | int]]:
    """``fast=5:20:5`` → ("fast", [5, 10, 15, 20]) (the end is included); ``fast=5,8,13`` a list."""
    name, sep, raw = spec.partition("=")
    name = name.strip()
    if not sep or not name or not raw.strip():
        raise ValueError(f"a grid axis is NAME=LO:HI:STEP or NAME=A,B,C, not {spec!r}")

    def num(text: str) -> float | int:
        v = float(text)
        return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v

    if ":" in raw:
        parts = raw.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"{spec!r}: a range is LO:HI or LO:HI:STEP")
        lo, hi = num(parts[0]), num(parts[1])
        step = num(parts[2]) if len(parts) == 3 else 1
        if step <= 0 or hi < lo:
            raise ValueError(f"{spec!r}: the step must be positive and HI not below LO")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        values: list[float | int] = [lo + i * step for i in range(count)]
        if all(isinstance(v, int) for v in (lo, hi, step)):
            values = [int(v) for v in values]
        else:
            values = [round(float(v), 12) for v in values]
    else:
        values = [num(x) for x in raw.split(",") if x.strip()]
    if not values:
        raise ValueError(f"{spec!r}: no values")
    return name, values


def grid_points(axes: Sequence[tuple[str, Sequence[float | int]]]) -> list[Point]:
    """Every combination, the last axis varying fastest."""
    names = [a[0] for a in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(a[1] for a in axes))]


@dataclass(frozen=True)
class SweepJob:
    """What every point shares: shipped to each worker once."""

    strategy: str
    fixed: Point
    candles: Candles
    config: BacktestConfig
    forecasts: np.ndarray | None
    start: int = 0  # the first traded bar (those before warm the strategy up)


def run_point(job: SweepJob, point: Point) -> dict[str, Any]:
    """One row of the table: the point, then the metrics (None for NaN), final equity as text;
    ``error`` for a point the strategy refuses (fast >= slow)."""
    row: dict[str, Any] = dict(point)
    try:
        strategy = make_strategy(job.strategy, {**job.fixed, **point})
    except ValueError as exc:
        row["error"] = str(exc)
        return row
    lo = max(0, job.start - strategy.lookback - 1)  # the same warm-up whatever the point
    candles = job.candles.slice(lo, len(job.candles)) if lo else job.candles
    forecasts = job.forecasts[lo:] if job.forecasts is not None and lo else job.forecasts
    result = Backtester(strategy, candles, job.config, forecasts=forecasts, start=job.start - lo).run()
    row.update(result.metrics.to_json())
    row["final_equity"] = str(result.final_equity)
    return row


_JOB: SweepJob | None = None


def _init_worker(job: SweepJob) -> None:
    global _JOB
    _JOB = job


def _pool_point(point: Point) -> dict[str, Any]:
    assert _JOB is not None
    return run_point(_JOB, point)


@dataclass(frozen=True)
class SweepResult:
    axes: list[tuple[str, list[float | int]]]
    rows: list[dict[str, Any]]  # in grid order

    def best(self, metric: str) -> dict[str, Any] | None:
        ok = [r for r in self.rows if isinstance(r.get(metric), int | float)]
        return max(ok, key=lambda r: r[metric]) if ok else None

    def heatmap(
        self,
        metric: str,
        x: str | None = None,
        y: str | None = None,
    ) -> tuple[list[float | int], list[float | int], np.ndarray]:
        """(x values, y values, Z[y, x]) of ``metric`` over two axes (the first two by default);
        NaN where a point failed or the metric is undefined; other axes at their best value."""
        names = [a[0] for a in self.axes]
        if len(names) < 2 and (x is None or y is None):
            raise ValueError("a heat map needs two grid axes")
        x = x or names[0]
        y = y or names[1]
        xs = dict(self.axes)[x]
        ys = dict(self.axes)[y]
        z = np.full((len(ys), len(xs)), np.nan)
        for r in self.rows:
            v = r.get(metric)
            if isinstance(v, int | float):
                i, j = ys.index(r[y]), xs.index(r[x])
                z[i, j] = v if math.isnan(z[i, j]) else max(z[i, j], v)
        return xs, ys, z

    def to_json(self, metric: str = "sharpe") -> dict[str, Any]:
        out: dict[str, Any] = {"axes": {k: v for k, v in self.axes}, "rows": self.rows, "metric": metric}
        if len(self.axes) >= 2:
            xs, ys, z = self.heatmap(metric)
            out["heatmap"] = {
                "x": self.axes[0][0],
                "y": self.axes[1][0],
                "x_values": xs,
                "y_values": ys,
                "z": [[None if math.isnan(v) else float(v) for v in row] for row in z],
            }
        return out


def run_sweep(
    strategy: str,
    candles: Candles,
    config: BacktestConfig,
    axes: Sequence[tuple[str, Sequence[float | int]]],
    *,
    fixed: Point | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    model: str | None = None,
    start: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Every point of the grid, trading from bar ``start``. ``workers``: processes of the local
    pool (1: in this process); ``ray_address``: a Ray cluster (``"local"`` starts one on this
    machine) instead of the pool."""
    axes_list = [(name, list(values)) for name, values in axes]
    points = grid_points(axes_list)
    probe = make_strategy(strategy, {**(fixed or {}), **_first_valid(strategy, fixed or {}, points)})
    forecasts = None
    if probe.model is not None:
        forecasts = forecasts_for(candles, model or probe.model)
    job = SweepJob(strategy, dict(fixed or {}), candles, config, forecasts, start)
    if ray_address is not None:
        rows = _ray_rows(job, points, ray_address, progress)
    else:
        rows = _pool_rows(job, points, workers, progress)
    return SweepResult(axes_list, rows)


def _first_valid(strategy: str, fixed: Point, points: list[Point]) -> Point:
    for p in points:
        try:
            make_strategy(strategy, {**fixed, **p})
            return p
        except ValueError:
            continue
    raise ValueError("no point of the grid is a valid parameter set")


def _pool_rows(
    job: SweepJob, points: list[Point], workers: int | None, progress: Callable[[int, int], None] | None
) -> list[dict[str, Any]]:
    n = workers if workers is not None else (os.cpu_count() or 1)
    n = max(1, min(n, len(points)))
    rows: list[dict[str, Any]] = []
    if n == 1:
        for i, p in enumerate(points):
            rows.append(run_point(job, p))
            if progress:
                progress(i + 1, len(points))
        return rows
    # spawn, not fork: safe in a process with threads (the window, onnxruntime) and the same on Windows.
    with ProcessPoolExecutor(
        max_workers=n, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(job,)
    ) as pool:
        for i, row in enumerate(pool.map(_pool_point, points, chunksize=max(1, len(points) // (4 * n)))):
            rows.append(row)
            if progress:
                progress(i + 1, len(points))
    return rows


def _ray_rows(
    job: SweepJob, points: list[Point], address: str, progress: Callable[[int, int], None] | None
) -> list[dict[str, Any]]:
    try:
        ray = importlib.import_module("ray")  # optional (the cluster extra): typed as a plain module
    except ImportError as exc:
        raise RuntimeError("Ray is not installed: pip install -e '.[cluster]'") from exc
    started = not ray.is_initialized()
    if started:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    try:
        ref = ray.put(job)
        remote = ray.remote(run_point)
        futures = [remote.remote(ref, p) for p in points]
        rows: list[dict[str, Any]] = []
        for i, f in enumerate(futures):
            rows.append(ray.get(f))
            if progress:
                progress(i + 1, len(points))
        return rows
    finally:
        if started:
            ray.shutdown()
