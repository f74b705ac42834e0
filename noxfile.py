"""One command per task: ``nox -s NAME`` (``nox -l`` lists them).

The sessions run in the environment nox itself runs in — the project's ``.venv`` after
``pip install -e ".[dev]"`` — so nothing is installed twice: ``.venv/bin/nox -s test``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "typecheck", "test"]

PY = sys.executable
BIN = Path(PY).parent
BABEL_KEYWORDS = ["-k", "_", "-k", "N_", "-k", "Problem:3", "-k", "Denial:2"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and the layer contracts of ARCHITECTURE.md."""
    session.run(PY, "-m", "ruff", "check", ".")
    session.run(PY, "-m", "ruff", "format", "--check", ".")
    session.run(str(BIN / "lint-imports"), "--no-cache")


@nox.session
def fmt(session: nox.Session) -> None:
    """Apply ruff's fixes and formatting."""
    session.run(PY, "-m", "ruff", "check", "--fix", ".")
    session.run(PY, "-m", "ruff", "format", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over the whole app (settings in pyproject.toml)."""
    session.run(PY, "-m", "mypy")


@nox.session
def test(session: nox.Session) -> None:
    """The whole suite (what CI runs); extra arguments go to pytest: ``nox -s test -- -k ticket``."""
    session.run(PY, "-m", "pytest", "-q", *session.posargs)


@nox.session
def crash(session: nox.Session) -> None:
    """The SIGKILL tests, longer than in the suite: ``CRASH_KILLS`` kills per workload (30 here)."""
    session.run(
        PY,
        "-m",
        "pytest",
        "-q",
        "-k",
        "crash",
        *session.posargs,
        env={"CRASH_KILLS": session.env.get("CRASH_KILLS", "30")},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark figure (``nox -s bench -- paper_orders_per_s`` for one)."""
    session.run(PY, "tests/perf/run.py", *session.posargs)


@nox.session
def screenshots(session: nox.Session) -> None:
    """The window's scenes as PNG files in shots/ (offscreen)."""
    session.run(PY, "tests/gui/screenshots.py", *(session.posargs or ["shots"]))


@nox.session
def translations(session: nox.Session) -> None:
    """Extract the strings, merge them into every language's .po (new ones untranslated, for Poedit
    or Weblate), and compile the .mo files."""
    session.run(
        PY,
        "-m",
        "babel.messages.frontend",
        "extract",
        "-F",
        "translations/babel.cfg",
        *BABEL_KEYWORDS,
        "-o",
        "translations/messages.pot",
        "--no-location",
        "--sort-output",
        "app",
    )
    session.run(
        PY,
        "-m",
        "babel.messages.frontend",
        "update",
        "-i",
        "translations/messages.pot",
        "-d",
        "translations",
        "--ignore-obsolete",
        "--no-fuzzy-matching",
        "-w",
        "120",
    )
    session.run(PY, "-m", "babel.messages.frontend", "compile", "-d", "translations", "--statistics")


@nox.session
def build(session: nox.Session) -> None:
    """A wheel and an sdist in dist/ (the portable executable and the installer: packaging/README.md)."""
    session.run(PY, "-m", "pip", "wheel", "--no-deps", "-w", "dist", ".")
