"""The headless demo, run as a user would: it trades every order type and survives a restart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_demo(data_dir: Path, *extra: str) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "demo",
            "--headless",
            "--speed",
            "60",
            "--duration",
            "6",
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    return out.stdout


def test_headless_demo_places_every_order_type_and_reconciles_after_restart(tmp_path):
    first = run_demo(tmp_path)
    for kind in (
        "market",
        "limit",
        "stop_market",
        "stop_limit",
        "take_profit_market",
        "take_profit_limit",
        "trailing_stop",
    ):
        assert f" {kind}" in first, kind
    assert "FILL " in first and "TICK " in first
    assert "LIST  OCO" in first and "LIST  BRACKET" in first
    assert "REFUSED: Order value" in first and "below the minimum 5 USDT" in first
    assert "— Summary —" in first
    second = run_demo(tmp_path, "--no-orders")
    assert "Reconciled demo" in second
    assert (tmp_path / "autogrowth.sqlite3").exists() and (tmp_path / "paper-demo.journal").exists()
