"""``--self-test``: does this copy of the app work? (an installed wheel, a frozen build, a checkout)

Runs without a display and without touching the user's data: Qt offscreen, everything in a
temporary folder. It builds a database through every migration, loads every shipped signal model
and runs one inference, loads every translation (the app's and Qt's own), then starts the demo
session behind the main window, renders the window once and closes it. One line per check, ``ok``
or ``FAIL``; the exit code is 0 only when every check passed.

``python -m app --self-test [--lang ko] [--report FILE]`` (the executable: ``AutoGrowthTrader
--self-test``). ``--lang`` picks the window's language; ``--report`` also writes the lines to a file
(a windowed Windows executable has no console to print to).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HANGUL = re.compile(r"[\uac00-\ud7a3]")
WINDOW_START_S = 120.0  # a slow machine, a cold disk: generous, the check only needs it to finish


class Report:
    def __init__(self, report_file: Path | None) -> None:
        self.lines: list[str] = []
        self.failed = 0
        self.report_file = report_file

    def say(self, line: str) -> None:
        self.lines.append(line)
        if sys.stdout is not None:  # a windowed executable on Windows has no stdout
            print(line, flush=True)
        if self.report_file is not None:
            self.report_file.write_text("\n".join(self.lines) + "\n", encoding="utf-8")

    def check(self, name: str, fn: Callable[[], str]) -> None:
        try:
            detail = fn()
        except Exception as exc:  # every failure is reported as a line, never as a traceback
            self.failed += 1
            self.say(f"FAIL {name}: {type(exc).__name__}: {exc}")
        else:
            self.say(f"ok   {name}: {detail}")


def check_migrations(tmp: Path) -> str:
    from app.storage import Store
    from app.storage.migrate import current_revision, head_revision

    store = Store.open(f"sqlite:///{(tmp / 'migrations.sqlite3').as_posix()}", fresh_from_models=False)
    try:
        got = current_revision(store.connection)
    finally:
        store.close()
    if got is None or got != head_revision():
        raise RuntimeError(f"the database is at {got}, the migrations' head is {head_revision()}")
    return f"a new database went through every migration to {got}"


def check_models() -> str:
    import numpy as np

    from app.signals.registry import find_models

    models = {name: e for name, e in find_models().items() if e.shipped}
    if not models:
        raise RuntimeError("no shipped model was found")
    done = []
    for name, entry in models.items():
        model = entry.load()
        p = model.predict_one(np.zeros(len(model.contract.features), dtype=np.float32))
        if not 0.0 <= p <= 1.0:
            raise RuntimeError(f"{name} returned {p}, not a probability")
        done.append(f"{name} p={p:.3f}")
    return f"{len(done)} loaded, one inference each ({', '.join(done)})"


def check_translations() -> str:
    from app import i18n

    done = []
    for lang in i18n.LANGUAGES:
        if lang == "en":
            continue
        if not i18n.has_catalog(lang):
            raise RuntimeError(f"no catalog for {lang}")
        catalog = i18n.load(lang)
        buy = catalog.gettext("Buy")
        if buy == "Buy":
            raise RuntimeError(f"the {lang} catalog does not translate 'Buy'")
        size = len(getattr(catalog, "_catalog", {}))
        done.append(f"{lang} ({size} strings, 'Buy' → '{buy}')")
    return ", ".join(done)


def check_qt_translations() -> str:
    """Qt's own texts (standard buttons, a line edit's menu) ship in every language of the app."""
    from app import i18n
    from app.ui import theme
    from app.ui.app import make_application

    app = make_application()
    done = []
    try:
        for lang in i18n.LANGUAGES:
            if lang != "en":
                if not theme.apply_qt_language(app, lang):
                    raise RuntimeError(f"Qt's translation for {lang} is missing")
                done.append(lang)
    finally:
        theme.apply_qt_language(app, "en")
    return f"Qt's own texts in {', '.join(done)}"


def _visible_texts(window: object) -> list[str]:
    from PySide6.QtWidgets import QAbstractButton, QDockWidget, QLabel, QTabBar, QWidget

    assert isinstance(window, QWidget)
    texts: list[str] = [window.windowTitle()]
    for w in window.findChildren(QWidget):
        if isinstance(w, QAbstractButton | QLabel):
            texts.append(w.text())
        elif isinstance(w, QDockWidget):
            texts.append(w.windowTitle())
        elif isinstance(w, QTabBar):
            texts += [w.tabText(i) for i in range(w.count())]
    return [t for t in texts if t.strip()]


async def _render(tmp: Path, lang: str) -> str:
    from app import i18n
    from app.cli import build_demo_session
    from app.ui.app import open_window, shutdown

    session = build_demo_session(tmp / "demo", speed=1.0)
    window, bridge = open_window(session, mode="demo", data_dir=tmp / "demo", language=lang)
    try:
        window.show()
        started = await asyncio.wait_for(window.start_session(), timeout=WINDOW_START_S)
        if not started:
            raise RuntimeError("the demo session did not start")
        await asyncio.sleep(0.5)  # the loop paints the window (never processEvents() inside a task)
        image = window.grab().toImage()
        if image.isNull() or image.width() < 100:
            raise RuntimeError("the window rendered nothing")
        texts = _visible_texts(window)
        want = i18n._("Buy")
        if want not in texts:
            raise RuntimeError(f"the window does not show {want!r}")
        if lang == "ko":
            korean = [t for t in texts if HANGUL.search(t)]
            if len(korean) < 5:
                raise RuntimeError(f"only {len(korean)} Korean texts on the window")
            sample = ", ".join(repr(t) for t in korean[:6])
            shown = f"{len(korean)} Korean texts, e.g. {sample}"
        else:
            shown = f"{len(texts)} texts"
        return f"{image.width()}×{image.height()} rendered in {lang}; shows {want!r}; {shown}"
    finally:
        window.close()
        await shutdown(session, bridge, timeout_s=10.0)
        i18n.set_language("en")


def check_window(tmp: Path, lang: str) -> str:
    import qasync

    from app.ui.app import make_application

    app = make_application()
    if app.windowIcon().isNull():
        raise RuntimeError("the app icon is missing")
    app.setQuitOnLastWindowClosed(False)
    return qasync.run(_render(tmp, lang))


def run(lang: str = "en", report_file: Path | None = None) -> int:
    t0 = time.perf_counter()
    report = Report(report_file)
    frozen = "frozen" if getattr(sys, "frozen", False) else "from source"
    import app

    where = Path(app.__file__).resolve().parent
    report.say(f"self-test: AutoGrowth Trader, Python {platform.python_version()} on {sys.platform}, {frozen}")
    report.say(f"     app: {where}")
    with tempfile.TemporaryDirectory(prefix="autogrowth-selftest-") as name:
        tmp = Path(name)
        os.environ["AUTOGROWTH_DATA_DIR"] = str(tmp)  # nothing may reach the user's own data folder
        report.check("database", lambda: check_migrations(tmp))
        report.check("models", check_models)
        report.check("translations", check_translations)
        report.check("qt translations", check_qt_translations)
        report.check("window", lambda: check_window(tmp, lang))
    verdict = "passed" if not report.failed else f"FAILED ({report.failed} checks)"
    report.say(f"self-test {verdict} in {time.perf_counter() - t0:.1f} s")
    return 0 if not report.failed else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="autogrowth --self-test", description="check that this copy works")
    parser.add_argument("--lang", default="en", help="the window's language: en or ko")
    parser.add_argument("--report", default=None, help="also write the result to this file")
    args = parser.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import logging

    # Warnings to the console, when there is one (a windowed Windows executable has none).
    handler = logging.StreamHandler(sys.stderr) if sys.stderr is not None else logging.NullHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    return run(args.lang, Path(args.report) if args.report else None)
