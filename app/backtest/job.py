"""A backtest or a sweep in a process of its own, for the window: the GUI thread and the engine's
loop never run it (a backtest is CPU-bound Python; a thread would still hold the interpreter),
progress comes back through a pipe, and cancelling ends the process at once.

``await run_in_process(job, on_progress)`` returns a ``BacktestResult`` or a ``SweepResult``;
cancelling the awaiting task terminates the worker. ``run_job`` is the same work in this process
(the CLI's path, and the tests')."""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from app.domain.money import fmt
from app.signals.candles import Candles

from .engine import BacktestConfig, BacktestResult, forecasts_for, run_backtest
from .strategies import make_strategy
from .sweep import SweepResult, run_sweep

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BacktestJob:
    strategy: str
    params: dict[str, float | int]
    candles: Candles
    config: BacktestConfig
    first: int = 0  # the first traded bar; those before only warm the strategy up
    model: str | None = None
    grid: Sequence[tuple[str, Sequence[float | int]]] | None = None  # a sweep when given
    workers: int = 1


def run_job(job: BacktestJob, progress: Progress | None = None) -> BacktestResult | SweepResult:
    if job.grid:
        return run_sweep(
            job.strategy,
            job.candles,
            job.config,
            job.grid,
            fixed=job.params,
            workers=job.workers,
            model=job.model,
            start=job.first,
            progress=progress,
        )
    strategy = make_strategy(job.strategy, job.params)
    lo = max(0, job.first - strategy.lookback - 1)
    candles = job.candles.slice(lo, len(job.candles)) if lo else job.candles
    if progress:
        progress(0, 0)
    forecasts = forecasts_for(candles, job.model or strategy.model) if strategy.model else None
    return run_backtest(strategy, candles, job.config, forecasts=forecasts, start=job.first - lo)


def _worker(job: BacktestJob, conn: Connection) -> None:
    try:
        result = run_job(job, lambda done, total: conn.send(("progress", done, total)))
        conn.send(("done", result))
    except (ValueError, RuntimeError, ArithmeticError, OSError) as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # an AppError (a model's contract) or anything unforeseen: said, not raised
        conn.send(("error", getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class JobFailed(Exception):
    """The worker reported an error (its message is for the user)."""


async def run_in_process(
    job: BacktestJob, on_progress: Progress | None = None, poll_s: float = 0.05
) -> BacktestResult | SweepResult:
    ctx = multiprocessing.get_context("spawn")  # safe beside Qt's threads, and the same on Windows
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(job, child), daemon=True)
    proc.start()
    child.close()
    try:
        while True:
            while parent.poll():
                try:
                    msg = parent.recv()
                except EOFError:
                    raise JobFailed("the backtest process ended without a result") from None
                kind = msg[0]
                if kind == "progress":
                    if on_progress is not None:
                        on_progress(msg[1], msg[2])
                elif kind == "done":
                    result: BacktestResult | SweepResult = msg[1]
                    return result
                else:
                    raise JobFailed(msg[1])
            if not proc.is_alive() and not parent.poll():
                raise JobFailed("the backtest process ended without a result")
            await asyncio.sleep(poll_s)
    finally:
        parent.close()
        if proc.is_alive():
            proc.terminate()
        await asyncio.get_running_loop().run_in_executor(None, proc.join, 5.0)


def _day(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def trades_csv(result: BacktestResult) -> str:
    """The trade list as CSV (UTC times, exact prices and P&L)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "direction",
            "quantity",
            "entry_time_utc",
            "entry_price",
            "exit_time_utc",
            "exit_price",
            "fees",
            "pnl",
            "return_pct",
            "open",
        ]
    )
    for t in result.trades:
        w.writerow(
            [
                "long" if t.direction > 0 else "short",
                fmt(t.quantity),
                _day(t.entry_ms),
                fmt(t.entry_price),
                _day(t.exit_ms),
                fmt(t.exit_price) if t.exit_price is not None else "",
                fmt(t.fees),
                fmt(t.pnl),
                f"{t.return_pct:.6f}",
                "yes" if t.is_open else "no",
            ]
        )
    return out.getvalue()


def summary(result: BacktestResult) -> dict[str, Any]:
    """The metrics a panel shows, by name."""
    return result.metrics.to_json()
