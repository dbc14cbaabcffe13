"""`Viewer`: the one object the demo, the simulator and ``warehouse view`` drive.

    viewer = Viewer(floor, "window", on_request=sim.handle_viewer_request)
    while viewer.update(fleet_snapshot, ViewExtras(activity=..., kpis=...)):
        ...                                  # step the simulation
    viewer.screenshot("runs/x/floor.png")
    viewer.close()

Render modes, after PettingZoo's ``None`` / ``rgb_array`` / ``human``:

- ``none``: nothing is drawn; pygame is never imported; ``update`` returns at once.
- ``image``: frames are drawn into an off-screen Surface only when asked for
  (`screenshot`, `frame`); works headless (``SDL_VIDEODRIVER=dummy``).
- ``window``: every ``update`` handles the window's input and draws a frame.

With ``on_request`` the owner receives the floor controls (`BlockCell`,
`BreakRobot`) and the clock controls (`SetPaused`, `SetSpeed`) as requests;
without it, or with ``read_only=True``, the viewer emits nothing. A paused
read-only viewer keeps showing the snapshot it had when paused.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.viewer.controls import Controller, Input, RequestSink, UiState
from sim.viewer.view_model import FleetView, ViewExtras, fleet_view
from sim.viewer.viewport import Viewport, fit_scale
from wms.layout import Floor


class RenderMode(enum.Enum):
    NONE = "none"
    IMAGE = "image"
    WINDOW = "window"


class Viewer:
    """The supervisor viewer of one floor in one render mode (see the module docstring)."""

    def __init__(
        self,
        floor: Floor,
        mode: RenderMode | str = RenderMode.NONE,
        *,
        on_request: RequestSink | None = None,
        read_only: bool = False,
        scale: int | None = None,
        title: str = "warehouse",
    ) -> None:
        self.floor = floor
        self.mode = RenderMode(mode)
        self.title = title
        viewport = Viewport(floor.shape, scale or fit_scale(floor.shape))
        self.controller = Controller(viewport, on_request, read_only)
        self.view: FleetView = fleet_view(None, floor.shape)
        self._renderer: Any = None
        self._window: Any = None
        self._canvas: Any = None
        self.frames = 0

    @property
    def ui(self) -> UiState:
        return self.controller.state

    @property
    def paused(self) -> bool:
        return self.ui.paused

    @property
    def speed(self) -> float:
        return self.ui.speed

    @property
    def running(self) -> bool:
        """False once the user closed the window or pressed ``q``."""
        return self.ui.running

    def update(
        self, snapshot: Mapping[str, Any] | None = None, extras: ViewExtras | None = None
    ) -> bool:
        """Show the latest fleet snapshot (None: keep the last one); returns `running`.

        In window mode this also handles the window's input and draws a frame,
        so call it every frame, paused or not.
        """
        if self.mode is RenderMode.NONE:
            return self.running
        if snapshot is not None and not (self.ui.read_only and self.ui.paused):
            self.view = fleet_view(snapshot, self.floor.shape, extras)
        if self.mode is RenderMode.WINDOW:
            window = self._open_window()
            for event in window.inputs():
                self.handle(event)
            window.resize(self.ui.viewport.size)
            self._draw(window.surface)
            window.present()
        return self.running

    def handle(self, event: Input) -> None:
        """One click or key, as the window would deliver it (tests and scripts call it)."""
        if self.mode is not RenderMode.NONE:
            self.controller.handle(event, self.view)

    def frame(self) -> Any:
        """Draw the current view into the off-screen Surface and return it (not in mode none)."""
        self._require_drawing("frame")
        size = self.ui.viewport.size
        if self._canvas is None or self._canvas.get_size() != size:
            self._canvas = self._get_renderer().new_frame(self.ui.viewport)
        self._draw(self._canvas)
        return self._canvas

    def screenshot(self, path: str | Path) -> Path:
        """Draw the current view and save it as a PNG (folders are created)."""
        surface = self.frame()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._renderer.pygame.image.save(surface, str(path))
        return path

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    def __enter__(self) -> Viewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _draw(self, target: Any) -> None:
        self._get_renderer().draw(self.view, self.ui, target)
        self.frames += 1

    def _get_renderer(self) -> Any:
        if self._renderer is None:
            from sim.viewer.renderer import Renderer

            self._renderer = Renderer(self.floor)
        return self._renderer

    def _open_window(self) -> Any:
        if self._window is None:
            from sim.viewer.window import Window

            self._window = Window(self.ui.viewport.size, self.title)
        return self._window

    def _require_drawing(self, what: str) -> None:
        if self.mode is RenderMode.NONE:
            raise ValueError(f"{what}: a viewer in render mode 'none' draws nothing")
