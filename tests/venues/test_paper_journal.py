"""Paper journals written by earlier versions still load, and the venue carries on from them.

``fixtures/paper_journal_v1.jsonl`` was written by the paper venue as it was before the split into
``app/venues/paper/`` (one ``paper.py``, commit 748b0f1): balances USDT 10000 and BTC 1, a book
around 100 (2 per level), then a resting bid 1 @ 98.5 behind 2, asks 0.5 @ 103 and later 0.2 @ 102
(half filled), a sell stop 95, a sell take-profit-limit 110/109, a buy stop-limit 101/100 (triggered,
then filled), a sell stop-limit 99/105 (triggered, resting), a market buy 0.3, a cancelled bid,
an IOC buy 4 @ 101.5 (3.7 filled, rest expired). The expected values below are what that version
reported when it loaded the file and was fed the same events.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from helpers import ScriptedMarket, book

from app.domain.enums import Side
from app.domain.market import Trade
from app.venues.paper import PaperVenue

D = Decimal
FIXTURE = Path(__file__).parent / "fixtures" / "paper_journal_v1.jsonl"


async def loaded(tmp_path: Path) -> tuple[PaperVenue, list]:
    shutil.copy(FIXTURE, tmp_path / "j")
    v = PaperVenue(ScriptedMarket(), journal_path=tmp_path / "j", initial_balances={"USDT": D("1")})
    reports: list = []
    v.set_report_handler(reports.append)
    await v.load_markets()
    return v, reports


async def test_a_journal_of_the_single_module_version_loads(tmp_path):
    v, _ = await loaded(tmp_path)
    bal = await v.fetch_balances()
    assert {a: (b.free, b.locked) for a, b in bal.items()} == {
        "BTC": (D("4"), D("1")),
        "USDT": (D("9497.1773"), D("98.5985")),
    }
    assert [
        (s.client_order_id, s.venue_order_id, s.status.value, s.filled_qty) for s in await v.fetch_open_orders()
    ] == [
        ("ask-103", "2", "new", 0),
        ("stop-95", "3", "new", 0),
        ("tp-110", "4", "new", 0),
        ("stoplim-sell-99", "6", "new", 0),
        ("bid-985", "1", "new", 0),
        ("ask-102", "14", "partially_filled", D("0.1")),
    ]
    fills = await v.fetch_my_trades(None, None)
    assert [(f.trade_id, f.client_order_id, f.quantity, f.price, f.fee, f.liquidity.value) for f in fills] == [
        ("paper-8", "mkt", D("0.3"), D("100.5"), D("0.03015"), "taker"),
        ("paper-11", "ioc", D("1.7"), D("100.5"), D("0.17085"), "taker"),
        ("paper-12", "ioc", D("2"), D("101.5"), D("0.203"), "taker"),
        ("paper-13", "stoplim-101", D("0.1"), D("100"), D("0.01"), "maker"),
        ("paper-15", "ask-102", D("0.1"), D("102"), D("0.0102"), "maker"),
    ]


async def test_a_loaded_journal_keeps_queue_positions_triggers_and_ids(tmp_path):
    v, reports = await loaded(tmp_path)
    v.on_book(book("100", spread="1", qty="2", ts=3000))
    v.on_trade(Trade("sim", "BTC/USDT", "e", D("98.5"), D("1"), Side.SELL, 3001))  # 0.6 still ahead of bid-985
    v.on_trade(Trade("sim", "BTC/USDT", "f", D("105"), D("1"), Side.BUY, 3002))
    v.on_book(book("95", spread="1", qty="2", ts=3003))  # sellers through 98.5: the rest of bid-985
    v.on_trade(Trade("sim", "BTC/USDT", "g", D("95"), D("1"), Side.SELL, 3004))  # the sell stop at 95
    got = [
        (
            r.client_order_id,
            r.event.value,
            r.venue_order_id,
            r.ts_ms,
            r.fill and (r.fill.trade_id, r.fill.quantity, r.fill.price, r.fill.fee, r.fill.liquidity.value),
        )
        for r in reports
    ]
    assert got == [
        ("bid-985", "partial_fill", "1", 3001, ("paper-16", D("0.4"), D("98.5"), D("0.0394"), "maker")),
        ("ask-102", "fill", "14", 3002, ("paper-17", D("0.1"), D("102"), D("0.0102"), "maker")),
        ("ask-103", "fill", "2", 3002, ("paper-18", D("0.5"), D("103"), D("0.0515"), "maker")),
        ("stoplim-sell-99", "fill", "6", 3002, ("paper-19", D("0.1"), D("105"), D("0.0105"), "maker")),
        ("bid-985", "fill", "1", 3003, ("paper-20", D("0.6"), D("98.5"), D("0.0591"), "maker")),
        ("stop-95", "triggered", "3", 3004, None),
        ("stop-95", "fill", "3", 3004, ("paper-21", D("0.2"), D("94.5"), D("0.0189"), "taker")),
    ]
    bal = await v.fetch_balances()
    assert {a: (b.free, b.locked) for a, b in bal.items()} == {
        "BTC": (D("5"), D("0.1")),
        "USDT": (D("9588.1862"), D("0")),
    }
    assert [s.client_order_id for s in await v.fetch_open_orders()] == ["tp-110"]
