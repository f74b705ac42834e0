"""The loopback Coinbase Advanced Trade exchange (see ``server``)."""

from .server import API_KEY, DEFAULT_BALANCES, SECRET, CoinbaseLoopback

__all__ = ["API_KEY", "DEFAULT_BALANCES", "SECRET", "CoinbaseLoopback"]
