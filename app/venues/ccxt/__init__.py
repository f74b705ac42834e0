"""The ccxt venue family: one design for every exchange ccxt speaks, each exchange's quirks as a
small profile registered in ``profile.PROFILES`` (``binance``, ``coinbase``, ``kraken``, ``upbit``; importing this package
registers them all).

- ``client``: the ccxt.pro object (``make_exchange``, the one place a base URL points it at a
  loopback exchange), rate limits, bans, the clock, the silent-socket watchdog;
- ``errors``: the one translator of ccxt's exceptions into domain errors;
- ``instruments`` / ``convert``: markets and payloads → domain values, numbers parsed once;
- ``market_data.CcxtMarketData``: public data, no key (the source of a paper account on live data);
- ``venue.CcxtVenue``: trading and the account stream.
"""

from . import binance, coinbase, kraken, upbit  # noqa: F401  (each registers its profile)
from .client import CcxtClient, make_exchange
from .market_data import CcxtMarketData
from .profile import ExchangeProfile, Timing, profile_for
from .venue import CcxtVenue

__all__ = ["CcxtClient", "CcxtMarketData", "CcxtVenue", "ExchangeProfile", "Timing", "make_exchange", "profile_for"]
