"""Shared test settings. ``async def`` tests run on a fresh asyncio loop each (pytest-asyncio in
auto mode, configured in pyproject.toml): the engine is plain asyncio. Qt runs offscreen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
