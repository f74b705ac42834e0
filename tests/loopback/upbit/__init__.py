"""The loopback Upbit exchange (see ``server``)."""

from .server import API_KEY, DEFAULT_BALANCES, SECRET, UpbitLoopback

__all__ = ["API_KEY", "DEFAULT_BALANCES", "SECRET", "UpbitLoopback"]
