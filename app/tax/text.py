"""Words and numbers of a report in a chosen language, without switching the app's language:
the report is written in English and Korean whatever the window shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from app.i18n import N_, TRANSLATIONS

from .books import Method
from .model import EventKind, LineStatus, Note
from .rules import TaxRules

Translate = Callable[[str], str]
PLACES = {"KRW": 0, "USD": 2, "EUR": 2}

METHOD_NAMES = {
    Method.KR: N_("Korea: total average per person"),
    Method.FIFO: N_("FIFO (first in, first out)"),
    Method.AVERAGE: N_("Average cost (moving average)"),
}
STATUS_NAMES = {
    LineStatus.OK: N_("computed"),
    LineStatus.FALLBACK: N_("50 % rule (cost unknown)"),
    LineStatus.COST_UNKNOWN: N_("cost unknown: left out"),
    LineStatus.NO_PRICE: N_("no price: left out"),
}
KIND_NAMES = {
    EventKind.TRANSFER_IN: N_("own transfer in (not a disposal)"),
    EventKind.TRANSFER_OUT: N_("own transfer out (not a disposal)"),
    EventKind.AIRDROP: N_("airdrop: treatment unsettled"),
    EventKind.STAKING: N_("staking: treatment unsettled"),
    EventKind.MINING: N_("mining: treatment unsettled"),
    EventKind.LENDING: N_("lending income"),
    EventKind.BUY: N_("buy"),
    EventKind.SELL: N_("sell"),
}


@cache
def _catalog(lang: str) -> dict[str, str]:
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return {}
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


def translator(lang: str) -> Translate:
    """``_`` for ``lang`` (English: the text as written)."""
    if lang == "en":
        return lambda s: s
    table = _catalog(lang)
    return lambda s: table.get(s) or s


class Words:
    """Formatting in one language: text, money in the home currency, quantities, times."""

    def __init__(self, lang: str, currency: str, rules: TaxRules) -> None:
        self.lang = lang
        self.tr = translator(lang)
        self.currency = currency
        self.rules = rules
        self.locale = Locale.parse({"en": "en_US", "ko": "ko_KR"}.get(lang, "en_US"))

    def note(self, n: Note) -> str:
        try:
            return self.tr(n.template).format(**n.params)
        except (KeyError, IndexError, ValueError):
            return n.template.format(**n.params)

    def money(self, v: Decimal) -> str:
        places = PLACES.get(self.currency, 2)
        q = v.quantize(Decimal(1).scaleb(-places))
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(q, format=pattern, locale=self.locale, decimal_quantization=False)

    def qty(self, v: Decimal) -> str:
        text = format(v.normalize(), "f") if v else "0"
        return format_decimal(
            Decimal(text), format="#,##0.##################", locale=self.locale, decimal_quantization=False
        )

    def time(self, ts_ms: int) -> str:
        return datetime.fromtimestamp(ts_ms / 1000, tz=self.rules.tz).strftime("%Y-%m-%d %H:%M:%S")

    def method(self, m: Method) -> str:
        return self.tr(METHOD_NAMES[m])

    def status(self, s: LineStatus) -> str:
        return self.tr(STATUS_NAMES[s])

    def kind(self, k: EventKind) -> str:
        return self.tr(KIND_NAMES[k])
