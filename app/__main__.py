"""Entry point and composition root: ``python -m app`` opens the trading window on the offline
demo market; ``python -m app demo --headless`` and the other commands run without a window."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv and (argv[0] != "--window"):
        from app.cli import main as cli_main

        return cli_main(argv)
    from app.cli import build_demo_session, setup_logging
    from app.storage import default_data_dir
    from app.ui.app import run

    data_dir = default_data_dir()
    log_path = setup_logging(data_dir)
    return run(lambda: build_demo_session(data_dir, speed=1.0), mode="demo", data_dir=data_dir, log_path=log_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
