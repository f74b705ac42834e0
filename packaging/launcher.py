"""The frozen executable's entry point: the same as ``python -m app``."""

import multiprocessing
import sys

from app.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # backtest sweeps use a process pool
    sys.exit(main(sys.argv[1:]))
