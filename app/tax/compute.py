"""A tax year's report from the whole history: every disposal with its proceeds, cost, fees and
gain in the home currency, each coin's pool, the year's net, the deduction and the tax.

Pure computation: the events, the FX table, market prices and opening prices come in as values.
Coins are pooled per person (every venue together); fiat money (KRW, USD, EUR…) is cash. A trade
against a coin (a stablecoin included) is a coin-for-coin trade: the coin given is disposed of at
the value of the trade (its quote coin's home value × the ratio), and the coin received costs
that value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal

from app.domain.money import ZERO
from app.i18n import N_

from .books import Book, Method, Taken
from .model import (
    Acquisition,
    Disposal,
    EventKind,
    Income,
    LineStatus,
    Listed,
    Note,
    OpeningCost,
    Pool,
    TaxEvent,
)
from .rules import FIAT, HOME_CURRENCIES, TaxRules, rules_for
from .valuation import FxTable, MarketPrice, PriceTable, Valuer

Progress = Callable[[int, int], None]


class TaxInputError(ValueError):
    """Settings a report cannot be made with (translated where shown)."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(template.format(**self.params))


@dataclass(frozen=True, slots=True)
class ReportSettings:
    year: int
    method: Method
    currency: str
    fallback_50: bool = False  # take 50 % of the proceeds as the cost where the cost is unknown


@dataclass(slots=True)
class TaxReport:
    settings: ReportSettings
    rules: TaxRules
    disposals: list[Disposal] = field(default_factory=list)
    acquisitions: list[Acquisition] = field(default_factory=list)
    pools: dict[str, Pool] = field(default_factory=dict)
    listed: list[Listed] = field(default_factory=list)
    income: list[Income] = field(default_factory=list)  # lending income received in the year
    notes: list[Note] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # where the events, rates and prices came from
    disposal_gain: Decimal = ZERO  # the disposals' gains and losses together
    income_total: Decimal = ZERO  # the lending income valued (in the net where the rules say so)
    net: Decimal = ZERO
    taxable: Decimal = ZERO
    tax: Decimal = ZERO
    local_tax: Decimal = ZERO

    @property
    def deduction(self) -> Decimal:
        return self.rules.deduction if self.taxes_apply else ZERO

    @property
    def taxes_apply(self) -> bool:
        return self.rules.country == "KR" and self.settings.year >= self.rules.first_year

    @property
    def total_tax(self) -> Decimal:
        return self.tax + self.local_tax

    @property
    def incomplete(self) -> list[Disposal]:
        """Disposals left out of the net (no cost and no fallback, or no price)."""
        return [d for d in self.disposals if d.gain is None]

    @property
    def income_in_net(self) -> bool:
        """Lending income is part of the year's net (Korea), not a total apart."""
        return self.rules.lending_is_income

    @property
    def filing(self) -> str:
        """When residents file (e.g. "2028-05")."""
        return f"{self.settings.year + 1}-{self.rules.filing_month:02d}" if self.rules.filing_month else ""


def _floor_won(x: Decimal, unit: Decimal = Decimal(1)) -> Decimal:
    """Down to a multiple of ``unit`` won (the taxable gain to the won, a tax payable to 10 won)."""
    return (x / unit).quantize(Decimal(1), rounding=ROUND_DOWN) * unit


