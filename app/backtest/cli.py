"""``python -m app backtest …``: run a strategy on a candle file (or the candles table), or sweep
its parameters over a grid.

``backtest --strategy sma_cross --param fast=10 --param slow=30 --candles FILE --fee 0.001
--cash 10000000 [--json OUT] [--compat backtesting.py]`` prints ``NAME: VALUE`` lines; with
``--grid fast=5:20:5 --grid slow=20:60:10`` it runs every combination (a local process pool, or a
Ray cluster with ``--ray ADDRESS``) and prints the results table.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

# The backtester (numpy, the matching core) is imported when the command runs, not when the app
# builds its command line.


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("backtest", help="run a strategy on historical candles, or sweep its parameters")
    p.add_argument("--strategy", default="sma_cross", help="sma_cross, onnx_signal (see --list)")
    p.add_argument("--list", action="store_true", help="list the strategies and their parameters")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a strategy parameter")
    p.add_argument("--candles", default=None, help="a candle file: CSV (open_time,open,high,low,close,volume; .gz ok)")
    p.add_argument("--symbol", default=None, help="the symbol (default: from the file name, e.g. BTC_USDT-1h.csv.gz)")
    p.add_argument("--timeframe", default=None, help="the timeframe (default: from the file name or the data)")
    p.add_argument("--db", default=None, help="read the candles table of this database URL instead of a file")
    p.add_argument("--data-dir", default=None, help="the app's data folder (its database holds the candles table)")
    p.add_argument("--venue", default=None, help="with --db/--data-dir: the venue whose candles to read")
    p.add_argument("--from", dest="start", default=None, help="first bar's open time, UTC (e.g. 2024-01-01)")
    p.add_argument("--to", dest="end", default=None, help="end, exclusive (UTC)")
    p.add_argument("--cash", default="10000", help="starting cash in the quote currency")
    p.add_argument("--fee", default="0.001", help="maker and taker fee rate (0.001 = 0.1%%)")
    p.add_argument("--slippage", default="0", help="a fraction of the price added to the half-spread")
    p.add_argument("--spread-ticks", type=int, default=None, help="half-spread of the bar's book in ticks (default 1)")
    p.add_argument("--tick", default=None, help="price tick (default: found from the prices)")
    p.add_argument("--lot-step", default=None, help="quantity step (default 0.00000001)")
    p.add_argument(
        "--account",
        choices=["spot", "margin"],
        default=None,
        help="spot (the paper ledger: no shorts; default) or margin (1x, shorts allowed)",
    )
    p.add_argument(
        "--depth",
        choices=["bar", "unlimited"],
        default=None,
        help="book depth at each price of a bar: a quarter of its volume (default) or unlimited",
    )
    p.add_argument(
        "--size",
        default=None,
        metavar="fraction=F|vol=V",
        help="sizing: a fixed fraction of equity (default fraction=1) or an annualised volatility target",
    )
    p.add_argument(
        "--compat",
        choices=["backtesting.py"],
        default=None,
        help="backtesting.py's broker: whole units of 99.99%% of equity, shorts, fills at the bar's price",
    )
    p.add_argument("--model", default=None, help="the signal model of a model strategy (name or .onnx path)")
    p.add_argument("--json", dest="json_out", default=None, help="write the result (metrics, trades, series) here")
    p.add_argument("--trades", action="store_true", help="print the trade list too")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=LO:HI:STEP|A,B,C",
        help="sweep: values of a parameter (repeat for each); prints the results table",
    )
    p.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="sweep on this Ray cluster ('local' starts one here; needs the cluster extra)",
    )
    p.add_argument("--workers", type=int, default=None, help="sweep: processes of the local pool (default: CPUs)")
    p.add_argument("--metric", default="sharpe", help="sweep: the metric of the heat map and the ranking")
    return p


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from .command import execute

    return execute(args, out)
