"""Binance's exchangeInfo for the loopback: the recorded real one (cryptofeed's 2021 session, read
from ../shared/data at server start when present) brought to today's format (NOTIONAL filter,
STOP_LOSS / TAKE_PROFIT market types, permissionSets), or a small built-in list of the same
markets when the recording is absent."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

RECORDING = Path("fixtures/cryptofeed_sample_data/BINANCE.0")
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "ETHBTC")
ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]


def shared_data() -> Path:
    env = os.environ.get("AUTOGROWTH_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data"


def recorded_info() -> dict[str, Any] | None:
    """The exchangeInfo answer inside the recorded session, or None when it is not here."""
    path = shared_data() / RECORDING
    if not path.exists():
        return None
    with path.open() as fh:
        for line in fh:
            if "/api/v3/exchangeInfo" in line[:200]:
                return dict(json.loads(line.split(": ", 1)[1]))
    return None


def _modern(sym: dict[str, Any]) -> dict[str, Any]:
    s = copy.deepcopy(sym)
    s["orderTypes"] = [t for t in ORDER_TYPES if t in set(s.get("orderTypes", [])) | {"STOP_LOSS", "TAKE_PROFIT"}]
    s.setdefault("otoAllowed", True)
    s.setdefault("opoAllowed", False)
    s.setdefault("allowTrailingStop", True)
    s.setdefault("cancelReplaceAllowed", True)
    s.setdefault("amendAllowed", False)
    s.setdefault("pegInstructionsAllowed", False)
    filters = []
    for f in s.get("filters", []):
        if f["filterType"] == "MIN_NOTIONAL":
            f = {
                "filterType": "NOTIONAL",
                "minNotional": f["minNotional"],
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": f.get("avgPriceMins", 5),
            }
        elif f["filterType"] == "PERCENT_PRICE":
            f = {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": f["multiplierUp"],
                "bidMultiplierDown": f["multiplierDown"],
                "askMultiplierUp": f["multiplierUp"],
                "askMultiplierDown": f["multiplierDown"],
                "avgPriceMins": f.get("avgPriceMins", 5),
            }
        filters.append(f)
    if not any(f["filterType"] == "TRAILING_DELTA" for f in filters):
        filters.append(
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            }
        )
    s["filters"] = filters
    s["permissionSets"] = [s.pop("permissions", ["SPOT"])]
    s["permissions"] = []
    s.setdefault("defaultSelfTradePreventionMode", "EXPIRE_MAKER")
    s.setdefault("allowedSelfTradePreventionModes", ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"])
    return s


def _builtin(
    symbol: str, base: str, quote: str, tick: str, step: str, min_qty: str, max_qty: str, notional: str
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ORDER_TYPES,
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000", "tickSize": tick},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "5", "multiplierDown": "0.2", "avgPriceMins": 5},
            {"filterType": "LOT_SIZE", "minQty": min_qty, "maxQty": max_qty, "stepSize": step},
            {"filterType": "MIN_NOTIONAL", "minNotional": notional, "applyToMarket": True, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": ["SPOT"],
    }


# The same numbers as the recording's (Binance, 2021-10), for machines without ../shared/data.
BUILTIN = [
    _builtin("BTCUSDT", "BTC", "USDT", "0.01000000", "0.00001000", "0.00001000", "9000.00000000", "10.00000000"),
    _builtin("ETHUSDT", "ETH", "USDT", "0.01000000", "0.00010000", "0.00010000", "9000.00000000", "10.00000000"),
    _builtin("BNBUSDT", "BNB", "USDT", "0.10000000", "0.00100000", "0.00100000", "9000.00000000", "10.00000000"),
    _builtin("SOLUSDT", "SOL", "USDT", "0.01000000", "0.01000000", "0.01000000", "9000000.00000000", "10.00000000"),
    _builtin("ETHBTC", "ETH", "BTC", "0.00000100", "0.00010000", "0.00010000", "100000.00000000", "0.00010000"),
]


def exchange_info(symbols: tuple[str, ...] = DEFAULT_SYMBOLS) -> tuple[dict[str, Any], bool]:
    """(exchangeInfo, whether it came from the recording)."""
    recorded = recorded_info()
    source = recorded["symbols"] if recorded else BUILTIN
    by_symbol = {s["symbol"]: s for s in source}
    chosen = [_modern(by_symbol[s]) for s in symbols if s in by_symbol]
    info = {"timezone": "UTC", "serverTime": 0, "rateLimits": RATE_LIMITS, "exchangeFilters": [], "symbols": chosen}
    return info, recorded is not None