class _Run:
    """One pass over the history up to the end of the report year."""

    def __init__(
        self,
        settings: ReportSettings,
        rules: TaxRules,
        valuer: Valuer,
        opening_prices: dict[str, MarketPrice],
    ) -> None:
        self.s = settings
        self.rules = rules
        self.valuer = valuer
        self.opening_prices = opening_prices
        self.books: dict[str, Book] = {}
        self.report = TaxReport(settings, rules)
        self.year: int | None = None
        self._pending: list[tuple[Disposal, Taken | None]] = []  # KR: the year's lines, in order, until it closes
        self.opening_sources: dict[str, Note] = {}

    # -- years ------------------------------------------------------------------------------------
    def book(self, asset: str) -> Book:
        b = self.books.get(asset)
        if b is None:
            b = self.books[asset] = Book(self.s.method)
            b.open_year()
        return b

    def pool(self, asset: str) -> Pool | None:
        if self.year != self.s.year:
            return None
        p = self.report.pools.get(asset)
        if p is None:
            p = self.report.pools[asset] = Pool(asset)
        return p

    def advance_to(self, year: int) -> None:
        while self.year is None or self.year < year:
            if self.year is not None:
                self.close_year()
                self.year += 1
            else:
                self.year = year
            self.open_year()

    def open_year(self) -> None:
        assert self.year is not None
        if self.rules.country == "KR" and self.year == self.rules.first_year:
            for asset, b in self.books.items():
                if b.quantity > 0:
                    self.apply_deemed_cost(asset, b)
        for asset, b in self.books.items():
            b.open_year()
            if self.year == self.s.year and b.quantity > 0:
                p = self.pool(asset)
                assert p is not None
                p.opening_qty, p.opening_cost = b.quantity, b.cost
                p.opening_source = self.opening_sources.get(asset)

    def apply_deemed_cost(self, asset: str, b: Book) -> None:
        """Coins held before 2027: the higher of the actual cost and the market price at
        2027-01-01 00:00 (from the opening-prices file, else the candles)."""
        at = self.rules.deemed_cost_ms
        p = self.opening_prices.get(asset)
        value: tuple[Decimal, str] | None
        if p is not None:
            conv = self.valuer.unit_value(p.currency, at)
            value = (p.price * conv[0], f"{p.price} {p.currency} ({p.source})") if conv else None
        else:
            value = self.valuer.unit_value(asset, at)
        qty, actual = b.quantity, b.cost
        if value is None:
            self.note(
                N_(
                    "No market price of {asset} at 2027-01-01 00:00: its actual cost is used (give the price in the opening-prices file)."
                ),
                asset=asset,
            )
            self._opening_source(asset, N_("actual cost (no 2027-01-01 price)"))
            return
        deemed = qty * value[0]
        if deemed > actual:
            b.lots.clear()
            b.acquire(qty, deemed, deemed=True)
            self._opening_source(asset, N_("2027-01-01 price: {source}"), source=value[1])
        else:
            self._opening_source(asset, N_("actual cost (above the 2027-01-01 price: {source})"), source=value[1])

    def _opening_source(self, asset: str, template: str, **params: str) -> None:
        self.opening_sources[asset] = Note(template, params)

    def close_year(self) -> None:
        for b in self.books.values():
            b.close_year()
        for line, taken in self._pending:
            if taken is None:
                self._append(line)
            else:
                self.emit(line, taken.cost if taken.cost is not None else ZERO)
        self._pending = []
        if self.year == self.s.year:
            for asset, b in self.books.items():
                p = self.report.pools.get(asset)
                if p is None and b.quantity <= 0:
                    continue
                p = p or self.report.pools.setdefault(asset, Pool(asset))
                p.closing_qty, p.closing_cost = b.quantity, b.cost
                if self.s.method is Method.KR and b.year_qty > 0:
                    p.average = b.year_cost / b.year_qty

    def note(self, template: str, **params: object) -> None:
        self.report.notes.append(Note(template, {k: str(v) for k, v in params.items()}))

    # -- events -----------------------------------------------------------------------------------
    def opening(self, oc: OpeningCost) -> None:
        conv = self.valuer.unit_value(oc.currency, oc.ts_ms)
        if conv is None:
            self.note(
                N_(
                    "No FX rate for {currency} on {day}: the cost of {qty} {asset} held before the first trade is left out."
                ),
                currency=oc.currency,
                day=self.valuer.day(oc.ts_ms),
                qty=oc.quantity,
                asset=oc.asset,
            )
            return
        self.book(oc.asset).acquire(oc.quantity, oc.cost * conv[0], estimated=oc.estimated)
        p = self.pool(oc.asset)
        if p is not None:
            p.bought_qty += oc.quantity
            p.bought_cost += oc.cost * conv[0]

    def trade(self, ev: TaxEvent) -> None:
        q, price = ev.quantity, ev.price
        base, quote = ev.base, ev.quote
        rate = self.valuer.unit_value(quote, ev.ts_ms)
        r_q, src = rate if rate is not None else (None, "")
        buy = ev.kind is EventKind.BUY
        given, qg = (quote, q * price) if buy else (base, q)
        got, qr = (base, q) if buy else (quote, q * price)
        f, fa = ev.fee, ev.fee_asset
        fee_value: Decimal | None = ZERO
        fee_src = ""
        if f:
            if fa == got:
                qr -= f
            elif fa == given:
                qg += f
            if r_q is None:
                fee_value = None
            elif fa == base:
                fee_value = f * price * r_q
            elif ev.fee_quote is not None:
                fee_value = ev.fee_quote * r_q
            elif fa == quote:
                fee_value = f * r_q
            else:
                third = self.valuer.unit_value(fa, ev.ts_ms)
                fee_value, fee_src = (f * third[0], third[1]) if third else (None, "")
        value = q * price * r_q if r_q is not None else None
        coin_given, coin_got = given not in FIAT, got not in FIAT
        if f and fa not in (given, got) and fa not in FIAT:
            # A fee paid in a third coin (BNB): a disposal of the fee coins at their value, and that
            # value is the trade's incidental cost (rules.py). No value: the trade goes on without it.
            self.dispose(ev, fa, f, fee_value, ZERO, ZERO, "", fee_src or src)
            if fee_value is None and r_q is not None:
                fee_value = ZERO
                self.note(
                    N_(
                        "No value in {currency} for the fee of {fee} {asset} at {time} ({source}): the trade is computed without it."
                    ),
                    currency=self.s.currency,
                    fee=f,
                    asset=fa,
                    time=self.valuer.day(ev.ts_ms),
                    source=ev.source,
                )
        if coin_given:
            proceeds = None if value is None or fee_value is None else value + (fee_value if fa == given else ZERO)
            self.dispose(ev, given, qg, proceeds, fee_value, f, fa, src)
        if coin_got:
            if value is None or fee_value is None:
                cost = ZERO
                self.note(
                    N_(
                        "No value in {currency} for {qty} {asset} received at {time} ({source}): their cost is taken as 0."
                    ),
                    currency=self.s.currency,
                    qty=qr,
                    asset=got,
                    time=self.valuer.day(ev.ts_ms),
                    source=ev.source,
                )
            elif not coin_given:
                cost = value + (fee_value if fa != got else ZERO)
            else:
                assert r_q is not None
                unit = price * r_q if got == base else r_q
                cost = qr * unit
            self.acquire(
                ev, got, qr, cost, fee_value if not coin_given else ZERO, f if not coin_given else ZERO, fa, src
            )

    def lending(self, ev: TaxEvent) -> None:
        """Lending income: its value when received (the row's price in its quote, else the coin's
        market price then) is income, and the coins join the pool at that value as their cost."""
        asset, qty = ev.base, ev.quantity
        if ev.price > 0 and ev.quote:
            conv = self.valuer.unit_value(ev.quote, ev.ts_ms)
            valued = (qty * ev.price * conv[0], conv[1]) if conv else None
        else:
            unit = self.valuer.unit_value(asset, ev.ts_ms)
            valued = (qty * unit[0], unit[1]) if unit else None
        cost = valued[0] if valued else ZERO
        self.book(asset).acquire(qty, cost)
        p = self.pool(asset)
        if p is None:
            return
        p.income_qty += qty
        p.income_cost += cost
        value, src = valued if valued else (None, "")
        self.report.income.append(Income(ev.ts_ms, asset, qty, value, ev.venue, ev.symbol, ev.source, src))
        if value is None:
            self.note(
                N_(
                    "No value in {currency} for {qty} {asset} received as lending income at {time} ({source}): left out of the income, and their cost is taken as 0."
                ),
                currency=self.s.currency,
                qty=qty,
                asset=asset,
                time=self.valuer.day(ev.ts_ms),
                source=ev.source,
            )

    def acquire(
        self,
        ev: TaxEvent,
        asset: str,
        qty: Decimal,
        cost: Decimal,
        fee_value: Decimal | None,
        fee: Decimal,
        fa: str,
        src: str,
    ) -> None:
        self.book(asset).acquire(qty, cost)
        p = self.pool(asset)
        if p is None:
            return
        p.bought_qty += qty
        p.bought_cost += cost
        self.report.acquisitions.append(
            Acquisition(
                ev.ts_ms,
                asset,
                qty,
                cost,
                fee,
                fa if fee else "",
                fee_value or ZERO,
                ev.venue,
                ev.symbol,
                ev.source,
                src,
            )
        )

    def dispose(
        self,
        ev: TaxEvent,
        asset: str,
        qty: Decimal,
        proceeds: Decimal | None,
        fees: Decimal | None,
        fee_amount: Decimal,
        fee_asset: str,
        src: str,
    ) -> None:
        taken = self.book(asset).take(qty)
        p = self.pool(asset)
        if p is None:
            return
        p.sold_qty += taken.based
        unknown = qty - taken.based
        p.unknown_qty += unknown
        status = LineStatus.OK if proceeds is not None and fees is not None else LineStatus.NO_PRICE
        gross, fee_v = proceeds or ZERO, fees or ZERO

        def line(part_qty: Decimal, part_gross: Decimal, part_fees: Decimal, st: LineStatus) -> Disposal:
            return Disposal(
                ev.ts_ms, asset, part_qty, part_gross, ZERO, part_fees, st, ev.venue, ev.symbol, ev.source, src,
                fee_amount=fee_amount, fee_asset=fee_asset, estimated=taken.estimated, deemed=taken.deemed,
            )  # fmt: skip

        if unknown == 0:
            self._cost(line(qty, gross, fee_v, status), taken, Decimal(1))
            return
        share = taken.based / qty
        k_gross, k_fees = gross * taken.based / qty, fee_v * taken.based / qty
        if taken.based > 0:
            self._cost(line(taken.based, k_gross, k_fees, status), taken, share)
        u_gross, u_fees = gross - k_gross, fee_v - k_fees
        if status is LineStatus.NO_PRICE:
            u = line(unknown, u_gross, u_fees, status)
        elif self.s.fallback_50 and self.rules.unknown_cost_share > 0:
            # The fallback: cost = 50 % of the sale price; fees are then not deducted separately.
            u = line(unknown, u_gross, ZERO, LineStatus.FALLBACK)
            u = _with_cost(u, u_gross * self.rules.unknown_cost_share)
        else:
            u = line(unknown, u_gross, u_fees, LineStatus.COST_UNKNOWN)
        if self.s.method is Method.KR:
            self._pending.append((u, None))
        else:
            self._append(u)

    def _cost(self, line: Disposal, taken: Taken, share: Decimal) -> None:
        if taken.cost is None:
            self._pending.append((line, taken))
        else:
            self.emit(line, taken.cost)

    def emit(self, line: Disposal, cost: Decimal) -> None:
        self._append(_with_cost(line, cost))
        p = self.report.pools.get(line.asset)
        if p is not None:
            p.sold_cost += cost

    def _append(self, line: Disposal) -> None:
        self.report.disposals.append(line)
        g = line.gain
        p = self.report.pools.get(line.asset)
        if g is not None and p is not None:
            p.gain += g


