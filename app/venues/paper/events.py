"""What the matching core returns: plain values, in the order things happened."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

from app.domain.enums import LiquiditySide

from .order import PaperOrder


@dataclass(frozen=True, slots=True)
class FillEvent:
    """(Part of) an order filled. ``done``: this fill completed it (its status is now FILLED).
    ``order`` is the live order: read its fields now if they matter later."""

    order: PaperOrder
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: LiquiditySide
    ts_ms: int  # time of the market event that caused it (the core's clock)
    done: bool


@dataclass(frozen=True, slots=True)
class Triggered:
    """A stop or take-profit order's trigger was reached: it now works as a market or limit order."""

    order: PaperOrder


@dataclass(frozen=True, slots=True)
class Expired:
    """The order ended unfilled or partly filled (IOC/FOK remainder, market order beyond the book)."""

    order: PaperOrder
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """``submit`` refused the order (a post-only order that would take liquidity)."""

    order: PaperOrder
    reason: str


@dataclass(frozen=True, slots=True)
class QueueMoved:
    """Trades at a resting order's price used up part of the queue ahead of it."""

    order: PaperOrder
    ahead: Decimal


MatchEvent: TypeAlias = FillEvent | Triggered | Expired | Rejected | QueueMoved
