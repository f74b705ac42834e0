"""One coin's holdings under a cost method: FIFO lots, a moving average, or Korea's total average
per year (the cost of every disposal fixed when the year closes)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from app.domain.money import ZERO


class Method(StrEnum):
    KR = "kr"  # Korea: total average per person and year
    FIFO = "fifo"
    AVERAGE = "average"  # moving average cost


@dataclass(slots=True)
class Lot:
    quantity: Decimal
    cost: Decimal
    estimated: bool = False
    deemed: bool = False


@dataclass(slots=True)
class Taken:
    """What a disposal took from the holdings: ``based`` coins known to be held (the rest is of
    unknown cost); ``cost`` is None until the year's average fixes it (Korea's method)."""

    based: Decimal
    cost: Decimal | None
    estimated: bool = False
    deemed: bool = False


@dataclass(slots=True)
class Book:
    method: Method
    lots: deque[Lot] = field(default_factory=deque)  # FIFO: oldest first; the averages: one lot
    # Korea's method: the year's totals, and the disposals waiting for the year-end average.
    year_qty: Decimal = ZERO
    year_cost: Decimal = ZERO
    pending: list[Taken] = field(default_factory=list)

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((lot.cost for lot in self.lots), ZERO)

    def open_year(self) -> None:
        self.year_qty, self.year_cost = self.quantity, self.cost
        self.pending = []

    def acquire(self, qty: Decimal, cost: Decimal, *, estimated: bool = False, deemed: bool = False) -> None:
        if qty <= 0:
            return
        if self.method is Method.KR:
            self.year_qty += qty
            self.year_cost += cost
        if self.method is Method.FIFO or not self.lots:
            self.lots.append(Lot(qty, cost, estimated, deemed))
            return
        lot = self.lots[0]
        lot.quantity += qty
        lot.cost += cost
        lot.estimated |= estimated
        lot.deemed |= deemed

    def take(self, qty: Decimal) -> Taken:
        """Remove ``qty`` coins (or as many as are held)."""
        if self.method is Method.FIFO:
            return self._take_fifo(qty)
        lot = self.lots[0] if self.lots else None
        if lot is None or lot.quantity <= 0:
            return Taken(ZERO, ZERO)
        based = min(qty, lot.quantity)
        taken = Taken(based, None, lot.estimated, lot.deemed)
        if self.method is Method.AVERAGE:
            part = lot.cost if based == lot.quantity else lot.cost * based / lot.quantity
            taken.cost = part
            lot.cost -= part
        else:
            self.pending.append(taken)
        lot.quantity -= based
        if lot.quantity == 0 and self.method is Method.AVERAGE:
            self.lots.clear()
        return taken

    def _take_fifo(self, qty: Decimal) -> Taken:
        # The same steps as the portfolio's FIFO (app/engine/portfolio.py), so the two agree exactly.
        left, cost = qty, ZERO
        estimated = deemed = False
        while left > 0 and self.lots:
            lot = self.lots[0]
            estimated |= lot.estimated
            deemed |= lot.deemed
            if lot.quantity <= left:
                cost += lot.cost
                left -= lot.quantity
                self.lots.popleft()
            else:
                part = lot.cost * left / lot.quantity
                cost += part
                lot.quantity -= left
                lot.cost -= part
                left = ZERO
        return Taken(qty - left, cost, estimated, deemed)

    def close_year(self) -> Decimal | None:
        """Korea's method: fix the cost of the year's disposals at the year's total average
        ((opening cost + purchases) ÷ (opening quantity + purchases)); the rest stays held at
        that average. Returns the average (None: nothing was held this year)."""
        if self.method is not Method.KR:
            return None
        if self.year_qty <= 0:
            return None
        average = self.year_cost / self.year_qty
        fixed = ZERO
        for t in self.pending:
            t.cost = self.year_cost * t.based / self.year_qty
            fixed += t.cost
        held = self.quantity
        if self.lots:
            lot = self.lots[0]
            lot.cost = self.year_cost - fixed if held > 0 else ZERO
        self.pending = []
        return average
