"""Drives the desktop app's own entry loop (``run_windows``) in a process of its own, as a user
would: the demo window opens, the user switches to paper trading on an exchange, the app closes
that window and opens the exchange's; the user closes it and the app ends. Prints one JSON line:
the venue each window showed, in order. Usage: ``switch_driver.py DATA_DIR BASE_URL``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.cli import setup_logging  # noqa: E402
from app.engine.venue_setup import PAPER, VenueChoice  # noqa: E402
from app.ui.app import make_application  # noqa: E402
from app.window_session import run_windows  # noqa: E402


def main(data_dir: Path, base_url: str) -> int:
    app = make_application()
    seen: list[dict[str, str]] = []
    handled: set[int] = set()

    def poll() -> None:
        for w in QApplication.topLevelWidgets():
            if w.objectName() != "MainWindow" or not w.isVisible() or id(w) in handled:
                continue
            ctx = w.ctx  # type: ignore[attr-defined]
            if ctx.last_price() is None:
                continue  # not trading yet
            handled.add(id(w))
            seen.append({"venue": ctx.venue, "mode": ctx.mode, "price": str(ctx.last_price())})
            if len(seen) == 1:
                w.venue_tools.switch_to(VenueChoice("binance", PAPER, base_url=base_url))  # type: ignore[attr-defined]
            else:
                w.close()

    timer = QTimer(app)
    timer.timeout.connect(poll)
    timer.start(100)
    rc = run_windows([], data_dir, setup_logging(data_dir))
    print(json.dumps({"rc": rc, "windows": seen}), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
