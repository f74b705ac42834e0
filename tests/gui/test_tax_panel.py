"""The Tax panel as a user sees it: a report of the paper fills made in the background while the
market goes on, its figures and disposals in the window, a bad file refused row by row with the
report left as it was, the files saved, and the panel in Korean."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app.domain.enums import OrderType, Side
from app.domain.order import OrderRequest
from app.tax.books import Method
from app.tax.model import LineStatus

D = Decimal


def _trade(gui, side: Side, qty: str) -> None:
    o = gui.run(gui.session.orders.submit(OrderRequest("sim", "BTC/USDT", side, OrderType.MARKET, D(qty))))
    assert o is not None


def test_a_report_of_the_paper_fills_is_made_in_the_background_and_saved(gui, qtbot, tmp_path):
    _trade(gui, Side.BUY, "0.1")
    gui.market("60100")
    _trade(gui, Side.SELL, "0.3")
    panel = gui.window.tax
    gui.window.docks["tax"].raise_()
    fills = gui.store.load_fills()
    assert fills
    panel.year.setValue(datetime.fromtimestamp(fills[0].ts_ms / 1000, UTC).year)
    panel.method.setCurrentIndex(panel.method.findData(Method.FIFO.value))
    panel.currency.setCurrentIndex(panel.currency.findData("USD"))
    panel.run_btn.click()
    ticks_before = gui.session.orders.last_price("sim", "BTC/USDT")
    gui.market("60200")  # the market goes on while the report is made
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    assert ticks_before is not None and gui.session.orders.last_price("sim", "BTC/USDT") == D("60200")
    r = panel.report
    btc_sales = [d for d in r.disposals if d.asset == "BTC"]
    # 0.1 BTC of the sale was bought here; the rest (held before, its cost basis dated later) is apart.
    assert [(d.quantity, d.status) for d in btc_sales] == [
        (D("0.1"), LineStatus.OK),
        (D("0.2"), LineStatus.COST_UNKNOWN),
    ]
    assert btc_sales[0].proceeds == D("0.1") * D("60099.5")
    statuses = [panel.lines.data(panel.lines.index(i, 7)) for i in range(panel.lines.rowCount())]
    assert "cost unknown: left out" in statuses
    assert "left out of the net" in panel.status.text()  # the report's notes are shown with it
    assert panel.lines.rowCount() == len(r.disposals)
    labels = [panel.summary.data(panel.summary.index(i, 0)) for i in range(panel.summary.rowCount())]
    assert "Net gain of the year" in labels and "Tax" in labels
    assert panel.export_btn.isEnabled()

    bad = tmp_path / "bad.csv"
    bad.write_text("time,venue,symbol,side,quantity,price,fee,fee_currency\n2026-01-01,upbit,BTC/KRW,buy,1,1,0,KRW\n")
    panel.set_file("imports", bad)
    panel.run_btn.click()
    qtbot.waitUntil(lambda: "bad.csv:2" in panel.error.text(), timeout=30_000)
    assert "time has no zone" in panel.error.text() and "Nothing was imported" in panel.error.text()
    assert panel.report is r and panel.lines.rowCount() == len(r.disposals)  # the report shown is unchanged

    folder = tmp_path / "out"
    paths = gui.run(panel.export(folder))
    names = sorted(p.name for p in paths)
    assert any(n.endswith("summary.ko.html") for n in names) and any(n.endswith("disposals.csv") for n in names)
    assert "files saved" in panel.status.text()


def test_the_tax_panel_speaks_korean(gui):
    panel = gui.window.tax
    gui.window.set_language("ko")
    try:
        assert gui.window.docks["tax"].windowTitle() == "세금"
        assert panel.run_btn.text() == "보고서 만들기"
        assert panel.method.itemText(0) == "한국: 개인별 총평균법"
        assert panel.lines.headerData(6, _horizontal()) == "손익"
    finally:
        gui.window.set_language("en")


def _horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def test_another_exports_columns_are_confirmed_in_a_dialog_then_read(gui, qtbot, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "체결시간,마켓,종류,거래수량,거래단가,수수료,수수료통화\n"
        "2027-02-01T10:00:00+09:00,BTC/KRW,매수,1,50000000,25000,KRW\n"
        "2027-03-01T10:00:00+09:00,BTC/KRW,매도,1,60000000,30000,KRW\n",
        encoding="utf-8",
    )
    panel = gui.window.tax
    panel.set_file("imports", export)
    dlg = panel.mapping_dialog
    assert dlg is not None and dlg.isVisible() and export not in panel.imports  # nothing until confirmed
    assert dlg.mapping() == {
        "time": "체결시간",
        "symbol": "마켓",
        "side": "종류",
        "quantity": "거래수량",
        "price": "거래단가",
        "fee": "수수료",
        "fee_currency": "수수료통화",
    }
    gui.market("60050")  # the market goes on while the dialog is open
    assert gui.session.orders.last_price("sim", "BTC/USDT") == D("60050")
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    assert export in panel.imports and panel.columns[export]["time"] == "체결시간"
    panel.year.setValue(2027)
    panel.method.setCurrentIndex(panel.method.findData(Method.KR.value))
    panel.currency.setCurrentIndex(panel.currency.findData("KRW"))
    panel.run_btn.click()
    qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
    # 60,000,000 − 30,000 − 50,025,000 = 9,945,000; (9,945,000 − 2,500,000) × 20 % = 1,489,000
    assert panel.report.net == D("9945000") and panel.report.tax == D("1489000")
