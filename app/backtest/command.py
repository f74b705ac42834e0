"""What ``python -m app backtest`` does: read the bars, build the run, print ``NAME: VALUE`` lines
(or the sweep's table), write the JSON report."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from app.domain.errors import AppError
from app.domain.money import fmt
from app.signals.candles import CandleFileError, Candles, parse_ms

from .data import between, candles_from_bars, load_candle_file
from .engine import BacktestConfig, BacktestResult, forecasts_for, run_backtest
from .strategies import STRATEGIES, make_strategy
from .strategy import FixedFraction, Sizing, VolatilityTarget, parse_params
from .sweep import SweepResult, parse_axis, run_sweep

REPORTED = (
    "total_return",
    "annual_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_days",
    "win_rate",
    "profit_factor",
    "exposure",
    "trades",
    "buy_hold_return",
)


def execute(args: argparse.Namespace, out: TextIO) -> int:
    if args.list:
        for name, cls in STRATEGIES.items():
            defaults = " ".join(f"{k}={v}" for k, v in cls.defaults.items())
            model = f" [model {cls.model}]" if cls.model else ""
            print(f"{name}: {cls.description}{model}; parameters {defaults}", file=out)
        return 0
    try:
        candles, first = _candles(args)
        config = _config(args)
        params = parse_params(args.param)
        if args.grid:
            return _sweep(args, candles, first, config, params, out)
        strategy = make_strategy(args.strategy, params)
        candles, start = with_warmup(candles, first, strategy.lookback)
        forecasts = forecasts_for(candles, args.model or strategy.model) if strategy.model else None
        result = run_backtest(strategy, candles, config, forecasts=forecasts, start=start)
    except (ValueError, CandleFileError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AppError as exc:
        print(f"error ({exc.key}): {exc.message}", file=sys.stderr)
        return 2
    for line in report_lines(result, trades=args.trades):
        print(line, file=out)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result.to_json(), indent=1))
    return 0


def with_warmup(c: Candles, first: int, lookback: int) -> tuple[Candles, int]:
    """The bars from ``lookback`` + 1 before ``first`` on, and where ``first`` is among them: the
    strategy's values are warm when trading starts at ``--from``."""
    lo = max(0, first - lookback - 1)
    return c.slice(lo, len(c)), first - lo


def _candles(args: argparse.Namespace) -> tuple[Candles, int]:
    """The bars before ``--to`` and the index of the first at or after ``--from``."""
    start = parse_ms(args.start) if args.start else None
    end = parse_ms(args.end) if args.end else None
    c = _read(args, end)
    first = int(np.searchsorted(c.open_ms, start, side="left")) if start is not None else 0
    if first >= len(c):
        raise ValueError("no bars at or after --from")
    return c, first


def _read(args: argparse.Namespace, end: int | None) -> Candles:
    if args.candles:
        return between(load_candle_file(Path(args.candles), args.symbol, args.timeframe), None, end)
    if not (args.db or args.data_dir):
        raise ValueError("give --candles FILE, or --db URL / --data-dir DIR with --venue, --symbol and --timeframe")
    if not (args.venue and args.symbol and args.timeframe):
        raise ValueError("reading the candles table needs --venue, --symbol and --timeframe")
    from app.storage import Store

    url = args.db or f"sqlite:///{Path(args.data_dir) / 'autogrowth.sqlite3'}"
    store = Store.open(url)
    try:
        bars = store.load_bars(args.venue, args.symbol, args.timeframe, None, end - 1 if end is not None else None)
    finally:
        store.close()
    if not bars:
        raise ValueError(f"no {args.timeframe} candles of {args.symbol} at {args.venue} in that database")
    return candles_from_bars(bars)


def _dec(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"--{name} {text!r} is not a number") from exc
    if not value.is_finite():
        raise ValueError(f"--{name} must be finite")
    return value


def parse_sizing(text: str) -> Sizing:
    """``fraction=0.5`` or ``vol=0.4[,lookback=720][,max=1]``."""
    fields = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    if "fraction" in fields:
        return FixedFraction(_dec("size fraction", fields["fraction"]))
    if "vol" in fields:
        return VolatilityTarget(
            float(fields["vol"]), int(fields.get("lookback", 720)), _dec("size max", fields.get("max", "1"))
        )
    raise ValueError(f"--size is fraction=F or vol=V[,lookback=N][,max=F], not {text!r}")


