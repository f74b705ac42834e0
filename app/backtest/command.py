"""What ``python -m app backtest`` does (filled in with the backtester)."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO


def execute(args: argparse.Namespace, out: TextIO) -> int:
    print("the backtester is not built yet", file=sys.stderr)
    return 2
