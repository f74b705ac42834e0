"""The real engine (``TradingSession`` / ``OrderManager``) trading on the loopback Coinbase Advanced
Trade through the unmodified ccxt classes (every private request an ES256 JWT): every order type of
the core placed, filled, cancelled (stops, take-profits, trailing stops and OCO emulated by the
app), fills read over REST as the user channel shows orders filling, and reconciliation after the
channel reconnects and after a restart. The scenarios every exchange shares are in
``venue_scenarios``."""

from __future__ import annotations

from decimal import Decimal

import pytest
import venue_scenarios as vs
from loopback.testing import loopback_thread

from app.domain.enums import OrderStatus

D = Decimal
COINBASE = vs.Spec(
    name="coinbase",
    symbol="BTC/USD",
    quote="USD",
    balances={"USD": "100000", "BTC": "0.5"},
    trade_stream="market_trades:BTC-USD",
    account_sockets=(),  # the user channel shares the one socket
)


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("coinbase") as thread:
        yield thread


async def test_orders_of_every_type_are_placed_filled_and_cancelled_on_coinbase(lb, tmp_path):
    async with vs.running(COINBASE, lb, tmp_path) as live:
        inst = live.om.instruments[("coinbase", "BTC/USD")]
        assert (inst.tick_size, inst.min_notional) == (D("0.01"), D(1))
        # ccxt reads Coinbase's EXPIRED (an IOC's unfilled rest) as canceled.
        mkt = await vs.plain_orders(live, ioc_ends=OrderStatus.CANCELLED, market_sell=True)
        assert mkt.avg_price == D("60000.5") and mkt.fee_asset == "USD"  # the best ask, not the IOC's cap
        await vs.stops_take_profits_and_trailing_stops(live, held_by_venue=False)  # Coinbase: stop-limits only


async def test_a_bracket_on_coinbase_enters_then_places_its_exits(lb, tmp_path):
    async with vs.running(COINBASE, lb, tmp_path) as live:
        # The fee in USD: all of it to sell.
        ol = await vs.bracket_entered(live, exit_qty="0.01", stop_at_exchange=False)
        await vs.bracket_taken_profit(live, ol, stop_ends=OrderStatus.CANCELLED)


class TestOnCoinbase(vs.Reconciliation, vs.EmulatedOco):
    """Reconciliation and the emulated OCO, as on every venue that holds no OCO."""

    spec = COINBASE
