"""``python -m app --window --venue … --mode … --base-url …``: which session the window starts on,
and a live choice whose key cannot be read starting as paper, with a notice."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from app.engine.venue_setup import DEMO, LIVE, PAPER, NoApiKey, VenueChoice, build_session
from app.security.credentials import Credentials
from app.ui import venue_tools
from app.window_session import parse_choice, save_choice, saved_choice, session_for


def test_the_command_line_choice_and_the_saved_one(tmp_path):
    assert parse_choice([]) is None
    assert parse_choice(["--venue", "demo"]) == VenueChoice()
    c = parse_choice(["--venue", "binance", "--mode", "live", "--account", "main", "--base-url", "http://h:1"])
    assert c == VenueChoice("binance", LIVE, "main", "http://h:1")
    assert c.account_id == "binance:main" and c.venue_name == "binance:main"
    assert parse_choice(["--venue", "binance"]) == VenueChoice("binance", PAPER)
    assert VenueChoice("binance", PAPER).venue_name == "paper-binance"
    assert saved_choice(tmp_path) == VenueChoice()  # nothing saved: the demo market
    save_choice(tmp_path, c)
    assert saved_choice(tmp_path) == c
    with pytest.raises(ValueError):
        VenueChoice("binance", DEMO)
    assert VenueChoice.from_dict({"exchange": "binance", "mode": "nonsense"}) == VenueChoice()  # a damaged setting


def test_live_needs_a_key_and_falls_back_to_paper_with_a_notice(tmp_path):
    with pytest.raises(NoApiKey):
        build_session(VenueChoice("binance", LIVE), tmp_path)
    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    venue_tools.set_credential_store(None)
    try:
        session, actual = session_for(VenueChoice("binance", LIVE, base_url="http://127.0.0.1:9"), tmp_path)
        assert actual == VenueChoice("binance", PAPER, "", "http://127.0.0.1:9")
        assert session.mode == "paper" and session.venue.name == "paper-binance"
        title, text = venue_tools._NOTICES.pop()()
        assert title == "Started in paper mode" and "No API key of binance could be read" in text
        session.store.close()
        # with the key file unlocked, the same choice is live
        store = venue_tools.credential_store(tmp_path)
        store.unlock("a long passphrase")
        store.save("binance", Credentials("k-123456789", "s-123456789"))
        session, actual = session_for(VenueChoice("binance", LIVE), tmp_path)
        assert actual.mode == LIVE and session.mode == "live" and session.venue.name == "binance"
        session.store.close()
    finally:
        venue_tools._NOTICES.clear()
        venue_tools.set_credential_store(None)
        keyring.set_keyring(old)
