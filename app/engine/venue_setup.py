"""Which exchange and account a session trades on, and building that session: the offline demo
market, paper trading on an exchange's live market data (no key; the paper matching core fills
orders with the exchange's own filters), or live trading with an account's API key.

The window's venue picker, the CLI's ``paper`` command and the tests use the same builders; the
demo market's own session stays in ``app.cli`` (``build_demo_session``)."""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from app.domain.errors import AppError, AuthenticationFailed, VenueError
from app.security.credentials import Credentials, mask
from app.storage import Store
from app.venues.paper import PaperVenue

if TYPE_CHECKING:  # ccxt (≈100 MB, a third of the start-up) loads only when an exchange is used
    from app.venues.ccxt import CcxtMarketData, CcxtVenue, Timing

from .session import TradingSession

DEMO, PAPER, LIVE = "demo", "paper", "live"
MODES = (DEMO, PAPER, LIVE)
CHOICE_SETTING = "venue.choice"
# Exchanges whose profiles may exist (each registers itself in PROFILES when imported).
EXCHANGE_MODULES = ("binance", "coinbase", "kraken", "upbit")
QUOTE = {"upbit": "KRW", "coinbase": "USD", "kraken": "USD"}
PAPER_BALANCE = {"KRW": Decimal("10000000"), "USD": Decimal("10000"), "USDT": Decimal("10000")}
HOSTS = {
    "binance": "api.binance.com",
    "coinbase": "api.coinbase.com",
    "kraken": "api.kraken.com",
    "upbit": "api.upbit.com",
}


def known_exchanges() -> list[str]:
    """ccxt exchange ids with a profile in this app (Binance; the others as their profiles land)."""
    for mod in EXCHANGE_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"app.venues.ccxt.{mod}")
    from app.venues.ccxt.profile import PROFILES

    return sorted(PROFILES)


def needs_passphrase(exchange: str) -> bool:
    """Whether the exchange's keys come with a passphrase (ccxt's ``requiredCredentials``)."""
    import ccxt

    cls = getattr(ccxt, exchange, None)
    try:
        return bool(cls is not None and cls().requiredCredentials.get("password"))
    except Exception:
        return False


def quote_of(exchange: str) -> str:
    return QUOTE.get(exchange, "USDT")


def default_symbols(exchange: str) -> tuple[str, ...]:
    q = quote_of(exchange)
    return (f"BTC/{q}", f"ETH/{q}")


@dataclass(frozen=True, slots=True)
class VenueChoice:
    """What the session trades on: ``exchange`` (``demo`` or a ccxt id), ``mode`` (demo, paper,
    live), ``account`` (the credentials entry of a live account; the exchange's id by default) and
    ``base_url`` (a loopback exchange instead of the real one)."""

    exchange: str = DEMO
    mode: str = DEMO
    account: str = ""
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        if (self.exchange == DEMO) != (self.mode == DEMO):
            raise ValueError("the demo market is its own mode; an exchange is paper or live")

    @property
    def account_id(self) -> str:
        """The credentials entry and the live venue's name: ``binance``, ``binance:main``."""
        return account_name(self.exchange, self.account)

    @property
    def venue_name(self) -> str:
        """The venue's name in the app (orders, fills and candles are keyed by it)."""
        if self.mode == PAPER:
            return f"paper-{self.exchange}"
        if self.mode == LIVE:
            return self.account_id
        return DEMO

    def to_dict(self) -> dict[str, Any]:
        return {"exchange": self.exchange, "mode": self.mode, "account": self.account, "base_url": self.base_url}

    @classmethod
    def from_dict(cls, d: Any) -> VenueChoice:
        if not isinstance(d, dict):
            return cls()
        try:
            return cls(
                str(d.get("exchange", DEMO)), str(d.get("mode", DEMO)), str(d.get("account") or ""), d.get("base_url")
            )
        except ValueError:
            return cls()


def account_name(exchange: str, account: str = "") -> str:
    return f"{exchange}:{account}" if account else exchange


def host_of(exchange: str, base_url: str | None = None) -> str:
    """The host a user would recognise: ``api.binance.com`` (or the loopback's host:port)."""
    if base_url:
        return urlparse(base_url).netloc or base_url
    return HOSTS.get(exchange, exchange)


def market_data(exchange: str, *, base_url: str | None = None, timing: Timing | None = None) -> CcxtMarketData:
    from app.venues.ccxt import CcxtMarketData, profile_for

    profile = profile_for(exchange, **({"timing": timing} if timing else {}))
    return CcxtMarketData(profile, base_url=base_url)


def paper_venue(
    exchange: str,
    data_dir: Path,
    *,
    base_url: str | None = None,
    timing: Timing | None = None,
    balances: dict[str, Decimal] | None = None,
) -> PaperVenue:
    """A paper account on ``exchange``'s live market data: no key, nothing sent to the exchange."""
    name = f"paper-{exchange}"
    q = quote_of(exchange)
    return PaperVenue(
        market_data(exchange, base_url=base_url, timing=timing),
        name=name,
        journal_path=Path(data_dir) / f"{name}.journal",
        initial_balances=balances or {q: PAPER_BALANCE.get(q, Decimal("10000"))},
    )


