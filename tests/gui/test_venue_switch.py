"""Switching venue in the running app: the app's own entry loop closes the demo window and opens
one on the exchange (paper trading on its live data, here the loopback Binance), remembers the
choice for the next start, and ends when that window is closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from loopback.testing import binance_thread

from app.engine.venue_setup import CHOICE_SETTING
from app.storage import Store

DRIVER = Path(__file__).with_name("switch_driver.py")


def test_switching_from_the_demo_to_paper_on_an_exchange_opens_its_window(tmp_path):
    with binance_thread() as lb:
        lb.call(lb.server.reset)
        lb.call(lb.server.book_around, "BTC/USDT", "61000", spread="1", levels=10, qty="1")
        lb.call(lb.server.trade, "BTC/USDT", "61000", "0.1")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AUTOGROWTH_DATA_DIR=str(tmp_path))
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(tmp_path), lb.server.base_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        end = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < end:  # the exchange's market goes on
            lb.call(lb.server.trade, "BTC/USDT", "61000", "0.1")
            time.sleep(0.3)
        if proc.poll() is None:
            proc.kill()
        stdout, stderr = proc.communicate(timeout=30)
    log = (tmp_path / "autogrowth.log").read_text() if (tmp_path / "autogrowth.log").exists() else ""
    assert proc.returncode == 0, (stdout[-2000:], stderr[-2000:], log[-3000:])
    result = json.loads(stdout.strip().splitlines()[-1])
    windows = result["windows"]
    assert [(w["venue"], w["mode"]) for w in windows] == [("demo", "demo"), ("paper-binance", "paper")], windows
    assert windows[1]["price"].startswith("61000")  # the exchange's market, not the demo's
    assert "switching to paper-binance (paper)" in log and "Traceback" not in log
    with Store.open(f"sqlite:///{tmp_path / 'autogrowth.sqlite3'}") as store:  # the next start opens it again
        assert store.get_setting(CHOICE_SETTING)["exchange"] == "binance"
        assert store.get_setting(CHOICE_SETTING)["mode"] == "paper"
