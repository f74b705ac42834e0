"""FIFO positions, fees and P&L in exact decimals."""

from __future__ import annotations

from decimal import Decimal

from helpers import btc
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.enums import LiquiditySide, Side
from app.domain.execution import Balance
from app.domain.order import Fill
from app.engine.portfolio import Portfolio

D = Decimal
_n = 0


def fill(side: Side, qty: str, price: str, fee: str = "0", fee_asset: str = "USDT", symbol: str = "BTC/USDT") -> Fill:
    global _n
    _n += 1
    return Fill(f"t{_n}", "c", "v", "sim", symbol, side, D(qty), D(price), D(fee), fee_asset, LiquiditySide.TAKER, _n)


def pf() -> Portfolio:
    p = Portfolio()
    p.add_instruments({"BTC/USDT": btc()})
    return p


def test_fifo_sell_realizes_against_the_oldest_lot_first():
    p = pf()
    p.on_fill(fill(Side.BUY, "1", "100"))
    p.on_fill(fill(Side.BUY, "1", "200"))
    p.on_fill(fill(Side.SELL, "1", "250"))
    pos = p.position("sim", "BTC/USDT")
    assert pos.realized_pnl == D("150")  # sold the 100 lot, not the 200 one
    assert pos.quantity == 1 and pos.avg_cost == D("200")


def test_fees_in_quote_are_part_of_cost_and_proceeds():
    p = pf()
    p.on_fill(fill(Side.BUY, "2", "100", fee="0.2"))
    p.on_fill(fill(Side.SELL, "2", "110", fee="0.22"))
    pos = p.position("sim", "BTC/USDT")
    assert pos.realized_pnl == D("20") - D("0.42")
    assert pos.fees == D("0.42")
    assert p.balance("sim", "USDT") == D("20") - D("0.42")


def test_fee_in_base_reduces_the_quantity_received():
    p = pf()
    p.on_fill(fill(Side.BUY, "1", "100", fee="0.001", fee_asset="BTC"))
    pos = p.position("sim", "BTC/USDT")
    assert pos.quantity == D("0.999")
    assert pos.avg_cost * pos.quantity == D("100")
    assert p.balance("sim", "BTC") == D("0.999")


def test_fee_in_a_third_asset_is_valued_at_its_last_price():
    p = pf()
    p.mark("BNB/USDT", D("500"), "sim")
    p.on_fill(fill(Side.BUY, "1", "100", fee="0.0002", fee_asset="BNB"))
    pos = p.position("sim", "BTC/USDT")
    assert pos.avg_cost == D("100.1")
    assert p.balance("sim", "BNB") == D("-0.0002")


def test_fee_in_an_unpriced_asset_is_kept_aside():
    p = pf()
    p.on_fill(fill(Side.BUY, "1", "100", fee="0.5", fee_asset="XYZ"))
    assert p.unpriced_fees == {"XYZ": D("0.5")}
    assert p.position("sim", "BTC/USDT").avg_cost == D("100")


def test_unrealized_pnl_follows_the_mark_and_equity_values_all_assets():
    p = pf()
    p.set_balances("sim", {})
    p.on_fill(fill(Side.BUY, "0.5", "60000"))
    p.mark("BTC/USDT", D("61000"), "sim")
    assert p.position("sim", "BTC/USDT").unrealized_pnl == D("500")
    assert p.equity("sim") == D("-30000") + D("0.5") * D("61000")


def test_restore_from_fills_rebuilds_the_same_positions():
    p = pf()
    fills = [fill(Side.BUY, "1", "100", "0.1"), fill(Side.BUY, "2", "90", "0.2"), fill(Side.SELL, "1.5", "120", "0.3")]
    for f in fills:
        p.on_fill(f)
    q = pf()
    q.restore(fills)
    assert q.position("sim", "BTC/USDT") == p.position("sim", "BTC/USDT")
    assert q.lots("sim", "BTC/USDT") == p.lots("sim", "BTC/USDT")


