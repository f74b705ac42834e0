"""``python -m app.storage.migrations "what changed"``: autogenerate the next revision."""

from __future__ import annotations

import sys

from app.storage.migrate import new_revision

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit('usage: python -m app.storage.migrations "what changed"')
    new_revision(sys.argv[1])
