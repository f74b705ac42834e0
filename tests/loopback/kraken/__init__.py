"""The loopback Kraken spot exchange (see ``server``)."""

from .server import API_KEY, DEFAULT_BALANCES, SECRET, KrakenLoopback

__all__ = ["API_KEY", "DEFAULT_BALANCES", "SECRET", "KrakenLoopback"]
