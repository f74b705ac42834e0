"""Hand-worked examples of every rule of the Korean report (figures worked out on paper)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from taxkit import ev, fx, ts

from app.tax.books import Method
from app.tax.compute import ReportSettings, TaxInputError, compute_report
from app.tax.model import EventKind, LineStatus, OpeningCost
from app.tax.valuation import FxTable, MarketPrice, PriceTable

D = Decimal
KR = ReportSettings(2027, Method.KR, "KRW")

REBUY = [
    ev("2027-02-01T10:00", "BTC/KRW", "buy", "1", "50000000", "25000"),
    ev("2027-03-01T10:00", "BTC/KRW", "sell", "0.5", "60000000", "15000"),
    ev("2027-06-01T10:00", "BTC/KRW", "buy", "1", "70000000", "35000"),
]


def test_total_average_recosts_an_early_sale_at_the_year_end_average():
    r = compute_report(KR, REBUY)
    # (50,025,000 + 70,035,000) ÷ 2 = 60,030,000 per BTC, fixed at year end, also for the March sale.
    (sale,) = r.disposals
    assert sale.cost == D("30015000")
    assert sale.proceeds == D("30000000") and sale.fees == D("15000")
    assert sale.gain == D("-30000")
    pool = r.pools["BTC"]
    assert pool.average == D("60030000")
    assert (pool.closing_qty, pool.closing_cost) == (D("1.5"), D("90045000"))
    # The superseded methods cost the March sale at the February purchase alone.
    fifo = compute_report(ReportSettings(2027, Method.FIFO, "KRW"), REBUY)
    assert fifo.disposals[0].cost == D("25012500") and fifo.net == D("4972500")
    avg = compute_report(ReportSettings(2027, Method.AVERAGE, "KRW"), REBUY)
    assert avg.net == D("4972500")


def test_the_year_average_carries_into_the_next_year():
    events = [*REBUY, ev("2028-01-10T09:00", "BTC/KRW", "sell", "1.5", "80000000")]
    r = compute_report(ReportSettings(2028, Method.KR, "KRW"), events)
    assert r.pools["BTC"].opening_cost == D("90045000")
    assert r.net == D("120000000") - D("90045000")


OLD_BTC = [
    ev("2025-05-01T10:00", "BTC/KRW", "buy", "1", "40000000"),
    ev("2027-03-02T11:00", "BTC/KRW", "sell", "1", "140000000", "70000"),
]


def test_coins_held_before_2027_cost_the_higher_2027_01_01_price():
    opening = {"BTC": MarketPrice(0, "BTC", "KRW", D("130000000"), "Upbit 1m open")}
    r = compute_report(KR, OLD_BTC, opening_prices=opening)
    (sale,) = r.disposals
    assert sale.deemed and sale.cost == D("130000000")
    assert sale.gain == D("9930000")  # 140,000,000 − 70,000 − 130,000,000
    assert r.pools["BTC"].opening_cost == D("130000000")
    assert "Upbit 1m open" in r.pools["BTC"].opening_source.params["source"]
    # 9,930,000 − 2,500,000 = 7,430,000 taxable: 20 % = 1,486,000 and 2 % = 148,600.
    assert (r.taxable, r.tax, r.local_tax, r.total_tax) == (D("7430000"), D("1486000"), D("148600"), D("1634600"))


def test_the_actual_cost_stays_when_it_is_higher_than_the_2027_price():
    opening = {"BTC": MarketPrice(0, "BTC", "KRW", D("30000000"), "file")}
    r = compute_report(KR, OLD_BTC, opening_prices=opening)
    assert not r.disposals[0].deemed and r.disposals[0].cost == D("40000000")


def test_without_a_2027_price_the_actual_cost_is_used_and_said():
    r = compute_report(KR, OLD_BTC)
    assert r.disposals[0].cost == D("40000000")
    assert any("No market price of {asset}" in n.template for n in r.notes)


def test_deemed_price_from_upbit_candles_in_the_price_table():
    at = ts("2027-01-01T00:00")
    prices = PriceTable([MarketPrice(at, "BTC", "KRW", D("131000000"), "upbit BTC/KRW 1m open")])
    r = compute_report(KR, OLD_BTC, prices=prices)
    assert r.disposals[0].cost == D("131000000")


def test_coin_for_coin_through_a_stablecoin_uses_the_official_fx_rate():
    events = [
        ev("2027-03-02T09:00", "USDT/KRW", "buy", "1100", "1450"),
        ev("2027-03-03T09:00", "ETH/USDT", "buy", "0.5", "2000", "1", "USDT", venue="binance"),
        ev("2027-03-04T09:00", "ETH/KRW", "sell", "0.5", "3100000", "775"),
    ]
    table = FxTable([fx("2027-03-03", "USD", "KRW", "1470")])
    r = compute_report(KR, events, fx=table)
    usdt, eth = r.disposals
    # 1,001 USDT given (1,000 + the 1 USDT fee), worth 1 USD each at 1,470 KRW.
    assert (usdt.asset, usdt.quantity) == ("USDT", D("1001"))
    assert usdt.proceeds == D("1471470") and usdt.fees == D("1470")
    assert usdt.cost == D("1451450")  # 1,001 × 1,450 (the year's average of USDT)
    assert usdt.gain == D("18550")
    assert "1 USDT = 1 USD" in usdt.price_source and "test rates" in usdt.price_source
    # ETH cost what was given for it: 0.5 × 2,000 USDT × 1,470.
    assert eth.cost == D("1470000") and eth.gain == D("79225")  # 1,550,000 − 775 − 1,470,000
    assert r.net == D("97775")


def test_coin_for_coin_via_btc_values_at_the_btc_price_times_the_ratio():
    events = [
        ev("2027-04-01T09:00", "BTC/KRW", "buy", "1", "80000000"),
        ev("2027-04-02T09:00", "ETH/BTC", "buy", "1", "0.05"),
    ]
    prices = PriceTable([MarketPrice(ts("2027-04-02T09:00"), "BTC", "KRW", D("100000000"), "upbit BTC/KRW 1m open")])
    r = compute_report(KR, events, prices=prices)
    (btc,) = r.disposals
    assert (btc.quantity, btc.proceeds, btc.cost, btc.gain) == (D("0.05"), D("5000000"), D("4000000"), D("1000000"))
    assert r.pools["ETH"].bought_cost == D("5000000")
    assert r.pools["BTC"].closing_qty == D("0.95")


def test_coin_for_coin_without_a_price_is_left_out_and_said():
    events = [
        ev("2027-04-01T09:00", "BTC/KRW", "buy", "1", "80000000"),
        ev("2027-04-02T09:00", "ETH/BTC", "buy", "1", "0.05"),
    ]
    r = compute_report(KR, events)
    assert r.disposals[0].status is LineStatus.NO_PRICE and r.disposals[0].gain is None
    assert r.incomplete and r.net == 0


def test_fees_are_incidental_costs_in_their_own_currency():
    events = [
        ev("2027-02-01T10:00", "BTC/KRW", "buy", "1", "50000000", "0.0005", "BTC"),  # fee out of the coins bought
        ev("2027-02-02T10:00", "BTC/KRW", "sell", "0.9995", "52000000", "25987", "KRW"),
    ]
    r = compute_report(KR, events)
    pool = r.pools["BTC"]
    assert pool.bought_qty == D("0.9995") and pool.bought_cost == D("50000000")
    (sale,) = r.disposals
    assert (sale.fee_amount, sale.fee_asset, sale.fees) == (D("25987"), "KRW", D("25987"))
    assert sale.gain == D("0.9995") * D("52000000") - D("25987") - D("50000000")
    buy_fee = compute_report(KR, [ev("2027-02-01T10:00", "BTC/KRW", "buy", "1", "50000000", "25000")])
    assert buy_fee.acquisitions[0].cost == D("50025000") and buy_fee.acquisitions[0].fee_value == D("25000")


SOLD_UNKNOWN = [ev("2027-05-01T10:00", "XRP/KRW", "sell", "1000", "3000", "1500")]


def test_an_unknown_cost_is_left_out_unless_the_50_percent_rule_is_chosen():
    r = compute_report(KR, SOLD_UNKNOWN)
    (line,) = r.disposals
    assert line.status is LineStatus.COST_UNKNOWN and line.gain is None and r.net == 0
    assert any("50 % rule" in n.template for n in r.notes)
    chosen = compute_report(ReportSettings(2027, Method.KR, "KRW", fallback_50=True), SOLD_UNKNOWN)
    (line,) = chosen.disposals
    # cost = 50 % of 3,000,000; the fee is then not deducted separately.
    assert line.status is LineStatus.FALLBACK
    assert (line.proceeds, line.cost, line.fees, line.gain) == (D("3000000"), D("1500000"), 0, D("1500000"))


def test_only_the_part_beyond_the_holdings_has_an_unknown_cost():
    events = [ev("2027-05-01T09:00", "XRP/KRW", "buy", "400", "2500"), *SOLD_UNKNOWN]
    r = compute_report(ReportSettings(2027, Method.KR, "KRW", fallback_50=True), events)
    known, unknown = r.disposals
    assert (known.quantity, known.cost, known.proceeds) == (D("400"), D("1000000"), D("1200000"))
    assert (unknown.quantity, unknown.status, unknown.cost) == (D("600"), LineStatus.FALLBACK, D("900000"))


def _year(btc_gain: str, eth_gain: str) -> list:
    return [
        ev("2027-01-10T10:00", "BTC/KRW", "buy", "1", "100000000"),
        ev("2027-02-10T10:00", "BTC/KRW", "sell", "1", str(D("100000000") + D(btc_gain))),
        ev("2027-01-10T10:00", "ETH/KRW", "buy", "1", "5000000", venue="bithumb"),
        ev("2027-02-10T10:00", "ETH/KRW", "sell", "1", str(D("5000000") + D(eth_gain)), venue="bithumb"),
    ]


def test_gains_and_losses_net_across_coins_and_exchanges_before_the_deduction():
    r = compute_report(KR, _year("12000000", "-2000000"))
    assert r.net == D("10000000")
    assert (r.deduction, r.taxable, r.tax, r.local_tax) == (D("2500000"), D("7500000"), D("1500000"), D("150000"))


@pytest.mark.parametrize(("btc", "eth"), [("3000000", "-500000"), ("2500000", "0"), ("-1000000", "200000")])
def test_nothing_is_due_on_a_net_of_2_5_million_won_or_less(btc, eth):
    r = compute_report(KR, _year(btc, eth))
    assert r.net <= D("2500000")
    assert (r.taxable, r.tax, r.local_tax) == (0, 0, 0)


def test_transfers_and_airdrops_are_listed_not_computed():
    events = [
        ev("2027-02-01T10:00", "BTC/KRW", "buy", "1", "50000000"),
        ev("2027-02-02T10:00", "BTC", "transfer_out", "0.5"),
        ev("2027-02-03T10:00", "ETH", "airdrop", "2"),
        ev("2027-02-04T10:00", "SOL", "staking", "0.1"),
    ]
    r = compute_report(KR, events)
    assert not r.disposals and r.net == 0
    assert [x.kind for x in r.listed] == [EventKind.TRANSFER_OUT, EventKind.AIRDROP, EventKind.STAKING]
    assert r.pools["BTC"].closing_qty == 1 and "ETH" not in r.pools


def test_costs_of_coins_held_before_the_first_fill_are_used_and_marked_estimated():
    opening = [OpeningCost(ts("2027-01-05T00:00"), "upbit", "BTC", D("1"), D("90000000"), "KRW", True, "cost_basis")]
    r = compute_report(KR, [ev("2027-02-01T10:00", "BTC/KRW", "sell", "1", "95000000")], opening)
    assert r.disposals[0].cost == D("90000000") and r.disposals[0].estimated


def test_no_tax_before_2027_and_korea_reports_in_won():
    r = compute_report(ReportSettings(2026, Method.KR, "KRW"), [ev("2026-02-01T10:00", "BTC/KRW", "buy", "1", "1")])
    assert r.tax == 0 and not r.taxes_apply and any("before {year}" in n.template for n in r.notes)
    with pytest.raises(TaxInputError):
        compute_report(ReportSettings(2027, Method.KR, "USD"), [])


def test_fifo_in_usd_converts_krw_trades_with_the_fx_table():
    events = [
        ev("2027-02-01T10:00", "BTC/KRW", "buy", "1", "140000000"),
        ev("2027-02-02T10:00", "BTC/KRW", "sell", "1", "145000000"),
    ]
    table = FxTable([fx("2027-02-01", "USD", "KRW", "1400"), fx("2027-02-02", "USD", "KRW", "1450")])
    r = compute_report(ReportSettings(2027, Method.FIFO, "USD"), events, fx=table)
    assert r.disposals[0].proceeds == D("100000") and r.disposals[0].cost == D("100000")
    assert r.net == 0 and "FX 1 / (KRW" not in r.disposals[0].price_source


# A fee paid in a third coin (BNB on a BTC/USDT trade), worked on paper:
#   BNB bought at 800,000 KRW; BNB worth 1,000,000 KRW and 1 USD = 1,400 KRW at the trade.
#   Sell 0.5 BTC for 70,000 USDT each, fee 0.01 BNB (worth 10,000 KRW):
#   - the fee coins are a disposal: 0.01 BNB, proceeds 10,000, cost 8,000, gain 2,000;
#   - the BTC sale deducts the fee's value: 49,000,000 − 10,000 − 50,000,000 = −1,010,000;
#   - the 35,000 USDT received cost 49,000,000 (the fee is not counted a second time).
#   Net −1,008,000: the fee costs the 8,000 won the BNB cost, once.
BNB_FEE = [
    ev("2027-02-01T10:00", "BNB/KRW", "buy", "1", "800000"),
    ev("2027-02-01T10:00", "BTC/KRW", "buy", "1", "100000000"),
    ev("2027-03-02T10:00", "BTC/USDT", "sell", "0.5", "70000", "0.01", "BNB", venue="binance"),
]
BNB_PRICE = PriceTable([MarketPrice(ts("2027-03-02T10:00"), "BNB", "KRW", D("1000000"), "upbit BNB/KRW 1m open")])
USD_1400 = FxTable([fx("2027-03-02", "USD", "KRW", "1400")])


def test_a_fee_in_a_third_coin_is_disposed_of_and_is_the_trade_s_incidental_cost():
    r = compute_report(KR, BNB_FEE, prices=BNB_PRICE, fx=USD_1400)
    bnb, btc = sorted(r.disposals, key=lambda d: d.asset)
    assert (bnb.asset, bnb.quantity, bnb.proceeds, bnb.cost, bnb.fees, bnb.gain) == (
        "BNB",
        D("0.01"),
        D("10000"),
        D("8000"),
        0,
        D("2000"),
    )
    assert "upbit BNB/KRW 1m open" in bnb.price_source
    assert (btc.proceeds, btc.fees, btc.cost, btc.gain) == (D("49000000"), D("10000"), D("50000000"), D("-1010000"))
    assert (btc.fee_amount, btc.fee_asset) == (D("0.01"), "BNB")
    assert r.pools["USDT"].bought_cost == D("49000000") and r.pools["BNB"].closing_qty == D("0.99")
    assert r.net == D("-1008000")


def test_a_third_coin_fee_on_a_purchase_with_money_is_added_to_the_cost():
    events = [BNB_FEE[0], ev("2027-03-02T10:00", "BTC/KRW", "buy", "1", "100000000", "0.05", "BNB")]
    r = compute_report(KR, events, prices=BNB_PRICE)
    (bnb,) = r.disposals
    assert (bnb.proceeds, bnb.cost, bnb.gain) == (D("50000"), D("40000"), D("10000"))
    assert r.pools["BTC"].bought_cost == D("100050000")  # 100,000,000 + the fee's 50,000


def test_a_third_coin_fee_without_a_price_leaves_the_fee_out_not_the_trade():
    r = compute_report(KR, BNB_FEE, fx=USD_1400)
    bnb, btc = sorted(r.disposals, key=lambda d: d.asset)
    assert bnb.status is LineStatus.NO_PRICE and bnb.gain is None
    assert (btc.status, btc.fees, btc.gain) == (LineStatus.OK, 0, D("-1000000"))
    assert any("the trade is computed without it" in n.template for n in r.notes)
