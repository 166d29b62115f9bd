"""Handler signatures shared by the flows."""

from __future__ import annotations

from collections.abc import Callable

from bot.turn import Turn

Handler = Callable[[Turn, str], None]
TextHandler = Callable[[Turn, str], None]
