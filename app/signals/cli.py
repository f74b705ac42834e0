"""``python -m app signals …``: evaluate a model on a candle folder, list the models, rebuild the
shipped model.

``signals evaluate [--model NAME] --candles DIR [--from DATE] [--to DATE]`` prints ``NAME: VALUE``
lines: ``SYMBOL.auc: …`` per symbol, then the figures over all symbols unprefixed (``auc: …``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from app.domain.errors import AppError

# The rest of app.signals (numpy, onnxruntime) is imported when a command runs, not when the app
# builds its command line.
DEFAULT_MODEL = "gbm_1h_h24"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("signals", help="signal models: evaluate, list, train")
    cmds = p.add_subparsers(dest="signals_command", required=True)
    ev = cmds.add_parser("evaluate", help="out-of-sample figures of a model on a candle folder")
    ev.add_argument("--model", default=None, help=f"model name or .onnx path (default {DEFAULT_MODEL})")
    ev.add_argument("--candles", required=True, help="a folder laid out like candles/binance/ (TF/PAIR-TF.csv.gz)")
    ev.add_argument("--from", dest="start", default=None, help="first bar's open time, UTC (e.g. 2024-07-08)")
    ev.add_argument("--to", dest="end", default=None, help="end, exclusive: bars and labels before it (UTC)")
    ev.add_argument("--symbol", action="append", default=None, help="only this symbol (repeatable), e.g. BTC/USDT")
    ev.add_argument("--models-dir", action="append", default=[], help="a folder of the user's models")
    ev.add_argument("--no-reliability", action="store_true", help="leave out the reliability table")
    ls = cmds.add_parser("list", help="the models found and their contracts")
    ls.add_argument("--models-dir", action="append", default=[], help="a folder of the user's models")
    tr = cmds.add_parser("train", help="rebuild the shipped model from the shared data (needs the train extra)")
    tr.add_argument("--data", default="../shared/data", help="the shared data folder (holding candles/binance/)")
    tr.add_argument("--out", default="models_onnx", help="where to write NAME.onnx and its cards")
    tr.add_argument("--quick", action="store_true", help="a reduced build (one symbol, few trees) to try it")
    return p


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        if args.signals_command == "evaluate":
            return _evaluate(args, out)
        if args.signals_command == "list":
            return _list(args, out)
        if args.signals_command == "train":
            return _train(args, out)
    except AppError as exc:
        print(f"error ({exc.key}): {exc.message}", file=sys.stderr)
        return 2
    return 2


def _evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from .candles import list_files, parse_ms
    from .evaluate import Rule, evaluate_folder, format_lines
    from .registry import load_model

    model = load_model(args.model, [Path(d) for d in args.models_dir])
    c = model.contract
    folder = Path(args.candles)
    if not list_files(folder, c.timeframe):
        print(f"error: no {c.timeframe} candle files in {folder / c.timeframe}", file=sys.stderr)
        return 2
    start = parse_ms(args.start) if args.start else None
    end = parse_ms(args.end) if args.end else None
    results = evaluate_folder(
        folder, model.predict_proba, Rule(c.horizon, c.fee, c.threshold), c.timeframe, start, end, args.symbol
    )
    print(f"model: {c.name}", file=out)
    print(f"version: {c.version}", file=out)
    print(f"timeframe: {c.timeframe}", file=out)
    print(f"horizon_bars: {c.horizon}", file=out)
    for line in format_lines(results, reliability=not args.no_reliability):
        print(line, file=out)
    return 0


def _list(args: argparse.Namespace, out: TextIO) -> int:
    from .registry import find_models

    for key, entry in find_models([Path(d) for d in args.models_dir]).items():
        try:
            m = entry.load()
            c = m.contract
            print(
                f"{key}: {c.version} {c.timeframe} horizon={c.horizon} features={len(c.features)} "
                f"{'shipped' if entry.shipped else 'user'}",
                file=out,
            )
        except AppError as exc:
            print(f"{key}: unusable ({exc.key}): {exc.message}", file=out)
    return 0


def _train(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from .training.build import TrainConfig, build, reduced
    except ImportError as exc:
        print(
            f'error: the training packages are missing ({exc.name}); install them with: pip install -e ".[train]"',
            file=sys.stderr,
        )
        return 2
    cfg = reduced() if args.quick else TrainConfig()
    build(Path(args.data), Path(args.out), cfg, log=lambda s: print(s, file=out, flush=True))
    return 0