def _with_cost(d: Disposal, cost: Decimal) -> Disposal:
    return replace(d, cost=cost)


def compute_report(
    settings: ReportSettings,
    events: Iterable[TaxEvent],
    openings: Iterable[OpeningCost] = (),
    *,
    fx: FxTable | None = None,
    prices: PriceTable | None = None,
    opening_prices: dict[str, MarketPrice] | None = None,
    inputs: Iterable[str] = (),
    progress: Progress | None = None,
    now_ms: int | None = None,
) -> TaxReport:
    """The report for ``settings.year`` from the whole history (earlier years give the holdings
    the year starts with). ``now_ms``: a year not over yet is said to be provisional."""
    rules = rules_for(settings.method)
    if settings.currency not in HOME_CURRENCIES:
        raise TaxInputError(
            N_("Home currency {currency} is not supported (KRW, USD or EUR)."), currency=settings.currency
        )
    if settings.method is Method.KR and settings.currency != rules.currency:
        raise TaxInputError(N_("Korea's method reports in KRW (the deduction and the tax are in won)."))
    valuer = Valuer(settings.currency, fx or FxTable(), prices or PriceTable(), rules.tz)
    run = _Run(settings, rules, valuer, opening_prices or {})
    report = run.report
    report.inputs.extend(inputs)
    timeline: list[tuple[int, int, int, TaxEvent | OpeningCost]] = [(o.ts_ms, 0, i, o) for i, o in enumerate(openings)]
    timeline += [(e.ts_ms, 1, i, e) for i, e in enumerate(events)]
    timeline.sort(key=lambda t: (t[0], t[1], t[2]))
    total = len(timeline)
    end_ms = rules.year_bounds_ms(settings.year)[1]
    run.advance_to(min(rules.year_of(timeline[0][0]), settings.year) if timeline else settings.year)
    for n, (ts, _k, _i, ev) in enumerate(timeline):
        if ts >= end_ms:
            break
        run.advance_to(rules.year_of(ts))
        if isinstance(ev, OpeningCost):
            run.opening(ev)
        elif ev.kind.is_trade:
            run.trade(ev)
        elif ev.kind.is_income:
            run.lending(ev)
        elif rules.year_of(ts) == settings.year:
            report.listed.append(Listed(ev.ts_ms, ev.venue, ev.symbol, ev.quantity, ev.kind, ev.source))
        if progress is not None and n % 500 == 0:
            progress(n, total)
    run.advance_to(settings.year)
    run.close_year()
    _sum_up(report, settings)
    if now_ms is not None and now_ms < end_ms:
        report.notes.insert(
            0,
            Note(
                N_(
                    "The year {year} is not over: these figures are provisional (under the total average every cost of the year changes until 31 December)."
                ),
                {"year": str(settings.year)},
            ),
        )
    if progress is not None:
        progress(total, total)
    return report


