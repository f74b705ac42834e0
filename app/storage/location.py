"""Where the database lives by default: a file in the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "AutoGrowthTrader"
DATA_DIR_ENV = "AUTOGROWTH_DATA_DIR"
DATABASE_FILE = "autogrowth.sqlite3"


def default_data_dir() -> Path:
    """The user's data folder (``AUTOGROWTH_DATA_DIR`` overrides it), created if missing.

    ``appauthor=False``: on Windows one folder, ``%LOCALAPPDATA%\\AutoGrowthTrader``, not the
    name twice."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    path = Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """``sqlite:///`` URL of the database file in ``default_data_dir()``."""
    return sqlite_url(default_data_dir() / DATABASE_FILE)


def sqlite_url(path: Path) -> str:
    # Forward slashes: "sqlite:///C:/Users/..." is what SQLAlchemy expects on Windows too.
    return f"sqlite:///{path.resolve().as_posix()}"
