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


def session_for(choice: VenueChoice, data_dir: Path) -> tuple[TradingSession, VenueChoice]:
    """The session of ``choice``; a live choice whose key cannot be read now (none saved, or the
    encrypted key file still locked) starts as paper on the same exchange, and says so in the log."""
    from app.ui.venue_tools import credential_store, live_fell_back

    if choice.mode == DEMO:
        return build_demo_session(data_dir, speed=1.0), choice
    creds = None
    if choice.mode == LIVE:
        creds = credential_store(data_dir).load(choice.account_id)
        if creds is None:
            log.warning("no readable API key for %s: starting paper trading instead", choice.account_id)
            choice = VenueChoice(choice.exchange, PAPER, choice.account, choice.base_url)
            live_fell_back(choice.account_id)
    return build_session(choice, data_dir, creds=creds), choice


def run_windows(argv: list[str], data_dir: Path, log_path: Path) -> int:
    from app.ui.app import run
    from app.ui.venue_tools import take_switch

    choice = parse_choice(argv)
    if choice is not None:
        save_choice(data_dir, choice)
    else:
        choice = saved_choice(data_dir)
    while True:
        session, actual = session_for(choice, data_dir)
        # The mode decides the badge and the confirmations: a live choice that fell back is paper.
        rc = run(lambda s=session: s, mode=actual.mode, data_dir=data_dir, log_path=log_path)  # type: ignore[misc]
        nxt = take_switch()
        if nxt is None:
            return rc
        log.info("switching to %s (%s)", nxt.venue_name, nxt.mode)
        choice = nxt
