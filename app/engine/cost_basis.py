"""Costs for coins held without a recorded purchase: at a venue's start (and until every holding
has a price) coins held beyond every lot get the first price seen as their cost, marked
estimated; the user can enter the real cost, which replaces the estimate."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from app.domain.money import fmt
from app.i18n import N_

from .events import PortfolioChanged
from .execution.core import Core


class CostBasisKeeper:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.due: set[str] = set()  # venues whose holdings still need a look
        # What each venue held beyond every lot when it started: only that gets an estimated cost.
        # Coins that arrive later come with their fills (a balance update can run ahead of its fill
        # and must not get an estimate of its own), or are looked at on the next start.
        self._found: dict[str, dict[str, Decimal]] = {}

    def start(self, venue: str) -> None:
        """A venue (re)started, its balances and fills in: what it holds beyond every lot now."""
        self._found[venue] = self.core.portfolio.beyond_lots(venue)
        self.due.add(venue)

    def check(self) -> None:
        for venue in list(self.due):
            if self.take(venue):
                self.due.discard(venue)

    def take(self, venue: str) -> bool:
        """Give coins held beyond every lot a cost; True once every holding has a price to judge by."""
        c = self.core
        pf = c.portfolio
        found = self._found.setdefault(venue, pf.beyond_lots(venue))
        bases = []
        for b in pf.unbased_holdings(venue, c.clock.now_ms()):
            qty = min(b.quantity, found.pop(b.asset, Decimal(0)))
            if qty > 0:
                bases.append(b if qty == b.quantity else replace(b, quantity=qty, cost=b.cost * qty / b.quantity))
        for b in bases:
            c.store.save_cost_basis(b)
            pf.add_cost_basis(b)
            c.store.save_lots(venue, b.symbol, pf.lots(venue, b.symbol))
            c.activity.info(
                N_(
                    "{qty} {asset} held before the first trade: cost basis {cost} {quote} (estimated at "
                    "the first price seen; editable)"
                ),
                qty=fmt(b.quantity),
                asset=b.asset,
                cost=fmt(b.cost),
                quote=b.symbol.split("/")[-1],
            )
        if bases:
            c.bus.publish(PortfolioChanged(venue))
        homes = [pf.home_instrument(venue, a) for a in pf.holdings(venue)]
        return all(pf.mark_of(venue, inst.symbol) is not None for inst in homes if inst is not None)

    def set(self, venue: str, asset: str, unit_cost: Decimal) -> None:
        """The user's own cost per coin for ``asset`` held before the first fill."""
        c = self.core
        for b in c.store.load_cost_basis(venue):
            if b.asset == asset:
                c.store.save_cost_basis(replace(b, cost=b.quantity * unit_cost, estimated=False))
        c.audit.record("cost_basis", venue, asset=asset, unit_cost=unit_cost)
        c.portfolio.restore(c.store.load_fills(venue=venue), c.store.load_cost_basis(venue))
        for pos in c.portfolio.positions(venue):
            c.store.save_lots(venue, pos.symbol, c.portfolio.lots(venue, pos.symbol))
        c.bus.publish(PortfolioChanged(venue))
