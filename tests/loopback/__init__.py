"""Loopback exchanges: real HTTP and websocket servers on 127.0.0.1 that speak an exchange's wire
protocol closely enough for the unmodified ccxt classes to trade against them, with the project's
paper ``MatchingCore`` behind them and fault injection switches.

    python -m tests.loopback binance|upbit|kraken|coinbase [--port 8765]

then point the app at http://127.0.0.1:8765 (``make_exchange(..., base_url=...)``; the CLI's
``--base-url``). Binance: API key ``loopback-key``, secret ``loopback-secret``; the others print theirs.
Binance's server is its own (``binance/``); Upbit, Kraken and Coinbase share ``base`` (the aiohttp
app, faults, sockets) and ``core`` (account, markets, matching) and add their wire formats.
"""

from .faults import Fault, Faults

__all__ = ["Fault", "Faults"]
