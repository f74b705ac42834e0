"""Start the real app on the demo market and save screenshots a person can look at.

    python tests/gui/screenshots.py OUT_DIR             every scene, grabbed offscreen
    python tests/gui/screenshots.py --show SCENE        drive the window to SCENE and stay there
                                                        (for ../shared/tools/screenshot under Xvfb)

Scenes: the window at 1280×720 in the dark and light themes and in Korean, the ticket with a
validation error and in OCO and bracket mode, the portfolio and risk tabs, a confirmation
dialog open over the live chart, and the HALTED banner after the kill switch.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, QRect  # noqa: E402
from PySide6.QtGui import QColor, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from app.cli import build_demo_session, setup_logging  # noqa: E402
from app.domain.enums import OrderType, Side  # noqa: E402
from app.domain.order import OrderRequest  # noqa: E402
from app.domain.order_list import OcoRequest  # noqa: E402
from app.ui import app as ui_app  # noqa: E402
from app.ui import theme  # noqa: E402

SIZE = (1280, 720)
SCENES = [
    "main_dark",
    "ticket_error",
    "ticket_oco",
    "ticket_bracket",
    "portfolio",
    "risk",
    "signals",
    "backtest",
    "tax",
    "settings",
    "confirm",
    "halted",
    "main_light",
    "korean",
]


class Shots:
    def __init__(self, out: Path | None, show: str | None) -> None:
        self.out, self.show = out, show

    def save(self, name: str, pixmap) -> None:
        if self.out is not None:
            pixmap.save(str(self.out / f"{name}.png"))


def _with_dialogs(win):
    """The window with the questions open over it painted in (offscreen has no screen to capture)."""
    shot = win.grab()
    painter = QPainter(shot)
    for box in QApplication.topLevelWidgets():
        if isinstance(box, QMessageBox) and box.isVisible():
            img = box.grab()
            at = QPoint((shot.width() - img.width()) // 2, (shot.height() - img.height()) // 3)
            frame = QRect(at, img.size()).adjusted(-1, -1, 1, 1)
            painter.fillRect(frame, QColor(theme.colors().border))
            painter.fillRect(QRect(at, img.size()), QColor(theme.colors().window))
            painter.drawPixmap(at, img)
    painter.end()
    return shot


async def drive(shots: Shots) -> None:
    app = QApplication.instance()
    while not [w for w in app.topLevelWidgets() if w.objectName() == "MainWindow" and w.isVisible()]:
        await asyncio.sleep(0.1)
    win = next(w for w in app.topLevelWidgets() if w.objectName() == "MainWindow")
    win.resize(*SIZE)
    win.default_layout()
    ctx = win.ctx
    while ctx.last_price() is None:
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    om, v = ctx.orders, ctx.venue
    last = ctx.last_price()
    inst = ctx.instrument()

    def px(f: str) -> Decimal:
        return inst.round_price(last * Decimal(f))

    await om.submit(OrderRequest(v, "BTC/USDT", Side.BUY, OrderType.MARKET, Decimal("0.05")))
    limit = await om.submit(OrderRequest(v, "BTC/USDT", Side.BUY, OrderType.LIMIT, Decimal("0.02"), price=px("0.9985")))
    await om.submit(
        OrderRequest(
            v, "BTC/USDT", Side.BUY, OrderType.STOP_LIMIT, Decimal("0.01"), price=px("1.0025"), stop_price=px("1.002")
        )
    )
    await om.submit_oco(OcoRequest(v, "BTC/USDT", Side.SELL, Decimal("0.03"), px("1.003"), px("0.996")))
    for name in ("sma", "bollinger", "rsi"):
        win.chart_panel.buttons[name].setChecked(True)
    await asyncio.sleep(3)

    async def scene(name: str) -> bool:
        """True when this scene is the one to hold on screen (``--show``)."""
        await asyncio.sleep(0.8)
        return shots.show == name

    # 1280×720, dark
    if await scene("main_dark"):
        return
    shots.save("main_dark", win.grab())
    # The ticket: a validation error, then OCO and bracket mode.
    t = win.ticket
    t.set_kind("limit")
    t.price.setText(str(px("0.99")))
    t.amount.setText("0.000001")
    if await scene("ticket_error"):
        return
    shots.save("ticket_error", win.docks["ticket"].grab())
    t.set_side(Side.SELL)
    t.set_kind("oco")
    t.price.setText(str(px("1.004")))
    t.trigger.setText(str(px("0.995")))
    t.amount.setText("0.02")
    if await scene("ticket_oco"):
        return
    shots.save("ticket_oco", win.docks["ticket"].grab())
    shots.save("main_oco", win.grab())
    t.set_side(Side.BUY)
    t.set_kind("bracket")
    t.entry_kind.setCurrentIndex(t.entry_kind.findData("limit"))
    t.price.setText(str(px("0.999")))
    t.take_profit.setText(str(px("1.004")))
    t.trigger.setText(str(px("0.995")))
    t.amount.setText("0.02")
    if await scene("ticket_bracket"):
        return
    shots.save("ticket_bracket", win.docks["ticket"].grab())
    win.docks["portfolio"].raise_()
    if await scene("portfolio"):
        return
    shots.save("portfolio", win.grab())
    win.docks["risk"].raise_()
    if await scene("risk"):
        return
    shots.save("risk", win.grab())
    for name in ("signals", "backtest", "tax"):  # the panels of the signals, backtest and tax issues
        win.docks[name].raise_()
        await asyncio.sleep(0.5)
        if await scene(name):
            return
        shots.save(name, win.grab())
    settings = win.open_settings()  # API keys: masked ids only, each entered through the checking dialog
    if await scene("settings"):
        return
    shots.save("settings", settings.grab())
    settings.reject()
    win.docks["orders"].raise_()
    # A confirmation over the live chart: the order line dragged lower, waiting for the answer.
    line = win.chart.order_line(limit.client_order_id) if limit is not None else None
    if line is not None:  # as a drag ends: the line stays where it was dropped while the question is open
        line.setValue(float(px("0.997")))
        win.chart.orders._released(line)
    await asyncio.sleep(2.0)  # the market moves on behind the question
    if await scene("confirm"):
        return
    shots.save("confirm", _with_dialogs(win))
    for box in [w for w in app.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]:
        box.reject()
    # The kill switch: HALTED over the chart, in the ticket and in the status bar.
    await om.kill_switch()
    t.set_kind("limit")
    t.set_side(Side.BUY)
    t.price.setText(str(px("0.999")))
    t.amount.setText("0.01")
    if await scene("halted"):
        return
    shots.save("halted", win.grab())
    om.rearm()
    win.apply_theme("light")
    if await scene("main_light"):
        return
    shots.save("main_light", win.grab())
    win.apply_theme("dark")
    win.lang_combo.setCurrentIndex(win.lang_combo.findData("ko"))
    if await scene("korean"):
        return
    shots.save("korean", win.grab())
    win.lang_combo.setCurrentIndex(win.lang_combo.findData("en"))
    win.close()


def main(argv: list[str]) -> int:
    show = None
    if argv[:1] == ["--show"]:
        show = argv[1] if len(argv) > 1 else "main_dark"
        if show not in SCENES:
            print(f"unknown scene {show!r}; scenes: {', '.join(SCENES)}", file=sys.stderr)
            return 2
        out = None
    else:
        out = Path(argv[0] if argv else "screenshots")
        out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="ag-shots-"))
    os.environ["AUTOGROWTH_DATA_DIR"] = str(data)
    log_path = setup_logging(data)
    original = ui_app.run_window
    shots = Shots(out, show)

    async def run_and_drive(*args, **kwargs):
        task = asyncio.ensure_future(drive(shots))
        rc = await original(*args, **kwargs)
        await task
        return rc

    ui_app.run_window = run_and_drive
    rc = ui_app.run(lambda: build_demo_session(data, speed=5.0), mode="demo", data_dir=data, log_path=log_path)
    if out is not None:
        print(f"screenshots in {out}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
