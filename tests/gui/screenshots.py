"""Start the real app on the demo market and save screenshots a person can look at:
the main window, the ticket showing a validation error, the portfolio, and Korean.

    python tests/gui/screenshots.py OUT_DIR          (offscreen, or under Xvfb with QT_QPA_PLATFORM=xcb)
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

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.cli import build_demo_session, setup_logging  # noqa: E402
from app.domain.enums import OrderType, Side  # noqa: E402
from app.domain.order import OrderRequest  # noqa: E402
from app.domain.order_list import OcoRequest  # noqa: E402
from app.ui import app as ui_app  # noqa: E402


async def drive(out: Path) -> None:
    app = QApplication.instance()
    while not [w for w in app.topLevelWidgets() if w.objectName() == "MainWindow" and w.isVisible()]:
        await asyncio.sleep(0.1)
    win = next(w for w in app.topLevelWidgets() if w.objectName() == "MainWindow")
    ctx = win.ctx
    await asyncio.sleep(3)
    om, v = ctx.orders, ctx.venue
    last = ctx.last_price()
    inst = ctx.instrument()
    await om.submit(OrderRequest(v, "BTC/USDT", Side.BUY, OrderType.MARKET, Decimal("0.05")))
    await om.submit(OrderRequest(v, "BTC/USDT", Side.BUY, OrderType.LIMIT, Decimal("0.02"),
                                 price=inst.round_price(last * Decimal("0.9985"))))
    await om.submit_oco(OcoRequest(v, "BTC/USDT", Side.SELL, Decimal("0.03"), inst.round_price(last * Decimal("1.002")),
                                   inst.round_price(last * Decimal("0.997"))))
    for name in ("sma", "bollinger", "rsi"):
        win.chart_panel.buttons[name].setChecked(True)
    await asyncio.sleep(4)
    win.grab().save(str(out / "main_window.png"))
    # The ticket with a validation error: an amount below the exchange's minimum.
    win.ticket.set_kind("limit")
    win.ticket.price.setText(str(inst.round_price(last * Decimal("0.99"))))
    win.ticket.amount.setText("0.000001")
    await asyncio.sleep(0.5)
    win.docks["ticket"].grab().save(str(out / "ticket_error.png"))
    win.docks["portfolio"].raise_()
    await asyncio.sleep(1.5)
    win.grab().save(str(out / "portfolio.png"))
    win.docks["risk"].raise_()
    await asyncio.sleep(1.2)
    win.grab().save(str(out / "risk.png"))
    win.docks["orders"].raise_()
    win.set_language("ko")
    win.lang_combo.setCurrentIndex(win.lang_combo.findData("ko"))
    await asyncio.sleep(1.0)
    win.grab().save(str(out / "korean.png"))
    win.set_language("en")
    win.close()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="ag-shots-"))
    log_path = setup_logging(data)
    original = ui_app.run_window

    async def run_and_drive(*args, **kwargs):
        task = asyncio.ensure_future(drive(out))
        rc = await original(*args, **kwargs)
        await task
        return rc

    ui_app.run_window = run_and_drive
    rc = ui_app.run(lambda: build_demo_session(data, speed=20.0), mode="demo", data_dir=data, log_path=log_path)
    print(f"screenshots in {out}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
