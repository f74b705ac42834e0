"""Entry point: ``python -m app`` (the window once it exists; the headless demo until then)."""

from __future__ import annotations

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
