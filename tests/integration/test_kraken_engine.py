"""The real engine (``TradingSession`` / ``OrderManager``) trading on the loopback Kraken through the
unmodified ccxt classes: every order type of the core placed, filled, cancelled (stops and
take-profits held by Kraken; trailing stops and OCO emulated by the app), and reconciliation after
the account stream (websocket v2 executions) reconnects and after a restart. The scenarios every
exchange shares are in ``venue_scenarios``."""

from __future__ import annotations

from decimal import Decimal

import pytest
import venue_scenarios as vs
from loopback.testing import loopback_thread

from app.domain.enums import OrderStatus

D = Decimal
KRAKEN = vs.Spec(
    name="kraken",
    symbol="BTC/USDT",
    quote="USDT",
    balances={"USDT": "100000", "BTC": "0.5"},
    trade_stream="trade:BTC/USDT",
    account_sockets=("private",),  # executions and balances
)


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("kraken") as thread:
        yield thread


async def test_orders_of_every_type_are_placed_filled_and_cancelled_on_kraken(lb, tmp_path):
    async with vs.running(KRAKEN, lb, tmp_path) as live:
        inst = live.om.instruments[("kraken", "BTC/USDT")]
        assert (inst.tick_size, inst.min_qty, inst.min_notional) == (D("0.1"), D("0.00005"), D("0.5"))
        # Kraken cancels a post-only that would take.
        mkt = await vs.plain_orders(live, ioc_ends=OrderStatus.EXPIRED, crossing_post_only_ends=OrderStatus.CANCELLED)
        assert mkt.fee_asset == "USDT" and mkt.fee == D("2.40002")  # 0.4 % taker of 600.005
        await vs.stops_take_profits_and_trailing_stops(live, held_by_venue=True)  # trailing stops: the app's


async def test_a_bracket_on_kraken_enters_then_places_its_exits(lb, tmp_path):
    async with vs.running(KRAKEN, lb, tmp_path) as live:
        # The fee in USDT: all of it to sell.
        ol = await vs.bracket_entered(live, exit_qty="0.01", stop_at_exchange=True)
        await vs.bracket_taken_profit(live, ol, stop_ends=OrderStatus.CANCELLED)


class TestOnKraken(vs.Reconciliation, vs.EmulatedOco):
    """Reconciliation and the emulated OCO, as on every venue that holds no OCO."""

    spec = KRAKEN
