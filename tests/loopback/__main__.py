"""``python -m tests.loopback binance|upbit|kraken|coinbase [--port N] [--quiet-market]``: a loopback
exchange to point the app at (its API key and secret are printed); the market moves by itself."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

# exchange -> the markets a standalone run moves, with a starting price
SIMULATED = {
    "upbit": (("BTC/KRW", "100000000"), ("ETH/KRW", "4500000")),
    "kraken": (("BTC/USD", "60000"), ("ETH/USD", "3000"), ("BTC/USDT", "60000")),
    "coinbase": (("BTC/USD", "60000"), ("ETH/USD", "3000")),
}


async def _serve_other(args: argparse.Namespace) -> None:
    from .testing import LOOPBACKS

    cls, key, secret = LOOPBACKS[args.exchange]
    lb = cls(port=args.port)
    await lb.start()
    print(f"loopback {args.exchange} on {lb.base_url} (api key {key!r}, secret {secret!r})", flush=True)
    tasks = []
    if not args.quiet_market:
        tasks = [asyncio.ensure_future(lb.simulate(sym, mid)) for sym, mid in SIMULATED[args.exchange]]
    try:
        await asyncio.Event().wait()
    finally:
        for t in tasks:
            t.cancel()
        await lb.stop()


async def _serve(args: argparse.Namespace) -> None:
    if args.exchange != "binance":
        return await _serve_other(args)
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
    parser.add_argument("exchange", choices=["binance", "upbit", "kraken", "coinbase"])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quiet-market", action="store_true", help="no simulated market (driven by /_loopback/*)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
