"""The one retry policy for temporary venue trouble, on a fake clock: only temporary errors and
timeouts are retried, with growing waits, a landed first try is adopted, and tries run out."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.errors import OrderRejected, TemporaryVenueError
from app.engine.retry import STREAMS, GaveUp, RetryPolicy, retrying


class FakeSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_waits_grow_by_the_factor_up_to_the_cap():
    assert list(RetryPolicy(attempts=6, base_s=0.5, factor=2, max_s=3).delays()) == [0.5, 1.0, 2.0, 3, 3]
    assert list(RetryPolicy(attempts=1).delays()) == []
    first = STREAMS.delays()
    assert [next(first) for _ in range(8)][-1] == STREAMS.max_s  # streams keep trying, capped


async def test_temporary_errors_are_retried_then_the_answer_is_returned():
    sleep, calls = FakeSleep(), []

    async def call() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TemporaryVenueError(detail="busy")
        return "ok"

    assert await retrying(call, RetryPolicy(attempts=3, base_s=0.2), sleep=sleep) == "ok"
    assert len(calls) == 3 and sleep.waits == [0.2, 0.4]


async def test_a_refusal_is_an_answer_and_is_never_retried():
    sleep, calls = FakeSleep(), []

    async def call() -> str:
        calls.append(1)
        raise OrderRejected(detail="bad price")

    with pytest.raises(OrderRejected):
        await retrying(call, RetryPolicy(attempts=5), sleep=sleep)
    assert len(calls) == 1 and sleep.waits == []


async def test_a_first_try_that_landed_after_all_is_adopted_instead_of_sending_again():
    sleep, calls = FakeSleep(), []

    async def call() -> str:
        calls.append(1)
        raise TemporaryVenueError(detail="timed out")

    async def landed(exc: BaseException) -> str | None:
        return "found by client id"

    assert await retrying(call, RetryPolicy(attempts=3), before_retry=landed, sleep=sleep) == "found by client id"
    assert len(calls) == 1


async def test_timeouts_count_as_temporary_and_tries_run_out():
    sleep = FakeSleep()

    async def never() -> str:
        await asyncio.sleep(3600)
        return "late"

    with pytest.raises(GaveUp) as err:
        await retrying(never, RetryPolicy(attempts=2, base_s=0.1, timeout_s=0.01), sleep=sleep)
    assert isinstance(err.value.last, TimeoutError) and sleep.waits == [0.1]
