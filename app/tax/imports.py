"""Reading the plain files a report can be made from: trades in the app's generic CSV, an FX
table and opening prices. A file is read whole or not at all: every bad row is reported (file,
line, what is wrong) and nothing of that file is used.

Trades (``--import``), one row per trade or movement, a header row naming the columns::

    time,venue,symbol,side,quantity,price,fee,fee_currency
    2027-03-02T10:15:00+09:00,upbit,BTC/KRW,buy,0.01,95000000,475,KRW

``time`` ISO-8601 with a zone (``Z`` or ``+09:00``); ``symbol`` BASE/QUOTE (the asset alone for
movements); ``side`` buy, sell, transfer_in, transfer_out (own wallets: not disposals), airdrop,
staking or mining (listed as treatment unsettled), or lending (interest or rewards received for
coins lent: ``quantity`` of the coin received, ``symbol`` the coin alone with ``price`` empty to
value it at the market price then, or BASE/QUOTE with ``price`` its value per unit in the quote;
no fee); ``price`` in the quote currency (empty for movements); ``fee`` in ``fee_currency`` (0 or
empty: no fee). An optional ``id`` column names rows.

    2027-04-01T09:00:00+09:00,upbit,ETH/KRW,lending,0.01,5000000,,

FX rates (``--fx``)::

    date,base,quote,rate,source
    2027-03-02,USD,KRW,1452.3,Bank of Korea ECOS base rate

one ``base`` in ``quote`` on that day (the latest rate up to a week before a trade is used).

Opening prices (``--opening-prices``): each coin's market price at 2027-01-01 00:00 KST, and
optionally coins held then that no fill or stored cost records (``quantity``, and ``cost``, their
actual cost in ``currency`` if known: the higher of it and the price stands)::

    asset,price,currency,source,quantity,cost
    BTC,130000000,KRW,Upbit 1m candle open,0.5,40000000
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from app.domain.money import to_decimal
from app.i18n import N_

from .model import EventKind, OpeningCost, TaxEvent
from .rules import FIAT, KR_2027
from .valuation import FxRate, MarketPrice

TRADE_COLUMNS = ("time", "venue", "symbol", "side", "quantity", "price", "fee", "fee_currency")
REQUIRED_TRADE_COLUMNS = ("time", "symbol", "side", "quantity", "price")  # the rest may be left out
# Names exports often give our columns (a first guess the user confirms or corrects).
COLUMN_GUESSES = {
    "time": ("time", "date", "date(utc)", "datetime", "timestamp", "체결시간", "거래시간", "체결일시", "거래일시"),
    "venue": ("venue", "exchange", "거래소"),
    "symbol": ("symbol", "pair", "market", "마켓", "코인", "종목"),
    "side": ("side", "type", "종류", "구분", "거래구분", "매매구분"),
    "quantity": ("quantity", "qty", "amount", "executed", "volume", "수량", "거래수량", "체결수량"),
    "price": ("price", "단가", "거래단가", "체결가격", "체결가"),
    "fee": ("fee", "commission", "수수료"),
    "fee_currency": ("fee_currency", "fee currency", "fee asset", "fee coin", "수수료통화", "수수료 통화"),
}
FX_COLUMNS = ("date", "base", "quote", "rate", "source")
OPENING_COLUMNS = ("asset", "price", "currency", "source")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowError:
    file: str
    line: int  # 1 = the header
    template: str
    params: dict[str, str] = field(default_factory=dict)


class ImportFailed(Exception):
    """A file with bad rows (or none readable): nothing of it was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.file}:{e.line}: {e.template.format(**e.params)}" for e in errors[:5]))


class _RowProblem(ValueError):
    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(template)


def _number(row: dict[str, str], col: str, *, positive: bool = False, blank_zero: bool = False) -> Decimal:
    raw = (row.get(col) or "").strip()
    if not raw and blank_zero:
        return Decimal(0)
    try:
        value = to_decimal(raw)
    except (ValueError, TypeError):
        raise _RowProblem(
            N_("{column} is not a number: '{value}' (write 1234.5, no thousands separators)"), column=col, value=raw
        ) from None
    if value < 0 or (positive and value == 0):
        raise _RowProblem(N_("{column} must be above zero: '{value}'"), column=col, value=raw)
    return value


