"""What the loopbacks' field fidelity tests share: the recorded references (skipped cleanly when
../shared/data is absent), comparing unified fields by type, and recording what a loopback sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from loopback.binance.info import shared_data
from loopback.testing import loopback_thread

from app.domain.enums import OrderType, Side

FIXTURES = shared_data() / "fixtures"


def fixture(path: str) -> Any:
    """A recorded JSON file under ../shared/data/fixtures (the test is skipped without it)."""
    p = FIXTURES / path
    if not p.exists():
        pytest.skip(f"{path} is not here (../shared/data)")
    return json.loads(p.read_text())


def kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    return type(v).__name__


def present(d: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, str]:
    """The unified fields that have a value, with the kind of each."""
    return {k: kind(v) for k, v in d.items() if v is not None and k not in ("info", "fees", *skip)}


def covers(ours: dict[str, Any], recorded: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    """Every unified field the recording has, ours has too, of the same type. (The recordings are
    older than this ccxt: fields it fills in now, e.g. a ticker's bid volume, may be extra.)"""
    a, b = present(ours, skip), present(recorded, skip)
    assert {k: a.get(k) for k in b} == b


@contextmanager
def loopback_with_history(
    exchange: str, symbol: str, timeframe: str, candles: list[tuple[Any, ...]], *, mid: str, **book: str
) -> Iterator[Any]:
    """The loopback of ``exchange`` on its own thread for the ``with`` block: a ten-level book around
    ``mid`` (``book``: its spread and step), ``candles`` of ``timeframe`` and a last trade at ``mid``."""
    with loopback_thread(exchange) as thread:
        s = thread.server
        thread.call(lambda: s.book_around(symbol, mid, levels=10, qty="1", **book))
        thread.call(s.core.seed_klines, symbol, timeframe, candles)
        thread.call(s.trade, symbol, mid, "0.1")
        yield thread


def recorded_methods(exchange: str) -> dict[str, Any]:
    """ccxt's recorded static responses of ``exchange`` (real answers), by method."""
    return fixture(f"ccxt_static/response/{exchange}.json")["methods"]


def missing(reference: dict[str, Any], ours: dict[str, Any]) -> set[str]:
    return set(reference) - set(ours)


@contextmanager
def recording(lb: Any, method: str, record: Callable[..., None]) -> Iterator[None]:
    """While the block runs, what the loopback's ``method`` sends is also passed to ``record``."""
    server = lb.server
    original = getattr(server, method)

    def both(*args: Any) -> None:
        record(*args)
        original(*args)

    lb.call(setattr, server, method, both)
    try:
        yield
    finally:
        lb.call(setattr, server, method, original)


def rest_a_buy(lb: Any, symbol: str, qty: str, price: str, **kw: Any) -> None:
    """A limit buy ``fid-ws`` placed straight in the loopback's core, as the exchange would hold it."""
    core = lb.server.core
    lb.call(
        lambda: core.place(
            symbol, Side.BUY, OrderType.LIMIT, Decimal(qty), price=Decimal(price), client_id="fid-ws", **kw
        )
    )