def _sum_up(report: TaxReport, settings: ReportSettings) -> None:
    rules = report.rules
    report.disposals.sort(key=lambda d: d.ts_ms)
    report.disposal_gain = sum((g for d in report.disposals if (g := d.gain) is not None), ZERO)
    report.income_total = sum((v for i in report.income if (v := i.value) is not None), ZERO)
    report.net = report.disposal_gain + (report.income_total if report.income_in_net else ZERO)
    if report.taxes_apply:
        report.taxable = _floor_won(max(ZERO, report.net - rules.deduction))
        report.tax = _floor_won(report.taxable * rules.rate, rules.payable_unit)
        report.local_tax = _floor_won(report.taxable * rules.local_rate, rules.payable_unit)
    elif rules.country == "KR":
        report.notes.append(
            Note(N_("No tax on virtual assets is due for years before {year}."), {"year": str(rules.first_year)})
        )
    if report.incomplete:
        report.notes.append(
            Note(
                N_(
                    "{count} disposal(s) have no known cost or no price and are left out of the net: enter their cost, or choose the 50 % rule."
                ),
                {"count": str(len(report.incomplete))},
            )
        )
    if settings.fallback_50 and rules.unknown_cost_share == 0:
        report.notes.append(
            Note(N_("The 50 % rule for an unknown cost is Korea's: it is not applied with this method."))
        )
    if any(d.status is LineStatus.FALLBACK for d in report.disposals):
        report.notes.append(
            Note(
                N_(
                    "Where the cost is unknown, 50 % of the sale price is taken as the cost (you chose this); fees are then not deducted."
                )
            )
        )
    if report.income and report.income_in_net:
        report.notes.append(
            Note(
                N_(
                    "Lending income is other income: counted at its value when received and added to the year's net; the coins received cost that value, so a later sale is not taxed on it again."
                )
            )
        )
    elif report.income:
        report.notes.append(
            Note(
                N_(
                    "Lending income is shown apart, at its value when received: it is not in the net gain. The coins received cost that value."
                )
            )
        )
    if report.listed:
        report.notes.append(
            Note(
                N_(
                    "Own transfers are not disposals; airdrops, staking and mining are listed with treatment unsettled, not computed."
                )
            )
        )
