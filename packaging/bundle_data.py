"""The data files an installed or frozen app carries beside its code, put in place at build time.

Used by ``setup.py`` (the wheel) and ``packaging/autogrowth.spec`` (PyInstaller), so both ship the
same files at the same places inside the ``app`` package:

- ``app/locale/<lang>/LC_MESSAGES/messages.mo``: each ``translations/<lang>/LC_MESSAGES/messages.po``
  compiled (a source checkout compiles them on first use instead; see ``app/i18n.py``);
- ``app/resources/...``: the assets of the top-level ``resources/`` folder (the icons).

Shipped models (``models_onnx/``) and the migrations (``app/storage/migrations``) are package data
already (``pyproject.toml``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
RESOURCES = ROOT / "resources"
DOMAIN = "messages"


def compile_catalogs(dest: Path, source: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under ``source`` into ``dest`` (same layout).
    A fuzzy header or an unreadable catalog fails the build rather than shipping English."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parents[1].name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        if catalog.fuzzy:
            raise SystemExit(f"{po}: the catalog header is marked fuzzy")
        mo = dest / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as out:
            write_mo(out, catalog)
        written.append(mo)
    if not written:
        raise SystemExit(f"no catalogs found under {source}")
    return written


def copy_resources(dest: Path, source: Path = RESOURCES) -> list[Path]:
    """Copy the asset folder (icons) to ``dest``; nothing but files that exist in the checkout."""
    written = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        written.append(target)
    return written


def stage(package_dir: Path) -> list[Path]:
    """Put the compiled catalogs and the resources inside ``package_dir`` (the built ``app``)."""
    return compile_catalogs(package_dir / "locale") + copy_resources(package_dir / "resources")
