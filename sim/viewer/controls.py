"""What the supervisor's keys and clicks do, as pure state changes and requests (no pygame).

The viewer never commands the fleet itself. A control that would change the
floor — block or unblock a cell, break a robot, pause the run, change its
speed — becomes a `ViewerRequest` handed to the callback its owner supplies
(the simulator, which injects the fault or steers its clock). A viewer
attached read-only (``warehouse view --connect``) has no owner: those
controls emit nothing and say so on the panel; pause then only freezes the
picture. Inspecting a robot, the heatmap and zoom are the viewer's own and
always work.

Bindings: left click a robot → inspect it (elsewhere: clear); right click a
cell → block / unblock it; shift + left click a robot → break it; ``space``
pause; ``+`` / ``-`` speed; ``h`` heatmap; ``[`` / ``]`` zoom; ``esc`` /
``q`` quit.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass

from sim.viewer.view_model import FleetView
from sim.viewer.viewport import Viewport
from wms.layout import Cell

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""The speed factors ``+`` / ``-`` step through (the real-time clock's factor)."""
READ_ONLY_NOTE = "read-only: attached to a fleet, controls are off"


@dataclass(frozen=True, slots=True)
class BlockCell:
    """Block (``blocked=True``) or unblock a cell: the scenario's ``block`` fault, live."""

    cell: Cell
    blocked: bool


@dataclass(frozen=True, slots=True)
class BreakRobot:
    """Break a robot down: the scenario's ``breakdown`` fault, live."""

    robot: str


@dataclass(frozen=True, slots=True)
class SetPaused:
    paused: bool


@dataclass(frozen=True, slots=True)
class SetSpeed:
    """Run the real-time clock at ``factor`` × wall time."""

    factor: float


ViewerRequest = BlockCell | BreakRobot | SetPaused | SetSpeed
RequestSink = Callable[[ViewerRequest], None]


class Button(enum.Enum):
    LEFT = "left"
    RIGHT = "right"


class Key(enum.Enum):
    """The keys the viewer reacts to (the window translates pygame's key codes into these)."""

    PAUSE = "pause"
    FASTER = "faster"
    SLOWER = "slower"
    HEATMAP = "heatmap"
    ZOOM_IN = "zoom_in"
    ZOOM_OUT = "zoom_out"
    QUIT = "quit"


@dataclass(frozen=True, slots=True)
class Click:
    """A mouse click at pixel ``(x, y)`` of the frame; ``shift`` held or not."""

    x: int
    y: int
    button: Button = Button.LEFT
    shift: bool = False


Input = Click | Key


@dataclass(frozen=True, slots=True)
class UiState:
    """The viewer's own state, drawn on the panel; replaced, never mutated."""

    viewport: Viewport
    paused: bool = False
    speed: float = 1.0
    heatmap: bool = False
    selected: str | None = None
    read_only: bool = False
    message: str = ""
    """The last control's one-line outcome (``blocked (3, 4)``, the read-only note)."""
    running: bool = True


class Controller:
    """Turns clicks and keys into a new `UiState` and, for the owner, `ViewerRequest`s.

    ``sink`` receives requests; without one, or with ``read_only``, nothing is
    ever emitted (floor controls only say so on the panel). Pause and speed are
    tracked here either way, so the panel shows them and a read-only viewer
    can freeze its picture.
    """

    def __init__(
        self, viewport: Viewport, sink: RequestSink | None = None, read_only: bool = False
    ) -> None:
        self._sink = None if read_only else sink
        self.state = UiState(viewport, read_only=self._sink is None)

    def handle(self, event: Input, view: FleetView) -> None:
        """One click or key press over the frame showing ``view``."""
        if isinstance(event, Click):
            self.click(event, view)
        else:
            self.key(event)

    def click(self, click: Click, view: FleetView) -> None:
        """Inspect, break or block what is under the click (see the module docstring)."""
        cell = self.state.viewport.cell_at(click.x, click.y)
        if cell is None:
            return
        robot = view.robot_at(cell)
        if click.button is Button.LEFT and not click.shift:
            self._set(selected=robot.robot if robot else None, message="")
        elif click.button is Button.LEFT and robot is not None:
            self._request(BreakRobot(robot.robot), f"break {robot.robot}")
        elif click.button is Button.RIGHT:
            blocked = cell not in view.blocked
            verb = "block" if blocked else "unblock"
            self._request(BlockCell(cell, blocked), f"{verb} ({cell[0]}, {cell[1]})")

    def key(self, key: Key) -> None:
        """A key press (already translated from the window's key code)."""
        state = self.state
        if key is Key.PAUSE:
            self._set(paused=not state.paused)
            self._emit(SetPaused(self.state.paused))
        elif key in (Key.FASTER, Key.SLOWER):
            speed = _step_speed(state.speed, 1 if key is Key.FASTER else -1)
            self._set(speed=speed)
            self._emit(SetSpeed(speed))
        elif key is Key.HEATMAP:
            self._set(heatmap=not state.heatmap)
        elif key in (Key.ZOOM_IN, Key.ZOOM_OUT):
            self._set(viewport=state.viewport.zoomed(1.25 if key is Key.ZOOM_IN else 0.8))
        elif key is Key.QUIT:
            self._set(running=False)

    def _request(self, request: ViewerRequest, done: str) -> None:
        if self._sink is None:
            self._set(message=READ_ONLY_NOTE)
            return
        self._sink(request)
        self._set(message=f"requested: {done}")

    def _emit(self, request: ViewerRequest) -> None:
        if self._sink is not None:
            self._sink(request)

    def _set(self, **changes: object) -> None:
        self.state = dataclasses.replace(self.state, **changes)  # type: ignore[arg-type]


def _step_speed(speed: float, direction: int) -> float:
    """The next speed in `SPEEDS` above (``+1``) or below (``-1``), staying at the ends."""
    if direction > 0:
        return next((s for s in SPEEDS if s > speed), SPEEDS[-1])
    return next((s for s in reversed(SPEEDS) if s < speed), SPEEDS[0])
