"""OCO and bracket rules as pure functions from the orders' state to the actions that bring a
list where its rules want it. No tasks, no I/O: the execution side applies the actions, a
restart applies them again, and tests call them directly.

OCO: a limit leg and a stop leg for one quantity. Any fill of one leg ends the other — except
that a locally watched stop leg stays for what a partially filled limit leg still covers (it
shrinks with it), so coins held stay under a stop. A leg that ends unfilled takes its partner
with it, unless the partner triggered (a triggered stop cancels its limit leg itself).

Bracket: an entry, then exit pairs (an OCO of take-profit and stop-loss) covering what the entry
filled and the exits have not sold: a new pair for each new uncovered part big enough to trade.
A pair that ends with no fill at all failed. If the venue never had it (refused on arrival, lost
in a crash — for a pair whose stop triggered: the stop's market or limit order) the exits are placed again, up to ``MAX_EXIT_FAILURES`` times; if the venue had
accepted it and then ended it (expired, cancelled at the exchange), it was on purpose: nothing is
placed again, and the bracket ends with a warning once nothing of it works. A list being
cancelled places nothing and cancels whatever still works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.domain.enums import Emulation, OrderListKind, OrderListStatus, OrderStatus, Side
from app.domain.instrument import Instrument
from app.domain.money import ZERO
from app.domain.order import Order
from app.domain.order_list import OrderList

MAX_EXIT_FAILURES = 2


@dataclass(frozen=True, slots=True)
class Cancel:
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Resize:
    """A locally watched stop leg follows the quantity its limit leg still covers."""

    client_order_id: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class PlaceExits:
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Close:
    note: str
    warning: str = ""  # said to the user when the list ends badly


@dataclass(frozen=True, slots=True)
class Failures:
    """A bracket's count of exit pairs that ended unfilled changed (stored on the list)."""

    count: int


Action = Cancel | Resize | PlaceExits | Close | Failures


def _open(o: Order | None) -> bool:
    return o is not None and o.is_open and o.status is not OrderStatus.PENDING_CANCEL


def pair_actions(limit: Order, stop: Order) -> list[Action]:
    """The OCO rule for one pair of legs."""
    out: list[Action] = []
    watched = stop.emulation is Emulation.EMULATED  # here, not at the venue: free to resize
    if limit.filled_qty > 0 and _open(stop):
        if limit.is_open and watched and not stop.triggered:
            if stop.remaining != limit.remaining:
                out.append(Resize(stop.client_order_id, stop.filled_qty + limit.remaining))
        elif not (watched and stop.triggered):  # a triggered watched stop checks the limit leg itself
            out.append(Cancel(stop.client_order_id, "the other leg filled"))
    if stop.filled_qty > 0 and _open(limit):
        out.append(Cancel(limit.client_order_id, "the other leg filled"))
    for leg, other in ((limit, stop), (stop, limit)):
        ended_unfilled = leg.status.is_final and leg.filled_qty == 0 and other.filled_qty == 0
        if ended_unfilled and _open(other) and not other.triggered:
            out.append(Cancel(other.client_order_id, f"the other leg was {leg.status.value}"))
    return out


def cover(limit: Order, stop: Order) -> Decimal:
    """How much of the position a pair still protects."""
    if limit.is_open:
        return limit.remaining
    if stop.is_open:
        return stop.remaining
    return ZERO


def bought(entry: Order, inst: Instrument) -> Decimal:
    """What a bracket's entry put in the account: an exchange that takes a buy's fee in the coin
    bought (Binance without BNB) leaves less than the filled quantity for the exits to sell."""
    if entry.side is Side.BUY and entry.fee_asset == inst.base:
        return entry.filled_qty - entry.fee
    return entry.filled_qty


def tradable(qty: Decimal, inst: Instrument, price: Decimal | None) -> bool:
    return qty > 0 and qty >= inst.min_qty and (price is None or qty * price >= inst.min_notional)


