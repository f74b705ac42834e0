"""Entry point and composition root: ``python -m app`` opens the trading window on the offline
demo market; ``python -m app demo --headless`` and the other commands run without a window;
``python -m app --self-test`` checks that this copy of the app works (``app/selftest.py``)."""

from __future__ import annotations

import os
import sys


def _no_display() -> bool:
    """On Linux, without a display and without an explicit Qt platform, a window cannot open."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--self-test":
        from app.selftest import main as self_test

        return self_test(argv[1:])
    if argv and (argv[0] != "--window"):
        from app.cli import main as cli_main

        return cli_main(argv)
    if _no_display():
        from app.cli import main as cli_main

        print(
            "No display found: running the demo session in this terminal instead "
            "(set QT_QPA_PLATFORM=offscreen to force the window).",
            flush=True,
        )
        return cli_main(["demo", "--headless"])
    from app.cli import setup_logging
    from app.storage import default_data_dir
    from app.window_session import run_windows

    data_dir = default_data_dir()
    log_path = setup_logging(data_dir)
    # The venue chosen last (demo at first), or --venue/--mode/--base-url after --window.
    return run_windows(argv[1:] if argv else [], data_dir, log_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
