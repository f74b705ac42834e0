"""The paper account: free and locked balance per asset, what an order reserves when it is placed,
what a fill moves and what a closed order gives back."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from app.domain.enums import OrderType, Side
from app.domain.execution import Balance
from app.domain.instrument import Instrument
from app.domain.money import ZERO

from .fees import STOP_BUY_RESERVE, FeeModel
from .order import PaperOrder


class Account(Protocol):
    """Where the money of fills goes (the paper ``Ledger`` implements it)."""

    def settle(self, order: PaperOrder, inst: Instrument, quantity: Decimal, price: Decimal, fee: Decimal) -> bool:
        """Move the money of one fill; False (nothing moved) when the account cannot pay for it."""
        ...

    def release(self, order: PaperOrder) -> None:
        """Give back what a closing order still reserves."""
        ...


class UnlimitedAccount:
    """An account that pays for every fill: matching without money."""

    def settle(self, order: PaperOrder, inst: Instrument, quantity: Decimal, price: Decimal, fee: Decimal) -> bool:
        return True

    def release(self, order: PaperOrder) -> None:
        order.reserved = ZERO


def reservation(
    order: PaperOrder, inst: Instrument, fees: FeeModel, market_price: Decimal | None = None
) -> tuple[str, Decimal]:
    """What ``order`` must set aside to be accepted: (asset, amount). A sell reserves its base
    quantity; a buy its quote notional plus the higher fee rate, priced at its limit, at
    ``market_price`` (the average a market buy would pay walking the book now) or at its trigger
    plus a margin (stop-market)."""
    if order.side is Side.SELL:
        return inst.base, order.quantity
    px: Decimal | None
    if order.type.has_limit_price:
        px = order.price
    elif order.type is OrderType.MARKET:
        px = market_price
    elif order.stop_price is not None:
        px = order.stop_price * STOP_BUY_RESERVE
    else:
        px = None
    if px is None:
        raise ValueError(f"no price to reserve for {order.type.value} order {order.client_order_id}")
    return inst.quote, fees.with_worst_fee(inst, order.quantity * px)


class Ledger:
    """Balances as [free, locked] per asset. Remembers which assets changed since
    ``take_changed`` so that a journal writes only those."""

    __slots__ = ("_balances", "_changed")

    def __init__(self) -> None:
        self._balances: dict[str, list[Decimal]] = {}
        self._changed: set[str] = set()

    @property
    def empty(self) -> bool:
        return not self._balances

    def load(self, asset: str, free: Decimal, locked: Decimal) -> None:
        """Set a balance as it was saved (not a change)."""
        self._balances[asset] = [free, locked]

    def deposit(self, asset: str, amount: Decimal) -> None:
        """Open an account's balance of ``asset`` with ``amount`` free."""
        self._balances[asset] = [Decimal(amount), ZERO]
        self._changed.add(asset)

    def free(self, asset: str) -> Decimal:
        return self._balances.setdefault(asset, [ZERO, ZERO])[0]

    def balances(self) -> dict[str, Balance]:
        return {a: Balance(a, f, lk) for a, (f, lk) in self._balances.items()}

    def to_json(self, assets: Iterable[str] | None = None) -> dict[str, list[str]]:
        bal = self._balances
        return {a: [str(bal[a][0]), str(bal[a][1])] for a in (bal if assets is None else assets)}

    def take_changed(self) -> set[str]:
        changed, self._changed = self._changed, set()
        return changed

    # -- orders ----------------------------------------------------------------------------------
    def reserve(self, order: PaperOrder, asset: str, amount: Decimal) -> bool:
        """Lock ``amount`` of ``asset`` for ``order``; False (nothing moved) when not enough is free."""
        bal = self._balances.setdefault(asset, [ZERO, ZERO])
        if bal[0] < amount:
            return False
        order.reserve_asset, order.reserved = asset, amount
        bal[0] -= amount
        bal[1] += amount
        self._changed.add(asset)
        return True

    def release(self, order: PaperOrder) -> None:
        """Give back what a closing order still reserves."""
        if order.reserved and order.reserve_asset:
            bal = self._balances[order.reserve_asset]
            bal[0] += order.reserved
            bal[1] -= order.reserved
            self._changed.add(order.reserve_asset)
            order.reserved = ZERO

    def settle(self, order: PaperOrder, inst: Instrument, quantity: Decimal, price: Decimal, fee: Decimal) -> bool:
        """Move the money of one fill (fee in the quote currency), from the order's reservation
        first; False (nothing moved) when a buy costs more than its reservation and the free quote."""
        notional = quantity * price
        base = self._balances.setdefault(inst.base, [ZERO, ZERO])
        quote = self._balances.setdefault(inst.quote, [ZERO, ZERO])
        if order.side is Side.BUY:
            cost = notional + fee
            from_locked = min(cost, order.reserved)
            if cost - from_locked > quote[0]:
                return False
            order.reserved -= from_locked
            quote[1] -= from_locked
            quote[0] -= cost - from_locked
            base[0] += quantity
        else:
            order.reserved -= quantity
            base[1] -= quantity
            quote[0] += notional - fee
        self._changed.add(inst.base)
        self._changed.add(inst.quote)
        return True
