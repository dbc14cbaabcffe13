"""Frames per second of the viewer with a synthetic fleet (``warehouse bench viewer``).

A frame is what the window does each refresh: build the view model from the
fleet snapshot and draw it (floor blit, heatmap on, bases, goals, robots,
labels when zoomed, the panel with a selected robot), off-screen and
headless, so the figure does not depend on a display. The display's own
flip is left out: it is the driver's, not ours.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.record import RobotActivity
from sim.viewer.controls import Click, Key
from sim.viewer.live import Viewer
from sim.viewer.synthetic import synthetic_snapshot
from sim.viewer.view_model import ViewExtras
from wms.layout import Floor

WARM_UP_FRAMES = 3


@dataclass(frozen=True, slots=True)
class ViewerBenchParams:
    robots: int = 500
    frames: int = 60
    scale: int | None = None
    """Pixels a cell (None: what the window would pick for the floor)."""
    seed: int = 0


def run_bench(
    floor: Floor, params: ViewerBenchParams, clock: Callable[[], float] = time.perf_counter
) -> dict[str, object]:
    """Median frame time over ``params.frames`` frames, full frame and drawing only."""
    snapshot = synthetic_snapshot(floor, params.robots, params.seed)
    rng = np.random.default_rng(params.seed)
    activity = {
        entry["robot"]: list(RobotActivity)[i % len(RobotActivity)]
        for i, entry in enumerate(snapshot["robots"])
    }
    extras = ViewExtras(
        activity=activity,
        heatmap=rng.poisson(2.0, floor.shape).astype(np.float64),
        kpis={"orders_per_hour": 100.0, "utilisation": 0.7},
    )
    viewer = Viewer(floor, "image", scale=params.scale, on_request=lambda _: None)
    viewer.update(snapshot, extras)
    viewer.handle(Key.HEATMAP)
    first = viewer.view.robots[0].cell
    if first is not None:
        viewer.handle(Click(*viewer.ui.viewport.centre(first)))
    full, draw = [], []
    for index in range(WARM_UP_FRAMES + params.frames):
        began = clock()
        viewer.update(snapshot, extras)
        viewer.frame()
        built = clock()
        viewer.frame()
        ended = clock()
        if index >= WARM_UP_FRAMES:
            full.append(built - began)
            draw.append(ended - built)
    full_ms = 1000 * statistics.median(full)
    draw_ms = 1000 * statistics.median(draw)
    width, height = viewer.ui.viewport.size
    return {
        "floor": floor.name,
        "cells": f"{floor.height}x{floor.width}",
        "robots": len(snapshot["robots"]),
        "scale": viewer.ui.viewport.scale,
        "frame_px": f"{width}x{height}",
        "frames": params.frames,
        "frame_ms_p50": round(full_ms, 2),
        "draw_ms_p50": round(draw_ms, 2),
        "fps": round(1000 / full_ms, 1),
        "fps_draw_only": round(1000 / draw_ms, 1),
    }
