"""What reaches a log line: no API key, secret, passphrase, bearer token or request signature, in
any logger's record (ours or an exchange library's at DEBUG), in the message or its traceback."""

from __future__ import annotations

import io
import logging

import pytest

from app.security import redaction
from app.security.credentials import Credentials

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


@pytest.fixture
def log():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    redaction.install(handler)
    logger = logging.getLogger("ccxt.base.exchange")
    old = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)
    logger.setLevel(old[0])
    logger.propagate = old[1]


def test_known_credentials_are_masked_wherever_they_appear(log):
    logger, out = log
    Credentials(KEY, SECRET, "my-passphrase-1")
    logger.debug("signing with %s and %s; passphrase %s", SECRET, KEY, "my-passphrase-1")
    text = out.getvalue()
    assert SECRET not in text and KEY not in text and "my-passphrase-1" not in text
    assert "vmPU…8A" in text  # the masked id, as the key dialog shows it


def test_what_exchange_libraries_print_at_debug_is_blanked_by_pattern(log):
    logger, out = log
    unseen = "Zq0-never-registered-key-4f1c9e"
    logger.debug(
        "GET http://127.0.0.1/api/v3/account?timestamp=1&signature=176279a39721fd, Request: %s None",
        {"X-MBX-APIKEY": unseen, "User-Agent": "python"},
    )
    logger.debug("POST /0/private/AddOrder Request: {'API-Key': '%s', 'API-Sign': 'c2lnbmF0dXJl=='}", unseen)
    logger.debug("GET /v1/accounts Request: {'Authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJ9.sig-part'}")
    text = out.getvalue()
    assert unseen not in text and "176279a397" not in text and "c2lnbmF0dXJl" not in text and "eyJ" not in text
    assert "signature=***" in text and "'X-MBX-APIKEY': '***'" in text and "Bearer ***" in text
    assert "User-Agent': 'python'" in text  # the rest of the line stays readable


def test_a_traceback_holding_a_secret_is_masked_too(log):
    logger, out = log
    Credentials(KEY, SECRET)
    try:
        raise RuntimeError(f"auth failed for secret {SECRET}")
    except RuntimeError:
        logger.exception("placing failed")
    text = out.getvalue()
    assert "RuntimeError" in text and SECRET not in text
