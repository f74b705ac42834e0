"""A busy paper trading session for the crash test: runs until killed, or verifies with --verify.

Every order update and fill the app reports (after persisting it) is appended to an
acknowledgement log with one unbuffered write, so the parent knows what a user had seen when
the process was killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from helpers import ScriptedMarket, book  # noqa: E402

from app.domain.enums import (  # noqa: E402
    Emulation,
    OrderListKind,
    OrderListStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
    TrailingMode,
)
from app.domain.market import Trade  # noqa: E402
from app.domain.order import OrderRequest  # noqa: E402
from app.domain.order_list import BracketRequest, OcoRequest  # noqa: E402
from app.engine.bus import EventBus  # noqa: E402
from app.engine.events import FillReceived, OrderUpdated  # noqa: E402
from app.engine.orders import OrderManager  # noqa: E402
from app.engine.risk import RiskEngine, RiskLimits  # noqa: E402
from app.storage import Store  # noqa: E402
from app.venues.paper import PaperVenue  # noqa: E402

D = Decimal
INITIAL = {"USDT": D("1000000"), "BTC": D("100")}
LIMITS = RiskLimits(
    max_order_notional=None,
    max_position_notional=None,
    max_open_orders=None,
    submits_per_second=None,
    submits_per_day=None,
    cancels_per_second=None,
    cancels_per_day=None,
    duplicate_count=None,
    price_band_pct=None,
    daily_loss_limit=None,
)


def build(workdir: Path) -> tuple[Store, PaperVenue, OrderManager, EventBus]:
    store = Store.open(f"sqlite:///{workdir / 'app.sqlite3'}")
    venue = PaperVenue(ScriptedMarket(), name="sim", journal_path=workdir / "paper.journal", initial_balances=INITIAL)
    bus = EventBus()
    om = OrderManager(bus, store, risk=RiskEngine(LIMITS))
    return store, venue, om, bus


WORKLOADS = ("mixed", "kill", "brackets", "trailing", "checkpoint")


async def trade_forever(workdir: Path, seed: int, workload: str = "mixed") -> None:
    """Trade until killed. ``workload`` leans the mix: ``kill`` trips the kill switch among many open
    orders (and re-arms), ``brackets`` works brackets whose entries fill in pieces (exits placed
    and added), ``trailing`` moves the market under many trailing stops, ``checkpoint`` runs WAL
    checkpoints all the time."""
    _store, venue, om, bus = build(workdir)
    fd = os.open(workdir / "acks.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    bus.subscribe(
        OrderUpdated,
        lambda e: os.write(fd, f"O {e.order.client_order_id} {e.order.status.value} {e.order.filled_qty}\n".encode()),
    )
    bus.subscribe(FillReceived, lambda e: os.write(fd, f"F {e.fill.trade_id} {e.fill.client_order_id}\n".encode()))
    price_file = workdir / "price"
    try:
        mid = D(price_file.read_text())
    except (OSError, ArithmeticError):
        mid = D("60000")
    step = 120 if workload == "trailing" else 30

    def tick(n: int) -> None:
        nonlocal mid
        mid = max(D("1000"), mid + D(rng.randint(-step, step)))
        snap = book(str(mid), spread="1", qty="0.5", levels=10)
        venue.on_book(snap)
        bus.publish(snap)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        px = mid + (D("0.5") if side is Side.BUY else D("-0.5"))
        t = Trade("sim", "BTC/USDT", f"x{seed}-{n}", px, D(rng.choice(["0.01", "0.05", "0.2", "1"])), side, 0)
        venue.on_trade(t)
        bus.publish(t)

    rng = random.Random(seed)
    await om.add_venue(venue)
    await om.drain()
    if om.risk.state is not TradingState.ACTIVE:
        om.rearm()
    checkpoint = sqlite3.connect(workdir / "app.sqlite3", isolation_level=None) if workload == "checkpoint" else None
    tick(0)
    os.write(fd, b"START\n")
    n = 0
    while True:
        n += 1
        tick(n)
        if n % 50 == 0:  # atomically: this process is killed at random moments
            tmp = price_file.with_suffix(".tmp")
            tmp.write_text(str(mid))
            os.replace(tmp, price_file)
        if checkpoint is not None and n % 3 == 0:
            checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if workload == "kill" and n % 60 == 30:
            await om.kill_switch(flatten=rng.random() < 0.3)
            om.rearm()
        await one_order(om, rng, mid, workload)
        await asyncio.sleep(0)


async def one_order(om: OrderManager, rng: random.Random, mid: Decimal, workload: str) -> None:
    r = rng.random()
    q = D(rng.choice(["0.01", "0.02", "0.05", "0.1"]))
    side = Side.BUY if rng.random() < 0.5 else Side.SELL
    off = D(rng.randint(5, 60))
    sign = 1 if side is Side.BUY else -1
    mk = dict(venue="sim", symbol="BTC/USDT", side=side, quantity=q)
    if workload == "brackets" and r < 0.6:
        await om.submit_bracket(
            BracketRequest("sim", "BTC/USDT", Side.BUY, q * 5, OrderType.LIMIT, mid - 2, mid + off, mid - off)
        )
    elif workload == "trailing" and r < 0.5:
        await om.submit(
            OrderRequest(
                type=OrderType.TRAILING_STOP,
                trail_mode=TrailingMode.AMOUNT,
                trail_value=off,
                activation_price=mid + sign * off if rng.random() < 0.3 else None,
                **mk,
            )
        )
    elif workload == "kill" and r < 0.5:
        await om.submit(OrderRequest(type=OrderType.LIMIT, price=mid - sign * off, **mk))
    elif r < 0.15:
        await om.submit(OrderRequest(type=OrderType.MARKET, **mk))
    elif r < 0.40:
        tif = rng.choice([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC])
        await om.submit(OrderRequest(type=OrderType.LIMIT, price=mid - sign * off, tif=tif, **mk))
    elif r < 0.50:
        await om.submit(OrderRequest(type=OrderType.STOP_MARKET, stop_price=mid + sign * off, **mk))
    elif r < 0.55:
        await om.submit(
            OrderRequest(
                type=OrderType.TAKE_PROFIT_LIMIT, stop_price=mid - sign * off, price=mid - sign * (off + 2), **mk
            )
        )
    elif r < 0.62:
        await om.submit(
            OrderRequest(type=OrderType.TRAILING_STOP, trail_mode=TrailingMode.AMOUNT, trail_value=off, **mk)
        )
    elif r < 0.75:
        await om.submit_oco(OcoRequest("sim", "BTC/USDT", side, q, mid - sign * off, mid + sign * off))
    elif r < 0.85:
        await om.submit_bracket(
            BracketRequest(
                "sim",
                "BTC/USDT",
                side,
                q,
                OrderType.LIMIT,
                mid - sign * 3,
                mid - sign * (3 - off),
                mid - sign * (3 + off),
            )
        )
    elif r < 0.95:
        opened = om.open_orders()
        if opened:
            await om.cancel(rng.choice(opened).client_order_id)


async def verify(workdir: Path) -> dict:
    store, venue, om, _bus = build(workdir)
    rec = await om.add_venue(venue)
    await om.drain()
    problems: list[str] = []
    db_fills = store.load_fills(venue="sim")
    ids = [f.trade_id for f in db_fills]
    if len(ids) != len(set(ids)):
        problems.append("a fill is stored twice")
    venue_fills = {f.trade_id for f in await venue.fetch_my_trades(None, None)}
    if venue_fills != set(ids):
        problems.append(
            f"fills differ: missing {sorted(venue_fills - set(ids))[:5]}, extra {sorted(set(ids) - venue_fills)[:5]}"
        )
    # Orders: every order filled at the venue has all its fills here; open sets agree.
    venue_open = {s.client_order_id for s in await venue.fetch_open_orders()}
    local_open = {o.client_order_id for o in om.open_orders() if o.venue_order_id is not None}
    if venue_open != local_open:
        problems.append(
            f"open orders differ: venue-only {sorted(venue_open - local_open)[:5]}, "
            f"app-only {sorted(local_open - venue_open)[:5]}"
        )
    for o in om.open_orders():
        if o.venue_order_id is None and not (o.type.has_trigger or o.list_id):
            problems.append(f"{o.client_order_id} is open but never reached the venue")
    # OCO rule, pair by pair: a filled stop leaves no limit leg working; a limit leg that is done
    # with fills leaves no stop; a partly filled working limit leg keeps a stop of exactly its rest.
    all_orders = {o.client_order_id: o for o in store.load_orders(limit=10**9)}
    lists = {o.list_id for o in all_orders.values() if o.list_id}
    orphans = 0
    uncovered = 0
    for lid in lists:
        ol = store.get_order_list(lid)
        if ol is None:
            continue
        pairs = [(all_orders.get(a), all_orders.get(b)) for a, b in ol.pairs()]
        for a, b in pairs:
            if a is None or b is None:
                continue
            if (b.filled_qty > 0 and a.is_open) or (
                a.filled_qty > 0 and not a.is_open and b.is_open and not b.triggered
            ):
                orphans += 1
            if a.is_open and a.filled_qty > 0 and b.is_open and not b.triggered and b.remaining != a.remaining:
                orphans += 1
        entry = all_orders.get(ol.entry_id) if ol.entry_id else None
        if entry is not None and ol.status is OrderListStatus.ACTIVE and om.risk.state is TradingState.ACTIVE:
            sold = sum((x.filled_qty for pair in pairs for x in pair if x is not None), D(0))
            stops = sum((b.remaining for _a, b in pairs if b is not None and b.is_open), D(0))
            if entry.filled_qty - sold - stops >= D("0.001"):  # above the lot any exit could be
                uncovered += 1
    if orphans:
        problems.append(f"{orphans} OCO/bracket legs left working against the rule")
    if uncovered:
        problems.append(f"{uncovered} brackets hold coins not covered by their stops")
    if om.risk.state is TradingState.HALTED and (om.open_orders() or await venue.fetch_open_orders()):
        problems.append(f"halted, yet {len(om.open_orders())} orders work")
    brackets_missing_exits = sum(
        1
        for lid in lists
        if (ol := store.get_order_list(lid))
        and ol.kind is OrderListKind.BRACKET
        and ol.entry_id
        and ol.status is OrderListStatus.ACTIVE
        and om.risk.state is TradingState.ACTIVE
        and (e := all_orders.get(ol.entry_id))
        and e.status.value == "filled"
        and not ol.exit_ids
    )
    if brackets_missing_exits:
        problems.append(f"{brackets_missing_exits} filled bracket entries without exits")
    # Balances add up: initial + fills == the venue's totals; positions == net fills.
    expect = dict(INITIAL)
    net = D(0)
    for f in db_fills:
        s = 1 if f.side is Side.BUY else -1
        expect["BTC"] = expect.get("BTC", D(0)) + s * f.quantity
        expect["USDT"] = expect.get("USDT", D(0)) - s * f.quantity * f.price - f.fee
        net += s * f.quantity
    bal = await venue.fetch_balances()
    for asset, amount in expect.items():
        if bal[asset].total != amount:
            problems.append(f"{asset} balance {bal[asset].total} != initial + fills {amount}")
        if om.portfolio.balance("sim", asset) != amount:
            problems.append(f"portfolio {asset} {om.portfolio.balance('sim', asset)} != {amount}")
    pos = om.portfolio.position("sim", "BTC/USDT").quantity
    if pos < 0 or pos - om.portfolio.unbased_sold("sim", "BTC/USDT") != net:
        problems.append(f"position {pos} does not equal the net of the fills {net}")
    # Every acknowledged order and fill is stored.
    acked_orders, acked_fills = set(), set()
    log = workdir / "acks.log"
    for line in log.read_text().splitlines() if log.exists() else []:
        parts = line.split()
        if parts and parts[0] == "O" and len(parts) >= 2:
            acked_orders.add(parts[1])
        elif parts and parts[0] == "F" and len(parts) >= 2:
            acked_fills.add(parts[1])
    missing_o = acked_orders - set(all_orders)
    missing_f = acked_fills - set(ids)
    if missing_o:
        problems.append(f"acknowledged orders missing: {sorted(missing_o)[:5]}")
    if missing_f:
        problems.append(f"acknowledged fills missing: {sorted(missing_f)[:5]}")
    armed = len(om.emulator.armed())
    local_open = [o for o in om.open_orders() if o.emulation is Emulation.EMULATED and not o.triggered]
    if om.risk.state is TradingState.ACTIVE and armed < len(local_open):
        problems.append(f"{len(local_open) - armed} locally watched orders are not re-armed")
    result = {
        "problems": problems,
        "orders": len(all_orders),
        "fills": len(ids),
        "open": len(om.open_orders()),
        "lists": len(lists),
        "changes": len(rec.changes),
    }
    await venue.close()
    store.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--workload", choices=WORKLOADS, default="mixed")
    a = ap.parse_args()
    wd = Path(a.workdir)
    if a.verify:
        print(json.dumps(asyncio.run(verify(wd))))
    else:
        asyncio.run(trade_forever(wd, a.seed, a.workload))


if __name__ == "__main__":
    main()
