"""The real window: opens the display, turns pygame events into the controller's inputs.

The only module that touches ``pygame.display`` and pygame's event queue, so
everything else (controller, renderer, image mode) runs without a display.
"""

from __future__ import annotations

from typing import Any

from sim.viewer.controls import Button, Click, Input, Key
from sim.viewer.pygame_env import load_pygame


class Window:
    """A resizable-by-zoom pygame window; one at a time, as pygame allows."""

    def __init__(self, size: tuple[int, int], title: str) -> None:
        self.pygame = load_pygame()
        self.pygame.display.init()
        self.pygame.display.set_caption(title)
        self.surface: Any = self.pygame.display.set_mode(size)
        pg = self.pygame
        self._keys: dict[int, Key] = {
            pg.K_SPACE: Key.PAUSE,
            pg.K_PLUS: Key.FASTER,
            pg.K_EQUALS: Key.FASTER,
            pg.K_KP_PLUS: Key.FASTER,
            pg.K_MINUS: Key.SLOWER,
            pg.K_KP_MINUS: Key.SLOWER,
            pg.K_h: Key.HEATMAP,
            pg.K_RIGHTBRACKET: Key.ZOOM_IN,
            pg.K_LEFTBRACKET: Key.ZOOM_OUT,
            pg.K_ESCAPE: Key.QUIT,
            pg.K_q: Key.QUIT,
        }

    def resize(self, size: tuple[int, int]) -> None:
        if self.surface.get_size() != size:
            self.surface = self.pygame.display.set_mode(size)

    def inputs(self) -> list[Input]:
        """Every click and known key press since the last call (closing the window is QUIT)."""
        pg = self.pygame
        found: list[Input] = []
        for event in pg.event.get():
            if event.type == pg.QUIT:
                found.append(Key.QUIT)
            elif event.type == pg.KEYDOWN and event.key in self._keys:
                found.append(self._keys[event.key])
            elif event.type == pg.MOUSEBUTTONDOWN and event.button in (1, 3):
                button = Button.LEFT if event.button == 1 else Button.RIGHT
                shift = bool(pg.key.get_mods() & pg.KMOD_SHIFT)
                found.append(Click(event.pos[0], event.pos[1], button, shift))
        return found

    def present(self) -> None:
        self.pygame.display.flip()

    def close(self) -> None:
        self.pygame.display.quit()
