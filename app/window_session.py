"""The window's session: on the venue the user chose last (the picker saves it), or the one given
on the command line (``python -m app --window --venue binance --mode paper --base-url URL``), and
again on the next venue each time the user switches (the window closes, its session stops and
saves everything, and the next one starts in the same process)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app.cli import build_demo_session
from app.engine.session import TradingSession
from app.engine.venue_setup import CHOICE_SETTING, DEMO, LIVE, MODES, PAPER, VenueChoice, build_session
from app.security.credentials import Credentials
from app.storage import Store

log = logging.getLogger(__name__)


def parse_choice(argv: list[str]) -> VenueChoice | None:
    """The venue given with ``--window`` (None: the saved one)."""
    p = argparse.ArgumentParser(prog="python -m app --window")
    p.add_argument("--venue", default=None, help="demo or an exchange (binance, …)")
    p.add_argument("--mode", default=None, choices=list(MODES))
    p.add_argument("--account", default="")
    p.add_argument("--base-url", default=None, help="a loopback exchange, e.g. http://127.0.0.1:8765")
    args = p.parse_args(argv)
    if args.venue is None:
        return None
    if args.venue == DEMO:
        return VenueChoice()
    return VenueChoice(args.venue, args.mode or PAPER, args.account, args.base_url)


def saved_choice(data_dir: Path) -> VenueChoice:
    with Store.open(f"sqlite:///{data_dir / 'autogrowth.sqlite3'}") as store:
        return VenueChoice.from_dict(store.get_setting(CHOICE_SETTING))


def save_choice(data_dir: Path, choice: VenueChoice) -> None:
    with Store.open(f"sqlite:///{data_dir / 'autogrowth.sqlite3'}") as store:
        store.set_setting(CHOICE_SETTING, choice.to_dict())


def resolve(choice: VenueChoice, data_dir: Path) -> tuple[VenueChoice, Credentials | None]:
    """The choice the session will really have, and its key: a live choice whose key cannot be read
    now (none saved, or the encrypted key file still locked) starts as paper on the same exchange,
    and the window says so."""
    from app.ui.venue_tools import credential_store, live_fell_back

    if choice.mode != LIVE:
        return choice, None
    creds = credential_store(data_dir).load(choice.account_id)
    if creds is None:
        log.warning("no readable API key for %s: starting paper trading instead", choice.account_id)
        live_fell_back(choice.account_id)
        return VenueChoice(choice.exchange, PAPER, choice.account, choice.base_url), None
    return choice, creds


def build(choice: VenueChoice, creds: Credentials | None, data_dir: Path) -> TradingSession:
    if choice.mode == DEMO:
        return build_demo_session(data_dir, speed=1.0)
    return build_session(choice, data_dir, creds=creds)


def session_for(choice: VenueChoice, data_dir: Path) -> tuple[TradingSession, VenueChoice]:
    actual, creds = resolve(choice, data_dir)
    return build(actual, creds, data_dir), actual


def run_windows(argv: list[str], data_dir: Path, log_path: Path) -> int:
    from app.ui.app import keep_running, run
    from app.ui.venue_tools import dispose_windows, take_switch

    given = parse_choice(argv)
    choice = given or saved_choice(data_dir)
    while True:
        actual, creds = resolve(choice, data_dir)

        def factory(
            actual: VenueChoice = actual, creds: Credentials | None = creds, wanted: VenueChoice = choice
        ) -> TradingSession:
            # Called by ``run`` once this data folder is ours (one app per data folder).
            session = build(actual, creds, data_dir)
            session.store.set_setting(CHOICE_SETTING, wanted.to_dict())
            return session

        # The mode decides the badge and the confirmations: a live choice that fell back is paper.
        rc = run(factory, mode=actual.mode, data_dir=data_dir, log_path=log_path)
        nxt = take_switch()
        if nxt is None:
            return rc
        log.info("switching to %s (%s)", nxt.venue_name, nxt.mode)
        keep_running()  # the closed window's exit watchdog would end the next one
        dispose_windows()
        choice = nxt
