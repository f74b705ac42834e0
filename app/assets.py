"""Files the app ships beside its code, found through ``importlib.resources``.

An installed wheel or a PyInstaller build carries them inside the ``app`` package
(``app/resources/``, ``app/locale/``; put there at build time by ``packaging/bundle_data.py``); a
source checkout reads the top-level ``resources/`` folder instead.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def packaged(*parts: str) -> Traversable:
    """``parts`` inside the installed ``app`` package (may not exist in a checkout)."""
    node = resources.files("app")
    for part in parts:
        node = node / part
    return node


def resource(*parts: str) -> Traversable | None:
    """A shipped asset (``resource("icons", "autogrowth.svg")``): the packaged copy, else the
    checkout's ``resources/``; None when neither has it."""
    inside = packaged("resources", *parts)
    if inside.is_file():
        return inside
    source = CHECKOUT.joinpath("resources", *parts)
    return source if source.is_file() else None


def icon_files() -> list[Traversable]:
    """The app icon's PNG sizes that are shipped, smallest first."""
    found = (resource("icons", f"autogrowth-{n}.png") for n in ICON_SIZES)
    return [f for f in found if f is not None]
