"""Translation and locale-aware formatting: gettext catalogs (via babel), switchable at run time.
Every user-visible string goes through ``_()``.

The ``.po`` files in the top-level ``translations/`` are the source: a checkout compiles them on
first use (next to the ``.po``). An installed wheel or a frozen build has no ``translations/``: it
reads the ``.mo`` files compiled at build time into the package (``app/locale/``)."""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _babel_decimal

from app import assets

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = {"en": "English", "ko": "한국어"}
DOMAIN = "messages"

_current = "en"
_catalog: gettext.NullTranslations = gettext.NullTranslations()
_listeners: list[Callable[[str], None]] = []


def _(message: str) -> str:
    return _catalog.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translated where shown)."""
    return message


def _packaged_mo(lang: str) -> bytes | None:
    mo = assets.packaged("locale", lang, "LC_MESSAGES", f"{DOMAIN}.mo")
    return mo.read_bytes() if mo.is_file() else None


def has_catalog(lang: str) -> bool:
    """A catalog for ``lang`` ships with this copy of the app (source ``.po`` or compiled ``.mo``)."""
    return (TRANSLATIONS / lang / "LC_MESSAGES" / f"{DOMAIN}.po").exists() or _packaged_mo(lang) is not None


def _load(lang: str) -> gettext.NullTranslations:
    po = TRANSLATIONS / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        packaged = _packaged_mo(lang)
        return gettext.GNUTranslations(io.BytesIO(packaged)) if packaged else gettext.NullTranslations()
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        try:
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            with mo.open("wb") as out:
                write_mo(out, catalog)
        except OSError:  # read-only checkout: compile in memory
            buf = io.BytesIO()
            with po.open("rb") as fh:
                write_mo(buf, read_po(fh, locale=lang))
            buf.seek(0)
            return gettext.GNUTranslations(buf)
    with mo.open("rb") as fh:
        return gettext.GNUTranslations(fh)


def load(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (English: none), without switching to it."""
    return _load(lang) if lang != "en" else gettext.NullTranslations()


def set_language(lang: str) -> None:
    """Switch the language now; listeners (open windows) re-translate themselves."""
    global _current, _catalog
    if lang not in LANGUAGES:
        lang = "en"
    _catalog = load(lang)
    _current = lang
    for fn in list(_listeners):
        fn(lang)


def language() -> str:
    return _current


def on_language_changed(fn: Callable[[str], None]) -> Callable[[], None]:
    _listeners.append(fn)
    return lambda: _listeners.remove(fn) if fn in _listeners else None


def locale() -> Locale:
    return Locale.parse({"en": "en_US", "ko": "ko_KR"}.get(_current, "en_US"))


def fmt_decimal(value: Decimal, places: int | None = None) -> str:
    """A number as the user's locale writes it, exactly (no float on the way)."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
        pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
        return _babel_decimal(value, format=pattern, locale=locale(), decimal_quantization=False)
    return _babel_decimal(value, locale=locale(), decimal_quantization=False)


def fmt_datetime(ts_ms: int, fmt: str = "medium") -> str:
    return format_datetime(datetime.fromtimestamp(ts_ms / 1000), format=fmt, locale=locale())
