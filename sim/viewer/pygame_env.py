"""Import pygame only when drawing is asked for, headless unless a display exists.

pygame's import and init can take seconds and print a banner; nothing that
does not draw should pay for it, and tests assert that headless runs that do
not render never import it.
"""

from __future__ import annotations

import os
from types import ModuleType


def load_pygame() -> ModuleType:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    return pygame
