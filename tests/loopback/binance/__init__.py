"""The loopback Binance spot exchange (see ``server``)."""

from .server import API_KEY, DEFAULT_BALANCES, SECRET, BinanceLoopback

__all__ = ["API_KEY", "DEFAULT_BALANCES", "SECRET", "BinanceLoopback"]
