"""Translations: Korean covers every string, keeps every placeholder, and numbers stay exact."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from babel.messages.pofile import read_po

from app import i18n

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalog(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def test_korean_translates_every_extracted_string_with_the_same_placeholders():
    """The .po is the source of the Korean text: nothing untranslated, nothing fuzzy, the same
    placeholders as the English."""
    template = catalog(ROOT / "translations" / "messages.pot")
    ko = catalog(ROOT / "translations" / "ko" / "LC_MESSAGES" / "messages.po")
    missing, fuzzy, broken = [], [], []
    for msg in template:
        if not msg.id:
            continue
        tr = ko.get(msg.id)
        if tr is None or not tr.string:
            missing.append(msg.id)
        elif tr.fuzzy:
            fuzzy.append(msg.id)
        elif set(PLACEHOLDER.findall(msg.id)) != set(PLACEHOLDER.findall(tr.string)):
            broken.append(msg.id)
    assert not ko.fuzzy, "the catalog header is marked fuzzy: pybabel compile would skip it"
    assert missing == [] and fuzzy == [] and broken == []


def test_the_template_holds_every_string_of_the_app():
    """Strings marked in the code are in messages.pot (run ``nox -s translations`` after changing texts)."""
    import io

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po as read

    keywords = {"_": None, "N_": None, "Problem": (3,), "Denial": (2,)}
    found = {
        msgid if isinstance(msgid, str) else msgid[0]
        for _f, _l, msgid, _c, _x in extract_from_dir(str(ROOT / "app"), keywords=keywords)
    }
    template = {m.id for m in read(io.BytesIO((ROOT / "translations" / "messages.pot").read_bytes())) if m.id}
    assert sorted(found - template) == []


def test_switching_language_at_run_time_tells_listeners():
    seen: list[str] = []
    stop = i18n.on_language_changed(seen.append)
    try:
        i18n.set_language("ko")
        assert i18n._("Buy") == "매수"
        i18n.set_language("en")
        assert i18n._("Buy") == "Buy"
    finally:
        stop()
    assert seen == ["ko", "en"]


def test_numbers_are_formatted_exactly_without_float():
    assert i18n.fmt_decimal(Decimal("1234567.12345678")) == "1,234,567.12345678"
    assert i18n.fmt_decimal(Decimal("0.1") + Decimal("0.2"), 2) == "0.30"
