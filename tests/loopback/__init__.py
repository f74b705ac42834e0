"""Loopback exchanges: real HTTP and websocket servers on 127.0.0.1 that speak an exchange's wire
protocol closely enough for the unmodified ccxt classes to trade against them, with the project's
paper ``MatchingCore`` behind them and fault injection switches.

    python -m tests.loopback binance [--port 8765]

then point the app at http://127.0.0.1:8765 (``make_exchange(..., base_url=...)``; the CLI's
``--base-url``). API key ``loopback-key``, secret ``loopback-secret``.
"""

from .faults import Fault, Faults

__all__ = ["Fault", "Faults"]