def _config(args: argparse.Namespace) -> BacktestConfig:
    cash, fee = _dec("cash", args.cash), _dec("fee", args.fee)
    config = BacktestConfig.backtesting_py(cash, fee) if args.compat else BacktestConfig(cash=cash, fee=fee)
    changes: dict[str, Any] = {}
    if args.account:
        changes["account"] = args.account
    if args.depth:
        changes["depth"] = args.depth
    if args.spread_ticks is not None:
        changes["spread_ticks"] = args.spread_ticks
    if args.slippage and _dec("slippage", args.slippage):
        changes["slippage"] = _dec("slippage", args.slippage)
    if args.tick:
        changes["tick_size"] = _dec("tick", args.tick)
    if args.lot_step:
        changes["lot_step"] = _dec("lot-step", args.lot_step)
    if args.size:
        changes["sizing"] = parse_sizing(args.size)
    return replace(config, **changes) if changes else config


def _num(v: Any) -> str:
    if v is None:
        return "nan"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if math.isinf(v) else f"{v:.6f}")
    return str(v)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def report_lines(r: BacktestResult, trades: bool = False) -> list[str]:
    m = r.metrics.to_json()
    lines = [
        f"strategy: {r.strategy} {' '.join(f'{k}={v}' for k, v in r.params.items())}",
        f"symbol: {r.symbol} {r.timeframe}",
        f"bars: {r.stats.bars}"
        + (f" ({_day(int(r.open_ms[0]))} … {_day(int(r.open_ms[-1]))} UTC)" if r.stats.bars else ""),
        f"initial_cash: {fmt(r.config.cash)}",
        f"final_equity: {fmt(r.final_equity)}",
    ]
    lines += [f"{k}: {_num(m[k])}" for k in REPORTED]
    lines += [
        f"event_bars: {r.stats.event_bars}",
        f"visited_bars: {r.stats.visited_bars}",
        f"orders: {r.stats.orders}",
        f"rejected: {r.stats.rejected}",
    ]
    if trades:
        for t in r.trades:
            side = "long " if t.direction > 0 else "short"
            exit_part = (
                f"{_day(t.exit_ms)} @ {fmt(t.exit_price)}"
                if t.exit_ms is not None and t.exit_price is not None
                else f"open, marked @ {fmt(t.exit_price) if t.exit_price is not None else '?'}"
            )
            lines.append(
                f"trade: {side} {fmt(t.quantity)} {_day(t.entry_ms)} @ {fmt(t.entry_price)} → {exit_part} "
                f"pnl {fmt(t.pnl.quantize(Decimal('0.00000001')))} fees {fmt(t.fees)}"
            )
    return lines


def _sweep(
    args: argparse.Namespace,
    candles: Candles,
    first: int,
    config: BacktestConfig,
    fixed: dict[str, float | int],
    out: TextIO,
) -> int:
    axes = [parse_axis(g) for g in args.grid]
    result = run_sweep(
        args.strategy,
        candles,
        config,
        axes,
        fixed=fixed,
        workers=args.workers,
        ray_address=args.ray,
        model=args.model,
        start=first,
    )
    for line in sweep_table(result, args.metric):
        print(line, file=out)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result.to_json(args.metric), indent=1))
    return 0


def sweep_table(result: SweepResult, metric: str) -> list[str]:
    names = [a[0] for a in result.axes]
    cols = [*names, "total_return", "sharpe", "max_drawdown", "trades", "final_equity"]
    if metric not in cols:
        cols.insert(len(names), metric)
    rows = [[_num(r.get(c)) if c != "final_equity" else str(r.get(c, "invalid")) for c in cols] for r in result.rows]
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    best = result.best(metric)
    if best is not None:
        lines.append(f"best {metric}: " + " ".join(f"{n}={best[n]}" for n in names) + f" ({_num(best[metric])})")
    return lines