def list_actions(ol: OrderList, orders: Mapping[str, Order], inst: Instrument | None, *, placing: bool) -> list[Action]:
    """Everything ``ol`` needs now, given its orders (missing ones are unknown: nothing is done
    that depends on them)."""
    if ol.status is OrderListStatus.DONE:
        return []
    if ol.status is OrderListStatus.CANCELLING:
        return _cancelling(ol, orders)
    pairs = [(orders.get(a), orders.get(b)) for a, b in ol.pairs()]
    out: list[Action] = []
    for limit, stop in pairs:
        if limit is not None and stop is not None:
            out += pair_actions(limit, stop)
    if ol.kind is OrderListKind.OCO:
        if pairs and all(x is not None and x.status.is_final for pair in pairs for x in pair):
            out.append(Close("done"))
        return out
    return out + _bracket(ol, orders, pairs, inst, placing)


def _cancelling(ol: OrderList, orders: Mapping[str, Order]) -> list[Action]:
    working = [o for cid in ol.order_ids() if (o := orders.get(cid)) is not None and o.is_open]
    out: list[Action] = [
        Cancel(o.client_order_id, ol.note or "list cancelled")
        for o in working
        if o.status is not OrderStatus.PENDING_CANCEL
    ]
    if not working:
        out.append(Close(ol.note or "cancelled"))
    return out


def _ended_at_venue(limit: Order, stop: Order) -> bool:
    """Did the venue accept this failed pair and end it itself (on purpose)? Once the stop has
    triggered, the pair's fate is the stop's: its limit leg was cancelled here because of it, so a
    triggered stop that never reached the venue (refused on arrival, lost in a crash) did not exit
    anything, and the exits are placed again."""
    if stop.triggered:
        return stop.venue_order_id is not None
    return limit.venue_order_id is not None


def _bracket(
    ol: OrderList,
    orders: Mapping[str, Order],
    pairs: list[tuple[Order | None, Order | None]],
    inst: Instrument | None,
    placing: bool,
) -> list[Action]:
    entry = orders.get(ol.entry_id) if ol.entry_id else None
    if entry is None or inst is None:
        return []
    known = [(a, b) for a, b in pairs if a is not None and b is not None]
    sold = sum((x.filled_qty for pair in known for x in pair), ZERO)
    held = bought(entry, inst) - sold
    covered = sum((cover(a, b) for a, b in known), ZERO)
    failed = [
        (a, b) for a, b in known if a.status.is_final and b.status.is_final and a.filled_qty == 0 and b.filled_qty == 0
    ]
    out: list[Action] = []
    if len(failed) != ol.exit_failures:
        out.append(Failures(len(failed)))
    working = any(x.is_open for pair in known for x in pair)
    # A pair the venue had accepted and then ended (expired, cancelled at the exchange) was ended on
    # purpose: nothing is placed again. One that never got there (refused, lost in a crash) is
    # placed again, up to MAX_EXIT_FAILURES times.
    give_up = len(failed) >= MAX_EXIT_FAILURES or any(_ended_at_venue(a, b) for a, b in failed)
    if give_up and held > 0:
        if _open(entry):
            out.append(Cancel(entry.client_order_id, "the bracket's exits ended"))
        if not working and not entry.is_open:
            out.append(Close("exits failed", "exit orders ended unfilled"))
        return out
    uncovered = inst.round_qty(held - covered)
    if not placing and len(known) == len(pairs) and tradable(uncovered, inst, ol.take_profit):
        out.append(PlaceExits(uncovered))
        return out
    if entry.status.is_final and not working and not placing:
        if entry.filled_qty == 0:
            out.append(Close("entry did not fill"))
        elif held > 0 and not tradable(uncovered, inst, ol.take_profit):
            out.append(Close("done", "below the exchange minimum"))
        elif held <= 0:
            out.append(Close("done"))
    return out
