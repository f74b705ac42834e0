"""Lending income: "other income" under Korea's rules (added to the year's net at its value when
received, the coins then costing that value), a total apart under the other methods; bad lending
rows refused whole; the lending line in the CSV and in the English and Korean summaries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from taxkit import ev, fx, ts

from app.cli import main
from app.tax.books import Method
from app.tax.compute import ReportSettings, compute_report
from app.tax.export import write_report
from app.tax.imports import ImportFailed, read_trades
from app.tax.loader import make_report
from app.tax.model import EventKind, LineStatus
from app.tax.rules import GENERIC, KR_2027
from app.tax.summary import summary_rows
from app.tax.text import Words
from app.tax.valuation import FxTable, MarketPrice, PriceTable

D = Decimal
KR = ReportSettings(2027, Method.KR, "KRW")

# Worked on paper:
#   buy 9 ETH at 4,000,000                           → 36,000,000 paid
#   lending: 1 ETH received, worth 5,000,000 then    → lending income 5,000,000; the ETH costs 5,000,000
#   sell 10 ETH at 4,500,000, fee 22,500             → proceeds 45,000,000
#   the year's average: (36,000,000 + 5,000,000) ÷ 10 = 4,100,000 per ETH
#   gain on the sale: 45,000,000 − 22,500 − 41,000,000 = 3,977,500
#   the year's net: 3,977,500 + 5,000,000 = 8,977,500 (= 45,000,000 − 22,500 − 36,000,000: the
#   interest is taxed once, not again when sold)
#   taxable: 8,977,500 − 2,500,000 = 6,477,500; 20 % = 1,295,500; 2 % = 129,550; total 1,425,050
LENT = [
    ev("2027-01-15T10:00", "ETH/KRW", "buy", "9", "4000000"),
    ev("2027-04-01T09:00", "ETH/KRW", "lending", "1", "5000000", source="interest"),
    ev("2027-09-01T10:00", "ETH/KRW", "sell", "10", "4500000", "22500"),
]


def test_lending_income_is_other_income_counted_once_at_its_value_when_received():
    assert KR_2027.lending_is_income and not GENERIC.lending_is_income
    r = compute_report(KR, LENT)
    (income,) = r.income
    assert (income.asset, income.quantity, income.value, income.source) == ("ETH", D("1"), D("5000000"), "interest")
    pool = r.pools["ETH"]
    assert (pool.bought_qty, pool.income_qty, pool.income_cost) == (D("9"), D("1"), D("5000000"))
    assert pool.average == D("4100000")
    (sale,) = r.disposals
    assert (sale.proceeds, sale.fees, sale.cost, sale.gain) == (D("45000000"), D("22500"), D("41000000"), D("3977500"))
    assert (r.disposal_gain, r.income_total, r.net) == (D("3977500"), D("5000000"), D("8977500"))
    assert r.net == D("45000000") - D("22500") - D("36000000")  # not taxed a second time when sold
    assert (r.taxable, r.tax, r.local_tax, r.total_tax) == (D("6477500"), D("1295500"), D("129550"), D("1425050"))
    assert any(n.template.startswith("Lending income is other income") for n in r.notes)
    rows = dict(summary_rows(r, Words("en", "KRW", r.rules)))
    assert rows["Gain on disposals"] == "3,977,500 KRW" and rows["Lending income"] == "5,000,000 KRW"
    assert rows["Net gain of the year"] == "8,977,500 KRW"


def test_lending_income_alone_is_taxed_above_the_deduction():
    # 0.1 BTC of interest at 100,000,000: 10,000,000 income − 2,500,000 = 7,500,000 taxable.
    r = compute_report(KR, [ev("2027-05-01T09:00", "BTC/KRW", "lending", "0.1", "100000000")])
    assert not r.disposals and r.net == D("10000000")
    assert (r.tax, r.local_tax) == (D("1500000"), D("150000"))
    assert (r.pools["BTC"].closing_qty, r.pools["BTC"].closing_cost) == (D("0.1"), D("10000000"))


@pytest.mark.parametrize("method", [Method.FIFO, Method.AVERAGE])
def test_other_methods_list_lending_income_apart_from_the_gains(method):
    r = compute_report(ReportSettings(2027, method, "KRW"), LENT)
    # FIFO: the 9 bought at 36,000,000, then the 1 received at 5,000,000; the average alike.
    (sale,) = r.disposals
    assert sale.cost == D("41000000") and sale.gain == D("3977500")
    assert (r.disposal_gain, r.income_total, r.net) == (D("3977500"), D("5000000"), D("3977500"))
    assert r.tax == 0
    rows = dict(summary_rows(r, Words("en", "KRW", r.rules)))
    assert rows["Net gain of the year"] == "3,977,500 KRW"
    assert rows["Lending income (apart, not in the net gain)"] == "5,000,000 KRW"
    assert "Lending income" not in rows and any("not in the net gain" in n.template for n in r.notes)


def test_interest_coins_sold_alone_gain_only_beyond_their_value_when_received():
    # FIFO in USD: 0.01 BTC received at 70,000 USD (700 USD of income), sold at 80,000 USD.
    events = [
        ev("2027-03-01T10:00", "BTC/USD", "lending", "0.01", "70000", venue="nexo"),
        ev("2027-06-01T10:00", "BTC/USD", "sell", "0.01", "80000", venue="nexo"),
    ]
    r = compute_report(ReportSettings(2027, Method.FIFO, "USD"), events)
    assert r.income_total == D("700") and r.disposals[0].cost == D("700") and r.disposal_gain == D("100")


def test_a_lending_row_without_a_price_is_valued_at_the_market_price_then_or_said():
    when = ts("2027-04-01T09:00")
    events = [ev("2027-04-01T09:00", "ETH", "lending", "0.5"), ev("2027-04-02T09:00", "USDT", "lending", "100")]
    prices = PriceTable([MarketPrice(when, "ETH", "KRW", D("5000000"), "upbit ETH/KRW 1m open")])
    table = FxTable([fx("2027-04-02", "USD", "KRW", "1400")])
    r = compute_report(KR, events, prices=prices, fx=table)
    eth, usdt = r.income
    assert eth.value == D("2500000") and "upbit ETH/KRW 1m open" in eth.price_source
    assert usdt.value == D("140000") and "1 USDT = 1 USD" in usdt.price_source
    assert r.net == D("2640000")
    # Without a price: left out of the income, the coins' cost 0, and the report says so.
    bare = compute_report(KR, events[:1])
    (eth,) = bare.income
    assert eth.value is None and eth.status is LineStatus.NO_PRICE and bare.net == 0
    assert bare.pools["ETH"].closing_cost == 0
    assert any("received as lending income" in n.template for n in bare.notes)
    assert dict(summary_rows(bare, Words("en", "KRW", bare.rules)))["Lending income without a value"] == "1"


def test_lending_before_the_tax_year_is_held_into_it_not_counted_in_it():
    events = [ev("2026-06-01T09:00", "ETH/KRW", "lending", "1", "3000000")]
    opening = {"ETH": MarketPrice(0, "ETH", "KRW", D("4000000"), "file")}
    r = compute_report(KR, events, opening_prices=opening)
    assert not r.income and r.net == 0
    assert (r.pools["ETH"].opening_qty, r.pools["ETH"].opening_cost) == (D("1"), D("4000000"))  # the 2027 price
    assert compute_report(ReportSettings(2026, Method.KR, "KRW"), events).income_total == D("3000000")


LENDING_CSV = """time,venue,symbol,side,quantity,price,fee,fee_currency,id
2027-01-15T10:00:00+09:00,upbit,ETH/KRW,buy,9,4000000,,,B1
2027-03-02T12:00:00+09:00,binance,USDT,lending,100,,,,L1
2027-04-01T09:00:00+09:00,upbit,ETH/KRW,lending,1,5000000,,,L2
2027-09-01T10:00:00+09:00,upbit,ETH/KRW,sell,10,4500000,22500,KRW,S1
"""


def test_bad_lending_rows_are_refused_whole_with_a_message_per_row(tmp_path, capsys):
    good = read_trades(LENDING_CSV, "lent.csv")
    assert [e.kind for e in good].count(EventKind.LENDING) == 2
    bad = LENDING_CSV.replace("binance,USDT,lending,100,,", "binance,USDT,lending,100,1.01")
    bad = bad.replace("ETH/KRW,lending,1,5000000,,", "KRW,lending,1,,,")
    bad += "2027-10-01T09:00:00+09:00,upbit,ETH/KRW,lending,0.1,5000000,0.001,ETH,L3\n"
    bad += "2027-10-02T09:00:00+09:00,upbit,ETH/KRW,lending,0.1,abc,,,L4\n"
    with pytest.raises(ImportFailed) as caught:
        read_trades(bad, "lent.csv")
    assert [(e.line, e.template.split(":")[0]) for e in caught.value.errors] == [
        (3, "a lending row with a price names the price's currency in symbol (e.g. {asset}/KRW)"),
        (4, "a lending row names the coin received in symbol (e.g. ETH or ETH/KRW)"),
        (6, "a lending row takes no fee"),
        (7, "{column} is not a number"),
    ]
    path = tmp_path / "lent.csv"
    path.write_text(bad, encoding="utf-8")
    out = tmp_path / "o"
    code = main(["tax", "--year", "2027", "--import", str(path), "--no-store", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Nothing was imported" in err
    assert "lent.csv:3: a lending row with a price names the price's currency in symbol (e.g. USDT/KRW)" in err
    assert not out.exists()  # nothing half-imported: no report at all


def test_the_report_files_show_the_lending_income_in_both_languages(tmp_path):
    trades, fx_file = tmp_path / "lent.csv", tmp_path / "fx.csv"
    trades.write_text(LENDING_CSV, encoding="utf-8")
    fx_file.write_text("date,base,quote,rate,source\n2027-03-02,USD,KRW,1452.3,Bank of Korea ECOS\n", encoding="utf-8")
    r = make_report(KR, imports=[trades], fx=fx_file)
    # 100 USDT × 1,452.3 = 145,230 and 1 ETH × 5,000,000; the ETH average (36,000,000 + 5,000,000) ÷ 10.
    assert [(i.asset, i.value) for i in r.income] == [("USDT", D("145230")), ("ETH", D("5000000"))]
    assert r.net == D("3977500") + D("5145230")
    paths = write_report(r, tmp_path / "out")
    folder = tmp_path / "out"
    en = (folder / "tax-2027-kr-KRW-summary.en.html").read_text(encoding="utf-8")
    ko = (folder / "tax-2027-kr-KRW-summary.ko.html").read_text(encoding="utf-8")
    assert "<td>Lending income</td>" in en and "5,145,230 KRW" in en and "9,122,730 KRW" in en
    assert "lent.csv:4 (L2)" in en and "Bank of Korea ECOS" in en
    assert "<td>가상자산 대여소득</td>" in ko and "5,145,230 KRW" in ko and "lent.csv:3 (L1)" in ko
    assert "<h2>가상자산 대여소득</h2>" in ko and "양도 손익 합계" in ko
    income_csv = folder / "tax-2027-kr-KRW-income.csv"
    assert income_csv in paths
    lines = income_csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "time,asset,quantity,value,status,kind,venue,symbol,source,price_source"
    assert lines[2].startswith("2027-04-01 09:00:00,ETH,1,5000000,ok,lending,upbit,ETH/KRW,lent.csv:4 (L2)")
    summary = dict(
        line.split(",", 1) for line in (folder / "tax-2027-kr-KRW-summary.csv").read_text(encoding="utf-8").splitlines()
    )
    assert (summary["lending_income"], summary["disposal_gain"], summary["net_gain"]) == (
        "5145230",
        "3977500",
        "9122730",
    )
    assert summary["lending_income_in_net"] == "True"
    pools = (folder / "tax-2027-kr-KRW-pools.csv").read_text(encoding="utf-8").splitlines()
    assert (
        pools[0].endswith("income_qty,income_cost") and pools[1].startswith("ETH,") and pools[1].endswith(",1,5000000")
    )
