"""The one place ccxt's exceptions become domain errors (each with a stable message key).

Every REST call and every stream of the ccxt family goes through ``translate``; nothing else in
the app catches a ccxt exception. Which exchange error codes mean what beyond ccxt's own classes
(a "duplicate client order id" answer, an IP ban) is per-exchange data on the profile.
"""

from __future__ import annotations

import json
import re
from typing import Any

import ccxt

from app.domain.errors import (
    AuthenticationFailed,
    InsufficientBalance,
    OrderNotFound,
    OrderRejected,
    TemporaryVenueError,
    VenueError,
)


class RateLimited(TemporaryVenueError):
    """HTTP 429 (or the exchange's own "too many requests"): wait ``retry_after_s``, then go on."""

    key = "error.rate_limited"
    template = "The exchange asks to slow down (rate limit): waiting {retry_after} s"

    def __init__(self, retry_after_s: float, detail: str = "") -> None:
        super().__init__(retry_after=f"{retry_after_s:g}", detail=detail)
        self.retry_after_s = retry_after_s


class IpBanned(VenueError):
    """HTTP 418: the exchange banned this IP for sending on after a 429. Nothing more is sent
    until ``until_ms``: sending on would lengthen the ban (and get the user's peers banned)."""

    key = "error.ip_banned"
    template = "The exchange has banned this IP address for {seconds} s for too many requests; trading is paused"

    def __init__(self, until_ms: int, seconds: float, detail: str = "") -> None:
        super().__init__(seconds=f"{seconds:.0f}", detail=detail)
        self.until_ms = until_ms


class ClockSkew(TemporaryVenueError):
    """The exchange refused the request's timestamp (Binance -1021): the clock is re-measured."""

    key = "error.clock_skew"
    template = "The computer's clock differs from the exchange's ({detail}); it was measured again"


class ExchangeUnavailable(TemporaryVenueError):
    key = "error.exchange_unavailable"
    template = "The exchange is not available right now: {detail}"


class RequestTimedOut(TemporaryVenueError):
    """No answer in time: what the request did at the exchange is unknown (an order may have landed)."""

    key = "error.venue_timeout"
    template = "The exchange did not answer in time: {detail}"


class BadAnswer(TemporaryVenueError):
    """An answer that could not be read (malformed JSON, missing fields): outcome unknown."""

    key = "error.venue_bad_answer"
    template = "The exchange sent an answer that could not be read: {detail}"


class StreamStalled(TemporaryVenueError):
    key = "error.stream_stalled"
    template = "The exchange's data stream went silent ({detail}); reconnecting"


class BookOutOfSync(TemporaryVenueError):
    key = "error.book_out_of_sync"
    template = "The order book of {symbol} missed updates; it is loaded again"


class DuplicateClientOrderId(OrderRejected):
    """The exchange already has an order with this client id: a retried send that had landed."""

    key = "error.duplicate_client_id"
    template = "The exchange already has order {detail}"


class UnknownSymbol(VenueError):
    key = "error.unknown_symbol"
    template = "The exchange does not list this market: {detail}"


class NotSupportedHere(VenueError):
    key = "error.not_supported"
    template = "The exchange does not support this: {detail}"


class NoNetwork(TemporaryVenueError):
    key = "error.no_network"
    template = "Cannot reach {host}: no network ({detail})"


_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')
_QUERY = re.compile(r"(\w+://[^\s?]+)\?\S*")  # a request's query (timestamp, signature) says nothing to a user
_MSG = re.compile(r'"msg"\s*:\s*"([^"]*)"')


def exchange_code(exc: BaseException) -> tuple[int | None, str]:
    """The exchange's own error code and message inside a ccxt error's text (``binance {"code":-2010,...}``)."""
    text = str(exc)
    start = text.find("{")
    if start >= 0:
        try:
            body = json.loads(text[start:])
            if isinstance(body, dict):
                code = body.get("code")
                return (
                    int(code) if isinstance(code, int | str) and str(code).lstrip("-").isdigit() else None,
                    str(body.get("msg", "")) or _message(body),
                )
        except ValueError:
            pass
    m, mm = _CODE.search(text), _MSG.search(text)
    return (int(m.group(1)) if m else None, mm.group(1) if mm else "")