def live_venue(
    exchange: str,
    creds: Credentials,
    *,
    account: str = "",
    base_url: str | None = None,
    timing: Timing | None = None,
    symbols: tuple[str, ...] = (),
) -> CcxtVenue:
    kw: dict[str, Any] = {"name": account_name(exchange, account)}
    if timing is not None:
        kw["timing"] = timing
    config: dict[str, Any] = {"password": creds.passphrase} if creds.passphrase else {}
    from app.venues.ccxt import CcxtVenue, profile_for

    return CcxtVenue(
        profile_for(exchange, **kw),
        api_key=creds.api_key,
        secret=creds.secret,
        base_url=base_url,
        symbols=symbols or default_symbols(exchange),
        config=config,
    )


class NoApiKey(AppError):
    key = "error.no_api_key"
    template = "No API key is saved for {account}: enter one before trading live"


def build_session(
    choice: VenueChoice,
    data_dir: Path,
    *,
    creds: Credentials | None = None,
    store: Store | None = None,
    timing: Timing | None = None,
    symbols: tuple[str, ...] = (),
) -> TradingSession:
    """The session of a paper or live choice (the demo market's is ``app.cli.build_demo_session``)."""
    if choice.mode == DEMO:
        raise ValueError("the demo session is built by app.cli.build_demo_session")
    if choice.mode == LIVE and creds is None:
        raise NoApiKey(account=choice.account_id)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    syms = symbols or default_symbols(choice.exchange)
    venue: PaperVenue | CcxtVenue
    if choice.mode == PAPER:
        venue = paper_venue(choice.exchange, data_dir, base_url=choice.base_url, timing=timing)
    else:
        assert creds is not None
        venue = live_venue(
            choice.exchange, creds, account=choice.account, base_url=choice.base_url, timing=timing, symbols=syms
        )
    store = store or Store.open(f"sqlite:///{data_dir / 'autogrowth.sqlite3'}")
    session = TradingSession(store, venue, list(syms), mode=choice.mode, valuation_currency=quote_of(choice.exchange))
    session.enable_signals(data_dir / "models")  # the models on the exchange's bars; auto-trading armed by the user
    return session


# -- checking a key on entry ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KeyCheck:
    """The answer to one read-only call with a key: ``ok``; ``can_withdraw`` where the exchange
    says (None: it does not tell); ``assets`` holding a balance; ``error`` (English, translated
    where shown) and its ``key``."""

    ok: bool
    can_withdraw: bool | None = None
    assets: int = 0
    error: str = ""
    error_key: str = ""


def _withdraw_flag(exchange: str, info: Any) -> bool | None:
    """What the account answer says about withdrawals (Binance: ``canWithdraw`` of /api/v3/account)."""
    if not isinstance(info, dict):
        return None
    if exchange == "binance" and "canWithdraw" in info:
        return bool(info["canWithdraw"])
    return None


async def check_key(
    exchange: str, creds: Credentials, *, base_url: str | None = None, timing: Timing | None = None
) -> KeyCheck:
    """Ask the exchange for the account's balances with ``creds`` (a read-only call) and read what
    it says about the key's permissions. Never raises for what the exchange answers."""
    try:
        venue = live_venue(exchange, creds, base_url=base_url, timing=timing)
    except ValueError as exc:  # no profile for this exchange
        return KeyCheck(False, error=str(exc), error_key="error.venue")
    ex = venue.exchange
    try:
        bal = await venue.client.call(lambda: ex.fetch_balance())
    except AuthenticationFailed as exc:
        return KeyCheck(False, error=exc.message, error_key=exc.key)
    except VenueError as exc:
        return KeyCheck(False, error=exc.message, error_key=exc.key)
    finally:
        await venue.close()
    totals = bal.get("total") or {} if isinstance(bal, dict) else {}
    held = sum(1 for v in totals.values() if v)
    can_withdraw = _withdraw_flag(exchange, bal.get("info") if isinstance(bal, dict) else None)
    if can_withdraw is None and exchange in PERMISSION_CALLS:
        can_withdraw = await _ask_permissions(exchange, creds, base_url, timing)
    return KeyCheck(True, can_withdraw, held)


# Exchanges that tell a key's permissions in a call of their own: the ccxt implicit method.
PERMISSION_CALLS = {"coinbase": "v3PrivateGetBrokerageKeyPermissions"}


async def _ask_permissions(
    exchange: str, creds: Credentials, base_url: str | None, timing: Timing | None
) -> bool | None:
    """Coinbase: ``GET /api/v3/brokerage/key_permissions`` says ``can_transfer`` (moving funds out).
    None when the call fails: the exchange did not say."""
    venue = live_venue(exchange, creds, base_url=base_url, timing=timing)
    ex = venue.exchange
    try:
        answer = await venue.client.call(lambda: getattr(ex, PERMISSION_CALLS[exchange])())
    except VenueError:
        return None
    finally:
        await venue.close()
    if isinstance(answer, dict) and "can_transfer" in answer:
        return bool(answer["can_transfer"])
    return None


def describe_key(creds: Credentials) -> str:
    """How a key is named in logs and on screen: masked, never the secret."""
    return mask(creds.api_key)
