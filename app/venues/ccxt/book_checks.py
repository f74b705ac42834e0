"""Order-book integrity checks ccxt.pro leaves out for some exchanges, installed on the exchange
object by its profile (``ExchangeProfile.prepare``): a book that missed an update is dropped and
subscribed again, and until its new snapshot arrives it is never published (``BookOutOfSync``).

- Coinbase Advanced Trade numbers every message of a connection (``sequence_num``): a skipped
  number means lost messages, so each of the connection's level2 books is loaded again;
- Kraken (websocket v2) sends a CRC32 of the top ten levels with every book message; ccxt.pro's own
  check is off (its Python version cannot format the levels), so it is computed here from the
  pair's decimals.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt

log = logging.getLogger(__name__)


def _drop_books(exchange: Any, client: Any, prefix: str, why: str, only: str | None = None) -> None:
    """Forget the books subscribed on ``client`` under ``prefix`` and fail their watchers with a
    ChecksumError: the next watch subscribes again and starts from a new snapshot."""
    for key in list(getattr(client, "subscriptions", {}) or {}):
        if not isinstance(key, str) or not key.startswith(prefix):
            continue
        symbol = key[len(prefix) :]
        if only is not None and symbol != only:
            continue
        client.subscriptions.pop(key, None)
        exchange.orderbooks.pop(symbol, None)
        log.warning("%s: %s book dropped (%s); subscribing again", exchange.id, symbol, why)
        client.reject(ccxt.ChecksumError(f"{exchange.id} {symbol} {why}"), key)


def guard_sequence(exchange: Any) -> None:
    """Coinbase: a gap in a connection's ``sequence_num`` drops that connection's level2 books."""
    original: Callable[[Any, Any], Any] = exchange.handle_message
    last: dict[str, int] = {}

    def handle(client: Any, message: Any) -> Any:
        seq = message.get("sequence_num") if isinstance(message, dict) else None
        if isinstance(seq, int):
            before = last.get(client.url)
            last[client.url] = seq
            if before is not None and seq > before + 1:
                _drop_books(exchange, client, "level2::", f"missed messages {before + 1}–{seq - 1}")
                if message.get("channel") == "l2_data":
                    return None  # an update on a book that is no longer whole
        return original(client, message)

    exchange.handle_message = handle


def _text(value: Any, places: int) -> str:
    return f"{Decimal(str(value)):.{places}f}".replace(".", "").lstrip("0")


def kraken_checksum(book: Any, price_places: int, qty_places: int) -> int:
    """Kraken's CRC32: the ten best asks (lowest first) then the ten best bids (highest first), each
    price and quantity at the pair's decimals without the point and leading zeros."""
    text = "".join(_text(p, price_places) + _text(q, qty_places) for p, q in list(book["asks"])[:10])
    text += "".join(_text(p, price_places) + _text(q, qty_places) for p, q in list(book["bids"])[:10])
    return zlib.crc32(text.encode()) & 0xFFFFFFFF


def guard_checksum(exchange: Any) -> None:
    """Kraken: a book message is applied by ccxt, its checksum compared with the book ccxt now
    holds, and only then is the book handed on (a mismatch drops it instead)."""
    original: Callable[[Any, Any], Any] = exchange.handle_message

    def handle(client: Any, message: Any) -> Any:
        if not isinstance(message, dict) or message.get("channel") != "book":
            return original(client, message)
        held: list[tuple[Any, str]] = []
        resolve = client.resolve

        def hold(result: Any, message_hash: Any) -> Any:
            if isinstance(message_hash, str) and message_hash.startswith("orderbook@"):
                held.append((result, message_hash))
                return result
            return resolve(result, message_hash)

        client.resolve = hold
        try:
            result = original(client, message)
        finally:
            del client.resolve  # the class's own again
        bad = {str(item.get("symbol")) for item in message.get("data") or [] if not _matches(exchange, item)}
        for book, message_hash in held:
            symbol = message_hash[len("orderbook@") :]
            if symbol in bad:
                _drop_books(exchange, client, "orderbook@", "checksum mismatch", only=symbol)
            else:
                client.resolve(book, message_hash)
        return result

    exchange.handle_message = handle


def _matches(exchange: Any, item: dict[str, Any]) -> bool:
    symbol, expected = item.get("symbol"), item.get("checksum")
    book = exchange.orderbooks.get(symbol)
    if book is None or not isinstance(expected, int) or symbol not in exchange.markets:
        return True  # nothing to compare
    info = exchange.markets[symbol].get("info") or {}
    try:
        return kraken_checksum(book, int(info["pair_decimals"]), int(info["lot_decimals"])) == expected
    except (KeyError, TypeError, ValueError):
        return True
