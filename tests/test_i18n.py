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
    template = catalog(ROOT / "translations" / "messages.pot")
    ko = catalog(ROOT / "translations" / "ko" / "LC_MESSAGES" / "messages.po")
    missing, broken = [], []
    for msg in template:
        if not msg.id:
            continue
        tr = ko.get(msg.id)
        if tr is None or not tr.string:
            missing.append(msg.id)
        elif set(PLACEHOLDER.findall(msg.id)) != set(PLACEHOLDER.findall(tr.string)):
            broken.append(msg.id)
    assert missing == [] and broken == []


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