qty = st.decimals(min_value=D("0.001"), max_value=D("10"), places=3)
price = st.decimals(min_value=D("1"), max_value=D("100000"), places=2)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), qty, price), min_size=1, max_size=30))
def test_fifo_pnl_adds_up_to_cash_flow_and_a_spot_position_never_goes_below_zero(trades):
    """Whatever the sequence, realized P&L plus the cost of what is still held equals the cash the
    trades moved; sells never take the position below zero."""
    p = pf()
    cash = D(0)
    net = D(0)
    for is_buy, q, px in trades:
        if not is_buy:
            q = min(q, net)  # spot: only what is held can be sold
            if q <= 0:
                continue
        side = Side.BUY if is_buy else Side.SELL
        fee = (q * px * D("0.001")).quantize(D("0.00000001"))
        p.on_fill(fill(side, str(q), str(px), str(fee)))
        cash += (-q * px if is_buy else q * px) - fee
        net += q if is_buy else -q
        assert p.position("sim", "BTC/USDT").quantity >= 0
    pos = p.position("sim", "BTC/USDT")
    assert pos.quantity == net
    remaining_cost = sum((lot.cost for lot in p.lots("sim", "BTC/USDT")), D(0))
    assert pos.realized_pnl == cash + remaining_cost
    assert all(lot.quantity > 0 for lot in p.lots("sim", "BTC/USDT"))


def test_realized_pnl_is_exact_when_a_whole_lot_is_sold():
    p = pf()
    p.on_fill(fill(Side.BUY, "3", "1", fee="0.001"))
    p.on_fill(fill(Side.SELL, "3", "2"))
    assert p.position("sim", "BTC/USDT").realized_pnl == D("2.999")  # not 2.999000000000000000000000001


def test_selling_coins_held_before_the_first_fill_is_not_a_short():
    """The demo's starting coins: selling half of them leaves half held, never a negative position."""
    p = pf()
    p.set_balances("sim", {"BTC": Balance("BTC", D("1")), "USDT": Balance("USDT", D("0"))})
    p.mark("BTC/USDT", D("60000"), "sim")
    [basis] = p.unbased_holdings("sim", 5)
    assert (basis.quantity, basis.cost, basis.estimated) == (D("1"), D("60000"), True)
    p.add_cost_basis(basis)
    p.on_fill(fill(Side.SELL, "0.5", "59000"))
    pos = p.position("sim", "BTC/USDT")
    assert pos.quantity == D("0.5") and pos.estimated
    assert pos.realized_pnl == D("-500")  # sold at 59000 what was taken to cost 60000
    p.mark("BTC/USDT", D("50000"), "sim")
    assert p.position("sim", "BTC/USDT").unrealized_pnl == D("-5000")  # a fall is a loss on coins held


def test_a_sale_beyond_every_lot_is_counted_apart_not_as_a_short():
    p = pf()
    p.on_fill(fill(Side.BUY, "0.2", "100"))
    p.on_fill(fill(Side.SELL, "0.5", "110"))
    assert p.position("sim", "BTC/USDT").quantity == 0
    assert p.unbased_sold("sim", "BTC/USDT") == D("0.3")
    assert p.position("sim", "BTC/USDT").realized_pnl == D("2")  # only the 0.2 that had a cost realizes


def test_a_third_asset_fee_keeps_the_value_it_had_at_fill_time_after_a_restart():
    p = pf()
    p.mark("BNB/USDT", D("500"), "sim")
    booked = p.on_fill(fill(Side.BUY, "1", "100", fee="0.0002", fee_asset="BNB"))
    assert booked.fee_quote == D("0.1000")
    q = pf()  # a restart: no BNB price known yet
    q.restore([booked])
    assert q.position("sim", "BTC/USDT").avg_cost == D("100.1") and q.unpriced_fees == {}


def test_euro_and_won_are_valued_through_real_prices_not_one_to_one():
    p = Portfolio("USDT")
    p.set_balances(
        "sim", {"EUR": Balance("EUR", D("100")), "KRW": Balance("KRW", D("1400000")), "XRP": Balance("XRP", D("0.3"))}
    )
    assert p.price_of("EUR", "sim") is None
    p.mark("EUR/USDT", D("1.08"), "sim")
    p.mark("USDT/KRW", D("1400"), "sim")
    assert p.price_of("EUR", "sim") == D("1.08")
    assert p.price_of("KRW", "sim") == 1 / D("1400")
    assert p.equity("sim") == D("108") + D("1000")
    assert p.unpriced_assets("sim") == ["XRP"]


def test_equity_is_not_known_before_the_balances_are():
    p = pf()
    assert not p.equity_known("sim")  # an equity curve must not start with a 0
    p.set_balances("sim", {"USDT": Balance("USDT", D("100"))})
    assert p.equity_known("sim") and p.equity("sim") == D("100")
