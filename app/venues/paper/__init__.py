"""The paper exchange: a synchronous per-symbol matching core (``matching``), the account
(``ledger``), fees and fill-model knobs (``fees``), the crash-safe journal (``journal``) and the
async ``Venue`` front (``venue``, where the rules a user can rely on are written down)."""

from .events import Expired, FillEvent, MatchEvent, QueueMoved, Rejected, Triggered
from .fees import FeeModel, bar_path
from .journal import PaperJournal
from .ledger import Account, Ledger, UnlimitedAccount, reservation
from .matching import MatchingCore
from .order import PaperOrder
from .venue import PaperVenue

__all__ = [
    "Account",
    "Expired",
    "FeeModel",
    "FillEvent",
    "Ledger",
    "MatchEvent",
    "MatchingCore",
    "PaperJournal",
    "PaperOrder",
    "PaperVenue",
    "QueueMoved",
    "Rejected",
    "Triggered",
    "UnlimitedAccount",
    "bar_path",
    "reservation",
]
