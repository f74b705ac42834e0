"""``python -m tests.loopback binance [--port N] [--quiet-market]``: a loopback exchange to point
the app at (API key ``loopback-key``, secret ``loopback-secret``); the market moves by itself."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys


async def _serve(args: argparse.Namespace) -> None:
    from .binance import API_KEY, SECRET, BinanceLoopback

    lb = BinanceLoopback(port=args.port)
    await lb.start()
    source = "recorded exchangeInfo" if lb.recorded else "built-in markets"
    print(f"loopback binance on {lb.base_url} ({source}); api key {API_KEY!r}, secret {SECRET!r}", flush=True)
    tasks = []
    if not args.quiet_market:
        tasks = [
            asyncio.ensure_future(lb.simulate(sym, mid)) for sym, mid in (("BTCUSDT", "60000"), ("ETHUSDT", "3000"))
        ]
    try:
        await asyncio.Event().wait()
    finally:
        for t in tasks:
            t.cancel()
        await lb.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.loopback")
    parser.add_argument("exchange", choices=["binance"])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quiet-market", action="store_true", help="no simulated market (driven by /_loopback/*)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
