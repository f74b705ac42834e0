"""One ccxt.pro exchange object and the rules every call to it follows: ccxt's own rate limiter
(``enableRateLimit``), a pause when the exchange says 429 with Retry-After, a full stop on a 418
ban, the clock measured against the server's and corrected (Binance -1021), errors translated in
one place, and a watchdog that closes a websocket that stays open but goes silent.

``make_exchange`` is the one helper that builds the ccxt object — and the one place a base URL
(a loopback exchange: tests, benchmarks, the CLI's ``--base-url``) replaces the exchange's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import ccxt
import ccxt.pro

from app.domain.errors import TemporaryVenueError, VenueError

from .errors import IpBanned, RateLimited, RequestTimedOut, StreamStalled, translate
from .profile import ExchangeProfile

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PAUSE_WAIT_S = 5.0  # a call waits out a Retry-After this short; a longer one fails at once
DEFAULT_BAN_S = 120.0  # when a 418 says nothing about its length
_STATUS = re.compile(r"^\S+ (?:[A-Z]+ \S+ )?(\d{3}) ")  # "binance 418 …" or "upbit GET <url> 418 …"


def _check_shape(result: Any) -> None:
    """ccxt hands back the raw text of an answer it could not parse as JSON (and builds empty
    structures around it): such an answer says nothing, and must not read as "no balances"."""
    from .errors import BadAnswer

    if isinstance(result, str | bytes):
        raise BadAnswer(detail=f"not JSON: {str(result)[:80]!r}")
    items = result if isinstance(result, list) else [result]
    for item in items[:1]:
        if isinstance(item, dict) and isinstance(item.get("info"), str | bytes):
            raise BadAnswer(detail=f"not JSON: {str(item['info'])[:80]!r}")


class SocketStalled(ccxt.NetworkError):
    """Raised into a ccxt websocket client that received no frame (data, ping or pong) for too long."""


def make_exchange(
    profile: ExchangeProfile,
    *,
    api_key: str | None = None,
    secret: str | None = None,
    base_url: str | None = None,
    config: dict[str, Any] | None = None,
) -> Any:
    """The ccxt.pro exchange of ``profile``: rate limited, with the profile's options, pointed at
    ``base_url`` when one is given (the exchange's own URLs otherwise)."""
    cls = getattr(ccxt.pro, profile.ccxt_id)
    cfg: dict[str, Any] = {"enableRateLimit": True, "timeout": 10_000, "options": profile.ccxt_options()}
    if api_key:
        cfg["apiKey"], cfg["secret"] = api_key, secret or ""
    cfg.update(profile.ccxt_config())
    cfg.update(config or {})
    exchange = cls(cfg)
    exchange.streaming = {**exchange.streaming, "keepAlive": profile.timing.keepalive_ms}
    profile.prepare(exchange)
    if base_url:
        profile.point_at(exchange, base_url)
    return exchange


class CcxtClient:
    def __init__(self, profile: ExchangeProfile, exchange: Any) -> None:
        self.profile = profile
        self.exchange = exchange
        self.paused_until = 0.0  # monotonic: a 429's Retry-After
        self.banned_until_ms: int | None = None  # wall clock: a 418 ban
        self.clock_offset_ms = 0  # server time − local time, measured
        self.clock_rtt_ms: int | None = None
        self.clock_synced_ms: int | None = None
        self.last_latency_ms: float | None = None
        self.rate_limited = 0  # 429s seen
        self.stalls = 0  # silent sockets closed by the watchdog
        self._watchdog: asyncio.Task[None] | None = None
        self._serial = asyncio.Lock() if profile.one_request_at_a_time else None

    @property
    def host(self) -> str:
        api = self.exchange.urls.get("api") or {}
        url = api.get("public") if isinstance(api, dict) else api
        return str(url or self.profile.ccxt_id)

    # -- REST --------------------------------------------------------------------------------------
    async def call(self, fn: Callable[[], Awaitable[T]], *, clock_retry: bool = True) -> T:
        """``fn()`` (one ccxt REST call) under the exchange's limits; its errors translated."""
        self._check_ban()
        wait = self.paused_until - time.monotonic()
        if wait > 0:
            if wait > MAX_PAUSE_WAIT_S:
                raise RateLimited(wait, "paused by the exchange's Retry-After")
            await asyncio.sleep(wait)
        synced = self.clock_synced_ms
        if (
            clock_retry
            and synced is not None
            and time.time() * 1000 - synced > self.profile.timing.clock_every_s * 1000
        ):
            self.clock_synced_ms = None  # one measurement at a time
            try:
                await self.sync_clock()
            except VenueError:
                self.clock_synced_ms = synced
        started = time.perf_counter()
        try:
            if self._serial is not None:
                async with self._serial:
                    started = time.perf_counter()
                    result = await fn()
            else:
                result = await fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            err = self._translate(exc)
            if clock_retry and err.key == "error.clock_skew":
                await self.sync_clock()  # the request was refused before it did anything: send again
                return await self.call(fn, clock_retry=False)
            raise err from exc
        self.last_latency_ms = (time.perf_counter() - started) * 1000
        _check_shape(result)
        return result

    def _check_ban(self) -> None:
        until = self.banned_until_ms
        if until is None:
            return
        now = int(time.time() * 1000)
        if now >= until:
            self.banned_until_ms = None
            return
        raise IpBanned(until, (until - now) / 1000, "banned earlier; nothing is sent until the ban ends")

    def _translate(self, exc: BaseException) -> VenueError:
        """Read what only the HTTP answer says (status, Retry-After) before anything else runs."""
        ex = self.exchange
        retry_after: float | None = None
        ban_until: int | None = None
        now = int(time.time() * 1000)
        if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
            headers = {k.lower(): v for k, v in (getattr(ex, "last_response_headers", None) or {}).items()}
            with contextlib.suppress(TypeError, ValueError):
                retry_after = float(headers.get("retry-after"))  # type: ignore[arg-type]
            m = _STATUS.match(str(exc))
            if m and m.group(1) == "418":
                ban_until = now + int((retry_after or DEFAULT_BAN_S) * 1000)
                self.banned_until_ms = ban_until
                log.error("%s: IP banned by the exchange for %.0f s", self.profile.venue_name, (ban_until - now) / 1000)
            else:
                self.rate_limited += 1
                self.paused_until = time.monotonic() + (retry_after if retry_after is not None else 1.0)
        if isinstance(exc, SocketStalled):
            return StreamStalled(detail=str(exc))
        err = translate(
            exc,
            duplicate_markers=self.profile.duplicate_markers,
            retry_after_s=retry_after,
            ban_until_ms=ban_until,
            now_ms=now,
            host=self.host,
        )
        return err if isinstance(err, VenueError) else TemporaryVenueError(detail=str(err))

    # -- the clock ---------------------------------------------------------------------------------
    async def sync_clock(self) -> int:
        """Measure server − local time (the midpoint of the request) and sign requests with the
        server's time from now on. Returns the offset in ms."""
        ex = self.exchange
        if not ex.has.get("fetchTime"):
            return self.clock_offset_ms
        # The rate limiter would hold the request for a while and skew the midpoint: one light
        # request goes straight out.
        limited, ex.enableRateLimit = ex.enableRateLimit, False
        try:
            t0 = time.time() * 1000
            server = await self.call(lambda: ex.fetch_time(), clock_retry=False)
            t1 = time.time() * 1000
        finally:
            ex.enableRateLimit = limited
        if server is None:
            return self.clock_offset_ms
        self.clock_offset_ms = round(int(server) - (t0 + t1) / 2)
        self.clock_rtt_ms = int(t1 - t0)
        self.clock_synced_ms = int(t1)
        if "timeDifference" in ex.options:  # ccxt signs with milliseconds() - timeDifference
            ex.options["timeDifference"] = -self.clock_offset_ms
        return self.clock_offset_ms

    # -- streams -----------------------------------------------------------------------------------
    async def stream(self, fn: Callable[[], Awaitable[T]]) -> T:
        """One ``watch_*`` call: waits out a ban (sending on would lengthen it), errors translated."""
        self.start_watchdog()
        while self.banned_until_ms is not None:
            left = self.banned_until_ms - time.time() * 1000
            if left <= 0:
                self.banned_until_ms = None
                break
            await asyncio.sleep(min(left / 1000, 5.0))
        try:
            return await fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            err = self._translate(exc)
            if isinstance(err, RequestTimedOut) and "keepalive" in str(exc):  # ccxt's own pong check
                self.stalls += 1
                err = StreamStalled(detail=err.params.get("detail", ""))
            raise err from exc

    def start_watchdog(self) -> None:
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.ensure_future(self._watch_sockets())

    async def _watch_sockets(self) -> None:
        timing = self.profile.timing
        limit_ms = timing.stall_after_s * 1000
        while True:
            await asyncio.sleep(timing.watchdog_every_s)
            now = time.time() * 1000
            for client in list(getattr(self.exchange, "clients", {}).values()):
                conn = getattr(client, "connection", None)
                if conn is None or conn.closed or getattr(client, "connecting", False):
                    continue
                last = getattr(client, "last_message_at", None) or getattr(client, "connectionEstablished", None)
                if last is not None and now - last > limit_ms:
                    self.stalls += 1
                    log.warning(
                        "%s: %s silent for %.1f s; closing it", self.profile.venue_name, client.url, (now - last) / 1000
                    )
                    client.on_error(SocketStalled(f"no frame for {(now - last) / 1000:.1f} s on {client.url}"))

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watchdog
            self._watchdog = None
        with contextlib.suppress(Exception):
            await self.exchange.close()
        await _stop_throttler(self.exchange)


async def _stop_throttler(exchange: Any) -> None:
    """ccxt's rate limiter runs a task while calls wait for their turn; a call still queued when the
    venue closes would leave it running past the end of the event loop (an error at every exit).
    The waiting calls are cancelled and the task ends now."""
    throttler = getattr(exchange, "throttler", None)
    if throttler is None:
        return
    throttler.running = False
    while throttler.queue:
        future, _cost = throttler.queue.popleft()
        if not future.done():
            future.cancel()
    tasks = [
        t
        for t in asyncio.all_tasks()
        if (frame := getattr(t.get_coro(), "cr_frame", None)) is not None and frame.f_locals.get("self") is throttler
    ]
    for t in tasks:
        t.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
