"""One retry policy for temporary venue trouble (network, rate limit, exchange busy): order
placement, cancels and market-data reconnects all back off the same way. Only
``TemporaryVenueError`` and timeouts are retried; anything else is an answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from app.domain.errors import TemporaryVenueError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # tries in all (None-like large number for streams)
    base_s: float = 0.2
    factor: float = 2.0
    max_s: float = 30.0
    timeout_s: float = 10.0  # one try's time limit

    def delays(self) -> Iterator[float]:
        """The waits between tries: base, base×factor, … capped at ``max_s``."""
        d = self.base_s
        for _ in range(max(0, self.attempts - 1)):
            yield min(d, self.max_s)
            d *= self.factor


ORDERS = RetryPolicy()
STREAMS = RetryPolicy(attempts=1_000_000_000, base_s=0.5, factor=2.0, max_s=30.0)


class GaveUp(Exception):
    """Every try met a temporary error; ``last`` is the last one."""

    def __init__(self, last: BaseException) -> None:
        super().__init__(str(last))
        self.last = last


async def retrying(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy = ORDERS,
    *,
    before_retry: Callable[[BaseException], Awaitable[T | None]] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """``call()`` until it answers. After a temporary error, ``before_retry`` may return a result
    that makes another try unnecessary (an order that landed after all); else wait and retry.
    Raises ``GaveUp`` when the tries run out."""
    delays = policy.delays()
    while True:
        try:
            return await asyncio.wait_for(call(), policy.timeout_s)
        except (TemporaryVenueError, TimeoutError) as exc:
            if before_retry is not None:
                found = await before_retry(exc)
                if found is not None:
                    return found
            delay = next(delays, None)
            if delay is None:
                raise GaveUp(exc) from exc
            await sleep(delay)
