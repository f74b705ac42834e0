"""Whole reports: a paper session (fills made by the engine on the paper venue, stored in a real
SQLite store) and an imported Upbit-style history, in English and Korean, through the CLI too;
bad files are refused whole, with a message per row."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import Rig
from taxkit import ts

from app.cli import main
from app.domain.enums import OrderStatus, OrderType, Side
from app.domain.market import Bar
from app.domain.order import OrderRequest
from app.domain.portfolio import CostBasis
from app.storage import Store
from app.tax.books import Method
from app.tax.compute import ReportSettings
from app.tax.export import write_report
from app.tax.imports import ImportFailed, read_trades
from app.tax.loader import make_report
from app.tax.model import LineStatus

D = Decimal

UPBIT_STYLE = """time,venue,symbol,side,quantity,price,fee,fee_currency,id
2026-06-01T10:00:00+09:00,upbit,BTC/KRW,buy,0.5,80000000,20000,KRW,U1
2027-01-20T09:30:00+09:00,upbit,ETH/KRW,buy,2,4000000,4000,KRW,U2
2027-03-02T10:15:00+09:00,upbit,BTC/KRW,sell,0.2,140000000,14000,KRW,U3
2027-05-10T21:00:00+09:00,upbit,ETH/KRW,buy,1,5500000,2750,KRW,U4
2027-08-01T12:00:00+09:00,upbit,ETH/KRW,sell,2.5,6000000,7500,KRW,U5
2027-09-01T12:00:00+09:00,upbit,BTC,transfer_out,0.1,,,,U6
2027-10-01T12:00:00+09:00,upbit,XRP,airdrop,50,,,,U7
2027-11-11T11:11:00+09:00,upbit,BTC/KRW,sell,0.2,150000000,15000,KRW,U8
"""
OPENING = "asset,price,currency,source\nBTC,130000000,KRW,Upbit 1m candle open 2027-01-01 00:00 KST\n"
FX = "date,base,quote,rate,source\n2027-03-02,USD,KRW,1452.3,Bank of Korea ECOS\n"


def _files(tmp: Path) -> tuple[Path, Path, Path]:
    paths = tmp / "upbit.csv", tmp / "opening.csv", tmp / "fx.csv"
    for p, text in zip(paths, (UPBIT_STYLE, OPENING, FX), strict=True):
        p.write_text(text, encoding="utf-8")
    return paths


def test_an_imported_upbit_history_gives_the_worked_out_korean_report(tmp_path):
    trades, opening, _fx = _files(tmp_path)
    r = make_report(ReportSettings(2027, Method.KR, "KRW"), imports=[trades], opening_prices=opening)
    # BTC: 0.5 held from 2026 at 40,020,000 actual; 2027-01-01 price 130,000,000 → 65,000,000 deemed.
    btc = r.pools["BTC"]
    assert (btc.opening_qty, btc.opening_cost, btc.average) == (D("0.5"), D("65000000"), D("130000000"))
    # ETH: (8,004,000 + 5,502,750) ÷ 3 = 4,502,250 per ETH for the whole year.
    assert r.pools["ETH"].average == D("4502250")
    gains = [(d.asset, d.gain) for d in r.disposals]
    assert gains == [
        ("BTC", D("28000000") - D("14000") - D("26000000")),
        ("ETH", D("15000000") - D("7500") - D("11255625")),
        ("BTC", D("30000000") - D("15000") - D("26000000")),
    ]
    assert r.net == D("1986000") + D("3736875") + D("3985000")
    # 20 % = 1,441,575 and 2 % = 144,157.5: a tax payable drops what is below 10 won.
    assert r.taxable == D("7207875") and r.tax == D("1441570") and r.local_tax == D("144150")
    assert [x.source for x in r.listed] == ["upbit.csv:7 (U6)", "upbit.csv:8 (U7)"]
    assert r.disposals[0].source == "upbit.csv:4 (U3)" and r.disposals[0].deemed
    assert r.pools["BTC"].closing_qty == D("0.1")  # 0.5 − 0.2 − 0.2 (the transfer is not a disposal)

    paths = write_report(r, tmp_path / "out")
    names = {p.name for p in paths}
    assert {
        "tax-2027-kr-KRW-disposals.csv",
        "tax-2027-kr-KRW-summary.en.html",
        "tax-2027-kr-KRW-summary.ko.html",
    } <= names
    en = (tmp_path / "out" / "tax-2027-kr-KRW-summary.en.html").read_text(encoding="utf-8")
    ko = (tmp_path / "out" / "tax-2027-kr-KRW-summary.ko.html").read_text(encoding="utf-8")
    assert "1,441,570 KRW" in en and "144,150 KRW" in en and "KR-2027.1" in en and "upbit.csv:4 (U3)" in en
    assert "rules and dates may change" in en
    assert "세금 보고서" in ko and "1,441,570 KRW" in ko and "총평균" in ko and "upbit.csv:4 (U3)" in ko
    lines = (tmp_path / "out" / "tax-2027-kr-KRW-disposals.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("2027-03-02 10:15:00,BTC,0.2,28000000,26000000,14000,1986000,ok")


def test_the_cli_writes_the_report_and_prints_the_figures(tmp_path, capsys):
    trades, opening, fx = _files(tmp_path)
    out = tmp_path / "report"
    argv = ["tax", "--year", "2027", "--method", "kr", "--currency", "KRW", "--import", str(trades)]
    argv += ["--fx", str(fx), "--opening-prices", str(opening), "--out", str(out), "--data-dir", str(tmp_path / "data")]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Total tax" in text and "1,585,720 KRW" in text  # 1,441,570 + 144,150
    assert (out / "tax-2027-kr-KRW-summary.ko.html").exists()


def test_a_file_with_bad_rows_is_refused_whole_with_a_message_per_row(tmp_path, capsys):
    bad = UPBIT_STYLE.replace("2027-03-02T10:15:00+09:00", "2027-03-02T10:15:00").replace(",4000000,", ",4.000.000,")
    bad = bad.replace("transfer_out", "gift")
    with pytest.raises(ImportFailed) as caught:
        read_trades(bad, "bad.csv")
    assert [(e.line, e.template.split(":")[0]) for e in caught.value.errors] == [
        (3, "{column} is not a number"),
        (4, "time has no zone"),
        (7, "side must be buy, sell, transfer_in, transfer_out, airdrop, staking, mining or lending"),
    ]
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    code = main(["tax", "--year", "2027", "--import", str(path), "--no-store", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "bad.csv:4: time has no zone" in err and "Nothing was imported" in err
    assert not (tmp_path / "o").exists()


def test_missing_columns_are_named(tmp_path):
    with pytest.raises(ImportFailed) as caught:
        read_trades("time,venue,symbol,side,quantity\n", "x.csv")
    assert caught.value.errors[0].params == {"columns": "price"}


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path, balances={"USDT": "100000", "BTC": "2"})
    r.clock.ms = ts("2027-03-02T10:00")
    yield r
    r.close()


PAPER_FX = """date,base,quote,rate,source
2026-12-01,USD,KRW,1400,Bank of Korea ECOS
2026-12-31,USD,KRW,1470,Bank of Korea ECOS
2027-03-02,USD,KRW,1450,Bank of Korea ECOS
"""


async def test_a_paper_session_report_from_the_stored_fills_in_both_languages(rig, tmp_path):
    await rig.start()
    # What the account held before its first fill, at the costs the user entered.
    before = ts("2026-12-01T00:00")
    rig.store.save_cost_basis(CostBasis("sim", "BTC", "BTC/USDT", D("2"), D("80000"), before, False))
    rig.store.save_cost_basis(CostBasis("sim", "USDT", "USDT/USD", D("100000"), D("100000"), before, False))
    mid = 60_000
    for side, qty in [(Side.BUY, "0.1"), (Side.SELL, "0.5"), (Side.BUY, "0.2"), (Side.SELL, "0.3")]:
        rig.book(str(mid))
        rig.trade(str(mid))
        o = await rig.om.submit(OrderRequest("sim", "BTC/USDT", side, OrderType.MARKET, D(qty)))
        assert o is not None and o.status is OrderStatus.FILLED
        rig.clock.advance(3_600_000)
        mid += 1_000
    await rig.settle()
    fills = rig.store.load_fills()
    assert len(fills) == 4
    opening, fx = tmp_path / "opening.csv", tmp_path / "fx.csv"
    opening.write_text(OPENING, encoding="utf-8")
    fx.write_text(PAPER_FX, encoding="utf-8")
    r = make_report(ReportSettings(2027, Method.KR, "KRW"), store=rig.store, opening_prices=opening, fx=fx)
    # Every fill is a disposal: a sale gives BTC, a purchase gives USDT (a coin-for-coin trade).
    assert sorted(d.source for d in r.disposals) == sorted(f"fills: sim BTC/USDT trade {f.trade_id}" for f in fills)
    assert all(d.status is LineStatus.OK for d in r.disposals)
    assert {d.asset for d in r.disposals if "1 USDT = 1 USD" in d.price_source} == {"BTC", "USDT"}
    btc_pool, usdt_pool = r.pools["BTC"], r.pools["USDT"]
    # Held before 2027: the higher of the actual cost and the 2027-01-01 price.
    assert btc_pool.opening_cost == 2 * D("130000000")  # above 80,000 USDT × 1,400
    assert usdt_pool.opening_cost == D("100000") * D("1470")  # the FX rate on 2026-12-31 beats 1,400
    for pool, asset in ((btc_pool, "BTC"), (usdt_pool, "USDT")):
        held = rig.om.portfolio.balance("sim", asset)
        assert pool.closing_qty == held and pool.opening_qty + pool.bought_qty == pool.sold_qty + held
    assert r.net == sum(d.gain for d in r.disposals) and r.net < 0  # sold below the 2027-01-01 price
    assert r.tax == 0
    paths = write_report(r, tmp_path / "paper")
    ko = next(p for p in paths if p.name.endswith(".ko.html")).read_text(encoding="utf-8")
    en = next(p for p in paths if p.name.endswith(".en.html")).read_text(encoding="utf-8")
    assert fills[1].trade_id in en and fills[1].trade_id in ko and "Bank of Korea ECOS" in en
    assert "세금 보고서" in ko and "Tax report 2027" in en


def test_without_a_prices_file_the_upbit_candles_in_the_store_give_the_2027_price(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        at = ts("2027-01-01T00:00")

        def bar(symbol: str, open_ms: int, price: str) -> Bar:
            p = D(price)
            return Bar("upbit", symbol, "1m", open_ms, p, p, p, p, D("1"))

        eth_btc = ts("2027-04-02T09:00:30")
        store.upsert_bars(
            [
                bar("BTC/KRW", at - 60_000, "129000000"),
                bar("BTC/KRW", at, "131000000"),
                bar("BTC/KRW", eth_btc - 30_000, "100000000"),
            ]
        )
        trades = tmp_path / "t.csv"
        trades.write_text(
            "time,venue,symbol,side,quantity,price,fee,fee_currency\n"
            "2026-06-01T10:00:00+09:00,upbit,BTC/KRW,buy,1,80000000,0,KRW\n"
            "2027-04-02T09:00:30+09:00,upbit,ETH/BTC,buy,2,0.05,0,BTC\n",
            encoding="utf-8",
        )
        r = make_report(ReportSettings(2027, Method.KR, "KRW"), store=store, imports=[trades])
    finally:
        store.close()
    pool = r.pools["BTC"]
    assert pool.opening_cost == D("131000000")  # the 00:00 KST candle's open, above 80,000,000
    assert "upbit BTC/KRW 1m open 2026-12-31 15:00 UTC" in pool.opening_source.params["source"]
    (given,) = r.disposals  # 0.1 BTC for 2 ETH, at the BTC/KRW candle of that minute
    assert (given.quantity, given.proceeds, given.cost) == (D("0.1"), D("10000000"), D("13100000"))
    assert "upbit BTC/KRW 1m open" in given.price_source
    assert r.pools["ETH"].bought_cost == D("10000000")


def test_an_export_with_its_own_column_names_is_read_through_a_confirmed_mapping(tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text(
        "체결시간,거래소,마켓,종류,수량,단가,수수료,수수료통화\n"
        "2027-02-01T10:00:00+09:00,upbit,BTC/KRW,매수,1,50000000,25000,KRW\n"
        "2027-03-01T10:00:00+09:00,upbit,BTC/KRW,매도,1,60000000,30000,KRW\n",
        encoding="utf-8",
    )
    columns = (
        "time=체결시간,venue=거래소,symbol=마켓,side=종류,quantity=수량,price=단가,fee=수수료,fee_currency=수수료통화"
    )
    argv = [
        "tax",
        "--year",
        "2027",
        "--import",
        str(export),
        "--columns",
        columns,
        "--no-store",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    assert "Net gain of the year    9,945,000 KRW" in capsys.readouterr().out
    bad = ["tax", "--year", "2027", "--import", str(export), "--columns", "time", "--no-store", "--out", str(tmp_path)]
    assert main(bad) == 2
    assert "--columns takes name=column pairs" in capsys.readouterr().err


async def test_stored_fills_and_their_export_are_not_counted_twice(rig, tmp_path):
    await rig.start()
    rig.book("60000")
    rig.trade("60000")
    await rig.om.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.MARKET, D("0.1")))
    await rig.settle()
    (fill,) = rig.store.load_fills()
    when = datetime.fromtimestamp(fill.ts_ms / 1000, tz=UTC).isoformat()
    export = tmp_path / "same.csv"
    export.write_text(
        f"time,venue,symbol,side,quantity,price,fee,fee_currency\n"
        f"{when},sim,BTC/USDT,buy,{fill.quantity},{fill.price},{fill.fee},{fill.fee_asset}\n",
        encoding="utf-8",
    )
    r = make_report(ReportSettings(2027, Method.FIFO, "USD"), store=rig.store, imports=[export])
    assert r.pools["BTC"].bought_qty == fill.quantity - (fill.fee if fill.fee_asset == "BTC" else 0)
    assert any("counted once" in s for s in r.inputs)
    # The year is not over yet when the clock of the test says 2027 but the wall clock does not.
    assert any("provisional" in n.template for n in r.notes) == (datetime.now(UTC).year <= 2027)


def test_coins_held_at_2027_01_01_can_be_given_in_the_opening_prices_file(tmp_path):
    opening = tmp_path / "opening.csv"
    opening.write_text(
        "asset,price,currency,source,quantity,cost\n"
        "BTC,130000000,KRW,Upbit,0.5,\n"  # actual cost unknown: the 2027-01-01 price stands
        "ETH,5000000,KRW,Upbit,2,12000000\n",  # actual 12,000,000 above 2 × 5,000,000
        encoding="utf-8",
    )
    trades = tmp_path / "t.csv"
    trades.write_text(
        "time,symbol,side,quantity,price\n"
        "2027-04-01T10:00:00+09:00,BTC/KRW,sell,0.5,140000000\n"
        "2027-04-01T10:00:00+09:00,ETH/KRW,sell,2,7000000\n",
        encoding="utf-8",
    )
    r = make_report(ReportSettings(2027, Method.KR, "KRW"), imports=[trades], opening_prices=opening)
    btc, eth = r.disposals
    assert (btc.cost, btc.gain, btc.deemed) == (D("65000000"), D("5000000"), True)
    assert (eth.cost, eth.gain, eth.deemed) == (D("12000000"), D("2000000"), False)
    assert r.pools["BTC"].opening_qty == D("0.5") and "Upbit" in r.pools["BTC"].opening_source.params["source"]
    assert r.net == D("7000000")