def _message(body: dict[str, Any]) -> str:
    """The message of an answer shaped otherwise: Upbit's ``{"error": {"name", "message"}}``,
    Kraken's ``{"error": ["EOrder:..."]}``, Coinbase's ``{"error", "message"}``."""
    err = body.get("error")
    if isinstance(err, dict):
        name, message = err.get("name"), err.get("message")
        return f"{message} ({name})" if name and message else str(message or name or "")
    if isinstance(err, list) and err:
        return "; ".join(str(e) for e in err)
    message, details = body.get("message"), body.get("error_details")
    if details and message and details != message:
        message = f"{message}: {details}"
    message = message or details
    if message:
        return f"{message} ({err})" if isinstance(err, str) and err and err != message else str(message)
    return str(err) if isinstance(err, str) else ""


def _detail(exc: BaseException) -> str:
    code, msg = exchange_code(exc)
    if msg:
        return f"{msg} ({code})" if code is not None else msg
    text = _QUERY.sub(r"\1", str(exc).strip()) or type(exc).__name__
    return text[:300]


def translate(
    exc: BaseException,
    *,
    duplicate_markers: tuple[str, ...] = (),
    retry_after_s: float | None = None,
    ban_until_ms: int | None = None,
    now_ms: int = 0,
    host: str = "",
) -> Exception:
    """The domain error for a ccxt exception (or an asyncio timeout). Order matters: ccxt's classes
    nest (``OrderNotFound`` is an ``InvalidOrder``, ``ChecksumError`` an ``InvalidNonce``)."""
    if isinstance(exc, VenueError):
        return exc
    detail = _detail(exc)
    if isinstance(exc, TimeoutError):
        return RequestTimedOut(detail="no answer in time")
    if not isinstance(exc, ccxt.BaseError):
        if isinstance(exc, OSError | ConnectionError):
            return ExchangeUnavailable(detail=detail)
        if isinstance(exc, TypeError | KeyError | AttributeError | IndexError):
            # ccxt tripped over an answer of the wrong shape (a broken body it took for text)
            return BadAnswer(detail=f"{type(exc).__name__}: {detail}")
        return VenueError(detail=detail)
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        if ban_until_ms is not None:
            return IpBanned(ban_until_ms, max(0.0, (ban_until_ms - now_ms) / 1000), detail)
        return RateLimited(retry_after_s if retry_after_s is not None else 1.0, detail)
    if isinstance(exc, ccxt.ChecksumError):
        return BookOutOfSync(symbol=detail)
    if isinstance(exc, ccxt.InvalidNonce):
        return ClockSkew(detail=detail)
    if isinstance(exc, ccxt.RequestTimeout):
        return RequestTimedOut(detail=detail)
    if isinstance(exc, ccxt.ExchangeNotAvailable):
        if "gaierror" in repr(exc.__cause__) or "Name or service not known" in repr(exc.__cause__):
            return NoNetwork(host=host or "the exchange", detail=detail)
        if isinstance(exc, ccxt.OnMaintenance):
            return ExchangeUnavailable(
                "The exchange is under maintenance: {detail}", key="error.maintenance", detail=detail
            )
        return ExchangeUnavailable(detail=detail)
    if isinstance(exc, ccxt.BadResponse):
        return BadAnswer(detail=detail)
    if isinstance(exc, ccxt.NetworkError | ccxt.OperationFailed):
        return TemporaryVenueError(detail=detail)
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(order_id=detail)
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientBalance("Insufficient balance: {detail}", detail=detail)
    if isinstance(exc, ccxt.AuthenticationError):
        return AuthenticationFailed(detail=detail)
    if isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest | ccxt.OperationRejected):
        if any(m in str(exc) for m in duplicate_markers):
            return DuplicateClientOrderId(detail=detail)
        if isinstance(exc, ccxt.BadSymbol):
            return UnknownSymbol(detail=detail)
        return OrderRejected(detail=detail)
    if isinstance(exc, ccxt.NotSupported):
        return NotSupportedHere(detail=detail)
    if any(m in str(exc) for m in duplicate_markers):  # exchanges ccxt has no class for this answer
        return DuplicateClientOrderId(detail=detail)
    return VenueError(detail=detail)


def describe(exc: BaseException) -> dict[str, Any]:
    """Key, English text and parameters of a translated error (for logs and the activity panel)."""
    err = exc if isinstance(exc, VenueError) else translate(exc)
    if isinstance(err, VenueError):
        return {"key": err.key, "message": err.message, "params": dict(err.params)}
    return {"key": "error.venue", "message": str(err), "params": {}}
