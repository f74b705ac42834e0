"""Where the database, settings and logs live by default: the user's data folder, or a folder
beside the executable in portable mode."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "AutoGrowthTrader"
DATA_DIR_ENV = "AUTOGROWTH_DATA_DIR"
DATABASE_FILE = "autogrowth.sqlite3"
# Portable mode: a file of this name (any content; "portable.txt" works too, as Windows users
# tend to create one) beside the built executable keeps everything in ``data`` beside it.
PORTABLE_MARKERS = ("portable", "portable.txt")
PORTABLE_DIR = "data"


def executable_dir() -> Path | None:
    """The folder of the built executable (a PyInstaller build), None when run from Python."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(sys.executable).resolve().parent


def portable_data_dir(exe_dir: Path | None) -> Path | None:
    """``exe_dir/data`` when a portable marker sits in ``exe_dir``, else None."""
    if exe_dir is None or not any((exe_dir / m).is_file() for m in PORTABLE_MARKERS):
        return None
    return exe_dir / PORTABLE_DIR


def default_data_dir() -> Path:
    """The data folder, created if missing: ``AUTOGROWTH_DATA_DIR`` if set, else the portable
    folder beside the executable if its marker is there, else the user's data folder.

    ``appauthor=False``: on Windows one folder, ``%LOCALAPPDATA%\\AutoGrowthTrader``, not the
    name twice."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        path = Path(env).expanduser()
    else:
        path = portable_data_dir(executable_dir()) or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """``sqlite:///`` URL of the database file in ``default_data_dir()``."""
    return sqlite_url(default_data_dir() / DATABASE_FILE)


def sqlite_url(path: Path) -> str:
    # Forward slashes: "sqlite:///C:/Users/..." is what SQLAlchemy expects on Windows too.
    return f"sqlite:///{path.resolve().as_posix()}"
