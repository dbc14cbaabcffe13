"""Draw a `FleetView` into a pygame Surface: floor, blocked cells, heatmap, paths, robots, panel.

Fast enough for 500 robots at 30 frames per second on one core: the static
floor (terrain, racks, stations, chargers, docks, zones, legend) is drawn once
per zoom level and blitted; each robot is a pre-drawn sprite per state, all
placed with one ``Surface.blits`` call; the heatmap is one scaled RGBA image
rebuilt only when its array changes; text surfaces are cached. pygame is
loaded when a `Renderer` is made, never at import.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

from sim.record import RobotActivity
from sim.viewer.controls import UiState
from sim.viewer.floor_render import Colour, render_floor
from sim.viewer.pygame_env import load_pygame
from sim.viewer.view_model import KPI_ROWS, FleetView, RobotView
from sim.viewer.viewport import PANEL_WIDTH, Viewport
from wms.layout import Floor

STATE_COLOURS: dict[RobotActivity, Colour] = {
    RobotActivity.IDLE: (150, 150, 160),
    RobotActivity.MOVING: (40, 120, 255),
    RobotActivity.CARRYING: (140, 60, 200),
    RobotActivity.WORKING: (0, 170, 150),
    RobotActivity.WAITING: (255, 120, 0),
    RobotActivity.CHARGING: (255, 215, 0),
    RobotActivity.ERROR: (220, 20, 60),
}
"""Robot fill colour by state; every state has its own, so a screenshot tells them apart."""
BLOCKED_COLOUR: Colour = (120, 20, 20)
HEAT_COLOUR: Colour = (255, 40, 0)
HEAT_MAX_ALPHA = 190
PANEL_COLOUR: Colour = (250, 250, 247)
TEXT_COLOUR: Colour = (25, 25, 30)
MUTED_COLOUR: Colour = (110, 110, 120)
ALERT_COLOUR: Colour = (200, 20, 40)
OUTLINE_COLOUR: Colour = (20, 20, 25)
SELECTED_COLOUR: Colour = (0, 0, 0)
LABEL_MIN_SCALE = 14
"""Pixels a cell from which robots get an ID label and a heading tick."""
GOAL_LINES_MAX = 60
"""Fleets up to this size get a faint line from every robot's base to its goal."""
TEXT_CACHE_LIMIT = 4096
HELP = (
    "click robot: inspect",
    "shift+click robot: break it",
    "right click cell: block/unblock",
    "space pause  +/- speed  h heatmap",
    "[ ] zoom  q quit",
)


