"""The real engine (``TradingSession`` / ``OrderManager``) trading on the loopback Upbit through the
unmodified ccxt classes: every order type of the core placed, filled, cancelled (stops,
take-profits, trailing stops and OCO emulated by the app, since Upbit holds none of them), KRW
prices on the price unit of their band, and reconciliation after the account stream reconnects
and after a restart (from the orders' own trades: Upbit has no trade history endpoint). The
scenarios every exchange shares are in ``venue_scenarios``."""

from __future__ import annotations

from decimal import Decimal

import pytest
import venue_scenarios as vs
from loopback.testing import loopback_thread

from app.domain.enums import OrderStatus
from app.engine.risk.limits import RiskLimits

D = Decimal
UPBIT = vs.Spec(
    name="upbit",
    symbol="BTC/KRW",
    quote="KRW",
    balances={"KRW": "100000000", "BTC": "0.5"},
    trade_stream="trade:KRW-BTC",
    account_sockets=("private",),  # myOrder and myAsset
    mid="100000000",
    scale="1000",  # each unit of the tests' prices is the 1,000 KRW price unit of this band
    spread="2000",
    step="1000",
    # Limits in KRW (the defaults are dollar-sized).
    limits=RiskLimits(max_order_notional=D("100000000"), max_position_notional=D("1000000000"), daily_loss_limit=None),
)


@pytest.fixture(scope="module")
def lb():
    with loopback_thread("upbit") as thread:
        yield thread


async def test_orders_of_every_type_are_placed_filled_and_cancelled_on_upbit(lb, tmp_path):
    async with vs.running(UPBIT, lb, tmp_path) as live:
        inst = live.om.instruments[("upbit", "BTC/KRW")]
        assert (inst.tick_size, inst.min_notional) == (D(1000), D(5000))
        # Upbit ends an IOC's rest as "cancel".
        mkt = await vs.plain_orders(live, ioc_ends=OrderStatus.CANCELLED, market_sell=True)
        assert mkt.avg_price == D("100001000") and mkt.fee_asset == "KRW"  # the best ask, not the IOC's cap
        await vs.stops_take_profits_and_trailing_stops(live, held_by_venue=False)  # Upbit holds no stops


async def test_a_bracket_on_upbit_enters_then_places_its_exits(lb, tmp_path):
    async with vs.running(UPBIT, lb, tmp_path) as live:
        # The fee in KRW: all of it to sell.
        ol = await vs.bracket_entered(live, exit_qty="0.01", stop_at_exchange=False)
        await vs.bracket_taken_profit(live, ol, stop_ends=OrderStatus.CANCELLED)


class TestOnUpbit(vs.Reconciliation, vs.EmulatedOco):
    """Reconciliation and the emulated OCO, as on every venue that holds no OCO."""

    spec = UPBIT