def _time(raw: str) -> int:
    try:
        t = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _RowProblem(N_("time is not ISO-8601: '{value}' (e.g. 2027-03-02T10:15:00+09:00)"), value=raw) from None
    if t.tzinfo is None:
        raise _RowProblem(N_("time has no zone: '{value}' (add +09:00 or Z)"), value=raw)
    return int(t.timestamp() * 1000)


def _read(
    data: bytes | str,
    name: str,
    columns: Iterable[str],
    parse: Callable[[dict[str, str], int], T],
    mapping: dict[str, str] | None = None,
) -> list[T]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    own = {v.strip().lower(): k for k, v in (mapping or {}).items()}  # the file's name -> ours
    header = [own.get(h.strip().lower(), h.strip().lower()) for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ImportFailed([RowError(name, 1, N_("missing columns: {columns}"), {"columns": ", ".join(missing)})])
    reader.fieldnames = header
    out: list[T] = []
    errors: list[RowError] = []
    for n, row in enumerate(reader, start=2):
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue  # a blank line
        try:
            out.append(parse({k: (v or "") for k, v in row.items() if k is not None}, n))
        except _RowProblem as p:
            errors.append(RowError(name, n, p.template, p.params))
    if errors:
        raise ImportFailed(errors)
    if not out:
        raise ImportFailed([RowError(name, 1, N_("no rows"))])
    return out


SIDE_WORDS = {"매수": "buy", "매도": "sell", "bid": "buy", "ask": "sell"}  # as exports often write them


def read_trades(data: bytes | str, name: str, columns: dict[str, str] | None = None) -> list[TaxEvent]:
    """Trades and movements from the generic CSV (all rows or none); ``columns`` maps our column
    names to the file's (a mapping the user confirms, e.g. ``{"time": "Date(UTC)"}``)."""

    def parse(row: dict[str, str], n: int) -> TaxEvent:
        ts = _time(row["time"])
        side = row["side"].strip().lower()
        side = SIDE_WORDS.get(side, side)
        try:
            kind = EventKind(side)
        except ValueError:
            raise _RowProblem(
                N_("side must be buy, sell, transfer_in, transfer_out, airdrop, staking, mining or lending: '{value}'"),
                value=side,
            ) from None
        symbol = row["symbol"].strip().upper()
        venue = row.get("venue", "").strip().lower() or "import"
        qty = _number(row, "quantity", positive=True)
        fee = _number(row, "fee", blank_zero=True)
        fee_ccy = row.get("fee_currency", "").strip().upper()
        if fee and not fee_ccy:
            raise _RowProblem(N_("fee_currency is empty but the fee is {value}"), value=fee)
        if kind.is_income:
            return _lending(row, ts, venue, symbol, qty, fee, _source(row, name, n))
        if kind.is_trade:
            base, _, quote = symbol.partition("/")
            if not base or not quote:
                raise _RowProblem(N_("symbol must be BASE/QUOTE (e.g. BTC/KRW): '{value}'"), value=symbol)
            price = _number(row, "price", positive=True)
        else:
            if not symbol or "/" in symbol:
                raise _RowProblem(
                    N_("a {side} row names the asset alone in symbol (e.g. BTC): '{value}'"), side=side, value=symbol
                )
            price = Decimal(0)
        return TaxEvent(ts, venue, symbol, kind, qty, price, fee, fee_ccy or "", _source(row, name, n))

    return _read(data, name, REQUIRED_TRADE_COLUMNS, parse, columns)


def _source(row: dict[str, str], name: str, n: int) -> str:
    ref = row.get("id", "").strip()
    return f"{name}:{n}" + (f" ({ref})" if ref else "")


def _lending(
    row: dict[str, str], ts: int, venue: str, symbol: str, qty: Decimal, fee: Decimal, source: str
) -> TaxEvent:
    """A lending row: the coin received (alone, valued at the market price then) or BASE/QUOTE
    with ``price`` its value per unit in the quote."""
    asset, _, quote = symbol.partition("/")
    if not asset or asset in FIAT:
        raise _RowProblem(
            N_("a lending row names the coin received in symbol (e.g. ETH or ETH/KRW): '{value}'"), value=symbol
        )
    if fee:
        raise _RowProblem(N_("a lending row takes no fee: enter the quantity received after any fee"))
    if not row.get("price", "").strip():
        return TaxEvent(ts, venue, symbol, EventKind.LENDING, qty, Decimal(0), Decimal(0), "", source)
    if not quote:
        raise _RowProblem(
            N_("a lending row with a price names the price's currency in symbol (e.g. {asset}/KRW): '{value}'"),
            asset=asset,
            value=symbol,
        )
    price = _number(row, "price", positive=True)
    return TaxEvent(ts, venue, symbol, EventKind.LENDING, qty, price, Decimal(0), "", source)


def read_header(data: bytes | str) -> list[str]:
    """The column names of a CSV file (its first row)."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data.lstrip("\ufeff")
    first = next(csv.reader(io.StringIO(text)), [])
    return [h.strip() for h in first if h.strip()]


def guess_columns(header: list[str]) -> dict[str, str]:
    """Our column -> the file's, where a name matches one exports often use."""
    lower = {h.lower(): h for h in header}
    out: dict[str, str] = {}
    for ours, names in COLUMN_GUESSES.items():
        for n in names:
            if n in lower and lower[n] not in out.values():
                out[ours] = lower[n]
                break
    return out


def read_fx(data: bytes | str, name: str) -> list[FxRate]:
    def parse(row: dict[str, str], n: int) -> FxRate:
        try:
            day = date.fromisoformat(row["date"].strip())
        except ValueError:
            raise _RowProblem(N_("date is not YYYY-MM-DD: '{value}'"), value=row["date"]) from None
        base, quote = row["base"].strip().upper(), row["quote"].strip().upper()
        if not base or not quote or base == quote:
            raise _RowProblem(N_("base and quote must be two different currencies"))
        source = row["source"].strip() or f"{name}:{n}"
        return FxRate(day, base, quote, _number(row, "rate", positive=True), source)

    return _read(data, name, FX_COLUMNS, parse)


def read_opening_prices(data: bytes | str, name: str) -> tuple[dict[str, MarketPrice], list[OpeningCost]]:
    """Each coin's price at 2027-01-01 00:00 KST; where a row also gives ``quantity`` (and
    optionally ``cost``, the actual cost in ``currency``), coins held then that no fill records."""
    at = KR_2027.deemed_cost_ms

    def parse(row: dict[str, str], n: int) -> tuple[MarketPrice, OpeningCost | None]:
        asset = row["asset"].strip().upper()
        currency = row["currency"].strip().upper()
        if not asset or not currency:
            raise _RowProblem(N_("asset and currency are needed"))
        source = row["source"].strip() or f"{name}:{n}"
        price = MarketPrice(at, asset, currency, _number(row, "price", positive=True), f"{source}; {name}:{n}")
        if not row.get("quantity", "").strip():
            return price, None
        qty = _number(row, "quantity", positive=True)
        cost = _number(row, "cost", blank_zero=True)
        held = OpeningCost(at - 1, "", asset, qty, cost, currency, not row.get("cost", "").strip(), f"{name}:{n}")
        return price, held

    rows = _read(data, name, OPENING_COLUMNS, parse)
    return {p.asset: p for p, _h in rows}, [h for _p, h in rows if h is not None]


def read_file(path: Path, reader: Callable[[bytes, str], T]) -> T:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(
            [RowError(path.name, 0, N_("cannot read the file: {error}"), {"error": exc.strerror or str(exc)})]
        ) from None
    try:
        return reader(data, path.name)
    except UnicodeDecodeError:
        raise ImportFailed([RowError(path.name, 0, N_("the file is not UTF-8 text"))]) from None