class Renderer:
    """Draws frames of one floor; keeps per-zoom caches (floor picture, sprites, fonts)."""

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.pygame = load_pygame()
        if not self.pygame.font.get_init():
            self.pygame.font.init()
        self._font = self.pygame.font.Font(None, 20)
        self._title_font = self.pygame.font.Font(None, 24)
        self._label_font = self.pygame.font.Font(None, 14)
        self._text: dict[tuple[str, Colour, int], Any] = {}
        self._scale = 0
        self._floor_surface: Any = None
        self._sprites: dict[RobotActivity, Any] = {}
        self._heat_key: tuple[int, int] | None = None
        self._heat_surface: Any = None

    def new_frame(self, viewport: Viewport) -> Any:
        """A Surface of the frame's size for ``viewport`` (off-screen; the window has its own)."""
        return self.pygame.Surface(viewport.size)

    def draw(self, view: FleetView, ui: UiState, target: Any) -> None:
        """Draw one whole frame of ``view`` into ``target`` (at least ``ui.viewport.size``)."""
        viewport = ui.viewport
        self._prepare(viewport)
        target.fill(PANEL_COLOUR)
        target.blit(self._floor_surface, (0, 0))
        self._draw_blocked(view, viewport, target)
        if ui.heatmap and view.heatmap is not None:
            target.blit(self._heat(view.heatmap, viewport), (0, 0))
        self._draw_paths(view, ui, target)
        self._draw_robots(view.robots, viewport, target)
        if viewport.scale >= LABEL_MIN_SCALE:
            self._draw_labels(view.robots, viewport, target)
        selected = view.robot(ui.selected) if ui.selected else None
        if selected is not None and selected.cell is not None:
            radius = max(4, viewport.scale // 2 + 3)
            self.pygame.draw.circle(
                target, SELECTED_COLOUR, viewport.centre(selected.cell), radius, 2
            )
        self._draw_panel(view, ui, target)

    def _prepare(self, viewport: Viewport) -> None:
        """Build the floor picture and the robot sprites for this zoom level (once per scale)."""
        if viewport.scale == self._scale:
            return
        self._scale = viewport.scale
        self._floor_surface = render_floor(self.floor, viewport.scale)
        self._sprites = {state: self._sprite(colour) for state, colour in STATE_COLOURS.items()}
        self._heat_key = None

    def _sprite(self, colour: Colour) -> Any:
        pygame = self.pygame
        size = self._scale
        sprite = pygame.Surface((size, size), pygame.SRCALPHA)
        radius = max(1, (size * 4) // 10)
        centre = (size // 2, size // 2)
        pygame.draw.circle(sprite, colour, centre, radius)
        if size >= 6:
            pygame.draw.circle(sprite, OUTLINE_COLOUR, centre, radius, 1)
        return sprite

    def _draw_blocked(self, view: FleetView, viewport: Viewport, target: Any) -> None:
        scale = viewport.scale
        for row, col in view.blocked:
            rect = (col * scale, row * scale, scale, scale)
            self.pygame.draw.rect(target, BLOCKED_COLOUR, rect)
            if scale >= 6:
                self.pygame.draw.line(
                    target,
                    PANEL_COLOUR,
                    (rect[0] + 1, rect[1] + 1),
                    (rect[0] + scale - 2, rect[1] + scale - 2),
                )

    def _heat(self, heat: np.ndarray, viewport: Viewport) -> Any:
        """The heatmap as one scaled surface, rebuilt only for a new array or zoom.

        Made as a native-format SRCALPHA surface: one from an ``"RGBA"`` buffer
        has another byte order and costs 20x more to blit.
        """
        pygame = self.pygame
        key = (id(heat), viewport.scale)
        if key != self._heat_key:
            height, width = heat.shape
            cells = pygame.Surface((width, height), pygame.SRCALPHA)
            cells.fill((*HEAT_COLOUR, 0))
            alpha = pygame.surfarray.pixels_alpha(cells)
            alpha[:] = (heat.T * HEAT_MAX_ALPHA).astype(np.uint8)
            del alpha  # unlocks the surface
            self._heat_surface = pygame.transform.scale(cells, viewport.floor_size)
            self._heat_key = key
        return self._heat_surface

    def _draw_paths(self, view: FleetView, ui: UiState, target: Any) -> None:
        """Released base solid in the robot's colour; the goal beyond it faint.

        Every goal gets a faint marker; the faint line to it is drawn for every
        robot only in fleets of at most `GOAL_LINES_MAX` (hundreds of lines
        across the floor hide it), and always for the selected robot.
        """
        viewport = ui.viewport
        draw = self.pygame.draw
        width = max(1, viewport.scale // 5)
        marker = max(3, viewport.scale // 2)
        all_lines = len(view.robots) <= GOAL_LINES_MAX
        for robot in view.robots:
            if robot.cell is None:
                continue
            colour = STATE_COLOURS[robot.state]
            points = [viewport.centre(robot.cell)]
            points += [viewport.centre(c) for c in robot.base if c != robot.cell]
            if robot.goal is not None and robot.goal != robot.cell:
                faint = _faint(colour)
                x, y = viewport.centre(robot.goal)
                draw.rect(target, faint, (x - marker // 2, y - marker // 2, marker, marker), 1)
                if all_lines or robot.robot == ui.selected:
                    draw.line(target, faint, points[-1], (x, y), 1)
            if len(points) > 1:
                draw.lines(target, colour, False, points, width)

    def _draw_robots(self, robots: tuple[RobotView, ...], viewport: Viewport, target: Any) -> None:
        scale = viewport.scale
        sprites = self._sprites
        target.blits(
            [
                (sprites[r.state], (r.cell[1] * scale, r.cell[0] * scale))
                for r in robots
                if r.cell is not None
            ],
            False,
        )

    def _draw_labels(self, robots: tuple[RobotView, ...], viewport: Viewport, target: Any) -> None:
        """A heading tick towards the next base cell and the serial number, when zoomed in."""
        reach = viewport.scale // 2
        for robot in robots:
            if robot.cell is None:
                continue
            x, y = viewport.centre(robot.cell)
            heading = robot.heading
            if heading is not None:
                start = (x + heading[1] * reach // 2, y + heading[0] * reach // 2)
                tip = (x + heading[1] * reach, y + heading[0] * reach)
                self.pygame.draw.line(target, OUTLINE_COLOUR, start, tip, 2)
            label = self._render(robot.label, TEXT_COLOUR, self._label_font)
            target.blit(label, (x + reach - 2, y - reach - 4))

    def _draw_panel(self, view: FleetView, ui: UiState, target: Any) -> None:
        left = ui.viewport.panel_left
        self.pygame.draw.rect(target, PANEL_COLOUR, (left, 0, PANEL_WIDTH, target.get_height()))
        self.pygame.draw.line(target, MUTED_COLOUR, (left, 0), (left, target.get_height()))
        writer = _PanelWriter(self, target, left + 12)
        writer.title(f"fleet  t = {view.time_s:,.0f} s")
        status = "PAUSED" if ui.paused else f"speed x{ui.speed:g}"
        writer.line(f"v{view.version}  {len(view.robots)} robots  {status}", MUTED_COLOUR)
        if view.estop:
            writer.line("EMERGENCY STOP", ALERT_COLOUR)
        if ui.read_only:
            writer.line("read-only viewer", MUTED_COLOUR)
        writer.gap()
        writer.title("robots")
        for state, count in view.state_counts().items():
            writer.swatch(STATE_COLOURS[state], state.value, str(count))
        writer.gap()
        writer.title("KPIs")
        for key, label, fmt in KPI_ROWS:
            value = view.kpis.get(key)
            writer.pair(label, "-" if value is None else fmt.format(value))
        writer.pair("blocked cells", str(len(view.blocked)))
        writer.pair("heatmap", _heatmap_note(ui, view))
        writer.gap()
        inspection = view.inspect(ui.selected) if ui.selected else None
        if inspection is not None:
            writer.title(inspection.title)
            for label, value in inspection.rows:
                writer.wrapped(label, value)
            writer.gap()
        if ui.message:
            writer.wrapped("", ui.message, ALERT_COLOUR if ui.read_only else TEXT_COLOUR)
            writer.gap()
        for line in HELP:
            writer.line(line, MUTED_COLOUR)

    def _render(self, text: str, colour: Colour, font: Any) -> Any:
        key = (text, colour, id(font))
        surface = self._text.get(key)
        if surface is None:
            if len(self._text) >= TEXT_CACHE_LIMIT:
                self._text.clear()
            surface = font.render(text, True, colour)
            self._text[key] = surface
        return surface


class _PanelWriter:
    """Writes the panel's rows top to bottom (one cursor, so rows never overlap)."""

    ROW = 19
    VALUE_X = 150
    WRAP_X = 80
    """Where a wrapped value starts, right of its label."""
    WRAP = 28
    """Characters of a wrapped value per line."""

    def __init__(self, renderer: Renderer, target: Any, left: int) -> None:
        self.renderer, self.target, self.left, self.y = renderer, target, left, 10

    def title(self, text: str) -> None:
        self._blit(text, TEXT_COLOUR, self.left, self.renderer._title_font)
        self.y += self.ROW + 3

    def line(self, text: str, colour: Colour = TEXT_COLOUR) -> None:
        self._blit(text, colour, self.left)
        self.y += self.ROW

    def pair(self, label: str, value: str, colour: Colour = TEXT_COLOUR) -> None:
        self._blit(label, MUTED_COLOUR, self.left)
        self._blit(value, colour, self.left + self.VALUE_X)
        self.y += self.ROW

    def wrapped(self, label: str, value: str, colour: Colour = TEXT_COLOUR) -> None:
        """A label and a value that may be long (``waiting``), wrapped in the value column."""
        x = self.left + self.WRAP_X if label else self.left
        width = self.WRAP if label else self.WRAP + self.WRAP_X // 7
        self._blit(label, MUTED_COLOUR, self.left)
        for text in textwrap.wrap(value, width) or ["-"]:
            self._blit(text, colour, x)
            self.y += self.ROW

    def swatch(self, colour: Colour, label: str, value: str) -> None:
        self.renderer.pygame.draw.circle(self.target, colour, (self.left + 6, self.y + 7), 6)
        self.renderer.pygame.draw.circle(
            self.target, OUTLINE_COLOUR, (self.left + 6, self.y + 7), 6, 1
        )
        self._blit(label, TEXT_COLOUR, self.left + 18)
        self._blit(value, TEXT_COLOUR, self.left + self.VALUE_X)
        self.y += self.ROW

    def gap(self) -> None:
        self.y += self.ROW // 2

    def _blit(self, text: str, colour: Colour, x: int, font: Any = None) -> None:
        if text:
            surface = self.renderer._render(text, colour, font or self.renderer._font)
            self.target.blit(surface, (x, self.y))


def _faint(colour: Colour) -> Colour:
    """The colour mixed halfway with white: the unreleased way ahead."""
    r, g, b = colour
    return ((r + 255) // 2, (g + 255) // 2, (b + 255) // 2)


def _heatmap_note(ui: UiState, view: FleetView) -> str:
    if view.heatmap is None:
        return "no data"
    return "on (h)" if ui.heatmap else "off (h)"
